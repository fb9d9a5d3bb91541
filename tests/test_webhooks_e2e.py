"""The service's event feed end to end: the emulator delivers its signed notification callbacks
over HTTP to the MCP server (uvicorn on loopback, ``POST /webhooks/agora``), whose feed applies
them: limit slots, started-agent records, the archive, ``wait`` and subscribers.

Polling is pushed out of the way (every watcher reads once, then waits an hour), so what changes
can only have come by webhook. Time is moved on the emulator's clock, never slept; a test waits
for the deliveries (``sender.flush()``) and for the feed (``feed.settled()``)."""

from __future__ import annotations

import hashlib
import hmac
import json
import warnings
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

import anyio
import httpx
from _http_server import served
from _server_helpers import CALLEE, Rig, error_text
from mcp import Client
from mcp.client.session import IncomingMessage
from mcp.shared.exceptions import MCPDeprecationWarning
from mcp_types import ResourceUpdatedNotification

from convoai_mcp.sandbox.webhooks import WebhookSender
from convoai_mcp.server.events import EventFeed
from convoai_mcp.server.transports.webhooks import WEBHOOK_PATH

SECRET = "whsec_e2e-0123"
ENV = {"CONVOAI_WEBHOOK_SECRET": SECRET, "CONVOAI_CONFIRM": "none"}
NEVER = 3600.0


@asynccontextmanager
async def hooked(
    tmp_path: Path, env: dict[str, str] | None = None
) -> AsyncIterator[tuple[Rig, httpx.AsyncClient, WebhookSender, EventFeed]]:
    """The server over HTTP with webhooks on, the emulator delivering to it, polling an hour."""
    async with served(tmp_path, {**ENV, **(env or {})}) as (r, http):
        guard = r.server.runtime.guard
        guard.poll_interval = NEVER
        guard.watchers.subscribed_interval = NEVER
        feed = r.server.events
        assert feed is not None
        url = str(http.base_url).rstrip("/") + WEBHOOK_PATH
        sender = r.sandbox.deliver_webhooks(url, SECRET)
        yield r, http, sender, feed


async def delivered(sender: WebhookSender, feed: EventFeed) -> None:
    """Every event so far delivered, and handled by the server's feed."""
    with anyio.fail_after(30):
        await sender.flush()
        await feed.settled()


async def ok(client: Client, name: str, args: dict[str, Any]) -> dict[str, Any]:
    result = await client.call_tool(name, args)
    assert not result.is_error, error_text(result)
    data: dict[str, Any] = result.structured_content or {}
    return data


async def wait_while(
    client: Client, args: dict[str, Any], action: Callable[[], Awaitable[None]]
) -> dict[str, Any]:
    """Call wait; once it reports that it blocks (its first progress), run ``action``."""
    blocking = anyio.Event()
    result: dict[str, Any] = {}

    async def on_progress(done: float, total: float | None, message: str | None) -> None:
        blocking.set()

    callback: Any = on_progress

    async def run() -> None:
        answer = await client.call_tool("wait", args, progress_callback=callback)
        assert not answer.is_error, error_text(answer)
        result.update(answer.structured_content or {})

    with anyio.fail_after(30):
        async with anyio.create_task_group() as tg:
            tg.start_soon(run)
            await blocking.wait()
            await action()
    return result


def signed_notice(notice: dict[str, Any]) -> tuple[bytes, dict[str, str]]:
    body = json.dumps(notice, separators=(",", ":")).encode()
    return body, {
        "content-type": "application/json",
        "Agora-Signature-V2": hmac.new(SECRET.encode(), body, hashlib.sha256).hexdigest(),
    }


async def post(http: httpx.AsyncClient, notice: dict[str, Any]) -> str:
    body, headers = signed_notice(notice)
    answer = await http.post(WEBHOOK_PATH, content=body, headers=headers)
    assert answer.status_code == 200
    status: str = answer.json()["status"]
    return status


# ----------------------------------------------------------------------------- limit slots


async def test_an_agent_that_leaves_frees_its_slot_at_once(tmp_path: Path) -> None:
    """At a limit of 1, the second start succeeds as soon as the first agent's "left" arrives:
    its watcher would not have polled for an hour."""
    async with (
        hooked(tmp_path, {"CONVOAI_MAX_AGENTS": "1"}) as (r, _, sender, feed),
        Client(r.server) as client,
    ):
        rt = r.server.runtime
        first = (await ok(client, "start_agent", {"channel": "first"}))["agent_id"]
        await delivered(sender, feed)  # 101 agent joined, the greeting's turn
        refused = await client.call_tool("start_agent", {"channel": "second"})
        assert "limit reached" in error_text(refused)
        r.sandbox.state.stop_agent(first)  # it leaves without this server (console, timeout)
        assert rt.guard.limiter.running() == {first: "agent"}  # no poll noticed
        await delivered(sender, feed)
        assert rt.guard.limiter.running() == {}
        await ok(client, "start_agent", {"channel": "second"})
        record = rt.agents[first]
        assert record.ended
        assert record.end_reason == "ended on its own (stopped by a leave request)"
        assert record.ended_at is not None
        assert abs(record.ended_at - r.sandbox.state.now()) < 60
    names = [d.event_type for d in sender.delivered]
    assert names[:1] == [101] and 102 in names and 103 in names
    assert len({d.notice_id for d in sender.delivered}) == len(sender.delivered)


# ----------------------------------------------------------------------------- the archive


async def test_history_and_turns_arrive_in_the_archive(tmp_path: Path) -> None:
    """What was said after the watcher's only read reaches the archive by webhook (103 agent
    history after the agent left: the service no longer serves the history then), and the
    turns (112)."""
    async with hooked(tmp_path) as (r, _, sender, feed), Client(r.server) as client:
        rt = r.server.runtime
        agent_id = (await ok(client, "start_agent", {"channel": "archived"}))["agent_id"]
        await ok(client, "speak", {"agent_id": agent_id, "text": "Kept by webhook"})
        r.sandbox.state.advance(30)  # the speech ends
        r.sandbox.state.stop_agent(agent_id)
        await delivered(sender, feed)
        archive = rt.guard.archive
        assert archive is not None
        history = await archive.load_history(agent_id)
        turns = await archive.load_turns(agent_id)
    assert history is not None and turns is not None
    assert "Kept by webhook" in [entry["content"] for entry in history["contents"]]
    assert "api_speak" in [turn["start"]["type"] for turn in turns["turns"]]
    assert "applied" in {outcome for _, outcome in feed.outcomes}


# ----------------------------------------------------------------------------- subscribers, wait


async def test_a_subscriber_and_a_wait_hear_the_end_without_a_poll(tmp_path: Path) -> None:
    updates: list[str] = []
    arrived = anyio.Event()

    async def on_message(message: IncomingMessage) -> None:
        if isinstance(message, ResourceUpdatedNotification):
            updates.append(str(message.params.uri))
            arrived.set()

    async with (
        hooked(tmp_path) as (r, _, sender, feed),
        Client(r.server, mode="legacy", message_handler=on_message) as client,
    ):
        agent_id = (await ok(client, "start_agent", {"channel": "followed"}))["agent_id"]
        uri = f"convoai://agents/{agent_id}/history"
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", MCPDeprecationWarning)
            await client.subscribe_resource(uri)

        async def leave() -> None:
            r.sandbox.state.stop_agent(agent_id)
            await delivered(sender, feed)

        ended = await wait_while(
            client, {"agent_id": agent_id, "until": "ended", "timeout_seconds": 600}, leave
        )
        with anyio.fail_after(10):
            await arrived.wait()
        assert r.server.runtime.guard.watcher(agent_id) is None  # it stopped with the end
    assert (ended["event"], ended["happened"], ended["ended"]) == ("ended", True, True)
    assert ended["waited_seconds"] < 600
    assert updates and set(updates) == {uri}


async def test_a_wait_sees_the_agent_run_when_it_joins(tmp_path: Path) -> None:
    async with hooked(tmp_path) as (r, _, sender, feed), Client(r.server) as client:
        r.sandbox.state.start_delay = 3
        agent_id = (await ok(client, "start_agent", {"channel": "joining"}))["agent_id"]

        async def join() -> None:
            r.sandbox.state.advance(4)
            await delivered(sender, feed)

        running = await wait_while(
            client, {"agent_id": agent_id, "until": "running", "timeout_seconds": 600}, join
        )
    assert (running["event"], running["happened"], running["state"]) == ("running", True, "RUNNING")


async def test_a_call_answered_then_hung_up_by_the_callee(tmp_path: Path) -> None:
    """202 outbound call state: ``answered`` reaches a wait; ``hangup`` frees the call's slot
    and marks it ended with the service's reason."""
    async with (
        hooked(tmp_path, {"CONVOAI_MAX_CALLS": "1"}) as (r, _, sender, feed),
        Client(r.server) as client,
    ):
        rt = r.server.runtime
        r.sandbox.state.answer_delay = 5
        call_id = (await ok(client, "call", {"to_number": CALLEE}))["agent_id"]

        async def answer() -> None:
            r.sandbox.state.advance(6)
            await delivered(sender, feed)

        answered = await wait_while(
            client, {"agent_id": call_id, "until": "answered", "timeout_seconds": 600}, answer
        )
        assert rt.guard.limiter.running() == {call_id: "call"}
        r.sandbox.state.hangup(call_id)  # the far end ended it
        await delivered(sender, feed)
        assert rt.guard.limiter.running() == {}
        assert rt.agents[call_id].ended
        assert rt.agents[call_id].end_reason == "ended on its own (request)"
    assert (answered["event"], answered["state"]) == ("answered", "answered")
    assert 202 in [d.event_type for d in sender.delivered]


# ----------------------------------------------------------------------------- order, repeats


async def test_an_out_of_order_delivery_does_not_move_a_state_back(tmp_path: Path) -> None:
    """A "joined" that arrives after "left" changes nothing; an older history snapshot is not
    archived over a newer one (the interrupted entry keeps its shorter end)."""
    async with hooked(tmp_path) as (r, http, _, feed):
        rt = r.server.runtime
        base = {"productId": 17, "notifyMs": 1_700_000_009_000}
        agent = {"agent_id": "AGENTELSEWHERE", "channel": "room"}
        entry = {"role": "assistant", "content": "Hello there", "speech_start_ms": 100}
        newer = {**agent, "ts": 1_700_000_005_000, "contents": [{**entry, "speech_end_ms": 900}]}
        older = {**agent, "ts": 1_700_000_001_000, "contents": [{**entry, "speech_end_ms": 3000}]}
        notices = [
            {**base, "noticeId": "o-1", "eventType": 102, "payload": {**agent, "ts": 4}},
            {**base, "noticeId": "o-2", "eventType": 101, "payload": {**agent, "ts": 1}},
            {**base, "noticeId": "o-3", "eventType": 103, "payload": newer},
            {**base, "noticeId": "o-4", "eventType": 103, "payload": older},
        ]
        for notice in notices:
            assert await post(http, notice) == "ok"
        with anyio.fail_after(30):
            await feed.settled()
        archive = rt.guard.archive
        assert archive is not None
        kept = await archive.load_history("AGENTELSEWHERE")
    outcomes = dict(feed.outcomes)
    assert [outcomes[f"o-{n}"] for n in range(1, 5)] == ["applied", "stale", "applied", "stale"]
    assert kept is not None
    assert [c["speech_end_ms"] for c in kept["contents"]] == [900]


async def test_a_replayed_notice_is_fed_once(tmp_path: Path) -> None:
    async with hooked(tmp_path) as (_, http, _, feed):
        notice = {
            "noticeId": "r-1",
            "productId": 17,
            "eventType": 102,
            "notifyMs": 1,
            "payload": {"agent_id": "AGENTX", "channel": "room"},
        }
        assert await post(http, notice) == "ok"
        for retry in range(3):  # the service's retries carry a new notifyMs
            assert await post(http, {**notice, "notifyMs": 2 + retry}) == "duplicate"
        await feed.settled()
    assert [notice_id for notice_id, _ in feed.outcomes] == ["r-1"]


async def test_unknown_types_and_odd_payloads_are_accepted_and_ignored(tmp_path: Path) -> None:
    """An unknown type never reaches the feed; a known one without an agent id, or with a
    payload it cannot read, is ignored, and the feed goes on with the next event."""
    async with hooked(tmp_path) as (r, http, _, feed):
        base = {"productId": 17, "notifyMs": 1}
        assert await post(http, {**base, "noticeId": "u-1", "eventType": 1001, "payload": {}})
        assert await post(http, {**base, "noticeId": "u-2", "eventType": 101, "payload": {}})
        odd = {"agent_id": "AGENTY", "contents": "not a list"}
        assert await post(http, {**base, "noticeId": "u-3", "eventType": 103, "payload": odd})
        fine = {"agent_id": "AGENTY", "contents": [{"role": "user", "content": "still fed"}]}
        assert await post(http, {**base, "noticeId": "u-4", "eventType": 103, "payload": fine})
        await feed.settled()
        archive = r.server.runtime.guard.archive
        assert archive is not None
        kept = await archive.load_history("AGENTY")
    assert dict(feed.outcomes) == {"u-2": "ignored", "u-3": "ignored", "u-4": "applied"}
    assert kept is not None and [c["content"] for c in kept["contents"]] == ["still fed"]


async def test_a_refused_delivery_is_retried_on_the_emulators_clock(tmp_path: Path) -> None:
    """Signed with the wrong secret, the server answers 401: the emulator retries the same
    notice (same noticeId) after 5 s of its clock, and again; the fixed one gets through."""
    async with hooked(tmp_path) as (r, _, sender, feed), Client(r.server) as client:
        sender.secret = "not-the-secret"
        await ok(client, "start_agent", {"channel": "retried"})
        await sender.flush()
        assert not sender.delivered and sender.pending
        first = {d.notice_id: d.attempts for d in sender.pending}
        assert set(first.values()) == {1}
        await sender.flush()  # not due yet: nothing is sent again
        assert {d.notice_id: d.attempts for d in sender.pending} == first
        sender.secret = SECRET
        r.sandbox.state.advance(5)
        await delivered(sender, feed)
        assert not sender.pending
        retried = {d.notice_id: d.attempts for d in sender.delivered if d.notice_id in first}
        assert retried == dict.fromkeys(first, 2)
