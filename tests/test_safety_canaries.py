"""No secret ever leaves the server: every tool, resource and prompt, successes and failures, run
with recognisable canary secrets; everything the server emits is captured and searched.

Captured: tool results (text and structured content), resource contents, prompt messages, every
server notification (log messages, progress, resource updates), Python log records at DEBUG,
and the stderr of a real ``convoai-mcp`` stdio subprocess.
"""

from __future__ import annotations

import base64
import contextlib
import json
import logging
import sys
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any
from urllib.parse import quote

import mcp_types as types
import pytest
from _server_helpers import REPO, subprocess_env
from mcp import Client, StdioServerParameters
from mcp.client.stdio import stdio_client

from convoai_mcp.config import Settings
from convoai_mcp.sandbox import Fault, Sandbox, SandboxCredentials
from convoai_mcp.server.app import build_server
from convoai_mcp.server.tools import TOOL_NAMES

APP_ID = "0123456789abcdef0123456789abcdef"
CERT = "ca11ab1ec0ffee00deadbeef5ec12e75"
CUSTOMER_ID = "canary-customer-id"
CUSTOMER_SECRET = "CANARYcustSECRETq7w3e9r1"
LLM_KEY = "sk-CANARY-llm-KEY-z4x8c2v6"  # shaped like a vendor key, not one
TTS_KEY = "CANARYttsKEYm5n1b7v3"
ASR_KEY = "CANARYasrKEYp0o9i8u7"
HTTP_TOKEN = "CANARYhttpTOKENl2k4j6h8g0"
PROFILE_LLM_KEY = "sk-ant-CANARY-profile-LLM-r7t1y5"  # agent profiles (issue 12)
PROFILE_TTS_KEY = "CANARYprofileTTSa8s6d4f2"
PROFILE_ASR_KEY = "CANARYprofileASRg3h5j7k9"
PROFILE_ENV = {
    "CANARY_ANTHROPIC_KEY": PROFILE_LLM_KEY,
    "CANARY_ELEVENLABS_KEY": PROFILE_TTS_KEY,
    "CANARY_DEEPGRAM_KEY": PROFILE_ASR_KEY,
}
PROFILES = """
[profiles.canary]
description = "A profile whose keys are canaries"
[profiles.canary.llm]
vendor = "anthropic"
api_key = "${CANARY_ANTHROPIC_KEY}"
model = "claude-sonnet-4-5"
url = "https://api.anthropic.com/v1/messages"
max_tokens = 512
headers = { anthropic-version = "2023-06-01" }
[profiles.canary.tts]
vendor = "elevenlabs"
key = "${CANARY_ELEVENLABS_KEY}"
model_id = "eleven_flash_v2_5"
voice_id = "21m00Tcm4TlvDq8ikWAM"
base_url = "wss://api.elevenlabs.io/v1"
[profiles.canary.asr]
vendor = "deepgram"
api_key = "${CANARY_DEEPGRAM_KEY}"
model = "nova-3"
"""
CALLEE = "+14155550123"

CANARIES: dict[str, str] = {
    "app certificate": CERT,
    "customer secret": CUSTOMER_SECRET,
    "basic credential": base64.b64encode(f"{CUSTOMER_ID}:{CUSTOMER_SECRET}".encode()).decode(),
    "LLM key": LLM_KEY,
    "TTS key": TTS_KEY,
    "ASR key": ASR_KEY,
    "HTTP token": HTTP_TOKEN,
    "profile LLM key": PROFILE_LLM_KEY,
    "profile TTS key": PROFILE_TTS_KEY,
    "profile ASR key": PROFILE_ASR_KEY,
}
# The distinctive middle of each canary: catches truncated or re-encoded copies too.
CORES: dict[str, str] = {
    "app certificate": "c0ffee00deadbeef",
    "customer secret": "custSECRETq7w3",
    "LLM key": "llm-KEY-z4x8",
    "TTS key": "ttsKEYm5n1",
    "ASR key": "asrKEYp0o9",
    "HTTP token": "httpTOKENl2k4",
    "profile LLM key": "profile-LLM-r7t1",
    "profile TTS key": "profileTTSa8s6",
    "profile ASR key": "profileASRg3h5",
}


def leaks(text: str) -> list[str]:
    """Which canaries (or their URL-encoded forms, or their cores) occur in ``text``."""
    found = [
        name for name, value in CANARIES.items() if value in text or quote(value, safe="") in text
    ]
    found += [f"{name} (core)" for name, core in CORES.items() if core in text]
    return found


def canary_env(auth: str) -> dict[str, str]:
    env = {
        "AGORA_APP_ID": APP_ID,
        "AGORA_APP_CERTIFICATE": CERT,
        "CONVOAI_LLM_URL": "https://llm.example/v1/chat/completions",
        "CONVOAI_LLM_API_KEY": LLM_KEY,
        "CONVOAI_LLM_MODEL": "gpt-4o-mini",
        "CONVOAI_TTS_VENDOR": "microsoft",
        "CONVOAI_TTS_PARAMS": json.dumps(
            {"key": TTS_KEY, "region": "eastus", "voice_name": "en-US-AndrewNeural"}
        ),
        "CONVOAI_ASR_VENDOR": "deepgram",
        "CONVOAI_ASR_PARAMS": json.dumps({"api_key": ASR_KEY, "model": "nova-3"}),
        "CONVOAI_CALL_ALLOWLIST": CALLEE,
        "CONVOAI_EMULATOR": "on",  # the emulator's fictional numbers may be dialled
        "CONVOAI_HTTP_TOKEN": HTTP_TOKEN,
        "CONVOAI_LOG_LEVEL": "DEBUG",
        "CONVOAI_CONFIRM_BY_ARGUMENT": "true",  # a headless client: confirm=true places calls
    }
    if auth == "basic":
        env.update({"AGORA_CUSTOMER_ID": CUSTOMER_ID, "AGORA_CUSTOMER_SECRET": CUSTOMER_SECRET})
    return env


CREDENTIALS = SandboxCredentials(
    app_id=APP_ID,
    app_certificate=CERT,
    customer_id=CUSTOMER_ID,
    customer_secret=CUSTOMER_SECRET,
)


class Capture:
    """Everything the client saw."""

    def __init__(self) -> None:
        self.items: list[tuple[str, str]] = []

    def add(self, where: str, value: Any) -> None:
        if hasattr(value, "model_dump_json"):
            text = value.model_dump_json()
        else:
            text = value if isinstance(value, str) else json.dumps(value, default=str)
        self.items.append((where, text))

    async def on_message(self, message: Any) -> None:
        self.add("notification", message if not isinstance(message, Exception) else repr(message))

    async def on_log(self, params: types.LoggingMessageNotificationParams) -> None:
        self.add("log notification", params)

    def leaks(self) -> list[str]:
        return [f"{name} in {where}" for where, text in self.items for name in leaks(text)]


async def run_everything(client: Client, sandbox: Sandbox, capture: Capture) -> set[str]:
    """Every tool, resource template and prompt; successes and failures. Returns tools called."""
    called: set[str] = set()

    async def tool(name: str, arguments: dict[str, Any]) -> types.CallToolResult:
        called.add(name)
        result = await client.call_tool(name, arguments)
        capture.add(f"tool {name}", result)
        return result

    async def resource(uri: str) -> None:
        try:
            result = await client.read_resource(uri)
        except Exception as exc:  # an error is an answer too: its text is searched
            capture.add(f"resource error {uri}", str(exc))
        else:
            capture.add(f"resource {uri}", result)

    numbers = await tool("list_numbers", {})
    assert not numbers.is_error
    started = await tool(
        "start_agent",
        {
            "channel": "canary-room",
            "system_prompt": "You help people.",
            "greeting": "Hello!",
            "wait_until_running": True,
            "timeout_seconds": 5,
        },
    )
    assert not started.is_error, started
    agent_id = (started.structured_content or {})["agent_id"]
    for name, arguments in [
        ("speak", {"agent_id": agent_id, "text": "Hello there"}),
        ("think", {"agent_id": agent_id, "text": "The user is a VIP"}),
        ("interrupt", {"agent_id": agent_id}),
        (
            "update_agent",
            {
                "agent_id": agent_id,
                "system_prompt": "Be brief.",
                "llm_params": {"temperature": 0.2, "api_key": LLM_KEY},
                "refresh_token": True,
            },
        ),
        ("get_agent", {"agent_id": agent_id}),
        ("get_history", {"agent_id": agent_id}),
        ("get_turns", {"agent_id": agent_id, "limit": 5}),
        ("list_agents", {}),
        ("list_agents", {"channel": "canary-room", "state": "RUNNING"}),
        ("mint_token", {"channel": "canary-room"}),
        ("mint_token", {"channel": "canary-room", "uid": "42", "role": "subscriber"}),
    ]:
        result = await tool(name, arguments)
        assert not result.is_error, (name, result)
    for uri in (
        f"convoai://agents/{agent_id}",
        f"convoai://agents/{agent_id}/history",
        f"convoai://agents/{agent_id}/turns",
    ):
        await resource(uri)
    capture.add("resources/list", await client.list_resources())
    capture.add("tools/list", await client.list_tools())
    # agent profiles: listed, and used to start an agent and place a call
    assert not (await tool("list_profiles", {})).is_error
    await resource("convoai://profiles")
    by_profile = await tool(
        "start_agent", {"channel": "canary-profile", "profile": "canary", "tts_voice": "v2"}
    )
    assert not by_profile.is_error, by_profile
    profile_agent = (by_profile.structured_content or {})["agent_id"]
    await resource(f"convoai://agents/{profile_agent}")
    assert not (await tool("stop_agent", {"agent_id": profile_agent})).is_error
    profile_call = await tool("call", {"to_number": CALLEE, "profile": "canary", "confirm": True})
    assert not profile_call.is_error, profile_call
    call_by_profile = (profile_call.structured_content or {})["agent_id"]
    assert not (await tool("hangup", {"agent_id": call_by_profile})).is_error

    placed = await tool(
        "call", {"to_number": CALLEE, "confirm": True, "greeting": "Hi, this is a test call"}
    )
    assert not placed.is_error, placed
    call_id = (placed.structured_content or {})["agent_id"]
    for name, arguments in [
        ("get_call", {"agent_id": call_id}),
        ("list_calls", {}),
        ("list_calls", {"type": "outbound", "limit": 5}),
        ("wait", {"agent_id": call_id, "until": "history", "cursor": "e0.0", "timeout_seconds": 1}),
        ("wait", {"agent_id": agent_id, "until": "ended", "timeout_seconds": 0}),
    ]:
        assert not (await tool(name, arguments)).is_error
    await resource(f"convoai://calls/{call_id}")
    assert not (await tool("hangup", {"agent_id": call_id})).is_error
    assert not (await tool("stop_agent", {"agent_id": agent_id})).is_error
    await resource(f"convoai://agents/{agent_id}/history")  # now from the archive
    assert not (await tool("get_history", {"agent_id": call_id})).is_error  # archived too
    await resource(f"convoai://agents/{agent_id}/turns")

    # a campaign (issue 14): started, read, paused, resumed and cancelled
    campaign = await tool(
        "start_campaign",
        {
            "name": "canary campaign",
            "destinations": [{"number": CALLEE, "variables": {"customer": "Ann"}}],
            "profile": "canary",
            "confirm": True,
        },
    )
    assert not campaign.is_error, campaign
    campaign_id = (campaign.structured_content or {})["campaign_id"]
    for name, arguments in [
        ("get_campaign", {"campaign_id": campaign_id}),
        ("list_campaigns", {}),
        ("pause_campaign", {"campaign_id": campaign_id}),
        ("resume_campaign", {"campaign_id": campaign_id}),
        ("cancel_campaign", {"campaign_id": campaign_id, "hang_up": True}),
    ]:
        assert not (await tool(name, arguments)).is_error, (name, arguments)
    await resource(f"convoai://campaigns/{campaign_id}")

    # failures: bad input, refusals, service errors, faults
    failures: list[tuple[str, dict[str, Any]]] = [
        ("speak", {"agent_id": "nope", "text": "x"}),
        ("speak", {"agent_id": agent_id, "text": "é" * 300}),
        ("think", {"agent_id": agent_id, "text": ""}),
        ("interrupt", {"agent_id": "nope"}),
        ("update_agent", {"agent_id": "nope", "llm_params": {"api_key": LLM_KEY}}),
        ("get_agent", {"agent_id": "nope"}),
        ("get_call", {"agent_id": "nope"}),
        ("wait", {"agent_id": agent_id, "until": "turn", "cursor": "nope"}),
        ("hangup", {"agent_id": "nope"}),
        ("call", {"to_number": "+14155550999", "confirm": True}),
        ("call", {"to_number": CALLEE}),
        ("call", {"to_number": "not a number", "confirm": True}),
        ("mint_token", {"channel": "x", "uid": "abc"}),
        ("list_calls", {"cursor": "garbage"}),
        ("start_agent", {"channel": "bad channel \u0000"}),
        ("start_agent", {"channel": "c", "profile": "canary", "asr_language": "xx-YY"}),
        ("start_agent", {"channel": "c", "profile": "canary", "llm_url": "https://x.example/"}),
    ]
    for name, arguments in failures:
        assert (await tool(name, arguments)).is_error, (name, arguments)
    for fault in (
        Fault(route="agents.start", kind="status", status=400, reason="InvalidFieldValue"),
        Fault(route="agents.start", kind="status", status=401),
        Fault(route="agents.start", kind="malformed"),
        Fault(route="calls.create", kind="status", status=403),
    ):
        sandbox.faults.add(fault)
        if fault.route == "calls.create":
            await tool("call", {"to_number": CALLEE, "confirm": True})
        else:
            await tool("start_agent", {"channel": "fault-room"})
        sandbox.faults.clear()
    for uri in (
        "convoai://agents/nope",
        "convoai://agents/nope/history",
        "convoai://agents/nope/turns",
        "convoai://calls/nope",
    ):
        await resource(uri)

    for prompt, arguments in [
        ("support_agent", {"channel": "canary-room", "product": "Widgets"}),
        ("outbound_call", {"to_number": CALLEE, "goal": "confirm the appointment"}),
        ("review_conversation", {"agent_id": agent_id}),
        ("campaign_report", {"campaign_id": "c123", "goal": "confirm the appointment"}),
    ]:
        capture.add(f"prompt {prompt}", await client.get_prompt(prompt, arguments))
    return called


@contextlib.asynccontextmanager
async def canary_sandbox() -> AsyncIterator[tuple[Sandbox, str]]:
    sandbox = Sandbox(CREDENTIALS, answer_delay=0.0)
    async with sandbox.serve("127.0.0.1", 0) as base_url:
        yield sandbox, base_url


@pytest.mark.parametrize("auth", ["basic", "app_credentials"])
async def test_no_canary_in_anything_the_in_memory_server_emits(
    tmp_path: Path, auth: str, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    capture = Capture()
    async with canary_sandbox() as (sandbox, base_url):
        profiles = tmp_path / "profiles.toml"
        profiles.write_text(PROFILES)
        env = {
            **canary_env(auth),
            **PROFILE_ENV,
            "CONVOAI_PROFILES": str(profiles),
            "CONVOAI_BASE_URL": base_url,
            "CONVOAI_ARCHIVE_PATH": str(tmp_path / "archive.sqlite3"),
        }
        settings = Settings.from_env(env)
        assert settings.auth_mode == auth
        server = build_server(settings, poll_interval=0.01)
        try:
            async with Client(
                server,
                message_handler=capture.on_message,
                logging_callback=capture.on_log,
                log_level="debug",
            ) as client:
                called = await run_everything(client, sandbox, capture)
        finally:
            await server.runtime.aclose()
        # the canaries really went through the server to the service
        sent = json.dumps([a.config.properties for a in sandbox.state.agents.values()])
        assert all(key in sent for key in (LLM_KEY, TTS_KEY, ASR_KEY))
        assert all(key in sent for key in PROFILE_ENV.values())
    assert called == set(TOOL_NAMES)
    kinds = {where.split(" ")[0] for where, _ in capture.items}
    assert {"tool", "resource", "prompt", "resources/list", "tools/list"} <= kinds
    logged = "\n".join(caplog.messages) + "\n".join(r.getMessage() for r in caplog.records)
    assert logged.strip(), "DEBUG logging produced nothing to search"
    problems = capture.leaks() + [f"{name} in a log record" for name in leaks(logged)]
    assert problems == []


def test_canary_detector_detects() -> None:
    """The search itself works: a planted canary (or its core, or encoded form) is found."""
    assert leaks(f"x {LLM_KEY} y") == ["LLM key", "LLM key (core)"]
    assert "customer secret (core)" in leaks("...custSECRETq7w3...")
    assert "basic credential" in leaks("Basic " + CANARIES["basic credential"])
    assert leaks("nothing here ***") == []


@pytest.mark.slow
async def test_no_canary_on_the_stdio_subprocess_stderr_or_stdout(tmp_path: Path) -> None:
    capture = Capture()
    errlog = tmp_path / "stderr.txt"
    profiles = tmp_path / "profiles.toml"
    profiles.write_text(PROFILES)
    async with canary_sandbox() as (sandbox, base_url):
        env = subprocess_env(
            **canary_env("basic"),
            **PROFILE_ENV,
            CONVOAI_PROFILES=str(profiles),
            CONVOAI_BASE_URL=base_url,
            CONVOAI_ARCHIVE_PATH=str(tmp_path / "archive.sqlite3"),
        )
        params = StdioServerParameters(
            command=sys.executable, args=["-m", "convoai_mcp"], env=env, cwd=str(REPO)
        )
        with errlog.open("w") as err:
            async with Client(
                stdio_client(params, errlog=err),
                message_handler=capture.on_message,
                logging_callback=capture.on_log,
                log_level="debug",
            ) as client:
                assert await run_everything(client, sandbox, capture) == set(TOOL_NAMES)
    stderr = errlog.read_text()
    assert "serving MCP over stdio" in stderr  # the banner: stderr really was captured
    assert "DEBUG" in stderr  # and logging at DEBUG reached it
    problems = capture.leaks() + [f"{name} in stderr" for name in leaks(stderr)]
    assert problems == []
