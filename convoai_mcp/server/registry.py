"""The one registry of MCP tools: a tool is added in one place, its module, with :func:`tool`.

::

    @tool(order=45, title="Do the thing", read_only=True, idempotent=True)
    async def do_thing(ctx: Ctx, agent_id: AgentId) -> ThingResult:
        \"\"\"What the model reads (the description).\"\"\"

The decorator records everything the server needs about the tool: its function, its
annotations, its place in ``tools/list`` (``order``: ascending; leave gaps) and whether it is
read-only (the only tools left in read-only mode: :func:`read_only_tools`). The tool modules
(:mod:`convoai_mcp.server.tools`) register themselves on import; nothing else lists tools.

Every call of a registered tool passes the one wrapper here (:func:`_wrap`), which

* refuses, before anything is sent, a call outside the OAuth scopes of the caller's access
  token (:mod:`convoai_mcp.server.scopes`; the role each tool needs is its spec's ``scope``);
* turns expected failures into ``isError`` results (``failures.as_tool_error``);
* sends every result and error text through the same redactor as the logs: configured secrets
  are masked wherever they appear (also in values the client supplied and the tool echoes),
  and error texts are scrubbed of tokens and credentials as log lines are;
* logs one INFO line per call: tool, outcome, duration, agent id, the service's request id
  (never the arguments);
* records every call of a tool that is not read-only in the audit trail
  (:mod:`convoai_mcp.server.audit`): arguments masked, the guard's decision (or the rule that
  refused), the outcome, the MCP client.

This module imports neither the client nor the tool modules (cold start stays lean).
"""

from __future__ import annotations

import functools
import inspect
import logging
import time
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, ParamSpec, TypeVar

import anyio
from mcp.server.mcpserver.exceptions import ToolError
from mcp_types import ToolAnnotations
from pydantic import BaseModel

from convoai_mcp.errors import APIStatusError, NotFoundError
from convoai_mcp.policy import PolicyError
from convoai_mcp.server import audit, scopes
from convoai_mcp.server.failures import as_tool_error, with_its_end

if TYPE_CHECKING:
    from mcp.server.mcpserver import MCPServer

    from convoai_mcp.redact import Redactor
    from convoai_mcp.server.runtime import Runtime

logger = logging.getLogger("convoai_mcp.server.tools")

__all__ = [
    "CONSOLE_UI",
    "ToolSpec",
    "add_tools",
    "description",
    "read_only_tools",
    "specs",
    "tool",
]

P = ParamSpec("P")
R = TypeVar("R")

CONSOLE_UI = "ui://convoai/console"
"""The MCP App (the live console, :mod:`convoai_mcp.server.console`) that tools registered with
``ui=True`` point at in their ``_meta.ui.resourceUri``; hosts without MCP Apps ignore it."""


@dataclass(frozen=True)
class ToolSpec:
    """One registered tool: what ``tools/list`` shows and what ``tools/call`` runs."""

    name: str
    order: int
    fn: Callable[..., Awaitable[Any]]
    annotations: ToolAnnotations
    read_only: bool
    """True when read-only mode keeps the tool: it neither changes nor costs anything."""
    ui: bool = False
    """True when hosts with MCP Apps show its result in the console (:data:`CONSOLE_UI`)."""
    scope: scopes.Role = "read"
    """The OAuth role (scope) a caller's access token needs for it (:mod:`.scopes`)."""


_REGISTRY: dict[str, ToolSpec] = {}


def tool(
    *,
    order: int,
    title: str,
    read_only: bool,
    destructive: bool = False,
    idempotent: bool = False,
    open_world: bool = True,
    ui: bool = False,
    scope: scopes.Role | None = None,
) -> Callable[[Callable[P, Awaitable[R]]], Callable[P, Awaitable[R]]]:
    """Register the decorated async function as the tool named after it.

    ``order`` places it in ``tools/list`` (ascending, unique). The annotations say what is true
    of the tool; ``read_only`` also decides whether read-only mode keeps it. ``ui``: the tool
    carries the console's MCP App reference (:data:`CONSOLE_UI`) in its ``_meta``. ``scope``:
    the OAuth role a caller needs (default :func:`.scopes.default_role`: ``read`` for read-only
    tools, else by module).
    """

    def decorate(fn: Callable[P, Awaitable[R]]) -> Callable[P, Awaitable[R]]:
        name = fn.__name__
        clash = next((s.name for s in _REGISTRY.values() if s.order == order), None)
        if name in _REGISTRY or clash is not None:
            raise RuntimeError(f"tool {name}: name or order {order} already registered ({clash})")
        role = scope or scopes.default_role(fn, read_only=read_only)
        wrapped = _wrap(name, fn, audited=not read_only, role=role)
        _REGISTRY[name] = ToolSpec(
            name=name,
            order=order,
            fn=wrapped,
            annotations=ToolAnnotations(
                title=title,
                read_only_hint=read_only,
                destructive_hint=destructive,
                idempotent_hint=idempotent,
                open_world_hint=open_world,
            ),
            read_only=read_only,
            ui=ui,
            scope=role,
        )
        return wrapped

    return decorate


def specs() -> tuple[ToolSpec, ...]:
    """Every registered tool, in ``tools/list`` order."""
    return tuple(sorted(_REGISTRY.values(), key=lambda s: s.order))


def read_only_tools() -> frozenset[str]:
    """The names of the registered read-only tools."""
    return frozenset(s.name for s in _REGISTRY.values() if s.read_only)


def description(fn: Callable[..., Any]) -> str:
    """The docstring as the model reads it: dedented, one line per paragraph."""
    paragraphs = inspect.cleandoc(fn.__doc__ or "").split("\n\n")
    return "\n\n".join(" ".join(p.split()) for p in paragraphs)


def add_tools(server: MCPServer[Runtime], visible: Sequence[str]) -> None:
    """Add the registered tools named in ``visible`` to ``server``, in ``tools/list`` order."""
    for spec in specs():
        if spec.name in visible:
            server.add_tool(
                spec.fn,
                name=spec.name,
                description=description(spec.fn),
                annotations=spec.annotations,
                meta={"ui": {"resourceUri": CONSOLE_UI}} if spec.ui else None,
            )


def _redactor(kwargs: dict[str, Any]) -> Redactor | None:
    ctx = kwargs.get("ctx")
    try:
        runtime = ctx.request_context.lifespan_context  # type: ignore[union-attr]
        redactor: Redactor = runtime.guard.redactor
    except Exception:  # called outside a request (tests of the bare function): nothing known
        return None
    return redactor


def _masked(redactor: Redactor | None, value: Any) -> Any:
    """``value`` with every configured secret masked in its strings (a model stays a model).
    Only configured values: the tokens a tool mints are its result, not a leak."""
    if redactor is None or not redactor.known:
        return value
    if isinstance(value, BaseModel):
        dumped = value.model_dump_json(by_alias=True)
        if redactor.mask_known(dumped) == dumped:
            return value  # the usual case: nothing to mask, nothing rebuilt
        data = _masked(redactor, value.model_dump(mode="json", by_alias=True, exclude_unset=True))
        try:
            return type(value).model_validate(data)
        except ValueError:
            return type(value).model_construct(**data)
    if isinstance(value, str):
        return redactor.mask_known(value)
    if isinstance(value, dict):
        return {k: _masked(redactor, v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_masked(redactor, v) for v in value]
    return value


def _runtime(kwargs: dict[str, Any]) -> Any:
    try:
        return kwargs["ctx"].request_context.lifespan_context
    except Exception:  # called outside a request (tests of the bare function)
        return None


async def _audit(
    name: str,
    kwargs: dict[str, Any],
    decision: audit.Decision,
    outcome: str,
    agent_id: Any,
    error: str | None,
    placed: str | None,
) -> None:
    """Append this call's entry to the audit trail (never raises, not even when cancelled)."""
    runtime = _runtime(kwargs)
    guard = getattr(runtime, "guard", None)
    archive = getattr(guard, "archive", None)
    if archive is None:
        return
    item = audit.entry(
        tool=name,
        arguments=kwargs,
        decision=decision,
        outcome=outcome,
        agent_id=agent_id if isinstance(agent_id, str) else None,
        error=error,
        ctx=kwargs.get("ctx"),
        redactor=_redactor(kwargs),
        placed_number=placed,
    )
    with anyio.CancelScope(shield=True):
        await audit.record(archive, item)


def _wrap(
    name: str, fn: Callable[P, Awaitable[R]], *, audited: bool, role: str = "read"
) -> Callable[P, Awaitable[R]]:
    """``fn`` with the caller's OAuth scope checked first (``role``, :mod:`.scopes`), failures
    as ``isError`` results, redacted output, one log line and (when ``audited``) one audit
    entry."""

    @functools.wraps(fn)
    async def run(*args: P.args, **kwargs: P.kwargs) -> R:
        started = time.perf_counter()
        outcome, agent_id, request_id = "error", kwargs.get("agent_id"), None
        error: str | None = None
        placed: str | None = None
        with audit.tracking() as decision:
            try:
                try:
                    refused = scopes.refusal(name, role, kwargs.get("ctx"))
                    if refused is not None:
                        decision.decision, decision.rule = "refused", scopes.RULE
                        decision.setting = scopes.ROLE_SETTING
                        raise ToolError(refused)
                    result = await fn(*args, **kwargs)
                except ToolError as exc:
                    redactor = _redactor(kwargs)
                    error = redactor.text(str(exc)) if redactor else str(exc)
                    raise ToolError(error) from None
                except Exception as exc:
                    if isinstance(exc, PolicyError) or hasattr(exc, "rule"):
                        decision.decision = "refused"
                        decision.rule, decision.setting = audit.refusal_rule(exc)
                    failure = as_tool_error(name, exc)
                    if failure is None:
                        outcome, error = "crash", type(exc).__name__
                        raise
                    if isinstance(exc, APIStatusError):
                        request_id = exc.request_id
                    text = str(failure)
                    if isinstance(exc, NotFoundError):  # an agent this server saw end: when, how
                        text = with_its_end(text, args, kwargs)
                    redactor = _redactor(kwargs)
                    error = redactor.text(text) if redactor else text
                    raise ToolError(error) from None
                outcome = (
                    "input_required" if type(result).__name__ == "InputRequiredResult" else "ok"
                )
                agent_id = getattr(result, "agent_id", None) or agent_id
                if name == "call" and outcome == "ok":
                    number = getattr(result, "to_number", None)
                    placed = number if isinstance(number, str) else None
                masked: R = _masked(_redactor(kwargs), result)
                return masked
            except BaseException as exc:
                if not isinstance(exc, Exception):
                    outcome = "cancelled"
                raise
            finally:
                logger.info(
                    "tool %s %s in %d ms agent_id=%s request_id=%s",
                    name,
                    outcome,
                    round((time.perf_counter() - started) * 1000),
                    agent_id or "-",
                    request_id or "-",
                )
                if audited:
                    await _audit(name, kwargs, decision, outcome, agent_id, error, placed)

    return run
