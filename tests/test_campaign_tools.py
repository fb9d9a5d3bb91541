"""Campaigns through the MCP Client against the emulator and its callees, the emulator's clock
moved (never slept): every outcome, retries, pacing counted on the emulator's side, pause /
resume / cancel, quiet-hours skips, the one approval, the resource and its notifications."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import anyio
from _campaign_helpers import campaign_rig, finished, ok, states, until
from _server_helpers import error_text, read_json
from mcp import Client

from convoai_mcp.sandbox import Callee

ANSWERS = "+14155550101"
SILENT = "+14155550102"
BUSY = "+14155550103"
REJECTS = "+14155550104"


def numbers(*values: str) -> list[dict[str, Any]]:
    return [{"number": n} for n in values]


async def test_every_outcome_is_recorded_with_transcript_and_latency(tmp_path: Path) -> None:
    async with campaign_rig(tmp_path) as (r, s), Client(r.server) as client:
        callees = r.sandbox.state.callees
        callees.set(ANSWERS, Callee.answers(1, hang_up_after=20, says=[(3, "Yes, I'll be there.")]))
        callees.set(SILENT, Callee("no_answer"))
        callees.set(BUSY, Callee("busy"))
        callees.set(REJECTS, Callee("reject", after=2))
        started = await ok(
            client,
            "start_campaign",
            {
                "name": "Appointments",
                "destinations": numbers(ANSWERS, SILENT, BUSY, REJECTS),
                "greeting": "Hi, this is the clinic about tomorrow.",
                "pacing": {"max_concurrent": 4, "calls_per_minute": 60},
            },
        )
        cid = started["campaign_id"]
        done = await until(client, r, s, cid, finished, step=2.0)
        answered = done["destinations"][0]
        history = await ok(client, "get_history", {"agent_id": answered["agent_id"]})
    assert started["status"] == "running" and started["summary"]["total"] == 4
    assert done["status"] == "completed"
    assert states(done) == ["ended", "no_answer", "busy", "failed"]
    assert done["summary"]["counts"] == {"ended": 1, "no_answer": 1, "busy": 1, "failed": 1}
    assert done["summary"]["needs_human"] == [SILENT, BUSY, REJECTS]
    assert answered["hung_up_by"] == "callee"
    assert answered["duration_seconds"] is not None and answered["duration_seconds"] > 0
    assert answered["latency"]["measured_turns"] >= 1
    assert answered["latency"]["worst_e2e_ms"] >= answered["latency"]["median_e2e_ms"]
    assert [a["outcome"] for a in answered["attempts"]] == ["ended"]
    assert "rejected" in done["destinations"][3]["reason"]
    said = [e["untrusted_text"] for e in history["entries"] if e["role"] == "user"]
    assert said == ["Yes, I'll be there."]
    assert history["source"] == "archive"  # ended: the transcript was kept


async def test_retries_follow_the_rules_per_outcome(tmp_path: Path) -> None:
    async with campaign_rig(tmp_path) as (r, s), Client(r.server) as client:
        r.sandbox.state.callees.set(BUSY, Callee("busy"))
        r.sandbox.state.callees.set(SILENT, Callee("no_answer"))
        started = await ok(
            client,
            "start_campaign",
            {
                "name": "Retry",
                "destinations": numbers(BUSY, SILENT),
                "retries": {
                    "busy": {"count": 2, "delay_seconds": 120},
                    "no_answer": {"count": 0},
                },
                "pacing": {"max_concurrent": 2, "calls_per_minute": 60},
            },
        )
        done = await until(client, r, s, started["campaign_id"], finished, step=10.0)
        creates = [c for c in r.sandbox.state.calls.values() if c.to_number == BUSY]
    busy, silent = done["destinations"]
    assert [a["outcome"] for a in busy["attempts"]] == ["busy", "busy", "busy"]
    tries = busy["attempts"]
    gaps = [tries[i + 1]["started_at"] - tries[i]["ended_at"] for i in range(len(tries) - 1)]
    assert all(gap >= 120 for gap in gaps)
    assert [a["outcome"] for a in silent["attempts"]] == ["no_answer"]
    assert len(creates) == 3  # one create per attempt


async def test_pacing_is_respected_on_the_emulator_side(tmp_path: Path) -> None:
    most = 0
    async with campaign_rig(tmp_path) as (r, s), Client(r.server) as client:
        r.sandbox.state.callees.set("default", Callee.answers(1, hang_up_after=5))
        started = await ok(
            client,
            "start_campaign",
            {
                "name": "Paced",
                "destinations": numbers(*[f"+1415555{i:04d}" for i in range(200, 212)]),
                "pacing": {"max_concurrent": 3, "calls_per_minute": 60},
            },
        )

        def in_flight() -> int:
            now = r.sandbox.state.now()
            return sum(
                1
                for c in r.sandbox.state.calls.values()
                if c.stopped_at is None or c.stopped_at > now
            )

        def track(campaign: dict[str, Any]) -> bool:
            nonlocal most
            most = max(most, in_flight())
            return finished(campaign)

        done = await until(client, r, s, started["campaign_id"], track, step=1.0)
    assert states(done) == ["ended"] * 12
    assert 1 <= most <= 3


async def test_calls_per_minute_bounds_the_dials(tmp_path: Path) -> None:
    async with campaign_rig(tmp_path) as (r, s), Client(r.server) as client:
        r.sandbox.state.callees.set("default", Callee("busy"))
        start = r.sandbox.state.now()
        started = await ok(
            client,
            "start_campaign",
            {
                "name": "Rate",
                "destinations": numbers(*[f"+1415555{i:04d}" for i in range(300, 306)]),
                "pacing": {"max_concurrent": 6, "calls_per_minute": 2},
            },
        )
        done = await until(client, r, s, started["campaign_id"], finished, step=5.0)
    dialled = sorted(d["attempts"][0]["started_at"] - start for d in done["destinations"])
    for i in range(2, len(dialled)):  # never a third dial within a minute of two others
        assert dialled[i] - dialled[i - 2] >= 60


async def test_pause_resume_and_cancel(tmp_path: Path) -> None:
    async with campaign_rig(tmp_path) as (r, s), Client(r.server) as client:
        r.sandbox.state.callees.set("default", Callee.answers(1, hang_up_after=30))
        started = await ok(
            client,
            "start_campaign",
            {
                "name": "Control",
                "destinations": numbers(*[f"+1415555{i:04d}" for i in range(400, 406)]),
                "pacing": {"max_concurrent": 1, "calls_per_minute": 60},
            },
        )
        cid = started["campaign_id"]
        await until(client, r, s, cid, lambda c: "answered" in states(c), step=1.0)
        paused = await ok(client, "pause_campaign", {"campaign_id": cid})
        again = await ok(client, "pause_campaign", {"campaign_id": cid})
        # the call in progress finishes; nothing new is dialled while paused
        after = await until(client, r, s, cid, lambda c: states(c)[0] == "ended", step=5.0)
        for _ in range(10):
            r.sandbox.state.advance(10)
            await s.wait_changed(0.05)
        still = await ok(client, "get_campaign", {"campaign_id": cid})
        resumed = await ok(client, "resume_campaign", {"campaign_id": cid})
        await until(client, r, s, cid, lambda c: states(c)[1] == "answered", step=1.0)
        cancelled = await ok(client, "cancel_campaign", {"campaign_id": cid, "hang_up": True})
        done = await until(client, r, s, cid, finished, step=1.0)
        refused = await client.call_tool("resume_campaign", {"campaign_id": cid})
    assert paused["status"] == "paused" and again["message"] == "already paused"
    assert states(after)[1:] == ["queued"] * 5
    assert states(still)[1:] == ["queued"] * 5
    assert resumed["status"] == "running"
    assert cancelled["status"] == "cancelled"
    assert states(done) == ["ended", "ended"] + ["cancelled"] * 4
    assert done["destinations"][1]["hung_up_by"] == "server"
    assert "cannot resume" in error_text(refused)


async def test_cancel_letting_calls_finish(tmp_path: Path) -> None:
    async with campaign_rig(tmp_path) as (r, s), Client(r.server) as client:
        r.sandbox.state.callees.set("default", Callee.answers(1, hang_up_after=30))
        started = await ok(
            client,
            "start_campaign",
            {"name": "Finish", "destinations": numbers(ANSWERS, SILENT, BUSY)},
        )
        cid = started["campaign_id"]
        await until(client, r, s, cid, lambda c: states(c).count("answered") == 2, step=1.0)
        await ok(client, "cancel_campaign", {"campaign_id": cid})
        done = await until(client, r, s, cid, finished, step=5.0)
    assert states(done) == ["ended", "ended", "cancelled"]
    assert {d["hung_up_by"] for d in done["destinations"][:2]} == {"callee"}


async def test_the_whole_list_passes_the_calling_rules_up_front(tmp_path: Path) -> None:
    env = {"CONVOAI_CALL_ALLOWLIST": "+1415", "CONVOAI_CALL_HOURS": "08:00-21:00"}
    async with campaign_rig(tmp_path, env) as (r, s), Client(r.server) as client:
        import dataclasses
        from datetime import UTC, datetime

        guard = r.server.runtime.guard
        assert guard.rules is not None
        # 03:00 in San Francisco: outside the calling window for +1415 numbers
        night = datetime(2026, 6, 1, 10, 0, tzinfo=UTC)
        guard.rules = dataclasses.replace(guard.rules, clock=lambda: night)
        started = await ok(
            client,
            "start_campaign",
            {
                "name": "Night",
                "destinations": numbers(ANSWERS, "+12125550100", "+1415555"),
            },
        )
        done = await until(client, r, s, started["campaign_id"], finished)
        created = len(r.sandbox.state.calls)
    skipped = done["destinations"]
    assert states(done) == ["skipped", "skipped", "skipped"]
    assert [d["rule"] for d in skipped] == ["quiet_hours", "allow_list", "number_validity"]
    assert "08:00-21:00" in skipped[0]["reason"]
    assert done["summary"]["needs_human"] == [ANSWERS, "+12125550100", "+1415555"]
    assert created == 0  # nothing was dialled


async def test_one_approval_shows_every_number(tmp_path: Path) -> None:
    env = {"CONVOAI_CONFIRM": "call"}
    asked: list[str] = []

    async def elicit(context: Any, params: Any) -> Any:
        from mcp_types import ElicitResult

        asked.append(params.message)
        return ElicitResult(action="accept", content={"confirm": True})

    async with campaign_rig(tmp_path, env) as (r, s):
        r.sandbox.state.callees.set("default", Callee("busy"))
        async with Client(r.server, elicitation_callback=elicit) as client:
            started = await ok(
                client,
                "start_campaign",
                {"name": "Approved", "destinations": numbers(ANSWERS, SILENT, BUSY)},
            )
            done = await until(client, r, s, started["campaign_id"], finished)
    assert len(asked) == 1  # one approval for the campaign, none per call
    assert all(n in asked[0] for n in (ANSWERS, SILENT, BUSY))
    assert states(done) == ["busy", "busy", "busy"]


async def test_declined_approval_starts_nothing(tmp_path: Path) -> None:
    async def decline(context: Any, params: Any) -> Any:
        from mcp_types import ElicitResult

        return ElicitResult(action="decline")

    async with (
        campaign_rig(tmp_path, {"CONVOAI_CONFIRM": "call"}) as (r, _s),
        Client(r.server, elicitation_callback=decline) as client,
    ):
        result = await client.call_tool(
            "start_campaign", {"name": "No", "destinations": numbers(ANSWERS)}
        )
        listed = await ok(client, "list_campaigns", {})
    assert "not confirmed" in error_text(result)
    assert listed["campaigns"] == [] and r.sandbox.state.calls == {}


async def test_the_resource_is_notified_as_calls_progress(tmp_path: Path) -> None:
    async with campaign_rig(tmp_path) as (r, s):
        r.sandbox.state.callees.set("default", Callee("busy"))
        async with Client(r.server) as client:
            started = await ok(
                client, "start_campaign", {"name": "Watched", "destinations": numbers(BUSY)}
            )
            uri = started["resource"]
            async with client.listen(resource_subscriptions=[uri]) as sub:
                await until(client, r, s, started["campaign_id"], finished)
                with anyio.fail_after(5):
                    event = await sub.__anext__()
            body = await read_json(client, uri)
            listed = await ok(client, "list_campaigns", {"status": "completed"})
    assert getattr(event, "uri", None) == uri
    assert body["campaign_id"] == started["campaign_id"]
    assert body["destinations"][0]["state"] == "busy"
    assert [c["campaign_id"] for c in listed["campaigns"]] == [started["campaign_id"]]


async def test_unknown_campaign_and_archive_off(tmp_path: Path) -> None:
    async with campaign_rig(tmp_path) as (r, _s), Client(r.server) as client:
        unknown = await client.call_tool("get_campaign", {"campaign_id": "cnope"})
    assert "no campaign 'cnope'" in error_text(unknown)
