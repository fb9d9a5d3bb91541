"""Stateless streamable HTTP for replicas behind a load balancer without session affinity
(issue 15, "HTTP for teams").

Real server processes (``python -m convoai_mcp --transport streamable-http --stateless``) on one
emulator process, reached through :class:`RoundRobin`: an HTTP transport that sends each
JSON-RPC method's successive requests to the replicas in turn, as a load balancer without
affinity would. A 2025-era client (``initialize`` handshake) works through it; a confirmation
asked by replica A is answered on replica B when they share ``CONVOAI_REQUEST_STATE_KEY``, and
is refused clearly when the keys differ. In process: the same client against stateful replicas
loses its session (why stateless mode exists), a 2025-era client on a stateless server gets the
approval link (it cannot be asked mid-call), and the settings are checked at start-up.
"""

from __future__ import annotations

import json
import queue
import re
import shlex
import subprocess
import sys
import threading
from collections import Counter
from collections.abc import AsyncIterator, Iterator, Sequence
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx2
import mcp_types as types
import pytest
from _http_server import TOKEN, served
from _server_helpers import CALLEE, error_text, subprocess_env
from mcp import Client
from mcp.client.context import ClientRequestContext
from mcp.client.streamable_http import streamable_http_client
from mcp.shared.exceptions import MCPError

from convoai_mcp.config import Settings
from convoai_mcp.errors import ConfigError
from convoai_mcp.redact import settings_redactor
from convoai_mcp.server.app import SERVER_NAME, build_server

KEY = "shared-request-state-key-0123456789abcdef"
OTHER_KEY = "another-request-state-key-0123456789abcdef"
SECOND_CALLEE = "+14155550124"
STARTED = 30.0
AUTH = {"Authorization": f"Bearer {TOKEN}"}
TTS_PARAMS = json.dumps({"key": "tts-key", "region": "eastus", "voice_name": "en-US-AvaNeural"})
BASE = {
    "AGORA_APP_ID": "0123456789abcdef0123456789abcdef",
    "AGORA_APP_CERTIFICATE": "fedcba9876543210fedcba9876543210",
}


# ------------------------------------------------------------------ a load balancer, no affinity


@dataclass
class RoundRobin(httpx2.AsyncBaseTransport):
    """Sends each JSON-RPC method's successive requests (and GETs / DELETEs) to ``ports`` in
    turn; ``seen`` records (method, port)."""

    ports: Sequence[int]
    seen: list[tuple[str, int]] = field(default_factory=list)
    _inner: httpx2.AsyncHTTPTransport = field(default_factory=httpx2.AsyncHTTPTransport)
    _counts: Counter[str] = field(default_factory=Counter)

    async def handle_async_request(self, request: httpx2.Request) -> httpx2.Response:
        method = request.method
        if method == "POST":
            body = json.loads(await request.aread())
            method = body.get("method", "response") if isinstance(body, dict) else "batch"
        port = self.ports[self._counts[method] % len(self.ports)]
        self._counts[method] += 1
        self.seen.append((method, port))
        request.url = request.url.copy_with(port=port)
        request.headers["host"] = f"127.0.0.1:{port}"
        return await self._inner.handle_async_request(request)

    async def aclose(self) -> None:
        await self._inner.aclose()

    def ports_of(self, method: str) -> list[int]:
        return [port for name, port in self.seen if name == method]


@asynccontextmanager
async def balanced(
    ports: Sequence[int],
    *,
    mode: str = "legacy",
    elicitor: Any = None,
    headers: dict[str, str] | None = None,
) -> AsyncIterator[tuple[Client, RoundRobin]]:
    """An MCP client whose requests go through :class:`RoundRobin` over ``ports``."""
    balancer = RoundRobin(ports)
    async with (
        httpx2.AsyncClient(transport=balancer, timeout=60, headers=headers) as http,
        Client(
            streamable_http_client(f"http://127.0.0.1:{ports[0]}/mcp", http_client=http),
            mode=mode,
            elicitation_callback=elicitor,
        ) as client,
    ):
        yield client, balancer


class Yes:
    """A user who ticks the confirm box; ``asked`` counts the questions."""

    def __init__(self) -> None:
        self.asked = 0

    async def __call__(
        self, context: ClientRequestContext, params: types.ElicitRequestParams
    ) -> types.ElicitResult:
        self.asked += 1
        return types.ElicitResult(action="accept", content={"confirm": True})


async def call_ok(client: Client, name: str, args: dict[str, Any]) -> dict[str, Any]:
    result = await client.call_tool(name, args)
    assert not result.is_error, error_text(result)
    data: dict[str, Any] | None = result.structured_content
    assert data is not None
    return data


# ------------------------------------------------------------------ real processes


class Process:
    """A child process whose stderr (or stdout) lines are read by a thread, so the pipe never
    fills; :meth:`until` waits for a line matching a pattern."""

    def __init__(self, command: list[str], env: dict[str, str], *, stream: str) -> None:
        self.popen = subprocess.Popen(
            command,
            env=env,
            stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE if stream == "stdout" else subprocess.DEVNULL,
            stderr=subprocess.PIPE if stream == "stderr" else subprocess.DEVNULL,
            text=True,
        )
        pipe = self.popen.stdout if stream == "stdout" else self.popen.stderr
        assert pipe is not None
        self.lines: queue.Queue[str | None] = queue.Queue()
        self.log: list[str] = []
        threading.Thread(target=self._read, args=(pipe,), daemon=True).start()

    def _read(self, pipe: Any) -> None:
        for line in pipe:
            self.lines.put(line)
        self.lines.put(None)

    def until(self, pattern: str) -> re.Match[str]:
        while True:
            try:
                line = self.lines.get(timeout=STARTED)
            except queue.Empty:
                raise AssertionError(f"no {pattern!r} in: {''.join(self.log)[-2000:]}") from None
            if line is None:
                raise AssertionError(f"the process ended: {''.join(self.log)[-2000:]}")
            self.log.append(line)
            if (match := re.search(pattern, line)) is not None:
                return match

    def stop(self) -> None:
        self.popen.terminate()
        try:
            self.popen.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self.popen.kill()
            self.popen.wait()


@dataclass
class Deployment:
    """An emulator and stateless replicas on it: ``a`` and ``b`` share the request-state key,
    ``c`` has another."""

    a: int
    b: int
    c: int
    logs: dict[int, list[str]]


def _emulator_env(emulator: Process) -> dict[str, str]:
    values: dict[str, str] = {}
    while "CONVOAI_ARCHIVE_PATH" not in values:  # the last of the banner's export lines
        match = emulator.until(r"^export ")
        words = shlex.split(match.string, comments=True)
        name, _, value = words[1].partition("=")
        values[name] = value
    return values


@pytest.fixture(scope="module")
def deployment(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Deployment]:
    started: list[Process] = []
    try:
        emulator = Process(
            [sys.executable, "-m", "convoai_mcp.sandbox", "--port", "0"],
            subprocess_env(),
            stream="stdout",
        )
        started.append(emulator)
        api = {
            key: value
            for key, value in _emulator_env(emulator).items()
            if key not in ("CONVOAI_ARCHIVE_PATH", "CONVOAI_CALL_ALLOWLIST")
        }
        ports: list[int] = []
        for name, key in (("a", KEY), ("b", KEY), ("c", OTHER_KEY)):
            archive = tmp_path_factory.mktemp(f"replica-{name}") / "archive.sqlite3"
            ours = {
                "CONVOAI_ARCHIVE_PATH": str(archive),
                "CONVOAI_REQUEST_STATE_KEY": key,
                "CONVOAI_CALL_ALLOWLIST": "+1415555",
                "CONVOAI_TTS_PARAMS": TTS_PARAMS,  # what the emulator requires of microsoft
            }
            env = subprocess_env(**{**api, **ours})
            command = [sys.executable, "-m", "convoai_mcp", "--transport", "streamable-http"]
            replica = Process([*command, "--port", "0", "--stateless"], env, stream="stderr")
            started.append(replica)
            banner = replica.until(
                r"serving MCP \(streamable-http, stateless\) at http://[^:]+:(\d+)"
            )
            ports.append(int(banner.group(1)))
        logs = {port: replica.log for port, replica in zip(ports, started[1:], strict=True)}
        yield Deployment(a=ports[0], b=ports[1], c=ports[2], logs=logs)
    finally:
        for process in reversed(started):
            process.stop()


@pytest.mark.slow
async def test_a_2025_client_works_when_successive_requests_go_to_either_replica(
    deployment: Deployment,
) -> None:
    async with balanced([deployment.a, deployment.b], mode="legacy") as (client, balancer):
        assert client.protocol_version == "2025-11-25"
        agent = await call_ok(client, "start_agent", {"channel": "stateless-room"})
        await call_ok(client, "speak", {"agent_id": agent["agent_id"], "text": "hello"})
        state = await call_ok(client, "get_agent", {"agent_id": agent["agent_id"]})
        assert state["agent_id"] == agent["agent_id"]
        await call_ok(client, "stop_agent", {"agent_id": agent["agent_id"]})
    assert balancer.ports_of("tools/call") == [deployment.a, deployment.b] * 2
    assert balancer.ports_of("initialize") == [deployment.a]


@pytest.mark.slow
async def test_a_confirmation_asked_by_one_replica_is_answered_on_the_other(
    deployment: Deployment,
) -> None:
    """2026-07-28: the call returns input_required with a sealed requestState from A; the
    client answers by calling again, which lands on B (same key): the call is placed once."""
    yes = Yes()
    async with balanced([deployment.a, deployment.b], mode="auto", elicitor=yes) as (
        client,
        balancer,
    ):
        assert client.protocol_version == "2026-07-28"
        placed = await call_ok(client, "call", {"to_number": CALLEE})
        assert placed["to_number"] == CALLEE
        assert yes.asked == 1
        assert balancer.ports_of("tools/call") == [deployment.a, deployment.b]
        calls = await call_ok(client, "list_calls", {})
    assert [c for c in calls["calls"] if c.get("to_number") == CALLEE]


@pytest.mark.slow
async def test_a_confirmation_answered_on_a_replica_with_another_key_is_refused(
    deployment: Deployment,
) -> None:
    yes = Yes()
    async with balanced([deployment.a, deployment.c], mode="auto", elicitor=yes) as (client, _):
        with pytest.raises(MCPError) as refused:
            await client.call_tool("call", {"to_number": SECOND_CALLEE})
        assert "Invalid or expired requestState" in str(refused.value)
        assert yes.asked == 1
        calls = await call_ok(client, "list_calls", {})
    assert not [c for c in calls["calls"] if c.get("to_number") == SECOND_CALLEE]
    for line in deployment.logs[deployment.a] + deployment.logs[deployment.c]:
        assert KEY not in line and OTHER_KEY not in line


# ------------------------------------------------------------------ in process


async def test_without_stateless_mode_a_2025_client_loses_its_session_on_the_other_replica(
    tmp_path: Path,
) -> None:
    """Why stateless mode (or session affinity) is needed: a stateful replica does not know the
    session another one opened."""
    async with (
        served(tmp_path / "a") as (_, http_a),
        served(tmp_path / "b") as (_, http_b),
    ):
        ports = [port for port in (http_a.base_url.port, http_b.base_url.port) if port]

        async def twice() -> None:
            async with balanced(ports, headers=AUTH) as (client, _):
                await client.call_tool("list_numbers", {})  # on the replica of initialize
                await client.call_tool("list_numbers", {})  # on the other one

        with pytest.raises(BaseExceptionGroup) as lost:
            await twice()
        assert "Session not found" in repr(lost.value)


async def test_a_2026_client_needs_no_affinity_even_without_stateless_mode(
    tmp_path: Path,
) -> None:
    """2026-07-28 requests are served one by one whatever the mode: only 2025-era clients keep a
    session on one replica."""
    async with (
        served(tmp_path / "a") as (_, http_a),
        served(tmp_path / "b") as (_, http_b),
    ):
        ports = [port for port in (http_a.base_url.port, http_b.base_url.port) if port]
        async with balanced(ports, mode="auto", headers=AUTH) as (client, balancer):
            assert client.protocol_version == "2026-07-28"
            for _ in range(2):
                await call_ok(client, "list_numbers", {})
        assert balancer.ports_of("tools/call") == ports


async def test_on_a_stateless_server_a_2025_client_gets_the_approval_link(tmp_path: Path) -> None:
    """A stateless request carries no session: neither the client's capabilities (declared at
    initialize) nor a back channel for elicitation/create, so the gate gives the link."""
    yes = Yes()
    async with served(tmp_path, {"CONVOAI_HTTP_STATELESS": "on"}) as (r, http):
        port = http.base_url.port
        assert port is not None and r.settings.http_stateless
        async with balanced([port], elicitor=yes, headers=AUTH) as (client, _):
            result = await client.call_tool("call", {"to_number": CALLEE})
    text = error_text(result)
    assert "Open this link to approve the call" in text
    assert re.search(r"http://127\.0\.0\.1:\d+/approve/", text), text
    assert yes.asked == 0


# ------------------------------------------------------------------ behind a load balancer


async def test_the_public_host_name_of_a_load_balancer_can_be_allowed(tmp_path: Path) -> None:
    """A load balancer passes the name clients used (Host: mcp.example.com); DNS-rebinding
    protection refuses it unless CONVOAI_HTTP_ALLOWED_HOSTS lists it."""
    ping = {"jsonrpc": "2.0", "id": 1, "method": "ping"}
    accept = {"Accept": "application/json, text/event-stream", **AUTH}
    for allowed, status in ((None, 421), ("mcp.example.com", 200)):
        env = {"CONVOAI_HTTP_STATELESS": "on"}
        if allowed is not None:
            env["CONVOAI_HTTP_ALLOWED_HOSTS"] = allowed
        async with served(tmp_path / str(status), env) as (_, http):
            public = await http.post(
                "/mcp", json=ping, headers={**accept, "Host": "mcp.example.com"}
            )
            assert public.status_code == status, public.text
            other = await http.post("/mcp", json=ping, headers={**accept, "Host": "evil.example"})
            assert other.status_code == 421


def test_an_allowed_host_must_be_a_host_name() -> None:
    with pytest.raises(ConfigError, match="CONVOAI_HTTP_ALLOWED_HOSTS"):
        Settings.from_env({**BASE, "CONVOAI_HTTP_ALLOWED_HOSTS": "https://mcp.example.com/mcp"})


# ------------------------------------------------------------------ settings


def test_the_request_state_keys_are_read_checked_and_masked() -> None:
    settings = Settings.from_env({**BASE, "CONVOAI_REQUEST_STATE_KEY": f"{KEY}, {OTHER_KEY}"})
    assert settings.request_state_keys() == [KEY, OTHER_KEY]
    assert KEY not in repr(settings)
    redactor = settings_redactor(settings)
    assert KEY not in redactor.text(f"state key {KEY} and {OTHER_KEY}")
    assert OTHER_KEY not in redactor.text(f"state key {OTHER_KEY}")
    server = build_server(settings)
    assert server.name == SERVER_NAME == "convoai-mcp"  # the audience every replica shares
    assert Settings.from_env(BASE).request_state_keys() == []


@pytest.mark.parametrize(
    ("value", "problem"),
    [
        ("short-key", "too short"),
        (f"{KEY},tiny", "key 2 of 2 is too short"),
        (f"{KEY},{KEY}", "twice"),
    ],
)
def test_a_bad_request_state_key_is_a_configuration_error(value: str, problem: str) -> None:
    with pytest.raises(ConfigError) as info:
        Settings.from_env({**BASE, "CONVOAI_REQUEST_STATE_KEY": value})
    message = str(info.value)
    assert "CONVOAI_REQUEST_STATE_KEY" in message and problem in message
    assert KEY not in message and "short-key" not in message and "tiny" not in message


def test_stateless_mode_is_read_from_the_environment() -> None:
    assert Settings.from_env({**BASE, "CONVOAI_HTTP_STATELESS": "on"}).http_stateless is True
    assert Settings.from_env(BASE).http_stateless is False
    with pytest.raises(ConfigError, match="CONVOAI_HTTP_STATELESS"):
        Settings.from_env({**BASE, "CONVOAI_HTTP_STATELESS": "maybe"})


@pytest.mark.parametrize("transport", ["stdio", "sse"])
def test_stateless_mode_on_another_transport_stops_start_up(transport: str) -> None:
    proc = subprocess.run(
        [sys.executable, "-m", "convoai_mcp", "--sandbox", "--stateless", "--transport", transport],
        capture_output=True,
        text=True,
        env=subprocess_env(),
        timeout=120,
        check=False,
        stdin=subprocess.DEVNULL,
    )
    assert proc.returncode == 2
    [line] = proc.stderr.strip().splitlines()
    assert "--stateless" in line and "streamable HTTP" in line and transport in line


@pytest.mark.slow
def test_stateless_mode_without_a_shared_key_warns_at_start_up(tmp_path: Path) -> None:
    command = [sys.executable, "-m", "convoai_mcp", "--sandbox", "--stateless"]
    command += ["--transport", "streamable-http", "--port", "0"]
    env = subprocess_env(CONVOAI_ARCHIVE_PATH=str(tmp_path / "archive.sqlite3"))
    server = Process(command, env, stream="stderr")
    try:
        server.until(r"serving MCP \(streamable-http, stateless\)")
    finally:
        server.stop()
    warnings = [line for line in server.log if line.startswith("convoai-mcp: warning:")]
    assert len(warnings) == 1 and "CONVOAI_REQUEST_STATE_KEY" in warnings[0], server.log
