"""The one record of "agents we started" (``convoai_mcp.started``): the client records each agent
or call it starts, the MCP server reads the same record and adds how it ended."""

from __future__ import annotations

from pathlib import Path

from _client_helpers import cascading_spec
from _client_helpers import rig as client_rig
from _server_helpers import BY_ARGUMENT, CALLEE, error_text, rig
from mcp import Client

from convoai_mcp.models import MllmConfig
from convoai_mcp.started import (
    END_HUNG_UP,
    END_ON_ITS_OWN,
    END_STOPPED,
    StartedAgent,
    StartedAgents,
)


def _agent(n: int, **fields: object) -> StartedAgent:
    return StartedAgent(f"a{n}", "agent", f"n{n}", "room", "1001", "1002", **fields)  # type: ignore[arg-type]


def test_ended_agents_are_bounded_and_running_ones_kept() -> None:
    now = [100.0]
    record = StartedAgents(max_ended=3, clock=lambda: now[0])
    for n in range(10):
        record.record(_agent(n))
        if n % 2:
            assert record.mark_ended(f"a{n}", END_STOPPED)
    assert [a.agent_id for a in record if a.ended] == ["a5", "a7", "a9"]
    assert all(f"a{n}" in record for n in range(0, 10, 2))
    assert [a.agent_id for a in record.listed(2)][:3] == ["a9", "a8", "a7"]
    ended = record.get("a9")
    assert ended is not None and (ended.ended_at, ended.end_reason) == (100.0, END_STOPPED)
    assert not record.mark_ended("a9", END_ON_ITS_OWN)  # the first end is kept
    assert ended.end_reason == END_STOPPED


def test_the_total_is_bounded_dropping_the_oldest() -> None:
    record = StartedAgents(max_entries=5)
    for n in range(8):
        record.record(_agent(n))
    assert [a.agent_id for a in record] == ["a3", "a4", "a5", "a6", "a7"]


def test_recording_again_keeps_what_the_client_knew() -> None:
    record = StartedAgents()
    record.record(_agent(1, mllm=True, llm_params={"model": "m"}))
    record.mark_ended("a1", END_HUNG_UP)
    kept = record.record(_agent(1))  # the server records it after the client did
    assert (kept.mllm, kept.llm_params, kept.ended, kept.end_reason) == (
        True,
        {"model": "m"},
        False,
        None,
    )


async def test_the_client_records_agents_and_calls_it_starts() -> None:
    async with client_rig("app") as r:
        started = await r.client.agents.launch(cascading_spec(name="rec", channel="rec-room"))
        mllm = await r.client.agents.launch(
            cascading_spec(
                name="rt", llm=None, tts=None, mllm=MllmConfig(vendor="openai", api_key="k")
            )
        )
        placed = await r.client.calls.dial(
            cascading_spec(name="rec-call", channel="call-9"),
            to_number="+14155550123",
            from_number="+14155550100",
        )
    agent = r.client.started.get(started.agent_id)
    assert agent is not None
    assert (agent.kind, agent.name, agent.channel, agent.mllm) == (
        "agent",
        "rec",
        "rec-room",
        False,
    )
    assert agent.llm_params == {"model": "gpt-4o-mini"}
    assert agent.user_uid and agent.agent_uid and not agent.ended
    realtime = r.client.started.get(mllm.agent_id)
    assert realtime is not None and realtime.mllm
    call = r.client.started.get(placed.agent_id)
    assert call is not None
    assert (call.kind, call.to_number, call.from_number) == ("call", "+14155550123", "+14155550100")


async def test_the_server_reads_the_clients_record_and_notes_how_agents_ended(
    tmp_path: Path,
) -> None:
    async with rig(tmp_path, BY_ARGUMENT) as r, Client(r.server) as client:
        result = await client.call_tool("start_agent", {"channel": "shared-record"})
        assert not result.is_error, error_text(result)
        assert result.structured_content is not None
        agent_id = result.structured_content["agent_id"]
        placed = await client.call_tool("call", {"to_number": CALLEE, "confirm": True})
        assert not placed.is_error, error_text(placed)
        assert placed.structured_content is not None
        call_id = placed.structured_content["agent_id"]
        rt = r.server.runtime
        assert rt.started is rt.client.started  # one record, the client's
        stop = await client.call_tool("stop_agent", {"agent_id": agent_id})
        assert not stop.is_error, error_text(stop)
        hung = await client.call_tool("hangup", {"agent_id": call_id})
        assert not hung.is_error, error_text(hung)
        assert (rt.agents[agent_id].ended, rt.agents[agent_id].end_reason) == (True, END_STOPPED)
        assert rt.agents[agent_id].ended_at is not None
        assert rt.agents[call_id].end_reason == END_HUNG_UP
