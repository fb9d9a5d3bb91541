"""The benchmark figures, each measured next to a baseline run in the same process (the
seventh, a team deployment on PostgreSQL, is in benchmarks/team.py).

Every ``async def`` here takes a :class:`Sizes` and returns a :class:`~benchmarks._harness.Figure`.
Measurements of a figure and of its baseline are interleaved (round-robin blocks, rotating order)
so that drift on a busy 2-core machine hits both alike. See benchmarks/README.md.
"""

from __future__ import annotations

import asyncio
import gc
import hashlib
import hmac
import json
import os
import random
import re
import statistics
import struct
import tempfile
import time
from collections.abc import AsyncIterator, Awaitable, Callable, Sequence
from contextlib import AsyncExitStack, asynccontextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
from mcp import Client, StdioServerParameters

from benchmarks._harness import (
    PYTHON,
    REPO,
    Emulator,
    Figure,
    Row,
    black_hole,
    children_of,
    cmdline,
    emulator,
    free_port,
    percentile,
    rss_kib,
    server_env,
    silent_listener,
    spawn_http_server,
    stop_process,
    summary,
)
from benchmarks.floor_server import build_floor
from benchmarks.team import team

__all__ = [
    "FIGURES",
    "Sizes",
    "cold_start",
    "concurrency",
    "failover",
    "memory",
    "token_minting",
    "tool_call_overhead",
]

Call = Callable[[], Awaitable[None]]

SERVICE_DELAY = 0.02
"""Seconds the emulator waits before answering speak in the 'realistic service' rows."""


@dataclass(frozen=True)
class Sizes:
    """How much of everything to do (``full`` for the record, ``quick`` for a look, ``tiny``
    for the smoke test)."""

    latency_calls: int = 400
    concurrency_calls: int = 500
    concurrency_in_flight: int = 50
    concurrency_rounds: int = 3
    cold_runs: int = 8
    import_runs: int = 3
    token_rounds: int = 5
    token_window: float = 0.25
    failover_trials: int = 3
    connect_timeout: float | None = None  # None: the client's configured default
    silent_read_timeout: float = 2.0
    memory_agents: int = 1000
    memory_checkpoint: int = 200
    memory_warmup: int = 50
    team_calls: int = 60
    team_throughput_calls: int = 300
    team_in_flight: int = 20
    team_rounds: int = 3

    @classmethod
    def full(cls) -> Sizes:
        """The sizes of the recorded figures."""
        return cls()

    @classmethod
    def quick(cls) -> Sizes:
        """About a minute."""
        return cls(
            latency_calls=100,
            concurrency_rounds=1,
            cold_runs=3,
            import_runs=1,
            token_rounds=3,
            token_window=0.1,
            failover_trials=1,
            memory_agents=300,
            memory_checkpoint=100,
            memory_warmup=20,
            team_calls=20,
            team_throughput_calls=100,
            team_rounds=1,
        )

    @classmethod
    def tiny(cls) -> Sizes:
        """Seconds: for the smoke test (numbers meaningless, shapes right)."""
        return cls(
            latency_calls=3,
            concurrency_calls=10,
            concurrency_in_flight=5,
            concurrency_rounds=1,
            cold_runs=1,
            import_runs=1,
            token_rounds=1,
            token_window=0.01,
            failover_trials=1,
            connect_timeout=0.3,
            silent_read_timeout=0.3,
            memory_agents=6,
            memory_checkpoint=3,
            memory_warmup=1,
            team_calls=2,
            team_throughput_calls=4,
            team_in_flight=2,
            team_rounds=1,
        )


# --------------------------------------------------------------------------- shared rig


def _text(i: int) -> str:
    return f"Benchmark sentence number {i}."


async def _tool(client: Client, name: str, arguments: dict[str, Any]) -> dict[str, Any]:
    result = await client.call_tool(name, arguments)
    if result.is_error or result.structured_content is None:
        text = " ".join(getattr(block, "text", "") for block in result.content)
        raise RuntimeError(f"{name} failed: {text}")
    content: dict[str, Any] = result.structured_content
    return content


@dataclass
class SpeakRig:
    """One agent on the emulator and four ways to make it speak."""

    agent_id: str
    calls: dict[str, Call]
    emulator: Emulator
    http: httpx.AsyncClient

    async def faults(self, faults: list[dict[str, Any]] | None) -> None:
        """Replace the emulator's faults with ``faults`` (None: clear)."""
        url = self.emulator.admin_url + "/faults"
        (await self.http.delete(url)).raise_for_status()
        if faults:
            (await self.http.post(url, json=faults)).raise_for_status()


@asynccontextmanager
async def speak_rig(
    tmp: Path, http_command: Sequence[str] = ("-m", "convoai_mcp")
) -> AsyncIterator[SpeakRig]:
    """Emulator process; the server in process (in-memory ``Client``) and as a streamable-HTTP
    subprocess; a bare ``httpx.AsyncClient``; one agent started through the server."""
    from convoai_mcp.config import Settings
    from convoai_mcp.server.app import build_server

    async with AsyncExitStack() as stack:
        emu = await stack.enter_async_context(emulator(admin=True))
        settings = Settings.from_env(emu.api_env(tmp / "memory.sqlite3"))
        server = build_server(settings)
        stack.push_async_callback(server.runtime.aclose)
        memory_client = await stack.enter_async_context(Client(server))
        url, _ = await stack.enter_async_context(
            spawn_http_server(emu.api_env(tmp / "http.sqlite3"), http_command)
        )
        http_client = await stack.enter_async_context(Client(url))
        # Same pool settings as ConvoAIClient's own httpx client, so that only our code and
        # the MCP layers differ between the baseline and the measured paths.
        from convoai_mcp.client import DEFAULT_TIMEOUT

        bare = await stack.enter_async_context(
            httpx.AsyncClient(
                timeout=DEFAULT_TIMEOUT,
                limits=httpx.Limits(max_connections=20, max_keepalive_connections=10),
            )
        )
        started = await _tool(memory_client, "start_agent", {"channel": "bench-speak"})
        agent_id = str(started["agent_id"])
        convoai = server.runtime.client
        counter = iter(range(10**9))

        speak_url = f"{emu.base_url}/v2/projects/{emu.app_id}/agents/{agent_id}/speak"
        headers = {
            "Authorization": convoai.auth.header("", ""),
            "Accept": "application/json",
        }

        async def post_speak(text: str) -> dict[str, Any]:
            response = await bare.post(speak_url, json={"text": text}, headers=headers)
            response.raise_for_status()
            answer: dict[str, Any] = json.loads(response.content)
            return answer

        async def via_httpx() -> None:
            await post_speak(_text(next(counter)))

        # The SDK floor (benchmarks/floor_server.py): a minimal MCPServer whose one tool makes
        # the bare httpx request: what any server on this SDK costs, in memory and over HTTP.
        floor = build_floor(emu.base_url, emu.app_id, headers["Authorization"], bare)
        floor_client = await stack.enter_async_context(Client(floor))

        floor_url, _ = await stack.enter_async_context(
            spawn_http_server(emu.api_env(), (str(REPO / "benchmarks" / "floor_server.py"),))
        )
        floor_http = await stack.enter_async_context(Client(floor_url))

        async def via_floor() -> None:
            await _tool(floor_client, "speak", {"agent_id": agent_id, "text": _text(next(counter))})

        async def via_floor_http() -> None:
            await _tool(floor_http, "speak", {"agent_id": agent_id, "text": _text(next(counter))})

        async def via_client() -> None:
            await convoai.agents.speak(agent_id, _text(next(counter)))

        async def via_memory() -> None:
            await _tool(
                memory_client, "speak", {"agent_id": agent_id, "text": _text(next(counter))}
            )

        async def via_http() -> None:
            await _tool(http_client, "speak", {"agent_id": agent_id, "text": _text(next(counter))})

        yield SpeakRig(
            agent_id,
            {
                "httpx": via_httpx,
                "mcp_floor": via_floor,
                "client": via_client,
                "mcp_memory": via_memory,
                "mcp_http": via_http,
                "floor_http": via_floor_http,
            },
            emu,
            bare,
        )


_ORDER = random.Random(20261121)


def _rotate(items: Sequence[str], by: int) -> list[str]:
    """``items`` in a shuffled order (seeded): over many turns every item comes first, last
    and after every other item about equally often. A plain rotation would not do: it keeps
    the cyclic order, so an item would always follow the same one (and inherit, e.g., the
    cold caches left by a call that idled 50 ms)."""
    del by
    order = list(items)
    _ORDER.shuffle(order)
    return order


# --------------------------------------------------------------------------- 1 latency


async def tool_call_overhead(sizes: Sizes) -> Figure:
    """p50 / p99 of ``speak`` through the MCP server (in memory, streamable HTTP) and through
    ConvoAIClient alone, versus the same POST with a bare httpx.AsyncClient.

    The modes take turns call by call (rotating order), so load from other processes hits
    them alike. The CPU time of the benchmark process per call is recorded too: it is much
    less sensitive to that load than wall time.
    """
    started = time.perf_counter()
    with tempfile.TemporaryDirectory() as tmp_dir:
        async with speak_rig(Path(tmp_dir)) as rig:
            modes = list(rig.calls)
            for mode in modes:  # warm up: connections, caches, code paths
                for _ in range(10):
                    await rig.calls[mode]()
            wall: dict[str, list[float]] = {mode: [] for mode in modes}
            cpu: dict[str, list[float]] = {mode: [] for mode in modes}
            for index in range(sizes.latency_calls):
                if index % 50 == 0:
                    gc.collect()
                for mode in _rotate(modes, index):
                    call = rig.calls[mode]
                    c0, t0 = time.process_time(), time.perf_counter()
                    await call()
                    wall[mode].append((time.perf_counter() - t0) * 1000)
                    cpu[mode].append((time.process_time() - c0) * 1000)
            # The same with a service that takes SERVICE_DELAY to answer (the emulator's
            # latency fault): what the fixed overhead weighs against a real round trip.
            await rig.faults([{"route": "agents.speak", "kind": "latency", "delay": SERVICE_DELAY}])
            slow: dict[str, list[float]] = {"httpx": [], "mcp_memory": []}
            for index in range(max(sizes.latency_calls // 4, 1)):
                for mode in _rotate(list(slow), index):
                    t0 = time.perf_counter()
                    await rig.calls[mode]()
                    slow[mode].append((time.perf_counter() - t0) * 1000)
            await rig.faults(None)
    stats = {mode: summary(values) for mode, values in wall.items()}
    cpu_mean = {mode: statistics.fmean(values) for mode, values in cpu.items()}
    base = stats["httpx"]
    rows: list[Row] = []
    for mode, label, quantiles in (
        ("mcp_memory", "MCP in-memory Client", ("p50", "p99")),
        ("mcp_http", "MCP streamable HTTP", ("p50", "p99")),
        ("client", "ConvoAIClient alone", ("p50",)),
        ("mcp_floor", "SDK floor: minimal MCPServer + httpx, in memory", ("p50",)),
        ("floor_http", "SDK floor over streamable HTTP", ("p50",)),
    ):
        rows.extend(
            Row.of(
                f"{label} {q}",
                stats[mode][q],
                base[q],
                "ms",
                baseline_label=f"bare httpx {q}",
            )
            for q in quantiles
        )
    rows.extend(
        Row.of(
            f"{label} CPU per call",
            cpu_mean[mode],
            cpu_mean["httpx"],
            "ms",
            baseline_label="bare httpx CPU",
        )
        for mode, label in (
            ("mcp_memory", "MCP in-memory"),
            ("client", "ConvoAIClient"),
            ("mcp_floor", "SDK floor"),
        )
    )
    rows.append(
        Row.of(
            "MCP streamable HTTP p50 vs the SDK floor over HTTP",
            stats["mcp_http"]["p50"],
            stats["floor_http"]["p50"],
            "ms",
            baseline_label="SDK floor over HTTP p50",
        )
    )
    rows.append(
        Row.of(
            "MCP in-memory CPU per call vs the SDK floor",
            cpu_mean["mcp_memory"],
            cpu_mean["mcp_floor"],
            "ms",
            baseline_label="SDK floor CPU",
        )
    )
    slow_p50 = {mode: percentile(values, 50) for mode, values in slow.items()}
    rows.append(
        Row.of(
            f"MCP in-memory p50, service answering in {SERVICE_DELAY * 1000:.0f} ms",
            slow_p50["mcp_memory"],
            slow_p50["httpx"],
            "ms",
            baseline_label="bare httpx p50, same",
        )
    )
    p50_ratio = rows[0].ratio
    added = stats["mcp_memory"]["p50"] - base["p50"]
    return Figure(
        key="tool_call_overhead",
        title="1. Tool-call overhead: speak latency",
        rows=rows,
        target="in-memory p50 ratio <= 1.15",
        met=p50_ratio <= 1.15,
        notes=[
            f"in memory the MCP layer adds {added:.2f} ms at p50 and "
            f"{cpu_mean['mcp_memory'] - cpu_mean['httpx']:.2f} ms of CPU per call",
        ],
        details={
            "latency_ms": stats,
            "cpu_ms_mean": cpu_mean,
            "with_service_delay_p50_ms": slow_p50,
            "calls_per_mode": sizes.latency_calls,
        },
        seconds=time.perf_counter() - started,
    )


# --------------------------------------------------------------------------- 2 concurrency


async def _burst(call: Call, total: int, in_flight: int) -> tuple[float, int]:
    """Run ``total`` calls with at most ``in_flight`` at once; (seconds, errors)."""
    errors = 0
    queue = iter(range(total))

    async def worker() -> None:
        nonlocal errors
        for _ in queue:
            try:
                await call()
            except Exception:
                errors += 1

    t0 = time.perf_counter()
    async with asyncio.TaskGroup() as group:
        for _ in range(in_flight):
            group.create_task(worker())
    return time.perf_counter() - t0, errors


async def concurrency(sizes: Sizes) -> Figure:
    """``concurrency_calls`` speak calls, ``concurrency_in_flight`` in flight, through one MCP
    session (in memory and over streamable HTTP) versus bare httpx; throughput and errors."""
    started = time.perf_counter()
    total, in_flight = sizes.concurrency_calls, sizes.concurrency_in_flight
    modes = ["httpx", "mcp_memory", "mcp_floor", "mcp_http"]
    rates: dict[str, list[float]] = {mode: [] for mode in modes}
    errors: dict[str, int] = dict.fromkeys(modes, 0)
    with tempfile.TemporaryDirectory() as tmp_dir:
        async with speak_rig(Path(tmp_dir)) as rig:
            for mode in modes:  # warm up the pools to the concurrency used
                await _burst(rig.calls[mode], in_flight, in_flight)
            for round_index in range(sizes.concurrency_rounds):
                gc.collect()
                for mode in _rotate(modes, round_index):
                    seconds, failed = await _burst(rig.calls[mode], total, in_flight)
                    rates[mode].append(total / seconds)
                    errors[mode] += failed
    median = {mode: statistics.median(values) for mode, values in rates.items()}
    # Each round's ratio compares bursts run back to back; the median of those paired ratios
    # is what is reported (robust to drift in the machine's load between rounds).
    paired = {
        mode: statistics.median(r / b for r, b in zip(rates[mode], rates["httpx"], strict=True))
        for mode in ("mcp_memory", "mcp_floor", "mcp_http")
    }
    rows = [
        Row(
            f"{label}, one session ({errors[mode]} errors)",
            median[mode],
            median["httpx"],
            "calls/s",
            paired[mode],
            better="higher",
            baseline_label=f"bare httpx ({errors['httpx']} errors)",
        )
        for mode, label in (
            ("mcp_memory", "MCP in-memory"),
            ("mcp_floor", "SDK floor in memory"),
            ("mcp_http", "MCP streamable HTTP"),
        )
    ]
    met = rows[0].ratio >= 0.8 and errors["mcp_memory"] == 0 and errors["httpx"] == 0
    return Figure(
        key="concurrency",
        title=f"2. Concurrency: {total} speak calls, {in_flight} in flight",
        rows=rows,
        target="in-memory throughput ratio >= 0.8, zero errors",
        met=met,
        details={"calls_per_s": rates, "errors": errors},
        seconds=time.perf_counter() - started,
    )


# --------------------------------------------------------------------------- 3 cold start

_INIT = {
    "jsonrpc": "2.0",
    "id": 1,
    "method": "initialize",
    "params": {
        "protocolVersion": "2025-06-18",
        "capabilities": {},
        "clientInfo": {"name": "bench", "version": "1"},
    },
}
_INITIALIZED = {"jsonrpc": "2.0", "method": "notifications/initialized"}
_LIST = {"jsonrpc": "2.0", "id": 2, "method": "tools/list", "params": {}}


async def _until_tools(
    argv: Sequence[str], env: dict[str, str], cwd: Path, *, stderr: bool = False
) -> tuple[float, int, str]:
    """Spawn ``argv``, speak MCP on its stdio until the tools/list answer.

    Returns (seconds from spawn to the answer, number of tools, stderr if asked).
    """
    t0 = time.perf_counter()
    process = await asyncio.create_subprocess_exec(
        *argv,
        env=env,
        cwd=str(cwd),
        stdin=asyncio.subprocess.PIPE,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE if stderr else asyncio.subprocess.DEVNULL,
    )
    assert process.stdin is not None
    assert process.stdout is not None
    try:
        process.stdin.write((json.dumps(_INIT) + "\n").encode())
        await process.stdin.drain()
        tools = -1
        async with asyncio.timeout(60):
            while tools < 0:
                line = await process.stdout.readline()
                if not line:
                    raise RuntimeError(f"{argv} exited before answering tools/list")
                message = json.loads(line)
                if message.get("id") == 1:
                    process.stdin.write(
                        (json.dumps(_INITIALIZED) + "\n" + json.dumps(_LIST) + "\n").encode()
                    )
                    await process.stdin.drain()
                elif message.get("id") == 2:
                    tools = len(message["result"]["tools"])
        elapsed = time.perf_counter() - t0
        process.stdin.close()
        err = ""
        if stderr:
            assert process.stderr is not None
            async with asyncio.timeout(30):
                err = (await process.stderr.read()).decode(errors="replace")
        return elapsed, tools, err
    finally:
        await stop_process(process)


_IMPORT_LINE = re.compile(r"^import time:\s+(\d+) \|\s+(\d+) \|( *)(\S+)")


def _import_profile(stderr: str) -> dict[str, Any]:
    """From -X importtime output: total, per top-level package self time, top imports."""
    per_package: dict[str, int] = {}
    top_level: list[tuple[str, int]] = []
    total = 0
    for line in stderr.splitlines():
        match = _IMPORT_LINE.match(line)
        if match is None:
            continue
        self_us, cumulative_us, indent, name = (
            int(match.group(1)),
            int(match.group(2)),
            match.group(3),
            match.group(4),
        )
        total += self_us
        package = name.split(".")[0]
        per_package[package] = per_package.get(package, 0) + self_us
        if len(indent) <= 1:
            top_level.append((name, cumulative_us))
    packages = sorted(per_package.items(), key=lambda kv: -kv[1])
    return {
        "total_ms": total / 1000,
        "modules": sum(1 for line in stderr.splitlines() if _IMPORT_LINE.match(line)),
        "by_package_ms": {name: us / 1000 for name, us in packages[:15]},
        "top_level_cumulative_ms": {
            name: us / 1000 for name, us in sorted(top_level, key=lambda kv: -kv[1])[:12]
        },
    }


async def cold_start(sizes: Sizes) -> Figure:
    """Spawn to tools/list answer over stdio: ``python -m convoai_mcp`` (env credentials) vs
    ``python benchmarks/minimal_server.py``; plus ``--sandbox`` and -X importtime profiles."""
    started = time.perf_counter()
    with tempfile.TemporaryDirectory() as tmp_dir:
        tmp = Path(tmp_dir)
        async with emulator() as emu:
            env = server_env(emu.api_env(tmp / "cold.sqlite3"))
            commands = {
                "convoai": [PYTHON, "-m", "convoai_mcp"],
                "minimal": [PYTHON, str(REPO / "benchmarks" / "minimal_server.py")],
                "sandbox": [PYTHON, "-m", "convoai_mcp", "--sandbox"],
            }
            for argv in commands.values():  # warm the page cache and the .pyc files
                await _until_tools(argv, env, tmp)
            times: dict[str, list[float]] = {name: [] for name in commands}
            tools: dict[str, int] = {}
            for run in range(sizes.cold_runs):
                for name in _rotate(list(commands), run):
                    seconds, count, _ = await _until_tools(commands[name], env, tmp)
                    times[name].append(seconds * 1000)
                    tools[name] = count
            runs: dict[str, list[dict[str, Any]]] = {"convoai": [], "minimal": []}
            for run in range(sizes.import_runs):
                for name in _rotate(list(runs), run):
                    argv = [PYTHON, "-X", "importtime", *commands[name][1:]]
                    _, _, err = await _until_tools(argv, env, tmp, stderr=True)
                    runs[name].append(_import_profile(err))
            # The fastest run stands for each (its per-package split is kept).
            profiles = {
                name: min(found, key=lambda p: float(p["total_ms"])) for name, found in runs.items()
            }
    # Noise on a shared machine only ever adds time (and came in bursts: bimodal samples), so
    # the best of the interleaved runs is the figure; the medians are shown beside it.
    best = {name: min(values) for name, values in times.items()}
    med = {name: statistics.median(values) for name, values in times.items()}
    rows = [
        Row.of(
            f"python -m convoai_mcp ({tools['convoai']} tools), best of {sizes.cold_runs}",
            best["convoai"],
            best["minimal"],
            "ms",
            baseline_label="minimal MCPServer, 1 tool",
        ),
        Row.of(
            "python -m convoai_mcp, median",
            med["convoai"],
            med["minimal"],
            "ms",
            baseline_label="minimal MCPServer, median",
        ),
        Row.of(
            f"python -m convoai_mcp --sandbox, best of {sizes.cold_runs}",
            best["sandbox"],
            best["minimal"],
            "ms",
            baseline_label="minimal MCPServer, 1 tool",
        ),
        Row.of(
            f"import time, convoai ({profiles['convoai']['modules']} modules)",
            profiles["convoai"]["total_ms"],
            profiles["minimal"]["total_ms"],
            "ms",
            baseline_label=f"minimal ({profiles['minimal']['modules']} modules)",
        ),
    ]
    extra = {
        name: round(ms - profiles["minimal"]["by_package_ms"].get(name, 0.0), 1)
        for name, ms in profiles["convoai"]["by_package_ms"].items()
    }
    heaviest_extra = dict(sorted(extra.items(), key=lambda kv: -kv[1])[:8])
    return Figure(
        key="cold_start",
        title="3. Cold start: spawn -> tools/list answer over stdio",
        rows=rows,
        target="convoai / minimal <= 1.15",
        met=rows[0].ratio <= 1.15,
        notes=[
            "import self-time per package, convoai minus minimal (ms): "
            + ", ".join(f"{k} {v}" for k, v in heaviest_extra.items()),
        ],
        details={"ms": times, "importtime": profiles, "extra_import_ms": heaviest_extra},
        seconds=time.perf_counter() - started,
    )


# --------------------------------------------------------------------------- 4 tokens


def _rate(fn: Callable[[], object], window: float) -> float:
    """Calls per second of ``fn`` over about ``window`` seconds (batch grown to fit)."""
    batch = 16
    while True:
        t0 = time.perf_counter()
        for _ in range(batch):
            fn()
        elapsed = time.perf_counter() - t0
        if elapsed >= window:
            return batch / elapsed
        batch = max(batch * 2, int(batch * 1.1 * window / max(elapsed, 1e-9)))


async def token_minting(sizes: Sizes) -> Figure:
    """ConvoAI tokens/s, fresh (random salt each) and cached (TokenCache), versus the bare
    HMAC-SHA256 chain every AccessToken2 needs, over the very same bytes."""
    from convoai_mcp import tokens
    from convoai_mcp.sandbox import DEMO_CREDENTIALS

    started = time.perf_counter()
    app_id, cert = DEMO_CREDENTIALS.app_id, DEMO_CREDENTIALS.app_certificate
    channel, uid = "bench-channel", 1001
    parsed = tokens.parse_token(tokens.mint_convoai_token(app_id, cert, channel, uid))
    signing_info, issue_ts, salt = parsed.signing_info, parsed.issue_ts, parsed.salt
    cert_bytes = cert.encode()

    def bare_hmac() -> bytes:
        k1 = hmac.new(struct.pack("<I", issue_ts), cert_bytes, hashlib.sha256).digest()
        k2 = hmac.new(struct.pack("<I", salt), k1, hashlib.sha256).digest()
        return hmac.new(k2, signing_info, hashlib.sha256).digest()

    cache = tokens.TokenCache(app_id, cert)

    def fresh() -> str:
        return tokens.mint_convoai_token(app_id, cert, channel, uid)

    def cached() -> str:
        return cache.convoai_token(channel, uid)

    fns: dict[str, Callable[[], object]] = {"hmac": bare_hmac, "fresh": fresh, "cached": cached}
    rates: dict[str, list[float]] = {name: [] for name in fns}
    for round_index in range(sizes.token_rounds):
        for name in _rotate(list(fns), round_index):
            rates[name].append(_rate(fns[name], sizes.token_window))
        await asyncio.sleep(0)
    med = {name: statistics.median(values) for name, values in rates.items()}
    rows = [
        Row.of(
            "fresh mint_convoai_token",
            med["fresh"],
            med["hmac"],
            "tokens/s",
            better="higher",
            baseline_label="bare 3x HMAC-SHA256 chain",
        ),
        Row.of(
            "cached TokenCache.convoai_token",
            med["cached"],
            med["hmac"],
            "tokens/s",
            better="higher",
            baseline_label="bare 3x HMAC-SHA256 chain",
        ),
    ]
    return Figure(
        key="token_minting",
        title="4. Token minting (one core)",
        rows=rows,
        target="none set; fresh >= 10,000/s keeps minting off every request path",
        met=med["fresh"] >= 10_000,
        notes=[
            "baseline: the three HMAC-SHA256 (k1 = HMAC(ts, cert), k2 = HMAC(salt, k1), "
            "sig = HMAC(k2, signing_info)) that AccessToken2 cannot avoid, on the same bytes; "
            "the rest of a fresh mint is validation, packing, zlib and base64",
        ],
        details={"tokens_per_s": rates},
        seconds=time.perf_counter() - started,
    )


# --------------------------------------------------------------------------- 5 failover


async def failover(sizes: Sizes) -> Figure:
    """Time for ``speak`` to succeed through ConvoAIClient when the first endpoint refuses
    connections / black-holes them, versus the configured connect timeout."""
    from convoai_mcp.builders import AgentSpec
    from convoai_mcp.client import DEFAULT_TIMEOUT, BasicAuth, ConvoAIClient
    from convoai_mcp.errors import ConvoAIError
    from convoai_mcp.server.sandbox_mode import SANDBOX_PRESETS

    started = time.perf_counter()
    timeout = DEFAULT_TIMEOUT
    if sizes.connect_timeout is not None:
        timeout = httpx.Timeout(
            connect=sizes.connect_timeout,
            read=timeout.read,
            write=timeout.write,
            pool=timeout.pool,
        )
    connect = float(timeout.connect or 0.0)
    times: dict[str, list[float]] = {"healthy": [], "refused": [], "black_hole": []}
    silent: dict[str, Any] = {}
    async with emulator() as emu:

        def make(endpoints: list[str], t: httpx.Timeout = timeout) -> ConvoAIClient:
            return ConvoAIClient(
                emu.app_id,
                BasicAuth(emu.customer_id, emu.customer_secret),
                endpoints=endpoints,
                app_certificate=emu.app_certificate,
                timeout=t,
            )

        async with make([emu.base_url]) as setup:
            spec = AgentSpec(channel="bench-failover", presets=list(SANDBOX_PRESETS))
            agent_id = (await setup.agents.launch(spec)).agent_id
        suffix = emu.base_url.split("/api/", 1)[1]
        with black_hole() as hole_port:
            bad = {
                "healthy": None,
                "refused": f"http://127.0.0.1:{free_port()}/api/{suffix}",
                "black_hole": f"http://127.0.0.1:{hole_port}/api/{suffix}",
            }
            for trial in range(sizes.failover_trials):
                for name in _rotate(list(bad), trial):
                    first = bad[name]
                    endpoints = [emu.base_url] if first is None else [first, emu.base_url]
                    async with make(endpoints) as client:
                        t0 = time.perf_counter()
                        await client.agents.speak(agent_id, _text(trial))
                        times[name].append(time.perf_counter() - t0)
        # A region that accepts connections but never answers: a read timeout, not a
        # connect timeout. Measured once, with a short read timeout, for the record.
        short = httpx.Timeout(connect=connect, read=sizes.silent_read_timeout, write=5.0, pool=5.0)
        with silent_listener() as port:
            endpoints = [f"http://127.0.0.1:{port}/api/{suffix}", emu.base_url]
            async with make(endpoints, short) as client:
                t0 = time.perf_counter()
                await client.agents.get(agent_id)
                silent["get_s"] = time.perf_counter() - t0
            async with make(endpoints, short) as client:
                t0 = time.perf_counter()
                try:
                    await client.agents.speak(agent_id, "once")
                    silent["speak"] = "succeeded"
                except ConvoAIError as exc:
                    silent["speak"] = f"error: {type(exc).__name__}"
                silent["speak_s"] = time.perf_counter() - t0
            silent["read_timeout_s"] = sizes.silent_read_timeout
    med = {name: statistics.median(values) * 1000 for name, values in times.items()}
    limit_ms = connect * 1000 + 100
    rows = [
        Row.of(
            "first endpoint refuses (ECONNREFUSED)",
            med["refused"],
            connect * 1000,
            "ms",
            baseline_label="connect timeout",
        ),
        Row.of(
            "first endpoint black-holes (SYN dropped)",
            med["black_hole"],
            connect * 1000,
            "ms",
            baseline_label="connect timeout",
        ),
        Row.of(
            "healthy endpoint only (fresh client)",
            med["healthy"],
            connect * 1000,
            "ms",
            baseline_label="connect timeout",
        ),
    ]
    return Figure(
        key="failover",
        title="5. Failover: speak with a dead first endpoint (ConvoAIClient, median)",
        rows=rows,
        target=f"<= connect timeout + 100 ms = {limit_ms:.0f} ms",
        met=med["refused"] <= limit_ms and med["black_hole"] <= limit_ms,
        notes=[
            f"accepts but never answers (read timeout {silent['read_timeout_s']} s): get "
            f"fails over after {silent['get_s'] * 1000:.0f} ms; speak (never retried once "
            f"sent) {silent['speak']} after {silent['speak_s'] * 1000:.0f} ms",
        ],
        details={"ms": {k: [v * 1000 for v in vs] for k, vs in times.items()}, "silent": silent},
        seconds=time.perf_counter() - started,
    )


# --------------------------------------------------------------------------- 6 memory


def _disk_usage(folder: Path, pattern: str) -> int:
    return sum(path.stat().st_size for path in folder.glob(pattern))


def _server_pid() -> int:
    for pid in children_of(os.getpid()):
        argv = cmdline(pid)
        if "convoai_mcp" in argv and "convoai_mcp.sandbox" not in argv:
            return pid
    raise RuntimeError("cannot find the server subprocess")


async def memory(sizes: Sizes) -> Figure:
    """RSS of a ``python -m convoai_mcp`` stdio subprocess (archive on, temp dir) while
    ``memory_agents`` agents are started and stopped through it, one after another."""
    started = time.perf_counter()
    checkpoints: dict[int, int] = {}
    with tempfile.TemporaryDirectory() as tmp_dir:
        tmp = Path(tmp_dir)
        async with emulator() as emu:
            params = StdioServerParameters(
                command=PYTHON,
                args=["-m", "convoai_mcp"],
                env=server_env(
                    {
                        **emu.api_env(tmp / "archive.sqlite3"),
                        "CONVOAI_RATE_PER_MINUTE": "1000000",
                        "CONVOAI_MAX_AGENTS": "1000",
                    }
                ),
                cwd=str(tmp),
            )
            async with Client(params) as client:
                pid = _server_pid()
                checkpoints[0] = rss_kib(pid)
                marks = {sizes.memory_warmup, sizes.memory_checkpoint, sizes.memory_agents}
                step = max(sizes.memory_checkpoint, 1)
                marks |= set(range(step, sizes.memory_agents + 1, step))
                for i in range(1, sizes.memory_agents + 1):
                    agent = await _tool(client, "start_agent", {"channel": f"bench-mem-{i % 7}"})
                    await _tool(client, "speak", {"agent_id": agent["agent_id"], "text": "Hi."})
                    await _tool(client, "stop_agent", {"agent_id": agent["agent_id"]})
                    if i in marks:
                        checkpoints[i] = rss_kib(pid)
                archive_bytes = _disk_usage(tmp, "archive.sqlite3*")
    at_check = checkpoints[sizes.memory_checkpoint]
    at_end = checkpoints[sizes.memory_agents]
    span = sizes.memory_agents - sizes.memory_checkpoint
    per_agent = (at_end - at_check) / span if span else 0.0
    rows = [
        Row.of(
            f"RSS after {sizes.memory_agents} agents",
            at_end / 1024,
            at_check / 1024,
            "MiB",
            baseline_label=f"RSS after {sizes.memory_checkpoint}",
        ),
        Row.of(
            f"RSS after {sizes.memory_warmup} agents (warm)",
            checkpoints[sizes.memory_warmup] / 1024,
            checkpoints[0] / 1024,
            "MiB",
            baseline_label="RSS after connect",
        ),
    ]
    return Figure(
        key="memory",
        title="6. Memory: stdio server RSS, agents started+spoken+stopped (archive on)",
        rows=rows,
        target=f"bounded: growth from {sizes.memory_checkpoint} to {sizes.memory_agents} "
        "agents <= 1 KiB per agent",
        met=per_agent <= 1.0,
        notes=[
            f"growth {per_agent:.2f} KiB per agent between {sizes.memory_checkpoint} and "
            f"{sizes.memory_agents}; archive on disk {archive_bytes / 1024:.0f} KiB",
        ],
        details={
            "rss_kib": checkpoints,
            "kib_per_agent": per_agent,
            "archive_bytes": archive_bytes,
        },
        seconds=time.perf_counter() - started,
    )


FIGURES: dict[str, Callable[[Sizes], Awaitable[Figure]]] = {
    "tool_call_overhead": tool_call_overhead,
    "concurrency": concurrency,
    "cold_start": cold_start,
    "token_minting": token_minting,
    "failover": failover,
    "memory": memory,
    "team": team,
}
"""Every figure, in the order the table shows them."""
