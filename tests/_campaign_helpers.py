"""Shared pieces of the campaign tests: a rig whose campaign scheduler runs on the emulator's
clock, and a loop that moves that clock until a campaign reaches a condition."""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator, Callable, Mapping
from pathlib import Path
from typing import Any

import anyio
from _server_helpers import Rig, error_text, rig
from mcp import Client

from convoai_mcp.server.campaigns import scheduler_of
from convoai_mcp.server.campaigns.scheduler import Scheduler

NO_CONFIRM = {
    "CONVOAI_CONFIRM": "none",
    "CONVOAI_CALL_ALLOWLIST": "+1415",
    "CONVOAI_RATE_PER_MINUTE": "1000",
    "CONVOAI_MAX_CALLS": "20",
}


@contextlib.asynccontextmanager
async def campaign_rig(
    tmp_path: Path, env: Mapping[str, str] | None = None, **kwargs: Any
) -> AsyncIterator[tuple[Rig, Scheduler]]:
    """A rig (no confirmation, +1415 allow-listed unless ``env`` says otherwise) whose
    scheduler's clock is the emulator's and whose rounds run every 20 ms."""
    async with rig(tmp_path, {**NO_CONFIRM, **(env or {})}, **kwargs) as r:
        scheduler = scheduler_of(r.server.runtime)
        assert scheduler is not None
        scheduler.clock = r.sandbox.state.now
        scheduler.tick = 0.02
        yield r, scheduler


async def ok(client: Client, name: str, args: dict[str, Any]) -> dict[str, Any]:
    result = await client.call_tool(name, args)
    assert not result.is_error, error_text(result)
    data: dict[str, Any] = result.structured_content or {}
    return data


async def until(
    client: Client,
    r: Rig,
    scheduler: Scheduler,
    campaign_id: str,
    done: Callable[[dict[str, Any]], bool],
    *,
    step: float = 1.0,
    rounds: int = 400,
) -> dict[str, Any]:
    """Move the emulator's clock by ``step`` until ``done(get_campaign)`` holds; each move
    waits for the scheduler's next change (or a short while)."""
    with anyio.fail_after(60):
        for _ in range(rounds):
            campaign = await ok(client, "get_campaign", {"campaign_id": campaign_id})
            if done(campaign):
                return campaign
            r.sandbox.state.advance(step)
            await scheduler.wait_changed(0.05)
            while r.sandbox.state.history_unread():  # noqa: ASYNC110 - the watchers' reads
                await anyio.sleep(0.005)  # every running call's history read at this time
    raise AssertionError(f"the campaign never got there: {campaign}")


def states(campaign: dict[str, Any]) -> list[str]:
    return [d["state"] for d in campaign["destinations"]]


def finished(campaign: dict[str, Any]) -> bool:
    return campaign["status"] in ("completed", "cancelled", "expired") and not (
        campaign["summary"]["in_progress"] or campaign["summary"]["queued"]
    )
