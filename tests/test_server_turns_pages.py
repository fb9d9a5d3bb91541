"""get_turns takes a page (issue 12): ``offset`` / ``cursor`` + ``limit``, with a
``next_cursor``; without them it answers as before (the most recent ``limit`` turns, the
summary of the whole conversation). Through the MCP Client and the emulator."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from _server_helpers import error_text, rig
from mcp import Client


async def ok(client: Client, name: str, args: dict[str, Any]) -> dict[str, Any]:
    result = await client.call_tool(name, args)
    assert not result.is_error, error_text(result)
    data: dict[str, Any] = result.structured_content or {}
    return data


async def test_get_turns_pages_through_a_conversation(tmp_path: Path) -> None:
    async with rig(tmp_path) as r, Client(r.server) as client:
        agent_id = (await ok(client, "start_agent", {"channel": "pages", "greeting": "Hi"}))[
            "agent_id"
        ]
        for n in range(6):
            r.sandbox.state.advance(5)
            r.sandbox.state.user_says(agent_id, f"question {n}")
        r.sandbox.state.advance(10)
        whole = await ok(client, "get_turns", {"agent_id": agent_id})
        total = whole["total"]
        assert total >= 7 and len(whole["turns"]) == total
        assert (whole["offset"], whole["next_cursor"]) == (0, None)

        latest = await ok(client, "get_turns", {"agent_id": agent_id, "limit": 2})
        assert latest["turns"] == whole["turns"][-2:]  # as before: the most recent
        assert (latest["offset"], latest["next_cursor"]) == (total - 2, None)
        assert latest["summary"] == whole["summary"] and latest["total"] == total

        seen: list[Any] = []
        page = await ok(client, "get_turns", {"agent_id": agent_id, "limit": 3, "offset": 0})
        pages = 1
        while True:
            assert page["offset"] == len(seen)
            seen += page["turns"]
            if page["next_cursor"] is None:
                break
            page = await ok(
                client,
                "get_turns",
                {"agent_id": agent_id, "limit": 3, "cursor": page["next_cursor"]},
            )
            pages += 1
        assert seen == whole["turns"] and pages == -(-total // 3)

        past = await client.call_tool("get_turns", {"agent_id": agent_id, "offset": total + 1})
        assert f"has {total} turns" in error_text(past)
        both = await client.call_tool(
            "get_turns", {"agent_id": agent_id, "offset": 0, "cursor": "t3"}
        )
        assert "offset and cursor" in error_text(both)
        forged = await client.call_tool("get_turns", {"agent_id": agent_id, "cursor": "x; 1"})
        assert forged.is_error and "cursor" in error_text(forged)
