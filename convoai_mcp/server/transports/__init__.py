"""How the MCP server is served: one module per transport, and the HTTP safety layer.

* :mod:`.stdio` — :func:`~.stdio.serve_stdio`: stdin / stdout, what MCP clients launch
  (Ctrl-C ends the process at once with status 130).
* :mod:`.http` — :func:`~.http.serve_http`: streamable HTTP (``/mcp``) and SSE (``/sse``) with
  uvicorn on a socket of our own (TCP_NODELAY, keep-alive, connection limits).
* :mod:`.security` — Host / Origin validation, the bearer token and the body limit that wrap
  every HTTP app (:func:`~.security.secure_asgi_app`).
* :mod:`.oauth` — the OAuth 2.1 resource server (JWT access tokens against the issuer's JWKS,
  RFC 9728 metadata), in the static token's place when ``CONVOAI_OAUTH_ISSUER`` is set.

A new transport is a new module here plus its name in :data:`TRANSPORTS`; ``cli.py`` only parses
arguments and calls :func:`serve`. Nothing is imported before it is needed (cold start).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    import socket

    from convoai_mcp.config import Settings
    from convoai_mcp.server.app import ConvoAIServer

__all__ = ["TRANSPORTS", "check_transport", "listen", "serve"]

TRANSPORTS = ("stdio", "streamable-http", "sse")
"""The transport names ``--transport`` accepts."""


def check_transport(transport: str, host: str, port: int, settings: Settings) -> None:
    """Refuse, before anything starts, what cannot be served (raises ``ConfigError``): a port
    outside 0..65535, a non-loopback HTTP bind without ``CONVOAI_HTTP_TOKEN`` (or OAuth), OAuth
    without PyJWT, stateless mode on another transport than streamable HTTP."""
    from convoai_mcp.errors import ConfigError

    if settings.http_stateless and transport != "streamable-http":
        raise ConfigError(
            f"--stateless (CONVOAI_HTTP_STATELESS) applies to streamable HTTP, not {transport}",
            hint="add --transport streamable-http, or leave stateless mode off",
        )
    if transport == "stdio":
        return

    if not 0 <= port <= 65535:
        raise ConfigError(
            f"--port {port} is not a TCP port", hint="use 1..65535, or 0 for a free one"
        )
    from convoai_mcp.server.transports.security import check_bind

    oauth = settings.oauth_issuer is not None
    if oauth:
        from convoai_mcp.server.transports.oauth import require_jwt_library

        require_jwt_library()
    check_bind(host, settings.http_token, oauth=oauth)


def listen(transport: str, host: str, port: int) -> socket.socket | None:
    """The listening socket of an HTTP transport, bound now (``None`` for stdio): call it before
    starting anything else, so that a port in use fails first (raises :class:`OSError`)."""
    if transport == "stdio":
        return None
    from convoai_mcp.server.transports.http import http_socket

    return http_socket(host, port)


async def serve(
    server: ConvoAIServer,
    settings: Settings,
    *,
    transport: str,
    host: str = "127.0.0.1",
    port: int = 8000,
    on_ready: Callable[[str, bool], None] | None = None,
    sock: socket.socket | None = None,
) -> None:
    """Serve ``server`` over ``transport`` until the client (stdio) or Ctrl-C ends it.

    ``on_ready(url, token_required)`` is called once the HTTP transports listen (``url`` is
    ``http://host:port/mcp`` or ``/sse``); stdio calls it with ``("stdio", False)``. ``sock``:
    the socket :func:`listen` bound (else one is bound here).
    """
    if transport == "stdio":
        from convoai_mcp.server.transports.stdio import serve_stdio

        await serve_stdio(
            server, on_ready=None if on_ready is None else lambda: on_ready("stdio", False)
        )
        return
    from convoai_mcp.server.transports.http import serve_http

    await serve_http(
        server, settings, transport=transport, host=host, port=port, on_ready=on_ready, sock=sock
    )
