"""Serve an ASGI app with uvicorn on a (free) loopback port, as an async context manager."""

from __future__ import annotations

import asyncio
import contextlib
import ipaddress
import socket
from collections.abc import AsyncIterator, Generator

import uvicorn
from starlette.types import ASGIApp

__all__ = ["bind", "is_loopback", "serve"]


class _QuietServer(uvicorn.Server):
    """A uvicorn server that leaves signal handling to its owner (tests, the CLI)."""

    bind_failed = False

    @contextlib.contextmanager
    def capture_signals(self) -> Generator[None, None, None]:
        yield

    async def startup(self, sockets: list[socket.socket] | None = None) -> None:
        """Like uvicorn's, but a failure to bind ends the server instead of the process."""
        try:
            await super().startup(sockets)
        except SystemExit:
            self.bind_failed = True
            self.should_exit = True


def is_loopback(host: str) -> bool:
    """True for ``localhost`` and loopback addresses (127.0.0.0/8, ::1)."""
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False


def bind(host: str, port: int) -> socket.socket:
    """A TCP socket bound to ``host:port`` (0: a free port); raises :class:`OSError` (address
    in use, not available) before anything is started or printed."""
    name = host.strip("[]")
    family = socket.AF_INET6 if ":" in name else socket.AF_INET
    return socket.create_server((name, port), family=family)


@contextlib.asynccontextmanager
async def serve(
    app: ASGIApp, *, host: str = "127.0.0.1", port: int = 0, sock: socket.socket | None = None
) -> AsyncIterator[str]:
    """Run ``app`` until the block exits; yields ``http://host:port`` (the bound port). With
    ``sock`` (already bound, e.g. by :func:`bind`), that socket is served instead."""
    config = uvicorn.Config(
        app,
        host=host.strip("[]"),
        port=port,
        lifespan="off",
        log_level="warning",
        access_log=False,
        http="h11",
        timeout_graceful_shutdown=1,
        timeout_keep_alive=5,
    )
    server = _QuietServer(config)
    task = asyncio.create_task(server.serve(sockets=[sock] if sock is not None else None))
    try:
        while not server.started:
            if task.done() or server.bind_failed:
                await task
                raise OSError(f"cannot listen on {host}:{port} (address in use or not available)")
            await asyncio.sleep(0.005)
        bound_port = server.servers[0].sockets[0].getsockname()[1]
        shown = f"[{host.strip('[]')}]" if ":" in host else host
        yield f"http://{shown}:{bound_port}"
    finally:
        server.should_exit = True
        with contextlib.suppress(asyncio.CancelledError):
            await task
