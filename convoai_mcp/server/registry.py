"""The one registry of MCP tools: a tool is added in one place, its module, with :func:`tool`.

::

    @tool(order=45, title="Do the thing", read_only=True, idempotent=True)
    async def do_thing(ctx: Ctx, agent_id: AgentId) -> ThingResult:
        \"\"\"What the model reads (the description).\"\"\"

The decorator records everything the server needs about the tool: its function (wrapped so that
expected failures become ``isError`` results, :func:`~convoai_mcp.server.failures.tool_errors`),
its annotations, its place in ``tools/list`` (``order``: ascending; leave gaps) and whether it
is read-only (the only tools left in read-only mode: :func:`read_only_tools`). The tool modules
(:mod:`convoai_mcp.server.tools`) register themselves on import; nothing else lists tools.

This module imports neither the client nor the tool modules (cold start stays lean).
"""

from __future__ import annotations

import inspect
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, ParamSpec, TypeVar

from mcp_types import ToolAnnotations

from convoai_mcp.server.failures import tool_errors

if TYPE_CHECKING:
    from mcp.server.mcpserver import MCPServer

    from convoai_mcp.server.runtime import Runtime

__all__ = ["ToolSpec", "add_tools", "description", "read_only_tools", "specs", "tool"]

P = ParamSpec("P")
R = TypeVar("R")


@dataclass(frozen=True)
class ToolSpec:
    """One registered tool: what ``tools/list`` shows and what ``tools/call`` runs."""

    name: str
    order: int
    fn: Callable[..., Awaitable[Any]]
    annotations: ToolAnnotations
    read_only: bool
    """True when read-only mode keeps the tool: it neither changes nor costs anything."""


_REGISTRY: dict[str, ToolSpec] = {}


def tool(
    *,
    order: int,
    title: str,
    read_only: bool,
    destructive: bool = False,
    idempotent: bool = False,
    open_world: bool = True,
    read_only_mode: bool | None = None,
) -> Callable[[Callable[P, Awaitable[R]]], Callable[P, Awaitable[R]]]:
    """Register the decorated async function as the tool named after it.

    ``order`` places it in ``tools/list`` (ascending, unique). The annotations say what is true
    of the tool; ``read_only`` also decides whether read-only mode keeps it, unless
    ``read_only_mode`` says otherwise.
    """

    def decorate(fn: Callable[P, Awaitable[R]]) -> Callable[P, Awaitable[R]]:
        name = fn.__name__
        clash = next((s.name for s in _REGISTRY.values() if s.order == order), None)
        if name in _REGISTRY or clash is not None:
            raise RuntimeError(f"tool {name}: name or order {order} already registered ({clash})")
        wrapped = tool_errors(name)(fn)
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
            read_only=read_only if read_only_mode is None else read_only_mode,
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
            )
