"""Two real server processes (replicas) on one throwaway PostgreSQL database and one emulator:
replica A starts a campaign and is killed with SIGKILL mid-campaign; replica B takes over A's
calls in progress once their claims' lease ran out, dials the rest, and finishes the campaign.
No number is dialled twice for an attempt, and no transcript is missing (A's calls included)."""

from __future__ import annotations

import pytest
from _server_helpers import subprocess_env
from test_campaign_restart import NUMBERS, SAID, connected, eventually, ok, server

from convoai_mcp.sandbox import DEMO_CREDENTIALS, Callee, Sandbox
from convoai_mcp.sandbox.environment import server_environment

pytestmark = pytest.mark.slow


async def test_a_replica_killed_mid_campaign_leaves_it_to_the_other(postgres_url: str) -> None:
    sandbox = Sandbox(DEMO_CREDENTIALS, answer_delay=0.05)
    sandbox.state.callees.set("default", Callee.answers(1, hang_up_after=30, says=[(2, SAID)]))
    async with sandbox.serve("127.0.0.1", 0) as base_url:
        emulated = server_environment(base_url, DEMO_CREDENTIALS)
        env = subprocess_env(
            **emulated,
            CONVOAI_DATABASE_URL=postgres_url,
            CONVOAI_CONFIRM="none",
            CONVOAI_CAMPAIGN_LEASE_SECONDS="1",
            CONVOAI_RATE_PER_MINUTE="1000",
            CONVOAI_MAX_CALLS="10",  # a dead replica's limit slots free only after 60 s
            CONVOAI_LOG_LEVEL="WARNING",
        )
        calls = sandbox.state.calls
        async with server(env) as (_b, url_b), connected(url_b) as on_b:
            async with server(env) as (a, url_a):
                async with connected(url_a) as on_a:
                    started = await ok(
                        on_a,
                        "start_campaign",
                        {
                            "name": "Two replicas",
                            "destinations": [{"number": n} for n in NUMBERS],
                            "pacing": {"max_concurrent": 2, "calls_per_minute": 600},
                        },
                    )
                    cid = started["campaign_id"]
                    await eventually(lambda: len(calls) >= 2)  # the first calls are placed
                a.kill()  # SIGKILL mid-campaign: no clean-up of any kind
                await a.wait()
            in_flight_at_kill = len(calls)
            # B, which saw the campaign only in the database, finishes it
            while True:
                campaign = await ok(on_b, "get_campaign", {"campaign_id": cid})
                if campaign["status"] == "completed":
                    break
                sandbox.state.advance(3)
                await eventually(lambda: False, within=0.1, fail=False)  # B's pace and lease
                # B read every running call's history at this time before the clock moves on
                await eventually(lambda: not sandbox.state.history_unread(), within=90)
            transcripts = {
                d["number"]: await ok(on_b, "get_history", {"agent_id": d["agent_id"]})
                for d in campaign["destinations"]
            }
    assert 1 <= in_flight_at_kill <= 2  # A had placed calls, within the campaign's pacing
    assert [d["state"] for d in campaign["destinations"]] == ["ended"] * len(NUMBERS)
    per_number = {n: [c for c in calls.values() if c.to_number == n] for n in NUMBERS}
    assert {n: len(found) for n, found in per_number.items()} == dict.fromkeys(NUMBERS, 1)
    assert all(len(d["attempts"]) == 1 for d in campaign["destinations"])
    for number, history in transcripts.items():
        said = [e["untrusted_text"] for e in history["entries"] if e["role"] == "user"]
        assert said == [SAID], number  # no transcript missing, the killed replica's included
