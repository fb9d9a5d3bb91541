"""State shared by replicas through a real PostgreSQL (convoai_mcp/server/replicas.py): limits
booked transactionally, watcher leases, the LISTEN / NOTIFY event bus; and two servers in this
process (two runtimes, two pools, two buses) on one emulator and one database.

The two-process version (real ``convoai-mcp`` servers over streamable HTTP) is
tests/test_replicas_processes.py."""

from __future__ import annotations

import asyncio
import warnings
from collections.abc import AsyncIterator, Callable, Mapping
from contextlib import asynccontextmanager
from typing import Any

import anyio
import psycopg
import pytest
from _server_helpers import CALLEE, error_text
from mcp import Client
from mcp.shared.exceptions import MCPDeprecationWarning
from mcp.shared.subscriptions import ResourceUpdated, ServerEvent, ToolsListChanged
from mcp_types import ResourceUpdatedNotification

from convoai_mcp.archive import postgres
from convoai_mcp.config import Settings
from convoai_mcp.policy import Policy, PolicyError, Reservation
from convoai_mcp.sandbox import DEMO_CREDENTIALS, Sandbox
from convoai_mcp.server.app import ConvoAIServer, build_server
from convoai_mcp.server.replicas import Database, PostgresBus, PostgresLimits, WatchLeases
from convoai_mcp.server.sandbox_mode import sandbox_settings


class Clock:
    """An epoch clock the test moves."""

    def __init__(self, now: float = 1_800_000_000.0) -> None:
        self.now = now

    def __call__(self) -> float:
        return self.now


def count(url: str, sql: str, *args: Any) -> int:
    with psycopg.connect(url) as conn:
        row = conn.execute(sql, args).fetchone()
    assert row is not None
    return int(row[0])


async def until(condition: Callable[[], bool], seconds: float = 10.0) -> None:
    """Return once ``condition()`` holds (checked on every loop turn); fail after ``seconds``."""
    with anyio.fail_after(seconds):
        while not condition():  # noqa: ASYNC110 (counters of other tasks: no event to wait on)
            await asyncio.sleep(0.01)


# -- the limits -----------------------------------------------------------------------------


async def test_two_pools_never_book_more_than_the_limit(postgres_url: str) -> None:
    """40 concurrent reservations from two separate limiters (two replicas' pools) with a
    limit of 3: exactly 3 are booked, the others refused with the limit's message."""
    policy = Policy(max_agents=3, rate_per_minute=1000)
    dbs = [Database(postgres_url, max_size=8), Database(postgres_url, max_size=8)]
    limits = [PostgresLimits(db, policy) for db in dbs]
    try:

        async def one(i: int) -> bool:
            try:
                await limits[i % 2].reserve(Reservation("agent", 0.0))
            except PolicyError as exc:
                assert "3 of 3 concurrent agents" in exc.message
                assert "every replica" in exc.message
                return False
            return True

        results = await asyncio.gather(*(one(i) for i in range(40)))
        assert sum(results) == 3
        assert count(postgres_url, "SELECT count(*) FROM limit_slots") == 3
        replicas = count(postgres_url, "SELECT count(DISTINCT replica) FROM limit_slots")
        assert replicas in (1, 2)
    finally:
        for limit in limits:
            await limit.aclose()
        for db in dbs:
            await db.aclose()


async def test_the_rate_is_shared_too(postgres_url: str) -> None:
    """The per-minute rate counts every replica's starts; a minute later there is room again."""
    clock = Clock()
    policy = Policy(max_agents=100, max_calls=100, rate_per_minute=5)
    dbs = [Database(postgres_url, clock=clock), Database(postgres_url, clock=clock)]
    limits = [PostgresLimits(db, policy) for db in dbs]
    try:
        results = await asyncio.gather(
            *(limits[i % 2].reserve(Reservation("call", 0.0)) for i in range(12)),
            return_exceptions=True,
        )
        refused = [r for r in results if isinstance(r, PolicyError)]
        assert len(refused) == 7
        assert "5 start_agent / call requests per minute" in refused[0].message
        with pytest.raises(PolicyError, match="rate limit"):
            await limits[0].check("agent")
        clock.now += 61
        await limits[1].reserve(Reservation("agent", 0.0))
    finally:
        for limit in limits:
            await limit.aclose()
        for db in dbs:
            await db.aclose()


async def test_slots_are_bound_freed_and_expire(postgres_url: str) -> None:
    clock = Clock()
    db = Database(postgres_url, clock=clock)
    limits = PostgresLimits(db, Policy(max_agents=2, rate_per_minute=100), reservation_ttl=30)
    try:
        first, second = Reservation("agent", 0.0), Reservation("agent", 0.0)
        await limits.reserve(first)
        await limits.reserve(second)
        with pytest.raises(PolicyError, match="limit reached"):
            await limits.check("agent")
        limits.bind("a1", first, kind="agent")
        limits.release(second)
        limits.release(second)  # idempotent
        await limits.flush()
        assert count(postgres_url, "SELECT count(*) FROM limit_slots WHERE agent_id = 'a1'") == 1
        await limits.check("agent")
        third = Reservation("agent", 0.0)
        await limits.reserve(third)  # never bound nor released: the start never reported back
        clock.now += 31
        await limits.check("agent")  # the lost reservation expired
        limits.ended("a1")
        await limits.flush()
        assert count(postgres_url, "SELECT count(*) FROM limit_slots") == 0
    finally:
        await limits.aclose()
        await db.aclose()


async def test_a_dead_replicas_slots_become_orphans_another_adopts(postgres_url: str) -> None:
    clock = Clock()
    policy = Policy(max_agents=1, rate_per_minute=100)
    dead_db, live_db = Database(postgres_url, clock=clock), Database(postgres_url, clock=clock)
    dead, live = PostgresLimits(dead_db, policy, lease=60), PostgresLimits(live_db, policy)
    try:
        reservation = Reservation("agent", 0.0)
        await dead.reserve(reservation)
        dead.bind("a1", reservation, kind="agent")
        await dead.flush()
        clock.now += 30
        await dead.renew()  # alive: renewed
        clock.now += 40
        assert await live.orphans("agent") == []
        clock.now += 30  # no renewal for 70 s: the replica died
        assert await live.orphans("agent") == ["a1"]
        with pytest.raises(PolicyError):  # an orphan still counts until it is known ended
            await live.check("agent")
        assert await live.adopt("a1") is True
        assert await dead.adopt("a1") is False  # adopted once
        assert await live.orphans("agent") == []
        assert (
            count(
                postgres_url, "SELECT count(*) FROM limit_slots WHERE replica = %s", live_db.replica
            )
            == 1
        )
    finally:
        for limit, db in ((dead, dead_db), (live, live_db)):
            await limit.aclose()
            await db.aclose()


async def test_an_unreachable_database_refuses_the_start(postgres_url: str) -> None:
    db = Database("postgresql://nobody@127.0.0.1:1/none", connect_timeout=1)
    limits = PostgresLimits(db, Policy())
    with pytest.raises(PolicyError) as raised:
        await limits.reserve(Reservation("agent", 0.0))
    assert "nothing was started" in raised.value.message
    assert "127.0.0.1:1/none" in raised.value.message
    assert "CONVOAI_DATABASE_URL" in (raised.value.hint or "")
    await db.aclose()


async def test_a_version_added_later_below_the_current_one_is_still_applied(
    postgres_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Version 4 (replicas) and version 3 (campaigns) were written apart: a database migrated
    to 1, 2, 4 gets 3 once a server knows it."""
    without = tuple(m for m in postgres.MIGRATIONS if m[0] != 3)
    monkeypatch.setattr(postgres, "MIGRATIONS", without)
    async with await psycopg.AsyncConnection.connect(postgres_url) as conn:
        assert await postgres.migrate(conn) == 4
    monkeypatch.setattr(postgres, "MIGRATIONS", (*without, (3, "CREATE TABLE gap_filled (x INT)")))
    async with await psycopg.AsyncConnection.connect(postgres_url) as conn:
        assert await postgres.migrate(conn) == 4
    assert count(postgres_url, "SELECT count(*) FROM gap_filled") == 0
    assert count(postgres_url, "SELECT count(*) FROM schema_version WHERE version = 3") == 1


# -- watcher leases -------------------------------------------------------------------------


async def test_one_lease_per_agent_taken_over_once_expired(postgres_url: str) -> None:
    clock = Clock()
    a = WatchLeases(Database(postgres_url, clock=clock), ttl=15)
    b = WatchLeases(Database(postgres_url, clock=clock), ttl=15)
    try:
        got = await asyncio.gather(*(lease.hold("x") for lease in (a, b, a, b)))
        assert sorted(got) == [False, False, True, True]  # one holder, renewing its own
        holder, other = (a, b) if await a.hold("x") else (b, a)
        assert await holder.owner("x") == holder.db.replica
        clock.now += 10
        assert await holder.hold("x") and not await other.hold("x")  # renewed
        clock.now += 16  # the holder stopped renewing
        assert await other.hold("x")
        assert not await holder.hold("x")
        await other.drop("x")
        assert await other.owner("x") is None
    finally:
        await a.db.aclose()
        await b.db.aclose()


# -- the bus --------------------------------------------------------------------------------


async def test_an_event_published_on_one_bus_reaches_the_other(postgres_url: str) -> None:
    a, b = PostgresBus(postgres_url), PostgresBus(postgres_url)
    seen_a: list[ServerEvent] = []
    seen_b: list[ServerEvent] = []
    try:
        a.subscribe(seen_a.append)
        unsubscribe = b.subscribe(seen_b.append)
        await a.start()
        await b.start()
        event = ResourceUpdated(uri="convoai://agents/x/history")
        await b.publish(event)
        assert seen_b == [event]  # delivered here at once
        await until(lambda: seen_a == [event])
        await a.publish(ToolsListChanged())
        await until(lambda: seen_b == [event, ToolsListChanged()])
        unsubscribe()
        unsubscribe()
        await a.publish(event)
        await until(lambda: b.received == 2)
        assert seen_b == [event, ToolsListChanged()]
        # its own events once each, not echoed back by PostgreSQL
        assert seen_a == [event, ToolsListChanged(), event]
        assert a.received == 1
    finally:
        await a.aclose()
        await b.aclose()


# -- two servers in this process ------------------------------------------------------------


@asynccontextmanager
async def two_replicas(
    postgres_url: str, env: Mapping[str, str] | None = None
) -> AsyncIterator[tuple[Sandbox, list[ConvoAIServer]]]:
    """Two servers (replicas) on one emulator and one database."""
    sandbox = Sandbox(DEMO_CREDENTIALS, answer_delay=0.05)
    environ = {
        "CONVOAI_CALL_ALLOWLIST": CALLEE,
        "CONVOAI_DATABASE_URL": postgres_url,
        "CONVOAI_CONFIRM_BY_ARGUMENT": "true",
        **(env or {}),
    }
    async with sandbox.serve("127.0.0.1", 0) as base_url:
        settings = sandbox_settings(Settings.from_env(environ, require_credentials=False), base_url)
        servers = [build_server(settings, poll_interval=0.02) for _ in range(2)]
        for server in servers:
            server.runtime.guard.poll_interval = 0.02
        try:
            yield sandbox, servers
        finally:
            for server in servers:
                await server.runtime.aclose()


async def test_two_servers_share_the_agent_limit(postgres_url: str) -> None:
    async with (
        two_replicas(postgres_url, {"CONVOAI_MAX_AGENTS": "2"}) as (sandbox, (a, b)),
        Client(a) as on_a,
        Client(b) as on_b,
    ):
        first = await on_a.call_tool("start_agent", {"channel": "shared-1"})
        assert not first.is_error, error_text(first)
        second = await on_b.call_tool("start_agent", {"channel": "shared-2"})
        assert not second.is_error, error_text(second)
        third = await on_a.call_tool("start_agent", {"channel": "shared-3"})
        assert "2 of 2 concurrent agents" in error_text(third)
        assert len(sandbox.state.agents) == 2
        # an agent started on A, stopped through B: its slot is free for everyone
        assert first.structured_content is not None
        stopped = await on_b.call_tool(
            "stop_agent", {"agent_id": first.structured_content["agent_id"]}
        )
        assert not stopped.is_error, error_text(stopped)
        await b.runtime.guard.replicas.limits.flush()  # type: ignore[union-attr]
        fourth = await on_a.call_tool("start_agent", {"channel": "shared-4"})
        assert not fourth.is_error, error_text(fourth)


async def test_only_one_replica_polls_and_the_other_hears_of_changes(postgres_url: str) -> None:
    """The agent started on A is watched (polled) by A only; B's subscriber follows through
    the bus: a speak made through B reaches B's subscriber from A's watcher. When A stops
    watching, B takes over."""
    updates: list[str] = []

    async def on_message(message: object) -> None:
        if isinstance(message, ResourceUpdatedNotification):
            updates.append(message.params.uri)

    async with (
        two_replicas(postgres_url) as (_, (a, b)),
        Client(a) as on_a,
        Client(b, mode="legacy", message_handler=on_message) as on_b,
    ):
        started = await on_a.call_tool("start_agent", {"channel": "leased"})
        assert started.structured_content is not None
        agent_id = started.structured_content["agent_id"]
        watcher_a = a.runtime.guard.watcher(agent_id)
        assert watcher_a is not None
        await until(lambda: watcher_a.polls >= 2)
        uri = f"convoai://agents/{agent_id}/history"
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", MCPDeprecationWarning)
            await on_b.subscribe_resource(uri)
        watcher_b = b.runtime.guard.watcher(agent_id)
        assert watcher_b is not None and watcher_b.following
        polled_b = watcher_b.polls
        before = watcher_a.polls
        await until(lambda: watcher_a.polls >= before + 10)
        assert watcher_b.polls == polled_b  # B read nothing meanwhile: A polls
        assert watcher_a.following is False
        spoken = await on_b.call_tool("speak", {"agent_id": agent_id, "text": "Across replicas"})
        assert not spoken.is_error, error_text(spoken)
        await until(lambda: uri in updates)
        bus_b = b._subscriptions
        assert isinstance(bus_b, PostgresBus) and bus_b.received >= 1  # it came from A
        await until(  # poked: B read the change once
            lambda: (
                watcher_b.latest is not None
                and "Across replicas" in [e.content for e in watcher_b.latest.contents]
            )
        )
        # A stops watching (its lease is dropped): B polls from now on
        a.runtime.guard.watchers.stop(agent_id)
        await until(lambda: not watcher_b.following and watcher_b.polls >= polled_b + 5)


async def test_a_dead_replicas_agent_is_adopted_then_freed_when_it_ends(postgres_url: str) -> None:
    """Replica A started an agent and went away without renewing its slot: at the limit, B
    adopts the orphan (it still runs, so it still counts) and watches it; once it ends, B
    frees its slot and starts another."""
    async with (
        two_replicas(postgres_url, {"CONVOAI_MAX_AGENTS": "1"}) as (sandbox, (a, b)),
        Client(b) as on_b,
    ):
        async with Client(a) as on_a:
            started = await on_a.call_tool("start_agent", {"channel": "orphan"})
        assert started.structured_content is not None, error_text(started)
        agent_id = started.structured_content["agent_id"]
        await a.runtime.aclose()  # A is gone: its agent runs on, its slot stays booked
        with psycopg.connect(postgres_url) as conn:  # ... and A's lease on it lapses
            conn.execute("UPDATE limit_slots SET expires = 0 WHERE agent_id = %s", (agent_id,))
        refused = await on_b.call_tool("start_agent", {"channel": "next"})
        assert "1 of 1 concurrent agents" in error_text(refused)
        watcher = b.runtime.guard.watcher(agent_id)
        assert watcher is not None and watcher.counted  # adopted: B watches it now
        assert agent_id in b.runtime.guard.limiter.running()
        sandbox.state.stop_agent(agent_id)
        await until(lambda: agent_id not in b.runtime.guard.limiter.running())
        await b.runtime.guard.replicas.limits.flush()  # type: ignore[union-attr]
        again = await on_b.call_tool("start_agent", {"channel": "next"})
        assert not again.is_error, error_text(again)


async def test_the_record_of_started_agents_is_shared(postgres_url: str) -> None:
    """An agent started through A is known to B (listed, its channel and uid), and its end
    through B, with why, to A; a third replica started later loads both."""
    async with (
        two_replicas(postgres_url) as (_, (a, b)),
        Client(a) as on_a,
        Client(b) as on_b,
    ):
        started = await on_a.call_tool("start_agent", {"channel": "recorded"})
        assert started.structured_content is not None, error_text(started)
        agent_id = started.structured_content["agent_id"]
        await until(lambda: agent_id in b.runtime.agents)
        copy, original = b.runtime.agents[agent_id], a.runtime.agents[agent_id]
        assert (copy.channel, copy.agent_uid, copy.kind) == (
            original.channel,
            original.agent_uid,
            "agent",
        )
        assert not copy.ended
        listed = [r.uri for r in (await on_b.list_resources()).resources]
        assert f"convoai://agents/{agent_id}/history" in listed
        stopped = await on_b.call_tool("stop_agent", {"agent_id": agent_id})
        assert not stopped.is_error, error_text(stopped)
        await until(lambda: a.runtime.agents[agent_id].ended)
        assert a.runtime.agents[agent_id].end_reason == b.runtime.agents[agent_id].end_reason
        assert a.runtime.agents[agent_id].end_reason is not None
        third = build_server(a.runtime.settings)
        try:
            async with Client(third):
                known = third.runtime.agents.get(agent_id)
                assert known is not None and known.ended
        finally:
            await third.runtime.aclose()
