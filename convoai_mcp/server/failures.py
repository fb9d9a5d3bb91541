"""One place that turns every expected failure into a message a model can act on.

Tools are wrapped with :func:`tool_errors`: a :class:`~convoai_mcp.errors.ConvoAIError` (which
includes the safety layer's ``PolicyError``) or a token error becomes a
:class:`~mcp.server.mcpserver.exceptions.ToolError`, i.e. an ``isError`` result whose text says
what went wrong, the service's reason, and what to do next. Nothing else is caught here: a bug
stays a bug (the SDK reports it as a bare "Error executing tool" and logs the traceback).
"""

from __future__ import annotations

import functools
from collections.abc import Awaitable, Callable, Mapping
from typing import ParamSpec, TypeVar

from mcp.server.mcpserver.exceptions import ResourceError, ResourceNotFoundError, ToolError

from convoai_mcp.errors import APIStatusError, ConvoAIError, NotFoundError, TransportError

__all__ = [
    "ERROR_META_KEY",
    "DetailedToolError",
    "as_tool_error",
    "describe",
    "resource_error",
    "tool_errors",
    "with_its_end",
]

ERROR_META_KEY = "convoai-mcp/error"
"""The key of a failed tool result's ``_meta`` entry that holds the failure as structured data:
``type``, ``message``, ``hint``, ``maybe_performed`` and, for a service error, ``status``,
``reason``, ``detail``, ``request_id``, ``method``, ``path`` (what the text gives on its second
line, for support). ``_meta`` rather than ``structuredContent``: a failed result's structured
content would have to match the tool's output schema for clients that check it."""

P = ParamSpec("P")
R = TypeVar("R")


def describe(action: str, exc: BaseException) -> str:
    """``"<action> failed: <what and why>. Next: <hint>"`` for a ConvoAIError or token error.

    The first line is for the model to act on; for a service error, the request (method, path)
    and the service's request id follow on a line of their own (for support, not for acting)."""
    service = ""
    if isinstance(exc, APIStatusError):
        text = f"{action} failed: HTTP {exc.status}"
        text += f" {exc.reason}" if exc.reason else ""
        text += f": {exc.detail}" if exc.detail else ""
        where = f"{exc.method} {exc.path}".strip()
        if where or exc.request_id:
            service = "\nService request: " + ", ".join(
                part
                for part in (where, f"request id {exc.request_id}" if exc.request_id else "")
                if part
            )
    elif isinstance(exc, ConvoAIError):
        text = f"{action} failed: {exc.message}"
    else:
        text = f"{action} failed: {exc}"
    if isinstance(exc, TransportError):
        text += (
            " (the request may have reached the service; its answer did not)"
            if exc.sent
            else " (the service could not be reached)"
        )
    hint = exc.hint if isinstance(exc, ConvoAIError) else ""
    if not hint and isinstance(exc, ValueError):
        hint = "fix the argument named above and call the tool again"
    return (f"{text}. Next: {hint}" if hint else text) + service


class DetailedToolError(ToolError):
    """A :class:`ToolError` that also carries its failure as structured data (``data``: the
    error's :meth:`~convoai_mcp.errors.ConvoAIError.as_dict`), which the server puts into the
    result's ``_meta`` under :data:`ERROR_META_KEY`."""

    def __init__(self, text: str, data: Mapping[str, object]) -> None:
        super().__init__(text)
        self.data = dict(data)

    def with_text(self, text: str, data: Mapping[str, object] | None = None) -> DetailedToolError:
        """The same failure with another text (e.g. redacted) and, if given, data."""
        return DetailedToolError(text, self.data if data is None else data)


def as_tool_error(action: str, exc: BaseException) -> ToolError | None:
    """The ``isError`` result for an expected failure of ``action``; None for a bug."""
    if isinstance(exc, ConvoAIError):
        return DetailedToolError(describe(action, exc), exc.as_dict())
    # tokens' input checks (ValueErrors of this package): messages never carry secrets.
    if isinstance(exc, ValueError) and type(exc).__module__.startswith("convoai_mcp"):
        return ToolError(describe(action, exc))
    return None


def tool_errors(
    action: str,
) -> Callable[[Callable[P, Awaitable[R]]], Callable[P, Awaitable[R]]]:
    """Decorate an async tool so that expected failures become ``isError`` results."""

    def decorate(fn: Callable[P, Awaitable[R]]) -> Callable[P, Awaitable[R]]:
        @functools.wraps(fn)
        async def wrapper(*args: P.args, **kwargs: P.kwargs) -> R:
            try:
                return await fn(*args, **kwargs)
            except (ConvoAIError, ValueError) as exc:
                error = as_tool_error(action, exc)
                if error is None:
                    raise
                if isinstance(exc, NotFoundError):
                    error = ToolError(with_its_end(str(error), args, kwargs))
                raise error from None

        return wrapper

    return decorate


def with_its_end(text: str, args: tuple[object, ...], kwargs: dict[str, object]) -> str:
    """``text`` of a 404 from a tool called with ``args`` / ``kwargs``: for an agent this
    server started and saw end, with when and how it ended."""
    from convoai_mcp.server.lifecycle import how_it_ended  # only on this path: lazily

    ctx = kwargs.get("ctx", args[0] if args else None)
    agent_id = kwargs.get("agent_id")
    rt = getattr(getattr(ctx, "request_context", None), "lifespan_context", None)
    ended = how_it_ended(rt, agent_id) if isinstance(agent_id, str) else None
    return f"{text} ({ended})" if ended else text


def resource_error(uri: str, exc: ConvoAIError) -> ResourceError:
    """The SDK error for a failed resource read: not-found for 404, else a plain error."""
    text = describe(f"reading {uri}", exc)
    if isinstance(exc, NotFoundError):
        return ResourceNotFoundError(text)
    return ResourceError(text)
