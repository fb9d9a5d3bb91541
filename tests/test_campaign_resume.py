"""Campaigns resume when a server starts on the archive that holds them, without any tool call:
a first server stops mid-campaign (its calls go on at the emulator, its claims stay), a second
one on the same archive takes them over once their lease ran out, follows the calls to their end
and finishes the campaign. One create per number; the callees' words are in the transcripts."""

from __future__ import annotations

from pathlib import Path

import anyio
from _campaign_helpers import NO_CONFIRM, finished, ok, states, until
from _server_helpers import Rig
from mcp import Client

from convoai_mcp.config import Settings
from convoai_mcp.sandbox import DEMO_CREDENTIALS, Callee, Sandbox
from convoai_mcp.server.app import build_server
from convoai_mcp.server.campaigns import _SCHEDULERS, scheduler_of
from convoai_mcp.server.sandbox_mode import sandbox_settings

NUMBERS = ["+14155550601", "+14155550602", "+14155550603"]
SAID = "Yes, see you then."


async def test_a_new_server_resumes_the_campaign_at_start_up(tmp_path: Path) -> None:
    sandbox = Sandbox(DEMO_CREDENTIALS, answer_delay=0.05)
    sandbox.state.callees.set("default", Callee.answers(1, hang_up_after=60, says=[(2, SAID)]))
    env = {
        **NO_CONFIRM,
        "CONVOAI_ARCHIVE_PATH": str(tmp_path / "archive.sqlite3"),
        "CONVOAI_CAMPAIGN_LEASE_SECONDS": "1",
    }
    async with sandbox.serve("127.0.0.1", 0) as base_url:
        settings = sandbox_settings(Settings.from_env(env, require_credentials=False), base_url)
        first = build_server(settings, poll_interval=0.02)
        scheduler = scheduler_of(first.runtime)
        assert scheduler is not None
        scheduler.clock, scheduler.tick = sandbox.state.now, 0.02
        r = Rig(sandbox, first, settings, base_url)
        try:
            async with Client(first) as client:
                started = await ok(
                    client,
                    "start_campaign",
                    {"name": "Resumed", "destinations": [{"number": n} for n in NUMBERS]},
                )
                cid = started["campaign_id"]
                # two in progress (the default pacing), the third still queued
                await until(client, r, scheduler, cid, lambda c: states(c).count("answered") == 2)
        finally:
            await first.runtime.aclose()  # stops; its claims stay in the archive
        second = build_server(settings, poll_interval=0.02)
        try:
            async with Client(second) as client:
                with anyio.fail_after(30):  # resumed by the server's start, no tool called
                    while second.runtime not in _SCHEDULERS:  # noqa: ASYNC110 - no event for it
                        await anyio.sleep(0.01)
                resumed = scheduler_of(second.runtime)
                assert resumed is not None and resumed.running
                resumed.clock, resumed.tick = sandbox.state.now, 0.02
                r2 = Rig(sandbox, second, settings, base_url)
                done = await until(client, r2, resumed, cid, finished, step=2.0)
                histories = [
                    await ok(client, "get_history", {"agent_id": d["agent_id"]})
                    for d in done["destinations"]
                ]
        finally:
            await second.runtime.aclose()
    assert states(done) == ["ended"] * 3
    creates = [c.to_number for c in sandbox.state.calls.values()]
    assert sorted(creates) == NUMBERS  # one create per number
    for history in histories:
        assert SAID in [e["untrusted_text"] for e in history["entries"] if e["role"] == "user"]
