"""One try at one destination: admit, record the attempt, create the call, follow it to its end,
and store the outcome (or the retry).

Exactly once: the attempt (its deterministic channel and agent name) is written to the store
*before* the create is sent. A destination taken over in ``dialing`` (its owner died around the
create) is first looked up on the service by that channel and name: a call found is adopted and
followed; only when none exists is the create sent (again for the same attempt, with
``adopt_existing``: a create still in flight meets 409 and adopts it). Every write is fenced by
the claim (:meth:`~convoai_mcp.archive.campaigns.CampaignStore.update_destination`): a process
whose claim was taken over stops writing.

The call is followed through the agent's one transcript watcher (the guard's, which archives the
history as it reads it, and the turns when the call ends); nothing here polls the service.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import statistics
from collections.abc import Callable
from typing import TYPE_CHECKING, Any, Protocol

import anyio

from convoai_mcp.calling_rules import CallingRuleError
from convoai_mcp.errors import ConvoAIError, NotFoundError
from convoai_mcp.policy import PolicyError
from convoai_mcp.server import audit
from convoai_mcp.server.runtime import END_HUNG_UP, END_ON_ITS_OWN, StartedAgent

if TYPE_CHECKING:
    from convoai_mcp.archive.campaigns import CampaignStore
    from convoai_mcp.models import CallRequest
    from convoai_mcp.policy import Reservation
    from convoai_mcp.server.runtime import Runtime

__all__ = ["LIMIT_RULES", "Scheduler", "attempt_names", "run"]

logger = logging.getLogger(__name__)

LIMIT_RULES = frozenset({"max_calls", "rate", "max_agents"})
"""Refusals that only mean "not now": the destination waits for the next round."""
_FIND_FOR = 30.0
_LIMIT_BACKOFF = 2.0


class Scheduler(Protocol):
    """What a try needs of the scheduler (:class:`.scheduler.Scheduler`)."""

    rt: Runtime
    store: CampaignStore
    owner: str
    lease: float
    clock: Callable[[], float]

    def call_request(
        self,
        spec: dict[str, Any],
        row: dict[str, Any],
        *,
        name: str,
        channel: str,
        from_number: str,
    ) -> CallRequest: ...

    async def changed(self, campaign_id: str) -> None: ...

    async def finish(self, campaign_id: str, idx: int, fields: dict[str, Any]) -> None: ...

    def done(self, campaign_id: str, idx: int) -> None: ...

    def following(self, campaign_id: str, idx: int, agent_id: str) -> None: ...

    async def status(self, campaign_id: str) -> str | None: ...

    async def record_dial(
        self,
        campaign_id: str,
        idx: int,
        number: str,
        agent_id: str | None,
        error: str | None,
        *,
        client: str | None = None,
    ) -> None: ...

    def hang_up_requested(self, campaign_id: str) -> bool: ...

    def hung_up(self, agent_id: str) -> bool: ...

    async def hang_up(self, agent_id: str) -> None: ...


def attempt_names(campaign_id: str, idx: int, attempt: int) -> tuple[str, str]:
    """The channel and agent name of one attempt (deterministic: found again after a crash)."""
    name = f"cmp-{campaign_id}-{idx}-{attempt}"
    return name, name


async def run(s: Scheduler, campaign: dict[str, Any], row: dict[str, Any]) -> None:
    """Work one claimed destination through (see the module docstring)."""
    cid, idx = row["campaign_id"], row["idx"]
    try:
        if row["state"] == "queued":
            await _fresh(s, campaign, row)
        else:
            await _resume(s, campaign, row)
    except Exception as exc:  # a bug or a broken store must not kill the scheduler
        logger.warning("campaign %s #%s: %s", cid, idx, type(exc).__name__, exc_info=True)
    finally:
        s.done(cid, idx)


# -- starting -----------------------------------------------------------------------------------


async def _fresh(s: Scheduler, campaign: dict[str, Any], row: dict[str, Any]) -> None:
    cid, idx, number = row["campaign_id"], row["idx"], row["number"]
    spec = campaign["spec"]
    now = s.clock()
    try:
        reservation, from_number = await s.rt.guard.admit_call(
            None,
            to_number=number,
            from_number=spec.get("from_number"),
            confirm=False,
            approved_as=spec.get("approved_as") or "campaign",
        )
    except (PolicyError, CallingRuleError) as exc:
        rule, _setting = audit.refusal_rule(exc)
        if rule in LIMIT_RULES:  # the server's limits are full: try again next round
            await s.store.update_destination(
                cid,
                idx,
                s.owner,
                {"next_at": now + _LIMIT_BACKOFF, "claim_owner": None, "claim_until": None},
            )
            return
        await s.finish(cid, idx, {"state": "skipped", "rule": rule, "reason": exc.message})
        return
    attempts = list(row["attempts"] or [])
    number_of = len(attempts) + 1
    channel, name = attempt_names(cid, idx, number_of)
    attempts.append({"attempt": number_of, "started_at": now, "channel": channel, "name": name})
    try:
        request = s.call_request(spec, row, name=name, channel=channel, from_number=from_number)
        recorded = await s.store.update_destination(
            cid,
            idx,
            s.owner,
            {
                "state": "dialing",
                "attempts": attempts,
                "dialed_at": now,
                "agent_id": None,
                "next_at": None,
                "reason": None,
                "duration": None,
                "hung_up_by": None,
                "latency": None,
            },
        )
    except BaseException:
        s.rt.guard.release(reservation)
        raise
    if not recorded:  # the claim was taken over: the other owner goes on
        s.rt.guard.release(reservation)
        return
    await s.changed(cid)
    await _place(s, campaign, row, attempts, request, reservation, adopt=False)


async def _resume(s: Scheduler, campaign: dict[str, Any], row: dict[str, Any]) -> None:
    """A destination taken over in progress: find its call (or create it, if it never was)."""
    cid, idx, number = row["campaign_id"], row["idx"], row["number"]
    attempts = list(row["attempts"] or [])
    if not attempts:  # cannot be: in progress without an attempt; try afresh
        await s.store.update_destination(cid, idx, s.owner, {"state": "queued"})
        return
    last = attempts[-1]
    channel, name = last["channel"], last["name"]
    agent_id = row["agent_id"] or last.get("agent_id")
    if agent_id is None:
        from convoai_mcp.server.lifecycle import find_call

        agent_id = await find_call(s.rt, channel, number, name)
    if agent_id is not None:
        if not s.rt.guard.started(agent_id, kind="call", channel=channel):
            logger.warning("campaign %s #%s: over the call limit when resumed", cid, idx)
        s.rt.record(_started(agent_id, name, channel, number, last.get("from_number")))
        await _follow(s, campaign, row, attempts, agent_id)
        return
    # Never created (the process died between recording the attempt and the create).
    spec = campaign["spec"]
    try:
        reservation, from_number = await s.rt.guard.admit_call(
            None,
            to_number=number,
            from_number=spec.get("from_number"),
            confirm=False,
            approved_as=spec.get("approved_as") or "campaign",
        )
    except (PolicyError, CallingRuleError) as exc:
        rule, _ = audit.refusal_rule(exc)
        if rule in LIMIT_RULES:
            await s.store.update_destination(
                cid, idx, s.owner, {"claim_until": s.clock() + _LIMIT_BACKOFF}
            )
            return
        await s.finish(cid, idx, {"state": "skipped", "rule": rule, "reason": exc.message})
        return
    request = s.call_request(spec, row, name=name, channel=channel, from_number=from_number)
    await _place(s, campaign, row, attempts, request, reservation, adopt=True)


async def _place(
    s: Scheduler,
    campaign: dict[str, Any],
    row: dict[str, Any],
    attempts: list[dict[str, Any]],
    request: CallRequest,
    reservation: Reservation,
    *,
    adopt: bool,
) -> None:
    cid, idx, number = row["campaign_id"], row["idx"], row["number"]
    last = attempts[-1]
    channel, name = last["channel"], last["name"]
    rt = s.rt
    from_number = request.sip.from_number
    try:
        agent_id: str | None = (
            await rt.client.calls.create(request, adopt_existing=adopt)
        ).agent_id
    except ConvoAIError as exc:
        if not exc.maybe_performed:
            rt.guard.release(reservation)
            await s.record_dial(
                cid, idx, number, None, exc.message, client=campaign.get("created_by")
            )
            await _outcome(s, campaign, row, attempts, "failed", exc.message)
            return
        agent_id = await _find(s, channel, number, name)
        if agent_id is None:
            rt.guard.release(reservation)
            why = f"{exc.message} (the service's answer was lost and no call was found)"
            await _outcome(s, campaign, row, attempts, "failed", why)
            return
    except BaseException:
        rt.guard.release(reservation)
        raise
    assert agent_id is not None
    booked = rt.guard.started(agent_id, kind="call", channel=channel, reservation=reservation)
    rt.record(_started(agent_id, name, channel, number, from_number))
    await s.record_dial(cid, idx, number, agent_id, None, client=campaign.get("created_by"))
    if not booked:  # over the limit meanwhile: stop it again
        with contextlib.suppress(ConvoAIError):
            await rt.client.calls.hangup(agent_id)
        await _outcome(s, campaign, row, attempts, "failed", "over the server's call limit")
        return
    last.update(agent_id=agent_id, from_number=from_number)
    if not await s.store.update_destination(
        cid, idx, s.owner, {"state": "ringing", "agent_id": agent_id, "attempts": attempts}
    ):
        return
    await s.changed(cid)
    if s.hang_up_requested(cid):
        await s.hang_up(agent_id)
    await _follow(s, campaign, row, attempts, agent_id)


async def _find(s: Scheduler, channel: str, number: str, name: str) -> str | None:
    """After a create whose answer was lost: the call it made, looked up by its channel."""
    from convoai_mcp.server.lifecycle import find_call

    delay = 0.05
    with anyio.move_on_after(_FIND_FOR):
        while True:
            try:
                found = await find_call(s.rt, channel, number, name)
            except ConvoAIError:
                found = None
            if found is not None:
                return found
            await anyio.sleep(delay)
            delay = min(delay * 2, 2.0)
    return None


def _started(
    agent_id: str, name: str, channel: str, number: str, from_number: str | None
) -> StartedAgent:
    return StartedAgent(
        agent_id=agent_id,
        kind="call",
        name=name,
        channel=channel,
        agent_uid="",
        user_uid="",
        to_number=number,
        from_number=from_number,
    )


# -- following ----------------------------------------------------------------------------------


async def _follow(
    s: Scheduler,
    campaign: dict[str, Any],
    row: dict[str, Any],
    attempts: list[dict[str, Any]],
    agent_id: str,
) -> None:
    """Follow the call on its watcher until it ends, then store the outcome."""
    cid, idx = row["campaign_id"], row["idx"]
    rt = s.rt
    s.following(cid, idx, agent_id)
    last = attempts[-1]
    watcher = rt.guard.watchers.watch(agent_id, kind="call", channel=last["channel"])
    changed = asyncio.Event()

    async def wake(_: object) -> None:
        changed.set()

    unsubscribe = watcher.subscribe(wake)
    release_state = watcher.want_state()
    try:
        await watcher.first_read()
        await watcher.fresh_state()
        while True:
            changed.clear()
            if watcher.state == "answered" and "answered_at" not in last:
                last["answered_at"] = s.clock()
                await s.store.update_destination(
                    cid, idx, s.owner, {"state": "answered", "attempts": attempts}
                )
                await s.changed(cid)
            if watcher.ended or watcher.state == "hangup" or not watcher.running:
                break
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(changed.wait(), s.lease / 3)
        state, reason = watcher.state, watcher.reason
    finally:
        unsubscribe()
        release_state()
    if reason is None or state != "hangup":
        state, reason = await _call_state(s, agent_id, state, reason)
    message = await _agent_message(s, agent_id)
    answered = "answered_at" in last or reason in ("hangup", "request")
    if answered:
        outcome, why = "ended", message or reason
    elif message and "busy" in message.lower():
        outcome, why = "busy", message
    elif message and "no answer" in message.lower():
        outcome, why = "no_answer", message
    else:
        outcome, why = "failed", message or reason or "the call ended without being answered"
    with contextlib.suppress(Exception):
        await rt.guard.before_end(agent_id)  # the last of the transcript, and the turns
    rt.guard.ended(agent_id)
    rt.mark_ended(agent_id, END_HUNG_UP if s.hung_up(agent_id) else END_ON_ITS_OWN)
    extra: dict[str, Any] = {}
    if answered:
        ended_at = s.clock()
        extra["duration"] = round(ended_at - float(last.get("answered_at", ended_at)), 3)
        extra["hung_up_by"] = (
            "server" if s.hung_up(agent_id) else ("callee" if reason == "hangup" else "agent")
        )
        extra["latency"] = await _latency(s, agent_id)
    await _outcome(s, campaign, row, attempts, outcome, why, extra)


async def _call_state(
    s: Scheduler, agent_id: str, state: str | None, reason: str | None
) -> tuple[str | None, str | None]:
    try:
        info = await s.rt.client.calls.get(agent_id)
    except ConvoAIError:
        return state, reason
    return info.state or state, info.reason or reason


async def _agent_message(s: Scheduler, agent_id: str) -> str | None:
    try:
        info = await s.rt.client.agents.get(agent_id)
    except (NotFoundError, ConvoAIError):
        return None
    return info.message


async def _latency(s: Scheduler, agent_id: str) -> dict[str, Any] | None:
    """Median and worst end-to-end latency over the call's turns (archived ones if gone)."""
    try:
        turns, _source = await s.rt.guard.turns(agent_id)
    except ConvoAIError:
        return None
    measured = [
        float(t.metrics.e2e_latency_ms)
        for t in turns.turns
        if t.metrics is not None and t.metrics.e2e_latency_ms is not None
    ]
    return {
        "measured_turns": len(measured),
        "median_e2e_ms": round(statistics.median(measured), 1) if measured else None,
        "worst_e2e_ms": max(measured) if measured else None,
    }


async def _outcome(
    s: Scheduler,
    campaign: dict[str, Any],
    row: dict[str, Any],
    attempts: list[dict[str, Any]],
    outcome: str,
    reason: str | None,
    extra: dict[str, Any] | None = None,
) -> None:
    """Store how the try ended: final, or queued again for a retry the rules allow."""
    cid, idx = row["campaign_id"], row["idx"]
    now = s.clock()
    last = attempts[-1]
    last.update(ended_at=now, outcome=outcome, reason=reason)
    fields: dict[str, Any] = {"attempts": attempts, "reason": reason, **(extra or {})}
    rule = (campaign["spec"].get("retries") or {}).get(outcome)
    tries = sum(1 for a in attempts if a.get("outcome") == outcome)
    ends_at = campaign["spec"].get("ends_at")
    if rule and outcome != "ended" and tries <= int(rule.get("count", 0)):
        next_at = now + float(rule.get("delay_seconds", 0))
        status = await s.status(cid)
        if status == "running" and (ends_at is None or next_at < float(ends_at)):
            fields.update(state="queued", next_at=next_at, claim_owner=None, claim_until=None)
            fields["reason"] = f"{outcome}: retry {tries} of {rule['count']} scheduled"
            if await s.store.update_destination(cid, idx, s.owner, fields):
                await s.changed(cid)
            return
    await s.finish(cid, idx, {"state": outcome, **fields})
