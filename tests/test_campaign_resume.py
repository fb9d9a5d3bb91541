"""Campaigns resume when a server starts on the archive that holds them, without any tool call:
a first server stops mid-campaign (its calls go on at the emulator, its claims stay), a second
one on the same archive takes them over once their lease ran out, follows the calls to their end
and finishes the campaign. One create per number; the callees' words are in the transcripts."""

from __future__ import annotations

from pathlib import Path

import anyio
from _campaign_helpers import NO_CONFIRM, finished, ok, states, until
from _server_helpers import OUTBOUND, Rig
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


async def test_a_destination_taken_over_while_dialing_is_called_once(tmp_path: Path) -> None:
    """The crash window between recording an attempt and its create: the call the dead owner
    placed is found by its channel and adopted; one it never placed is placed once."""
    from _campaign_helpers import campaign_rig

    from convoai_mcp.server.campaigns.dialer import attempt_names

    placed, never = NUMBERS[0], NUMBERS[1]
    async with campaign_rig(tmp_path) as (r, s), Client(r.server) as client:
        r.sandbox.state.callees.set("default", Callee("busy"))
        now = s.clock()
        spec = {"pacing": {"max_concurrent": 2, "calls_per_minute": 60}, "retries": {}}
        rows = []
        for idx, number in enumerate((placed, never)):
            channel, name = attempt_names("cdead", idx, 1)
            attempt = {"attempt": 1, "started_at": now, "channel": channel, "name": name}
            rows.append(
                {
                    "campaign_id": "cdead",
                    "idx": idx,
                    "number": number,
                    "state": "dialing",
                    "attempts": [attempt],
                    "dialed_at": now,
                    "claim_owner": "a dead server",
                    "claim_until": now - 1,
                    "updated_at": now,
                }
            )
        campaign = {
            "id": "cdead",
            "name": "Crashed",
            "status": "running",
            "spec": spec,
            "created_at": now,
            "updated_at": now,
        }
        # the dead server's create of the first one did reach the service
        channel, name = attempt_names("cdead", 0, 1)
        request = s.call_request(spec, rows[0], name=name, channel=channel, from_number=OUTBOUND)
        from convoai_mcp.server.runtime import make_client

        dead = make_client(r.settings)  # the dead server's own client (and record)
        try:
            await dead.calls.create(request)
        finally:
            await dead.aclose()
        await s.store.create_campaign(campaign, rows)
        s.wake()
        done = await until(client, r, s, "cdead", finished)
    per_number = [c.to_number for c in r.sandbox.state.calls.values()]
    assert sorted(per_number) == [placed, never]  # one create each: adopted, and placed once
    assert states(done) == ["busy", "busy"]
    assert [len(d["attempts"]) for d in done["destinations"]] == [1, 1]
