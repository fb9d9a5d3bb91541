"""The cold-start baseline: the smallest useful MCPServer (one tool) served over stdio.

Started exactly like ``python -m convoai_mcp``: ``python benchmarks/minimal_server.py``.
"""

from __future__ import annotations

import anyio
from mcp.server.mcpserver import MCPServer

__all__ = ["echo", "server"]

server: MCPServer = MCPServer("minimal")


@server.tool()
def echo(text: str) -> str:
    """Return ``text`` unchanged."""
    return text


if __name__ == "__main__":
    anyio.run(server.run_stdio_async)
