"""What the campaign tools do: vet the whole list up front, ask for one approval that shows every
number, store the campaign, and read, pause, resume or cancel it."""

from __future__ import annotations

import secrets
from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any

from mcp.server.mcpserver.exceptions import ToolError

from convoai_mcp.calling_rules import CallingRuleError
from convoai_mcp.policy import PolicyError
from convoai_mcp.server import audit
from convoai_mcp.server.campaigns import scheduler_of
from convoai_mcp.server.campaigns.models import (
    NEEDS_HUMAN,
    AttemptResult,
    CampaignList,
    CampaignResult,
    CampaignSummary,
    CampaignSummaryItem,
    Destination,
    DestinationResult,
    LatencySummary,
    Pacing,
    Retries,
)
from convoai_mcp.server.campaigns.scheduler import Scheduler, campaign_uri

if TYPE_CHECKING:
    from mcp.server.mcpserver import Context

    from convoai_mcp.server.approval import ApprovalDetails
    from convoai_mcp.server.runtime import Runtime

__all__ = ["cancel", "get", "listing", "pause", "resume", "start", "summary"]

_AUDIT_CHANNEL: dict[str, audit.Channel] = {
    "form": "form",
    "url": "url",
    "link": "url",
    "preapproved": "pre_approval",
    "argument": "argument",
}
_IN_PROGRESS = ("dialing", "ringing", "answered")


def _scheduler(rt: Runtime, tool: str) -> Scheduler:
    found = scheduler_of(rt)
    if found is None:
        raise ToolError(
            f"{tool} failed: campaigns are kept in the archive, and it is off "
            "(CONVOAI_ARCHIVE=off). Next: the operator turns the archive on (or sets "
            "CONVOAI_DATABASE_URL) and restarts the server."
        )
    found.start()
    return found


async def _campaign(s: Scheduler, tool: str, campaign_id: str) -> dict[str, Any]:
    campaign = await s.store.get_campaign(campaign_id)
    if campaign is None:
        raise ToolError(
            f"{tool} failed: there is no campaign {campaign_id!r}. Next: list_campaigns shows "
            "the campaigns and their ids."
        )
    return campaign


# -- start --------------------------------------------------------------------------------------


async def start(
    ctx: Context[Runtime, Any],
    rt: Runtime,
    *,
    name: str,
    destinations: Sequence[Destination],
    profile: str | None,
    system_prompt: str | None,
    greeting: str | None,
    from_number: str | None,
    pacing: Pacing,
    retries: Retries,
    ends_at: float | None,
    confirm: bool,
    arguments: Mapping[str, Any],
) -> CampaignResult | Any:
    """Vet, approve, store and start a campaign (returns the approval's InputRequiredResult on
    a 2026-07-28 connection whose client must ask the user first)."""
    from convoai_mcp.server import profiled
    from convoai_mcp.server.guard import ConfirmationRequired

    s = _scheduler(rt, "start_campaign")
    now = s.clock()
    if ends_at is not None and ends_at <= now:
        raise ToolError(
            "start_campaign failed: ends_at is in the past. Next: pass a Unix time in the "
            "future, or omit it."
        )
    variables = [d.variables for d in destinations]
    profiled.chosen(
        rt.settings,
        {"profile": profile, "template_variables": next((v for v in variables if v), None)},
    )
    rows, allowed = await _vet(rt, destinations, from_number)
    channel = None
    if allowed and rt.guard.policy.needs_confirmation("call"):
        try:
            channel = await _approve(ctx, rt, name, allowed, from_number, confirm, arguments)
        except ConfirmationRequired as exc:
            return exc.result
        audit.note("approved", channel=_AUDIT_CHANNEL.get(channel))
    else:
        audit.note("allowed")
    campaign_id = "c" + secrets.token_hex(6)
    spec = {
        "profile": profile,
        "system_prompt": system_prompt,
        "greeting": greeting,
        "from_number": from_number,
        "pacing": pacing.model_dump(),
        "retries": retries.model_dump(),
        "ends_at": ends_at,
        "approved_as": channel or "allowed",
    }
    campaign = {
        "id": campaign_id,
        "name": name,
        "status": "running",
        "spec": spec,
        "created_at": now,
        "created_by": _client_name(ctx),
        "updated_at": now,
    }
    for row in rows:
        row.update(campaign_id=campaign_id, updated_at=now)
    await s.store.create_campaign(campaign, rows)
    s.wake()
    return await get(rt, campaign_id, message=_started_message(rows))


async def _vet(
    rt: Runtime, destinations: Sequence[Destination], from_number: str | None
) -> tuple[list[dict[str, Any]], list[str]]:
    """Every destination through the dialing policy: the rows (skipped ones with their rule)
    and the allowed numbers."""
    rows: list[dict[str, Any]] = []
    allowed: list[str] = []
    seen: set[str] = set()
    for idx, destination in enumerate(destinations):
        row: dict[str, Any] = {
            "idx": idx,
            "number": destination.number,
            "variables": destination.variables,
            "state": "queued",
        }
        try:
            number = await rt.guard.vet_call(destination.number, from_number)
        except (PolicyError, CallingRuleError) as exc:
            rule, _setting = audit.refusal_rule(exc)
            row.update(state="skipped", rule=rule, reason=exc.message)
        else:
            row["number"] = number
            if number in seen:
                row.update(state="skipped", rule="duplicate", reason="listed twice")
            else:
                seen.add(number)
                allowed.append(number)
        rows.append(row)
    return rows, allowed


async def _approve(
    ctx: Context[Runtime, Any],
    rt: Runtime,
    name: str,
    numbers: list[str],
    from_number: str | None,
    confirm: bool,
    arguments: Mapping[str, Any],
) -> str:
    """One approval for the whole campaign, through the gate, showing every number."""
    gate = rt.guard.gate
    if all(gate.preapproved(n) for n in numbers):
        return "preapproved"
    caller = from_number or "the project's first outbound number"
    shown = ", ".join(numbers)
    question = (
        f"Start the campaign {name!r}: {len(numbers)} phone call(s) from {caller} to {shown}? "
        "Real phones ring; every call and its AI agent are billed per minute until it ends, "
        "and unanswered numbers may be called again (retries)."
    )
    request = {k: v for k, v in arguments.items() if k != "ctx"}
    channel = await gate.approve(
        ctx,
        tool="start_campaign",
        question=question,
        confirm=confirm,
        request=request,
        details=lambda: _details(name, numbers, from_number, arguments),
    )
    return str(channel)


def _details(
    name: str, numbers: list[str], from_number: str | None, arguments: Mapping[str, Any]
) -> ApprovalDetails:
    from convoai_mcp.server.approval import ApprovalDetails

    summary: list[tuple[str, str]] = [("Campaign", name), ("Calls", str(len(numbers)))]
    for key in ("profile", "greeting", "system_prompt"):
        value = arguments.get(key)
        if value:
            summary.append((key.replace("_", " ").capitalize(), str(value)[:300]))
    summary += [(f"Number {i + 1}", number) for i, number in enumerate(numbers)]
    return ApprovalDetails(
        title=f"Start a campaign of {len(numbers)} phone call(s)",
        caller_id=from_number,
        agent_summary=tuple(summary),
        cost_warning="Every number listed is called by an AI agent (and called again when "
        "the retry rules say so); each call is billed per minute until it ends.",
    )


def _client_name(ctx: Context[Runtime, Any]) -> str | None:
    try:
        params = ctx.request_context.session.client_params
        info = params.client_info if params is not None else None
    except Exception:
        return None
    return info.name if info is not None else None


def _started_message(rows: list[dict[str, Any]]) -> str:
    skipped = sum(1 for r in rows if r["state"] == "skipped")
    text = f"started: {len(rows) - skipped} number(s) to call"
    if skipped:
        text += f", {skipped} skipped by the calling rules (see each one's rule)"
    return text + "; follow it with get_campaign or the resource convoai://campaigns/{id}"


# -- reading ------------------------------------------------------------------------------------


def summary(rows: Sequence[Mapping[str, Any]]) -> CampaignSummary:
    """Counts per state and the numbers needing a human."""
    counts: dict[str, int] = {}
    for row in rows:
        counts[row["state"]] = counts.get(row["state"], 0) + 1
    in_progress = sum(counts.get(s, 0) for s in _IN_PROGRESS)
    queued = counts.get("queued", 0)
    return CampaignSummary(
        total=len(rows),
        counts=counts,
        in_progress=in_progress,
        queued=queued,
        done=len(rows) - in_progress - queued,
        needs_human=[r["number"] for r in rows if r["state"] in NEEDS_HUMAN],
    )


def _destination(row: Mapping[str, Any]) -> DestinationResult:
    attempts = [
        AttemptResult(
            attempt=int(a.get("attempt", i + 1)),
            started_at=float(a.get("started_at", 0.0)),
            ended_at=a.get("ended_at"),
            outcome=a.get("outcome"),
            reason=a.get("reason"),
            agent_id=a.get("agent_id"),
        )
        for i, a in enumerate(row.get("attempts") or [])
    ]
    latency = row.get("latency")
    return DestinationResult(
        index=int(row["idx"]),
        number=row["number"],
        state=row["state"],
        reason=row.get("reason"),
        rule=row.get("rule"),
        variables=row.get("variables"),
        attempts=attempts,
        agent_id=row.get("agent_id"),
        duration_seconds=row.get("duration"),
        hung_up_by=row.get("hung_up_by"),
        latency=LatencySummary.model_validate(latency) if latency else None,
        next_attempt_at=row.get("next_at") if row["state"] == "queued" else None,
    )


def _view(
    campaign: Mapping[str, Any], rows: Sequence[Mapping[str, Any]], message: str | None
) -> CampaignResult:
    spec = campaign["spec"]
    cid = campaign["id"]
    counted = summary(rows)
    if message is None:
        message = f"{campaign['status']}: {counted.done} of {counted.total} done"
        if counted.in_progress:
            message += f", {counted.in_progress} in progress"
        if counted.needs_human:
            message += f"; {len(counted.needs_human)} need a human (summary.needs_human)"
    return CampaignResult(
        campaign_id=cid,
        name=campaign["name"],
        status=campaign["status"],
        created_at=float(campaign["created_at"]),
        updated_at=float(campaign["updated_at"]),
        ends_at=spec.get("ends_at"),
        profile=spec.get("profile"),
        from_number=spec.get("from_number"),
        pacing=Pacing.model_validate(spec.get("pacing") or {}),
        retries=Retries.model_validate(spec.get("retries") or {}),
        summary=counted,
        destinations=[_destination(r) for r in rows],
        resource=campaign_uri(cid),
        message=message,
    )


async def get(rt: Runtime, campaign_id: str, *, message: str | None = None) -> CampaignResult:
    """The campaign as get_campaign shows it."""
    s = _scheduler(rt, "get_campaign")
    campaign = await _campaign(s, "get_campaign", campaign_id)
    rows = await s.store.list_destinations(campaign_id)
    return _view(campaign, rows, message)


async def listing(rt: Runtime, *, status: str | None, limit: int) -> CampaignList:
    s = _scheduler(rt, "list_campaigns")
    items = []
    for campaign in await s.store.list_campaigns(status=status, limit=limit):
        rows = await s.store.list_destinations(campaign["id"])
        items.append(
            CampaignSummaryItem(
                campaign_id=campaign["id"],
                name=campaign["name"],
                status=campaign["status"],
                created_at=float(campaign["created_at"]),
                summary=summary(rows),
            )
        )
    return CampaignList(campaigns=items)


# -- changing -----------------------------------------------------------------------------------


async def pause(rt: Runtime, campaign_id: str) -> CampaignResult:
    s = _scheduler(rt, "pause_campaign")
    campaign = await _campaign(s, "pause_campaign", campaign_id)
    if campaign["status"] == "paused":
        return await get(rt, campaign_id, message="already paused")
    if not await s.store.set_campaign_status(campaign_id, "paused", expect=("running",)):
        raise ToolError(
            f"pause_campaign failed: the campaign is {campaign['status']}, not running. Next: "
            "only a running campaign can be paused."
        )
    await s.changed(campaign_id)
    return await get(
        rt, campaign_id, message="paused: no new calls; calls in progress go on to their end"
    )


async def resume(rt: Runtime, campaign_id: str) -> CampaignResult:
    s = _scheduler(rt, "resume_campaign")
    campaign = await _campaign(s, "resume_campaign", campaign_id)
    if campaign["status"] == "running":
        return await get(rt, campaign_id, message="already running")
    if not await s.store.set_campaign_status(campaign_id, "running", expect=("paused",)):
        raise ToolError(
            f"resume_campaign failed: the campaign is {campaign['status']}, not paused. Next: "
            "a cancelled, expired or completed campaign cannot resume; start a new one."
        )
    await s.changed(campaign_id)
    s.wake()
    return await get(rt, campaign_id, message="resumed: calling the remaining numbers")


async def cancel(rt: Runtime, campaign_id: str, *, hang_up: bool) -> CampaignResult:
    s = _scheduler(rt, "cancel_campaign")
    campaign = await _campaign(s, "cancel_campaign", campaign_id)
    if campaign["status"] in ("cancelled", "completed", "expired"):
        return await get(rt, campaign_id, message=f"already {campaign['status']}")
    mode = "hangup" if hang_up else "finish"
    await s.store.set_campaign_status(
        campaign_id, "cancelled", expect=("running", "paused"), stop_mode=mode
    )
    await s.cancel(campaign_id, hang_up=hang_up)
    how = "calls in progress are hung up" if hang_up else "calls in progress finish"
    return await get(rt, campaign_id, message=f"cancelled: nothing new is dialled; {how}")
