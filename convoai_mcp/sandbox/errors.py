"""The error the emulated service answers with, independent of the body shape it is rendered in."""

from __future__ import annotations

__all__ = ["SandboxError", "bad_request", "missing", "not_found"]


class SandboxError(Exception):
    """An HTTP error answer: status, reason (``TaskNotFound`` ...) and a human-readable detail.

    Agent routes render it as ``{"detail", "reason"}``; telephony and phone-number routes as
    ``{"error_type", "description"}``. ``extra`` fields are added to the body."""

    def __init__(
        self,
        status: int,
        reason: str,
        detail: str,
        *,
        headers: dict[str, str] | None = None,
        extra: dict[str, str] | None = None,
    ) -> None:
        super().__init__(f"{status} {reason}: {detail}")
        self.status = status
        self.reason = reason
        self.detail = detail
        self.headers = dict(headers or {})
        self.extra = dict(extra or {})


def missing(field: str) -> SandboxError:
    """400 ``MissingRequiredField`` for ``field`` (a dotted path such as ``properties.channel``)."""
    return SandboxError(400, "MissingRequiredField", f"{field} is required")


def bad_request(field: str, problem: str) -> SandboxError:
    """400 ``InvalidFieldValue``: ``field`` is present but wrong."""
    return SandboxError(400, "InvalidFieldValue", f"{field}: {problem}")


def not_found(what: str, ident: str) -> SandboxError:
    """404 ``TaskNotFound``."""
    return SandboxError(
        404, "TaskNotFound", f"{what} {ident} not found (unknown, stopped or expired)"
    )
