"""get_history and get_turns: the transcript and the latency as tools, for agents and calls,
during the conversation and (from the archive) after it. Through the MCP Client and the emulator."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from _server_helpers import CALLEE, error_text, rig
from mcp import Client

from convoai_mcp.server.results import TurnResult
from convoai_mcp.server.tools._common import turns_summary


async def ok(client: Client, name: str, args: dict[str, Any]) -> dict[str, Any]:
    result = await client.call_tool(name, args)
    assert not result.is_error, error_text(result)
    data: dict[str, Any] = result.structured_content or {}
    return data


async def test_history_and_turns_of_a_running_then_stopped_agent(tmp_path: Path) -> None:
    async with rig(tmp_path) as r, Client(r.server) as client:
        started = await ok(client, "start_agent", {"channel": "room", "greeting": "Hello!"})
        agent_id = started["agent_id"]
        r.sandbox.state.advance(5)
        r.sandbox.state.user_says(agent_id, "What are your opening hours?")
        r.sandbox.state.advance(10)
        live = await ok(client, "get_history", {"agent_id": agent_id})
        turns = await ok(client, "get_turns", {"agent_id": agent_id})
        await ok(client, "stop_agent", {"agent_id": agent_id})
        archived = await ok(client, "get_history", {"agent_id": agent_id, "limit": 1})
        archived_turns = await ok(client, "get_turns", {"agent_id": agent_id})
    assert live["source"] == "service"
    assert [m["role"] for m in live["entries"]][:2] == ["assistant", "user"]
    assert live["entries"][1]["untrusted_text"] == "What are your opening hours?"
    assert live["total_entries"] == len(live["entries"]) >= 3
    assert turns["total"] >= 2 and turns["summary"]["measured_turns"] >= 1
    summary = turns["summary"]
    assert summary["worst_e2e_ms"] >= summary["median_e2e_ms"] > 0
    assert summary["slowest_stage"] in summary["stage_median_ms"]
    assert archived["source"] == "archive"
    assert archived["total_entries"] == live["total_entries"]
    assert len(archived["entries"]) == 1
    assert archived["entries"][0] == live["entries"][-1]
    assert archived_turns["total"] == turns["total"]  # the service keeps turns for 7 days


async def test_history_of_a_call(tmp_path: Path) -> None:
    async with rig(tmp_path, {"CONVOAI_CONFIRM": "none"}) as r, Client(r.server) as client:
        placed = await ok(client, "call", {"to_number": CALLEE, "greeting": "Hi, it's Acme."})
        r.sandbox.state.advance(10)
        history = await ok(client, "get_history", {"agent_id": placed["agent_id"]})
    assert history["entries"][0]["untrusted_text"] == "Hi, it's Acme."


async def test_an_unknown_agent_is_a_clear_error(tmp_path: Path) -> None:
    async with rig(tmp_path) as r, Client(r.server) as client:
        result = await client.call_tool("get_turns", {"agent_id": "NOSUCHAGENT"})
    text = error_text(result)
    assert text.startswith("get_turns failed: HTTP 404") and "Next:" in text


def test_the_summary_names_the_slowest_stage_and_the_worst_turn() -> None:
    turns = [
        TurnResult(turn_id=1, e2e_latency_ms=800, stages_ms={"asr": 100, "llm": 500}),
        TurnResult(turn_id=2, e2e_latency_ms=1500, stages_ms={"asr": 300, "llm": 900}),
        TurnResult(turn_id=3, e2e_latency_ms=None, stages_ms={}),
        TurnResult(turn_id=4, e2e_latency_ms=1000, stages_ms={"asr": 200, "llm": 600}),
    ]
    summary = turns_summary(turns)
    assert (summary.measured_turns, summary.median_e2e_ms) == (3, 1000)
    assert (summary.worst_e2e_ms, summary.worst_turn_id) == (1500, 2)
    assert summary.slowest_stage == "llm"
    assert summary.stage_median_ms == {"asr": 200, "llm": 600}
    empty = turns_summary([])
    assert empty.median_e2e_ms is None and empty.slowest_stage is None
