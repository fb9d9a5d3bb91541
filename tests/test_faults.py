"""Fault scenarios through the MCP server (in-memory ``mcp.Client``) against the emulator's fault
injection: 429 bursts, 5xx, dropped connections, slow answers past the deadline, malformed JSON,
lost ``join`` / ``call`` answers, and a region that is down.

For every scenario: the tool result is a success or a clear ``isError`` (what went wrong and a
next step, no traceback), the server serves the next call, no agent is created twice (counted
by name in the emulator's state), and the archive keeps every history entry (the agent is
stopped and its history resource is read back from the archive).

The ConvoAI client behind the server gets a retry policy with tiny backoff and an injected
``sleep`` that returns at once, so nothing waits on real backoff; no timing is asserted.
"""

from __future__ import annotations

import contextlib
import socket
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

import anyio
import httpx
import pytest
from _client_helpers import SleepRecorder, closed_port_url
from _server_helpers import BY_ARGUMENT, CALLEE, Rig, error_text, read_json, rig
from mcp import Client
from mcp_types import CallToolResult

from convoai_mcp._retry import RetryPolicy
from convoai_mcp.client import DEFAULT_TIMEOUT, BasicAuth, ConvoAIClient
from convoai_mcp.sandbox import DEMO_CREDENTIALS, PATH_PREFIX, Fault, Sandbox
from convoai_mcp.server.app import ConvoAIServer, build_server

# ------------------------------------------------------------------------------------ the rig


class InFlight:
    """Requests the emulator is still handling (to wait for a slow one without sleeping)."""

    def __init__(self) -> None:
        self.count = 0
        self._idle = anyio.Event()
        self._idle.set()

    def enter(self) -> None:
        if self.count == 0:
            self._idle = anyio.Event()
        self.count += 1

    def leave(self) -> None:
        self.count -= 1
        if self.count == 0:
            self._idle.set()

    async def drained(self) -> None:
        """Return once no request is being handled."""
        while self.count:
            await self._idle.wait()


class TrackInFlight:
    """ASGI middleware counting the requests the emulator is still handling."""

    def __init__(self, app: Any, inflight: InFlight) -> None:
        self.app = app
        self.inflight = inflight

    async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        self.inflight.enter()
        try:
            await self.app(scope, receive, send)
        finally:
            self.inflight.leave()


FAST_RETRY = RetryPolicy(max_attempts=4, deadline=5.0, base_delay=0.001, max_delay=0.005)


@dataclass
class Faulty:
    """A served emulator, a server on it whose client retries fast, and the client's sleeps."""

    rig: Rig
    server: ConvoAIServer
    client: ConvoAIClient
    sleeps: SleepRecorder
    down: Sandbox | None = None
    inflight: InFlight | None = None

    @property
    def sandbox(self) -> Sandbox:
        return self.rig.sandbox

    def fault(self, route: str, kind: Any, **fields: Any) -> Fault:
        return self.sandbox.faults.add(Fault(route=route, kind=kind, **fields))

    def agents_named(self, name: str) -> list[str]:
        """Ids of every agent the emulator ever created with ``name`` (stopped ones too)."""
        state = self.sandbox.state
        with state.lock:
            return [a.agent_id for a in state.agents.values() if a.config.name == name]

    def agents_in(self, channel: str) -> list[str]:
        state = self.sandbox.state
        with state.lock:
            return [a.agent_id for a in state.agents.values() if a.config.channel == channel]

    def service_history(self, agent_id: str) -> list[tuple[str, str]]:
        """(role, content) of every entry the emulator holds for a running agent."""
        contents = self.sandbox.state.history(agent_id)["contents"]
        return [(e["role"], e["content"]) for e in contents]


Down = Literal["refused", "503", "blackhole"]
BLACKHOLE_TIMEOUT = httpx.Timeout(connect=0.5, read=0.3, write=0.5, pool=0.5)
"""Read timeout for the black-hole region: a short wait instead of the default 15 s."""


def blackhole(stack: contextlib.ExitStack) -> str:
    """A loopback base URL that accepts connections and never answers."""
    sock = stack.enter_context(socket.socket())
    sock.bind(("127.0.0.1", 0))
    sock.listen(64)  # the kernel completes connections; nobody ever reads or answers
    return f"http://127.0.0.1:{sock.getsockname()[1]}{PATH_PREFIX}"


@contextlib.asynccontextmanager
async def faulty(
    tmp_path: Path,
    *,
    retry: RetryPolicy = FAST_RETRY,
    down: Down | None = None,
    track_inflight: bool = False,
) -> AsyncIterator[Faulty]:
    """The shared server rig, with the server rebuilt on a fast-retrying client.

    ``down`` puts a dead region first in the client's endpoint list: a port where nothing
    listens ("refused"), a second emulator sharing the state that answers 503 ("503"), or a
    port that accepts connections and never answers ("blackhole", with a short read timeout).
    ``track_inflight`` counts the emulator's requests in flight (:attr:`Faulty.inflight`).
    """
    async with (
        rig(tmp_path, BY_ARGUMENT) as r,
        contextlib.AsyncExitStack() as stack,
    ):
        sockets = stack.enter_context(contextlib.ExitStack())
        settings = r.settings
        assert settings.customer_id is not None and settings.customer_secret is not None
        assert settings.app_certificate is not None
        endpoints = [r.base_url]
        inflight: InFlight | None = None
        if track_inflight:
            inflight = InFlight()
            r.sandbox.app.add_middleware(TrackInFlight, inflight=inflight)
        dead: Sandbox | None = None
        if down == "refused":
            endpoints.insert(0, closed_port_url())
        elif down == "503":
            dead = Sandbox(DEMO_CREDENTIALS, state=r.sandbox.state)
            dead.faults.add(Fault(route="*", kind="status", status=503))
            endpoints.insert(0, await stack.enter_async_context(dead.serve("127.0.0.1", 0)))
        elif down == "blackhole":
            endpoints.insert(0, blackhole(sockets))
        sleeps = SleepRecorder()
        client = ConvoAIClient(
            settings.app_id,
            BasicAuth(settings.customer_id, settings.customer_secret.get_secret_value()),
            endpoints=endpoints,
            app_certificate=settings.app_certificate.get_secret_value(),
            retry=retry,
            sleep=sleeps,
            timeout=BLACKHOLE_TIMEOUT if down == "blackhole" else DEFAULT_TIMEOUT,
        )
        server = build_server(settings, client=client, poll_interval=0.02)
        try:
            yield Faulty(r, server, client, sleeps, dead, inflight)
        finally:
            await server.runtime.aclose()
            await client.aclose()


# ------------------------------------------------------------------------------- assertions


def ok(result: CallToolResult) -> dict[str, Any]:
    """The structured content of a successful result."""
    assert not result.is_error, error_text(result)
    data: dict[str, Any] | None = result.structured_content
    assert data is not None
    return data


def clear_error(result: CallToolResult, tool: str, *needles: str) -> str:
    """Assert ``result`` is an isError result that names the problem and a next step."""
    text = error_text(result)
    assert f"{tool} failed" in text, text
    assert "Next:" in text, text
    assert text.split("Next:", 1)[1].strip(), text
    assert "Traceback" not in text and 'File "' not in text, text
    assert text.strip() != f"Error executing tool {tool}", "a crash, not a handled failure"
    for needle in needles:
        assert needle.lower() in text.lower(), (needle, text)
    return text


async def still_serving(client: Client) -> None:
    """The server answers the next calls normally."""
    listed = ok(await client.call_tool("list_agents", {}))
    assert isinstance(listed["agents"], list)
    ok(await client.call_tool("list_numbers", {}))


async def start(client: Client, name: str, channel: str | None = None) -> CallToolResult:
    return await client.call_tool(
        "start_agent", {"channel": channel or f"room-{name}", "name": name}
    )


async def stop_and_check_archive(env: Faulty, client: Client, agent_id: str) -> None:
    """Stop the agent; its history resource then answers from the archive with every entry
    the service held just before the stop (one last line is said first)."""
    ok(await client.call_tool("speak", {"agent_id": agent_id, "text": "That is all."}))
    expected = env.service_history(agent_id)
    assert ("assistant", "That is all.") in expected, expected
    stopped = ok(await client.call_tool("stop_agent", {"agent_id": agent_id}))
    assert stopped["ended"] is True
    assert stopped["archived_history"] is True
    history = await read_json(client, f"convoai://agents/{agent_id}/history")
    assert history["source"] == "archive"
    assert [(e["role"], e["untrusted_text"]) for e in history["entries"]] == expected


async def spoken_once(env: Faulty, agent_id: str, text: str) -> None:
    said = [content for role, content in env.service_history(agent_id) if content == text]
    assert len(said) == 1, env.service_history(agent_id)


# --------------------------------------------------------------------------- 429 with Retry-After


async def test_429_burst_on_join_is_absorbed_honouring_retry_after(tmp_path: Path) -> None:
    async with faulty(tmp_path) as env, Client(env.server) as client:
        fault = env.fault("agents.start", "status", status=429, retry_after=0.01, times=3)
        data = ok(await start(client, "burst-429"))
        assert fault.hits == 3
        assert env.sleeps.delays.count(0.01) >= 3, env.sleeps.delays
        assert env.agents_named("burst-429") == [data["agent_id"]]
        await still_serving(client)
        ok(await client.call_tool("speak", {"agent_id": data["agent_id"], "text": "after 429"}))
        await stop_and_check_archive(env, client, data["agent_id"])


async def test_429_longer_than_the_retries_is_a_clear_error_then_serving(tmp_path: Path) -> None:
    async with faulty(tmp_path) as env, Client(env.server) as client:
        env.fault("agents.start", "status", status=429, retry_after=0.01)
        text = clear_error(await start(client, "long-429"), "start_agent", "429")
        assert env.agents_named("long-429") == []
        env.sandbox.faults.clear()
        data = ok(await start(client, "long-429"))
        assert env.agents_named("long-429") == [data["agent_id"]]
        await still_serving(client)
        await stop_and_check_archive(env, client, data["agent_id"])
    assert "ResourceQuotaLimitExceeded" in text or "rate" in text.lower()


async def test_retry_after_beyond_the_policy_is_not_waited_for(tmp_path: Path) -> None:
    async with faulty(tmp_path) as env, Client(env.server) as client:
        env.fault("agents.list", "status", status=429, retry_after=3600, times=1)
        clear_error(await client.call_tool("list_agents", {}), "list_agents", "429")
        assert 3600 not in env.sleeps.delays
        await still_serving(client)


async def test_429_on_speak_is_retried_and_said_once(tmp_path: Path) -> None:
    async with faulty(tmp_path) as env, Client(env.server) as client:
        agent_id = ok(await start(client, "speak-429"))["agent_id"]
        env.fault("agents.speak", "status", status=429, retry_after=0.01, times=2)
        ok(await client.call_tool("speak", {"agent_id": agent_id, "text": "rate limited"}))
        await spoken_once(env, agent_id, "rate limited")
        await stop_and_check_archive(env, client, agent_id)


# ------------------------------------------------------------------------------------------ 5xx


@pytest.mark.parametrize("status", [500, 502, 503, 504])
async def test_5xx_burst_on_join_creates_one_agent(tmp_path: Path, status: int) -> None:
    async with faulty(tmp_path) as env, Client(env.server) as client:
        env.fault("agents.start", "status", status=status, times=2)
        data = ok(await start(client, f"five-{status}"))
        assert env.agents_named(f"five-{status}") == [data["agent_id"]]
        ok(await client.call_tool("speak", {"agent_id": data["agent_id"], "text": "after 5xx"}))
        await still_serving(client)
        await stop_and_check_archive(env, client, data["agent_id"])


async def test_persistent_503_is_a_clear_error_then_serving(tmp_path: Path) -> None:
    async with faulty(tmp_path) as env, Client(env.server) as client:
        agent_id = ok(await start(client, "down-503"))["agent_id"]
        env.fault("agents.get", "status", status=503)
        clear_error(await client.call_tool("get_agent", {"agent_id": agent_id}), "get_agent", "503")
        env.sandbox.faults.clear()
        assert (
            ok(await client.call_tool("get_agent", {"agent_id": agent_id}))["status"] == "RUNNING"
        )
        await stop_and_check_archive(env, client, agent_id)


async def test_500_on_speak_is_not_repeated(tmp_path: Path) -> None:
    """A 500 may have been performed: speak is not retried, the error says so."""
    async with faulty(tmp_path) as env, Client(env.server) as client:
        agent_id = ok(await start(client, "speak-500"))["agent_id"]
        env.fault("agents.speak", "status", status=500, times=1)
        clear_error(
            await client.call_tool("speak", {"agent_id": agent_id, "text": "maybe said"}),
            "speak",
            "500",
        )
        ok(await client.call_tool("speak", {"agent_id": agent_id, "text": "surely said"}))
        await spoken_once(env, agent_id, "surely said")
        await stop_and_check_archive(env, client, agent_id)


async def test_503_burst_on_history_during_stop_loses_nothing(tmp_path: Path) -> None:
    async with faulty(tmp_path) as env, Client(env.server) as client:
        agent_id = ok(await start(client, "hist-503"))["agent_id"]
        for text in ("one", "two", "three"):
            ok(await client.call_tool("speak", {"agent_id": agent_id, "text": text}))
        env.fault("agents.history", "status", status=503, times=2)
        env.fault("agents.turns", "status", status=502, times=1)
        await stop_and_check_archive(env, client, agent_id)


# ---------------------------------------------------------------------------- dropped connections


async def test_dropped_join_is_retried_and_creates_one_agent(tmp_path: Path) -> None:
    async with faulty(tmp_path) as env, Client(env.server) as client:
        env.fault("agents.start", "drop", times=2)
        data = ok(await start(client, "dropped"))
        assert env.agents_named("dropped") == [data["agent_id"]]
        await still_serving(client)
        ok(await client.call_tool("speak", {"agent_id": data["agent_id"], "text": "hello"}))
        await stop_and_check_archive(env, client, data["agent_id"])


async def test_dropped_speak_is_a_clear_error_and_not_repeated(tmp_path: Path) -> None:
    async with faulty(tmp_path) as env, Client(env.server) as client:
        agent_id = ok(await start(client, "drop-speak"))["agent_id"]
        env.fault("agents.speak", "drop", times=1)
        clear_error(
            await client.call_tool("speak", {"agent_id": agent_id, "text": "not said"}), "speak"
        )
        assert "not said" not in [c for _, c in env.service_history(agent_id)]
        ok(await client.call_tool("speak", {"agent_id": agent_id, "text": "said"}))
        await spoken_once(env, agent_id, "said")
        await stop_and_check_archive(env, client, agent_id)


async def test_dropped_connections_everywhere_then_recovery(tmp_path: Path) -> None:
    async with faulty(tmp_path) as env, Client(env.server) as client:
        agent_id = ok(await start(client, "drop-all"))["agent_id"]
        ok(await client.call_tool("speak", {"agent_id": agent_id, "text": "before the outage"}))
        env.fault("*", "drop")
        for tool, args in [
            ("get_agent", {"agent_id": agent_id}),
            ("list_agents", {}),
            ("list_numbers", {}),
            ("start_agent", {"channel": "room-x", "name": "drop-all-2"}),
        ]:
            clear_error(await client.call_tool(tool, args), tool, "answer")
        env.sandbox.faults.clear()
        await still_serving(client)
        assert env.agents_named("drop-all-2") == []
        await stop_and_check_archive(env, client, agent_id)


async def test_dropped_stop_is_retried_and_the_archive_is_complete(tmp_path: Path) -> None:
    async with faulty(tmp_path) as env, Client(env.server) as client:
        agent_id = ok(await start(client, "drop-stop"))["agent_id"]
        ok(await client.call_tool("speak", {"agent_id": agent_id, "text": "last words"}))
        env.fault("agents.stop", "drop", times=1)
        await stop_and_check_archive(env, client, agent_id)
        await still_serving(client)


# ------------------------------------------------------------------------- slow, past the deadline


SHORT_DEADLINE = RetryPolicy(max_attempts=4, deadline=0.3, base_delay=0.001, max_delay=0.005)


async def test_slow_read_past_the_deadline_is_a_clear_error(tmp_path: Path) -> None:
    async with faulty(tmp_path, retry=SHORT_DEADLINE) as env, Client(env.server) as client:
        agent_id = ok(await start(client, "slow-get"))["agent_id"]
        env.fault("agents.get", "latency", delay=0.6, times=1)
        clear_error(
            await client.call_tool("get_agent", {"agent_id": agent_id}), "get_agent", "deadline"
        )
        assert (
            ok(await client.call_tool("get_agent", {"agent_id": agent_id}))["status"] == "RUNNING"
        )
        ok(await client.call_tool("speak", {"agent_id": agent_id, "text": "still here"}))
        await stop_and_check_archive(env, client, agent_id)


async def test_slow_join_past_the_deadline_never_yields_two_agents_by_name(
    tmp_path: Path,
) -> None:
    """The join is performed after the client gave up: the error is clear, and starting again
    under the same name returns that agent instead of creating a second one."""
    async with faulty(tmp_path, retry=SHORT_DEADLINE, track_inflight=True) as env:
        assert env.inflight is not None
        async with Client(env.server) as client:
            env.fault("agents.start", "latency", delay=0.6, times=1)
            clear_error(await start(client, "slow-join"), "start_agent", "deadline")
            await still_serving(client)
            await env.inflight.drained()  # the emulator has now performed the slow join
            assert len(env.agents_named("slow-join")) == 1
            again = ok(await start(client, "slow-join"))
            assert env.agents_named("slow-join") == [again["agent_id"]]
            await stop_and_check_archive(env, client, again["agent_id"])


async def test_an_unanswered_start_does_not_capture_a_differently_named_start(
    tmp_path: Path,
) -> None:
    """Only the same request adopts what an unanswered one created: another name in the same
    channel is a second agent, on purpose."""
    async with faulty(tmp_path, retry=SHORT_DEADLINE, track_inflight=True) as env:
        assert env.inflight is not None
        async with Client(env.server) as client:
            env.fault("agents.start", "latency", delay=0.6, times=1)
            clear_error(await start(client, "first", channel="shared"), "start_agent")
            await env.inflight.drained()
            other = ok(await start(client, "second", channel="shared"))
            assert env.agents_named("second") == [other["agent_id"]]
            assert len(env.agents_in("shared")) == 2


@pytest.mark.parametrize("tool", ["start_agent", "call"])
async def test_an_unanswered_request_is_adopted_only_by_the_same_arguments(
    tmp_path: Path, tool: str
) -> None:
    """After an unanswered start / call in a channel, a request there with other arguments (a
    different system prompt) is a new agent; the first request repeated still adopts its own."""
    base: dict[str, Any] = (
        {"channel": "same-room"}
        if tool == "start_agent"
        else {"to_number": CALLEE, "channel": "same-room", "confirm": True}
    )
    first = {**base, "system_prompt": "You sell tickets."}
    other = {**base, "system_prompt": "You answer billing questions."}
    route = "agents.start" if tool == "start_agent" else "calls.create"
    async with faulty(tmp_path, retry=SHORT_DEADLINE, track_inflight=True) as env:
        assert env.inflight is not None
        async with Client(env.server) as client:
            env.fault(route, "latency", delay=0.6, times=1)
            clear_error(await client.call_tool(tool, first), tool, "same arguments")
            await env.inflight.drained()  # the first one was performed after all
            [lost] = env.agents_in("same-room")
            second = ok(await client.call_tool(tool, other))
            assert second["agent_id"] != lost
            again = ok(await client.call_tool(tool, {**first, "confirm": True}))
            assert again["agent_id"] == lost
            assert sorted(env.agents_in("same-room")) == sorted([lost, second["agent_id"]])


@pytest.mark.parametrize("tool", ["start_agent", "call"])
async def test_slow_start_past_the_deadline_then_the_same_call_again_starts_one_agent(
    tmp_path: Path, tool: str
) -> None:
    """The first start / call is performed after the client gave up; the same call again (as
    the error suggests) returns that agent: one agent in the channel, one phone rings."""
    args: dict[str, Any] = (
        {"channel": "slow-room"}
        if tool == "start_agent"
        else {"to_number": CALLEE, "channel": "slow-room", "confirm": True}
    )
    route = "agents.start" if tool == "start_agent" else "calls.create"
    async with faulty(tmp_path, retry=SHORT_DEADLINE, track_inflight=True) as env:
        assert env.inflight is not None
        async with Client(env.server) as client:
            env.fault(route, "latency", delay=0.6, times=1)
            text = clear_error(await client.call_tool(tool, args), tool, "deadline", "again")
            assert "may have started" in text and "could not be reached" not in text, text
            await env.inflight.drained()  # performed by the service after all
            assert len(env.agents_in("slow-room")) == 1
            again = ok(await client.call_tool(tool, args))
            assert env.agents_in("slow-room") == [again["agent_id"]]


async def test_emulator_performs_a_slow_join_after_the_client_gave_up(tmp_path: Path) -> None:
    """As the real service does: the request arrived, so it is performed however slowly."""
    async with faulty(tmp_path, retry=SHORT_DEADLINE, track_inflight=True) as env:
        assert env.inflight is not None
        async with Client(env.server) as client:
            env.fault("agents.start", "latency", delay=0.6, times=1)
            clear_error(await start(client, "slow-performed"), "start_agent", "deadline")
            await env.inflight.drained()
            assert len(env.agents_named("slow-performed")) == 1


async def test_slow_answers_within_the_read_timeout_succeed(tmp_path: Path) -> None:
    async with faulty(tmp_path) as env, Client(env.server) as client:
        env.fault("*", "latency", delay=0.05, times=3)
        data = ok(await start(client, "slowish"))
        ok(await client.call_tool("speak", {"agent_id": data["agent_id"], "text": "slowly"}))
        assert env.agents_named("slowish") == [data["agent_id"]]
        await stop_and_check_archive(env, client, data["agent_id"])


# ---------------------------------------------------------------------------- malformed answers


async def test_malformed_join_answer_recovers_the_agent(tmp_path: Path) -> None:
    """The join was performed but its answer is broken JSON: the retry meets 409 and the client
    returns the agent it created."""
    async with faulty(tmp_path) as env, Client(env.server) as client:
        env.fault("agents.start", "malformed", times=1)
        data = ok(await start(client, "malformed-join"))
        assert env.agents_named("malformed-join") == [data["agent_id"]]
        ok(await client.call_tool("speak", {"agent_id": data["agent_id"], "text": "recovered"}))
        await stop_and_check_archive(env, client, data["agent_id"])


async def test_malformed_read_is_retried(tmp_path: Path) -> None:
    async with faulty(tmp_path) as env, Client(env.server) as client:
        agent_id = ok(await start(client, "malformed-get"))["agent_id"]
        env.fault("agents.get", "malformed", times=2)
        assert (
            ok(await client.call_tool("get_agent", {"agent_id": agent_id}))["status"] == "RUNNING"
        )
        env.fault("agents.list", "malformed")
        clear_error(await client.call_tool("list_agents", {}), "list_agents", "JSON")
        env.sandbox.faults.clear()
        await still_serving(client)
        ok(await client.call_tool("speak", {"agent_id": agent_id, "text": "fine"}))
        await stop_and_check_archive(env, client, agent_id)


async def test_malformed_speak_answer_is_not_repeated(tmp_path: Path) -> None:
    async with faulty(tmp_path) as env, Client(env.server) as client:
        agent_id = ok(await start(client, "malformed-speak"))["agent_id"]
        env.fault("agents.speak", "malformed", times=1)
        clear_error(
            await client.call_tool("speak", {"agent_id": agent_id, "text": "said once"}), "speak"
        )
        await spoken_once(env, agent_id, "said once")
        await still_serving(client)
        await stop_and_check_archive(env, client, agent_id)


# ------------------------------------------------------------------------------- lost answers


async def test_lost_join_answer_recovers_the_agent(tmp_path: Path) -> None:
    async with faulty(tmp_path) as env, Client(env.server) as client:
        env.fault("agents.start", "lost_response", times=1)
        data = ok(await start(client, "lost-join"))
        assert env.agents_named("lost-join") == [data["agent_id"]]
        ok(await client.call_tool("speak", {"agent_id": data["agent_id"], "text": "found"}))
        await still_serving(client)
        await stop_and_check_archive(env, client, data["agent_id"])


async def test_lost_join_answer_without_a_name_creates_one_agent(tmp_path: Path) -> None:
    async with faulty(tmp_path) as env, Client(env.server) as client:
        env.fault("agents.start", "lost_response", times=1)
        data = ok(await client.call_tool("start_agent", {"channel": "lost-unnamed"}))
        assert env.agents_in("lost-unnamed") == [data["agent_id"]]
        assert env.agents_named(data["name"]) == [data["agent_id"]]
        ok(await client.call_tool("speak", {"agent_id": data["agent_id"], "text": "one"}))
        await stop_and_check_archive(env, client, data["agent_id"])


@pytest.mark.parametrize("tool", ["start_agent", "call"])
async def test_lost_answer_then_503_until_the_end_is_adopted_by_the_same_request(
    tmp_path: Path, tool: str
) -> None:
    """The first attempt is performed but its answer lost; every retry then meets 503. The
    error says the agent may exist, and the same request again returns it: one agent."""
    args: dict[str, Any] = (
        {"channel": "lost-then-503"}
        if tool == "start_agent"
        else {"to_number": CALLEE, "channel": "lost-then-503", "confirm": True}
    )
    route = "agents.start" if tool == "start_agent" else "calls.create"
    async with faulty(tmp_path) as env, Client(env.server) as client:
        env.fault(route, "lost_response", times=1)
        env.fault(route, "status", status=503)
        text = clear_error(await client.call_tool(tool, args), tool, "same arguments")
        assert "may have started" in text, text
        [created] = env.agents_in("lost-then-503")
        env.sandbox.faults.clear()
        again = ok(await client.call_tool(tool, args))
        assert again["agent_id"] == created
        assert env.agents_in("lost-then-503") == [created]


async def test_lost_call_answer_dials_once(tmp_path: Path) -> None:
    async with faulty(tmp_path) as env, Client(env.server) as client:
        env.fault("calls.create", "lost_response", times=1)
        placed = ok(
            await client.call_tool(
                "call", {"to_number": CALLEE, "channel": "lost-call", "confirm": True}
            )
        )
        agent_id = placed["agent_id"]
        assert env.agents_in("lost-call") == [agent_id]
        state = env.sandbox.state
        with state.lock:
            calls = [c for c in state.calls.values() if c.agent_id == agent_id]
        assert len(calls) == 1
        ok(await client.call_tool("speak", {"agent_id": agent_id, "text": "hello caller"}))
        expected = env.service_history(agent_id)
        hung = ok(await client.call_tool("hangup", {"agent_id": agent_id}))
        assert hung["archived_history"] is True
        history = await read_json(client, f"convoai://agents/{agent_id}/history")
        assert history["source"] == "archive"
        assert [(e["role"], e["untrusted_text"]) for e in history["entries"]] == expected
        await still_serving(client)


@pytest.mark.parametrize("kind", ["lost_response", "malformed"])
async def test_speak_whose_answer_was_lost_warns_it_may_have_been_said(
    tmp_path: Path, kind: str
) -> None:
    """The speak was performed but its answer was lost or broken: the error must not say the
    service was unreachable and 'try again' (the agent would say it twice)."""
    async with faulty(tmp_path) as env, Client(env.server) as client:
        agent_id = ok(await start(client, f"ambiguous-{kind}"))["agent_id"]
        env.fault("agents.speak", kind, times=1)
        text = clear_error(
            await client.call_tool("speak", {"agent_id": agent_id, "text": "Only once."}), "speak"
        )
        await spoken_once(env, agent_id, "Only once.")  # it was performed
        assert "could not be reached" not in text, text
        assert "may have" in text, text
        assert "history" in text, text


async def test_lost_stop_answer_is_still_a_stop(tmp_path: Path) -> None:
    async with faulty(tmp_path) as env, Client(env.server) as client:
        agent_id = ok(await start(client, "lost-stop"))["agent_id"]
        ok(await client.call_tool("speak", {"agent_id": agent_id, "text": "goodbye"}))
        env.fault("agents.stop", "lost_response", times=1)
        await stop_and_check_archive(env, client, agent_id)
        await still_serving(client)


async def test_lost_hangup_answer_is_still_a_hangup(tmp_path: Path) -> None:
    async with faulty(tmp_path) as env, Client(env.server) as client:
        placed = await client.call_tool(
            "call", {"to_number": CALLEE, "channel": "lost-hangup", "confirm": True}
        )
        agent_id = ok(placed)["agent_id"]
        ok(await client.call_tool("speak", {"agent_id": agent_id, "text": "bye now"}))
        expected = env.service_history(agent_id)
        env.fault("calls.hangup", "lost_response", times=1)
        hung = ok(await client.call_tool("hangup", {"agent_id": agent_id}))
        assert hung["ended"] is True and hung["archived_history"] is True
        history = await read_json(client, f"convoai://agents/{agent_id}/history")
        assert history["source"] == "archive"
        assert [(e["role"], e["untrusted_text"]) for e in history["entries"]] == expected
        await still_serving(client)


async def test_history_down_at_stop_still_stops_and_says_the_snapshot_failed(
    tmp_path: Path,
) -> None:
    """Stopping is not held hostage by the archive (the agent costs money): the result says
    the final snapshot failed, and what was archived before stays readable."""
    async with faulty(tmp_path) as env, Client(env.server) as client:
        agent_id = ok(await start(client, "hist-down"))["agent_id"]
        ok(await client.call_tool("speak", {"agent_id": agent_id, "text": "archived early"}))
        history = await read_json(client, f"convoai://agents/{agent_id}/history")
        assert history["source"] == "service"  # a read archives what it sees
        env.fault("agents.history", "status", status=503)
        stopped = ok(await client.call_tool("stop_agent", {"agent_id": agent_id}))
        assert stopped["ended"] is True
        assert stopped["archived_history"] is False
        env.sandbox.faults.clear()
        archived = await read_json(client, f"convoai://agents/{agent_id}/history")
        assert archived["source"] == "archive"
        assert ("assistant", "archived early") in [
            (e["role"], e["untrusted_text"]) for e in archived["entries"]
        ]
        await still_serving(client)


async def test_failed_starts_do_not_use_up_the_agent_limit(tmp_path: Path) -> None:
    """More failed starts than the default concurrency limit (5), then a start succeeds."""
    async with faulty(tmp_path) as env, Client(env.server) as client:
        env.fault("agents.start", "status", status=503)
        for attempt in range(6):
            clear_error(await start(client, f"fail-{attempt}"), "start_agent", "503")
        env.sandbox.faults.clear()
        data = ok(await start(client, "after-failures"))
        assert env.agents_named("after-failures") == [data["agent_id"]]
        await stop_and_check_archive(env, client, data["agent_id"])


# ---------------------------------------------------------------------------------- region down


@pytest.mark.parametrize("down", ["refused", "503", "blackhole"])
async def test_first_region_down_fails_over(tmp_path: Path, down: Down) -> None:
    async with faulty(tmp_path, down=down) as env, Client(env.server) as client:
        data = ok(await start(client, f"failover-{down}"))
        agent_id = data["agent_id"]
        assert env.agents_named(f"failover-{down}") == [agent_id]
        ok(await client.call_tool("speak", {"agent_id": agent_id, "text": "other region"}))
        await still_serving(client)
        await stop_and_check_archive(env, client, agent_id)
        if env.down is not None:
            assert all(f.hits >= 1 for f in env.down.faults.list())


async def test_every_region_down_is_a_clear_error_then_recovery(tmp_path: Path) -> None:
    async with faulty(tmp_path, down="503") as env, Client(env.server) as client:
        outage = env.fault("*", "status", status=503)
        clear_error(await start(client, "all-down"), "start_agent", "503")
        assert outage.hits >= 1
        assert env.agents_named("all-down") == []
        env.sandbox.faults.clear()
        data = ok(await start(client, "all-down"))
        assert env.agents_named("all-down") == [data["agent_id"]]
        ok(await client.call_tool("speak", {"agent_id": data["agent_id"], "text": "back"}))
        await stop_and_check_archive(env, client, data["agent_id"])
