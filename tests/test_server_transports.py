"""The real CLI over real transports: a stdio subprocess, streamable HTTP and SSE on loopback."""

from __future__ import annotations

import re
import subprocess
import sys
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

import anyio
import httpx
import pytest
from _server_helpers import CALLEE, REPO, error_text, read_json, subprocess_env
from anyio.abc import Process
from mcp import Client, StdioServerParameters
from mcp.client.sse import sse_client
from mcp.shared.subscriptions import ResourceUpdated

from convoai_mcp.server.tools import TOOL_NAMES

pytestmark = pytest.mark.slow


def server_env(tmp_path: Path) -> dict[str, str]:
    return {
        "PYTHONPATH": str(REPO),
        "CONVOAI_CALL_ALLOWLIST": CALLEE,
        "CONVOAI_ARCHIVE_PATH": str(tmp_path / "archive.sqlite3"),
        "CONVOAI_CONFIRM_BY_ARGUMENT": "true",  # a headless client: confirm=true counts
    }


async def session_walkthrough(client: Client) -> None:
    """What every transport must carry: tools, structured results, errors, resources."""
    names = [t.name for t in (await client.list_tools()).tools]
    assert names == list(TOOL_NAMES)
    started = await client.call_tool("start_agent", {"channel": "wire-room"})
    assert not started.is_error, error_text(started)
    assert started.structured_content is not None
    agent_id = started.structured_content["agent_id"]
    spoken = await client.call_tool("speak", {"agent_id": agent_id, "text": "Over the wire"})
    assert not spoken.is_error, error_text(spoken)
    history = await read_json(client, f"convoai://agents/{agent_id}/history")
    assert "Over the wire" in [e["untrusted_text"] for e in history["entries"]]
    bad = await client.call_tool("speak", {"agent_id": agent_id, "text": ""})
    assert "Invalid arguments for speak" in error_text(bad)
    placed = await client.call_tool("call", {"to_number": CALLEE, "confirm": True})
    assert not placed.is_error, error_text(placed)
    assert placed.structured_content is not None
    hung = await client.call_tool("hangup", {"agent_id": placed.structured_content["agent_id"]})
    assert not hung.is_error, error_text(hung)
    stopped = await client.call_tool("stop_agent", {"agent_id": agent_id})
    assert not stopped.is_error, error_text(stopped)


async def test_stdio_subprocess_with_sandbox(tmp_path: Path) -> None:
    params = StdioServerParameters(
        command=sys.executable,
        args=["-m", "convoai_mcp", "--sandbox"],
        env=server_env(tmp_path),
        cwd=str(tmp_path),
    )
    async with Client(params) as client:
        assert client.server_info is not None
        assert client.server_info.name == "convoai-mcp"
        await session_walkthrough(client)


def test_stdio_stdout_carries_only_protocol_and_stderr_the_banner(tmp_path: Path) -> None:
    init = (
        '{"jsonrpc":"2.0","id":1,"method":"initialize","params":{"protocolVersion":'
        '"2025-06-18","capabilities":{},"clientInfo":{"name":"t","version":"1"}}}\n'
    )
    proc = subprocess.run(
        [sys.executable, "-m", "convoai_mcp", "--sandbox"],
        input=init,
        capture_output=True,
        text=True,
        env=subprocess_env(**server_env(tmp_path)),
        timeout=60,
        check=False,
    )
    lines = [line for line in proc.stdout.splitlines() if line.strip()]
    assert lines, proc.stderr
    assert all(line.startswith('{"jsonrpc":"2.0"') for line in lines), proc.stdout
    assert '"serverInfo"' in lines[0]
    assert "SANDBOX mode" in proc.stderr
    assert "nothing real is called" in proc.stderr
    assert "serving MCP over stdio" in proc.stderr


@asynccontextmanager
async def spawn_http(tmp_path: Path, transport: str, *extra: str) -> AsyncIterator[str]:
    """Run the CLI on a free port; yield the URL from its banner."""
    command = [
        sys.executable,
        "-m",
        "convoai_mcp",
        "--sandbox",
        "--transport",
        transport,
        "--port",
        "0",
        *extra,
    ]
    process: Process = await anyio.open_process(
        command, env=subprocess_env(**server_env(tmp_path)), stdin=subprocess.DEVNULL
    )
    try:
        assert process.stderr is not None
        seen = ""
        with anyio.fail_after(30):
            while (match := re.search(r"at (http://\S+?) \(", seen)) is None:
                chunk = await process.stderr.receive()
                seen += chunk.decode()
        yield match.group(1)
    finally:
        process.terminate()
        with anyio.fail_after(10):
            await process.wait()
        await process.aclose()


async def test_streamable_http_with_sandbox(tmp_path: Path) -> None:
    async with spawn_http(tmp_path, "streamable-http") as url:
        assert url.endswith("/mcp")
        async with Client(url) as client:
            await session_walkthrough(client)


async def test_history_subscription_over_streamable_http(tmp_path: Path) -> None:
    async with spawn_http(tmp_path, "streamable-http") as url, Client(url) as client:
        started = await client.call_tool("start_agent", {"channel": "sub-wire"})
        assert started.structured_content is not None
        agent_id = started.structured_content["agent_id"]
        uri = f"convoai://agents/{agent_id}/history"
        async with client.listen(resource_subscriptions=[uri]) as sub:
            await client.call_tool("speak", {"agent_id": agent_id, "text": "Breaking news"})
            with anyio.fail_after(10):
                event = await sub.__anext__()
    assert event == ResourceUpdated(uri=uri)


async def test_streamable_http_refuses_a_foreign_origin(tmp_path: Path) -> None:
    async with spawn_http(tmp_path, "streamable-http") as url, httpx.AsyncClient() as http:
        response = await http.post(
            url,
            json={"jsonrpc": "2.0", "id": 1, "method": "ping"},
            headers={
                "Origin": "http://evil.example",
                "Accept": "application/json, text/event-stream",
            },
        )
    assert response.status_code in {400, 403}


async def test_sse_with_sandbox(tmp_path: Path) -> None:
    async with spawn_http(tmp_path, "sse") as url:
        assert url.endswith("/sse")
        transport: Any = sse_client(url)
        async with Client(transport) as client:
            result = await client.call_tool("list_numbers", {})
            assert not result.is_error, error_text(result)
            assert result.structured_content is not None
            assert result.structured_content["numbers"]


def test_http_on_a_public_address_without_token_is_refused(tmp_path: Path) -> None:
    public = "0.0.0.0"
    proc = subprocess.run(
        [sys.executable, "-m", "convoai_mcp", "--sandbox", "--transport", "sse", "--host", public],
        capture_output=True,
        text=True,
        env=subprocess_env(**server_env(tmp_path)),
        timeout=60,
        check=False,
    )
    assert proc.returncode == 2
    assert "CONVOAI_HTTP_TOKEN" in proc.stderr
    assert proc.stdout == ""


async def test_sandbox_mode_keeps_its_archive_out_of_the_user_data_directory(
    tmp_path: Path,
) -> None:
    home = tmp_path / "home"
    params = StdioServerParameters(
        command=sys.executable,
        args=["-m", "convoai_mcp", "--sandbox"],
        env={"PYTHONPATH": str(REPO), "HOME": str(home), "XDG_DATA_HOME": str(home / "data")},
        cwd=str(tmp_path),
    )
    async with Client(params) as client:
        started = await client.call_tool("start_agent", {"channel": "private"})
        assert not started.is_error, error_text(started)
        assert started.structured_content is not None
        agent_id = started.structured_content["agent_id"]
        await client.call_tool("speak", {"agent_id": agent_id, "text": "Archived somewhere"})
        stopped = await client.call_tool("stop_agent", {"agent_id": agent_id})
        assert not stopped.is_error, error_text(stopped)
        history = await read_json(client, f"convoai://agents/{agent_id}/history")
        assert history["source"] == "archive"
    assert not (home / "data" / "convoai-mcp").exists()
