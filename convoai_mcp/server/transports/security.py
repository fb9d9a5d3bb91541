"""Protection for the HTTP transports (streamable HTTP and SSE).

* :func:`check_bind` refuses to serve on a non-loopback address without a bearer token (or
  OAuth).
* :func:`transport_security_for` returns the SDK's ``TransportSecuritySettings`` with Host / Origin
  (DNS-rebinding) validation **on** for every bind address (the SDK only turns it on by itself
  for loopback binds).
* :func:`secure_asgi_app` wraps the SDK's Starlette app: Host / Origin check on every request,
  ``Authorization: Bearer <CONVOAI_HTTP_TOKEN>`` compared in constant time, and a request body
  size limit (``CONVOAI_MAX_BODY_BYTES``); the approval page (``/approve/<token>``) is reached
  without the bearer token (the token in its path is the credential), Host / Origin still apply.
  Its ``public`` paths (the health probes, :mod:`.health`, which reveal nothing; the signed
  webhooks, :mod:`.webhooks`) are answered before all of those checks.
* With OAuth (``CONVOAI_OAUTH_ISSUER``, :mod:`.oauth`) the JWT access token takes the static
  token's place (:attr:`HttpSecurity.oauth`, an :class:`~.oauth.OAuthGuard`); its metadata
  is a public path, and the resource URL's host is an allowed ``Host``.

Wiring (what :func:`convoai_mcp.server.transports.http.serve_http` does)::

    security = HttpSecurity.from_settings(settings, host=host, port=port)  # raises ConfigError
    app = server.streamable_http_app(host=host, transport_security=security.transport_security,
                                     max_request_body_size=security.max_body_bytes)
    uvicorn.Server(uvicorn_config(secure_asgi_app(app, security), settings)).serve(sockets=...)
"""

from __future__ import annotations

import hmac
import json
import socket
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, replace
from typing import TYPE_CHECKING

from mcp.server.transport_security import (
    DEFAULT_MAX_REQUEST_BODY_SIZE,
    RequestBodyLimitMiddleware,
    TransportSecurityMiddleware,
    TransportSecuritySettings,
)
from pydantic import SecretStr
from starlette.datastructures import Headers
from starlette.requests import Request
from starlette.types import ASGIApp, Receive, Scope, Send

from convoai_mcp.errors import ConfigError
from convoai_mcp.server._net import is_loopback

if TYPE_CHECKING:
    from convoai_mcp.config import Settings
    from convoai_mcp.server.transports.oauth import OAuthGuard

__all__ = [
    "DEFAULT_MAX_BODY_BYTES",
    "HttpSecurity",
    "check_bind",
    "is_loopback",
    "secure_asgi_app",
    "transport_security_for",
]

DEFAULT_MAX_BODY_BYTES = min(DEFAULT_MAX_REQUEST_BODY_SIZE, 1024 * 1024)
"""Default request body limit: 1 MiB (MCP messages of this server are far smaller)."""

_LOOPBACK_NAMES = ("127.0.0.1", "localhost", "[::1]")
_APPROVE = "/approve/"
"""Where the approval page is mounted (its one-time token in the path is its credential)."""
_WILDCARDS = ("0.0.0.0", "::", "")  # noqa: S104 - recognised, not bound here


def _secret(token: str | SecretStr | None) -> str | None:
    if isinstance(token, SecretStr):
        token = token.get_secret_value()
    return token.strip() if token and token.strip() else None


def check_bind(host: str, token: str | SecretStr | None, *, oauth: bool = False) -> None:
    """Raise :class:`ConfigError` when ``host`` is not loopback and neither a bearer token nor
    OAuth (``oauth``) is set."""
    if is_loopback(host) or _secret(token) is not None or oauth:
        return
    raise ConfigError(
        f"refusing to serve HTTP on {host or '0.0.0.0'}: binding to a non-loopback address "  # noqa: S104
        "requires CONVOAI_HTTP_TOKEN or CONVOAI_OAUTH_ISSUER",
        hint="set CONVOAI_HTTP_TOKEN to a long random value (clients send it as "
        "'Authorization: Bearer <token>'), or configure OAuth (CONVOAI_OAUTH_ISSUER and "
        "CONVOAI_OAUTH_RESOURCE), or bind to 127.0.0.1",
    )


def _local_names(host: str) -> list[str]:
    """Names a client may use to reach a server bound to ``host``."""
    names = {host.strip().lower()} if host.strip() not in _WILDCARDS else set()
    if not is_loopback(host):
        try:
            hostname = socket.gethostname()
            names.update({hostname.lower(), socket.getfqdn().lower()})
            for info in socket.getaddrinfo(hostname, None):
                names.add(str(info[4][0]))
        except OSError:
            pass
    out: list[str] = []
    for name in sorted(names):
        if ":" in name and not name.startswith("["):
            name = f"[{name}]"  # IPv6 literal as it appears in a Host header
        if name and name not in _LOOPBACK_NAMES:
            out.append(name)
    return out


def transport_security_for(
    host: str, port: int, extra_hosts: Iterable[str] = ()
) -> TransportSecuritySettings:
    """Host / Origin validation settings for a server bound to ``host:port``, always enabled.

    Allowed: the loopback names, the bind address, this machine's names and addresses (for a
    wildcard or LAN bind) and ``extra_hosts`` (``name`` or ``name:port``).
    """
    del port  # any port on an allowed name: rebinding attacks change the name, not the port
    hosts: list[str] = []
    for name in [*_LOOPBACK_NAMES, *_local_names(host)]:
        hosts.extend([name, f"{name}:*"])
    for extra in extra_hosts:
        extra = extra.strip().lower()
        if extra:
            hosts.extend([extra] if ":" in extra.strip("[]") else [extra, f"{extra}:*"])
    hosts = list(dict.fromkeys(hosts))
    origins = [f"{scheme}://{h}" for h in hosts for scheme in ("http", "https")]
    return TransportSecuritySettings(
        enable_dns_rebinding_protection=True, allowed_hosts=hosts, allowed_origins=origins
    )


@dataclass(frozen=True)
class HttpSecurity:
    """Everything :func:`secure_asgi_app` enforces."""

    transport_security: TransportSecuritySettings
    token: SecretStr | None = None
    max_body_bytes: int = DEFAULT_MAX_BODY_BYTES
    oauth: OAuthGuard | None = None
    """With OAuth: the access-token check that replaces :attr:`token`."""

    @property
    def credential_required(self) -> bool:
        """True when requests must carry a bearer credential (a token or an access token)."""
        return self.token is not None or self.oauth is not None

    def for_console(self) -> HttpSecurity:
        """The checks of the console's API: the same, with OAuth scopes per action."""
        if self.oauth is None:
            return self
        from convoai_mcp.server.transports.oauth import console_needs

        return replace(self, oauth=self.oauth.with_needs(console_needs))

    @classmethod
    def for_bind(
        cls,
        host: str,
        port: int,
        *,
        token: str | SecretStr | None = None,
        max_body_bytes: int | None = None,
        extra_hosts: Iterable[str] = (),
        oauth: OAuthGuard | None = None,
    ) -> HttpSecurity:
        """Checked settings for serving on ``host:port`` (raises :class:`ConfigError`)."""
        check_bind(host, token, oauth=oauth is not None)
        secret = _secret(token)
        if oauth is not None:
            from urllib.parse import urlsplit

            extra_hosts = [*extra_hosts, urlsplit(oauth.config.resource).netloc]
        return cls(
            transport_security=transport_security_for(host, port, extra_hosts),
            token=SecretStr(secret) if secret else None,
            max_body_bytes=max_body_bytes or DEFAULT_MAX_BODY_BYTES,
            oauth=oauth,
        )

    @classmethod
    def from_settings(
        cls, settings: Settings, *, host: str, port: int, extra_hosts: Iterable[str] = ()
    ) -> HttpSecurity:
        """:meth:`for_bind` with ``CONVOAI_HTTP_TOKEN``, ``CONVOAI_MAX_BODY_BYTES`` and OAuth
        (``CONVOAI_OAUTH_*``)."""
        oauth: OAuthGuard | None = None
        if settings.oauth_issuer is not None:
            from convoai_mcp.server.transports.oauth import OAuthConfig, OAuthGuard

            config = OAuthConfig.from_settings(settings)
            oauth = OAuthGuard(config) if config is not None else None
        return cls.for_bind(
            host,
            port,
            token=settings.http_token,
            max_body_bytes=settings.max_body_bytes,
            extra_hosts=extra_hosts,
            oauth=oauth,
        )


async def _refuse(send: Send, status: int, message: str, *, bearer: bool = False) -> None:
    body = json.dumps({"error": message}).encode()
    headers = [
        (b"content-type", b"application/json"),
        (b"content-length", str(len(body)).encode()),
    ]
    if bearer:
        headers.append((b"www-authenticate", b'Bearer realm="convoai-mcp"'))
    await send({"type": "http.response.start", "status": status, "headers": headers})
    await send({"type": "http.response.body", "body": body})


def _bearer(headers: Headers) -> str | None:
    value = headers.get("authorization", "")
    scheme, _, credential = value.partition(" ")
    if scheme.lower() != "bearer" or not credential.strip():
        return None
    return credential.strip()


class _SecureApp:
    """ASGI wrapper: Host / Origin, bearer token, body size; lifespan passes through."""

    def __init__(
        self,
        app: ASGIApp,
        security: HttpSecurity,
        approvals: ASGIApp | None = None,
        public: Mapping[str, ASGIApp] | None = None,
    ) -> None:
        self._security = security
        self._approvals = approvals
        self._public = dict(public or {})
        self._origin_check = TransportSecurityMiddleware(security.transport_security)
        self._token = (
            security.token.get_secret_value().encode() if security.token is not None else None
        )
        if security.oauth is not None:
            app = security.oauth.wrap(app)  # the access token replaces the static token
            self._public.update(dict.fromkeys(security.oauth.public_paths, security.oauth.metadata))
        self._app = RequestBodyLimitMiddleware(app, security.max_body_bytes)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] not in ("http", "websocket"):
            await self._app(scope, receive, send)
            return
        if scope["type"] == "websocket":
            await send({"type": "websocket.close", "code": 1008})
            return
        public = self._public.get(scope.get("path", ""))
        if public is not None:
            await public(scope, receive, send)
            return
        refused = await self._origin_check.validate_request(Request(scope), is_post=False)
        if refused is not None:
            await refused(scope, receive, send)
            return
        if self._approvals is not None and str(scope.get("path", "")).startswith(_APPROVE):
            # The approval page: the one-time token in its path is the credential (a browser
            # cannot send the bearer header); Host / Origin were checked above, and the page
            # checks its own origin again before any change.
            await self._approvals(scope, receive, send)
            return
        if self._token is not None:
            provided = _bearer(Headers(scope=scope))
            if provided is None:
                await _refuse(send, 401, "missing bearer token", bearer=True)
                return
            if not hmac.compare_digest(provided.encode(), self._token):
                await _refuse(send, 401, "invalid bearer token", bearer=True)
                return
        await self._app(scope, receive, send)


def secure_asgi_app(
    app: ASGIApp,
    security: HttpSecurity,
    *,
    approvals: ASGIApp | None = None,
    public: Mapping[str, ASGIApp] | None = None,
) -> ASGIApp:
    """Wrap ``app`` (the SDK's streamable HTTP or SSE app) with the checks in ``security``;
    ``approvals`` (the approval page's app) answers ``/approve/*`` without the bearer token;
    ``public`` maps exact paths to apps served without the Host check and the token (only what
    reveals nothing, or authenticates itself)."""
    return _SecureApp(app, security, approvals, public)
