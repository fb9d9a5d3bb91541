"""One transcript watcher per running agent: it reads the agent's history, and feeds the
archive and whoever subscribed (resource subscriptions, wait, the console).

A :class:`Watcher` polls ``GET .../history`` of one agent until the agent has ended (a terminal
state, :data:`~convoai_mcp.models.TERMINAL_STATES`, or a 404 confirmed by ``GET`` of the agent;
``STOPPING`` is not an end), or until ``watch_limit`` seconds passed. Each read goes to the
hooks (:class:`Hooks`: the guard archives it); when the transcript changed, and once more when
the agent ended, every subscriber is called. :attr:`Watcher.latest` is the last history read.

:class:`Watchers` keeps at most one watcher per agent. A *counted* watcher belongs to an agent
that holds a limit slot (started here): it runs until the agent ends, whoever listens, and
there is one per slot, so the limits bound them. An *uncounted* watcher serves only
subscribers (an agent started elsewhere): it stops when its last subscriber leaves, and at most
``max_uncounted`` of them run at once. With subscribers the poll period is
``subscribed_interval``, without ``poll_interval``.

Subscribe with a callback (:meth:`Watcher.subscribe`, which returns the unsubscribe function)
or iterate :meth:`Watcher.changes`.

The history answer does not tell a starting agent from a running one, nor a ringing call from
an answered one; while someone asks for that (:meth:`Watcher.want_state`: the ``wait`` tool),
each poll also reads the agent's (or call's) state through :attr:`Hooks.state`, once per poll
whoever asks, and a change of :attr:`Watcher.state` is a change (``version``, subscribers).

Across replicas (a :class:`Lease`, PostgreSQL: :class:`~convoai_mcp.server.replicas.WatchLeases`)
one watcher per agent polls in the whole deployment: a watcher polls only while it holds the
agent's lease (taken or renewed before every poll, taken over once its holder stopped renewing
it). A watcher whose lease another replica holds *follows* (:attr:`Watcher.following`): it reads
the history only when told the agent changed (:meth:`Watchers.poke`, from the other replica's
event on the shared bus) and otherwise just tries the lease once a period. Every change a
polling watcher sees goes to :attr:`Watchers.on_change` (the server publishes it on the bus).

What the service reports by webhook (:mod:`convoai_mcp.server.events`) is pushed in without
waiting for a poll: :meth:`Watcher.push_history`, :meth:`Watcher.push_state`,
:meth:`Watcher.push_ended`.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass
from typing import Literal, Protocol

import anyio

from convoai_mcp.errors import ConvoAIError, NotFoundError
from convoai_mcp.models import TERMINAL_STATES, AgentStatus, History

__all__ = [
    "Hooks",
    "Lease",
    "Subscriber",
    "Watcher",
    "WatcherLimitError",
    "Watchers",
    "is_terminal",
]

logger = logging.getLogger(__name__)

Kind = Literal["agent", "call"]
Subscriber = Callable[["Watcher"], Awaitable[None]]
"""Called with the watcher after the transcript changed, and once more when the agent ended."""

MAX_UNCOUNTED = 256
"""Watchers that only serve subscribers (agents not started here) running at once."""


def is_terminal(status: object) -> bool:
    """True for a status the agent never leaves (STOPPED, FAILED; not STOPPING)."""
    try:
        return AgentStatus(str(status or "").upper()) in TERMINAL_STATES
    except ValueError:
        return False


class Lease(Protocol):
    """Who watches an agent in a deployment of several replicas (see the module docstring)."""

    async def hold(self, agent_id: str) -> bool:
        """Take or renew the lease on ``agent_id``; False while another replica holds it."""
        ...

    async def drop(self, agent_id: str) -> None:
        """Let go of the lease on ``agent_id``."""
        ...


class WatcherLimitError(ConvoAIError):
    """Too many agents not started here are being watched for subscribers already."""


@dataclass
class Hooks:
    """What a watcher does besides notifying subscribers (the guard provides these)."""

    fetch: Callable[[str], Awaitable[History]]
    """Read the agent's history from the service."""
    gone: Callable[[str], Awaitable[bool]]
    """After a 404 on history: has the agent ended (rather than not started yet)?"""
    begin: Callable[[Watcher], Awaitable[None]]
    """Once, before the first read (e.g. note the agent in the archive)."""
    seen: Callable[[Watcher, History], Awaitable[None]]
    """Every history read (e.g. archive it)."""
    ended: Callable[[Watcher], Awaitable[None]]
    """Once, when the agent ended on its own or was seen ended (not on :meth:`Watcher.stop`)."""
    state: Callable[[Watcher], Awaitable[tuple[str, str | None]]] | None = None
    """Read the state (and, for a call that ended, why) while :meth:`Watcher.want_state` holds:
    the agent's status, or for ``kind == "call"`` the call's (``ringing`` / ``answered`` /
    ``hangup``)."""


def _fingerprint(history: History) -> list[tuple[object, ...]]:
    return [(e.role, e.content, e.speech_start_ms, e.speech_end_ms) for e in history.contents]


class Watcher:
    """Watches one agent; see the module docstring."""

    def __init__(self, hub: Watchers, agent_id: str, kind: Kind, channel: str, counted: bool):
        self.agent_id = agent_id
        self.kind = kind
        self.channel = channel
        self.counted = counted
        self.latest: History | None = None
        """The last history read (None before the first read, or if it failed)."""
        self.ended = False
        """True once the agent was seen ended."""
        self.version = 0
        """Incremented on every change of the transcript (or of :attr:`state`), and when the
        agent ended."""
        self.state: str | None = None
        """The last state read while wanted (see :meth:`want_state`), else None."""
        self.reason: str | None = None
        """For a call that ended, why (the service's ``reason``), when read."""
        self.following = False
        """True while another replica holds this agent's lease (this one does not poll)."""
        self.polls = 0
        """History reads made so far."""
        self._leased = False
        self._poked = asyncio.Event()
        self._state_wanted = 0
        self._state_read: asyncio.Future[None] | None = None
        self._hub = hub
        self._subscribers: dict[int, Subscriber] = {}
        self._next_key = 0
        self._first_read = asyncio.Event()
        self._fingerprint: list[tuple[object, ...]] | None = None
        self.task: asyncio.Task[None] = asyncio.get_running_loop().create_task(
            self._run(), name=f"convoai-watch-{agent_id}"
        )

    # -- subscribing ----------------------------------------------------------------------------

    @property
    def subscribers(self) -> int:
        """How many subscribers this watcher has."""
        return len(self._subscribers)

    @property
    def running(self) -> bool:
        """True while the watcher polls."""
        return not self.task.done()

    def subscribe(self, callback: Subscriber) -> Callable[[], None]:
        """Call ``callback`` on every change; returns the function that unsubscribes it."""
        key = self._next_key
        self._next_key += 1
        self._subscribers[key] = callback

        def unsubscribe() -> None:
            if self._subscribers.pop(key, None) is not None and not self._subscribers:
                self._hub._idle(self)

        return unsubscribe

    def want_state(self) -> Callable[[], None]:
        """Read the state on every poll from now on, until the returned function is called."""
        self._state_wanted += 1
        released = False

        def release() -> None:
            nonlocal released
            if not released:
                released = True
                self._state_wanted -= 1
                if not self._state_wanted and not self.ended:
                    self.state = None  # not kept up to date any more: read afresh next time

        return release

    async def fresh_state(self) -> None:
        """Make sure :attr:`state` has been read since it was last wanted: read it now (one
        read, however many ask at once) unless it is known (or no hook reads it)."""
        if self.state is not None or self._hub.hooks.state is None:
            return
        if self._state_read is None or self._state_read.done():
            self._state_read = asyncio.ensure_future(self._read_state(notify=False))
        await asyncio.shield(self._state_read)

    async def first_read(self) -> None:
        """Return once the watcher has read the history once (or stopped)."""
        await self._first_read.wait()

    async def changes(self) -> AsyncIterator[Watcher]:
        """Yield this watcher after each change, until the agent ended (or watching stopped)."""
        queue: asyncio.Queue[None] = asyncio.Queue(maxsize=1)

        async def wake(_: Watcher) -> None:
            with contextlib.suppress(asyncio.QueueFull):  # one pending wake-up is enough
                queue.put_nowait(None)

        unsubscribe = self.subscribe(wake)
        try:
            while self.running or not queue.empty():
                getter = asyncio.ensure_future(queue.get())
                try:
                    await asyncio.wait({getter, self.task}, return_when="FIRST_COMPLETED")
                finally:
                    if not getter.done():
                        getter.cancel()
                if getter.cancelled() and queue.empty():
                    return  # watching stopped without a last change
                if getter.cancelled():
                    queue.get_nowait()
                yield self
                if self.ended:
                    return
        finally:
            unsubscribe()

    def stop(self) -> None:
        """Stop watching (the agent was ended by this server, or the server shuts down)."""
        if self.task is not asyncio.current_task():
            self.task.cancel()
        self._hub._forget(self)

    # -- reported by the service (webhooks) -----------------------------------------------------

    async def push_history(self, history: History) -> None:
        """A history the service sent (:mod:`convoai_mcp.server.events`): handled as a read of
        it (the hooks archive it; a changed transcript notifies), without waiting for a poll."""
        if not self.ended:
            await self._saw(history, first_counts=True)

    async def push_state(self, state: str, reason: str | None = None) -> None:
        """A state the service reported: kept while someone wants it (:meth:`want_state`); a
        change notifies."""
        if self.ended or not self._state_wanted:
            return
        changed = state != self.state
        self.state = state
        self.reason = reason if reason is not None else self.reason
        if changed:
            self.version += 1
            await self._notify()

    async def push_ended(self) -> None:
        """The service reported the agent's end: polling stops, subscribers hear of it and the
        end hook runs now, as when a poll sees the end."""
        if self.ended:
            return
        self.ended = True
        if self.task is not asyncio.current_task():
            self.task.cancel()
        self.version += 1
        try:
            await self._notify()
            await self._hub.hooks.ended(self)
        finally:
            self._first_read.set()
            self._hub._forget(self)

    # -- polling ----------------------------------------------------------------------------

    async def _notify(self) -> None:
        on_change = self._hub.on_change
        if on_change is not None and not self.following:
            try:
                await on_change(self)
            except Exception as exc:  # the bus must not stop the watcher
                logger.info("could not publish a change of %s: %s", self.agent_id, exc)
        for key, callback in list(self._subscribers.items()):
            try:
                await callback(self)
            except Exception:  # one gone subscriber must not stop the others
                logger.debug("dropping a subscriber of %s that failed", self.agent_id)
                self._subscribers.pop(key, None)

    async def _read_once(self) -> bool:
        """One read of the history; True when the agent has ended."""
        self.polls += 1
        try:
            history = await self._hub.hooks.fetch(self.agent_id)
        except NotFoundError:
            return await self._hub.hooks.gone(self.agent_id)
        except ConvoAIError as exc:
            logger.info("history poll of %s failed: %s", self.agent_id, exc.message)
            return False
        await self._saw(history, first_counts=False)
        return is_terminal(history.status)

    async def _saw(self, history: History, *, first_counts: bool) -> None:
        """Keep ``history`` (hooks, :attr:`latest`); a changed transcript notifies (the first
        one only when ``first_counts``)."""
        self.latest = history
        await self._hub.hooks.seen(self, history)
        fingerprint = _fingerprint(history)
        previous, self._fingerprint = self._fingerprint, fingerprint
        if fingerprint != previous and (previous is not None or first_counts):
            self.version += 1
            await self._notify()

    async def _read_state(self, *, notify: bool) -> None:
        """Read the state (when wanted and a hook reads it); a change notifies."""
        read = self._hub.hooks.state
        if read is None or not self._state_wanted:
            return
        try:
            state, reason = await read(self)
        except ConvoAIError as exc:
            logger.info("state poll of %s failed: %s", self.agent_id, exc.message)
            return
        changed = state != self.state
        self.state, self.reason = state, reason
        if changed and notify:
            self.version += 1
            await self._notify()

    async def _run(self) -> None:
        hub = self._hub
        try:
            with contextlib.suppress(Exception):
                await hub.hooks.begin(self)
            deadline = hub.clock() + hub.watch_limit
            first = True
            while hub.clock() < deadline:
                leading = await self._lead()
                read = leading or first or self._poked.is_set()
                self._poked.clear()
                first = False
                ended = await self._read_once() if read else False
                await self._read_state(notify=not ended)
                self._first_read.set()
                if ended:
                    if self.ended:
                        return  # reported ended meanwhile (push_ended did the rest)
                    self.ended = True
                    self.version += 1
                    await self._notify()
                    await hub.hooks.ended(self)
                    return
                if not self.counted and not self._subscribers:
                    return  # nobody listens any more
                period = hub.subscribed_interval if self._subscribers else hub.poll_interval
                if leading:
                    await hub.sleep(period)
                else:
                    await self._follow(period)
        except Exception as exc:  # a bug or a closed client must not go unnoticed, nor loop
            logger.warning("watching %s stopped: %s", self.agent_id, type(exc).__name__)
        finally:
            self._first_read.set()
            hub._forget(self)
            if self._leased:
                hub._drop_lease(self.agent_id)

    async def _lead(self) -> bool:
        """True when this watcher is the one that polls (it holds the lease, or there is none;
        also when the lease cannot be read: two watchers are better than none)."""
        lease = self._hub.lease
        if lease is None:
            return True
        try:
            held = await lease.hold(self.agent_id)
        except Exception as exc:
            logger.info("could not take the watch lease of %s: %s", self.agent_id, exc)
            held = True
        else:
            self._leased = held
        if self.following and held:
            logger.debug("taking over watching %s", self.agent_id)
        self.following = not held
        return held

    async def _follow(self, period: float) -> None:
        """Wait ``period`` or until poked (another replica saw a change), whichever is first."""
        sleeper = asyncio.ensure_future(self._hub.sleep(period))
        poked = asyncio.ensure_future(self._poked.wait())
        try:
            await asyncio.wait({sleeper, poked}, return_when="FIRST_COMPLETED")
        finally:
            for waiter in (sleeper, poked):
                if not waiter.done():
                    waiter.cancel()


class Watchers:
    """At most one :class:`Watcher` per agent; see the module docstring."""

    def __init__(
        self,
        hooks: Hooks,
        *,
        poll_interval: float = 2.0,
        subscribed_interval: float = 1.0,
        watch_limit: float = 6 * 3600.0,
        max_uncounted: int = MAX_UNCOUNTED,
        clock: Callable[[], float] = time.monotonic,
        sleep: Callable[[float], Awaitable[None]] = anyio.sleep,
        lease: Lease | None = None,
    ) -> None:
        self.hooks = hooks
        self.lease = lease
        """Who polls which agent across replicas (None: this process is alone)."""
        self.on_change: Callable[[Watcher], Awaitable[None]] | None = None
        """Called on every change a polling (not following) watcher sees (the server
        publishes it to every replica)."""
        self._drops: set[asyncio.Task[None]] = set()
        self.poll_interval = poll_interval
        self.subscribed_interval = subscribed_interval
        self.watch_limit = watch_limit
        self.max_uncounted = max_uncounted
        self.clock = clock
        self.sleep = sleep
        self._watchers: dict[str, Watcher] = {}

    def __len__(self) -> int:
        return len(self._watchers)

    def get(self, agent_id: str) -> Watcher | None:
        """The running watcher of ``agent_id``, if any."""
        return self._watchers.get(agent_id)

    def watch(
        self, agent_id: str, *, kind: Kind = "agent", channel: str = "", counted: bool = True
    ) -> Watcher:
        """The watcher of ``agent_id``, started if none runs. ``counted``: the agent holds a
        limit slot, so it is watched until it ends (an uncounted watcher becomes counted).

        Raises :class:`WatcherLimitError` for a new uncounted watcher past ``max_uncounted``.
        """
        watcher = self._watchers.get(agent_id)
        if watcher is not None:
            if counted and not watcher.counted:
                watcher.counted, watcher.kind, watcher.channel = True, kind, channel
            return watcher
        if not counted and self.uncounted() >= self.max_uncounted:
            raise WatcherLimitError(
                f"{self.max_uncounted} agents not started by this server are watched already",
                hint="unsubscribe from some convoai://agents/{agent_id}/history resources first",
            )
        watcher = Watcher(self, agent_id, kind, channel, counted)
        self._watchers[agent_id] = watcher
        return watcher

    def poke(self, agent_id: str) -> None:
        """Another replica saw ``agent_id`` change: a following watcher reads it now."""
        watcher = self._watchers.get(agent_id)
        if watcher is not None:
            watcher._poked.set()

    def _drop_lease(self, agent_id: str) -> None:
        lease = self.lease
        if lease is None:
            return

        async def drop() -> None:
            try:
                await lease.drop(agent_id)
            except Exception as exc:  # it expires on its own
                logger.info("could not drop the watch lease of %s: %s", agent_id, exc)

        task = asyncio.get_running_loop().create_task(drop(), name=f"convoai-unlease-{agent_id}")
        self._drops.add(task)
        task.add_done_callback(self._drops.discard)

    def uncounted(self) -> int:
        """How many watchers only serve subscribers."""
        return sum(1 for w in self._watchers.values() if not w.counted)

    def release(self, agent_id: str) -> None:
        """The caller ended ``agent_id`` (it no longer holds a slot): stop watching it, unless
        someone subscribed, who then hears of the end (the watcher goes on, uncounted, until it
        sees it)."""
        watcher = self._watchers.get(agent_id)
        if watcher is None:
            return
        watcher.counted = False
        if not watcher.subscribers:
            watcher.stop()

    def stop(self, agent_id: str) -> None:
        """Stop watching ``agent_id`` now (no end hook, no last notification)."""
        watcher = self._watchers.get(agent_id)
        if watcher is not None:
            watcher.stop()

    def _forget(self, watcher: Watcher) -> None:
        if self._watchers.get(watcher.agent_id) is watcher:
            del self._watchers[watcher.agent_id]

    def _idle(self, watcher: Watcher) -> None:
        """The last subscriber left: an uncounted watcher stops now."""
        if not watcher.counted:
            watcher.stop()

    async def aclose(self) -> None:
        """Stop every watcher and wait until they are done."""
        watchers = list(self._watchers.values())
        for watcher in watchers:
            watcher.stop()
        for watcher in watchers:
            with contextlib.suppress(BaseException):  # cancelled or failed: done either way
                await watcher.task
        for task in list(self._drops):
            with contextlib.suppress(BaseException):
                await task
