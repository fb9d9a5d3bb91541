"""One place that turns every expected failure into a message a model can act on.

Tools are wrapped with :func:`tool_errors`: a :class:`~convoai_mcp.errors.ConvoAIError` (which
includes the safety layer's ``PolicyError``) or a token error becomes a
:class:`~mcp.server.mcpserver.exceptions.ToolError`, i.e. an ``isError`` result whose text says
what went wrong, the service's reason, and what to do next. Nothing else is caught here: a bug
stays a bug (the SDK reports it as a bare "Error executing tool" and logs the traceback).
"""

import functools
from collections.abc import Awaitable, Callable
from typing import ParamSpec, TypeVar

from mcp.server.mcpserver.exceptions import ResourceError, ResourceNotFoundError, ToolError

from convoai_mcp.errors import APIStatusError, ConvoAIError, NotFoundError, TransportError

__all__ = ["describe", "resource_error", "tool_errors"]

P = ParamSpec("P")
R = TypeVar("R")


def describe(action: str, exc: BaseException) -> str:
    """``"<action> failed: <what and why>. Next: <hint>"`` for a ConvoAIError or token error."""
    if isinstance(exc, ConvoAIError):
        text = f"{action} failed: {exc.message}"
        if isinstance(exc, APIStatusError) and not exc.message.startswith("HTTP"):
            text += f" (HTTP {exc.status}{' ' + exc.reason if exc.reason else ''})"
        if isinstance(exc, TransportError):
            text += (
                " (the request may have reached the service; its answer did not)"
                if exc.sent
                else " (the service could not be reached)"
            )
        hint = exc.hint
    else:
        text = f"{action} failed: {exc}"
        hint = ""
    if not hint and isinstance(exc, ValueError):
        hint = "fix the argument named above and call the tool again"
    return f"{text}. Next: {hint}" if hint else text


def tool_errors(
    action: str,
) -> Callable[[Callable[P, Awaitable[R]]], Callable[P, Awaitable[R]]]:
    """Decorate an async tool so that expected failures become ``isError`` results."""

    def decorate(fn: Callable[P, Awaitable[R]]) -> Callable[P, Awaitable[R]]:
        @functools.wraps(fn)
        async def wrapper(*args: P.args, **kwargs: P.kwargs) -> R:
            try:
                return await fn(*args, **kwargs)
            except ConvoAIError as exc:
                text = describe(action, exc)
                if isinstance(exc, NotFoundError):
                    text = _with_its_end(text, args, kwargs)
                raise ToolError(text) from None
            except ValueError as exc:
                # tokens.TokenError and tokens' input checks: messages never carry secrets.
                if type(exc).__module__.startswith("convoai_mcp"):
                    raise ToolError(describe(action, exc)) from None
                raise

        return wrapper

    return decorate


def _with_its_end(text: str, args: tuple[object, ...], kwargs: dict[str, object]) -> str:
    """A 404 on an agent this server started and saw end: say when and how it ended."""
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
