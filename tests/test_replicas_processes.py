"""Two real server processes (replicas: ``python -m convoai_mcp --transport streamable-http``)
on one throwaway PostgreSQL database and one emulator, driven over streamable HTTP: they share
the limits, the events and the watching of agents."""

from __future__ import annotations

import asyncio
import re
import subprocess
import sys
import warnings
from collections.abc import AsyncIterator, Mapping
from contextlib import AsyncExitStack, asynccontextmanager

import anyio
import psycopg
import pytest
from _server_helpers import CALLEE, error_text, subprocess_env
from anyio.abc import Process
from mcp import Client
from mcp.shared.exceptions import MCPDeprecationWarning
from mcp.shared.subscriptions import ResourceUpdated
from mcp_types import ResourceUpdatedNotification

from convoai_mcp.sandbox import DEMO_CREDENTIALS, Sandbox
from convoai_mcp.sandbox.environment import SANDBOX_PRESETS

pytestmark = pytest.mark.slow


def replica_env(base_url: str, database_url: str, **extra: str) -> dict[str, str]:
    creds = DEMO_CREDENTIALS
    return subprocess_env(
        AGORA_APP_ID=creds.app_id,
        AGORA_APP_CERTIFICATE=creds.app_certificate,
        AGORA_CUSTOMER_ID=creds.customer_id,
        AGORA_CUSTOMER_SECRET=creds.customer_secret,
        CONVOAI_BASE_URL=base_url,
        CONVOAI_EMULATOR="on",
        CONVOAI_PRESETS=",".join(SANDBOX_PRESETS),
        CONVOAI_DATABASE_URL=database_url,
        CONVOAI_CALL_ALLOWLIST=CALLEE,
        CONVOAI_CONFIRM_BY_ARGUMENT="true",
        **extra,
    )


@asynccontextmanager
async def replica(env: Mapping[str, str]) -> AsyncIterator[str]:
    """One server process on a free port; yields its MCP URL (from its banner)."""
    command = [sys.executable, "-m", "convoai_mcp", "--transport", "streamable-http", "--port", "0"]
    process: Process = await anyio.open_process(
        command, env=dict(env), stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL
    )
    try:
        assert process.stderr is not None
        seen = ""
        with anyio.fail_after(60):
            while (match := re.search(r"at (http://\S+?) \(", seen)) is None:
                try:
                    chunk = await process.stderr.receive()
                except anyio.EndOfStream:
                    pytest.fail(f"the replica exited: {seen}")
                seen += chunk.decode()
        yield match.group(1)
    finally:
        process.terminate()
        with anyio.fail_after(20):
            await process.wait()
        await process.aclose()


@asynccontextmanager
async def deployment(
    postgres_url: str, **extra: str
) -> AsyncIterator[tuple[Sandbox, tuple[str, str]]]:
    """The emulator and two replicas started at once (they migrate the schema together)."""
    sandbox = Sandbox(DEMO_CREDENTIALS, answer_delay=0.05)
    async with sandbox.serve("127.0.0.1", 0) as base_url, AsyncExitStack() as stack:
        env = replica_env(base_url, postgres_url, **extra)
        urls = await asyncio.gather(*(stack.enter_async_context(replica(env)) for _ in "ab"))
        yield sandbox, (urls[0], urls[1])


def running(sandbox: Sandbox) -> list[str]:
    """The agents on the emulator that have not been stopped."""
    now = sandbox.state.now()
    return [
        agent_id
        for agent_id, agent in sandbox.state.agents.items()
        if agent.status(now) not in ("STOPPING", "STOPPED", "FAILED")
    ]


async def test_twenty_parallel_starts_on_two_replicas_with_a_limit_of_three(
    postgres_url: str,
) -> None:
    async with (
        deployment(postgres_url, CONVOAI_MAX_AGENTS="3", CONVOAI_RATE_PER_MINUTE="100") as (
            sandbox,
            (url_a, url_b),
        ),
        Client(url_a) as on_a,
        Client(url_b) as on_b,
    ):
        clients = (on_a, on_b)
        results = await asyncio.gather(
            *(clients[i % 2].call_tool("start_agent", {"channel": f"crowd-{i}"}) for i in range(20))
        )
        started = [r for r in results if not r.is_error]
        refused = [error_text(r) for r in results if r.is_error]
        assert len(started) == 3, refused
        assert all("of 3 concurrent agents" in text for text in refused), refused
        assert len(running(sandbox)) == 3
        assert len(sandbox.state.agents) == 3  # nothing was started and stopped again
        # stopping one through the other replica frees its slot for either
        first = started[0].structured_content
        assert first is not None
        stopped = await on_b.call_tool("stop_agent", {"agent_id": first["agent_id"]})
        assert not stopped.is_error, error_text(stopped)
        with anyio.fail_after(20):
            while (again := await on_a.call_tool("start_agent", {"channel": "again"})).is_error:
                assert "of 3 concurrent agents" in error_text(again)  # the free not written yet
                await asyncio.sleep(0.1)
        assert len(running(sandbox)) == 3


async def test_a_subscriber_on_one_replica_hears_of_a_speak_through_the_other(
    postgres_url: str,
) -> None:
    """A listen stream (2026-07-28) and a resources/subscribe (handshake era) on replica A both
    hear of a speak made through replica B; B, which started the agent, is the one replica that
    watches it (its lease)."""
    legacy_updates: list[str] = []
    got_legacy = anyio.Event()

    async def on_message(message: object) -> None:
        if isinstance(message, ResourceUpdatedNotification):
            legacy_updates.append(message.params.uri)
            got_legacy.set()

    async with (
        deployment(postgres_url) as (_, (url_a, url_b)),
        Client(url_a) as on_a,
        Client(url_a, mode="legacy", message_handler=on_message) as legacy_a,
        Client(url_b) as on_b,
    ):
        started = await on_b.call_tool("start_agent", {"channel": "across"})
        assert started.structured_content is not None, error_text(started)
        agent_id = started.structured_content["agent_id"]
        uri = f"convoai://agents/{agent_id}/history"
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", MCPDeprecationWarning)
            await legacy_a.subscribe_resource(uri)
        async with on_a.listen(resource_subscriptions=[uri]) as stream:
            spoken = await on_b.call_tool("speak", {"agent_id": agent_id, "text": "Hello A"})
            assert not spoken.is_error, error_text(spoken)
            with anyio.fail_after(30):
                event = await stream.__anext__()
                await got_legacy.wait()
        assert event == ResourceUpdated(uri=uri)
        assert uri in legacy_updates
        with psycopg.connect(postgres_url) as conn:
            leases = conn.execute(
                "SELECT owner FROM watch_leases WHERE agent_id = %s", (agent_id,)
            ).fetchall()
            booked = conn.execute(
                "SELECT replica FROM limit_slots WHERE agent_id = %s", (agent_id,)
            ).fetchall()
        assert len(leases) == 1 and len(booked) == 1
        assert leases[0][0] == booked[0][0]  # watched by B, which started it; A follows
