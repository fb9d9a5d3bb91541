"""The tools, driven in memory through the SDK's Client against the real emulator."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from _server_helpers import BY_ARGUMENT, CALLEE, OUTBOUND, error_text, read_json, rig
from mcp import Client

from convoai_mcp.builders import ASR_PRESETS, LLM_PRESETS, TTS_PRESETS
from convoai_mcp.sandbox import DEMO_CREDENTIALS, Fault
from convoai_mcp.server.tools import TOOL_NAMES
from convoai_mcp.tokens import verify_token

READ_ONLY = {
    "list_numbers",
    "get_agent",
    "get_history",
    "get_turns",
    "list_agents",
    "get_call",
    "list_calls",
    "list_profiles",
    "wait",
    "get_campaign",
    "list_campaigns",
}
"""mint_token is not: it hands out credentials (issue 10 D10 changed its annotations)."""
DESTRUCTIVE = {"hangup", "stop_agent", "update_agent", "cancel_campaign"}


class Progress:
    """Collects progress notifications of one call."""

    def __init__(self) -> None:
        self.events: list[tuple[float, float | None, str | None]] = []

    async def __call__(self, progress: float, total: float | None, message: str | None) -> None:
        self.events.append((progress, total, message))


async def call_ok(client: Client, name: str, args: dict[str, Any]) -> dict[str, Any]:
    result = await client.call_tool(name, args)
    assert not result.is_error, error_text(result)
    data: dict[str, Any] | None = result.structured_content
    assert data is not None
    return data


# ------------------------------------------------------------------------------- tool list


async def test_tool_list_has_every_tool_in_a_stable_order(tmp_path: Path) -> None:
    async with rig(tmp_path) as r, Client(r.server) as client:
        first = [t.name for t in (await client.list_tools()).tools]
        second = [t.name for t in (await client.list_tools()).tools]
    assert first == list(TOOL_NAMES) == second
    assert len(TOOL_NAMES) == 24  # get_history + get_turns (issue 10); list_profiles, wait (12)
    # and the six campaign tools (issue 14)


async def test_every_tool_has_a_described_schema_output_schema_and_true_annotations(
    tmp_path: Path,
) -> None:
    async with rig(tmp_path) as r, Client(r.server) as client:
        tools = (await client.list_tools()).tools
    for tool in tools:
        assert tool.description and len(tool.description) > 60, tool.name
        assert "\n    " not in tool.description, "descriptions are dedented"
        assert "\n" not in tool.description.replace("\n\n", ""), "one line per paragraph"
        schema = tool.input_schema
        assert schema["type"] == "object", tool.name
        for prop, spec in schema.get("properties", {}).items():
            assert spec.get("description"), f"{tool.name}.{prop} has no description"
        assert tool.output_schema is not None, tool.name
        assert tool.output_schema["type"] == "object"
        ann = tool.annotations
        assert ann is not None, tool.name
        assert ann.read_only_hint is (tool.name in READ_ONLY), tool.name
        assert ann.destructive_hint is (tool.name in DESTRUCTIVE), tool.name
        assert ann.idempotent_hint is not None
        # list_profiles reads the server's own configuration: the only closed-world tool
        assert ann.open_world_hint is (tool.name != "list_profiles"), tool.name
        assert ann.title


async def test_input_schemas_constrain_the_fields(tmp_path: Path) -> None:
    async with rig(tmp_path) as r, Client(r.server) as client:
        tools = {t.name: t.input_schema for t in (await client.list_tools()).tools}
    start = tools["start_agent"]
    assert start["required"] == ["channel"]
    channel = start["properties"]["channel"]
    assert channel["maxLength"] == 64
    assert "pattern" in channel
    presets = start["properties"]["presets"]["anyOf"][0]
    # The schema offers exactly the presets the builder knows how to place (one list each).
    assert set(presets["items"]["enum"]) == ASR_PRESETS | LLM_PRESETS | TTS_PRESETS
    assert tools["call"]["properties"]["presets"]["anyOf"][0] == presets
    assert tools["call"]["properties"]["to_number"]["pattern"] == r"^\+[1-9][0-9]{6,14}$"
    assert tools["speak"]["properties"]["text"]["maxLength"] == 512
    priority = tools["speak"]["properties"]["priority"]["anyOf"][0]
    assert priority["enum"] == ["INTERRUPT", "APPEND", "IGNORE"]
    assert tools["list_agents"]["properties"]["limit"]["maximum"] == 100
    assert "cursor" in tools["list_calls"]["properties"]


# ------------------------------------------------------------------------------- agents


async def test_start_agent_with_only_a_channel_returns_a_valid_join_token(
    tmp_path: Path,
) -> None:
    async with rig(tmp_path) as r, Client(r.server) as client:
        data = await call_ok(client, "start_agent", {"channel": "room-1"})
    assert data["agent_id"]
    assert data["status"] in {"STARTING", "RUNNING"}
    assert (data["channel"], data["agent_uid"], data["user_uid"]) == ("room-1", "1001", "1002")
    assert data["app_id"] == DEMO_CREDENTIALS.app_id
    parsed = verify_token(
        data["user_token"],
        DEMO_CREDENTIALS.app_certificate,
        app_id=DEMO_CREDENTIALS.app_id,
        channel="room-1",
        uid="1002",
    )
    assert parsed.expire > 0
    assert DEMO_CREDENTIALS.app_certificate not in str(data)


async def test_start_agent_waits_for_running_and_reports_progress(tmp_path: Path) -> None:
    progress = Progress()
    async with rig(tmp_path, start_delay=0.4) as r, Client(r.server) as client:
        result = await client.call_tool(
            "start_agent",
            {"channel": "room-2", "wait_until_running": True, "timeout_seconds": 10},
            progress_callback=progress,
        )
    assert not result.is_error, error_text(result)
    data = result.structured_content
    assert data is not None
    assert data["status"] == "RUNNING"
    assert data["waited_seconds"] is not None
    assert progress.events, "progress notifications were sent while waiting"
    assert all(total == 10 for _, total, _ in progress.events)
    assert any("STARTING" in (message or "") for _, _, message in progress.events)


async def test_start_agent_stops_waiting_at_the_timeout(tmp_path: Path) -> None:
    async with rig(tmp_path, start_delay=60) as r, Client(r.server) as client:
        data = await call_ok(
            client,
            "start_agent",
            {"channel": "room-3", "wait_until_running": True, "timeout_seconds": 1},
        )
    assert data["status"] == "STARTING"
    assert data["waited_seconds"] >= 1


async def test_speak_think_interrupt_and_the_transcript(tmp_path: Path) -> None:
    async with rig(tmp_path) as r, Client(r.server) as client:
        agent = await call_ok(client, "start_agent", {"channel": "room-4"})
        agent_id = agent["agent_id"]
        spoken = await call_ok(
            client, "speak", {"agent_id": agent_id, "text": "Hello there", "priority": "APPEND"}
        )
        assert spoken["agent_id"] == agent_id
        assert spoken["channel"] == "room-4"
        thought = await call_ok(
            client,
            "think",
            {"agent_id": agent_id, "text": "Say hi", "on_listening_action": "inject"},
        )
        assert thought["agent_id"] == agent_id
        stopped_talking = await call_ok(client, "interrupt", {"agent_id": agent_id})
        assert stopped_talking["agent_id"] == agent_id
        history = await read_json(client, f"convoai://agents/{agent_id}/history")
    contents = [entry["untrusted_text"] for entry in history["entries"]]
    assert "Hello there" in contents
    assert "Say hi" in contents
    assert history["source"] == "service"


async def test_speak_refuses_more_than_512_bytes_before_sending(tmp_path: Path) -> None:
    async with rig(tmp_path) as r, Client(r.server) as client:
        agent = await call_ok(client, "start_agent", {"channel": "room-5"})
        text = "é" * 300  # 300 characters, 600 bytes
        result = await client.call_tool("speak", {"agent_id": agent["agent_id"], "text": text})
        message = error_text(result)
        history = await read_json(client, f"convoai://agents/{agent['agent_id']}/history")
    assert "512" in message
    assert "Next:" in message
    assert text not in [entry["untrusted_text"] for entry in history["entries"]]


@pytest.mark.parametrize("uid", ["01", "007"])
async def test_a_uid_with_a_leading_zero_is_refused_before_sending(
    tmp_path: Path, uid: str
) -> None:
    """'01' is not the uid 1 written differently: the join token would be minted for 1 and the
    service would refuse the join (found by the fuzz suite)."""
    async with rig(tmp_path) as r, Client(r.server) as client:
        result = await client.call_tool("start_agent", {"channel": "room-6", "agent_uid": uid})
        refused = await client.call_tool("start_agent", {"channel": "room-6", "user_uid": uid})
        counts = r.sandbox.state.summary()
    # refused by the input schema, before anything was sent (not by the service: no "HTTP 400")
    for answer in (result, refused):
        assert "HTTP" not in error_text(answer)
        assert "uid" in error_text(answer)
    assert counts["agents"] == 0, counts


async def test_get_list_update_and_stop_an_agent(tmp_path: Path) -> None:
    async with rig(tmp_path) as r, Client(r.server) as client:
        ids = [
            (await call_ok(client, "start_agent", {"channel": f"page-{i}"}))["agent_id"]
            for i in range(3)
        ]
        got = await call_ok(client, "get_agent", {"agent_id": ids[0]})
        assert got["status"] == "RUNNING"
        assert got["channel"] == "page-0"
        first = await call_ok(client, "list_agents", {"limit": 2})
        assert len(first["agents"]) == 2
        assert first["next_cursor"]
        second = await call_ok(client, "list_agents", {"limit": 2, "cursor": first["next_cursor"]})
        listed = {a["agent_id"] for a in first["agents"] + second["agents"]}
        assert set(ids) <= listed
        assert second["next_cursor"] is None
        only = await call_ok(client, "list_agents", {"channel": "page-1"})
        assert [a["agent_id"] for a in only["agents"]] == [ids[1]]

        updated = await call_ok(
            client,
            "update_agent",
            {"agent_id": ids[0], "system_prompt": "Be brief.", "refresh_token": True},
        )
        assert updated["updated"] == ["system_prompt", "token"]
        nothing = await client.call_tool("update_agent", {"agent_id": ids[0]})
        assert "nothing to change" in error_text(nothing)

        ended = await call_ok(client, "stop_agent", {"agent_id": ids[0]})
        assert ended["ended"] is True
        again = await call_ok(client, "stop_agent", {"agent_id": ids[0]})
        assert again["ended"] is True, "stopping a stopped agent succeeds"
        state = await call_ok(client, "get_agent", {"agent_id": ids[0]})
        assert state["status"] in {"STOPPING", "STOPPED"}


# ------------------------------------------------------------------------------- calls


async def test_call_waits_until_answered_then_hangup(tmp_path: Path) -> None:
    progress = Progress()
    async with rig(tmp_path, BY_ARGUMENT, answer_delay=0.3) as r, Client(r.server) as client:
        result = await client.call_tool(
            "call",
            {
                "to_number": CALLEE,
                "system_prompt": "Confirm the appointment.",
                "wait_until_answered": True,
                "confirm": True,
            },
            progress_callback=progress,
        )
        assert not result.is_error, error_text(result)
        placed = result.structured_content
        assert placed is not None
        assert placed["state"] == "answered"
        assert placed["from_number"] == OUTBOUND
        assert progress.events
        call_id = placed["agent_id"]
        record = await call_ok(client, "get_call", {"agent_id": call_id})
        assert (record["to_number"], record["state"]) == (CALLEE, "answered")
        hung = await call_ok(client, "hangup", {"agent_id": call_id})
        assert hung["ended"] is True
        after = await call_ok(client, "get_call", {"agent_id": call_id})
        assert after["state"] == "hangup"
        listed = await call_ok(client, "list_calls", {"number": CALLEE, "type": "outbound"})
        assert [c["agent_id"] for c in listed["calls"]] == [call_id]
        resource = await read_json(client, f"convoai://calls/{call_id}")
        assert resource["to_number"] == CALLEE


async def test_list_numbers_shows_capabilities(tmp_path: Path) -> None:
    async with rig(tmp_path) as r, Client(r.server) as client:
        data = await call_ok(client, "list_numbers", {})
    numbers = {n["phone_number"]: n for n in data["numbers"]}
    assert numbers[OUTBOUND]["outbound"] is True
    assert numbers["+14155550101"]["inbound"] is True
    assert numbers["+14155550101"]["outbound"] is False


async def test_call_to_a_number_off_the_allow_list_sends_nothing_not_even_a_read(
    tmp_path: Path,
) -> None:
    async with rig(tmp_path) as r, Client(r.server) as client:
        # Were the tool to read the phone numbers first, this fault would be the answer.
        r.sandbox.faults.add(Fault(route="numbers.list", kind="status", status=500))
        result = await client.call_tool("call", {"to_number": "+442071234567", "confirm": True})
        r.sandbox.faults.clear()
        calls = await call_ok(client, "list_calls", {})
    text = error_text(result)
    assert "allow-list" in text
    assert "CONVOAI_CALL_ALLOWLIST" in text
    assert calls["calls"] == []


async def test_call_without_an_allow_list_explains_how_to_enable_calls(tmp_path: Path) -> None:
    async with rig(tmp_path, {"CONVOAI_CALL_ALLOWLIST": ""}) as r, Client(r.server) as client:
        result = await client.call_tool("call", {"to_number": CALLEE, "confirm": True})
    assert "CONVOAI_CALL_ALLOWLIST" in error_text(result)


async def test_call_needs_confirmation_when_the_client_cannot_ask(tmp_path: Path) -> None:
    async with rig(tmp_path) as r, Client(r.server) as client:
        refused = await client.call_tool("call", {"to_number": CALLEE})
        calls = await call_ok(client, "list_calls", {})
    text = error_text(refused)
    # the gate (issue 13): the client cannot ask, so the error carries the approval link
    assert "approve" in text and "/approve/" in text
    assert CALLEE in text
    assert calls["calls"] == []


async def test_list_agents_filters_by_state(tmp_path: Path) -> None:
    async with rig(tmp_path) as r, Client(r.server) as client:
        running = (await call_ok(client, "start_agent", {"channel": "s-1"}))["agent_id"]
        stopped = (await call_ok(client, "start_agent", {"channel": "s-2"}))["agent_id"]
        await call_ok(client, "stop_agent", {"agent_id": stopped})
        listed = await call_ok(client, "list_agents", {"state": "RUNNING"})
    ids = [a["agent_id"] for a in listed["agents"]]
    assert running in ids
    assert stopped not in ids


async def test_call_rejects_a_malformed_number_without_echoing_it(tmp_path: Path) -> None:
    async with rig(tmp_path) as r, Client(r.server) as client:
        result = await client.call_tool("call", {"to_number": "0800-CANARY", "confirm": True})
        calls = await call_ok(client, "list_calls", {})
    text = error_text(result)
    assert "Invalid arguments for call" in text
    assert "to_number" in text
    assert "CANARY" not in text
    assert calls["calls"] == []


# ------------------------------------------------------------------------------- tokens


async def test_mint_token_is_verifiable_and_local(tmp_path: Path) -> None:
    async with rig(tmp_path) as r, Client(r.server) as client:
        data = await call_ok(
            client,
            "mint_token",
            {"channel": "room-9", "uid": "42", "role": "subscriber", "lifetime_seconds": 600},
        )
    parsed = verify_token(
        data["token"], DEMO_CREDENTIALS.app_certificate, channel="room-9", uid="42"
    )
    assert parsed.rtc is not None
    assert data["role"] == "subscriber"
    assert data["expires_at"] - parsed.issue_ts == 600


# ------------------------------------------------------------------------------- failures


@pytest.mark.parametrize(
    ("args", "field"),
    [
        ({"channel": "bad/channel"}, "channel"),
        ({"channel": "x" * 65}, "channel"),
        ({"channel": "ok", "agent_uid": "abc"}, "agent_uid"),
        ({"channel": "ok", "presets": ["not_a_preset"]}, "presets"),
        ({"channel": "ok", "idle_timeout": -5}, "idle_timeout"),
        ({}, "channel"),
    ],
)
async def test_bad_input_is_an_actionable_error_and_sends_nothing(
    tmp_path: Path, args: dict[str, Any], field: str
) -> None:
    async with rig(tmp_path) as r, Client(r.server) as client:
        result = await client.call_tool("start_agent", args)
        listed = await call_ok(client, "list_agents", {})
    text = error_text(result)
    assert text.startswith("Invalid arguments for start_agent") or "start_agent" in text
    assert field in text
    assert "call start_agent again" in text
    assert "Traceback" not in text
    assert listed["agents"] == []


async def test_service_errors_carry_the_reason_and_what_to_do(tmp_path: Path) -> None:
    async with rig(tmp_path) as r, Client(r.server) as client:
        r.sandbox.faults.add(
            Fault(route="agents.start", kind="status", status=403, reason="ServiceNotEnabled")
        )
        result = await client.call_tool("start_agent", {"channel": "room-x"})
    text = error_text(result)
    assert "start_agent failed" in text
    assert "403" in text
    assert "ServiceNotEnabled" in text
    assert "Next:" in text
    assert text.startswith("start_agent failed: HTTP 403 ServiceNotEnabled")
    assert "Error executing tool" not in text, "the tool is named once"
    first_line = text.splitlines()[0]
    assert "/v2/projects/" not in first_line and "request id" not in first_line
    assert "Service request: POST /v2/projects/" in text


async def test_unknown_agent_is_a_not_found_error(tmp_path: Path) -> None:
    async with rig(tmp_path) as r, Client(r.server) as client:
        result = await client.call_tool("get_agent", {"agent_id": "NOSUCHAGENT"})
    text = error_text(result)
    assert "404" in text
    assert "Next:" in text


async def test_unreachable_service_is_reported_as_such(tmp_path: Path) -> None:
    async with rig(tmp_path) as r, Client(r.server) as client:
        r.sandbox.faults.add(Fault(route="*", kind="drop"))
        result = await client.call_tool("list_numbers", {})
    text = error_text(result)
    assert "list_numbers failed" in text
    assert "Traceback" not in text


async def test_no_llm_configured_explains_how_to_configure_one(tmp_path: Path) -> None:
    async with rig(tmp_path) as r:
        settings = r.settings.model_copy(update={"presets": (), "llm_url": None})
        from convoai_mcp.server.app import build_server

        server = build_server(settings, client=r.server.runtime.client)
        async with Client(server) as client:
            result = await client.call_tool("start_agent", {"channel": "room-y"})
    text = error_text(result)
    assert "no LLM" in text
    assert "CONVOAI_PRESETS" in text
