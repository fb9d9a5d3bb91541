"""Shared rig for the MCP server tests: the real emulator on 127.0.0.1:0, a server built on it,
and small helpers to read structured results and resources."""

from __future__ import annotations

import contextlib
import json
import os
import socket
from collections.abc import AsyncIterator, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from mcp import Client
from mcp_types import CallToolResult

from convoai_mcp.config import Settings
from convoai_mcp.sandbox import DEMO_CREDENTIALS, Sandbox
from convoai_mcp.server.app import ConvoAIServer, build_server
from convoai_mcp.server.sandbox_mode import sandbox_settings

__all__ = [
    "BY_ARGUMENT",
    "CALLEE",
    "OUTBOUND",
    "REPO",
    "Rig",
    "error_text",
    "free_port",
    "read_json",
    "rig",
    "subprocess_env",
]

REPO = Path(__file__).resolve().parent.parent
OUTBOUND = "+14155550100"
"""The sandbox's outbound-enabled number."""
CALLEE = "+14155550123"
"""An allow-listed destination in the default rig."""
BY_ARGUMENT = {"CONVOAI_CONFIRM_BY_ARGUMENT": "true"}
"""For tests of a headless client: the model's ``confirm=true`` counts as approval (by default
it does not: a human approves through the gate, tests/test_gate.py)."""


@dataclass
class Rig:
    """A sandbox, the server built on it, and its settings."""

    sandbox: Sandbox
    server: ConvoAIServer
    settings: Settings
    base_url: str


@contextlib.asynccontextmanager
async def rig(
    tmp_path: Path,
    env: Mapping[str, str] | None = None,
    *,
    answer_delay: float = 0.05,
    start_delay: float = 0.0,
    poll_interval: float = 0.02,
) -> AsyncIterator[Rig]:
    """Serve a sandbox and build a server on it (demo credentials, archive in ``tmp_path``)."""
    sandbox = Sandbox(DEMO_CREDENTIALS, answer_delay=answer_delay, start_delay=start_delay)
    environ = {
        "CONVOAI_CALL_ALLOWLIST": CALLEE,
        "CONVOAI_ARCHIVE_PATH": str(tmp_path / "archive.sqlite3"),
        **(env or {}),
    }
    async with sandbox.serve("127.0.0.1", 0) as base_url:
        settings = sandbox_settings(Settings.from_env(environ, require_credentials=False), base_url)
        server = build_server(settings, poll_interval=poll_interval)
        try:
            yield Rig(sandbox, server, settings, base_url)
        finally:
            await server.runtime.aclose()


def error_text(result: CallToolResult) -> str:
    """The text of an error result (asserting it is one)."""
    assert result.is_error, result
    return " ".join(getattr(block, "text", "") for block in result.content)


async def read_json(client: Client, uri: str) -> dict[str, Any]:
    """Read a JSON resource."""
    result = await client.read_resource(uri)
    assert len(result.contents) == 1
    content = result.contents[0]
    assert content.mime_type == "application/json"
    data: dict[str, Any] = json.loads(getattr(content, "text", ""))
    return data


def free_port() -> int:
    """A free loopback TCP port."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


def subprocess_env(**extra: str) -> dict[str, str]:
    """Environment for a server subprocess: the repo on PYTHONPATH, no real credentials."""
    env = {
        key: value
        for key, value in os.environ.items()
        if not key.startswith(("AGORA_", "CONVOAI_", "PYTHONPATH"))
    }
    env["PYTHONPATH"] = str(REPO)
    env.update(extra)
    return env
