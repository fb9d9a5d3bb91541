"""Figure 8 (issue 14): a calling campaign of 1,000 numbers against the emulator.

The emulator runs in its own process with every callee answering at once and hanging up after
one second of its clock (``PUT /_sandbox/callees/default``). The server runs in this process
(in-memory ``Client``) with its campaign scheduler on the emulator's clock, which the benchmark
moves forward (``POST /_sandbox/time``) so that pacing (600 calls per minute at most) and the
calls' lengths cost no waiting; the transcript watchers poll every 50 ms of real time.

Measured, for a campaign of ``campaign_small`` numbers and one of ``campaign_numbers``:

* CPU time of this process per campaign call, next to the CPU per call of the same calls placed
  one by one with the ``call`` tool and followed to their end with ``wait`` (the baseline: a
  call placed and followed by the same transcript watcher, without a scheduler). Their
  difference is the scheduler's overhead per call.
* Memory: this process's peak RSS above its RSS before the campaign, sampled while it runs,
  for the large campaign next to the small one (flat: the larger list must not cost more than
  its rows).
"""

from __future__ import annotations

import asyncio
import gc
import os
import tempfile
import time
from pathlib import Path
from typing import Any

import httpx
from mcp import Client

from benchmarks._harness import Emulator, Figure, Row, emulator, rss_kib
from benchmarks._harness import tool_content as _tool

__all__ = ["campaign"]

_ENV = {
    "CONVOAI_CONFIRM": "none",
    "CONVOAI_CALL_ALLOWLIST": "+1415",
    "CONVOAI_RATE_PER_MINUTE": "1000000",
    "CONVOAI_MAX_CALLS": "10",
    "CONVOAI_MAX_AGENTS": "10",
    "CONVOAI_CALLS_PER_NUMBER_PER_DAY": "off",
    "CONVOAI_CALL_HOURS": "off",
    # a TTS the emulator's stage validation takes without a vendor key
    "CONVOAI_TTS_VENDOR": "openai",
    "CONVOAI_TTS_PARAMS": '{"voice": "alloy"}',
}
_CALLEE = {"outcome": "answer", "after": 0, "hang_up_after": 1}
_STEP = 1.0
"""Seconds of the emulator's clock per step: 10 new calls at 600 a minute (10 at once)."""


def _numbers(count: int, block: int) -> list[str]:
    return [f"+1415{block:03d}{i:04d}" for i in range(count)]


class _Rig:
    """The server (in memory) on the emulator, its scheduler on the emulator's clock."""

    def __init__(self, emu: Emulator, http: httpx.AsyncClient, client: Client, server: Any):
        from convoai_mcp.server.campaigns import scheduler_of

        self.emu, self.http, self.client, self.server = emu, http, client, server
        scheduler = scheduler_of(server.runtime)
        if scheduler is None:
            raise RuntimeError("campaigns need the archive")
        self.scheduler = scheduler
        self.offset = 0.0
        scheduler.clock = lambda: time.time() + self.offset
        scheduler.tick = 0.02

    async def advance(self, seconds: float) -> None:
        response = await self.http.post(
            self.emu.admin_url + "/time", json={"advance": seconds}, timeout=30
        )
        response.raise_for_status()
        self.offset = float(response.json()["now"]) - time.time()

    async def run_campaign(self, numbers: list[str]) -> dict[str, Any]:
        """Start a campaign of ``numbers`` and drive it to its end; CPU, wall, peak RSS."""
        pid = os.getpid()
        gc.collect()
        rss0 = peak = rss_kib(pid)
        c0, t0 = time.process_time(), time.perf_counter()
        started = await _tool(
            self.client,
            "start_campaign",
            {
                "name": f"bench-{len(numbers)}",
                "destinations": [{"number": n} for n in numbers],
                "pacing": {"max_concurrent": 10, "calls_per_minute": 600},
            },
        )
        campaign_id = str(started["campaign_id"])
        store = self.scheduler.store
        async with asyncio.timeout(900):
            while True:
                await self.advance(_STEP)
                await self.scheduler.wait_changed(0.05)
                peak = max(peak, rss_kib(pid))
                status = await self.scheduler.status(campaign_id)
                if status != "running" and self.scheduler.in_flight == 0:
                    break
        cpu, wall = time.process_time() - c0, time.perf_counter() - t0
        counts = await store.destination_counts(campaign_id)
        answered = counts.get("ended", 0)  # answered, talked, hung up
        return {
            "numbers": len(numbers),
            "answered": answered,
            "completed": 1.0 if status == "completed" else 0.0,
            "states": counts,
            "cpu_s": cpu,
            "wall_s": wall,
            "rss_before_kib": rss0,
            "peak_growth_kib": peak - rss0,
        }

    async def direct_calls(self, numbers: list[str]) -> dict[str, float]:
        """The same calls one by one through ``call`` and ``wait`` (until the callee hung up,
        followed by the same transcript watcher): CPU per call."""
        gc.collect()
        c0, t0 = time.process_time(), time.perf_counter()
        for number in numbers:
            placed = await _tool(self.client, "call", {"to_number": number})
            await self.advance(_STEP)  # the callee hangs up
            await _tool(
                self.client,
                "wait",
                {"agent_id": placed["agent_id"], "until": "ended", "timeout_seconds": 30},
            )
        return {
            "calls": len(numbers),
            "cpu_s": time.process_time() - c0,
            "wall_s": time.perf_counter() - t0,
        }


async def campaign(sizes: Any) -> Figure:
    """Scheduler CPU per call and peak memory of a ``campaign_numbers`` campaign vs a
    ``campaign_small`` one (and vs the same calls placed one by one)."""
    from convoai_mcp.config import Settings
    from convoai_mcp.server.app import build_server

    started = time.perf_counter()
    small, large = int(sizes.campaign_small), int(sizes.campaign_numbers)
    with tempfile.TemporaryDirectory() as tmp_dir:
        tmp = Path(tmp_dir)
        async with emulator(admin=True) as emu, httpx.AsyncClient() as http:
            (
                await http.put(emu.admin_url + "/callees/default", json=_CALLEE, timeout=30)
            ).raise_for_status()
            from convoai_mcp.sandbox.environment import SANDBOX_LLM_URL

            env = {**emu.api_env(tmp / "campaign.sqlite3"), **_ENV}
            env.pop("CONVOAI_PRESETS", None)  # a call takes no presets: the stand-in LLM
            env["CONVOAI_LLM_URL"] = SANDBOX_LLM_URL
            server = build_server(Settings.from_env(env), poll_interval=0.05)
            try:
                async with Client(server) as client:
                    rig = _Rig(emu, http, client, server)
                    await rig.direct_calls(_numbers(5, 201))  # warm up every code path
                    direct = await rig.direct_calls(_numbers(max(small // 2, 1), 202))
                    runs = {
                        "small": await rig.run_campaign(_numbers(small, 203)),
                        "large": await rig.run_campaign(_numbers(large, 204)),
                    }
            finally:
                await server.runtime.aclose()
    per_call = {name: run["cpu_s"] * 1000 / run["numbers"] for name, run in runs.items()}
    direct_ms = direct["cpu_s"] * 1000 / direct["calls"]
    overhead = per_call["large"] - direct_ms
    # RSS is read in KiB: a growth below one KiB counts as one (a ratio needs a baseline)
    growth = {name: max(run["peak_growth_kib"], 1) / 1024 for name, run in runs.items()}
    rows = [
        Row.of(
            f"campaign of {large}: CPU per call",
            per_call["large"],
            direct_ms,
            "ms",
            baseline_label="call + wait tools, one by one",
        ),
        Row.of(
            f"campaign of {small}: CPU per call",
            per_call["small"],
            direct_ms,
            "ms",
            baseline_label="call + wait tools, one by one",
        ),
        Row.of(
            f"campaign of {large}: peak RSS growth",
            growth["large"],
            growth["small"],
            "MiB",
            baseline_label=f"campaign of {small}",
        ),
        Row.of(
            f"campaign of {large}: wall time",
            runs["large"]["wall_s"],
            runs["small"]["wall_s"],
            "s",
            baseline_label=f"campaign of {small}",
        ),
    ]
    complete = all(run["answered"] == run["numbers"] for run in runs.values())
    flat = growth["large"] <= max(2 * growth["small"], growth["small"] + 8.0)
    return Figure(
        key="campaign",
        title=f"8. Campaign: {large} numbers, callees answering at once",
        rows=rows,
        target="scheduler overhead <= 2 ms CPU per call; peak memory flat (1000 vs 100 "
        "numbers: at most twice, or +8 MiB); every number answered",
        met=overhead <= 2.0 and flat and complete,
        notes=[
            f"scheduler overhead {overhead:.2f} ms CPU per call (campaign minus the tools one "
            f"by one); answered {runs['large']['answered']:.0f}/{large} and "
            f"{runs['small']['answered']:.0f}/{small}",
        ],
        details={"runs": runs, "direct": direct, "cpu_ms_per_call": per_call},
        seconds=time.perf_counter() - started,
    )
