"""HTTP transport protection: bind check, bearer token, Host / Origin, body size."""

from __future__ import annotations

import asyncio
import json
import os
import re
import socket
import subprocess
import sys
from collections.abc import AsyncIterator
from pathlib import Path

import anyio
import httpx
import httpx2
import pytest
from mcp import Client
from mcp.client.streamable_http import streamable_http_client
from mcp.server.mcpserver import MCPServer
from pydantic import SecretStr
from starlette.types import Receive, Scope, Send

from convoai_mcp.config import Settings
from convoai_mcp.errors import ConfigError
from convoai_mcp.server.transports.http import KEEP_ALIVE_SECONDS, http_socket, uvicorn_config
from convoai_mcp.server.transports.security import (
    HttpSecurity,
    check_bind,
    is_loopback,
    secure_asgi_app,
    transport_security_for,
)

ROOT = Path(__file__).resolve().parents[1]
TOKEN = "canary-http-token-0123456789abcdef"
BASE = "http://127.0.0.1:8765"


async def echo_app(scope: Scope, receive: Receive, send: Send) -> None:
    """Answers 200 with the size of the body it received."""
    assert scope["type"] == "http"
    size = 0
    while True:
        message = await receive()
        size += len(message.get("body", b""))
        if not message.get("more_body", False):
            break
    body = json.dumps({"received": size}).encode()
    await send({"type": "http.response.start", "status": 200, "headers": []})
    await send({"type": "http.response.body", "body": body})


def client_for(security: HttpSecurity) -> httpx.AsyncClient:
    app = secure_asgi_app(echo_app, security)
    return httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url=BASE)


@pytest.mark.parametrize(
    ("host", "loopback"),
    [
        ("127.0.0.1", True),
        ("127.1.2.3", True),
        ("localhost", True),
        ("::1", True),
        ("[::1]", True),
        ("0.0.0.0", False),
        ("::", False),
        ("192.168.1.10", False),
        ("example.com", False),
    ],
)
def test_is_loopback(host: str, loopback: bool) -> None:
    assert is_loopback(host) is loopback


@pytest.mark.parametrize("host", ["0.0.0.0", "::", "192.168.1.10", ""])
def test_non_loopback_bind_without_token_refuses_to_start(host: str) -> None:
    with pytest.raises(ConfigError, match="CONVOAI_HTTP_TOKEN") as info:
        check_bind(host, None)
    assert "127.0.0.1" in info.value.hint
    with pytest.raises(ConfigError):
        HttpSecurity.for_bind(host, 8000, token="  ")


def test_loopback_bind_needs_no_token_and_any_bind_accepts_one() -> None:
    check_bind("127.0.0.1", None)
    check_bind("0.0.0.0", SecretStr(TOKEN))
    security = HttpSecurity.for_bind("0.0.0.0", 8000, token=TOKEN)
    assert security.token is not None and TOKEN not in repr(security)


def test_dns_rebinding_protection_is_on_for_every_bind() -> None:
    for host in ("127.0.0.1", "0.0.0.0", "192.168.1.10"):
        settings = transport_security_for(host, 8000)
        assert settings.enable_dns_rebinding_protection
        assert "127.0.0.1:*" in settings.allowed_hosts
        assert "evil.example" not in settings.allowed_hosts
    lan = transport_security_for("192.168.1.10", 8000, extra_hosts=["mcp.internal"])
    assert "192.168.1.10:*" in lan.allowed_hosts
    assert "mcp.internal:*" in lan.allowed_hosts
    assert "https://mcp.internal:*" in lan.allowed_origins


def test_from_settings_uses_the_token_and_body_limit() -> None:
    settings = Settings.from_env(
        {"CONVOAI_HTTP_TOKEN": TOKEN, "CONVOAI_MAX_BODY_BYTES": "2048"}, require_credentials=False
    )
    security = HttpSecurity.from_settings(settings, host="0.0.0.0", port=9000)
    assert security.max_body_bytes == 2048
    assert security.token is not None and security.token.get_secret_value() == TOKEN
    with pytest.raises(ConfigError):
        HttpSecurity.from_settings(
            Settings.from_env({}, require_credentials=False), host="0.0.0.0", port=9000
        )


@pytest.fixture
async def guarded() -> AsyncIterator[httpx.AsyncClient]:
    security = HttpSecurity.for_bind("127.0.0.1", 8765, token=TOKEN, max_body_bytes=1024)
    async with client_for(security) as client:
        yield client


AUTH = {"Authorization": f"Bearer {TOKEN}"}


async def test_request_with_the_right_token_passes(guarded: httpx.AsyncClient) -> None:
    response = await guarded.post("/mcp", content=b"x" * 100, headers=AUTH)
    assert response.status_code == 200
    assert response.json() == {"received": 100}


async def test_request_without_token_is_refused(guarded: httpx.AsyncClient) -> None:
    response = await guarded.post("/mcp", content=b"{}")
    assert response.status_code == 401
    assert response.headers["www-authenticate"].startswith("Bearer")
    assert response.json() == {"error": "missing bearer token"}


@pytest.mark.parametrize(
    "header",
    [
        f"Bearer {TOKEN}x",
        f"Bearer {TOKEN[:-1]}",
        f"Basic {TOKEN}",
        "Bearer ",
        TOKEN,
        "Bearer wrong",
    ],
)
async def test_request_with_a_wrong_token_is_refused(
    guarded: httpx.AsyncClient, header: str
) -> None:
    response = await guarded.post("/mcp", content=b"{}", headers={"Authorization": header})
    assert response.status_code == 401
    assert TOKEN not in response.text


async def test_bearer_scheme_is_case_insensitive(guarded: httpx.AsyncClient) -> None:
    response = await guarded.get("/sse", headers={"Authorization": f"bearer {TOKEN}"})
    assert response.status_code == 200


@pytest.mark.parametrize("origin", ["http://evil.example", "http://127.0.0.1.evil.example:80"])
async def test_bad_origin_is_refused_even_with_the_token(
    guarded: httpx.AsyncClient, origin: str
) -> None:
    response = await guarded.post("/mcp", content=b"{}", headers={**AUTH, "Origin": origin})
    assert response.status_code == 403


async def test_good_origin_passes(guarded: httpx.AsyncClient) -> None:
    headers = {**AUTH, "Origin": "http://localhost:3000"}
    response = await guarded.post("/mcp", content=b"{}", headers=headers)
    assert response.status_code == 200


async def test_rebinding_host_is_refused(guarded: httpx.AsyncClient) -> None:
    response = await guarded.post(
        "/mcp", content=b"{}", headers={**AUTH, "Host": "attacker.example:8765"}
    )
    assert response.status_code == 421


async def test_oversized_body_is_refused(guarded: httpx.AsyncClient) -> None:
    response = await guarded.post("/mcp", content=b"x" * 1025, headers=AUTH)
    assert response.status_code == 413
    at_limit = await guarded.post("/mcp", content=b"x" * 1024, headers=AUTH)
    assert at_limit.json() == {"received": 1024}


async def test_oversized_streamed_body_without_length_is_refused(
    guarded: httpx.AsyncClient,
) -> None:
    async def chunks() -> AsyncIterator[bytes]:
        for _ in range(5):
            yield b"y" * 300

    response = await guarded.post("/mcp", content=chunks(), headers=AUTH)
    assert response.status_code == 413


async def test_no_token_configured_on_loopback_lets_requests_through() -> None:
    async with client_for(HttpSecurity.for_bind("127.0.0.1", 8765)) as client:
        response = await client.post("/mcp", content=b"{}")
    assert response.status_code == 200


async def test_wraps_the_sdk_streamable_http_app() -> None:
    """The wrapper in front of the real MCP app: refused without token, initialize with it."""
    server = MCPServer("wrapped")
    security = HttpSecurity.for_bind("0.0.0.0", 8765, token=TOKEN)
    inner = server.streamable_http_app(
        host="0.0.0.0",
        transport_security=security.transport_security,
        max_request_body_size=security.max_body_bytes,
    )
    app = secure_asgi_app(inner, security)
    init = {
        "jsonrpc": "2.0",
        "id": 1,
        "method": "initialize",
        "params": {
            "protocolVersion": "2025-06-18",
            "capabilities": {},
            "clientInfo": {"name": "t", "version": "1"},
        },
    }
    headers = {"Accept": "application/json, text/event-stream", "Content-Type": "application/json"}
    async with (
        inner.router.lifespan_context(inner),
        httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url=BASE) as client,
    ):
        refused = await client.post("/mcp", json=init, headers=headers)
        assert refused.status_code == 401
        accepted = await client.post("/mcp", json=init, headers={**headers, **AUTH})
        assert accepted.status_code == 200
        assert "serverInfo" in accepted.text


@pytest.mark.slow
async def test_the_cli_on_a_public_address_requires_the_bearer_token(tmp_path: Path) -> None:
    """The real server bound to 0.0.0.0 with CONVOAI_HTTP_TOKEN: no token and a bad Origin are
    refused on the wire; an MCP client sending the token works."""
    env = {
        key: value
        for key, value in os.environ.items()
        if not key.startswith(("AGORA_", "CONVOAI_", "PYTHONPATH"))
    }
    env.update(
        {
            "PYTHONPATH": str(ROOT),
            "CONVOAI_HTTP_TOKEN": TOKEN,
            "CONVOAI_ARCHIVE_PATH": str(tmp_path / "archive.sqlite3"),
        }
    )
    command = [sys.executable, "-m", "convoai_mcp", "--sandbox", "--transport", "streamable-http"]
    command += ["--host", "0.0.0.0", "--port", "0"]
    process = await anyio.open_process(command, env=env, stdin=subprocess.DEVNULL)
    try:
        assert process.stderr is not None
        seen = ""
        with anyio.fail_after(30):
            while (match := re.search(r"at http://0\.0\.0\.0:(\d+)(/mcp) \(", seen)) is None:
                seen += (await process.stderr.receive()).decode()
        assert "bearer token required" in seen
        assert TOKEN not in seen
        url = f"http://127.0.0.1:{match.group(1)}{match.group(2)}"
        ping = {"jsonrpc": "2.0", "id": 1, "method": "ping"}
        accept = {"Accept": "application/json, text/event-stream"}
        async with httpx.AsyncClient() as http:
            missing = await http.post(url, json=ping, headers=accept)
            assert missing.status_code == 401
            wrong = await http.post(
                url, json=ping, headers={**accept, **{"Authorization": "Bearer x"}}
            )
            assert wrong.status_code == 401
            foreign = await http.post(
                url, json=ping, headers={**accept, **AUTH, "Origin": "http://evil.example"}
            )
            assert foreign.status_code == 403
        async with (
            httpx2.AsyncClient(headers=AUTH) as authed,
            Client(streamable_http_client(url, http_client=authed)) as client,
        ):
            names = [tool.name for tool in (await client.list_tools()).tools]
            assert "start_agent" in names
    finally:
        process.kill()
        with anyio.fail_after(10):
            await process.wait()
        await process.aclose()


# ------------------------------------------------------------------ how the CLI serves HTTP


async def test_connections_the_http_transports_accept_have_tcp_nodelay() -> None:
    """uvicorn serves the CLI's socket with ``loop.create_server(sock=...)``; asyncio sets
    TCP_NODELAY on what that accepts only when the listening socket's proto is TCP (else every
    keep-alive response waits for Nagle + delayed ACK)."""
    sock = http_socket("127.0.0.1", 0)
    assert sock.proto == socket.IPPROTO_TCP
    port = sock.getsockname()[1]
    loop = asyncio.get_running_loop()
    nodelay: asyncio.Future[int] = loop.create_future()

    class Probe(asyncio.Protocol):
        def connection_made(self, transport: asyncio.BaseTransport) -> None:
            accepted = transport.get_extra_info("socket")
            nodelay.set_result(accepted.getsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY))
            transport.close()

    server = await loop.create_server(Probe, sock=sock)
    async with server:
        _, writer = await asyncio.open_connection("127.0.0.1", port)
        try:
            assert await asyncio.wait_for(nodelay, 10) != 0
        finally:
            writer.close()


def test_http_socket_binds_ipv6_loopback() -> None:
    try:
        sock = http_socket("[::1]", 0)
    except OSError:
        pytest.skip("no IPv6 loopback here")
    with sock:
        assert sock.family == socket.AF_INET6
        assert sock.proto == socket.IPPROTO_TCP


@pytest.mark.parametrize(
    "expiry", [httpx.Limits().keepalive_expiry, httpx2.Limits().keepalive_expiry]
)
def test_idle_connections_outlive_the_clients_keep_alive(expiry: float | None) -> None:
    """The server must not close an idle connection when the client (httpx; the MCP SDK's
    httpx2) may still reuse it: uvicorn's keep-alive is longer than theirs."""
    settings = Settings.from_env({}, require_credentials=False)
    config = uvicorn_config(echo_app, settings)
    assert expiry is not None
    assert config.timeout_keep_alive == KEEP_ALIVE_SECONDS > expiry
    assert config.log_config is None  # our stderr handler (and its redaction) applies


# ------------------------------------------------------------------ the connection guard (D6)


async def _half_open(port: int) -> tuple[asyncio.StreamReader, asyncio.StreamWriter]:
    """A connection that starts a request and never finishes its headers."""
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    writer.write(b"POST /mcp HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\n")
    await writer.drain()
    return reader, writer


async def _slow_body(port: int) -> tuple[asyncio.StreamReader, asyncio.StreamWriter]:
    """A request with the token whose headers are complete and whose body never arrives."""
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    writer.write(
        b"POST /mcp HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\n"
        b"Accept: application/json, text/event-stream\r\n"
        + f"Authorization: Bearer {TOKEN}\r\nContent-Length: 100\r\n\r\n".encode()
    )
    await writer.drain()
    return reader, writer


async def _closed_by_server(reader: asyncio.StreamReader) -> bool:
    try:
        return await reader.read(1024) == b""
    except ConnectionError:
        return True


@pytest.mark.slow
async def test_a_flood_of_half_open_connections_does_not_lock_out_a_client_with_the_token(
    tmp_path: Path,
) -> None:
    """300 connections that never finish their headers and 5 whose body never arrives (all from
    127.0.0.1, like the valid client): the client with the token is still served, and the server
    closes every one of them (the oldest to make room, the others when their request time runs
    out)."""
    from _server_helpers import rig

    from convoai_mcp.server.transports.http import ConnectionLimits, serve_http

    limits = ConnectionLimits(max_connections=200, max_per_client=64, request_timeout=2.0)
    ready: anyio.Event = anyio.Event()
    stop = anyio.Event()
    urls: list[str] = []

    def on_ready(url: str, token_required: bool) -> None:
        assert token_required
        urls.append(url)
        ready.set()

    async with rig(tmp_path, {"CONVOAI_HTTP_TOKEN": TOKEN}) as r, anyio.create_task_group() as tg:
        tg.start_soon(
            lambda: serve_http(
                r.server,
                r.settings,
                transport="streamable-http",
                host="127.0.0.1",
                port=0,
                on_ready=on_ready,
                limits=limits,
                stop=stop,
            )
        )
        with anyio.fail_after(30):
            await ready.wait()
        url = urls[0]
        port = int(url.rsplit(":", 1)[1].split("/")[0])
        flood = [await _slow_body(port) for _ in range(5)]
        flood += [await _half_open(port) for _ in range(300)]
        try:
            with anyio.fail_after(60):
                async with (
                    httpx2.AsyncClient(headers=AUTH) as authed,
                    Client(streamable_http_client(url, http_client=authed)) as client,
                ):
                    names = [tool.name for tool in (await client.list_tools()).tools]
                assert "start_agent" in names
                closed = [await _closed_by_server(reader) for reader, _ in flood]
            assert all(closed)
        finally:
            for _, writer in flood:
                writer.close()
            stop.set()
