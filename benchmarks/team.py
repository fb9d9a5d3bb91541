"""Figure 7, a team deployment: PostgreSQL state against SQLite, and one replica against two.

* ``start_agent`` and ``speak`` latency through streamable HTTP, a server keeping its state in
  PostgreSQL (``CONVOAI_DATABASE_URL``, a throwaway database) next to the same server on SQLite,
  calls taking turns (shuffled order) so that drift in the machine's load hits both alike;
  target: PostgreSQL ``start_agent`` p50 at most 1.3x SQLite's.
* Throughput of ``speak`` (``in_flight`` calls in flight) through one replica, then through two
  replicas on the same database (the calls split between them), rounds alternating.

The PostgreSQL server is ``--database-url`` (``python benchmarks/run.py --database-url URL``) or
``CONVOAI_TEST_DATABASE_URL``: a maintenance URL (e.g. ``postgresql://postgres@127.0.0.1:5432/
postgres``) on which a database is created and dropped again. Without one the figure is skipped
with a message (``met`` is ``None``, no rows). Everything runs on this machine: the emulator, the
servers, PostgreSQL and the client share its cores, so two replicas cannot show more than what is
left of them.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import random
import statistics
import time
import uuid
from collections.abc import Awaitable, Callable, Iterator
from contextlib import AsyncExitStack
from pathlib import Path
from typing import Any, Protocol
from urllib.parse import urlsplit

from mcp import Client

from benchmarks._harness import Figure, Row, emulator, spawn_http_server, summary

__all__ = [
    "DATABASE_URL_ENV",
    "TARGET_START_RATIO",
    "TeamSizes",
    "database_url",
    "team",
    "use_database_url",
]

DATABASE_URL_ENV = "CONVOAI_TEST_DATABASE_URL"
TARGET_START_RATIO = 1.3
_URL: list[str] = []
"""Set by ``run.py --database-url`` (:func:`use_database_url`)."""


class TeamSizes(Protocol):
    """The sizes this figure reads (``benchmarks.suite.Sizes`` has them)."""

    @property
    def team_calls(self) -> int: ...
    @property
    def team_throughput_calls(self) -> int: ...
    @property
    def team_in_flight(self) -> int: ...
    @property
    def team_rounds(self) -> int: ...


def use_database_url(url: str) -> None:
    """The PostgreSQL server to use (``--database-url``), before the environment's."""
    _URL[:] = [url]


def database_url() -> str | None:
    """``--database-url``, else ``CONVOAI_TEST_DATABASE_URL``, else ``None``."""
    if _URL:
        return _URL[0]
    return os.environ.get(DATABASE_URL_ENV, "").strip() or None


@contextlib.contextmanager
def _throwaway(url: str) -> Iterator[str]:
    import psycopg

    name = f"convoai_bench_{uuid.uuid4().hex[:12]}"
    with psycopg.connect(url, autocommit=True, connect_timeout=10) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')
    try:
        yield urlsplit(url)._replace(path=f"/{name}").geturl()
    finally:
        with psycopg.connect(url, autocommit=True) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


async def _tool(client: Client, name: str, arguments: dict[str, Any]) -> dict[str, Any]:
    result = await client.call_tool(name, arguments)
    if result.is_error or result.structured_content is None:
        text = " ".join(getattr(block, "text", "") for block in result.content)
        raise RuntimeError(f"{name} failed: {text}")
    content: dict[str, Any] = result.structured_content
    return content


def _skipped(reason: str, started: float) -> Figure:
    return Figure(
        key="team",
        title="7. Team deployment: PostgreSQL state, replicas",
        rows=[],
        target=f"PostgreSQL start_agent p50 <= {TARGET_START_RATIO}x SQLite",
        met=None,
        notes=[f"skipped: {reason}"],
        seconds=time.perf_counter() - started,
    )


async def _burst(calls: list[Callable[[], Awaitable[None]]], total: int, in_flight: int) -> float:
    """Seconds for ``total`` calls, ``in_flight`` at a time, taking ``calls`` in turn."""
    queue = iter(range(total))

    async def worker() -> None:
        for i in queue:
            await calls[i % len(calls)]()

    began = time.perf_counter()
    await asyncio.gather(*(worker() for _ in range(in_flight)))
    return time.perf_counter() - began


async def team(sizes: TeamSizes) -> Figure:
    """The figure of the module docstring (skipped without a PostgreSQL URL)."""
    started = time.perf_counter()
    url = database_url()
    if url is None:
        return _skipped(
            f"no PostgreSQL server: pass --database-url URL or set {DATABASE_URL_ENV}", started
        )
    try:
        import psycopg  # noqa: F401
    except ImportError:
        return _skipped("psycopg is not installed (pip install -e '.[postgres]')", started)
    import tempfile

    with tempfile.TemporaryDirectory() as tmp_dir, _throwaway(url) as db_url:
        tmp = Path(tmp_dir)
        async with AsyncExitStack() as stack:
            emu = await stack.enter_async_context(emulator())
            # no limit in the way of the measurement (the limits are not what is measured)
            open_limits = {"CONVOAI_RATE_PER_MINUTE": "1000000", "CONVOAI_MAX_AGENTS": "1000"}
            sqlite_env = {**emu.api_env(tmp / "sqlite.sqlite3"), **open_limits}
            pg_env = {**emu.api_env(), "CONVOAI_DATABASE_URL": db_url, **open_limits}
            urls = {}
            for name, env in (("sqlite", sqlite_env), ("postgres", pg_env), ("replica2", pg_env)):
                urls[name], _ = await stack.enter_async_context(spawn_http_server(env))
            clients = {
                name: await stack.enter_async_context(Client(address))
                for name, address in urls.items()
            }
            latency = await _latency(clients["sqlite"], clients["postgres"], sizes.team_calls)
            rates = await _throughput(clients["postgres"], clients["replica2"], sizes)
    return _figure(latency, rates, started)


async def _latency(sqlite: Client, postgres: Client, calls: int) -> dict[str, list[float]]:
    """Milliseconds of start_agent and speak on each store, calls taking turns."""
    order = random.Random(20261201)
    samples: dict[str, list[float]] = {
        f"{tool}_{store}": [] for tool in ("start", "speak") for store in ("sqlite", "postgres")
    }
    servers = {"sqlite": sqlite, "postgres": postgres}
    for store, client in servers.items():  # warm up: pools, caches, the first migration
        agent = await _tool(client, "start_agent", {"channel": f"warm-{store}"})
        await _tool(client, "speak", {"agent_id": agent["agent_id"], "text": "warm"})
        await _tool(client, "stop_agent", {"agent_id": agent["agent_id"]})
    for i in range(calls):
        stores = list(servers)
        order.shuffle(stores)
        for store in stores:
            client = servers[store]
            began = time.perf_counter()
            agent = await _tool(client, "start_agent", {"channel": f"bench-{store}-{i}"})
            samples[f"start_{store}"].append((time.perf_counter() - began) * 1000)
            began = time.perf_counter()
            await _tool(client, "speak", {"agent_id": agent["agent_id"], "text": f"turn {i}"})
            samples[f"speak_{store}"].append((time.perf_counter() - began) * 1000)
            await _tool(client, "stop_agent", {"agent_id": agent["agent_id"]})
    return samples


async def _throughput(first: Client, second: Client, sizes: TeamSizes) -> dict[str, list[float]]:
    """speak calls per second through one replica, then through both, rounds alternating."""
    agents = []
    for client in (first, second):
        agent = await _tool(client, "start_agent", {"channel": "bench-replicas"})
        agents.append(str(agent["agent_id"]))

    def speaker(client: Client, agent_id: str) -> Callable[[], Awaitable[None]]:
        async def call() -> None:
            await _tool(client, "speak", {"agent_id": agent_id, "text": "throughput"})

        return call

    one = [speaker(first, agents[0])]
    two = [speaker(first, agents[0]), speaker(second, agents[1])]
    total, in_flight = sizes.team_throughput_calls, sizes.team_in_flight
    await _burst(two, in_flight * 2, in_flight)  # warm both sessions to this concurrency
    rates: dict[str, list[float]] = {"one": [], "two": []}
    for round_index in range(sizes.team_rounds):
        for mode in ("one", "two") if round_index % 2 == 0 else ("two", "one"):
            seconds = await _burst(one if mode == "one" else two, total, in_flight)
            rates[mode].append(total / seconds)
    for client, agent_id in zip((first, second), agents, strict=True):
        await _tool(client, "stop_agent", {"agent_id": agent_id})
    return rates


def _figure(latency: dict[str, list[float]], rates: dict[str, list[float]], began: float) -> Figure:
    stats = {name: summary(values) for name, values in latency.items()}
    rows = [
        Row.of(
            "start_agent p50, PostgreSQL state",
            stats["start_postgres"]["p50"],
            stats["start_sqlite"]["p50"],
            "ms",
            baseline_label="SQLite state p50",
        ),
        Row.of(
            "start_agent p90, PostgreSQL state",
            stats["start_postgres"]["p90"],
            stats["start_sqlite"]["p90"],
            "ms",
            baseline_label="SQLite state p90",
        ),
        Row.of(
            "speak p50, PostgreSQL state",
            stats["speak_postgres"]["p50"],
            stats["speak_sqlite"]["p50"],
            "ms",
            baseline_label="SQLite state p50",
        ),
        Row.of(
            "speak throughput, two replicas on one database",
            statistics.median(rates["two"]),
            statistics.median(rates["one"]),
            "calls/s",
            better="higher",
            baseline_label="one replica",
        ),
    ]
    return Figure(
        key="team",
        title="7. Team deployment: PostgreSQL state vs SQLite, two replicas vs one (HTTP)",
        rows=rows,
        target=f"PostgreSQL start_agent p50 <= {TARGET_START_RATIO}x SQLite",
        met=rows[0].ratio <= TARGET_START_RATIO,
        details={"latency_ms": stats, "calls_per_s": rates},
        seconds=time.perf_counter() - began,
    )
