"""list_agents and list_calls take a time window (issue 12: from_time / to_time, as the SDK
allows), against the emulator with its clock moved between creations."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from _server_helpers import BY_ARGUMENT, CALLEE, error_text, rig
from mcp import Client


async def _ok(client: Client, name: str, args: dict[str, Any]) -> dict[str, Any]:
    result = await client.call_tool(name, args)
    assert not result.is_error, error_text(result)
    data: dict[str, Any] | None = result.structured_content
    assert data is not None
    return data


async def test_list_agents_and_list_calls_take_a_time_window(tmp_path: Path) -> None:
    async with rig(tmp_path, BY_ARGUMENT) as r, Client(r.server) as client:
        state = r.sandbox.state
        first = (await _ok(client, "start_agent", {"channel": "window-1"}))["agent_id"]
        call_1 = (await _ok(client, "call", {"to_number": CALLEE, "confirm": True}))["agent_id"]
        state.advance(600)
        second = (await _ok(client, "start_agent", {"channel": "window-2"}))["agent_id"]
        call_2 = (await _ok(client, "call", {"to_number": CALLEE, "confirm": True}))["agent_id"]
        split = int(state.agents[second].created_at)
        assert int(state.agents[first].created_at) < split - 1

        async def agents(**window: int) -> list[str]:
            page = await _ok(client, "list_agents", window)
            return [a["agent_id"] for a in page["agents"] if a["agent_id"] in (first, second)]

        async def calls(**window: int) -> list[str]:
            page = await _ok(client, "list_calls", {"type": "outbound", **window})
            return [c["agent_id"] for c in page["calls"]]

        assert await agents() == [second, first]
        assert await agents(from_time=split) == [second]
        assert await agents(from_time=split - 3600, to_time=split - 1) == [first]
        assert await calls(from_time=split) == [call_2]
        assert await calls(to_time=split - 1) == [call_1]
        refused = await client.call_tool("list_agents", {"from_time": -1})
    assert "from_time" in error_text(refused)
