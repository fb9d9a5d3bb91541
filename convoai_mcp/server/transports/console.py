"""The live console served alone on loopback (no MCP endpoint): what ``convoai-mcp demo`` opens
while it runs, for a server it talks to in memory."""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator
from typing import TYPE_CHECKING, Any

from convoai_mcp.server.console import CONSOLE_PATH, Console, with_console

if TYPE_CHECKING:
    from mcp.server.mcpserver import MCPServer
    from starlette.types import Receive, Scope, Send

    from convoai_mcp.server.runtime import Runtime

__all__ = ["serve_console"]


async def _not_found(scope: Scope, receive: Receive, send: Send) -> None:
    from starlette.responses import JSONResponse

    if scope["type"] == "http":
        answer = JSONResponse({"error": f"only {CONSOLE_PATH} is served here"}, status_code=404)
        await answer(scope, receive, send)


@contextlib.asynccontextmanager
async def serve_console(server: MCPServer[Any], runtime: Runtime) -> AsyncIterator[str]:
    """Serve the console of ``server`` on a free loopback port while the block runs; yields
    the page's URL. No bearer token (loopback only); the API has the Host / Origin checks of
    the HTTP transports."""
    from convoai_mcp.sandbox.runner import serve
    from convoai_mcp.server.transports.security import HttpSecurity, secure_asgi_app

    security = HttpSecurity.for_bind("127.0.0.1", 0)
    console = Console(server, runtime)
    app = with_console(_not_found, console, lambda api: secure_asgi_app(api, security))
    try:
        async with serve(app, host="127.0.0.1", port=0) as root:
            yield root + CONSOLE_PATH
    finally:
        await console.aclose()
