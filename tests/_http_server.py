"""The MCP server on the emulator, served over streamable HTTP on a free loopback port in this
process (the real transport: uvicorn, the security wrapper, the probes and webhooks)."""

from __future__ import annotations

from collections.abc import AsyncIterator, Mapping
from contextlib import asynccontextmanager
from pathlib import Path

import anyio
import httpx
from _server_helpers import Rig, rig

from convoai_mcp.server.transports.http import serve_http

__all__ = ["TOKEN", "served"]

TOKEN = "canary-http-token-0123456789abcdef"
"""The bearer token :func:`served` requires."""


@asynccontextmanager
async def served(
    tmp_path: Path, env: Mapping[str, str] | None = None
) -> AsyncIterator[tuple[Rig, httpx.AsyncClient]]:
    """The server on the emulator, over streamable HTTP on a free loopback port, with the bearer
    token required; yields the rig and an HTTP client (no token) for its base URL."""
    ready = anyio.Event()
    stop = anyio.Event()
    urls: list[str] = []

    def on_ready(url: str, token_required: bool) -> None:
        assert token_required
        urls.append(url)
        ready.set()

    async with (
        rig(tmp_path, {"CONVOAI_HTTP_TOKEN": TOKEN, **(env or {})}) as r,
        anyio.create_task_group() as group,
    ):
        group.start_soon(
            lambda: serve_http(
                r.server,
                r.settings,
                transport="streamable-http",
                host="127.0.0.1",
                port=0,
                on_ready=on_ready,
                stop=stop,
            )
        )
        with anyio.fail_after(30):
            await ready.wait()
        base = urls[0].removesuffix("/mcp")
        try:
            async with httpx.AsyncClient(base_url=base, timeout=30) as http:
                yield r, http
        finally:
            stop.set()
