"""The HTTP transports (streamable HTTP at ``/mcp``, SSE at ``/sse``), served by uvicorn.

* :func:`http_socket` — the listening socket (IPPROTO_TCP, so accepted sockets get TCP_NODELAY).
* :func:`uvicorn_config` — logging through ours, :data:`KEEP_ALIVE_SECONDS`, the connection
  guard below.
* :func:`serve_http` — the SDK's app wrapped by :func:`~.security.secure_asgi_app`, served until
  Ctrl-C (or ``stop``), with the approval page (:mod:`convoai_mcp.server.gate`) mounted at
  ``/approve/<token>`` and the live console at ``/console`` (:mod:`convoai_mcp.server.console`;
  its API behind the same checks) on the same port, the health probes ``/healthz`` and
  ``/readyz`` (:mod:`.health`) and, with ``CONVOAI_WEBHOOK_SECRET``, ``POST /webhooks/agora``
  (:mod:`.webhooks`), whose events the feed (:mod:`convoai_mcp.server.events`) applies in a task
  of the app's lifespan.

**Stateless mode** (``--stateless``, ``CONVOAI_HTTP_STATELESS=on``; streamable HTTP only): the
SDK's session manager keeps no session, so any replica behind a load balancer without session
affinity can answer any request of a 2025-era client (one that opened a session with
``initialize``); 2026-07-28 clients are served per request either way. Each request gets a fresh
transport without a back channel and without the capabilities the client declared at
``initialize``: no server-to-client request in the middle of a call (the gate gives such a
client its approval link instead of asking), no GET stream for notifications outside a
request. A multi-round-trip request (a confirmation answered by calling again) carries
its sealed ``requestState``, which every replica opens when they share
``CONVOAI_REQUEST_STATE_KEY`` and the server name (``app.request_state_security``). Answers
stay server-sent event streams (the SDK's ``json_response`` is left off), so a long ``wait``
still sends its progress notifications within its request.

**Connection guard** (:class:`ConnectionLimits`). uvicorn has no header timeout, and the bearer
token is only checked once a request's headers are complete, so connections that never finish
a request used to be held forever (about 21,000 exhausted the file descriptors, and clients with
the valid token timed out). Here every connection must deliver a complete request (headers and
body) within ``request_timeout`` seconds of connecting or of its first byte after an earlier
response, or it is closed. At most ``max_connections`` are open (``max_per_client`` from one
address): a new one over a limit closes the oldest connection that is not being answered (idle,
or still sending its request); if every connection is busy being answered, the new one is
closed instead. A flood of half-open connections therefore cannot keep a real client out.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, ClassVar

if TYPE_CHECKING:
    import socket

    import anyio
    import uvicorn
    from starlette.types import ASGIApp

    from convoai_mcp.config import Settings
    from convoai_mcp.server.app import ConvoAIServer
    from convoai_mcp.server.console import Console
    from convoai_mcp.server.events import EventFeed

__all__ = [
    "DEFAULT_LIMITS",
    "KEEP_ALIVE_SECONDS",
    "ConnectionLimits",
    "http_socket",
    "serve_http",
    "uvicorn_config",
]

KEEP_ALIVE_SECONDS = 65
"""How long the HTTP transports keep an idle connection open: longer than clients keep theirs
(httpx: 5 s). With uvicorn's default 5 s both ends close at once and a reused connection fails
mid-request (ReadError after a 5 s pause; benchmarks/)."""


@dataclass(frozen=True)
class ConnectionLimits:
    """How many connections the HTTP transports hold, and how long a request may take to
    arrive (see the module docstring)."""

    max_connections: int = 512
    """Open connections at most (file descriptors stay well below the usual limit of 1024)."""
    max_per_client: int = 128
    """Open connections from one client address at most."""
    request_timeout: float = 15.0
    """Seconds a connection has to deliver a complete request (headers and body)."""
    backlog: int = 256
    """Connections the kernel queues before they are accepted."""


DEFAULT_LIMITS = ConnectionLimits()


def http_socket(host: str, port: int) -> socket.socket:
    """The listening socket of the HTTP transports, bound to ``host``:``port`` (0: a free one).

    Its protocol is IPPROTO_TCP, not 0: asyncio sets TCP_NODELAY only on accepted sockets whose
    proto is TCP, and without it every keep-alive response waits ~40 ms (Nagle + delayed ACK;
    benchmarks/).
    """
    import socket

    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    sock = socket.socket(family, socket.SOCK_STREAM, socket.IPPROTO_TCP)
    try:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        sock.bind((host.strip("[]"), port))
    except OSError:
        sock.close()
        raise
    return sock


def _link_host(host: str) -> str:
    """The name an approval link uses to reach a server bound to ``host``."""
    import socket

    name = host.strip("[]")
    if name in ("", "0.0.0.0", "::"):  # noqa: S104 - a wildcard bind: this machine's name
        return socket.gethostname().lower()
    return f"[{name}]" if ":" in name else name


def _guarded_protocol(limits: ConnectionLimits) -> type[asyncio.Protocol]:
    """uvicorn's h11 protocol with the connection guard of the module docstring."""
    import h11
    from uvicorn.protocols.http.h11_impl import H11Protocol

    reading = (h11.IDLE, h11.SEND_BODY)  # their request is not complete yet

    class _Guarded(H11Protocol):
        registry: ClassVar[dict[_Guarded, None]] = {}  # insertion order: oldest first
        _deadline: asyncio.TimerHandle | None = None

        def _address(self) -> str:
            return self.client[0] if self.client else ""

        def _evictable(self) -> bool:
            return self.conn.their_state in reading and (
                self.cycle is None or self.cycle.response_complete
            )

        def connection_made(self, transport: asyncio.Transport) -> None:  # type: ignore[override]
            super().connection_made(transport)
            self._arm()
            mine = [c for c in self.registry if c._address() == self._address()]
            self.registry[self] = None
            over_client = len(mine) >= limits.max_per_client
            if over_client and not self._evict(mine):
                transport.close()  # every connection of this client is being answered
                return
            over_total = len(self.registry) > limits.max_connections
            if over_total and not self._evict(list(self.registry)):
                transport.close()

        def _evict(self, candidates: list[_Guarded]) -> bool:
            for other in candidates:
                if other is not self and other._evictable() and not other.transport.is_closing():
                    other.transport.close()
                    return True
            return False

        def connection_lost(self, exc: Exception | None) -> None:
            self._disarm()
            self.registry.pop(self, None)
            super().connection_lost(exc)

        def data_received(self, data: bytes) -> None:
            if self._deadline is None and self.conn.their_state in reading:
                self._arm()  # the first byte of a request after an earlier response
            super().data_received(data)
            if self.conn.their_state not in reading:
                self._disarm()

        def on_response_complete(self) -> None:
            super().on_response_complete()
            if self.conn.their_state not in reading:
                self._disarm()  # idle until the next request: uvicorn's keep-alive applies

        def _arm(self) -> None:
            self._disarm()
            self._deadline = self.loop.call_later(limits.request_timeout, self._expired)

        def _disarm(self) -> None:
            if self._deadline is not None:
                self._deadline.cancel()
                self._deadline = None

        def _expired(self) -> None:
            self._deadline = None
            if self.conn.their_state in reading and not self.transport.is_closing():
                self.transport.close()

    return _Guarded


def uvicorn_config(
    app: ASGIApp, settings: Settings, *, limits: ConnectionLimits = DEFAULT_LIMITS
) -> uvicorn.Config:
    """How uvicorn serves ``app``: logging through ours, :data:`KEEP_ALIVE_SECONDS`, the
    connection guard of ``limits``."""
    import uvicorn

    return uvicorn.Config(
        app,
        http=_guarded_protocol(limits),
        log_config=None,
        log_level=settings.log_level.lower(),
        access_log=settings.log_level == "DEBUG",
        timeout_graceful_shutdown=2,
        timeout_keep_alive=KEEP_ALIVE_SECONDS,
        backlog=limits.backlog,
    )


async def serve_http(
    server: ConvoAIServer,
    settings: Settings,
    *,
    transport: str,
    host: str,
    port: int,
    on_ready: Callable[[str, bool], None] | None = None,
    limits: ConnectionLimits = DEFAULT_LIMITS,
    stop: anyio.Event | None = None,
    sock: socket.socket | None = None,
) -> None:
    """Serve ``server`` over ``transport`` (``streamable-http`` or ``sse``) on ``host:port``
    (or on ``sock``, bound there already) until Ctrl-C or ``stop`` is set;
    ``on_ready(url, token_required)`` once it listens. The socket is closed at the end."""
    import uvicorn

    from convoai_mcp.server.transports.security import HttpSecurity, secure_asgi_app

    sock = sock if sock is not None else http_socket(host, port)
    console: Console | None = None
    security: HttpSecurity | None = None
    try:
        bound = sock.getsockname()[1]
        security = HttpSecurity.from_settings(
            settings, host=host, port=bound, extra_hosts=settings.http_allowed_hosts
        )
        app: Any
        if transport == "sse":
            app = server.sse_app(
                host=host,
                transport_security=security.transport_security,
                max_request_body_size=security.max_body_bytes,
            )
            path = "/sse"
        else:
            app = server.streamable_http_app(
                host=host,
                transport_security=security.transport_security,
                max_request_body_size=security.max_body_bytes,
                stateless_http=settings.http_stateless,
            )
            path = "/mcp"
        shown = f"[{host.strip('[]')}]" if ":" in host else host
        approvals = server.runtime.gate.mount(
            f"http://{_link_host(host)}:{bound}",
            allowed_hosts=[
                f"{name[:-2]}:{bound}" if name.endswith(":*") else name
                for name in security.transport_security.allowed_hosts
            ],
        )
        from convoai_mcp.server.transports.health import Readiness, probes

        public = probes(Readiness(server.runtime))  # /healthz, /readyz: outside the auth
        feed: EventFeed | None = None
        if settings.webhook_secret is not None:  # signed by Agora: the signature is the auth
            from convoai_mcp.server.events import EventFeed
            from convoai_mcp.server.transports.webhooks import WEBHOOK_PATH, AgoraWebhooks

            feed = server.events = EventFeed(server.runtime)
            public[WEBHOOK_PATH] = AgoraWebhooks(
                settings.webhook_secret.get_secret_value().encode(),
                max_body_bytes=security.max_body_bytes,
                on_event=feed.submit,
            )
        from convoai_mcp.server.console import Console, with_console

        console = Console(server, server.runtime)
        served = with_console(
            secure_asgi_app(app, security, approvals=approvals, public=public),
            console,
            lambda api: secure_asgi_app(api, security.for_console()),
        )
        if feed is not None:
            served = feed.lifespan(served)  # the feed's worker lives as long as the app
        config = uvicorn_config(served, settings, limits=limits)
        # Listening from here on: a client that connects once on_ready has announced the URL
        # waits in the backlog until uvicorn accepts it (the banner comes before uvicorn's lines).
        sock.listen(limits.backlog)
        if on_ready is not None:
            on_ready(f"http://{shown}:{bound}{path}", security.credential_required)
        uv = uvicorn.Server(config)
        if stop is None:
            await uv.serve(sockets=[sock])
            return
        import anyio

        async def _stop_when_set() -> None:
            await stop.wait()
            uv.should_exit = True

        async with anyio.create_task_group() as group:
            group.start_soon(_stop_when_set)
            await uv.serve(sockets=[sock])
            group.cancel_scope.cancel()
    finally:
        if console is not None:
            await console.aclose()
        if security is not None and security.oauth is not None:
            await security.oauth.aclose()
        sock.close()
