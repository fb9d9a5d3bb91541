"""What the tool modules share: the runtime, waiting with progress, and the start / call / end
steps that agents and calls have in common."""

# No `from __future__ import annotations`: keeps these helpers' types plain at runtime, like the
# tool modules that use them.

import contextlib
import hashlib
import json
import secrets
import time
from collections.abc import AsyncIterator, Awaitable, Callable, Mapping
from typing import TYPE_CHECKING, Any

from mcp.server.mcpserver.exceptions import ToolError

from convoai_mcp.server.args import Ctx
from convoai_mcp.server.results import ActionResult, EndResult
from convoai_mcp.server.runtime import Runtime, StartedAgent

if TYPE_CHECKING:
    from convoai_mcp.builders import AgentSpec
    from convoai_mcp.config import Settings
    from convoai_mcp.models import ActionResponse

__all__ = [
    "Probe",
    "action_result",
    "agent_spec",
    "agent_state",
    "call_state",
    "end",
    "fingerprint",
    "first_outbound_number",
    "foreign_llm",
    "progress",
    "random_suffix",
    "resources_changed",
    "rt_of",
    "started",
    "status_name",
    "unanswered",
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
# must find that agent instead of creating a second one (see unanswered).

_MAX_UNANSWERED = 256

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


@contextlib.asynccontextmanager
async def unanswered(
    rt: Runtime, key: str, channel: str, name: str, tool: str
) -> AsyncIterator[None]:
    """Around a start or a call (``key``: its :func:`_fingerprint`): when its answer never
    comes, remember the channel and name it used, so that the same request again reuses them
    and finds the agent this one may have created instead of creating a second; and say so."""
    from convoai_mcp.errors import ConvoAIError

    try:
        yield
    except ConvoAIError as exc:
        if not exc.maybe_performed:
            raise  # certainly not performed (refused, never reached): tool_errors says so
        rt.unanswered.pop(key, None)
        rt.unanswered[key] = (channel, name)
        while len(rt.unanswered) > _MAX_UNANSWERED:
            rt.unanswered.pop(next(iter(rt.unanswered)))
        raise ToolError(
            f"{tool} failed: {exc.message} (an attempt reached the service but its answer was "
            f"lost). Next: the agent {name} may have started anyway; call {tool} again with the "
            "same arguments and it returns that agent instead of starting a second one (or "
            "check list_agents first)."
        ) from None
    rt.unanswered.pop(key, None)


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


async def first_outbound_number(rt: Runtime) -> str:
    """The project's first outbound-enabled number (call's default from_number)."""
    numbers = await rt.client.phone_numbers.list()
    outbound = [n.phone_number for n in numbers if n.outbound and n.phone_number]
    if not outbound:
        raise ToolError(
            "call failed: this project has no outbound-enabled phone number. Next: add one "
            "in the Agora console (or enable outbound on an existing one), then call again."
        )
    return outbound[0]


async def started(ctx: Ctx, agent: StartedAgent) -> None:
    """Book an agent or call that was just created: the record (resources/list), the guard
    (limits, archive watcher), and a list-changed notification."""
    rt = rt_of(ctx)
    rt.record(agent)
    rt.guard.started(agent.agent_id, kind=agent.kind, channel=agent.channel)
    await resources_changed(ctx)


async def end(
    rt: Runtime, agent_id: str, stop: Callable[[str], Awaitable[None]], reason: str
) -> EndResult:
    archived = True
    try:
        await rt.guard.before_end(agent_id)
    except Exception:  # the archive must not block ending a call that costs money
        archived = False
    await stop(agent_id)
    rt.guard.ended(agent_id)
    rt.mark_ended(agent_id, reason)
    return EndResult(
        agent_id=agent_id,
        ended=True,
        archived_history=archived and rt.settings.archive,
    )
