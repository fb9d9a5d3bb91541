"""Load: 1,000 mixed tool calls from 10 concurrent MCP sessions over streamable HTTP, against one
server app served on 127.0.0.1 (as the CLI serves it: the SDK's app behind the HTTP security
wrapper) on the emulator. Every call succeeds, and memory stays bounded: what the process's
resident memory grows by after a warm-up round stays far below what a leak of even a few tens of
kilobytes per call would add. No timing is asserted.
"""

from __future__ import annotations

import contextlib
import gc
import socket
import sys
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import anyio
import uvicorn
from _server_helpers import CALLEE, error_text, read_json, rig
from mcp import Client

from convoai_mcp.server.app import ConvoAIServer
from convoai_mcp.server.transports.security import HttpSecurity, secure_asgi_app

SESSIONS = 10
ROUNDS = 10
CALLS_PER_ROUND = 10
LIMITS = {
    "CONVOAI_MAX_AGENTS": "1000",
    "CONVOAI_MAX_CALLS": "1000",
    "CONVOAI_RATE_PER_MINUTE": "100000",
    "CONVOAI_CONFIRM_BY_ARGUMENT": "true",  # headless sessions: confirm=true counts
}
"""The safety limits raised above the load (the defaults allow 5 agents and 10 starts/min)."""
MAX_GROWTH_BYTES = 32 * 1024 * 1024
"""Generous: the load keeps ~90 agents' records (emulator, server, archive), well under 2 MB; a
leak of 40 kB per call would exceed it."""


@contextlib.asynccontextmanager
async def serve_http(server: ConvoAIServer) -> AsyncIterator[str]:
    """Serve ``server`` over streamable HTTP on a free loopback port; yield the MCP URL."""
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.bind(("127.0.0.1", 0))
    port = sock.getsockname()[1]
    security = HttpSecurity.from_settings(server.runtime.settings, host="127.0.0.1", port=port)
    app = server.streamable_http_app(
        host="127.0.0.1",
        transport_security=security.transport_security,
        max_request_body_size=security.max_body_bytes,
    )
    config = uvicorn.Config(
        secure_asgi_app(app, security),
        log_config=None,
        log_level="warning",
        access_log=False,
        timeout_graceful_shutdown=2,
    )
    http = uvicorn.Server(config)
    async with anyio.create_task_group() as tg:
        tg.start_soon(http.serve, [sock])
        while not http.started:  # noqa: ASYNC110 (uvicorn offers no event to wait on)
            await anyio.sleep(0.01)
        try:
            yield f"http://127.0.0.1:{port}/mcp"
        finally:
            http.should_exit = True
    sock.close()


def rss_bytes() -> int:
    """Resident set size of this process (Linux: current; elsewhere: the peak)."""
    with contextlib.suppress(OSError):
        with open("/proc/self/status", encoding="ascii") as status:
            for line in status:
                if line.startswith("VmRSS:"):
                    return int(line.split()[1]) * 1024
    import resource

    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return peak if sys.platform == "darwin" else peak * 1024


class Tally:
    """What the sessions did."""

    def __init__(self) -> None:
        self.calls = 0
        self.failures: list[str] = []
        self.by_tool: dict[str, int] = {}


async def call(client: Client, tally: Tally, tool: str, args: dict[str, Any]) -> dict[str, Any]:
    result = await client.call_tool(tool, args)
    tally.calls += 1
    tally.by_tool[tool] = tally.by_tool.get(tool, 0) + 1
    if result.is_error:
        tally.failures.append(f"{tool}: {error_text(result)}")
        return {}
    data: dict[str, Any] = result.structured_content or {}
    return data


async def one_round(client: Client, tally: Tally, session: int, round_no: int) -> None:
    """Ten mixed calls: an agent's life (start, steer, inspect, stop) and reads; every other
    round a phone call replaces two of the reads."""
    name = f"load-{session}-{round_no}"
    started = await call(client, tally, "start_agent", {"channel": f"room-{name}", "name": name})
    agent_id = started.get("agent_id", "missing")
    await call(client, tally, "speak", {"agent_id": agent_id, "text": f"Round {round_no}."})
    await call(client, tally, "think", {"agent_id": agent_id, "text": "Say something kind."})
    await call(client, tally, "interrupt", {"agent_id": agent_id})
    await call(client, tally, "get_agent", {"agent_id": agent_id})
    await call(client, tally, "update_agent", {"agent_id": agent_id, "system_prompt": "Be brief."})
    await call(client, tally, "list_agents", {"limit": 5})
    if round_no % 2:
        placed = await call(client, tally, "call", {"to_number": CALLEE, "confirm": True})
        await call(client, tally, "hangup", {"agent_id": placed.get("agent_id", "missing")})
    else:
        await call(client, tally, "mint_token", {"channel": f"room-{name}"})
        await call(client, tally, "list_numbers", {})
    await call(client, tally, "stop_agent", {"agent_id": agent_id})


async def test_1000_mixed_calls_from_10_sessions_over_http_with_bounded_memory(
    tmp_path: Path,
) -> None:
    tally = Tally()
    async with (
        rig(tmp_path, LIMITS, answer_delay=0.0) as r,
        serve_http(r.server) as url,
        contextlib.AsyncExitStack() as stack,
    ):
        clients = [await stack.enter_async_context(Client(url)) for _ in range(SESSIONS)]

        async def rounds(first: int, last: int) -> None:
            async def session(index: int, client: Client) -> None:
                for round_no in range(first, last):
                    await one_round(client, tally, index, round_no)

            async with anyio.create_task_group() as tg:
                for index, client in enumerate(clients):
                    tg.start_soon(session, index, client)

        await rounds(0, 1)  # warm-up: imports, pools, caches, the archive's database
        gc.collect()
        before = rss_bytes()
        await rounds(1, ROUNDS)
        gc.collect()
        grown = rss_bytes() - before
        # every session still works, and an agent's history survives its stop
        last = f"load-0-{ROUNDS - 1}"
        ids = [a.agent_id for a in r.server.runtime.agents.values() if a.name == last]
        assert len(ids) == 1, tally.failures[:5]
        history = await read_json(clients[0], f"convoai://agents/{ids[0]}/history")

    assert tally.failures == []
    assert tally.calls == SESSIONS * ROUNDS * CALLS_PER_ROUND == 1000
    assert tally.by_tool["start_agent"] == tally.by_tool["stop_agent"] == SESSIONS * ROUNDS
    assert tally.by_tool["call"] == tally.by_tool["hangup"] == SESSIONS * ROUNDS // 2
    assert history["source"] == "archive"
    assert f"Round {ROUNDS - 1}." in [e["untrusted_text"] for e in history["entries"]]
    with r.sandbox.state.lock:
        names = [a.config.name for a in r.sandbox.state.agents.values()]
    assert len(names) == len(set(names)), "an agent was created twice"
    assert grown < MAX_GROWTH_BYTES, f"{grown / 1e6:.1f} MB still allocated after the load"
