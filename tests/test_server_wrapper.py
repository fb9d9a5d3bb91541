"""The one wrapper every tool call passes: redacted results and errors (D5), one INFO log line
per call, the tool named once in error texts. Through the MCP Client against the emulator."""

from __future__ import annotations

import json
import logging
from pathlib import Path

import pytest
from _server_helpers import error_text, rig
from mcp import Client

from convoai_mcp.sandbox import DEMO_CREDENTIALS, Fault

TTS_KEY = "tts-canary-key-5f1e2d3c4b5a"
LLM_KEY = "llm-canary-key-0a9b8c7d6e5f"


async def test_a_service_error_quoting_a_configured_key_reaches_the_model_masked(
    tmp_path: Path,
) -> None:
    env = {"CONVOAI_TTS_PARAMS": json.dumps({"key": TTS_KEY}), "CONVOAI_LLM_API_KEY": LLM_KEY}
    async with rig(tmp_path, env) as r, Client(r.server) as client:
        for key in (TTS_KEY, LLM_KEY):
            r.sandbox.faults.add(
                Fault(route="agents.start", kind="status", status=400, reason=f"Bad{key}", times=1)
            )
            result = await client.call_tool("start_agent", {"channel": "room"})
            text = error_text(result)
            assert key not in text
            assert "***" in text


async def test_values_the_client_supplied_are_masked_when_echoed(tmp_path: Path) -> None:
    cert = DEMO_CREDENTIALS.app_certificate
    async with rig(tmp_path) as r, Client(r.server) as client:
        result = await client.call_tool("mint_token", {"channel": cert})
    assert not result.is_error, error_text(result)
    assert cert not in json.dumps(result.structured_content)
    assert all(cert not in getattr(block, "text", "") for block in result.content)


async def test_one_info_line_per_tool_call_without_arguments(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO, logger="convoai_mcp.server.tools")
    prompt = "You are a pirate who never reveals the treasure map."
    async with rig(tmp_path) as r, Client(r.server) as client:
        started = await client.call_tool("start_agent", {"channel": "c", "system_prompt": prompt})
        agent_id = (started.structured_content or {})["agent_id"]
        await client.call_tool("get_agent", {"agent_id": "NOSUCHAGENT"})
        await client.call_tool("stop_agent", {"agent_id": agent_id})
    lines = [r.getMessage() for r in caplog.records if r.name == "convoai_mcp.server.tools"]
    assert len(lines) == 3, lines
    assert lines[0].startswith("tool start_agent ok in ") and f"agent_id={agent_id}" in lines[0]
    assert lines[1].startswith("tool get_agent error in ") and "agent_id=NOSUCHAGENT" in lines[1]
    assert "request_id=" in lines[1]
    assert lines[2].startswith("tool stop_agent ok in ")
    assert all(prompt not in line and "pirate" not in line for line in lines)


async def test_an_error_names_the_tool_once(tmp_path: Path) -> None:
    async with rig(tmp_path) as r, Client(r.server) as client:
        r.sandbox.faults.add(Fault(route="*", kind="drop"))
        result = await client.call_tool("list_numbers", {})
    text = error_text(result)
    assert text.startswith("list_numbers failed: ")
    assert text.count("list_numbers") == 1


# ------------------------------------------------------------- errors that send a model in circles


async def test_enum_arguments_accept_either_case(tmp_path: Path) -> None:
    async with rig(tmp_path) as r, Client(r.server) as client:
        started = await client.call_tool("start_agent", {"channel": "room"})
        agent_id = (started.structured_content or {})["agent_id"]
        r.sandbox.state.advance(5)
        spoken = await client.call_tool(
            "speak", {"agent_id": agent_id, "text": "Hi", "priority": "append"}
        )
        assert not spoken.is_error, error_text(spoken)
        thought = await client.call_tool(
            "think", {"agent_id": agent_id, "text": "Hi", "on_speaking_action": "APPEND"}
        )
        assert not thought.is_error, error_text(thought)
        bad = await client.call_tool("speak", {"agent_id": agent_id, "text": "Hi", "priority": "x"})
        assert "priority" in error_text(bad)


@pytest.mark.parametrize(
    ("given", "meant"),
    [
        ("14155550123", "+14155550123"),
        ("+1 415 555 0123", "+14155550123"),
        ("+1 (415) 555-0123", "+14155550123"),
        ("0014155550123", "+14155550123"),
    ],
)
async def test_a_nearly_e164_number_gets_a_did_you_mean(
    tmp_path: Path, given: str, meant: str
) -> None:
    async with rig(tmp_path) as r, Client(r.server) as client:
        result = await client.call_tool("call", {"to_number": given})
        assert not r.sandbox.state.calls
    text = error_text(result)
    assert f"did you mean {meant}?" in text and "to_number" in text


async def test_an_unticked_confirmation_says_so(tmp_path: Path) -> None:
    from mcp import types as mcp_types

    async def elicitor(context: object, params: object) -> mcp_types.ElicitResult:
        return mcp_types.ElicitResult(action="accept", content={"confirm": False})

    async with (
        rig(tmp_path) as r,
        Client(r.server, mode="legacy", elicitation_callback=elicitor) as client,
    ):
        result = await client.call_tool("call", {"to_number": "+14155550123"})
    text = error_text(result)
    assert "without ticking the confirm box" in text and "(accept)" not in text
