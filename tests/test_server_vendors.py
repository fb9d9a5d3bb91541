"""What the start and call bodies carry for the vendors: keys only with what they were
configured for (D1), no presets in a call (X1), the voice in each vendor's own field (X2).

Driven through the MCP Client against the emulator; the emulator's record of each agent is the
ground truth of what was sent, and a "drop everything" fault proves a refusal sent nothing.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from _server_helpers import CALLEE, Rig, error_text, rig
from mcp import Client
from mcp import types as mcp_types

from convoai_mcp.sandbox import Fault

OPERATOR_KEY = "sk-operator-llm-key-0123456789"
OWN_LLM = "https://llm.operator.example/v1/chat/completions"
FOREIGN = "https://attacker.example/v1/chat/completions"
VENDORS = {
    "CONVOAI_LLM_URL": OWN_LLM,
    "CONVOAI_LLM_API_KEY": OPERATOR_KEY,
    "CONVOAI_LLM_MODEL": "gpt-4o-mini",
    "CONVOAI_TTS_VENDOR": "microsoft",
    "CONVOAI_TTS_PARAMS": '{"key": "tts-key-abcdef", "region": "eastus", "voice_name": "v"}',
}


def sent(r: Rig, agent_id: str) -> dict[str, Any]:
    """The properties the emulator received for ``agent_id``."""
    properties: dict[str, Any] = r.sandbox.state.agents[agent_id].config.properties
    return properties


async def refused_before_sending(r: Rig, client: Client, tool: str, args: dict[str, Any]) -> str:
    """Call ``tool`` with every request to the emulator failing; it must be refused first."""
    fault = r.sandbox.faults.add(Fault(route="*", kind="drop"))
    result = await client.call_tool(tool, args)
    text = error_text(result)
    assert fault.hits == 0, "something was sent before the refusal"
    assert not r.sandbox.state.agents and not r.sandbox.state.calls
    r.sandbox.faults.clear()
    return text


# ------------------------------------------------------------------------------- D1: LLM keys


@pytest.mark.parametrize("tool", ["start_agent", "call"])
async def test_a_model_chosen_llm_url_is_refused_by_default(tmp_path: Path, tool: str) -> None:
    args = {"channel": "room"} if tool == "start_agent" else {"to_number": CALLEE}
    async with rig(tmp_path, VENDORS) as r, Client(r.server) as client:
        text = await refused_before_sending(r, client, tool, {**args, "llm_url": FOREIGN})
    assert "not the configured LLM endpoint" in text
    assert "CONVOAI_LLM_URLS_ALLOWED" in text
    assert OPERATOR_KEY not in text and "attacker" not in text


@pytest.mark.parametrize("tool", ["start_agent", "call"])
async def test_an_allowed_foreign_llm_url_is_sent_without_the_operators_key(
    tmp_path: Path, tool: str
) -> None:
    args = {"channel": "room"} if tool == "start_agent" else {"to_number": CALLEE}
    env = {**VENDORS, "CONVOAI_LLM_URLS_ALLOWED": FOREIGN, "CONVOAI_CONFIRM": "none"}
    async with rig(tmp_path, env) as r, Client(r.server) as client:
        result = await client.call_tool(tool, {**args, "llm_url": FOREIGN})
        assert not result.is_error, error_text(result)
        agent_id = (result.structured_content or {})["agent_id"]
        properties = sent(r, agent_id)
    assert properties["llm"]["url"] == FOREIGN
    assert "api_key" not in properties["llm"]
    assert OPERATOR_KEY not in json.dumps(properties)


async def test_the_configured_llm_gets_the_configured_key(tmp_path: Path) -> None:
    async with rig(tmp_path, VENDORS) as r, Client(r.server) as client:
        for args in ({}, {"llm_url": OWN_LLM}):
            result = await client.call_tool("start_agent", {"channel": "room", **args})
            assert not result.is_error, error_text(result)
            llm = sent(r, (result.structured_content or {})["agent_id"])["llm"]
            assert (llm["url"], llm["api_key"]) == (OWN_LLM, OPERATOR_KEY)


async def test_a_model_chosen_llm_model_on_the_operators_key_needs_the_operators_leave(
    tmp_path: Path,
) -> None:
    async with rig(tmp_path, VENDORS) as r, Client(r.server) as client:
        text = await refused_before_sending(
            r, client, "start_agent", {"channel": "room", "llm_model": "gpt-5-pro"}
        )
        assert "CONVOAI_LLM_MODELS_ALLOWED" in text and "gpt-4o-mini" in text
        same = await client.call_tool("start_agent", {"channel": "a", "llm_model": "gpt-4o-mini"})
        assert not same.is_error, error_text(same)
    env = {**VENDORS, "CONVOAI_LLM_MODELS_ALLOWED": "gpt-4.1"}
    async with rig(tmp_path, env) as r, Client(r.server) as client:
        result = await client.call_tool("start_agent", {"channel": "room", "llm_model": "gpt-4.1"})
        assert not result.is_error, error_text(result)
        llm = sent(r, (result.structured_content or {})["agent_id"])["llm"]
    assert llm["params"]["model"] == "gpt-4.1" and llm["api_key"] == OPERATOR_KEY


async def test_the_confirmation_question_names_a_model_chosen_llm(tmp_path: Path) -> None:
    asked: list[str] = []

    async def elicitor(
        context: Any, params: mcp_types.ElicitRequestParams
    ) -> mcp_types.ElicitResult:
        asked.append(params.message)
        return mcp_types.ElicitResult(action="accept", content={"confirm": True})

    env = {
        **VENDORS,
        "CONVOAI_LLM_URLS_ALLOWED": "*",
        "CONVOAI_CONFIRM": "start_agent",
    }
    async with (
        rig(tmp_path, env) as r,
        Client(r.server, mode="legacy", elicitation_callback=elicitor) as client,
    ):
        own = await client.call_tool("start_agent", {"channel": "a"})
        assert not own.is_error, error_text(own)
        foreign = await client.call_tool(
            "start_agent", {"channel": "b", "llm_url": FOREIGN + "?key=secret-in-query"}
        )
        assert not foreign.is_error, error_text(foreign)
    assert "LLM" not in asked[0]
    assert FOREIGN in asked[1] and "not the configured one" in asked[1]
    assert "secret-in-query" not in asked[1]


# ------------------------------------------------------------------------------- X1: calls


async def test_a_call_with_only_presets_configured_is_refused_before_anything_is_sent(
    tmp_path: Path,
) -> None:
    presets = "deepgram_nova_3,openai_gpt_4o_mini,minimax_speech_2_6_turbo"
    async with rig(tmp_path, {"CONVOAI_PRESETS": presets}) as r, Client(r.server) as client:
        text = await refused_before_sending(r, client, "call", {"to_number": CALLEE})
        assert "cannot use presets" in text and "CONVOAI_LLM_URL" in text
        # start_agent takes the same presets
        started = await client.call_tool("start_agent", {"channel": "room"})
        assert not started.is_error, error_text(started)


async def test_presets_passed_to_call_are_refused_not_dropped(tmp_path: Path) -> None:
    async with rig(tmp_path, VENDORS) as r, Client(r.server) as client:
        text = await refused_before_sending(
            r, client, "call", {"to_number": CALLEE, "presets": ["openai_gpt_4o_mini"]}
        )
    assert "call takes no presets" in text


async def test_a_call_gets_the_configured_llm_and_tts_even_with_presets_configured(
    tmp_path: Path,
) -> None:
    env = {**VENDORS, "CONVOAI_PRESETS": "openai_gpt_4o_mini", "CONVOAI_CONFIRM": "none"}
    async with rig(tmp_path, env) as r, Client(r.server) as client:
        result = await client.call_tool("call", {"to_number": CALLEE})
        assert not result.is_error, error_text(result)
        properties = sent(r, (result.structured_content or {})["agent_id"])
    assert properties["llm"]["url"] == OWN_LLM
    assert properties["tts"]["vendor"] == "microsoft"


# ------------------------------------------------------------------------------- X2: voices


_VOICELESS = {  # what each vendor needs besides its voice (the emulator checks, issue 12)
    "microsoft": {"key": "tts-key-1", "region": "eastus"},
    "elevenlabs": {"key": "tts-key-1", "model_id": "m", "base_url": "wss://api.elevenlabs.io/v1"},
    "openai": {"model": "tts-1"},
    "cartesia": {"api_key": "tts-key-1", "model_id": "sonic-2"},
    "minimax": {"model": "speech-02-turbo"},
    "google": {"credentials": "tts-key-1"},
    "murf": {"api_key": "tts-key-1"},
    "rime": {"modelId": "mistv2"},
}


@pytest.mark.parametrize(
    ("vendor", "expected"),
    [
        ("microsoft", {"voice_name": "v1"}),
        ("elevenlabs", {"voice_id": "v1"}),
        ("openai", {"voice": "v1"}),
        ("cartesia", {"voice": {"mode": "id", "id": "v1"}}),
        ("minimax", {"voice_setting": {"voice_id": "v1"}}),
        ("google", {"VoiceSelectionParams": {"name": "v1"}}),
        ("murf", {"voiceId": "v1"}),
        ("rime", {"speaker": "v1"}),
    ],
)
async def test_tts_voice_goes_into_the_vendors_own_field(
    tmp_path: Path, vendor: str, expected: dict[str, Any]
) -> None:
    voiceless = _VOICELESS[vendor]
    env = {**VENDORS, "CONVOAI_TTS_VENDOR": vendor, "CONVOAI_TTS_PARAMS": json.dumps(voiceless)}
    async with rig(tmp_path, env) as r, Client(r.server) as client:
        result = await client.call_tool("start_agent", {"channel": "room", "tts_voice": "v1"})
        assert not result.is_error, error_text(result)
        tts = sent(r, (result.structured_content or {})["agent_id"])["tts"]
    assert tts == {"vendor": vendor, "params": {**voiceless, **expected}}


async def test_a_model_chosen_tts_vendor_gets_none_of_the_configured_params(
    tmp_path: Path,
) -> None:
    """The configured params (and their key) stay with the configured vendor: a model-chosen
    vendor gets only the voice, which the emulator refuses, as the service would, for the
    missing key."""
    env = {**VENDORS, "CONVOAI_TTS_VENDOR": "typecast"}
    async with rig(tmp_path, env) as r, Client(r.server) as client:
        result = await client.call_tool(
            "start_agent", {"channel": "room", "tts_vendor": "microsoft", "tts_voice": "v1"}
        )
        text = error_text(result)
        assert "properties.tts.params.key is required for the tts vendor microsoft" in text
        assert "tts-key-abcdef" not in text and not r.sandbox.state.agents


async def test_tts_voice_merges_into_the_configured_params(tmp_path: Path) -> None:
    env = {
        **VENDORS,
        "CONVOAI_TTS_VENDOR": "minimax",
        "CONVOAI_TTS_PARAMS": '{"key": "k-123456", "voice_setting": {"speed": 1.1}}',
    }
    async with rig(tmp_path, env) as r, Client(r.server) as client:
        result = await client.call_tool("start_agent", {"channel": "room", "tts_voice": "v2"})
        assert not result.is_error, error_text(result)
        params = sent(r, (result.structured_content or {})["agent_id"])["tts"]["params"]
    assert params == {"key": "k-123456", "voice_setting": {"speed": 1.1, "voice_id": "v2"}}
    assert "voice_name" not in params


@pytest.mark.parametrize(
    ("env", "args", "expected"),
    [
        ({}, {"tts_vendor": "deepgram"}, "has no voice setting"),
        ({"CONVOAI_PRESETS": "minimax_speech_2_6_turbo"}, {}, "TTS preset"),
    ],
)
async def test_tts_voice_is_refused_where_the_vendor_or_preset_takes_none(
    tmp_path: Path, env: dict[str, str], args: dict[str, Any], expected: str
) -> None:
    environ = {**VENDORS, **env}
    if env:
        environ.pop("CONVOAI_TTS_VENDOR")
    async with rig(tmp_path, environ) as r, Client(r.server) as client:
        text = await refused_before_sending(
            r, client, "start_agent", {"channel": "room", "tts_voice": "v1", **args}
        )
    assert expected in text and "tts_voice" in text


# ------------------------------------------------------------------------------- X3: updates


def record_updates(r: Rig) -> list[dict[str, Any]]:
    """Every ``properties`` body the emulator's update receives, in order."""
    seen: list[dict[str, Any]] = []
    state = r.sandbox.state
    inner = state.update_agent

    def update_agent(agent_id: str, properties: dict[str, Any]) -> dict[str, Any]:
        seen.append(json.loads(json.dumps(properties)))
        return inner(agent_id, properties)

    state.update_agent = update_agent  # type: ignore[method-assign]
    return seen


async def test_update_agent_sends_the_complete_llm_params(tmp_path: Path) -> None:
    """An update replaces the whole params object: the model the agent started with stays."""
    async with rig(tmp_path, VENDORS) as r, Client(r.server) as client:
        seen = record_updates(r)
        result = await client.call_tool("start_agent", {"channel": "room"})
        agent_id = (result.structured_content or {})["agent_id"]
        for params in ({"temperature": 0.3}, {"max_tokens": 90}):
            updated = await client.call_tool(
                "update_agent", {"agent_id": agent_id, "llm_params": params}
            )
            assert not updated.is_error, error_text(updated)
        prompt_only = await client.call_tool(
            "update_agent", {"agent_id": agent_id, "system_prompt": "Be brief."}
        )
        assert not prompt_only.is_error, error_text(prompt_only)
    assert [body["llm"].get("params") for body in seen] == [
        {"model": "gpt-4o-mini", "temperature": 0.3},
        {"model": "gpt-4o-mini", "temperature": 0.3, "max_tokens": 90},
        None,
    ]


async def test_update_agent_refuses_partial_params_for_an_agent_started_elsewhere(
    tmp_path: Path,
) -> None:
    from convoai_mcp.builders import AgentSpec
    from convoai_mcp.server.runtime import make_client

    async with rig(tmp_path, VENDORS) as r, Client(r.server) as client:
        async with make_client(r.settings) as other:  # another process started it
            elsewhere = await other.agents.launch(
                AgentSpec(channel="other", presets=["openai_gpt_4o_mini", "openai_tts_1"])
            )
        seen = record_updates(r)
        partial = await client.call_tool(
            "update_agent", {"agent_id": elsewhere.agent_id, "llm_params": {"temperature": 1}}
        )
        text = error_text(partial)
        complete = await client.call_tool(
            "update_agent",
            {
                "agent_id": elsewhere.agent_id,
                "llm_params": {"model": "gpt-4o-mini", "temperature": 1},
            },
        )
        assert not complete.is_error, error_text(complete)
    assert "including model" in text
    assert [body["llm"]["params"] for body in seen] == [{"model": "gpt-4o-mini", "temperature": 1}]


async def test_update_agent_cannot_switch_to_a_model_the_operator_did_not_allow(
    tmp_path: Path,
) -> None:
    async with rig(tmp_path, VENDORS) as r, Client(r.server) as client:
        seen = record_updates(r)
        result = await client.call_tool("start_agent", {"channel": "room"})
        agent_id = (result.structured_content or {})["agent_id"]
        refused = await client.call_tool(
            "update_agent", {"agent_id": agent_id, "llm_params": {"model": "gpt-5-pro"}}
        )
        assert "CONVOAI_LLM_MODELS_ALLOWED" in error_text(refused)
    assert seen == []
