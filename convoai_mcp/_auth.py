"""Credentials for the REST API, and percent-encoding of path values (no I/O).

Three modes, each giving the ``Authorization`` value for a request; none ever yields an empty
header (empty or padded credentials are a :class:`~convoai_mcp.errors.ConfigError` up front):

- :class:`BasicAuth`: RESTful customer ID + secret, ``Basic base64(id:secret)``;
- :class:`TokenAuth`: a fixed token, ``agora token=<token>``;
- :class:`AppCredentialsAuth`: App ID + App Certificate; a ConvoAI token minted for the
  request's (channel, uid), reused from a :class:`~convoai_mcp.tokens.TokenCache` until shortly
  before it expires.
"""

from __future__ import annotations

import base64
import time
from collections.abc import Callable
from urllib.parse import quote

from convoai_mcp.errors import ConfigError, ValidationError
from convoai_mcp.tokens import TokenCache, validate_app_certificate, validate_app_id

__all__ = ["AppCredentialsAuth", "Auth", "BasicAuth", "TokenAuth", "encode_path_segment"]


def _require(value: str, name: str, env: str) -> str:
    if not isinstance(value, str) or not value.strip():
        raise ConfigError(f"{name} is empty", hint=f"set {env}")
    if value != value.strip():
        raise ConfigError(f"{name} has leading or trailing whitespace", hint=f"check {env}")
    if any(ord(c) < 32 or ord(c) == 127 for c in value) or not value.isascii():
        raise ConfigError(f"{name} contains control or non-ASCII characters", hint=f"check {env}")
    return value


class BasicAuth:
    """RESTful API credentials: ``Authorization: Basic base64(customer_id:customer_secret)``."""

    def __init__(self, customer_id: str, customer_secret: str) -> None:
        _require(customer_id, "customer ID", "AGORA_CUSTOMER_ID")
        if ":" in customer_id:
            raise ConfigError("customer ID contains ':'", hint="check AGORA_CUSTOMER_ID")
        _require(customer_secret, "customer secret", "AGORA_CUSTOMER_SECRET")
        self.customer_id = customer_id
        raw = f"{customer_id}:{customer_secret}".encode()
        self._credential = base64.b64encode(raw).decode("ascii")
        self._secret = customer_secret
        self._header = "Basic " + self._credential

    def header(self, channel: str, uid: str) -> str:
        """The Authorization value (the same for every request)."""
        return self._header

    def secrets(self) -> tuple[str, ...]:
        """The secret values this auth holds (masked wherever an error echoes them)."""
        return (self._secret, self._credential)

    def __repr__(self) -> str:
        return f"BasicAuth(customer_id={self.customer_id!r}, customer_secret='***')"


class TokenAuth:
    """A fixed token: ``Authorization: agora token=<token>``."""

    def __init__(self, token: str) -> None:
        self._token = _require(token, "token", "AGORA_AUTH_TOKEN")
        self._header = "agora token=" + self._token

    def header(self, channel: str, uid: str) -> str:
        """The Authorization value (the same for every request)."""
        return self._header

    def secrets(self) -> tuple[str, ...]:
        """The secret values this auth holds (masked wherever an error echoes them)."""
        return (self._token,)

    def __repr__(self) -> str:
        return "TokenAuth(token='***')"


class AppCredentialsAuth:
    """App ID + App Certificate: a ConvoAI token minted per (channel, uid), cached until near
    expiry, sent as ``agora token=<token>``."""

    def __init__(
        self, app_id: str, app_certificate: str, *, clock: Callable[[], float] = time.time
    ) -> None:
        try:
            validate_app_id(app_id)
            validate_app_certificate(app_certificate)
        except ValueError as exc:
            raise ConfigError(str(exc)) from None
        self.app_id = app_id
        self._certificate = app_certificate
        self._cache = TokenCache(app_id, app_certificate, clock=clock)

    @property
    def app_certificate(self) -> str:
        """The certificate (for minting join tokens); never shown in repr."""
        return self._certificate

    def header(self, channel: str, uid: str) -> str:
        """``agora token=`` + a ConvoAI token for (channel, uid)."""
        return "agora token=" + self._cache.convoai_token(channel, uid)

    def secrets(self) -> tuple[str, ...]:
        """The secret values this auth holds (masked wherever an error echoes them)."""
        return (self._certificate,)

    def __repr__(self) -> str:
        return f"AppCredentialsAuth(app_id={self.app_id!r}, app_certificate='***')"


Auth = BasicAuth | TokenAuth | AppCredentialsAuth


# --------------------------------------------------------------------------- paths


def encode_path_segment(value: str, *, what: str = "path value") -> str:
    """Percent-encode one path segment (``+`` -> ``%2B``, ``/`` -> ``%2F``); refuse empty
    values and the dot segments ``.`` / ``..`` with :class:`ValidationError`."""
    if not isinstance(value, str) or not value:
        raise ValidationError(f"{what} is empty", hint=f"give a {what}")
    if value in (".", ".."):
        raise ValidationError(f"{what} {value!r} is not allowed", hint=f"give a real {what}")
    return quote(value, safe="")
