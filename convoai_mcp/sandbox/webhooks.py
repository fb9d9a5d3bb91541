"""The emulator's notification callbacks: what happens to its agents and calls, POSTed to a URL
signed as the service signs them (``../shared/spec/agora-webhooks.md``).

:class:`WebhookSender` looks at the state whenever something may have happened (a request
answered, time moved: :attr:`SandboxState.listeners <.state.SandboxState.listeners>`, and every
``tick`` seconds of real time) and queues one notice per event it has not sent yet:

* 101 agent joined, once it runs: ``start_ts``, ``status`` ``RUNNING``;
* 112 turns finished, as turns end: ``turns`` (the turns answer's items), and with each a 111
  agent metrics: ``metrics`` (``turn_id``, ``e2e_latency_ms``, ``segmented_latency_ms``);
* 201 / 202 inbound / outbound call state, when answered and when hung up: ``state``
  (``answered`` / ``hangup``), ``reason`` at the end, ``from_number``, ``to_number``;
* 102 agent left, once it stopped: ``start_ts``, ``stop_ts``, ``status`` ``STOPPED``,
  ``message`` (why it stopped); then 103 agent history: the same and ``contents`` (the history
  answer's entries).

Every payload has ``agent_id``, ``channel``, ``ts`` (Unix ms it happened) and the start's
``labels`` when it had some (110 agent error is not emitted: nothing fails inside an emulated
agent). Each notice is ``{"noticeId", "productId": 17, "eventType", "notifyMs", "payload"}``
with a unique ``noticeId``, sent as compact JSON with ``Agora-Signature`` (hex HMAC-SHA1 of
the body) and ``Agora-Signature-V2`` (hex HMAC-SHA256). A delivery that is not answered 2xx
within ``timeout`` seconds is retried after :data:`RETRY_DELAYS` seconds **of the state's
clock** (at most three retries, the same ``noticeId``, a new ``notifyMs``), so tests move time
instead of sleeping: ``state.advance(5)`` then ``await sender.flush()``. Notices of one agent
are queued in the order things happened; a retried one arrives after later ones, as from the
service.
"""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import hmac
import json
import logging
import uuid
from collections import deque
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    import httpx

    from .records import AgentRecord
    from .state import SandboxState

__all__ = ["PRODUCT_ID", "RETRY_DELAYS", "Delivery", "WebhookSender", "sign"]

_log = logging.getLogger("convoai_mcp.sandbox.webhooks")

PRODUCT_ID = 17
"""``productId`` of Conversational AI notifications."""
RETRY_DELAYS = (5.0, 20.0, 60.0)
"""Seconds (state time) before the 1st, 2nd and 3rd retry of a failed delivery."""
_KEPT = 1000


def sign(secret: str, body: bytes) -> dict[str, str]:
    """The signature headers of ``body``: ``Agora-Signature`` (HMAC-SHA1) and
    ``Agora-Signature-V2`` (HMAC-SHA256), lowercase hex, keyed with ``secret``."""
    key = secret.encode()
    return {
        "Agora-Signature": hmac.new(key, body, hashlib.sha1).hexdigest(),
        "Agora-Signature-V2": hmac.new(key, body, hashlib.sha256).hexdigest(),
    }


@dataclass
class Delivery:
    """One notice and its delivery so far."""

    notice_id: str
    event_type: int
    payload: dict[str, Any]
    due: float
    """State time at which it is (re)sent next."""
    attempts: int = 0
    status: int | None = None
    """The last answer's status (None: no answer, or not sent yet)."""


@dataclass
class _Sent:
    """What was queued for one agent already."""

    joined: bool = False
    answered: bool = False
    hung_up: bool = False
    left: bool = False
    turns: set[int] = field(default_factory=set)


def _ms(seconds: float) -> int:
    return round(seconds * 1000)


class WebhookSender:
    """Delivers the state's events to ``url`` signed with ``secret`` (see the module doc)."""

    def __init__(
        self,
        state: SandboxState,
        url: str,
        secret: str,
        *,
        timeout: float = 10.0,
        retry_delays: tuple[float, ...] = RETRY_DELAYS,
        tick: float | None = None,
    ) -> None:
        self.state = state
        self.url = url
        self.secret = secret
        self.timeout = timeout
        self.retry_delays = retry_delays
        self.tick = tick
        """Also look for events every ``tick`` seconds of real time (the command line: agents
        time out with the wall clock); None: only when told (requests, :meth:`advance`)."""
        self.pending: list[Delivery] = []
        """Queued or waiting for a retry, oldest first."""
        self.delivered: deque[Delivery] = deque(maxlen=_KEPT)
        """Answered 2xx, in delivery order (the last 1000)."""
        self.failed: deque[Delivery] = deque(maxlen=_KEPT)
        """Given up on after the last retry."""
        self._sent: dict[str, _Sent] = {}
        self._lock = asyncio.Lock()
        self._wake = asyncio.Event()
        self._loop: asyncio.AbstractEventLoop | None = None
        self._client: httpx.AsyncClient | None = None
        self._task: asyncio.Task[None] | None = None
        state.listeners.append(self.wake)

    # -- looking -------------------------------------------------------------------------------

    def collect(self) -> int:
        """Queue a notice for everything that happened by now and was not queued yet; returns
        how many were queued."""
        state = self.state
        queued: list[tuple[float, int, dict[str, Any]]] = []
        with state.lock:
            now = state.settle()
            for agent_id in [a for a in self._sent if a not in state.agents]:
                del self._sent[agent_id]  # evicted: nothing more can happen to it
            for agent in state.agents.values():
                queued.extend(self._events_of(agent, now))
            queued.sort(key=lambda item: item[0])
            for at, event_type, payload in queued:
                payload["ts"] = _ms(at)
                self.pending.append(Delivery(uuid.uuid4().hex, event_type, payload, due=now))
        return len(queued)

    def _events_of(self, agent: AgentRecord, now: float) -> list[tuple[float, int, dict[str, Any]]]:
        sent = self._sent.setdefault(agent.agent_id, _Sent())
        base: dict[str, Any] = {"agent_id": agent.agent_id, "channel": agent.config.channel}
        labels = agent.config.properties.get("labels")
        if isinstance(labels, dict):
            base["labels"] = dict(labels)
        out: list[tuple[float, int, dict[str, Any]]] = []
        stopped = (
            agent.stopped_at if agent.stopped_at is not None and agent.stopped_at <= now else None
        )
        ran = agent.running_at <= now and (stopped is None or stopped > agent.running_at)
        if ran and not sent.joined:
            sent.joined = True
            out.append(
                (
                    agent.running_at,
                    101,
                    {**base, "start_ts": int(agent.created_at), "status": "RUNNING"},
                )
            )
        call = self.state.calls.get(agent.agent_id)
        if call is not None:
            event_type = 202 if call.type == "outbound" else 201
            numbers = {"from_number": call.from_number, "to_number": call.to_number}
            if call.state(now) is not None and ran and not sent.answered:
                sent.answered = True
                out.append((call.answered_at, event_type, {**base, **numbers, "state": "answered"}))
            if call.state(now) == "hangup" and not sent.hung_up and call.stopped_at is not None:
                sent.hung_up = True
                end = {"state": "hangup", "reason": call.reason}
                out.append((call.stopped_at, event_type, {**base, **numbers, **end}))
        ended = [t for t in agent.turns if t.end_at <= now and t.turn_id not in sent.turns]
        if ended:
            sent.turns.update(t.turn_id for t in ended)
            at = max(t.end_at for t in ended)
            out.append((at, 112, {**base, "turns": [t.to_wire(agent, now) for t in ended]}))
            metrics = [
                {
                    "turn_id": t.turn_id,
                    "e2e_latency_ms": t.e2e_latency_ms,
                    "segmented_latency_ms": t.segments,
                }
                for t in ended
            ]
            out.append((at, 111, {**base, "metrics": metrics}))
        if stopped is not None and not sent.left:
            sent.left = True
            times = {"start_ts": int(agent.created_at), "stop_ts": int(stopped)}
            out.append(
                (stopped, 102, {**base, **times, "status": "STOPPED", "message": agent.message})
            )
            contents = [entry.to_wire() for entry in agent.history]
            out.append((stopped, 103, {**base, **times, "status": "STOPPED", "contents": contents}))
        return out

    # -- delivering ----------------------------------------------------------------------------

    def wake(self) -> None:
        """Something may have happened: look (soon, in the sender's task, once started)."""
        if self._loop is not None and not self._loop.is_closed():
            self._loop.call_soon_threadsafe(self._wake.set)

    async def flush(self) -> None:
        """Queue what happened, then deliver every notice that is due (waiting for the
        answers); the ones that fail wait for their retry time."""
        async with self._lock:
            self.collect()
            now = self.state.now()
            due = [d for d in self.pending if d.due <= now]
            for delivery in due:
                await self._deliver(delivery)

    async def _deliver(self, delivery: Delivery) -> None:
        import httpx

        if self._client is None:
            self._client = httpx.AsyncClient(timeout=self.timeout)
        notice = {
            "noticeId": delivery.notice_id,
            "productId": PRODUCT_ID,
            "eventType": delivery.event_type,
            "notifyMs": _ms(self.state.now()),
            "payload": delivery.payload,
        }
        body = json.dumps(notice, separators=(",", ":"), ensure_ascii=False).encode()
        headers = {"Content-Type": "application/json", **sign(self.secret, body)}
        delivery.attempts += 1
        try:
            answer = await self._client.post(self.url, content=body, headers=headers)
            delivery.status = answer.status_code
            ok = answer.is_success
        except httpx.HTTPError as exc:
            delivery.status = None
            ok = False
            _log.info(
                "webhook %s to %s failed: %s", delivery.event_type, self.url, type(exc).__name__
            )
        self.pending.remove(delivery)
        if ok:
            self.delivered.append(delivery)
            return
        retry = delivery.attempts - 1
        if retry >= len(self.retry_delays):
            self.failed.append(delivery)
            _log.warning(
                "webhook %s given up after %d attempts", delivery.notice_id, delivery.attempts
            )
            return
        delivery.due = self.state.now() + self.retry_delays[retry]
        self.pending.append(delivery)

    async def run(self) -> None:
        """Deliver until cancelled: whenever woken, every ``tick`` seconds, and when a retry
        is due."""
        while True:
            waits = [self.tick] if self.tick is not None else []
            if self.pending:
                waits.append(max(0.0, min(d.due for d in self.pending) - self.state.now()))
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._wake.wait(), min(waits) if waits else None)
            self._wake.clear()
            try:
                await self.flush()
            except Exception:  # a bug must not end the deliveries
                _log.exception("sandbox webhook delivery failed")

    def start(self) -> None:
        """Run :meth:`run` in a task of the running loop (once)."""
        if self._task is None or self._task.done():
            self._loop = asyncio.get_running_loop()
            self._task = self._loop.create_task(self.run(), name="convoai-sandbox-webhooks")

    def stop(self) -> None:
        """Stop delivering for good (no more listening to the state); sync, for replacing it."""
        with contextlib.suppress(ValueError):
            self.state.listeners.remove(self.wake)
        if self._task is not None:
            self._task.cancel()
            self._task = None

    async def aclose(self) -> None:
        """Stop delivering and close the HTTP client (:meth:`start` starts again)."""
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
            self._task = None
        if self._client is not None:
            await self._client.aclose()
            self._client = None
