"""The MCP server: :func:`build_server` returns an MCPServer wired to the ConvoAI client.

Only :mod:`convoai_mcp.server.app` is imported on demand, so ``import convoai_mcp.server`` stays
cheap for callers that only need a submodule (e.g. the guard).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

__all__ = ["ConvoAIServer", "build_server"]

if TYPE_CHECKING:
    from convoai_mcp.server.app import ConvoAIServer, build_server


def __getattr__(name: str) -> Any:
    if name in __all__:
        from convoai_mcp.server import app

        return getattr(app, name)
    raise AttributeError(f"module 'convoai_mcp.server' has no attribute {name!r}")
