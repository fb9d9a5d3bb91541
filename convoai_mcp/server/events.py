"""The service's event feed: verified webhook notifications fed into the server's state.

``POST /webhooks/agora`` (:mod:`convoai_mcp.server.transports.webhooks`) checks a delivery's
signature, drops repeats and answers at once; each new event is then handed to
:meth:`EventFeed.submit`, which only queues it. One worker task, in the task group of the HTTP
app's lifespan (:meth:`EventFeed.lifespan`), handles the queue in arrival order, so nothing the
feed does (the archive, a read from the service) delays an answer. What each event does
(``../shared/spec/agora-webhooks.md`` has the types; ``payload.agent_id`` names the agent):

* **101 agent joined**: a ``wait`` for ``running`` (the agent's watcher) returns now.
* **102 agent left**: the agent's limit slot is freed at once (:meth:`Guard.ended
  <convoai_mcp.server.guard.Guard.ended>`: a next start succeeds without waiting for a poll), the
  started-agent record is marked ended (when, and why: the payload's ``message`` / ``reason``),
  and its watcher hears of the end (``wait`` returns; subscribers of
  ``convoai://agents/{id}/history`` get ``notifications/resources/updated``; the end hook
  archives the turns). An agent started here that nobody watches any more gets its transcript
  snapshot (:meth:`Guard.before_end <convoai_mcp.server.guard.Guard.before_end>`).
* **103 agent history**: the conversation (``payload.contents``, the history answer's shape) is
  archived as a watcher's read would be, and pushed to the watcher (a change notifies).
* **112 turns finished**: the turns (``payload.turns``) are archived.
* **201 / 202 call state**: ``answered`` reaches a ``wait`` for it; ``hangup`` (with its
  ``reason``) is handled like 102.
* **110 agent error**, **111 agent metrics**: logged (type, agent, module; never the text).
* Anything else (an unknown type, a payload without ``agent_id``): accepted and ignored.

**Order.** Deliveries repeat and arrive out of order (the service retries with a new
``notifyMs``). Each agent's lifecycle only moves forward: joined < answered < ended, and an
event of a stage the agent has reached already changes nothing (an ended agent never runs
again). Histories are full snapshots: one older than the last applied (by the payload's ``ts``
in Unix milliseconds, else ``notifyMs``) is not archived over it. Turn batches are distinct
finished turns, so every batch is kept.

**Polling** stays the fallback: without a webhook secret nothing here runs. Once a delivery
was fed, a watched agent nobody subscribed to is polled every :data:`WEBHOOK_POLL_INTERVAL`
seconds instead of every 2 s (its end and its history come by webhook; subscribers and ``wait``
keep the usual period, since the live transcript only comes by polling).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import re
from collections import OrderedDict, deque
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Literal

if TYPE_CHECKING:
    from starlette.types import ASGIApp, Receive, Scope, Send

    from convoai_mcp.server.runtime import Runtime

__all__ = [
    "EVENT_NAMES",
    "MAX_QUEUED",
    "WEBHOOK_POLL_INTERVAL",
    "EventFeed",
    "Outcome",
    "WebhookEvent",
]

logger = logging.getLogger("convoai_mcp.webhooks")

EVENT_NAMES: dict[int, str] = {
    101: "agent_joined",
    102: "agent_left",
    103: "agent_history",
    110: "agent_error",
    111: "agent_metrics",
    112: "turns_finished",
    201: "inbound_call_state",
    202: "outbound_call_state",
}
"""The Conversational AI (v2) event types, by ``eventType``."""

MAX_QUEUED = 10_000
"""Events waiting for the worker at most; past that a new one is dropped (and logged): polling
still catches up."""
WEBHOOK_POLL_INTERVAL = 10.0
"""Seconds between history reads of a watched agent nobody subscribed to, once webhooks arrive."""
_REMEMBERED_AGENTS = 10_000
_REASON_CHARS = 200

Outcome = Literal["applied", "stale", "ignored"]
"""What the feed did with an event: applied it, found it older than what it applied already,
or had nothing to do with it (unknown type, no agent id, an error or metrics report)."""

_JOINED, _ANSWERED, _ENDED = 1, 2, 3
_CONTROL = re.compile(r"[\x00-\x1f\x7f]+")


@dataclass(frozen=True)
class WebhookEvent:
    """One accepted notification."""

    notice_id: str
    event_type: int | None
    name: str | None
    notify_ms: int | None
    payload: dict[str, Any] = field(repr=False)

    @property
    def agent_id(self) -> str | None:
        """``payload.agent_id``, when it is a string."""
        value = self.payload.get("agent_id")
        return value if isinstance(value, str) and value else None

    @property
    def at_ms(self) -> int | None:
        """When it happened: ``payload.ts`` (Unix ms), else ``notifyMs`` (when it was sent)."""
        ts = self.payload.get("ts")
        if isinstance(ts, int) and not isinstance(ts, bool):
            return ts
        return self.notify_ms


def _text(value: object) -> str | None:
    """A reason from the payload: a bounded single line, or None."""
    if not isinstance(value, str) or not value.strip():
        return None
    return _CONTROL.sub(" ", value).strip()[:_REASON_CHARS]


@dataclass
class _Progress:
    stage: int = 0
    history_ms: int | None = None


class EventFeed:
    """Queues verified events and feeds them into ``runtime`` (see the module docstring)."""

    def __init__(self, runtime: Runtime, *, max_queued: int = MAX_QUEUED) -> None:
        self.runtime = runtime
        self.max_queued = max_queued
        self.outcomes: deque[tuple[str, Outcome]] = deque(maxlen=1000)
        """``(noticeId, outcome)`` of the latest events handled, oldest first."""
        self._queue: deque[WebhookEvent] = deque()
        self._wake: asyncio.Event | None = None
        self._idle: asyncio.Event | None = None
        self._running = False
        self._progress: OrderedDict[str, _Progress] = OrderedDict()

    # -- intake ---------------------------------------------------------------------------------

    def submit(self, event: WebhookEvent) -> bool:
        """Queue ``event`` for the worker (never waits); False when it was dropped (the feed is
        not running, or :attr:`max_queued` events wait already)."""
        if not self._running or self._wake is None or self._idle is None:
            logger.warning("webhook %s not fed: the event feed is not running", event.event_type)
            return False
        if len(self._queue) >= self.max_queued:
            logger.warning("webhook %s dropped: %d events wait", event.event_type, self.max_queued)
            return False
        self._queue.append(event)
        self._idle.clear()
        self._wake.set()
        return True

    async def settled(self) -> None:
        """Return once every event submitted so far has been handled."""
        if self._idle is not None:
            await self._idle.wait()

    @contextlib.asynccontextmanager
    async def running(self) -> AsyncIterator[None]:
        """Run the worker in a task group for the duration of the block."""
        import anyio

        self._wake, self._idle = asyncio.Event(), asyncio.Event()
        self._idle.set()
        async with anyio.create_task_group() as group:
            self._running = True
            group.start_soon(self._work)
            try:
                yield
            finally:
                self._running = False
                group.cancel_scope.cancel()

    def lifespan(self, app: ASGIApp) -> ASGIApp:
        """``app`` with this feed running for as long as its lifespan (the server's life)."""

        async def wrapped(scope: Scope, receive: Receive, send: Send) -> None:
            if scope["type"] == "lifespan":
                async with self.running():
                    await app(scope, receive, send)
                return
            await app(scope, receive, send)

        return wrapped

    async def _work(self) -> None:
        assert self._wake is not None
        assert self._idle is not None
        while True:
            await self._wake.wait()
            self._wake.clear()
            while self._queue:
                event = self._queue.popleft()
                try:
                    outcome = await self.feed(event)
                except Exception as exc:  # one bad event must not stop the feed
                    logger.warning(
                        "webhook %s for %s not fed: %s",
                        event.event_type,
                        event.agent_id or "-",
                        type(exc).__name__,
                    )
                    outcome = "ignored"
                self.outcomes.append((event.notice_id, outcome))
            self._idle.set()

    # -- feeding --------------------------------------------------------------------------------

    def _progress_of(self, agent_id: str) -> _Progress:
        progress = self._progress.get(agent_id)
        if progress is None:
            progress = self._progress[agent_id] = _Progress()
            while len(self._progress) > _REMEMBERED_AGENTS:
                self._progress.popitem(last=False)
        else:
            self._progress.move_to_end(agent_id)
        return progress

    def _advance(self, agent_id: str, stage: int) -> bool:
        """Move ``agent_id``'s lifecycle forward to ``stage``; False when it is there already."""
        progress = self._progress_of(agent_id)
        if stage <= progress.stage:
            return False
        progress.stage = stage
        return True

    async def feed(self, event: WebhookEvent) -> Outcome:
        """Apply one event now (the worker calls this; see the module docstring)."""
        agent_id = event.agent_id
        if agent_id is None or event.name is None:
            return "ignored"
        guard = self.runtime.guard
        if guard.poll_interval < WEBHOOK_POLL_INTERVAL:
            guard.poll_interval = WEBHOOK_POLL_INTERVAL  # ends and histories come by webhook now
        kind = event.event_type
        if kind == 101:
            return await self._joined(agent_id)
        if kind == 102:
            reason = _text(event.payload.get("message")) or _text(event.payload.get("reason"))
            return await self._ended(agent_id, event, reason, call_state=None)
        if kind == 103:
            return await self._history(agent_id, event)
        if kind == 112:
            return await self._turns(agent_id, event)
        if kind in (201, 202):
            state = event.payload.get("state")
            if state == "answered":
                return await self._answered(agent_id)
            if state == "hangup":
                reason = _text(event.payload.get("reason"))
                return await self._ended(agent_id, event, reason, call_state="hangup")
            return "ignored"
        if kind == 110:
            module = _text(event.payload.get("module")) or "unknown module"
            logger.warning("agent %s reported an error (%s)", agent_id, module)
        return "ignored"

    async def _joined(self, agent_id: str) -> Outcome:
        if not self._advance(agent_id, _JOINED):
            return "stale"
        watcher = self.runtime.guard.watcher(agent_id)
        if watcher is not None and watcher.kind == "agent":
            await watcher.push_state("RUNNING")
        return "applied"

    async def _answered(self, agent_id: str) -> Outcome:
        if not self._advance(agent_id, _ANSWERED):
            return "stale"
        watcher = self.runtime.guard.watcher(agent_id)
        if watcher is not None and watcher.kind == "call":
            await watcher.push_state("answered")
        return "applied"

    async def _ended(
        self, agent_id: str, event: WebhookEvent, reason: str | None, *, call_state: str | None
    ) -> Outcome:
        if not self._advance(agent_id, _ENDED):
            return "stale"
        from convoai_mcp.started import END_ON_ITS_OWN

        runtime = self.runtime
        guard = runtime.guard
        watcher = guard.watcher(agent_id)
        was_watched = watcher is not None and watcher.counted
        guard.ended(agent_id)  # the slot is free from here on
        record = runtime.agents.get(agent_id)
        ends_now = record is not None and not record.ended  # not stopped through this server
        if record is not None and ends_now:
            why = END_ON_ITS_OWN + (f" ({guard.redactor.text(reason)})" if reason else "")
            runtime.mark_ended(agent_id, why)
            if event.at_ms is not None:
                record.ended_at = event.at_ms / 1000
        watcher = guard.watcher(agent_id)  # still there when someone subscribed or waits
        if watcher is not None:
            if call_state is not None and watcher.kind == "call":
                await watcher.push_state(call_state, reason)
            await watcher.push_ended()  # subscribers hear it; its end hook keeps the turns
        elif was_watched or ends_now:
            await guard.before_end(agent_id)  # what the watcher would have kept at the end
        return "applied"

    async def _history(self, agent_id: str, event: WebhookEvent) -> Outcome:
        from convoai_mcp.models import History

        progress = self._progress_of(agent_id)
        at = event.at_ms
        if at is not None and progress.history_ms is not None and at <= progress.history_ms:
            return "stale"  # an older snapshot must not be archived over a newer one
        history = History.model_validate({"agent_id": agent_id, **event.payload})
        if at is not None:
            progress.history_ms = at
        watcher = self.runtime.guard.watcher(agent_id)
        if watcher is not None and not watcher.ended:
            await watcher.push_history(history)  # archived by its hook; a change notifies
        else:
            await self.runtime.guard.keep_history(agent_id, history)
        return "applied"

    async def _turns(self, agent_id: str, event: WebhookEvent) -> Outcome:
        from convoai_mcp.models import Turns

        turns = Turns.model_validate({"agent_id": agent_id, **event.payload})
        if not turns.turns:
            return "ignored"
        await self.runtime.guard.keep_turns(agent_id, turns)
        return "applied"
