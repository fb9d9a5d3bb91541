"""The exception tree of convoai-mcp.

::

    ConvoAIError                      base: .message .hint .maybe_performed; str() "message (hint)"
     ├─ ConfigError                   bad or missing configuration (names the variable)
     ├─ ValidationError               input refused client-side; nothing was sent
     ├─ TokenError (a ValueError too) bad token input, or a token that does not verify: .reason
     ├─ TransportError                network: refused / reset / timeout / DNS / deadline
     │   └─ MalformedResponseError      a 2xx answer whose body is not the expected JSON
     └─ APIStatusError                the service answered non-2xx: .status .reason .detail
         ├─ BadRequestError             400            .request_id .method .path
         ├─ AuthenticationError         401
         ├─ PermissionDeniedError       403
         ├─ NotFoundError               404
         ├─ ConflictError               409
         ├─ RateLimitedError            422, 429       .retry_after
         └─ ServiceUnavailableError     5xx

No message, hint or repr ever contains a secret: text that comes from the service is scrubbed of
anything that looks like a token or credential (the one vocabulary of :mod:`convoai_mcp._secrets`)
and of every secret value the client holds or sent (``known=``) before it is stored
(:func:`scrub`). :meth:`ConvoAIError.as_dict` gives the same facts as structured data (status,
reason, request id, method, path ...) for a tool result, and :attr:`APIStatusError.summary` the
message without the REST path and request id.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping
from typing import Any, Literal

from convoai_mcp._secrets import MASK, is_secret_name, mask_values, maskable, scrub_text

__all__ = [
    "APIStatusError",
    "AuthenticationError",
    "BadRequestError",
    "ConfigError",
    "ConflictError",
    "ConvoAIError",
    "MalformedResponseError",
    "NotFoundError",
    "PermissionDeniedError",
    "RateLimitedError",
    "ServiceUnavailableError",
    "TokenError",
    "TokenFailure",
    "TransportError",
    "ValidationError",
    "error_from_response",
    "scrub",
]

_MAX_TEXT = 500
_MIN_PAIR_VALUE = 8
"""``name=value`` pairs in service text are masked from 8 characters on, so that a message such
as "properties.llm.api_key: must be a string" stays readable."""


def scrub(text: str, *, limit: int | None = _MAX_TEXT, known: Iterable[str] = ()) -> str:
    """Mask anything in ``text`` that looks like a token or credential (the one vocabulary of
    :mod:`convoai_mcp._secrets`) and every ``known`` secret value (longest first), and cap its
    length at ``limit`` characters (None: no cap)."""
    text = scrub_text(mask_values(text, known), min_value=_MIN_PAIR_VALUE)
    if limit is not None and len(text) > limit:
        text = text[:limit] + "…"
    return text


def _scrub_field(
    name: str, value: str | int | float | bool, known: Iterable[str] = ()
) -> str | int | float | bool:
    """A body field kept on an error: masked whole when its name marks a secret."""
    if not isinstance(value, str):
        return value
    if is_secret_name(name) and maskable(value):
        return MASK
    return scrub(value, known=known)


class ConvoAIError(Exception):
    """Base of every error raised by convoai-mcp.

    ``maybe_performed`` is True when the operation may have taken effect although this error
    reports a failure: an attempt reached the service but its answer was lost or broken (or was
    a 500 / 502 / 504). Check before repeating such an operation.
    """

    maybe_performed: bool = False

    def __init__(self, message: str, *, hint: str = "") -> None:
        self.message = message
        self.hint = hint
        super().__init__(str(self))

    def mark_maybe_performed(self, hint: str | None = None) -> None:
        """Set :attr:`maybe_performed`; ``hint`` (what to check before repeating) replaces the
        hint when given."""
        self.maybe_performed = True
        if hint is not None:
            self.hint = hint
            self.args = (str(self),)

    def __str__(self) -> str:
        return f"{self.message} ({self.hint})" if self.hint else self.message

    def as_dict(self) -> dict[str, str | int | float | bool | None]:
        """The error as structured data (for a tool's structured result or a log line): its
        ``type``, ``message``, ``hint`` and ``maybe_performed``; subclasses add their fields
        (status, reason, request id, method, path ...). Secret-free, as the message is."""
        return {
            "type": type(self).__name__,
            "message": self.message,
            "hint": self.hint,
            "maybe_performed": self.maybe_performed,
        }

    def __repr__(self) -> str:
        return f"{type(self).__name__}({str(self)!r})"


class ConfigError(ConvoAIError):
    """Configuration is missing or malformed; the message names the setting."""


class ValidationError(ConvoAIError):
    """Input refused client-side before anything was sent to the service."""


TokenFailure = Literal[
    "invalid_input",
    "bad_version",
    "bad_base64",
    "bad_zlib",
    "truncated",
    "wrong_app_id",
    "bad_signature",
    "expired",
    "wrong_channel",
    "wrong_uid",
]
"""Why a :class:`TokenError` was raised: ``invalid_input`` (an App ID, certificate, uid,
lifetime ... that cannot make a token), else the decoding or verification check that failed."""


class TokenError(ConvoAIError, ValueError):
    """A token could not be minted from its inputs, or could not be decoded or did not verify;
    ``reason`` says which check failed. Also a ``ValueError``, as it was before it joined this
    tree."""

    def __init__(self, reason: TokenFailure, message: str, *, hint: str = "") -> None:
        self.reason: TokenFailure = reason
        super().__init__(message, hint=hint)


class TransportError(ConvoAIError):
    """The service could not be reached: refused, reset, timed out, DNS, or deadline exceeded.

    ``sent`` is True when the request may have reached the service before the failure (a lost
    or broken answer, a timeout): the operation may then have been performed.
    """

    def __init__(
        self,
        message: str,
        *,
        hint: str = "",
        attempts: int = 1,
        sent: bool = False,
        method: str = "",
        path: str = "",
        endpoint: str = "",
    ) -> None:
        self.attempts = attempts
        self.maybe_performed = sent
        self.method = method.upper()
        self.path = path.split("?", 1)[0]
        self.endpoint = endpoint
        super().__init__(message, hint=hint)

    def as_dict(self) -> dict[str, str | int | float | bool | None]:
        """Adds ``method``, ``path``, ``endpoint``, ``attempts`` and ``sent`` (where known)."""
        data = super().as_dict()
        data.update(attempts=self.attempts, sent=self.sent)
        data.update({k: v for k, v in self.where().items() if v})
        return data

    def where(self) -> dict[str, str]:
        """The request this error is about: ``method``, ``path``, ``endpoint``."""
        return {"method": self.method, "path": self.path, "endpoint": self.endpoint}

    @property
    def sent(self) -> bool:
        """True when the request may have reached the service (the same as
        :attr:`maybe_performed`)."""
        return self.maybe_performed


class MalformedResponseError(TransportError):
    """A 2xx answer whose body is not the JSON the spec describes."""


_STATUS_HINTS: dict[int, str] = {
    400: "fix the request fields named in the detail and try again",
    401: "check the credentials: customer ID and secret, or an App ID and App Certificate "
    "(32 hex characters each, no whitespace) that belong to the same project",
    403: "enable Conversational AI for this App ID in the Agora console, or use credentials "
    "with permission for it",
    404: "the agent or resource does not exist (it may have stopped); list agents to see "
    "current IDs",
    408: "the service timed out; try again",
    409: "an agent with this name is already running; choose another name or stop that agent",
    422: "the project's access limit is exceeded (the service's 422); wait and try again, "
    "stop agents it does not need, or ask Agora to raise the limit",
    429: "too many requests or concurrent agents; wait, stop idle agents, or raise the quota",
}
_REASON_HINTS: dict[str, str] = {
    "ServiceNotEnabled": "enable Conversational AI for this App ID in the Agora console",
    "AccountSuspended": "the Agora account is suspended; contact Agora support",
    "InvalidPermission": "these credentials may not use this project; check App ID and "
    "customer ID / secret",
    "ResourceQuotaLimitExceeded": "the project's quota is used up; stop agents or raise the quota",
    "ConcurrencyLimitExceeded": "too many agents at once; stop idle agents or raise the limit",
    "TaskConflict": "an agent with this name is already running; choose another name or stop it",
    "TaskNotFound": "no such agent (it may have stopped); list agents to see current IDs",
    "TaskOperationTimeout": "the operation timed out inside the service; check the agent state "
    "and try again",
    "MissingRequiredField": "add the field named in the detail",
    "InvalidFieldValue": "fix the field named in the detail",
    "InvalidRequestBody": "the body was rejected; check field names and types",
    "NotImplemented": "this operation is not available for this agent or region",
}
_SERVER_HINT = "the service is having trouble; try again later or use another area"


class APIStatusError(ConvoAIError):
    """The service answered with a non-2xx status."""

    default_status: int = 0

    def __init__(
        self,
        *,
        status: int,
        reason: str | None = None,
        detail: str | None = None,
        request_id: str | None = None,
        method: str = "",
        path: str = "",
        hint: str | None = None,
        extra: Mapping[str, str | int | float | bool] | None = None,
        known: Iterable[str] = (),
    ) -> None:
        known = tuple(known)
        self.status = status
        self.extra: dict[str, str | int | float | bool] = {
            k: _scrub_field(k, v, known) for k, v in (extra or {}).items()
        }
        self.reason = scrub(reason, known=known) if reason else None
        self.detail = scrub(detail, known=known) if detail else None
        self.request_id = request_id
        self.method = method.upper()
        self.path = path.split("?", 1)[0]
        if hint is None:
            hint = _REASON_HINTS.get(reason or "") or _STATUS_HINTS.get(status) or _SERVER_HINT
        super().__init__(self._compose(), hint=hint)

    @property
    def summary(self) -> str:
        """``HTTP 404 TaskNotFound: detail``: the message without the REST path (which holds the
        App ID) and the request id; those are :attr:`method`, :attr:`path`, :attr:`request_id`."""
        text = f"HTTP {self.status}"
        if self.reason:
            text += f" {self.reason}"
        if self.detail:
            text += f": {self.detail}"
        return text

    def as_dict(self) -> dict[str, str | int | float | bool | None]:
        """Adds ``status``, ``reason``, ``detail``, ``request_id``, ``method``, ``path`` and
        ``summary`` (and ``retry_after`` for a 429)."""
        data = super().as_dict()
        data.update(
            status=self.status,
            reason=self.reason,
            detail=self.detail,
            request_id=self.request_id,
            method=self.method,
            path=self.path,
            summary=self.summary,
        )
        return data

    def _compose(self) -> str:
        where = f"{self.method} {self.path}".strip()
        text = self.summary
        if where:
            text += f" [{where}]"
        if self.request_id:
            text += f" request_id={self.request_id}"
        return text


class BadRequestError(APIStatusError):
    """400: the service refused the request body or parameters."""


class AuthenticationError(APIStatusError):
    """401: the credentials or token were not accepted."""


class PermissionDeniedError(APIStatusError):
    """403: the credentials may not use this project or service."""


class NotFoundError(APIStatusError):
    """404: no such agent, call or phone number."""


class ConflictError(APIStatusError):
    """409: the name is already in use by a running agent (TaskConflict)."""


class RateLimitedError(APIStatusError):
    """429: too many requests or concurrent agents; 422: the access limit is exceeded (as
    the official SDK documents the service's 422, not a field error)."""

    def __init__(self, *, retry_after: float | None = None, **kwargs: Any) -> None:
        self.retry_after = retry_after
        super().__init__(**kwargs)

    def as_dict(self) -> dict[str, str | int | float | bool | None]:
        """Adds ``retry_after`` (seconds, when the service sent it)."""
        data = super().as_dict()
        data["retry_after"] = self.retry_after
        return data


class ServiceUnavailableError(APIStatusError):
    """5xx: the service failed or is temporarily unavailable."""


_CLASSES: dict[int, type[APIStatusError]] = {
    400: BadRequestError,
    401: AuthenticationError,
    403: PermissionDeniedError,
    404: NotFoundError,
    409: ConflictError,
    422: RateLimitedError,
    429: RateLimitedError,
}


def _class_for(status: int) -> type[APIStatusError]:
    if status >= 500:
        return ServiceUnavailableError
    return _CLASSES.get(status, APIStatusError)


_Scalar = str | int | float | bool
_REASON_KEYS = ("reason", "error_type", "code")
_DETAIL_KEYS = ("detail", "description", "message")


def _body_fields(
    body: bytes | str | Mapping[str, Any] | None,
) -> tuple[str | None, str | None, dict[str, _Scalar]]:
    """(reason, detail, other scalar fields) of ``{reason, detail}`` or telephony
    ``{error_type, description}``."""
    data: Any = body
    if isinstance(body, bytes | str):
        try:
            data = json.loads(body) if body else None
        except ValueError:
            text = body.decode("utf-8", "replace") if isinstance(body, bytes) else body
            return None, text.strip() or None, {}
    if not isinstance(data, Mapping):
        return None, None, {}
    reason = next((data[k] for k in _REASON_KEYS if data.get(k) is not None), None)
    detail = next((data[k] for k in _DETAIL_KEYS if data.get(k) is not None), None)
    extra = {
        str(k): v
        for k, v in data.items()
        if k not in _REASON_KEYS + _DETAIL_KEYS and isinstance(v, _Scalar)
    }
    return (
        str(reason) if reason is not None else None,
        str(detail) if detail is not None else None,
        extra,
    )


def _header(headers: Mapping[str, str], name: str) -> str | None:
    lowered = name.lower()
    for key, value in headers.items():
        if key.lower() == lowered:
            return value
    return None


def error_from_response(
    status: int,
    body: bytes | str | Mapping[str, Any] | None,
    headers: Mapping[str, str],
    *,
    method: str = "",
    path: str = "",
    retry_after: float | None = None,
    known: Iterable[str] = (),
) -> APIStatusError:
    """Build the typed error for a non-2xx answer (status, body, headers of the response).

    ``known`` are secret values (longest first) the client holds or sent: masked wherever the
    body echoes them, besides the secret-looking text :func:`scrub` masks anyway."""
    reason, detail, extra = _body_fields(body)
    kwargs: dict[str, Any] = {
        "known": tuple(known),
        "extra": extra,
        "status": status,
        "reason": reason,
        "detail": detail,
        "request_id": _header(headers, "x-request-id"),
        "method": method,
        "path": path,
    }
    cls = _class_for(status)
    if cls is RateLimitedError:
        return RateLimitedError(retry_after=retry_after, **kwargs)
    return cls(**kwargs)
