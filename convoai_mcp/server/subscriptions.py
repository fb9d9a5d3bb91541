"""Resource subscriptions to an agent's history: poll while someone listens, notify on change.

Two protocol eras are served:

* handshake era (``resources/subscribe`` / ``resources/unsubscribe``): each subscribing session is
  remembered and gets ``notifications/resources/updated`` for the URI;
* 2026-07-28 (``subscriptions/listen`` with ``resourceSubscriptions``): the listen stream counts
  as a subscription for as long as it is open, and updates are published on the server's bus.

While an agent's history URI has at least one subscriber, one task polls the history (through
the guard, which also archives what it sees) every ``Runtime.poll_interval`` seconds and
notifies when the entries change. Polling stops when the last subscriber leaves, or when the
agent has ended (after a final notification).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import re
from collections.abc import Awaitable, Callable
from typing import TYPE_CHECKING, Any

from convoai_mcp.errors import ConvoAIError, NotFoundError

if TYPE_CHECKING:
    from convoai_mcp.server.runtime import Runtime

__all__ = ["HISTORY_URI", "HistoryWatcher", "history_agent_id"]

logger = logging.getLogger(__name__)

HISTORY_URI = "convoai://agents/{agent_id}/history"
_HISTORY = re.compile(r"convoai://agents/([A-Za-z0-9_.:-]{1,128})/history")
_ENDED = frozenset({"STOPPED", "FAILED", "STOPPING"})

Notify = Callable[[str], Awaitable[None]]


def history_agent_id(uri: str) -> str | None:
    """The agent id of a history URI, or None if ``uri`` is not one."""
    match = _HISTORY.fullmatch(uri)
    return match.group(1) if match else None


class HistoryWatcher:
    """Ref-counted pollers, one per subscribed agent."""

    def __init__(self, runtime: Runtime) -> None:
        self._runtime = runtime
        # uri -> {subscriber key -> notify callable}
        self._subscribers: dict[str, dict[object, Notify]] = {}
        self._tasks: dict[str, asyncio.Task[None]] = {}
        self._ready: dict[str, asyncio.Event] = {}

    def subscribers(self, uri: str) -> int:
        """How many subscribers ``uri`` has."""
        return len(self._subscribers.get(uri, {}))

    def polling(self, agent_id: str) -> bool:
        """True while a poller runs for ``agent_id``."""
        task = self._tasks.get(agent_id)
        return task is not None and not task.done()

    def task(self, agent_id: str) -> asyncio.Task[None] | None:
        """The task polling ``agent_id``'s history, if any (done once polling stopped)."""
        return self._tasks.get(agent_id)

    async def add(self, uri: str, key: object, notify: Notify) -> None:
        """Subscribe ``key`` to ``uri``; start polling if it is a history URI.

        Returns once the poller has read the current history, so that every change made after
        the subscription is notified.
        """
        agent_id = history_agent_id(uri)
        if agent_id is None:
            return
        self._subscribers.setdefault(uri, {})[key] = notify
        if not self.polling(agent_id):
            event = self._ready[agent_id] = asyncio.Event()
            self._tasks[agent_id] = asyncio.create_task(
                self._poll(agent_id, uri, event), name=f"convoai-history-{agent_id}"
            )
        ready = self._ready.get(agent_id)
        if ready is not None:
            await ready.wait()

    def remove(self, uri: str, key: object) -> None:
        """Unsubscribe ``key``; stop polling when nobody is left."""
        subscribers = self._subscribers.get(uri)
        if subscribers is None:
            return
        subscribers.pop(key, None)
        if not subscribers:
            del self._subscribers[uri]
            agent_id = history_agent_id(uri)
            task = self._tasks.pop(agent_id, None) if agent_id else None
            if task is not None:
                task.cancel()

    async def aclose(self) -> None:
        """Cancel every poller and forget every subscriber."""
        tasks = list(self._tasks.values())
        self._tasks.clear()
        self._subscribers.clear()
        for task in tasks:
            task.cancel()
        for task in tasks:
            with contextlib.suppress(BaseException):  # cancelled or failed: done either way
                await task

    async def _notify(self, uri: str) -> None:
        seen: set[int] = set()
        for key, notify in list(self._subscribers.get(uri, {}).items()):
            if id(notify) in seen:  # one publish on the shared bus serves every listen stream
                continue
            seen.add(id(notify))
            try:
                await notify(uri)
            except Exception:  # a closed session must not stop the others
                logger.debug("dropping a subscriber of %s that could not be notified", uri)
                self._subscribers.get(uri, {}).pop(key, None)

    async def _poll(self, agent_id: str, uri: str, ready: asyncio.Event) -> None:
        try:
            await self._poll_until_ended(agent_id, uri, ready)
        finally:
            ready.set()
            if self._ready.get(agent_id) is ready:
                del self._ready[agent_id]

    async def _poll_until_ended(self, agent_id: str, uri: str, ready: asyncio.Event) -> None:
        previous: Any = None
        while True:
            try:
                history, source = await self._runtime.guard.history(agent_id)
                fingerprint = [
                    (entry.role, entry.content, entry.speech_start_ms) for entry in history.contents
                ]
                status = str(history.status or "")
                ended = source == "archive" or status.upper() in _ENDED
            except NotFoundError:
                fingerprint, ended = previous, True
            except ConvoAIError as exc:
                logger.info("history poll of %s failed: %s", agent_id, exc.message)
                fingerprint, ended = previous, False
            if previous is not None and fingerprint != previous:
                await self._notify(uri)
            previous = fingerprint if fingerprint is not None else []
            ready.set()
            if ended:
                await self._notify(uri)
                logger.debug("agent %s ended; history polling stops", agent_id)
                self._tasks.pop(agent_id, None)
                return
            await asyncio.sleep(self._runtime.poll_interval)
