"""The start / call / end flows (server/lifecycle.py) through the MCP client against the emulator:
a start or call whose outcome the caller never learns (cancelled, timed out, answer lost) still
ends with every agent the service runs booked by the server, and never more than the limits."""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import anyio
import pytest
from _client_helpers import SleepRecorder
from _server_helpers import BY_ARGUMENT, CALLEE, OUTBOUND, Rig, error_text, rig
from mcp import Client
from mcp_types import CallToolResult

from convoai_mcp._retry import RetryPolicy
from convoai_mcp.client import BasicAuth, ConvoAIClient
from convoai_mcp.sandbox import Fault
from convoai_mcp.server.app import ConvoAIServer, build_server
from convoai_mcp.server.watchers import is_terminal

ROUTE = {"start_agent": "agents.start", "call": "calls.create"}
LIMIT = {"start_agent": "CONVOAI_MAX_AGENTS", "call": "CONVOAI_MAX_CALLS"}


def arguments(tool: str, n: int) -> dict[str, Any]:
    if tool == "start_agent":
        return {"channel": f"room-{n}"}
    return {"to_number": CALLEE, "channel": f"line-{n}", "confirm": True}


class Arrivals:
    """ASGI middleware: an event set when a create (join / call) reaches the emulator."""

    def __init__(self, app: Any, seen: list[anyio.Event]) -> None:
        self.app = app
        self.seen = seen

    async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
        path = scope.get("path", "") if scope["type"] == "http" else ""
        if (
            scope["type"] == "http"
            and scope["method"] == "POST"
            and path.endswith(("/join", "/call"))
        ):
            self.seen[0].set()
        await self.app(scope, receive, send)


async def running_on_the_service(r: Rig) -> list[str]:
    """Ids of the agents the emulator runs (not ended)."""
    client = r.server.runtime.client
    return [a.agent_id async for a in client.agents.list() if not is_terminal(a.status)]


async def served_ids(client: Client) -> set[str]:
    """Agent ids the server lists in resources/list."""
    uris = [str(res.uri) for res in (await client.list_resources()).resources]
    return {uri.split("/")[3] for uri in uris if uri.startswith("convoai://agents/")}


async def call_then_cancel(
    client: Client, tool: str, args: dict[str, Any], arrived: list[anyio.Event]
) -> CallToolResult | None:
    """Call ``tool``; cancel the call once its create reached the emulator. Returns the result
    when it came first (a refusal), None when the call was cancelled."""
    result: CallToolResult | None = None
    arrived[0] = anyio.Event()
    done = anyio.Event()

    async def run() -> None:
        nonlocal result
        result = await client.call_tool(tool, args)
        done.set()

    with anyio.fail_after(10):
        async with anyio.create_task_group() as tg:
            tg.start_soon(run)
            async with anyio.create_task_group() as first:

                async def on(event: anyio.Event) -> None:
                    await event.wait()
                    first.cancel_scope.cancel()

                first.start_soon(on, arrived[0])
                first.start_soon(on, done)
            tg.cancel_scope.cancel()  # the client abandons the call (notifications/cancelled)
    return result


@pytest.mark.parametrize("tool", ["start_agent", "call"])
async def test_cancelled_creates_are_booked_and_never_exceed_the_limit(
    tmp_path: Path, tool: str
) -> None:
    """D2: with a limit of 1, a start / call cancelled while the emulator delays the create,
    four times: the emulator runs at most one agent, and the server lists it."""
    async with (
        rig(tmp_path, {**BY_ARGUMENT, LIMIT[tool]: "1", "CONVOAI_RATE_PER_MINUTE": "100"}) as r,
        Client(r.server) as client,
    ):
        arrived = [anyio.Event()]
        r.sandbox.app.add_middleware(Arrivals, seen=arrived)
        cancelled = 0
        for n in range(4):
            r.sandbox.faults.add(Fault(route=ROUTE[tool], kind="latency", delay=0.3, times=1))
            result = await call_then_cancel(client, tool, arguments(tool, n), arrived)
            if result is None:
                cancelled += 1
            else:
                assert "limit reached" in error_text(result)
        assert cancelled >= 1
        await r.server.runtime.settled()
        running = await running_on_the_service(r)
        assert len(running) == 1, running
        assert set(running) <= await served_ids(client)
        assert r.server.runtime.guard.watcher(running[0]) is not None


SHORT_DEADLINE = RetryPolicy(max_attempts=4, deadline=0.3, base_delay=0.001, max_delay=0.005)


@contextlib.asynccontextmanager
async def impatient(
    tmp_path: Path, env: dict[str, str]
) -> AsyncIterator[tuple[Rig, ConvoAIServer]]:
    """The rig, with the server rebuilt on a client that gives up after 0.3 s (a headless
    client: the model's confirm=true counts)."""
    async with rig(tmp_path, {**BY_ARGUMENT, **env}) as r:
        settings = r.settings
        assert settings.customer_id is not None and settings.customer_secret is not None
        assert settings.app_certificate is not None
        client = ConvoAIClient(
            settings.app_id,
            BasicAuth(settings.customer_id, settings.customer_secret.get_secret_value()),
            endpoints=[r.base_url],
            app_certificate=settings.app_certificate.get_secret_value(),
            retry=SHORT_DEADLINE,
            sleep=SleepRecorder(),
        )
        server = build_server(settings, client=client, poll_interval=0.02)
        try:
            yield r, server
        finally:
            await server.runtime.aclose()
            await client.aclose()


@pytest.mark.parametrize("tool", ["start_agent", "call"])
async def test_timed_out_creates_are_found_booked_and_never_exceed_the_limit(
    tmp_path: Path, tool: str
) -> None:
    """D2: with a limit of 1, a start / call whose answer comes after the client's deadline
    (the emulator performs it anyway), four times: the server finds the agent by its name and
    books it; the emulator runs at most one agent, and the server lists it."""
    env = {LIMIT[tool]: "1", "CONVOAI_RATE_PER_MINUTE": "100"}
    async with impatient(tmp_path, env) as (r, server), Client(server) as client:
        texts = []
        for n in range(4):
            r.sandbox.faults.add(Fault(route=ROUTE[tool], kind="latency", delay=0.6, times=1))
            texts.append(error_text(await client.call_tool(tool, arguments(tool, n))))
        assert "may have started" in texts[0], texts[0]
        assert all("limit reached" in text for text in texts[1:]), texts
        await server.runtime.settled()
        running = [
            a.agent_id
            async for a in server.runtime.client.agents.list()
            if not is_terminal(a.status)
        ]
        assert len(running) == 1, running
        assert set(running) <= await served_ids(client)
        assert server.runtime.guard.watcher(running[0]) is not None
        again = await client.call_tool(tool, arguments(tool, 0))  # as the error advises
        assert not again.is_error, error_text(again)
        assert again.structured_content is not None
        assert again.structured_content["agent_id"] == running[0]


# ---------------------------------------------------------------------- what ending reports


def ended(result: CallToolResult) -> dict[str, Any]:
    assert not result.is_error, error_text(result)
    data: dict[str, Any] | None = result.structured_content
    assert data is not None and data["ended"] is True
    return data


def text_of(result: CallToolResult) -> str:
    return " ".join(getattr(block, "text", "") for block in result.content)


async def test_stopping_an_unknown_agent_says_nothing_was_archived(tmp_path: Path) -> None:
    """D4: the result said archived_history true for an agent id nobody knows."""
    async with rig(tmp_path) as r, Client(r.server) as client:
        result = await client.call_tool("stop_agent", {"agent_id": "NO-SUCH-AGENT"})
        data = ended(result)
        assert data["archived_history"] is False
        assert "the transcript could not be archived" in data["note"]
        assert "neither the service nor the archive" in text_of(result)


@pytest.mark.parametrize("damage", ["corrupt", "below-a-file"])
async def test_an_unusable_archive_is_reported_at_stop_and_hangup(
    tmp_path: Path, damage: str
) -> None:
    """D4: a corrupt archive file, or an archive path below a regular file: stop_agent and
    hangup end what they end and say the transcript could not be archived, and why."""
    if damage == "corrupt":
        path = tmp_path / "corrupt.sqlite3"
        path.write_bytes(b"this is not a database" * 100)
    else:
        (tmp_path / "plain-file").write_text("x")
        path = tmp_path / "plain-file" / "archive.sqlite3"
    async with (
        rig(tmp_path, {**BY_ARGUMENT, "CONVOAI_ARCHIVE_PATH": str(path)}) as r,
        Client(r.server) as client,
    ):
        started = await client.call_tool("start_agent", {"channel": "no-archive"})
        assert started.structured_content is not None, error_text(started)
        agent_id = started.structured_content["agent_id"]
        stopped = ended(await client.call_tool("stop_agent", {"agent_id": agent_id}))
        assert stopped["archived_history"] is False
        assert stopped["note"].startswith("the transcript could not be archived: ")
        assert "archive could not be" in stopped["note"]
        placed = await client.call_tool("call", {"to_number": CALLEE, "confirm": True})
        assert placed.structured_content is not None, error_text(placed)
        hung = ended(
            await client.call_tool("hangup", {"agent_id": placed.structured_content["agent_id"]})
        )
        assert hung["archived_history"] is False
        assert "the transcript could not be archived" in hung["note"]


async def test_hangup_is_idempotent_and_refuses_agents(tmp_path: Path) -> None:
    """hangup is annotated idempotent: hanging up an ended call succeeds and says it had
    already ended; an agent that is no call is pointed at stop_agent."""
    async with rig(tmp_path, BY_ARGUMENT) as r, Client(r.server) as client:
        placed = await client.call_tool("call", {"to_number": CALLEE, "confirm": True})
        assert placed.structured_content is not None, error_text(placed)
        call_id = placed.structured_content["agent_id"]
        first = ended(await client.call_tool("hangup", {"agent_id": call_id}))
        assert first["archived_history"] is True and first["note"] is None
        second = ended(await client.call_tool("hangup", {"agent_id": call_id}))
        assert "already ended" in second["note"]
        assert r.server.runtime.guard.limiter.running() == {}
        started = await client.call_tool("start_agent", {"channel": "not-a-call"})
        assert started.structured_content is not None, error_text(started)
        agent_id = started.structured_content["agent_id"]
        refused = error_text(await client.call_tool("hangup", {"agent_id": agent_id}))
        assert "is an agent, not a phone call" in refused and "stop_agent" in refused
        assert r.server.runtime.guard.watcher(agent_id) is not None  # still running, watched


class Requests:
    """ASGI middleware: (method, path) of every request the emulator receives."""

    def __init__(self, app: Any, seen: list[tuple[str, str]]) -> None:
        self.app = app
        self.seen = seen

    async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
        if scope["type"] == "http":
            self.seen.append((scope["method"], scope["path"]))
        await self.app(scope, receive, send)


async def test_a_call_reads_the_phone_numbers_once(tmp_path: Path) -> None:
    """Issue 9 item 8: call without from_number read the number list in the tool and again in
    the admission; one admission now reads it once (and a refused number reads nothing)."""
    async with rig(tmp_path, BY_ARGUMENT) as r, Client(r.server) as client:
        seen: list[tuple[str, str]] = []
        r.sandbox.app.add_middleware(Requests, seen=seen)
        refused = await client.call_tool("call", {"to_number": "+4930123456", "confirm": True})
        assert "allow-list" in error_text(refused)
        assert seen == []
        placed = await client.call_tool("call", {"to_number": CALLEE, "confirm": True})
        assert placed.structured_content is not None, error_text(placed)
        assert placed.structured_content["from_number"] == OUTBOUND
        reads = [path for method, path in seen if path.endswith("/phone-numbers")]
        assert len(reads) == 1, seen


async def test_get_call_and_list_calls_agree_on_the_reason(tmp_path: Path) -> None:
    """After a hangup get_call gave a reason and list_calls said null: the service's
    list carries no reason, so list_calls no longer claims one (get_call has it)."""
    async with rig(tmp_path, BY_ARGUMENT) as r, Client(r.server) as client:
        placed = await client.call_tool("call", {"to_number": CALLEE, "confirm": True})
        assert placed.structured_content is not None, error_text(placed)
        call_id = placed.structured_content["agent_id"]
        ended(await client.call_tool("hangup", {"agent_id": call_id}))
        got = await client.call_tool("get_call", {"agent_id": call_id})
        assert got.structured_content is not None, error_text(got)
        assert got.structured_content["reason"] in {"request", "hangup"}
        listed = await client.call_tool("list_calls", {})
        assert listed.structured_content is not None, error_text(listed)
        [item] = [c for c in listed.structured_content["calls"] if c["agent_id"] == call_id]
        assert item["state"] == got.structured_content["state"]
        assert "reason" not in item or item["reason"] == got.structured_content["reason"]


async def test_a_404_on_an_agent_this_server_ended_says_when_and_how(tmp_path: Path) -> None:
    """'no such agent (it may have stopped)' sent a model in circles: for an agent this server
    started and saw end, the error says how and when it ended."""
    async with rig(tmp_path) as r, Client(r.server) as client:
        started = await client.call_tool("start_agent", {"channel": "ended-here"})
        assert started.structured_content is not None, error_text(started)
        agent_id = started.structured_content["agent_id"]
        ended(await client.call_tool("stop_agent", {"agent_id": agent_id}))
        text = error_text(await client.call_tool("speak", {"agent_id": agent_id, "text": "hi"}))
        assert "stopped through this server" in text and " UTC " in text, text
        assert f"convoai://agents/{agent_id}/history" in text
        other = error_text(await client.call_tool("speak", {"agent_id": "UNKNOWN", "text": "x"}))
        assert "started by this server" not in other


async def test_a_start_refused_while_building_holds_no_slot(tmp_path: Path) -> None:
    """What the server cannot or may not configure (here an LLM URL the operator did not
    allow) is refused before a slot is reserved: with a limit of 1, the next start runs."""
    async with (
        rig(tmp_path, {"CONVOAI_MAX_AGENTS": "1"}) as r,
        Client(r.server) as client,
    ):
        for _ in range(2):
            refused = await client.call_tool(
                "start_agent",
                {"channel": "own-llm", "llm_url": "https://llm.example/v1/chat/completions"},
            )
            assert refused.is_error
            assert "limit reached" not in error_text(refused)
        started = await client.call_tool("start_agent", {"channel": "allowed"})
        assert not started.is_error, error_text(started)
        assert r.server.runtime.guard.limiter.active("agent") == 1
