"""What the tool modules share: the runtime, waiting with progress, and the start / call / end
steps that agents and calls have in common."""

# No `from __future__ import annotations`: keeps these helpers' types plain at runtime, like the
# tool modules that use them.

import contextlib
import hashlib
import json
import secrets
import time
from collections.abc import Awaitable, Callable, Mapping
from typing import TYPE_CHECKING, Any

from convoai_mcp.server.args import Ctx
from convoai_mcp.server.results import ActionResult, TurnResult, TurnsSummary
from convoai_mcp.server.runtime import Runtime

if TYPE_CHECKING:
    from convoai_mcp.builders import AgentSpec
    from convoai_mcp.config import Settings
    from convoai_mcp.models import ActionResponse, Turn

__all__ = [
    "Probe",
    "action_result",
    "agent_spec",
    "agent_state",
    "call_state",
    "fingerprint",
    "foreign_llm",
    "progress",
    "random_suffix",
    "resources_changed",
    "rt_of",
    "status_name",
    "turn_result",
    "turns_summary",
    "wait",
]


def rt_of(ctx: Ctx) -> Runtime:
    return ctx.request_context.lifespan_context


def status_name(value: object) -> str:
    return str(value) if value is not None else "UNKNOWN"


async def progress(ctx: Ctx, done: float, total: float, message: str) -> None:
    with contextlib.suppress(Exception):  # best effort: the caller may be gone
        await ctx.report_progress(done, total, message)


Probe = Callable[[], Awaitable[tuple[str, bool]]]
"""Reads a state for :func:`_wait`: (state, whether waiting is over)."""


def agent_state(rt: Runtime, agent_id: str) -> Probe:
    """The agent's status; waiting is over once it is RUNNING, FAILED or STOPPED."""

    async def probe() -> tuple[str, bool]:
        state = status_name((await rt.client.agents.get(agent_id)).status)
        return state, state in {"RUNNING", "FAILED", "STOPPED"}

    return probe


def call_state(rt: Runtime, agent_id: str) -> Probe:
    """The call's state; waiting is over once it is answered or hung up."""

    async def probe() -> tuple[str, bool]:
        state = (await rt.client.calls.get(agent_id)).state or "ringing"
        return state, state in {"answered", "hangup"}

    return probe


async def wait(
    ctx: Ctx,
    probe: Probe,
    *,
    limit: float,
    what: str,
    interval: float = 0.25,
) -> tuple[str, float]:
    """Poll ``probe`` (-> state, done) until done or ``limit`` seconds; report progress."""
    import anyio

    started = time.monotonic()
    state, done = await probe()
    while not done:
        elapsed = time.monotonic() - started
        if elapsed >= limit:
            break
        await progress(ctx, round(elapsed, 2), limit, f"{what}: {state}")
        await anyio.sleep(min(interval, limit - elapsed))
        interval = min(interval * 1.5, 2.0)
        state, done = await probe()
    elapsed = time.monotonic() - started
    await progress(ctx, limit if done else round(elapsed, 2), limit, f"{what}: {state}")
    return state, round(elapsed, 2)


async def resources_changed(ctx: Ctx) -> None:
    """Tell listening clients (``subscriptions/listen``) that resources/list grew."""
    with contextlib.suppress(Exception):  # best effort
        await ctx.notify_resources_changed()


def random_suffix() -> str:
    return secrets.token_hex(4)


def action_result(response: "ActionResponse", agent_id: str) -> ActionResult:
    """The result of speak / interrupt / think from the service's ActionResponse."""
    return ActionResult(
        agent_id=response.agent_id or agent_id,
        channel=response.channel,
        start_ts=response.start_ts,
    )


# ---------------------------------------------------------------------------- start_agent and call
# Both create an agent that costs money; if the service's answer is lost, the same request again
# must find that agent instead of creating a second one (see server/lifecycle.py).

_NOT_THE_REQUEST = frozenset(
    {"ctx", "confirm", "wait_until_running", "wait_until_answered", "timeout_seconds"}
)
"""Arguments that say how to run a request, not what it asks for (left out of its fingerprint)."""


def fingerprint(tool: str, arguments: Mapping[str, object]) -> str:
    """What identifies "the same request again": the tool and every argument that describes
    the agent or the call (not ``confirm`` nor the waiting options), hashed."""
    described = {k: v for k, v in arguments.items() if k not in _NOT_THE_REQUEST}
    blob = json.dumps(described, sort_keys=True, default=str)
    return f"{tool}:{hashlib.sha256(blob.encode()).hexdigest()}"


def agent_spec(
    settings: "Settings",
    arguments: Mapping[str, Any],
    *,
    channel: str,
    name: str,
    agent_uid: str,
    user_uid: str,
    idle_timeout: int | None,
    for_call: bool = False,
) -> "AgentSpec":
    """The agent of a start_agent or call: the agent settings both tools take, from
    ``arguments`` (the tool's own), completed from the configuration."""
    from convoai_mcp.server import defaults

    presets = arguments["presets"]
    return defaults.agent_spec(
        settings,
        channel=channel,
        name=name,
        agent_uid=agent_uid,
        remote_uids=[user_uid],
        system_prompt=arguments["system_prompt"],
        greeting=arguments["greeting"],
        presets=list(presets) if presets else None,
        pipeline_id=arguments["pipeline_id"],
        llm_url=arguments["llm_url"],
        llm_model=arguments["llm_model"],
        tts_vendor=arguments["tts_vendor"],
        tts_voice=arguments["tts_voice"],
        asr_language=arguments["asr_language"],
        idle_timeout=idle_timeout,
        for_call=for_call,
    )


def foreign_llm(
    settings: "Settings", arguments: Mapping[str, Any], *, for_call: bool
) -> str | None:
    """The LLM endpoint the model chose instead of the configured one (for the confirmation
    question), or None; refuses an endpoint or model the operator did not allow."""
    from convoai_mcp.server import defaults

    presets = arguments.get("presets")
    return defaults.llm_choice(
        settings,
        presets=list(presets) if presets else None,
        llm_url=arguments["llm_url"],
        llm_model=arguments["llm_model"],
        for_call=for_call,
    ).foreign


def turn_result(turn: "Turn") -> TurnResult:
    """One turn as get_turns shows it."""
    from convoai_mcp.server.untrusted import scrub

    metrics = turn.metrics
    stages = {
        scrub(seg.name, max_chars=64): seg.latency
        for seg in (metrics.segmented_latency_ms or [] if metrics else [])
        if seg.name and seg.latency is not None
    }
    return TurnResult(
        turn_id=turn.turn_id,
        start_type=scrub(turn.start.type, max_chars=64) if turn.start else None,
        end_type=scrub(turn.end.type, max_chars=64) if turn.end else None,
        e2e_latency_ms=metrics.e2e_latency_ms if metrics else None,
        stages_ms=stages,
    )


def turns_summary(turns: list[TurnResult]) -> TurnsSummary:
    """Median and worst end-to-end latency, and the stage with the highest median."""
    import statistics

    measured = [t for t in turns if t.e2e_latency_ms is not None]
    worst = max(measured, key=lambda t: t.e2e_latency_ms or 0.0, default=None)
    by_stage: dict[str, list[float]] = {}
    for t in turns:
        for name, latency in t.stages_ms.items():
            by_stage.setdefault(name, []).append(latency)
    medians = {name: round(statistics.median(v), 1) for name, v in by_stage.items()}
    return TurnsSummary(
        measured_turns=len(measured),
        median_e2e_ms=round(statistics.median(t.e2e_latency_ms or 0.0 for t in measured), 1)
        if measured
        else None,
        worst_e2e_ms=worst.e2e_latency_ms if worst else None,
        worst_turn_id=worst.turn_id if worst else None,
        slowest_stage=max(medians, key=lambda n: medians[n]) if medians else None,
        stage_median_ms=medians,
    )
