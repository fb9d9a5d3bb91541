"""The campaign tools: start many calls at once (paced, retried, one approval), follow, pause,
resume and cancel them (:mod:`convoai_mcp.server.campaigns`)."""

# No `from __future__ import annotations`: the SDK reads these signatures at registration time.

from typing import Annotated, Literal

from mcp_types import InputRequiredResult
from pydantic import Field

from convoai_mcp.server.args import E164, Confirm, Ctx, Greeting, ProfileName, SystemPrompt
from convoai_mcp.server.campaigns.models import (
    MAX_DESTINATIONS,
    CampaignChange,
    CampaignList,
    CampaignResult,
    Destination,
    Pacing,
    Retries,
)
from convoai_mcp.server.registry import tool
from convoai_mcp.server.tools._common import rt_of

__all__ = [
    "cancel_campaign",
    "get_campaign",
    "list_campaigns",
    "pause_campaign",
    "resume_campaign",
    "start_campaign",
]

CampaignId = Annotated[
    str,
    Field(
        min_length=1,
        max_length=64,
        pattern=r"^[A-Za-z0-9_-]+$",
        description="ID of the campaign (from start_campaign or list_campaigns).",
    ),
]


@tool(order=200, title="Start a calling campaign", read_only=False, ui=True)
async def start_campaign(
    ctx: Ctx,
    name: Annotated[
        str, Field(min_length=1, max_length=100, description="A name for the campaign.")
    ],
    destinations: Annotated[
        list[Destination],
        Field(
            min_length=1,
            max_length=MAX_DESTINATIONS,
            description="The numbers to call, each with optional template variables.",
        ),
    ],
    profile: ProfileName = None,
    system_prompt: SystemPrompt = None,
    greeting: Greeting = None,
    from_number: Annotated[
        E164 | None,
        Field(description="Caller id: the project's outbound-enabled number (default: first)."),
    ] = None,
    pacing: Annotated[
        Pacing | None,
        Field(description="max_concurrent calls at once and calls_per_minute (default 2, 10)."),
    ] = None,
    retries: Annotated[
        Retries | None,
        Field(
            description="Retry rules per outcome (no_answer, busy, failed): count and "
            "delay_seconds (default: no retries)."
        ),
    ] = None,
    ends_at: Annotated[
        float | None,
        Field(
            ge=0,
            le=2**40,
            description="Unix time (s) after which nothing new is dialled (calls in progress "
            "finish).",
        ),
    ] = None,
    confirm: Confirm = False,
) -> CampaignChange | InputRequiredResult:
    """Call a list of people, paced, with retries, and get a report: e.g. "call these forty
    patients and confirm tomorrow's appointments".

    Each destination is a number plus optional template variables for the profile's prompt
    (e.g. {"patient": "Ann", "time": "3pm"}). The whole list is checked against the server's
    calling rules first (allow-list, valid numbers, quiet hours in the callee's time, daily
    caps): a number that fails is marked skipped with the rule, not dropped. One approval by
    the user covers the campaign and shows every number. Real phones ring and calls cost
    money: only start campaigns the user asked for. The campaign survives a server restart.
    Follow it with get_campaign (or the resource convoai://campaigns/{campaign_id}); read each
    call's transcript with get_history on its agent_id; the campaign_report prompt summarises.
    """
    arguments = dict(locals())
    from convoai_mcp.server.campaigns import service

    return await service.start(
        ctx,
        rt_of(ctx),
        name=name,
        destinations=destinations,
        profile=profile,
        system_prompt=system_prompt,
        greeting=greeting,
        from_number=from_number,
        pacing=pacing or Pacing(),
        retries=retries or Retries(),
        ends_at=ends_at,
        confirm=confirm,
        arguments={
            k: (v.model_dump() if hasattr(v, "model_dump") else v)
            for k, v in arguments.items()
            if k != "ctx"
        }
        | {"destinations": [d.model_dump() for d in destinations]},
    )


@tool(order=201, title="Get a campaign", read_only=True, idempotent=True, ui=True)
async def get_campaign(ctx: Ctx, campaign_id: CampaignId) -> CampaignResult:
    """A campaign's status, every destination (state, attempts, agent_id, duration, latency)
    and the summary: counts per outcome and the numbers that need a human. Read-only."""
    from convoai_mcp.server.campaigns import service

    return await service.get(rt_of(ctx), campaign_id)


@tool(order=202, title="List campaigns", read_only=True, idempotent=True, ui=True)
async def list_campaigns(
    ctx: Ctx,
    status: Annotated[
        Literal["running", "paused", "cancelled", "completed", "expired"] | None,
        Field(description="Only campaigns in this status."),
    ] = None,
    limit: Annotated[
        int, Field(ge=1, le=100, description="At most this many (newest first).")
    ] = 20,
) -> CampaignList:
    """The campaigns, newest first, each with its summary. Read-only."""
    from convoai_mcp.server.campaigns import service

    return await service.listing(rt_of(ctx), status=status, limit=limit)


@tool(order=203, title="Pause a campaign", read_only=False, idempotent=True, ui=True)
async def pause_campaign(ctx: Ctx, campaign_id: CampaignId) -> CampaignChange:
    """Stop placing new calls of a running campaign; calls in progress go on to their end.
    resume_campaign continues it."""
    from convoai_mcp.server.campaigns import service

    return await service.pause(rt_of(ctx), campaign_id)


@tool(order=204, title="Resume a campaign", read_only=False, idempotent=True, ui=True)
async def resume_campaign(ctx: Ctx, campaign_id: CampaignId) -> CampaignChange:
    """Continue a paused campaign: its remaining numbers are called, paced as before."""
    from convoai_mcp.server.campaigns import service

    return await service.resume(rt_of(ctx), campaign_id)


@tool(
    order=205,
    title="Cancel a campaign",
    read_only=False,
    destructive=True,
    idempotent=True,
    ui=True,
)
async def cancel_campaign(
    ctx: Ctx,
    campaign_id: CampaignId,
    hang_up: Annotated[
        bool,
        Field(
            description="true: hang up the calls in progress now; false (default): let them "
            "finish. Either way nothing new is dialled."
        ),
    ] = False,
) -> CampaignChange:
    """Cancel a campaign: its numbers not called yet are marked cancelled."""
    from convoai_mcp.server.campaigns import service

    return await service.cancel(rt_of(ctx), campaign_id, hang_up=hang_up)
