"""The start / call / end flows the tools share: every agent the service creates for this server
is booked (limit slot, transcript watcher and archive, the record in ``resources/list``), and an
agent nobody may know about is never left running.

A create runs, with its booking, in a task of the runtime (:meth:`Runtime.spawn`) that the
request's cancellation cannot reach: a cancelled ``start_agent`` or ``call`` (a client timeout,
``notifications/cancelled``) still books what the service created. When the outcome of a create
is unknown (the answer was lost or timed out), the server finds out by the request's
deterministic name (agents) or channel (calls), for :attr:`Runtime.settle_seconds`, holding the
slot meanwhile, and books what it finds; a booking the limits no longer allow stops the agent
instead. The same request again gets that agent (:func:`earlier_outcome`).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import Awaitable, Callable
from typing import TYPE_CHECKING, Any, Literal, TypeVar

import anyio
from mcp.server.mcpserver.exceptions import ToolError

from convoai_mcp.server.guard import Archived
from convoai_mcp.server.runtime import Pending, Runtime, StartedAgent

if TYPE_CHECKING:
    from mcp.server.mcpserver import Context

    from convoai_mcp.policy import Reservation
    from convoai_mcp.server.results import EndResult

__all__ = [
    "create",
    "earlier_outcome",
    "end",
    "find_agent",
    "find_call",
    "how_it_ended",
    "remember",
]

logger = logging.getLogger(__name__)

R = TypeVar("R")
Tool = Literal["start_agent", "call"]

MAX_UNANSWERED = 256
"""Unanswered requests remembered (the oldest are forgotten first)."""
EARLIER_WAIT = 10.0
"""Seconds the same request again waits for the server to find out what the first one did."""


def remember(rt: Runtime, key: str, pending: Pending) -> None:
    """Remember ``pending`` under the request's fingerprint ``key`` (bounded)."""
    rt.unanswered.pop(key, None)
    rt.unanswered[key] = pending
    while len(rt.unanswered) > MAX_UNANSWERED:
        rt.unanswered.pop(next(iter(rt.unanswered)))


async def earlier_outcome(rt: Runtime, key: str, tool: Tool) -> tuple[Pending | None, str | None]:
    """For a request whose fingerprint ``key`` was sent before without its answer reaching the
    caller: (its pending record, the id of the agent it created and the server booked). An
    agent id means "return that agent"; (pending, None) means it created none: start again
    with the same channel and name. (None, None): no such earlier request."""
    pending = rt.unanswered.get(key)
    if pending is None:
        return None, None
    known, agent_id = await pending.outcome(EARLIER_WAIT)
    if not known:
        raise ToolError(
            f"{tool} failed: the same request sent earlier may still be creating agent "
            f"{pending.name}; the server is finding out. Next: call {tool} again with the same "
            "arguments in a few seconds (it returns that agent once found)."
        )
    if agent_id is not None and agent_id in rt.agents and not rt.agents[agent_id].ended:
        rt.unanswered.pop(key, None)
        return pending, agent_id
    return pending, None


async def create(
    ctx: Context[Runtime, Any],
    *,
    tool: Tool,
    key: str,
    pending: Pending,
    reservation: Reservation,
    send: Callable[[], Awaitable[R]],
    agent_id_of: Callable[[R], str],
    record: Callable[[str], StartedAgent],
    find: Callable[[], Awaitable[str | None]],
) -> R:
    """Send a create (``send``) and book what it created; see the module docstring.

    ``record`` describes the agent for a given id; ``find`` looks it up by name or channel
    when the answer is lost. Raises :class:`ToolError` when the outcome is unknown.
    """
    from convoai_mcp.errors import ConvoAIError

    rt: Runtime = ctx.request_context.lifespan_context

    async def book(agent_id: str) -> bool:
        return await _book(ctx, rt, record(agent_id), reservation, pending)

    async def create_and_book() -> R:
        try:
            response = await send()
        except ConvoAIError as exc:
            if exc.maybe_performed:  # it may exist: find out, holding the slot
                rt.spawn(_settle(rt, pending, reservation, find, book), f"convoai-find-{key}")
            else:
                rt.guard.release(reservation)
                pending.settle(None)
            raise
        except BaseException:
            rt.guard.release(reservation)
            pending.settle(None)
            raise
        if not await book(agent_id_of(response)):
            raise ToolError(
                f"{tool} failed: the agent was created after its slot had expired and the "
                "limit is full now, so it was stopped again. Next: end an agent or call you "
                "no longer need, then try again."
            )
        return response

    task = rt.spawn(create_and_book(), f"convoai-create-{pending.name}")
    try:
        response = await asyncio.shield(task)  # a cancelled request leaves it running
    except BaseException as exc:
        cancelled = isinstance(exc, anyio.get_cancelled_exc_class())
        if cancelled or (isinstance(exc, ConvoAIError) and exc.maybe_performed):
            remember(rt, key, pending)  # the same request again learns what happened
        if isinstance(exc, ConvoAIError) and exc.maybe_performed:
            raise ToolError(
                f"{tool} failed: {exc.message} (an attempt reached the service but its answer "
                f"was lost). Next: the agent {pending.name} may have started anyway: the server "
                "is finding out by its name and keeps it (listed, counted against the limits) "
                f"if so; call {tool} again with the same arguments and it returns that agent "
                "instead of starting a second one (or check list_agents)."
            ) from None
        raise
    rt.unanswered.pop(key, None)
    return response


async def _book(
    ctx: Context[Runtime, Any],
    rt: Runtime,
    agent: StartedAgent,
    reservation: Reservation,
    pending: Pending,
) -> bool:
    """Book ``agent`` (slot, watcher, record); stop it when the limits no longer allow it."""
    if not rt.guard.started(
        agent.agent_id, kind=agent.kind, channel=agent.channel, reservation=reservation
    ):
        await _stop_untracked(rt, agent)
        pending.settle(None)
        return False
    rt.record(agent)
    pending.settle(agent.agent_id)
    with contextlib.suppress(Exception):  # best effort: the caller may be gone
        await ctx.notify_resources_changed()
    return True


async def _stop_untracked(rt: Runtime, agent: StartedAgent) -> None:
    from convoai_mcp.errors import ConvoAIError

    logger.warning("stopping %s %s: over the limit when it was found", agent.kind, agent.agent_id)
    try:
        if agent.kind == "call":
            await rt.client.calls.hangup(agent.agent_id)
        else:
            await rt.client.agents.stop(agent.agent_id)
    except ConvoAIError as exc:
        logger.warning("could not stop %s: %s", agent.agent_id, exc.message)


async def _settle(
    rt: Runtime,
    pending: Pending,
    reservation: Reservation,
    find: Callable[[], Awaitable[str | None]],
    book: Callable[[str], Awaitable[bool]],
) -> None:
    """Look for what an unanswered create made, until :attr:`Runtime.settle_seconds`: book it
    when found, else give the slot back."""
    from convoai_mcp.errors import ConvoAIError

    deadline = time.monotonic() + rt.settle_seconds
    delay = 0.05
    try:
        while True:
            try:
                agent_id = await find()
            except ConvoAIError as exc:
                logger.info("looking for %s failed: %s", pending.name, exc.message)
                agent_id = None
            if agent_id is not None:
                await book(agent_id)
                return
            if time.monotonic() >= deadline:
                logger.info("%s was not created; its slot is free again", pending.name)
                return
            await anyio.sleep(delay)
            delay = min(delay * 2, 5.0)
    finally:
        if not pending.settled:
            rt.guard.release(reservation)
            pending.settle(None)


async def find_agent(rt: Runtime, channel: str, name: str) -> str | None:
    """The id of the agent named ``name`` in ``channel`` that has not ended, if any."""
    from convoai_mcp.errors import NotFoundError
    from convoai_mcp.server.watchers import is_terminal

    async for summary in rt.client.agents.list(channel=channel):
        if is_terminal(summary.status) or summary.agent_id in rt.agents:
            continue
        found = (summary.model_extra or {}).get("name")
        if found is None:
            try:
                turns = await rt.client.agents.turns(summary.agent_id, page_size=1, all_pages=False)
            except NotFoundError:
                continue
            found = turns.name
        if found == name:
            return summary.agent_id
    return None


async def find_call(rt: Runtime, channel: str, to_number: str, name: str) -> str | None:
    """The id of the outbound call to ``to_number`` in ``channel`` whose agent is named
    ``name`` (newest first), leaving out calls this server knows already."""
    from convoai_mcp.errors import NotFoundError

    matches = [
        call
        async for call in rt.client.calls.list(number=to_number, type="outbound")
        if call.channel == channel and call.agent_id and call.agent_id not in rt.agents
    ]
    for call in sorted(matches, key=lambda call: call.create_ts or 0, reverse=True):
        assert call.agent_id is not None
        try:
            turns = await rt.client.agents.turns(call.agent_id, page_size=1, all_pages=False)
        except NotFoundError:
            continue
        if turns.name in (None, name):  # a service that does not say the name: the newest
            return call.agent_id
    return None


async def end(
    rt: Runtime,
    agent_id: str,
    stop: Callable[[str], Awaitable[None]],
    *,
    kind: Literal["agent", "call"] = "agent",
    reason: str | None = None,
) -> EndResult:
    """Archive the transcript, stop (``stop``), free the slot and mark the record ended
    (``reason``: how, for the record).

    The result says whether the transcript really is in the archive (and why not). A call
    that had already ended (404 on hang-up) is a success that says so; hanging up an agent
    that is not a call is refused with the tool to use instead."""
    from convoai_mcp.errors import NotFoundError
    from convoai_mcp.server.results import EndResult

    try:
        archived = await rt.guard.before_end(agent_id)
    except Exception as exc:  # the archive must not block ending a call that costs money
        archived = Archived(False, f"{type(exc).__name__}")
    notes: list[str] = []
    try:
        await stop(agent_id)
    except NotFoundError:
        if kind != "call":
            raise
        notes.append(await _already_ended_call(rt, agent_id))
    rt.guard.ended(agent_id)
    rt.mark_ended(agent_id, reason)
    if not archived.ok:
        notes.append(f"the transcript could not be archived: {archived.problem}")
    return EndResult(
        agent_id=agent_id,
        ended=True,
        archived_history=archived.ok,
        note="; ".join(notes) or None,
    )


async def _already_ended_call(rt: Runtime, agent_id: str) -> str:
    """After a 404 on hang-up: say how the call ended, or refuse an agent that is no call."""
    from convoai_mcp.errors import NotFoundError

    try:
        info = await rt.client.calls.get(agent_id)
    except NotFoundError:
        try:
            await rt.client.agents.get(agent_id)
        except NotFoundError:
            raise ToolError(
                f"hangup failed: no call or agent {agent_id} is known to the service. Next: "
                "check the agent_id (list_calls shows the calls)."
            ) from None
        raise ToolError(
            f"hangup failed: {agent_id} is an agent, not a phone call. Next: use stop_agent "
            "to stop it."
        ) from None
    how = f"state {info.state}" if info.state else "no state"
    if info.reason:
        how += f", reason {info.reason}"
    return f"the call had already ended ({how}); nothing was hung up"


def how_it_ended(rt: object, agent_id: str) -> str | None:
    """When and how an agent this server started ended (from the record), or None."""
    if not isinstance(rt, Runtime):
        return None
    known = rt.agents.get(agent_id)
    if known is None or not known.ended:
        return None
    what = "this call" if known.kind == "call" else "this agent"
    how = known.end_reason or "ended"
    when = ""
    if known.ended_at is not None:
        stamp = time.strftime("%Y-%m-%d %H:%M:%S UTC", time.gmtime(known.ended_at))
        when = f" at {stamp} ({max(0, int(time.time() - known.ended_at))} s ago)"
    return (
        f"{what} was started by this server and has ended: {how}{when}; its transcript stays "
        f"readable at convoai://agents/{agent_id}/history"
    )
