"""list_agents filters by several states at once (issue 12), as the official SDK allows: the
client sends them the way the SDK documents (``state=1,2``: numbers, comma-separated, in one
parameter; the request contract is in tests/test_contract_requests.py) and the emulator filters
accordingly."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from _server_helpers import error_text, rig
from mcp import Client

from convoai_mcp._resources import _state_param
from convoai_mcp.errors import ValidationError
from convoai_mcp.models import AgentStatus


async def _ok(client: Client, name: str, args: dict[str, Any]) -> dict[str, Any]:
    result = await client.call_tool(name, args)
    assert not result.is_error, error_text(result)
    data: dict[str, Any] | None = result.structured_content
    assert data is not None
    return data


@pytest.mark.parametrize(
    ("state", "query"),
    [
        (None, None),
        ("RUNNING", "2"),
        (2, "2"),
        (AgentStatus.STOPPED, "4"),
        (["STARTING", "RUNNING"], "1,2"),
        ([AgentStatus.FAILED, "idle", 2, "FAILED"], "6,0,2"),  # order kept, repeats dropped
        ("RUNNING,STOPPED", "2,4"),
        ("0,1", "0,1"),
    ],
)
def test_the_state_filter_is_sent_as_the_sdk_documents(state: Any, query: str | None) -> None:
    assert _state_param(state) == query


@pytest.mark.parametrize("state", ["RUNING", ["RUNNING", "DONE"], [], " , "])
def test_a_wrong_state_is_refused_before_sending(state: Any) -> None:
    with pytest.raises(ValidationError, match="state"):
        _state_param(state)


async def test_list_agents_takes_several_states(tmp_path: Path) -> None:
    async with rig(tmp_path) as r, Client(r.server) as client:
        running = (await _ok(client, "start_agent", {"channel": "states-1"}))["agent_id"]
        stopped = (await _ok(client, "start_agent", {"channel": "states-2"}))["agent_id"]
        await _ok(client, "stop_agent", {"agent_id": stopped})
        r.sandbox.state.advance(30)  # past STOPPING

        async def ids(**filters: Any) -> set[str]:
            page = await _ok(client, "list_agents", filters)
            return {a["agent_id"] for a in page["agents"]} & {running, stopped}

        assert await ids() == {running, stopped}
        assert await ids(states=["RUNNING"]) == {running}
        assert await ids(states=["stopped"]) == {stopped}  # either case
        assert await ids(states=["RUNNING", "STOPPED"]) == {running, stopped}
        assert await ids(state="RUNNING", states=["STOPPED"]) == {running, stopped}
        assert await ids(states=["STARTING", "FAILED"]) == set()
        refused = await client.call_tool("list_agents", {"states": ["DONE"]})
        assert "states" in error_text(refused)
        empty = await client.call_tool("list_agents", {"states": []})
        assert "states" in error_text(empty)
