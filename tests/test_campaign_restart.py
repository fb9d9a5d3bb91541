"""A real server process killed with SIGKILL mid-campaign, and started again on the same archive:
the campaign resumes and completes, the emulator saw one create per number per attempt, and no
transcript is missing. The emulator runs in this process (its clock moved by the test); the
servers are real ``convoai-mcp`` processes over streamable HTTP on loopback."""

from __future__ import annotations

import re
import subprocess
import sys
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

import anyio
import httpx2
import pytest
from _server_helpers import REPO, error_text, subprocess_env
from anyio.abc import Process
from mcp import Client
from mcp.client.streamable_http import streamable_http_client

from convoai_mcp.sandbox import DEMO_CREDENTIALS, Callee, Sandbox
from convoai_mcp.sandbox.environment import server_environment

NUMBERS = [f"+1415555{i:04d}" for i in range(500, 506)]
SAID = "Yes, I will be there tomorrow."


async def ok(client: Client, name: str, args: dict[str, Any]) -> dict[str, Any]:
    result = await client.call_tool(name, args)
    assert not result.is_error, error_text(result)
    data: dict[str, Any] = result.structured_content or {}
    return data


@asynccontextmanager
async def server(env: dict[str, str]) -> AsyncIterator[tuple[Process, str]]:
    """A server process over streamable HTTP on loopback; yields it and its MCP URL. Its
    stderr is drained (a full pipe would block it)."""
    command = [sys.executable, "-m", "convoai_mcp", "--transport", "streamable-http"]
    command += ["--host", "127.0.0.1", "--port", "0"]
    process = await anyio.open_process(command, env=env, stdin=subprocess.DEVNULL, cwd=REPO)
    assert process.stderr is not None
    seen = ""
    with anyio.fail_after(60):
        while (match := re.search(r"at (http://127\.0\.0\.1:\d+/mcp) \(", seen)) is None:
            seen += (await process.stderr.receive()).decode(errors="replace")

    async def drain() -> None:
        assert process.stderr is not None
        with anyio.CancelScope() as scope:
            drained.append(scope)
            async for _ in process.stderr:
                pass

    drained: list[anyio.CancelScope] = []
    async with anyio.create_task_group() as group:
        group.start_soon(drain)
        try:
            yield process, match.group(1)
        finally:
            if process.returncode is None:
                process.kill()
            with anyio.fail_after(20):
                await process.wait()
            group.cancel_scope.cancel()
    await process.aclose()


async def eventually(
    condition: Callable[[], bool], *, within: float = 60.0, fail: bool = True
) -> None:
    """Until ``condition`` holds (another process works meanwhile), checked every 50 ms."""
    with anyio.move_on_after(within) as scope:
        while not condition():  # noqa: ASYNC110 - the other side is another process
            await anyio.sleep(0.05)
    if scope.cancelled_caught and fail:
        raise AssertionError("the other process never got there")


@asynccontextmanager
async def connected(url: str) -> AsyncIterator[Client]:
    async with httpx2.AsyncClient(timeout=30) as http:
        async with Client(streamable_http_client(url, http_client=http)) as client:
            yield client


@pytest.mark.slow
async def test_a_campaign_survives_sigkill_and_dials_nobody_twice(tmp_path: Path) -> None:
    sandbox = Sandbox(DEMO_CREDENTIALS, answer_delay=0.05)
    sandbox.state.callees.set("default", Callee.answers(1, hang_up_after=30, says=[(2, SAID)]))
    async with sandbox.serve("127.0.0.1", 0) as base_url:
        emulated = server_environment(
            base_url, DEMO_CREDENTIALS, archive_path=tmp_path / "archive.sqlite3"
        )
        env = subprocess_env(
            **emulated,
            CONVOAI_CONFIRM="none",
            CONVOAI_CAMPAIGN_LEASE_SECONDS="1",
            CONVOAI_RATE_PER_MINUTE="1000",
            CONVOAI_LOG_LEVEL="WARNING",
        )
        calls = sandbox.state.calls
        async with server(env) as (first, url):
            async with connected(url) as client:
                started = await ok(
                    client,
                    "start_campaign",
                    {
                        "name": "Survives",
                        "destinations": [{"number": n} for n in NUMBERS],
                        "pacing": {"max_concurrent": 2, "calls_per_minute": 600},
                    },
                )
                cid = started["campaign_id"]
                await eventually(lambda: len(calls) >= 2)  # the first two calls are placed
                sandbox.state.advance(5)  # answered, and the callees said their line

                async def answered() -> int:
                    campaign = await ok(client, "get_campaign", {"campaign_id": cid})
                    return int(campaign["summary"]["counts"].get("answered", 0))

                while await answered() < 2:  # the server has seen them answered
                    await eventually(lambda: False, within=0.05, fail=False)
            first.kill()  # SIGKILL: no clean-up of any kind
            await first.wait()
        placed_before = len(calls)
        sandbox.state.advance(3)  # the two calls go on while no server runs
        async with server(env) as (_second, url), connected(url) as client:
            with anyio.fail_after(120):
                while True:
                    campaign = await ok(client, "get_campaign", {"campaign_id": cid})
                    if campaign["status"] == "completed":
                        break
                    sandbox.state.advance(3)
                    # the other process's pace (and its 1 s lease)
                    await eventually(lambda: False, within=0.1, fail=False)
                    # and its watchers read every running call's history at this time before
                    # the clock moves on (a call's history is gone once it ended)
                    await eventually(lambda: not sandbox.state.history_unread())
            transcripts = {
                d["number"]: await ok(client, "get_history", {"agent_id": d["agent_id"]})
                for d in campaign["destinations"]
            }
    assert placed_before == 2
    assert [d["state"] for d in campaign["destinations"]] == ["ended"] * len(NUMBERS)
    per_number = {n: [c for c in calls.values() if c.to_number == n] for n in NUMBERS}
    assert {n: len(found) for n, found in per_number.items()} == dict.fromkeys(NUMBERS, 1)
    assert all(len(d["attempts"]) == 1 for d in campaign["destinations"])
    for number, history in transcripts.items():
        said = [e["untrusted_text"] for e in history["entries"] if e["role"] == "user"]
        assert said == [SAID], number  # no transcript missing, the killed server's included
