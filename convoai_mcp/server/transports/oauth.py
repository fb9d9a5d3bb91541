"""OAuth 2.1 resource server for the HTTP transports: JWT access tokens, RFC 9728 metadata.

With ``CONVOAI_OAUTH_ISSUER`` and ``CONVOAI_OAUTH_RESOURCE`` (:class:`OAuthConfig`) every
request to ``/mcp``, ``/sse`` and the console's API must carry ``Authorization: Bearer <JWT>``,
an access token of that issuer (the MCP authorization spec; the static ``CONVOAI_HTTP_TOKEN``
is then refused at start-up: one kind of credential per server).

**Verification** (:class:`JWTVerifier`, the SDK's ``TokenVerifier``; PyJWT with
``cryptography``, imported only here, the ``oauth`` extra):

* the signature, with the issuer's key named by the token's ``kid`` (:class:`JWKSCache`):
  asymmetric algorithms only (:data:`ALGORITHMS`: never ``none``, never HS*, so a public key is
  never used as an HMAC secret), the algorithm matching the key's type (and its ``alg`` when the
  key names one); keys of type ``oct`` and keys for encryption are ignored;
* ``iss`` equal to the issuer, ``aud`` containing the audience (``CONVOAI_OAUTH_AUDIENCE``,
  default the resource URL, a trailing slash aside), ``exp`` required, ``exp`` / ``nbf`` / ``iat``
  with :data:`LEEWAY_SECONDS` of leeway;
* scopes from ``scope`` (space-separated, RFC 9068) or ``scp`` (a list or a string); the client
  from ``client_id`` (RFC 9068), else ``azp``, else ``sub``.

**Keys** (:class:`JWKSCache`): fetched from ``CONVOAI_OAUTH_JWKS_URL``, else from the
``jwks_uri`` of the issuer's metadata (RFC 8414 ``/.well-known/oauth-authorization-server``,
then OpenID ``/.well-known/openid-configuration``, in the order the MCP spec gives; the
metadata's ``issuer`` must be the issuer). Over https (plain http only on loopback), no
redirects, at most :data:`MAX_DOCUMENT_BYTES`. Kept for :data:`KEYS_MAX_AGE` and then fetched
again on the next request; a token naming an unknown ``kid`` makes it fetch at once, at most
once per :data:`REFRESH_MIN_INTERVAL` (so a key the issuer just rotated in works within a
request, and a flood of made-up key ids cannot make the server hammer the issuer). A key removed
from the set is refused after the next fetch. A failed fetch keeps the keys it had.

**HTTP** (:class:`OAuthGuard`): no token or a refused one → 401 with
``WWW-Authenticate: Bearer error="invalid_token", error_description="<why>",
resource_metadata="<metadata URL>", scope="<the scopes>"``; a valid token without any of this
server's scopes → 403 ``insufficient_scope``. The protected-resource metadata (RFC 9728:
``resource``, ``authorization_servers``, ``scopes_supported``, ``bearer_methods_supported``) is
served without a token at ``/.well-known/oauth-protected-resource`` plus the resource's path
(e.g. ``.../oauth-protected-resource/mcp``), and at the bare well-known path too. The verified
token becomes the request's ``scope["user"]`` (the SDK's ``AuthenticatedUser``: the SDK binds
sessions to its principal) and ``get_access_token()``; what each tool needs is checked in one
place, :mod:`convoai_mcp.server.scopes`.

No token, and no part of one, is ever logged or answered: a refusal says what was wrong
(expired, wrong audience, unknown key, ...) and nothing else.
"""

from __future__ import annotations

import json
import logging
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit

import anyio

from convoai_mcp.errors import ConfigError
from convoai_mcp.server._net import is_loopback
from convoai_mcp.server.scopes import roles_of, scope_names

if TYPE_CHECKING:
    import httpx
    from mcp.server.auth.provider import AccessToken
    from starlette.types import ASGIApp, Receive, Scope, Send

    from convoai_mcp.config import Settings

__all__ = [
    "ALGORITHMS",
    "KEYS_MAX_AGE",
    "LEEWAY_SECONDS",
    "MAX_DOCUMENT_BYTES",
    "REFRESH_MIN_INTERVAL",
    "JWKSCache",
    "JWTVerifier",
    "OAuthConfig",
    "OAuthGuard",
    "TokenRefused",
    "console_needs",
    "require_jwt_library",
]

logger = logging.getLogger("convoai_mcp.oauth")

ALGORITHMS: tuple[str, ...] = (
    "RS256",
    "RS384",
    "RS512",
    "PS256",
    "PS384",
    "PS512",
    "ES256",
    "ES384",
    "ES512",
    "EdDSA",
)
"""The signature algorithms accepted: asymmetric only."""
_KEY_TYPES = {"RS": "RSA", "PS": "RSA", "ES": "EC", "Ed": "OKP"}
_CURVES = {"ES256": "P-256", "ES384": "P-384", "ES512": "P-521"}
LEEWAY_SECONDS = 30
"""Clock skew allowed on ``exp``, ``nbf`` and ``iat``."""
KEYS_MAX_AGE = 3600.0
"""Seconds the issuer's keys are used before they are fetched again."""
REFRESH_MIN_INTERVAL = 30.0
"""Seconds at least between two fetches caused by unknown key ids."""
MAX_DOCUMENT_BYTES = 512 * 1024
"""The largest JWKS or metadata document read."""
_TIMEOUT = 5.0
_WELL_KNOWN = "/.well-known/oauth-protected-resource"


def require_jwt_library() -> None:
    """Raise :class:`ConfigError` when PyJWT with ``cryptography`` is not installed."""
    try:
        import cryptography  # noqa: F401
        import jwt  # noqa: F401
    except ImportError:
        raise ConfigError(
            "CONVOAI_OAUTH_ISSUER needs PyJWT with cryptography, which is not installed",
            hint="pip install 'convoai-mcp[oauth]'",
        ) from None


class TokenRefused(Exception):
    """An access token was refused; the message says why (never the token)."""


def _allowed_url(name: str, url: str) -> str:
    parts = urlsplit(url)
    https = parts.scheme == "https" and bool(parts.hostname)
    loopback = parts.scheme == "http" and is_loopback(parts.hostname or "")
    if not (https or loopback):
        raise TokenRefused(f"the issuer's {name} is not an https URL")
    return url


@dataclass(frozen=True)
class OAuthConfig:
    """The resource server's settings (from ``CONVOAI_OAUTH_*``, checked by the config)."""

    issuer: str
    resource: str
    audience: str
    jwks_url: str | None = None
    scopes: Mapping[str, str] = field(default_factory=scope_names)
    """Each role's scope name (:mod:`convoai_mcp.server.scopes`)."""

    @classmethod
    def from_settings(cls, settings: Settings) -> OAuthConfig | None:
        """The configuration, or None when ``CONVOAI_OAUTH_ISSUER`` is not set."""
        if settings.oauth_issuer is None or settings.oauth_resource is None:
            return None
        return cls(
            issuer=settings.oauth_issuer,
            resource=settings.oauth_resource,
            audience=settings.oauth_audience or settings.oauth_resource,
            jwks_url=settings.oauth_jwks_url,
            scopes=scope_names(settings.oauth_scopes),
        )

    @property
    def metadata_url(self) -> str:
        """The resource's RFC 9728 metadata URL (the well-known path before the resource's)."""
        parts = urlsplit(self.resource)
        path = parts.path if parts.path != "/" else ""
        return f"{parts.scheme}://{parts.netloc}{_WELL_KNOWN}{path}"

    @property
    def metadata_paths(self) -> tuple[str, ...]:
        """The paths the metadata is served at."""
        path = urlsplit(self.metadata_url).path
        return tuple(dict.fromkeys((path, _WELL_KNOWN)))

    def metadata(self) -> dict[str, Any]:
        """The RFC 9728 protected-resource metadata document (the SDK's model of it)."""
        from mcp.shared.auth import ProtectedResourceMetadata

        document = ProtectedResourceMetadata.model_validate(
            {
                "resource": self.resource,
                "authorization_servers": [self.issuer],
                "scopes_supported": list(self.scopes.values()),
                "bearer_methods_supported": ["header"],
                "resource_name": "convoai-mcp",
            }
        )
        dumped: dict[str, Any] = document.model_dump(mode="json", exclude_none=True)
        return dumped

    def discovery_urls(self) -> list[str]:
        """Where the issuer's metadata is looked for (RFC 8414 first, then OpenID Connect)."""
        parts = urlsplit(self.issuer)
        base = f"{parts.scheme}://{parts.netloc}"
        path = parts.path.rstrip("/")
        if not path:
            return [
                f"{base}/.well-known/oauth-authorization-server",
                f"{base}/.well-known/openid-configuration",
            ]
        return [
            f"{base}/.well-known/oauth-authorization-server{path}",
            f"{base}/.well-known/openid-configuration{path}",
            f"{base}{path}/.well-known/openid-configuration",
        ]


class JWKSCache:
    """The issuer's signing keys by ``kid`` (see the module docstring for when they are
    fetched). ``clock``: monotonic seconds (tests move it)."""

    def __init__(
        self,
        config: OAuthConfig,
        *,
        http: httpx.AsyncClient | None = None,
        clock: Callable[[], float] = time.monotonic,
        max_age: float = KEYS_MAX_AGE,
        min_interval: float = REFRESH_MIN_INTERVAL,
    ) -> None:
        self._config = config
        self._http = http
        self._own_http = http is None
        self._clock = clock
        self._max_age = max_age
        self._min_interval = min_interval
        self._keys: dict[str | None, dict[str, Any]] = {}
        self._jwks_url = config.jwks_url
        self._fetched_at: float | None = None
        self._tried_at: float | None = None
        self._lock = anyio.Lock()
        self.fetches = 0
        """How many times the key set was fetched (tests and the log read it)."""

    def _client(self) -> httpx.AsyncClient:
        if self._http is None:
            import httpx

            self._http = httpx.AsyncClient(timeout=_TIMEOUT, follow_redirects=False)
        return self._http

    async def aclose(self) -> None:
        """Close the HTTP client it made itself."""
        if self._own_http and self._http is not None:
            await self._http.aclose()
            self._http = None

    @property
    def fetched(self) -> bool:
        """True once a key set was fetched."""
        return self._fetched_at is not None

    def _stale(self, now: float) -> bool:
        return self._fetched_at is None or now - self._fetched_at >= self._max_age

    async def key(self, kid: str | None) -> dict[str, Any] | None:
        """The JWK named ``kid`` (None: the one key of a set with one key without kid)."""
        if self._stale(self._clock()) or self._find(kid) is None:
            await self._refresh(kid)
        return self._find(kid)

    def _find(self, kid: str | None) -> dict[str, Any] | None:
        if kid is not None:
            return self._keys.get(kid)
        if len(self._keys) == 1:
            return next(iter(self._keys.values()))
        return None

    async def _refresh(self, kid: str | None) -> None:
        async with self._lock:
            now = self._clock()
            if not self._stale(now) and self._find(kid) is not None:
                return  # another request fetched them meanwhile
            if self._tried_at is not None and now - self._tried_at < self._min_interval:
                return  # fetched (or tried) a moment ago: not again for a made-up kid
            self._tried_at = now
            try:
                keys = await self._fetch()
            except TokenRefused as exc:
                logger.warning("could not fetch the OAuth issuer's keys: %s", exc)
                return  # the keys it had stay in use
            self._keys, self._fetched_at = keys, now
            self.fetches += 1
            logger.info("fetched the OAuth issuer's keys: %d signing keys", len(keys))

    async def _get_json(self, what: str, url: str) -> dict[str, Any]:
        import httpx

        _allowed_url(what, url)
        try:
            response = await self._client().get(url, headers={"accept": "application/json"})
        except httpx.HTTPError as exc:
            raise TokenRefused(f"{what} at {_where(url)}: {type(exc).__name__}") from None
        if response.status_code != 200:
            raise TokenRefused(f"{what} at {_where(url)} answered {response.status_code}")
        if len(response.content) > MAX_DOCUMENT_BYTES:
            raise TokenRefused(f"{what} at {_where(url)} is larger than {MAX_DOCUMENT_BYTES}")
        try:
            document = json.loads(response.content)
        except ValueError:
            raise TokenRefused(f"{what} at {_where(url)} is not JSON") from None
        if not isinstance(document, dict):
            raise TokenRefused(f"{what} at {_where(url)} is not a JSON object")
        return document

    async def _discover(self) -> str:
        problems: list[str] = []
        for url in self._config.discovery_urls():
            try:
                metadata = await self._get_json("metadata", url)
            except TokenRefused as exc:
                problems.append(str(exc))
                continue
            if metadata.get("issuer") != self._config.issuer:
                problems.append(f"the metadata at {_where(url)} names another issuer")
                continue
            jwks = metadata.get("jwks_uri")
            if isinstance(jwks, str) and jwks:
                return _allowed_url("jwks_uri", jwks)
            problems.append(f"the metadata at {_where(url)} has no jwks_uri")
        raise TokenRefused("no jwks_uri found (" + "; ".join(problems) + ")")

    async def _fetch(self) -> dict[str | None, dict[str, Any]]:
        if self._jwks_url is None:
            self._jwks_url = await self._discover()
        document = await self._get_json("key set", self._jwks_url)
        entries = document.get("keys")
        if not isinstance(entries, list):
            raise TokenRefused(f"the key set at {_where(self._jwks_url)} has no keys list")
        keys: dict[str | None, dict[str, Any]] = {}
        for jwk in entries:
            if not isinstance(jwk, dict) or jwk.get("kty") not in ("RSA", "EC", "OKP"):
                continue  # oct (symmetric) keys never verify a token here
            if jwk.get("use", "sig") != "sig":
                continue
            kid = jwk.get("kid")
            keys[kid if isinstance(kid, str) else None] = jwk
        return keys


def _where(url: str) -> str:
    parts = urlsplit(url)
    return f"{parts.scheme}://{parts.netloc}{parts.path}"


def _scopes(claims: Mapping[str, Any]) -> list[str]:
    value = claims.get("scope", claims.get("scp"))
    if isinstance(value, str):
        return value.split()
    if isinstance(value, list):
        return [s for s in value if isinstance(s, str)]
    return []


def _check_algorithm(alg: Any, jwk: Mapping[str, Any]) -> str:
    if not isinstance(alg, str) or alg not in ALGORITHMS:
        shown = alg if isinstance(alg, str) and alg.isalnum() and len(alg) <= 16 else "?"
        raise TokenRefused(f"the signature algorithm {shown!r} is not accepted")
    if _KEY_TYPES[alg[:2]] != jwk.get("kty"):
        raise TokenRefused(f"the key named by kid is not a key for {alg}")
    if alg in _CURVES and jwk.get("crv") != _CURVES[alg]:
        raise TokenRefused(f"the key named by kid is not on the curve of {alg}")
    if "alg" in jwk and jwk["alg"] != alg:
        raise TokenRefused("the token's algorithm is not the one its key is for")
    return alg


class JWTVerifier:
    """The SDK's ``TokenVerifier`` for the issuer's JWT access tokens (module docstring)."""

    def __init__(self, config: OAuthConfig, keys: JWKSCache | None = None) -> None:
        require_jwt_library()
        self.config = config
        self.keys = keys if keys is not None else JWKSCache(config)
        aud = config.audience
        self._audiences = list(dict.fromkeys([aud, aud.rstrip("/"), aud.rstrip("/") + "/"]))

    async def verify_token(self, token: str) -> AccessToken | None:
        """The token's access info, or None when it is refused (the reason is logged)."""
        try:
            return await self.verify(token)
        except TokenRefused as exc:
            logger.info("access token refused: %s", exc)
            return None

    async def verify(self, token: str) -> AccessToken:
        """The token's access info; raises :class:`TokenRefused` saying why not."""
        import jwt
        from mcp.server.auth.provider import AccessToken

        try:
            header = jwt.get_unverified_header(token)
        except jwt.InvalidTokenError:
            raise TokenRefused("the access token is not a JWT") from None
        kid = header.get("kid")
        if kid is not None and not isinstance(kid, str):
            raise TokenRefused("the token's kid is not a string")
        jwk = await self.keys.key(kid)
        if jwk is None and not self.keys.fetched:
            raise TokenRefused("the issuer's signing keys could not be fetched; try again later")
        if jwk is None:
            raise TokenRefused("the token is signed with a key the issuer does not publish")
        alg = _check_algorithm(header.get("alg"), jwk)
        try:
            key = jwt.PyJWK(jwk, algorithm=alg)
            claims: dict[str, Any] = jwt.decode(
                token,
                key=key,
                algorithms=[alg],
                audience=self._audiences,
                issuer=self.config.issuer,
                leeway=LEEWAY_SECONDS,
                options={"require": ["exp", "iss", "aud"]},
            )
        except jwt.ExpiredSignatureError:
            raise TokenRefused("the access token has expired") from None
        except jwt.ImmatureSignatureError:
            raise TokenRefused("the access token is not valid yet") from None
        except jwt.InvalidAudienceError:
            raise TokenRefused("the access token was issued for another resource") from None
        except jwt.InvalidIssuerError:
            raise TokenRefused("the access token was issued by another issuer") from None
        except jwt.MissingRequiredClaimError as exc:
            raise TokenRefused(f"the access token has no {exc.claim} claim") from None
        except jwt.InvalidSignatureError:
            raise TokenRefused("the access token's signature does not verify") from None
        except (jwt.InvalidTokenError, jwt.PyJWKError) as exc:
            raise TokenRefused(f"the access token is invalid ({type(exc).__name__})") from None
        subject = claims.get("sub") if isinstance(claims.get("sub"), str) else None
        client = next(
            (v for k in ("client_id", "azp") if isinstance(v := claims.get(k), str) and v),
            subject or "unknown",
        )
        aud = claims.get("aud")
        auds = aud if isinstance(aud, list) else [aud]
        resource = next((a for a in auds if a in self._audiences), None)
        exp = claims.get("exp")
        return AccessToken(
            token=token,
            client_id=client,
            scopes=_scopes(claims),
            expires_at=int(exp) if isinstance(exp, int | float) else None,
            resource=resource if isinstance(resource, str) else None,
            subject=subject,
            claims={"iss": claims.get("iss")},
        )


def console_needs(scope: Scope) -> list[str]:
    """The roles a request to the console's API needs (its actions call the tools over an
    in-memory session, which carries no token): reading ``read``; ``say`` and ``interrupt``
    ``agents``; ``end`` (stop_agent or hangup) both ``agents`` and ``calls``."""
    if scope.get("method") in ("GET", "HEAD"):
        return ["read"]
    if str(scope.get("path", "")).rstrip("/").endswith("/end"):
        return ["agents", "calls"]
    return ["agents"]


def _challenge(config: OAuthConfig, error: str, description: str, scope: str) -> bytes:
    parts = [
        f'error="{error}"',
        f'error_description="{description}"',
        f'resource_metadata="{config.metadata_url}"',
        f'scope="{scope}"',
    ]
    return ("Bearer " + ", ".join(parts)).encode()


class OAuthGuard:
    """The ASGI check in front of the MCP app (and the console's API): metadata, token,
    scopes. ``needs(scope)``: the role a request needs at the HTTP level (default: any)."""

    def __init__(
        self,
        config: OAuthConfig,
        verifier: JWTVerifier | None = None,
        *,
        needs: Callable[[Scope], Sequence[str]] | None = None,
    ) -> None:
        self.config = config
        self.verifier = verifier if verifier is not None else JWTVerifier(config)
        self._needs = needs
        self._metadata = json.dumps(config.metadata()).encode()

    def with_needs(self, needs: Callable[[Scope], Sequence[str]]) -> OAuthGuard:
        """The same guard (same keys) where requests need the roles ``needs`` says."""
        return OAuthGuard(self.config, self.verifier, needs=needs)

    @property
    def public_paths(self) -> tuple[str, ...]:
        """Paths answered without a token (the metadata)."""
        return self.config.metadata_paths

    async def metadata(self, scope: Scope, receive: Receive, send: Send) -> None:
        """Answer the RFC 9728 metadata document (GET / HEAD; CORS open: it is public)."""
        method = scope.get("method", "GET")
        if method == "OPTIONS":
            await _answer(
                send, 204, b"", extra=[(b"access-control-allow-methods", b"GET")], cors=True
            )
            return
        if method not in ("GET", "HEAD"):
            await _answer(send, 405, b'{"error": "the metadata is read with GET"}')
            return
        await _answer(send, 200, b"" if method == "HEAD" else self._metadata, cors=True)

    async def authenticate(self, scope: Scope, send: Send) -> Scope | None:
        """``scope`` with the verified user, or None once the refusal was sent."""
        from mcp.server.auth.middleware.bearer_auth import AuthenticatedUser
        from starlette.authentication import AuthCredentials
        from starlette.datastructures import Headers

        all_scopes = " ".join(self.config.scopes.values())
        value = Headers(scope=scope).get("authorization", "")
        kind, _, credential = value.partition(" ")
        if kind.lower() != "bearer" or not credential.strip():
            await self._refuse(send, 401, "invalid_token", "no bearer access token", all_scopes)
            return None
        try:
            token = await self.verifier.verify(credential.strip())
        except TokenRefused as exc:
            logger.info("access token refused: %s", exc)
            await self._refuse(send, 401, "invalid_token", str(exc), all_scopes)
            return None
        roles = roles_of(token.scopes, self.config.scopes)
        needed = list(self._needs(scope)) if self._needs is not None else []
        missing = [r for r in needed if r not in roles] if needed else ([] if roles else ["read"])
        if missing:
            names = " ".join(self.config.scopes[r] for r in missing)
            await self._refuse(
                send, 403, "insufficient_scope", f"this needs the scope {names}", names
            )
            return None
        return {**scope, "user": AuthenticatedUser(token), "auth": AuthCredentials(token.scopes)}

    async def _refuse(
        self, send: Send, status: int, error: str, description: str, scope: str
    ) -> None:
        body = json.dumps({"error": error, "error_description": description}).encode()
        shown = "".join(c if " " <= c <= "~" and c not in '"\\' else "'" for c in description)
        challenge = _challenge(self.config, error, shown, scope)
        await _answer(send, status, body, extra=[(b"www-authenticate", challenge)])

    def wrap(self, app: ASGIApp) -> ASGIApp:
        """``app`` behind this guard (the verified token in ``scope["user"]`` and
        ``get_access_token()`` while it runs)."""
        from mcp.server.auth.middleware.auth_context import AuthContextMiddleware

        inner = AuthContextMiddleware(app)

        async def guarded(scope: Scope, receive: Receive, send: Send) -> None:
            if scope["type"] != "http":
                await app(scope, receive, send)
                return
            authenticated = await self.authenticate(scope, send)
            if authenticated is not None:
                await inner(authenticated, receive, send)

        return guarded

    async def aclose(self) -> None:
        """Close the key cache's HTTP client."""
        await self.verifier.keys.aclose()


async def _answer(
    send: Send,
    status: int,
    body: bytes,
    *,
    extra: list[tuple[bytes, bytes]] | None = None,
    cors: bool = False,
) -> None:
    headers = [
        (b"content-type", b"application/json"),
        (b"content-length", str(len(body)).encode()),
        (b"cache-control", b"no-store"),
        *([(b"access-control-allow-origin", b"*")] if cors else []),
        *(extra or []),
    ]
    await send({"type": "http.response.start", "status": status, "headers": headers})
    await send({"type": "http.response.body", "body": body})
