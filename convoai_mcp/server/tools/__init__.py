"""The MCP tools: thin adapters from validated arguments to the ConvoAI client, via the guard.

Every tool takes described, constrained arguments (:mod:`convoai_mcp.server.args`), returns a
model from :mod:`convoai_mcp.server.results` (output schema + structured content), carries
annotations that are true of it, and turns expected failures into ``isError`` results. Each is
registered where it is defined, with :func:`convoai_mcp.server.registry.tool`; the modules are
by subject: :mod:`.agents`, :mod:`.calls`, :mod:`.campaigns`, :mod:`.numbers`,
:mod:`.profiles`, :mod:`.tokens`, :mod:`.waiting`.
This package only imports them and reads the registry.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from mcp_types import ToolAnnotations

from convoai_mcp.policy import OPT_IN_TOOLS
from convoai_mcp.server import registry
from convoai_mcp.server.tools import (
    agents,
    calls,
    campaigns,
    numbers,
    profiles,
    tokens,
    waiting,
)

if TYPE_CHECKING:
    from collections.abc import Sequence

    from mcp.server.mcpserver import MCPServer

    from convoai_mcp.server.runtime import Runtime

__all__ = ["ALL_TOOLS", "ANNOTATIONS", "READ_ONLY_TOOLS", "TOOL_NAMES", "register"]

_MODULES = (
    agents,
    calls,
    campaigns,
    numbers,
    profiles,
    tokens,
    waiting,
)  # imported for their registrations

ALL_TOOLS: tuple[str, ...] = tuple(spec.name for spec in registry.specs())
"""Every registered tool, the opt-in ones (``policy.TOOL_SETS``: ``admin``) included, in the
order ``tools/list`` presents them."""

TOOL_NAMES: tuple[str, ...] = tuple(name for name in ALL_TOOLS if name not in OPT_IN_TOOLS)
"""The tools a server exposes when no tool list is configured (every tool but the opt-in
sets'), in ``tools/list`` order."""

ANNOTATIONS: dict[str, ToolAnnotations] = {s.name: s.annotations for s in registry.specs()}
"""Each tool's annotations, by name."""

READ_ONLY_TOOLS: frozenset[str] = registry.read_only_tools()
"""Tools that neither change anything nor cost anything; the only ones left in read-only mode."""


def register(server: MCPServer[Runtime], visible: Sequence[str]) -> None:
    """Add the tools named in ``visible`` to ``server``, in :data:`ALL_TOOLS` order."""
    registry.add_tools(server, visible)
