"""Resource subscriptions to an agent's history: the MCP wiring over the transcript watchers.

Two protocol eras are served:

* handshake era (``resources/subscribe`` / ``resources/unsubscribe``): each subscribing
  connection is remembered and gets ``notifications/resources/updated`` for the URI, until it
  unsubscribes or the connection ends (its subscriptions are removed then);
* 2026-07-28 (``subscriptions/listen`` with ``resourceSubscriptions``): the listen stream counts
  as a subscription for as long as it is open, and updates are published on the server's bus.

Polling is not done here: each subscribed URI keeps the agent's
:class:`~convoai_mcp.server.watchers.Watcher` running (the one that archives an agent started
here, or an uncounted one that stops with its last subscriber). Every change a watcher sees is
published on the server's ``SubscriptionBus`` as ``ResourceUpdated`` of the history URI, and both
eras are served from the bus: the SDK's listen streams read it, and a listener here sends
``notifications/resources/updated`` to the handshake-era subscribers of that URI. With a
PostgreSQL ``CONVOAI_DATABASE_URL`` the bus is :class:`~convoai_mcp.server.replicas.PostgresBus`
(LISTEN / NOTIFY), so a change seen by the replica that watches the agent reaches the
subscribers of every replica; it also pokes a local watcher that follows (the other replica
holds the agent's lease) to read the change.
"""

from __future__ import annotations

import asyncio
import logging
import re
from collections.abc import Awaitable, Callable
from typing import TYPE_CHECKING, Any

from mcp.server.connection import Connection
from mcp_types import (
    INVALID_PARAMS,
    EmptyResult,
    SubscribeRequestParams,
    SubscriptionsListenRequestParams,
    UnsubscribeRequestParams,
)

from convoai_mcp.server.runtime import Runtime

if TYPE_CHECKING:
    from mcp.server.context import ServerRequestContext
    from mcp.server.mcpserver import MCPServer
    from mcp.server.subscriptions import ServerEvent, SubscriptionBus

    from convoai_mcp.server.guard import Guard
    from convoai_mcp.server.watchers import Watcher

__all__ = ["HISTORY_URI", "Subscriptions", "history_agent_id", "register"]

logger = logging.getLogger(__name__)

HISTORY_URI = "convoai://agents/{agent_id}/history"
_HISTORY = re.compile(r"convoai://agents/([A-Za-z0-9_.:-]{1,128})/history")
_CAMPAIGN = re.compile(r"convoai://campaigns/[A-Za-z0-9_-]{1,64}")
"""A campaign's resource: no watcher; the campaign scheduler publishes its updates."""
_CLEANUP = "convoai_mcp.subscriptions"  # Connection.state key: its cleanup is registered

Notify = Callable[[str], Awaitable[None]]


def history_agent_id(uri: str) -> str | None:
    """The agent id of a history URI, or None if ``uri`` is not one."""
    match = _HISTORY.fullmatch(uri)
    return match.group(1) if match else None


def subscribable(uri: str) -> bool:
    """True for the URIs that take subscriptions: an agent's history, a campaign."""
    return history_agent_id(uri) is not None or _CAMPAIGN.fullmatch(uri) is not None


class Subscriptions:
    """Who subscribed to which history URI; one watcher subscription per URI."""

    def __init__(self, runtime: Runtime, bus: SubscriptionBus | None = None) -> None:
        self._runtime = runtime
        self._bus = bus
        # uri -> key -> notify (None: a listen stream, which the SDK serves from the bus)
        self._subscribers: dict[str, dict[object, Notify | None]] = {}
        self._watched: dict[str, tuple[Watcher, Callable[[], None]]] = {}  # uri -> subscription
        self._sends: set[asyncio.Task[None]] = set()

    def subscribers(self, uri: str | None = None) -> int:
        """How many subscribers ``uri`` has (every URI's when None)."""
        if uri is None:
            return sum(len(keys) for keys in self._subscribers.values())
        return len(self._subscribers.get(uri, {}))

    def watcher(self, agent_id: str) -> Watcher | None:
        """The watcher of ``agent_id``, while one runs."""
        return self._runtime.guard.watcher(agent_id)

    async def add(self, uri: str, key: object, notify: Notify | None) -> None:
        """Subscribe ``key`` to ``uri`` (a history URI; others are ignored); ``notify`` sends it
        an update (None for a listen stream: the SDK delivers those from the bus).

        Returns once the agent's history has been read (and the bus listens), so that every
        change made after the subscription is notified. Raises :class:`WatcherLimitError` when
        too many agents not started here are watched.
        """
        agent_id = history_agent_id(uri)
        if agent_id is None and _CAMPAIGN.fullmatch(uri) is None:
            return
        start = getattr(self._bus, "start", None)
        if start is not None:  # a bus shared with other replicas: listening before the ack
            await start()
        if agent_id is None:  # a campaign: its scheduler publishes on the bus
            self._subscribers.setdefault(uri, {})[key] = notify
            return
        watched = self._watched.get(uri)
        if watched is None or not watched[0].running:
            watcher = self._runtime.guard.watchers.watch(agent_id, counted=False)
            if watched is not None:
                watched[1]()
            watched = self._watched[uri] = (watcher, watcher.subscribe(_kept))
        self._subscribers.setdefault(uri, {})[key] = notify
        await watched[0].first_read()

    def remove(self, uri: str, key: object) -> None:
        """Unsubscribe ``key`` from ``uri``; the watcher subscription goes with the last one."""
        subscribers = self._subscribers.get(uri)
        if subscribers is None:
            return
        subscribers.pop(key, None)
        if not subscribers:
            del self._subscribers[uri]
            watched = self._watched.pop(uri, None)
            if watched is not None:
                watched[1]()

    def remove_all(self, key: object) -> None:
        """Drop every subscription of ``key`` (its connection ended)."""
        for uri in [uri for uri, keys in self._subscribers.items() if key in keys]:
            self.remove(uri, key)

    def wire(self, guard: Guard) -> None:
        """Publish every change the guard's watchers see on the bus."""
        bus = self._bus
        if bus is None:
            return

        async def publish(watcher: Watcher) -> None:
            from mcp.shared.subscriptions import ResourceUpdated

            await bus.publish(ResourceUpdated(uri=HISTORY_URI.format(agent_id=watcher.agent_id)))

        guard.watchers.on_change = publish

    async def publish(self, uri: str) -> None:
        """Publish an update of ``uri`` (a campaign's: its scheduler calls this) on the bus."""
        from mcp.shared.subscriptions import ResourceUpdated

        if self._bus is not None:
            await self._bus.publish(ResourceUpdated(uri=uri))

    def on_event(self, event: ServerEvent) -> None:
        """A bus event (this replica's or another's): a history update pokes a following
        watcher of the agent and goes to the handshake-era subscribers of the URI."""
        uri = getattr(event, "uri", None)
        if not isinstance(uri, str):
            return
        agent_id = history_agent_id(uri)
        if agent_id is None and _CAMPAIGN.fullmatch(uri) is None:
            return
        guard = self._runtime._guard  # not created just for an event nobody here watches
        if guard is not None and agent_id is not None:
            guard.watchers.poke(agent_id)
        for key, notify in list(self._subscribers.get(uri, {}).items()):
            if notify is None:
                continue
            task = asyncio.get_running_loop().create_task(self._send(uri, key, notify))
            self._sends.add(task)
            task.add_done_callback(self._sends.discard)

    async def _send(self, uri: str, key: object, notify: Notify) -> None:
        try:
            await notify(uri)
        except Exception:  # a closed session must not stop the others
            logger.debug("dropping a subscriber of %s that could not be notified", uri)
            self.remove(uri, key)


async def _kept(_: Watcher) -> None:
    """The watcher subscription of a subscribed URI: it keeps the watcher polling (at the
    subscribed period); the updates themselves travel on the bus."""


def _connection(ctx: ServerRequestContext[Runtime, Any]) -> object:
    """The client connection of a request (a ServerSession object is per request; the SDK
    exposes the connection to low-level handlers only as the session's private member)."""
    return getattr(ctx.session, "_connection", ctx.session)


def register(server: MCPServer[Runtime], runtime: Runtime) -> Subscriptions:
    """Serve resources/subscribe and resources/unsubscribe, and wrap subscriptions/listen."""
    from mcp.shared.exceptions import MCPError

    # The SDK has no MCPServer-level API for these handlers; the low-level server does.
    lowlevel = server._lowlevel_server
    bus = server._subscriptions
    subscriptions = Subscriptions(runtime, bus)
    bus.subscribe(subscriptions.on_event)
    runtime.on_guard.append(subscriptions.wire)
    closer = getattr(bus, "aclose", None)
    if closer is not None:
        runtime.closers.append(closer)

    async def add(uri: str, key: object, notify: Notify | None) -> None:
        from convoai_mcp.server.watchers import WatcherLimitError  # with the guard: lazily

        try:
            await subscriptions.add(uri, key, notify)
        except WatcherLimitError as exc:
            raise MCPError(INVALID_PARAMS, f"cannot subscribe to {uri}: {exc}") from None

    async def subscribe(
        ctx: ServerRequestContext[Runtime, Any], params: SubscribeRequestParams
    ) -> EmptyResult:
        if not subscribable(params.uri):
            raise MCPError(
                INVALID_PARAMS,
                f"cannot subscribe to {params.uri}: only convoai://agents/{{agent_id}}/history "
                "and convoai://campaigns/{campaign_id} support subscriptions",
            )
        session, connection = ctx.session, _connection(ctx)

        async def notify(uri: str) -> None:
            await session.send_resource_updated(uri)

        if isinstance(connection, Connection) and not connection.state.get(_CLEANUP):
            # The connection's subscriptions end with it (D7: they used to stay for ever).
            connection.state[_CLEANUP] = True
            connection.exit_stack.callback(subscriptions.remove_all, connection)
        await add(params.uri, connection, notify)
        return EmptyResult()

    async def unsubscribe(
        ctx: ServerRequestContext[Runtime, Any], params: UnsubscribeRequestParams
    ) -> EmptyResult:
        subscriptions.remove(params.uri, _connection(ctx))
        return EmptyResult()

    lowlevel.add_request_handler("resources/subscribe", SubscribeRequestParams, subscribe)
    lowlevel.add_request_handler("resources/unsubscribe", UnsubscribeRequestParams, unsubscribe)

    entry = lowlevel.get_request_handler("subscriptions/listen")
    if entry is None:  # pragma: no cover - MCPServer always registers it
        return subscriptions
    inner = entry.handler

    async def listen(ctx: ServerRequestContext[Runtime, Any], params: Any) -> Any:
        uris = [
            uri for uri in (params.notifications.resource_subscriptions or []) if subscribable(uri)
        ]
        key = object()
        try:
            for uri in uris:
                await add(uri, key, None)
            return await inner(ctx, params)
        finally:
            subscriptions.remove_all(key)

    lowlevel.add_request_handler("subscriptions/listen", SubscriptionsListenRequestParams, listen)
    return subscriptions
