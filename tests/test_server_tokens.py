"""mint_token hands out credentials (issue 10 D10): truthful annotations, no tokens for the
agents' uids or the channels of calls, a capped lifetime, and the operator can turn it off."""

from __future__ import annotations

from pathlib import Path

from _server_helpers import CALLEE, error_text, rig
from mcp import Client


async def test_mint_token_is_not_annotated_read_only(tmp_path: Path) -> None:
    async with rig(tmp_path) as r, Client(r.server) as client:
        tool = next(t for t in (await client.list_tools()).tools if t.name == "mint_token")
    assert tool.annotations is not None
    assert tool.annotations.read_only_hint is False
    assert tool.annotations.open_world_hint is True
    assert "credential" in (tool.description or "")


async def test_no_token_for_an_agents_uid(tmp_path: Path) -> None:
    async with rig(tmp_path) as r, Client(r.server) as client:
        configured = await client.call_tool("mint_token", {"channel": "room", "uid": "1001"})
        assert "uid of this server's voice agents" in error_text(configured)
        started = await client.call_tool("start_agent", {"channel": "room", "agent_uid": "77"})
        assert not started.is_error, error_text(started)
        own = await client.call_tool("mint_token", {"channel": "elsewhere", "uid": "77"})
        assert "uid of this server's voice agents" in error_text(own)
        user = await client.call_tool("mint_token", {"channel": "room", "uid": "1002"})
        assert not user.is_error, error_text(user)


async def test_no_token_for_the_channel_of_a_live_call(tmp_path: Path) -> None:
    env = {"CONVOAI_CONFIRM": "none"}
    async with rig(tmp_path, env) as r, Client(r.server) as client:
        placed = await client.call_tool("call", {"to_number": CALLEE, "channel": "line-1"})
        assert not placed.is_error, error_text(placed)
        refused = await client.call_tool("mint_token", {"channel": "line-1", "uid": "5000"})
        assert "live phone call" in error_text(refused)
        agent_id = (placed.structured_content or {})["agent_id"]
        await client.call_tool("hangup", {"agent_id": agent_id})
        after = await client.call_tool("mint_token", {"channel": "line-1", "uid": "5000"})
        assert not after.is_error, error_text(after)


async def test_the_lifetime_is_capped(tmp_path: Path) -> None:
    async with rig(tmp_path) as r, Client(r.server) as client:
        long = await client.call_tool("mint_token", {"channel": "c", "lifetime_seconds": 86400})
        assert "at most 3600" in error_text(long)
        ok = await client.call_tool("mint_token", {"channel": "c", "lifetime_seconds": 3600})
        assert not ok.is_error
    async with (
        rig(tmp_path, {"CONVOAI_TOKEN_MAX_LIFETIME": "600"}) as r,
        Client(r.server) as client,
    ):
        capped = await client.call_tool("mint_token", {"channel": "c", "lifetime_seconds": 601})
        assert "at most 600" in error_text(capped)


async def test_the_operator_turns_it_off_like_any_tool(tmp_path: Path) -> None:
    for env in ({"CONVOAI_TOOLS_DENY": "mint_token"}, {"CONVOAI_READ_ONLY": "true"}):
        async with rig(tmp_path, env) as r, Client(r.server) as client:
            names = [t.name for t in (await client.list_tools()).tools]
            assert "mint_token" not in names
            assert (await client.call_tool("mint_token", {"channel": "c"})).is_error


async def test_a_uid_with_a_leading_zero_is_refused_before_anything_is_minted(
    tmp_path: Path,
) -> None:
    """'01' is not a canonical RTC uid: a token for it would be for uid 1 (the service refused
    the join that the fuzz test found)."""
    async with rig(tmp_path) as r, Client(r.server) as client:
        minted = await client.call_tool("mint_token", {"channel": "c", "uid": "01"})
        started = await client.call_tool("start_agent", {"channel": "0", "agent_uid": "01"})
        assert not r.sandbox.state.agents
    assert "uid" in error_text(minted) and "agent_uid" in error_text(started)
