"""Agent profiles through MCP (issue 12): start_agent and call by profile against the emulator,
the body the emulator received equal to the profile library's output, overrides and refusals,
list_profiles and convoai://profiles, and a broken profile file at start-up (exit status 2)."""

from __future__ import annotations

import json
import logging
import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from _server_helpers import (
    BY_ARGUMENT,
    CALLEE,
    OUTBOUND,
    REPO,
    error_text,
    read_json,
    rig,
    subprocess_env,
)
from mcp import Client

from convoai_mcp.cli import main
from convoai_mcp.config import Settings, default_profiles_path
from convoai_mcp.profiles import Overrides, build_call, build_join
from convoai_mcp.sandbox import DEMO_CREDENTIALS
from convoai_mcp.tokens import verify_token

ENV = {
    "ANTHROPIC_API_KEY": "sk-ant-profile-test-000111",
    "ELEVENLABS_API_KEY": "el-profile-test-000222",
    "DEEPGRAM_API_KEY": "dg-profile-test-000333",
}
SECRETS = tuple(ENV.values())

PROFILES = """
[profiles.support]
description = "English support line: ElevenLabs voice, Deepgram ears, Claude brain"
instructions = "You are a concise support agent for {{company}}."
greeting = "Hi, how can I help?"
turn_detection = { language = "en-US" }
template_variables = { company = "Acme" }

[profiles.support.llm]
vendor = "anthropic"
api_key = "${ANTHROPIC_API_KEY}"
model = "claude-sonnet-4-5"
url = "https://api.anthropic.com/v1/messages"
max_tokens = 1024
headers = { anthropic-version = "2023-06-01" }

[profiles.support.tts]
vendor = "elevenlabs"
key = "${ELEVENLABS_API_KEY}"
model_id = "eleven_flash_v2_5"
voice_id = "21m00Tcm4TlvDq8ikWAM"
base_url = "wss://api.elevenlabs.io/v1"

[profiles.support.asr]
vendor = "deepgram"
api_key = "${DEEPGRAM_API_KEY}"
model = "nova-3"

[profiles.hosted]
description = "Hosted presets only: no keys needed"
presets = ["deepgram_nova_3", "openai_gpt_4o_mini", "minimax_speech_2_6_turbo"]
"""


def _file(tmp_path: Path, text: str = PROFILES, default: str | None = None) -> Path:
    path = tmp_path / "profiles.toml"
    path.write_text((f'default = "{default}"\n' if default else "") + text)
    return path


def _env(tmp_path: Path, default: str | None = None, **extra: str) -> dict[str, str]:
    profiles = str(_file(tmp_path, default=default))
    return {**ENV, **BY_ARGUMENT, "CONVOAI_PROFILES": profiles, **extra}  # headless: confirm=true


async def _ok(client: Client, name: str, args: dict[str, Any]) -> dict[str, Any]:
    result = await client.call_tool(name, args)
    assert not result.is_error, error_text(result)
    data: dict[str, Any] | None = result.structured_content
    assert data is not None
    return data


def _no_nulls(value: dict[str, Any]) -> dict[str, Any]:
    return {key: item for key, item in value.items() if item is not None}


# ------------------------------------------------------------------------------ start_agent


async def test_start_agent_by_profile_sends_exactly_what_build_join_builds(
    tmp_path: Path,
) -> None:
    async with rig(tmp_path, {**BY_ARGUMENT, **_env(tmp_path)}) as r, Client(r.server) as client:
        data = await _ok(
            client,
            "start_agent",
            {
                "channel": "room-p",
                "profile": "support",
                "greeting": "Hello from the test",
                "tts_voice": "pNInz6obpgDQGcFmaJgB",
                "asr_language": "de-DE",
                "template_variables": {"customer": "Ann"},
            },
        )
        received = r.sandbox.state.agents[data["agent_id"]].config
    assert r.settings.profiles is not None
    expected = build_join(
        r.settings.profiles.get("support"),
        Overrides(
            greeting="Hello from the test",
            voice="pNInz6obpgDQGcFmaJgB",
            language="de-DE",
            template_variables={"customer": "Ann"},
        ),
        channel="room-p",
        token=received.properties["token"],
        agent_uid="1001",
        remote_uids=["1002"],
        app_id=DEMO_CREDENTIALS.app_id,
    )
    assert received.properties == _no_nulls(expected.properties)
    assert received.presets == [] and expected.preset is None
    # the overrides landed where the profile's vendors take them; the keys went along
    props = received.properties
    assert props["tts"]["params"]["voice_id"] == "pNInz6obpgDQGcFmaJgB"
    assert props["asr"]["language"] == props["turn_detection"]["language"] == "de-DE"
    assert props["llm"]["template_variables"] == {"company": "Acme", "customer": "Ann"}
    assert props["llm"]["api_key"] == ENV["ANTHROPIC_API_KEY"]
    verify_token(
        props["token"],
        DEMO_CREDENTIALS.app_certificate,
        app_id=DEMO_CREDENTIALS.app_id,
        channel="room-p",
        uid="1001",
    )
    assert all(secret not in json.dumps(data) for secret in SECRETS)


async def test_a_presets_profile_sends_its_preset_list_and_no_null_stages(
    tmp_path: Path,
) -> None:
    async with rig(tmp_path, _env(tmp_path, default="hosted")) as r, Client(r.server) as client:
        data = await _ok(client, "start_agent", {"channel": "room-h"})  # the file's default
        received = r.sandbox.state.agents[data["agent_id"]].config
    assert received.presets == ["deepgram_nova_3", "openai_gpt_4o_mini", "minimax_speech_2_6_turbo"]
    assert not {"llm", "tts", "asr"} & set(received.properties)


async def test_without_a_profile_file_start_agent_behaves_as_before(tmp_path: Path) -> None:
    async with rig(tmp_path) as r, Client(r.server) as client:
        assert r.settings.profiles is None
        data = await _ok(client, "start_agent", {"channel": "room-plain"})
        received = r.sandbox.state.agents[data["agent_id"]].config
        refused = await client.call_tool("start_agent", {"channel": "x", "profile": "support"})
        listed = await _ok(client, "list_profiles", {})
        schema = {t.name: t.input_schema for t in (await client.list_tools()).tools}
        resources = [str(res.uri) for res in (await client.list_resources()).resources]
    assert received.presets  # the sandbox's configured presets, as before
    assert "no agent profiles" in error_text(refused)
    assert "list_profiles" not in (r.server.instructions or "")
    assert listed["profiles"] == [] and listed["default"] is None
    assert "convoai://profiles" not in resources
    assert "profile" not in schema["start_agent"]["properties"]
    assert "template_variables" not in schema["call"]["properties"]


async def test_a_bad_override_is_refused_before_anything_is_sent(tmp_path: Path) -> None:
    async with rig(tmp_path, {**BY_ARGUMENT, **_env(tmp_path)}) as r, Client(r.server) as client:
        cases: list[tuple[dict[str, Any], str]] = [
            ({"profile": "hosted", "tts_voice": "alloy"}, "cannot take a voice"),
            ({"profile": "support", "asr_language": "xx-YY"}, "unknown language"),
            ({"profile": "hosted", "template_variables": {"a": "b"}}, "need an llm stage"),
            ({"profile": "suport"}, "did you mean 'support'"),
            ({"template_variables": {"a": "b"}}, "needs a profile"),
        ]
        for args, message in cases:
            result = await client.call_tool("start_agent", {"channel": "room-x", **args})
            assert message in error_text(result), args
        placed = await client.call_tool(
            "call", {"to_number": CALLEE, "profile": "hosted", "confirm": True}
        )
        assert "cannot place calls" in error_text(placed)
        assert "uses presets" in error_text(placed)
    assert r.sandbox.state.agents == {}


@pytest.mark.parametrize(
    "argument",
    [
        {"llm_url": "https://evil.example/v1/chat/completions"},
        {"tts_vendor": "microsoft"},
        {"llm_model": "gpt-4o"},
        {"presets": ["openai_gpt_4o_mini"]},
        {"pipeline_id": "pipe-1"},
    ],
)
async def test_vendor_arguments_are_refused_together_with_a_profile(
    tmp_path: Path, argument: dict[str, Any]
) -> None:
    """Keys stay with the profile that names them (issue 10, D1): a model cannot point the
    profile's key at another URL or vendor, whether it names the profile or the default does."""
    async with rig(tmp_path, _env(tmp_path, default="support")) as r, Client(r.server) as client:
        named = await client.call_tool(
            "start_agent", {"channel": "room-k", "profile": "support", **argument}
        )
        by_default = await client.call_tool("start_agent", {"channel": "room-k", **argument})
        placed = await client.call_tool("call", {"to_number": CALLEE, "confirm": True, **argument})
    [key] = argument
    assert f"{key} cannot be combined with a profile" in error_text(named)
    assert "(the default)" in error_text(by_default)
    assert "cannot be combined" in error_text(placed)
    assert r.sandbox.state.agents == {}


REALTIME = """
[profiles.realtime]
description = "OpenAI Realtime: speech in, speech out"
[profiles.realtime.mllm]
vendor = "openai_realtime"
api_key = "${OPENAI_API_KEY}"
model = "gpt-realtime"
voice = "marin"

[profiles.console]
description = "The pipeline made in the Agora console"
pipeline_id = "pipe-42"
"""


async def test_an_mllm_profile_and_a_pipeline_profile_start_as_built(tmp_path: Path) -> None:
    env = {"OPENAI_API_KEY": "sk-openai-profile-000444", **ENV}
    env["CONVOAI_PROFILES"] = str(_file(tmp_path, REALTIME))
    async with rig(tmp_path, env) as r, Client(r.server) as client:
        realtime = await _ok(
            client,
            "start_agent",
            {"channel": "room-rt", "profile": "realtime", "tts_voice": "cedar"},
        )
        console = await _ok(client, "start_agent", {"channel": "room-pl", "profile": "console"})
        received = {
            key: r.sandbox.state.agents[data["agent_id"]].config
            for key, data in (("realtime", realtime), ("console", console))
        }
    assert received["realtime"].mllm is True
    mllm = received["realtime"].properties["mllm"]
    assert (mllm["enable"], mllm["params"]["voice"]) == (True, "cedar")
    assert received["console"].pipeline_id == "pipe-42"
    assert not {"llm", "tts", "mllm"} & set(received["console"].properties)


# ------------------------------------------------------------------------------------- call


async def test_call_by_profile_sends_exactly_what_build_call_builds(tmp_path: Path) -> None:
    async with rig(tmp_path, {**BY_ARGUMENT, **_env(tmp_path)}) as r, Client(r.server) as client:
        placed = await _ok(
            client,
            "call",
            {
                "to_number": CALLEE,
                "profile": "support",
                "system_prompt": "Confirm the appointment.",
                "confirm": True,
            },
        )
        received = r.sandbox.state.agents[placed["agent_id"]].config
        record = await _ok(client, "get_call", {"agent_id": placed["agent_id"]})
    assert r.settings.profiles is not None
    expected = build_call(
        r.settings.profiles.get("support"),
        Overrides(system_prompt="Confirm the appointment."),
        channel=placed["channel"],
        token=received.properties["token"],
        agent_uid="1001",
        remote_uids=["1002"],
        app_id=DEMO_CREDENTIALS.app_id,
    )
    assert received.properties == _no_nulls(expected.properties)
    assert received.properties["llm"]["system_messages"] == [
        {"role": "system", "content": "Confirm the appointment."}
    ]
    assert (record["to_number"], record["from_number"]) == (CALLEE, OUTBOUND)


# ----------------------------------------------------------------- list_profiles, resource


async def test_list_profiles_and_the_resource_show_the_profiles_without_secrets(
    tmp_path: Path,
) -> None:
    async with rig(tmp_path, _env(tmp_path, default="support")) as r, Client(r.server) as client:
        listed = await _ok(client, "list_profiles", {})
        resource = await read_json(client, "convoai://profiles")
        tools = {t.name: t for t in (await client.list_tools()).tools}
        shown = json.dumps(listed) + json.dumps(resource) + str(tools)
    assert listed == resource
    assert listed["default"] == "support"
    assert "list_profiles" in (r.server.instructions or "")
    by_name = {p["name"]: p for p in listed["profiles"]}
    support = by_name["support"]
    assert support["stages"] == {"llm": "anthropic", "tts": "elevenlabs", "asr": "deepgram"}
    assert (support["voice"], support["voice_field"]) == ("21m00Tcm4TlvDq8ikWAM", "voice_id")
    assert (support["callable"], support["default"]) == (True, True)
    assert by_name["hosted"]["callable"] is False
    assert tools["list_profiles"].annotations is not None
    assert tools["list_profiles"].annotations.read_only_hint is True
    # the profile argument is an enum of the names, each described
    for tool in ("start_agent", "call"):
        entry = tools[tool].input_schema["properties"]["profile"]
        assert entry["enum"] == ["support", "hosted", None]
        assert "support (default): English support line" in entry["description"]
        assert "hosted: Hosted presets only" in entry["description"]
    assert all(secret not in shown for secret in SECRETS)


# ------------------------------------------------------------------------------ start-up


def test_profiles_come_from_the_per_user_file_when_present(tmp_path: Path) -> None:
    environ = {**ENV, "HOME": str(tmp_path), "XDG_CONFIG_HOME": str(tmp_path / "cfg")}
    assert Settings.from_env(environ, require_credentials=False).profiles is None
    path = default_profiles_path(environ)
    path.parent.mkdir(parents=True)
    path.write_text(PROFILES)
    found = Settings.from_env(environ, require_credentials=False).profiles
    assert found is not None and found.names() == ["support", "hosted"]
    off = {**environ, "CONVOAI_PROFILES": "none"}
    assert Settings.from_env(off, require_credentials=False).profiles is None


def test_profile_secrets_join_the_redactor(tmp_path: Path) -> None:
    from convoai_mcp.redact import settings_redactor

    settings = Settings.from_env(_env(tmp_path), require_credentials=False)
    redactor = settings_redactor(settings)
    assert redactor.mask_known(" ".join(SECRETS)).split() == ["***"] * 3


@pytest.fixture
def root_logging() -> Iterator[None]:
    """main() installs its stderr handler on the root logger: put the test's back after."""
    root = logging.getLogger()
    handlers, level = list(root.handlers), root.level
    try:
        yield
    finally:
        root.handlers[:] = handlers
        root.setLevel(level)


@pytest.mark.usefixtures("root_logging")
@pytest.mark.parametrize(
    ("text", "named"),
    [
        ('[profiles.a]\nllm = { vendor = "nope" }\n', "profile 'a', key 'llm.vendor'"),
        ("[profiles.a\n", "not valid TOML"),
        (
            '[profiles.a.llm]\nvendor = "anthropic"\napi_key = "${MISSING_KEY_X}"\n',
            "MISSING_KEY_X",
        ),
    ],
)
def test_a_broken_profile_file_stops_the_server_with_one_line(
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
    text: str,
    named: str,
) -> None:
    path = tmp_path / "broken.toml"
    path.write_text(text)
    for name in [n for n in os.environ if n.startswith(("AGORA_", "CONVOAI_"))]:
        monkeypatch.delenv(name)
    monkeypatch.setenv("CONVOAI_PROFILES", str(path))
    assert main(["--sandbox"]) == 2
    err = capsys.readouterr().err
    lines = [line for line in err.splitlines() if line.strip()]
    assert len(lines) == 1, err
    assert lines[0].startswith("convoai-mcp: configuration error: ")
    assert str(path) in lines[0] and named in lines[0]


@pytest.mark.slow
def test_check_names_the_profiles_and_refuses_a_broken_file(tmp_path: Path) -> None:
    def check(path: Path) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [sys.executable, "-m", "convoai_mcp", "check", "--sandbox"],
            env=subprocess_env(**ENV, CONVOAI_PROFILES=str(path)),
            cwd=str(REPO),
            capture_output=True,
            text=True,
            timeout=120,
            check=False,
        )

    good = check(_file(tmp_path, default="support"))
    assert good.returncode == 0, good.stdout + good.stderr
    assert "  profiles: support, hosted (from " in good.stdout
    assert ", default support)" in good.stdout
    assert all(secret not in good.stdout + good.stderr for secret in SECRETS)
    broken = tmp_path / "broken.toml"
    broken.write_text('[profiles.a]\ntts = { vendor = "elevenlab" }\n')
    bad = check(broken)
    assert bad.returncode == 2
    [line] = bad.stderr.strip().splitlines()
    assert line.startswith(f"convoai-mcp: check failed: configuration error: {broken}: ")
    assert "did you mean 'elevenlabs'" in line
