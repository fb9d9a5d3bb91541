"""Authorization the way the service checks it: RESTful Basic credentials or ``agora token=``
AccessToken2 tokens verified with the project's App Certificate.

Failures are 401 :class:`SandboxError` s with ``reason`` ``InvalidPermission`` (the official
SDK declares no reason of its own for 401, and this is the one of its reasons that fits); the
body's ``auth_error`` field says what was wrong: ``MissingAuthorization`` (no or empty header),
``InvalidAuthorization`` (unknown scheme or malformed Basic value), ``InvalidCredentials``
(wrong customer ID / secret) or ``InvalidToken`` (``token_error`` then carries the
:class:`~convoai_mcp.tokens.TokenError` reason: ``expired``, ``bad_signature``,
``wrong_app_id``, ``wrong_channel`` ...)."""

from __future__ import annotations

import base64
import binascii
import hmac
from dataclasses import dataclass
from typing import Literal

from convoai_mcp.tokens import ParsedToken, TokenError, verify_token

from .credentials import SandboxCredentials
from .errors import SandboxError, bad_request

__all__ = ["AuthResult", "authenticate", "check_join_token", "check_token_binding"]

_TOKEN_PREFIX = "agora token="  # noqa: S105 - a scheme, not a secret


@dataclass(frozen=True)
class AuthResult:
    """Who called: ``basic`` (customer credentials) or ``token`` (with the parsed token)."""

    mode: Literal["basic", "token"]
    token: ParsedToken | None = None


def _unauthorized(problem: str, detail: str, token_error: str | None = None) -> SandboxError:
    extra = {"auth_error": problem}
    if token_error:
        extra["token_error"] = token_error
    return SandboxError(401, "InvalidPermission", detail, extra=extra)


def _token_failure(exc: TokenError) -> SandboxError:
    return _unauthorized("InvalidToken", f"token rejected ({exc.reason}): {exc}", exc.reason)


def authenticate(header: str | None, credentials: SandboxCredentials, *, now: float) -> AuthResult:
    """Check an ``Authorization`` header; raises a 401 SandboxError on any failure."""
    if header is None:
        raise _unauthorized("MissingAuthorization", "no Authorization header was sent")
    value = header.strip()
    if not value:
        raise _unauthorized("MissingAuthorization", "the Authorization header is empty")
    scheme, _, rest = value.partition(" ")
    if scheme.lower() == "basic":
        try:
            decoded = base64.b64decode(rest.strip(), validate=True).decode()
        except (binascii.Error, UnicodeDecodeError):
            raise _unauthorized(
                "InvalidAuthorization", "the Basic value is not base64 of 'customer_id:secret'"
            ) from None
        customer_id, sep, secret = decoded.partition(":")
        if not sep:
            raise _unauthorized("InvalidAuthorization", "the Basic value has no ':' separator")
        ok_id = hmac.compare_digest(customer_id.encode(), credentials.customer_id.encode())
        ok_secret = hmac.compare_digest(secret.encode(), credentials.customer_secret.encode())
        if not (ok_id and ok_secret):
            raise _unauthorized("InvalidCredentials", "wrong customer ID or customer secret")
        return AuthResult("basic")
    if value[: len(_TOKEN_PREFIX)].lower() == _TOKEN_PREFIX:
        token = value[len(_TOKEN_PREFIX) :].strip()
        if not token:
            raise _unauthorized("InvalidToken", "'agora token=' is followed by no token")
        try:
            parsed = verify_token(
                token, credentials.app_certificate, app_id=credentials.app_id, now=now
            )
        except TokenError as exc:
            raise _token_failure(exc) from None
        return AuthResult("token", parsed)
    raise _unauthorized(
        "InvalidAuthorization",
        "unsupported Authorization scheme; use 'Basic <base64(id:secret)>' "
        "or 'agora token=<token>'",
    )


def check_token_binding(auth: AuthResult, *, channel: str, uid: str) -> None:
    """For ``join``: a token used as credentials must be minted for the body's channel and uid."""
    if auth.token is None:
        return
    rtc = auth.token.rtc
    if rtc is None or rtc.channel != channel:
        raise _unauthorized(
            "InvalidToken",
            "token rejected (wrong_channel): "
            "it was minted for another channel than properties.channel",
            "wrong_channel",
        )
    if rtc.uid not in (uid, ""):
        raise _unauthorized(
            "InvalidToken",
            "token rejected (wrong_uid): "
            "it was minted for another uid than properties.agent_rtc_uid",
            "wrong_uid",
        )


def check_join_token(
    token: str, credentials: SandboxCredentials, *, now: float, channel: str, uid: str, path: str
) -> None:
    """The channel-join token in a body (``properties.token``, ``sip.rtc_token``): 400 if the
    agent could not join ``channel`` as ``uid`` with it."""
    try:
        verify_token(
            token,
            credentials.app_certificate,
            app_id=credentials.app_id,
            now=now,
            channel=channel,
            uid=uid,
        )
    except TokenError as exc:
        raise bad_request(
            path, f"cannot join {channel!r} as uid {uid} with it ({exc.reason}): {exc}"
        ) from None
