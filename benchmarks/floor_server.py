"""The SDK floor: the least any MCP server on this SDK can cost for ``speak``.

A minimal ``MCPServer`` whose one tool, ``speak``, makes the same POST as the benchmark's bare
httpx baseline and returns a structured result of the same shape as the real server's. The
benchmarks use it in process (in-memory ``mcp.Client``) and over streamable HTTP, served like
``convoai-mcp --transport streamable-http`` (same socket and uvicorn settings):

    python benchmarks/floor_server.py --transport streamable-http --port 0

reads ``CONVOAI_BASE_URL``, ``AGORA_APP_ID``, ``AGORA_CUSTOMER_ID`` and ``AGORA_CUSTOMER_SECRET``
and prints ``... at http://127.0.0.1:PORT/mcp (...)`` on stderr.
"""

from __future__ import annotations

import argparse
import base64
import contextlib
import json
import os
import socket
import sys
from typing import Any

import anyio
import httpx
from mcp.server.mcpserver import MCPServer
from pydantic import BaseModel

__all__ = ["FloorResult", "basic_authorization", "build_floor", "main"]


class FloorResult(BaseModel):
    """The floor tool's result (the shape of the server's ActionResult)."""

    agent_id: str
    channel: str | None = None
    start_ts: int | None = None


def basic_authorization(customer_id: str, customer_secret: str) -> str:
    """``Basic base64(id:secret)``."""
    return "Basic " + base64.b64encode(f"{customer_id}:{customer_secret}".encode()).decode()


def build_floor(
    base_url: str, app_id: str, authorization: str, http: httpx.AsyncClient
) -> MCPServer:
    """A one-tool MCPServer: ``speak(agent_id, text)`` is a bare POST with ``http``."""
    server: MCPServer = MCPServer("sdk-floor")

    @server.tool(name="speak")
    async def speak(agent_id: str, text: str) -> FloorResult:
        """Make the agent say ``text``."""
        response = await http.post(
            f"{base_url}/v2/projects/{app_id}/agents/{agent_id}/speak",
            json={"text": text},
            headers={"Authorization": authorization},
        )
        response.raise_for_status()
        answer: dict[str, Any] = json.loads(response.content)
        return FloorResult(
            agent_id=answer.get("agent_id") or agent_id,
            channel=answer.get("channel"),
            start_ts=answer.get("start_ts"),
        )

    return server


async def _serve(port: int) -> None:
    import uvicorn

    from convoai_mcp.client import DEFAULT_TIMEOUT

    env = os.environ
    async with httpx.AsyncClient(
        timeout=DEFAULT_TIMEOUT,
        limits=httpx.Limits(max_connections=20, max_keepalive_connections=10),
    ) as http:
        server = build_floor(
            env["CONVOAI_BASE_URL"],
            env["AGORA_APP_ID"],
            basic_authorization(env["AGORA_CUSTOMER_ID"], env["AGORA_CUSTOMER_SECRET"]),
            http,
        )
        sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM, socket.IPPROTO_TCP)
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        sock.bind(("127.0.0.1", port))
        bound = sock.getsockname()[1]
        print(f"sdk floor serving at http://127.0.0.1:{bound}/mcp (floor)", file=sys.stderr)
        sys.stderr.flush()
        config = uvicorn.Config(
            server.streamable_http_app(),
            log_config=None,
            log_level="warning",
            timeout_graceful_shutdown=2,
            timeout_keep_alive=65,
        )
        try:
            await uvicorn.Server(config).serve(sockets=[sock])
        finally:
            sock.close()


def main(argv: list[str] | None = None) -> int:
    """Serve the floor over streamable HTTP until interrupted."""
    parser = argparse.ArgumentParser(prog="floor_server.py")
    parser.add_argument("--transport", choices=["streamable-http"], default="streamable-http")
    parser.add_argument("--port", type=int, default=0)
    args = parser.parse_args(argv)
    with contextlib.suppress(KeyboardInterrupt):
        anyio.run(_serve, args.port)
    return 0


if __name__ == "__main__":
    if __package__ in (None, ""):  # run as a script: make the repo importable
        sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
    sys.exit(main())
