"""What the campaign tools take and return: the destinations, pacing and retry rules of
``start_campaign``, and the campaign as ``get_campaign`` (and the resource) shows it."""

from __future__ import annotations

from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from convoai_mcp.server.args import E164

__all__ = [
    "NEEDS_HUMAN",
    "OUTCOMES",
    "AttemptResult",
    "CampaignList",
    "CampaignResult",
    "CampaignSummary",
    "CampaignSummaryItem",
    "Destination",
    "DestinationResult",
    "LatencySummary",
    "Pacing",
    "Retries",
    "RetryRule",
]

OUTCOMES = ("ended", "no_answer", "busy", "failed")
"""How a placed call can turn out (``ended``: it was answered and then ended)."""
NEEDS_HUMAN = frozenset({"no_answer", "busy", "failed", "skipped"})
"""Final states the summary lists as needing a human (no conversation took place)."""

MAX_DESTINATIONS = 5000


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid")


# -- arguments ----------------------------------------------------------------------------------


class Destination(_Model):
    """One number to call, with the values for the profile's {{placeholders}}."""

    number: E164 = Field(description="The number to call, E.164 (e.g. +14155550123).")
    variables: dict[str, Annotated[str, Field(max_length=500)]] | None = Field(
        default=None,
        max_length=50,
        description='Per-number template variables, e.g. {"patient": "Ann", "time": "3pm"} '
        "(the profile's {{patient}} placeholders; needs a profile).",
    )


class Pacing(_Model):
    """How fast the campaign dials."""

    max_concurrent: int = Field(
        default=2,
        ge=1,
        le=100,
        description="Calls in progress at once (also bounded by the server's CONVOAI_MAX_CALLS).",
    )
    calls_per_minute: int = Field(
        default=10, ge=1, le=600, description="New calls placed per minute at most."
    )


class RetryRule(_Model):
    """Retries after one outcome."""

    count: int = Field(default=0, ge=0, le=10, description="Retries after this outcome.")
    delay_seconds: float = Field(
        default=300.0, ge=0, le=86400, description="Seconds between the end of a try and the next."
    )


class Retries(_Model):
    """Retry rules per outcome (none by default)."""

    no_answer: RetryRule = Field(default_factory=RetryRule)
    busy: RetryRule = Field(default_factory=RetryRule)
    failed: RetryRule = Field(default_factory=RetryRule)


# -- results ------------------------------------------------------------------------------------


class LatencySummary(_Model):
    """End-to-end latency over the call's turns (from its turn metrics)."""

    measured_turns: int = Field(description="Turns with a measured end-to-end latency.")
    median_e2e_ms: float | None = Field(description="Median end-to-end latency, ms.")
    worst_e2e_ms: float | None = Field(description="Worst end-to-end latency, ms.")


class AttemptResult(_Model):
    """One try at a number."""

    attempt: int = Field(description="1 for the first try, 2 for the first retry, ...")
    started_at: float = Field(description="Unix time (s) the try began.")
    ended_at: float | None = Field(default=None, description="Unix time (s) it ended.")
    outcome: str | None = Field(
        default=None, description="ended (answered), no_answer, busy, failed; null while on."
    )
    reason: str | None = Field(default=None, description="The service's reason or message.")
    agent_id: str | None = Field(default=None, description="The call's agent_id.")


class DestinationResult(_Model):
    """One destination of a campaign and how it went."""

    index: int = Field(description="Position in the destinations list (0-based).")
    number: str = Field(description="The number, E.164.")
    state: str = Field(
        description="queued, dialing, ringing, answered, ended, no_answer, busy, failed, "
        "skipped (refused by a calling rule, see rule) or cancelled."
    )
    reason: str | None = Field(default=None, description="Why it is in this state.")
    rule: str | None = Field(
        default=None, description="The calling rule that skipped it (allow_list, call_hours, ...)."
    )
    variables: dict[str, str] | None = Field(default=None, description="Its template variables.")
    attempts: list[AttemptResult] = Field(default_factory=list, description="Every try, in order.")
    agent_id: str | None = Field(
        default=None,
        description="The latest call's agent_id: its transcript is get_history / "
        "convoai://agents/{agent_id}/history (kept in the archive).",
    )
    duration_seconds: float | None = Field(
        default=None, description="Seconds from answer to end of the latest call."
    )
    hung_up_by: Literal["callee", "agent", "server"] | None = Field(
        default=None, description="Who ended the answered call."
    )
    latency: LatencySummary | None = Field(default=None, description="Turn latency summary.")
    next_attempt_at: float | None = Field(
        default=None, description="Unix time (s) of the next try, when one is scheduled."
    )


class CampaignSummary(_Model):
    """Counts per state and who needs a human."""

    total: int = Field(description="Destinations in the campaign.")
    counts: dict[str, int] = Field(description="Destinations per state (only states with some).")
    in_progress: int = Field(description="Calls being placed or talked now.")
    queued: int = Field(description="Destinations still to call (first try or retry).")
    done: int = Field(description="Destinations in a final state.")
    needs_human: list[str] = Field(
        description="Numbers no conversation was had with (no answer, busy, failed or skipped "
        "after every retry): follow up by hand."
    )


class CampaignResult(_Model):
    """A campaign: its settings, every destination and the summary."""

    campaign_id: str = Field(description="ID of the campaign; pass it to get_campaign, ...")
    name: str = Field(description="Its name.")
    status: str = Field(description="running, paused, cancelled, completed or expired.")
    created_at: float = Field(description="Unix time (s) it was started.")
    updated_at: float = Field(description="Unix time (s) of its last status change.")
    ends_at: float | None = Field(
        default=None, description="Unix time (s) after which nothing new is dialled."
    )
    profile: str | None = Field(default=None, description="The agent profile its calls use.")
    from_number: str | None = Field(default=None, description="The caller id.")
    pacing: Pacing = Field(description="How fast it dials.")
    retries: Retries = Field(description="Retry rules per outcome.")
    summary: CampaignSummary = Field(description="Counts per state and numbers needing a human.")
    destinations: list[DestinationResult] = Field(description="Every destination, by index.")
    resource: str = Field(description="The campaign's resource URI (subscribe for updates).")
    message: str = Field(description="What happened / what to do next, in a sentence.")


class CampaignSummaryItem(_Model):
    """A campaign in a list."""

    campaign_id: str
    name: str
    status: str
    created_at: float
    summary: CampaignSummary


class CampaignList(_Model):
    """Campaigns, newest first."""

    campaigns: list[CampaignSummaryItem]


def dump(model: BaseModel) -> dict[str, Any]:
    """A result as JSON (the resource's body)."""
    data: dict[str, Any] = model.model_dump(mode="json")
    return data
