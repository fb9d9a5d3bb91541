"""One transcript watcher per agent (server/watchers.py), against the real emulator: it feeds the
archive and the subscribers, is bounded, never leaks, and frees the slots of agents that end on
their own, however many there are."""

from __future__ import annotations

import asyncio
import contextlib
import functools
import socket
import warnings
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import anyio
import anyio.lowlevel
from _server_helpers import Rig, error_text, rig
from mcp import Client
from mcp.client.sse import sse_client
from mcp.shared.exceptions import MCPDeprecationWarning

from convoai_mcp.builders import AgentSpec
from convoai_mcp.server.watchers import Watcher, is_terminal

PRESETS = ["deepgram_nova_3", "openai_gpt_4o_mini", "minimax_speech_2_6_turbo"]


async def start(client: Client, channel: str) -> str:
    result = await client.call_tool("start_agent", {"channel": channel})
    assert not result.is_error, error_text(result)
    assert result.structured_content is not None
    agent_id: str = result.structured_content["agent_id"]
    return agent_id


def test_stopping_is_not_terminal() -> None:
    assert [
        s
        for s in ("STOPPING", "STOPPED", "FAILED", "RUNNING", "stopped", None, "x")
        if is_terminal(s)
    ] == [
        "STOPPED",
        "FAILED",
        "stopped",
    ]


async def test_one_watcher_feeds_the_archive_and_the_subscribers(tmp_path: Path) -> None:
    """Subscribing to an agent started here adds no second poller: the archive's watcher calls
    the subscriber back, and what it read is archived."""
    async with (
        rig(tmp_path) as r,
        Client(r.server, mode="legacy") as client,
    ):
        agent_id = await start(client, "one-watcher")
        guard = r.server.runtime.guard
        watcher = guard.watcher(agent_id)
        assert watcher is not None and watcher.counted
        uri = f"convoai://agents/{agent_id}/history"
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", MCPDeprecationWarning)
            await client.subscribe_resource(uri)
        assert r.server.subscriptions.watcher(agent_id) is watcher
        assert len(guard.watchers) == 1 and watcher.subscribers == 1
        seen: list[int] = []

        async def collect() -> None:
            async for w in watcher.changes():
                seen.append(w.version)
                if any(
                    e.content == "Both hear it" for e in (w.latest.contents if w.latest else [])
                ):
                    return

        with anyio.fail_after(5):
            async with anyio.create_task_group() as tg:
                tg.start_soon(collect)
                await anyio.lowlevel.checkpoint()
                await client.call_tool("speak", {"agent_id": agent_id, "text": "Both hear it"})
        assert seen and seen == sorted(seen)
        assert guard.archive is not None
        archived = await guard.archive.load_history(agent_id)
        assert archived is not None
        assert "Both hear it" in [c["content"] for c in archived["contents"]]


async def test_every_agent_that_holds_a_slot_is_watched_past_64(tmp_path: Path) -> None:
    """D9: the 65th agent and beyond used to go unwatched, so when they ended on their own their
    slots were never freed. Every counted agent now has a watcher; when all end behind the
    server's back, every slot comes free."""
    count = 70
    async with (
        rig(tmp_path, {"CONVOAI_MAX_AGENTS": str(count), "CONVOAI_RATE_PER_MINUTE": "1000"}) as r,
        Client(r.server) as client,
    ):
        rt = r.server.runtime
        ids = [await start(client, f"room-{n}") for n in range(count)]
        watchers = [rt.guard.watcher(a) for a in ids]
        assert all(isinstance(w, Watcher) and w.counted for w in watchers)
        refused = await client.call_tool("start_agent", {"channel": "one-too-many"})
        assert "limit reached" in error_text(refused)
        rt.guard.poll_interval = 0.01
        for agent_id in ids:  # they end without this server (idle timeout, console)
            await rt.client.agents.stop(agent_id)
        with anyio.fail_after(30):
            for w in watchers:
                assert w is not None
                await w.task
        assert rt.guard.limiter.running() == {}
        assert all(rt.agents[a].ended for a in ids)
        await start(client, "room-after")


async def test_an_unwatched_slot_is_rechecked_before_a_refusal(tmp_path: Path) -> None:
    """D9, the other half: an agent no longer watched (past the watch limit) that ended on its
    own does not keep its slot: admission asks the service before refusing."""
    async with (
        rig(tmp_path, {"CONVOAI_MAX_AGENTS": "1"}) as r,
        Client(r.server) as client,
    ):
        rt = r.server.runtime
        agent_id = await start(client, "expired-watch")
        watcher = rt.guard.watcher(agent_id)
        assert watcher is not None
        watcher.stop()  # as when the watch limit is reached
        assert rt.guard.watcher(agent_id) is None
        refused = await client.call_tool("start_agent", {"channel": "second"})
        assert "limit reached" in error_text(refused)  # it still runs: the slot is right
        await rt.client.agents.stop(agent_id)  # now it ends behind the server's back
        await start(client, "second")
        assert rt.agents[agent_id].ended


async def test_uncounted_watchers_are_bounded(tmp_path: Path) -> None:
    """Subscribers may ask for agents this server did not start: those watchers are capped
    and the subscription past the cap is refused with a reason."""
    async with (
        rig(tmp_path) as r,
        Client(r.server, mode="legacy") as client,
    ):
        guard = r.server.runtime.guard
        guard.watchers.max_uncounted = 2
        ids = [
            (
                await r.server.runtime.client.agents.launch(
                    AgentSpec(channel=f"else-{n}", presets=PRESETS)
                )
            ).agent_id
            for n in range(3)
        ]
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", MCPDeprecationWarning)
            for agent_id in ids[:2]:
                await client.subscribe_resource(f"convoai://agents/{agent_id}/history")
            try:
                await client.subscribe_resource(f"convoai://agents/{ids[2]}/history")
            except Exception as exc:
                assert "watched already" in str(exc)
            else:
                raise AssertionError("the third subscription was accepted")
            await client.unsubscribe_resource(f"convoai://agents/{ids[0]}/history")
            await client.subscribe_resource(f"convoai://agents/{ids[2]}/history")
        assert guard.watchers.uncounted() == 2


# ------------------------------------------------------------------ over real HTTP transports


@contextlib.asynccontextmanager
async def served(r: Rig, transport: str) -> AsyncIterator[str]:
    """Serve ``r.server`` over ``transport`` ("sse" or "streamable-http") with uvicorn on a
    free loopback port, in process (so the test can look at the runtime); yields the URL."""
    import uvicorn

    if transport == "sse":
        app, path = r.server.sse_app(host="127.0.0.1"), "/sse"
    else:
        app, path = r.server.streamable_http_app(host="127.0.0.1"), "/mcp"
    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    sock.listen(16)  # clients may connect at once; uvicorn accepts once it is ready
    port = sock.getsockname()[1]
    server = uvicorn.Server(uvicorn.Config(app, log_level="warning", lifespan="on"))
    async with anyio.create_task_group() as tg:
        tg.start_soon(functools.partial(server.serve, sockets=[sock]))
        try:
            yield f"http://127.0.0.1:{port}{path}"
        finally:
            server.should_exit = True
    sock.close()


async def test_an_ended_http_session_drops_its_subscriptions(tmp_path: Path) -> None:
    """D7: a streamable-HTTP session subscribes, then ends: its subscriptions go with it, and
    the agent (started elsewhere, so watched only for that subscriber) is no longer polled."""
    async with rig(tmp_path) as r, served(r, "streamable-http") as url:
        agent_id = (
            await r.server.runtime.client.agents.launch(AgentSpec(channel="d7", presets=PRESETS))
        ).agent_id
        uri = f"convoai://agents/{agent_id}/history"
        subscriptions = r.server.subscriptions
        async with Client(url, mode="legacy") as client:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore", MCPDeprecationWarning)
                await client.subscribe_resource(uri)
            assert subscriptions.subscribers(uri) == 1
            watcher = subscriptions.watcher(agent_id)
            assert watcher is not None and watcher.running
        with anyio.fail_after(10):
            await asyncio.wait({watcher.task})  # polling stops with the session
        assert subscriptions.subscribers() == 0
        assert subscriptions.watcher(agent_id) is None


async def test_limits_and_watchers_outlive_sse_connections(tmp_path: Path) -> None:
    """D3: with max 1 agent, connect over SSE, start, disconnect, reconnect, start: refused
    (the limiter used to be thrown away with the last connection), and the running agent's
    watcher is still alive."""
    async with (
        rig(tmp_path, {"CONVOAI_MAX_AGENTS": "1"}) as r,
        served(r, "sse") as url,
    ):
        transport: Any = sse_client(url)
        async with Client(transport) as client:
            agent_id = await start(client, "sse-one")
        watcher = r.server.runtime.guard.watcher(agent_id)
        assert watcher is not None
        transport = sse_client(url)
        async with Client(transport) as client:
            refused = await client.call_tool("start_agent", {"channel": "sse-two"})
            assert "limit reached" in error_text(refused)
            assert r.server.runtime.guard.watcher(agent_id) is watcher
            assert watcher.running
