"""Health probes of the HTTP transports: ``GET /healthz`` (liveness) and ``GET /readyz``
(readiness), for load balancers and orchestrators.

* ``/healthz`` answers 200 whenever the process serves HTTP; it touches nothing else.
* ``/readyz`` answers 200 when the transcript archive (SQLite file or PostgreSQL database; skipped
  when ``CONVOAI_ARCHIVE=off``) answers a read and the Conversational AI service answers a
  harmless request (the phone-number list, as ``convoai-mcp check`` makes), else 503. A success
  of the service is remembered for :data:`SERVICE_TTL` seconds, so probes every few seconds from
  every replica do not become REST traffic; the archive is asked every time; each check has
  :data:`CHECK_TIMEOUT` seconds. Concurrent probes share one check.

Both are answered before the Host / Origin and bearer-token checks (probes come from the
orchestrator, by address, without the token) and reveal nothing: the body is only
``{"status": "ok"}`` / ``{"status": "unavailable"}``, never which part failed or why (that goes
to the server's log, as the exception's type). Other methods get 405.
"""

from __future__ import annotations

import json
import logging
import time
from collections.abc import Awaitable, Callable
from typing import TYPE_CHECKING

import anyio

if TYPE_CHECKING:
    from starlette.types import ASGIApp, Receive, Scope, Send

    from convoai_mcp.server.runtime import Runtime

__all__ = ["CHECK_TIMEOUT", "HEALTH_PATH", "READY_PATH", "SERVICE_TTL", "Readiness", "probes"]

HEALTH_PATH = "/healthz"
READY_PATH = "/readyz"
SERVICE_TTL = 15.0
"""Seconds a successful service check is reused by later readiness probes."""
CHECK_TIMEOUT = 3.0
"""Seconds the archive check and the service check each have (a probe's own timeout should be
longer, e.g. 5 s)."""

logger = logging.getLogger("convoai_mcp.health")


class Readiness:
    """Whether the server can do its work: the archive and the service answer."""

    def __init__(self, runtime: Runtime, *, clock: Callable[[], float] = time.monotonic) -> None:
        self._runtime = runtime
        self._clock = clock
        self._service_ok_at: float | None = None
        self._lock = anyio.Lock()

    async def ready(self) -> bool:
        """Check both (see the module docstring); never raises."""
        async with self._lock:  # concurrent probes wait for the one check in flight
            results: dict[str, bool] = {}
            async with anyio.create_task_group() as group:
                group.start_soon(self._check, "archive", self._archive, results)
                group.start_soon(self._check, "service", self._service, results)
            return all(results.values())

    async def _check(
        self, name: str, check: Callable[[], Awaitable[None]], results: dict[str, bool]
    ) -> None:
        try:
            with anyio.fail_after(CHECK_TIMEOUT):
                await check()
        except Exception as exc:
            logger.warning("not ready: the %s check failed (%s)", name, type(exc).__name__)
            results[name] = False
        else:
            results[name] = True

    async def _archive(self) -> None:
        archive = self._runtime.guard.archive
        if archive is None:
            return
        ping = getattr(archive, "ping", None)  # a cheap round trip where the backend has one
        await (ping() if ping is not None else archive.check())

    async def _service(self) -> None:
        now = self._clock()
        if self._service_ok_at is not None and now - self._service_ok_at < SERVICE_TTL:
            return
        self._service_ok_at = None
        await self._runtime.client.phone_numbers.list()
        self._service_ok_at = self._clock()


async def _answer(send: Send, status: int, payload: dict[str, str], *, head: bool) -> None:
    body = json.dumps(payload).encode()
    headers = [
        (b"content-type", b"application/json"),
        (b"content-length", str(len(body)).encode()),
        (b"cache-control", b"no-store"),
    ]
    if status == 405:
        headers.append((b"allow", b"GET, HEAD"))
    await send({"type": "http.response.start", "status": status, "headers": headers})
    await send({"type": "http.response.body", "body": b"" if head else body})


def probes(readiness: Readiness) -> dict[str, ASGIApp]:
    """The probe endpoints by path, as ASGI apps."""

    async def healthz(scope: Scope, receive: Receive, send: Send) -> None:
        method = scope.get("method", "GET")
        if method not in ("GET", "HEAD"):
            await _answer(send, 405, {"status": "method not allowed"}, head=False)
            return
        await _answer(send, 200, {"status": "ok"}, head=method == "HEAD")

    async def readyz(scope: Scope, receive: Receive, send: Send) -> None:
        method = scope.get("method", "GET")
        if method not in ("GET", "HEAD"):
            await _answer(send, 405, {"status": "method not allowed"}, head=False)
            return
        ok = await readiness.ready()
        status, word = (200, "ok") if ok else (503, "unavailable")
        await _answer(send, status, {"status": word}, head=method == "HEAD")

    return {HEALTH_PATH: healthz, READY_PATH: readyz}
