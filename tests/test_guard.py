"""The Guard against the emulator: refusals send nothing, confirmation, limits, archive fallback.

Most tests drive the real server (``build_server``) through the SDK's in-memory ``Client``; a few
drive the Guard directly or through a two-tool MCP server of its own, to pin down behaviour that
does not depend on how the server's tools call it.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
from collections.abc import AsyncIterator, Mapping
from pathlib import Path
from typing import Any

import anyio
import mcp_types as types
import pytest
from _server_helpers import BY_ARGUMENT, CALLEE, OUTBOUND, Rig, error_text, read_json, rig
from mcp import Client
from mcp.client.context import ClientRequestContext
from mcp.server.mcpserver import Context, MCPServer
from mcp.server.mcpserver.exceptions import ToolError
from mcp_types import InputRequiredResult

from convoai_mcp.archive.sqlite import SQLiteArchive as Archive
from convoai_mcp.client import ConvoAIClient
from convoai_mcp.config import Settings
from convoai_mcp.errors import NotFoundError
from convoai_mcp.policy import Policy, PolicyError
from convoai_mcp.redact import MASK, RedactingFilter
from convoai_mcp.sandbox import DEMO_CREDENTIALS, Fault, Sandbox
from convoai_mcp.server.gate import Gate
from convoai_mcp.server.guard import ConfirmationRequired, Guard
from convoai_mcp.server.runtime import make_client
from convoai_mcp.server.sandbox_mode import sandbox_settings

PRESETS = ["deepgram_nova_3", "openai_gpt_4o_mini", "minimax_speech_2_6_turbo"]


class Elicitor:
    """An MCP client's elicitation callback that answers as told and records the questions."""

    def __init__(self, action: str = "accept", confirm: bool = True) -> None:
        self.action = action
        self.confirm = confirm
        self.asked: list[str] = []

    async def __call__(
        self, context: ClientRequestContext, params: types.ElicitRequestParams
    ) -> types.ElicitResult:
        self.asked.append(params.message)
        content = {"confirm": self.confirm} if self.action == "accept" else None
        return types.ElicitResult(action=self.action, content=content)


async def calls_in_sandbox(r: Rig) -> int:
    """How many calls the emulator has seen (the ground truth for 'nothing was sent')."""
    client = r.server.runtime.client
    return len([c async for c in client.calls.list()])


async def agents_in_sandbox(r: Rig) -> int:
    client = r.server.runtime.client
    return len([a async for a in client.agents.list()])


# -- dialing policy through the server ----------------------------------------------------


async def test_call_is_refused_without_an_allowlist_and_nothing_is_dialled(tmp_path: Path) -> None:
    async with rig(tmp_path, {"CONVOAI_CALL_ALLOWLIST": ""}) as r, Client(r.server) as client:
        result = await client.call_tool("call", {"to_number": CALLEE, "confirm": True})
        text = error_text(result)
        assert "no call allow-list" in text and "CONVOAI_CALL_ALLOWLIST" in text
        assert await calls_in_sandbox(r) == 0


async def test_call_outside_the_allowlist_is_refused(tmp_path: Path) -> None:
    async with rig(tmp_path) as r, Client(r.server) as client:
        result = await client.call_tool("call", {"to_number": "+14155550999", "confirm": True})
        assert "not on the call allow-list" in error_text(result)
        assert await calls_in_sandbox(r) == 0


async def test_call_from_a_number_that_is_not_ours_is_refused(tmp_path: Path) -> None:
    async with rig(tmp_path) as r, Client(r.server) as client:
        result = await client.call_tool(
            "call", {"to_number": CALLEE, "from_number": "+14155550777", "confirm": True}
        )
        text = error_text(result)
        assert "outbound-enabled" in text and OUTBOUND in text
        assert await calls_in_sandbox(r) == 0


# -- confirmation -------------------------------------------------------------------------


async def test_without_elicitation_call_needs_confirm_true(tmp_path: Path) -> None:
    async with rig(tmp_path, BY_ARGUMENT) as r, Client(r.server, mode="legacy") as client:
        refused = await client.call_tool("call", {"to_number": CALLEE})
        text = error_text(refused)
        assert "confirmation" in text and "confirm=true" in text and CALLEE in text
        assert await calls_in_sandbox(r) == 0
        placed = await client.call_tool("call", {"to_number": CALLEE, "confirm": True})
        assert not placed.is_error
        assert await calls_in_sandbox(r) == 1


async def test_elicitation_accept_places_the_call(tmp_path: Path) -> None:
    elicitor = Elicitor("accept")
    async with (
        rig(tmp_path) as r,
        Client(r.server, mode="legacy", elicitation_callback=elicitor) as client,
    ):
        result = await client.call_tool("call", {"to_number": CALLEE})
        assert not result.is_error, result
        assert len(elicitor.asked) == 1
        assert CALLEE in elicitor.asked[0] and OUTBOUND in elicitor.asked[0]
        assert "billed" in elicitor.asked[0]
        assert await calls_in_sandbox(r) == 1


@pytest.mark.parametrize(
    ("action", "confirm"), [("decline", True), ("cancel", True), ("accept", False)]
)
async def test_a_declined_confirmation_sends_nothing_even_with_confirm_true(
    tmp_path: Path, action: str, confirm: bool
) -> None:
    elicitor = Elicitor(action, confirm)
    async with (
        rig(tmp_path) as r,
        Client(r.server, mode="legacy", elicitation_callback=elicitor) as client,
    ):
        result = await client.call_tool("call", {"to_number": CALLEE, "confirm": True})
        assert "not confirmed by the user" in error_text(result)
        assert len(elicitor.asked) == 1
        assert await calls_in_sandbox(r) == 0


async def test_start_agent_asks_only_when_configured(tmp_path: Path) -> None:
    elicitor = Elicitor("decline")
    async with (
        rig(tmp_path) as r,
        Client(r.server, mode="legacy", elicitation_callback=elicitor) as client,
    ):
        started = await client.call_tool("start_agent", {"channel": "room-a"})
        assert not started.is_error and elicitor.asked == []
    env = {"CONVOAI_CONFIRM": "call,start_agent"}
    async with (
        rig(tmp_path, env) as r,
        Client(r.server, mode="legacy", elicitation_callback=elicitor) as client,
    ):
        refused = await client.call_tool("start_agent", {"channel": "room-b"})
        assert "not confirmed" in error_text(refused)
        assert "room-b" in elicitor.asked[0]
        assert await agents_in_sandbox(r) == 0


async def test_server_confirms_through_input_required_on_modern_connections(
    tmp_path: Path,
) -> None:
    elicitor = Elicitor("accept")
    async with rig(tmp_path) as r, Client(r.server, elicitation_callback=elicitor) as client:
        result = await client.call_tool("call", {"to_number": CALLEE})
        assert not result.is_error, result
        assert len(elicitor.asked) == 1
        assert await calls_in_sandbox(r) == 1


# The Guard's own confirmation flow on both protocol eras, through a minimal MCP server.


@contextlib.asynccontextmanager
async def sandbox_client(
    tmp_path: Path, env: Mapping[str, str] | None = None
) -> AsyncIterator[tuple[Settings, ConvoAIClient, Sandbox]]:
    sandbox = Sandbox(DEMO_CREDENTIALS, answer_delay=0.0)
    environ = {
        "CONVOAI_CALL_ALLOWLIST": CALLEE,
        "CONVOAI_ARCHIVE_PATH": str(tmp_path / "archive.sqlite3"),
        **(env or {}),
    }
    async with sandbox.serve("127.0.0.1", 0) as base_url:
        settings = sandbox_settings(Settings.from_env(environ, require_credentials=False), base_url)
        async with make_client(settings) as client:
            yield settings, client, sandbox


def dial_server(guard: Guard) -> MCPServer:
    server = MCPServer("dial")

    @server.tool()
    async def dial(ctx: Context, to_number: str, confirm: bool = False) -> Any:
        try:
            await guard.admit_call(ctx, to_number=to_number, from_number=OUTBOUND, confirm=confirm)
        except ConfirmationRequired as exc:
            return exc.result
        except PolicyError as exc:
            raise ToolError(str(exc)) from None
        return "admitted"

    return server


@pytest.mark.parametrize("mode", ["auto", "legacy"])
@pytest.mark.parametrize(("action", "admitted"), [("accept", True), ("decline", False)])
async def test_guard_confirms_on_both_protocol_eras(
    tmp_path: Path, mode: str, action: str, admitted: bool
) -> None:
    elicitor = Elicitor(action)
    async with sandbox_client(tmp_path) as (settings, sdk, _):
        guard = Guard(sdk, policy=Policy.from_settings(settings))
        async with Client(dial_server(guard), mode=mode, elicitation_callback=elicitor) as client:
            result = await client.call_tool("dial", {"to_number": CALLEE})
        assert len(elicitor.asked) == 1
        if admitted:
            assert not result.is_error
            assert [getattr(block, "text", "") for block in result.content] == ["admitted"]
        else:
            assert "not confirmed" in error_text(result)
        await guard.aclose()


async def test_input_required_answer_is_bound_to_the_question(tmp_path: Path) -> None:
    """On 2026-07-28+ the answer must be for this exact question (number, cost)."""
    yes = types.ElicitResult(action="accept", content={"confirm": True})
    async with sandbox_client(tmp_path, {"CONVOAI_CALL_ALLOWLIST": "+1415"}) as (settings, sdk, _):
        guard = Guard(sdk, policy=Policy.from_settings(settings))
        async with Client(dial_server(guard), elicitation_callback=Elicitor()) as client:
            session = client.session
            first = await session.call_tool(
                "dial", {"to_number": CALLEE}, allow_input_required=True
            )
            assert isinstance(first, InputRequiredResult)
            assert first.input_requests is not None
            (key,) = first.input_requests
            # an accepted answer to another call's question does not admit this one
            other = await session.call_tool(
                "dial",
                {"to_number": "+14155550124"},
                input_responses={key: yes},
                allow_input_required=True,
            )
            assert isinstance(other, InputRequiredResult)
            assert other.input_requests is not None
            assert key not in other.input_requests
            admitted = await session.call_tool(
                "dial", {"to_number": CALLEE}, input_responses={key: yes}, allow_input_required=True
            )
            assert not isinstance(admitted, InputRequiredResult) and not admitted.is_error
            declined = await session.call_tool(
                "dial",
                {"to_number": CALLEE},
                input_responses={key: types.ElicitResult(action="decline")},
                allow_input_required=True,
            )
            assert not isinstance(declined, InputRequiredResult)
            assert "not confirmed" in error_text(declined)
        await guard.aclose()


async def test_direct_admission_without_a_client_requires_confirm(tmp_path: Path) -> None:
    async with sandbox_client(tmp_path) as (settings, sdk, _):
        guard = Guard(sdk, policy=Policy.from_settings(settings))
        # the gate (issue 13): without a client that can ask, the model's confirm=true alone
        # does not count; the refusal carries the approval link
        for confirm in (False, True):
            with pytest.raises(PolicyError, match=r"approval.*http://127\.0\.0\.1:\d+/approve/"):
                await guard.admit_call(
                    Context(), to_number=CALLEE, from_number=OUTBOUND, confirm=confirm
                )
        await guard.aclose()
        headless = Guard(
            sdk, policy=Policy.from_settings(settings), gate=Gate(confirm_by_argument=True)
        )
        with pytest.raises(PolicyError, match="confirmation"):
            await headless.admit_call(
                Context(), to_number=CALLEE, from_number=OUTBOUND, confirm=False
            )
        await headless.admit_call(Context(), to_number=CALLEE, from_number=OUTBOUND, confirm=True)
        await headless.aclose()


# -- limits and rate ----------------------------------------------------------------------


async def test_concurrent_call_limit_and_release_on_hangup(tmp_path: Path) -> None:
    async with (
        rig(tmp_path, {**BY_ARGUMENT, "CONVOAI_MAX_CALLS": "1"}) as r,
        Client(r.server) as client,
    ):
        first = await client.call_tool("call", {"to_number": CALLEE, "confirm": True})
        assert not first.is_error
        agent_id = (first.structured_content or {})["agent_id"]
        second = await client.call_tool("call", {"to_number": CALLEE, "confirm": True})
        text = error_text(second)
        assert "1 of 1 concurrent calls" in text and "hangup" in text
        assert await calls_in_sandbox(r) == 1
        hung_up = await client.call_tool("hangup", {"agent_id": agent_id})
        assert not hung_up.is_error
        third = await client.call_tool("call", {"to_number": CALLEE, "confirm": True})
        assert not third.is_error
        assert await calls_in_sandbox(r) == 2


async def test_concurrent_agent_limit_and_release_on_stop(tmp_path: Path) -> None:
    async with rig(tmp_path, {"CONVOAI_MAX_AGENTS": "1"}) as r, Client(r.server) as client:
        first = await client.call_tool("start_agent", {"channel": "a"})
        agent_id = (first.structured_content or {})["agent_id"]
        refused = await client.call_tool("start_agent", {"channel": "b"})
        assert "CONVOAI_MAX_AGENTS" in error_text(refused)
        assert await agents_in_sandbox(r) == 1
        await client.call_tool("stop_agent", {"agent_id": agent_id})
        again = await client.call_tool("start_agent", {"channel": "c"})
        assert not again.is_error


async def test_a_failed_start_gives_its_slot_back(tmp_path: Path) -> None:
    async with rig(tmp_path, {"CONVOAI_MAX_AGENTS": "1"}) as r, Client(r.server) as client:
        r.sandbox.faults.add(Fault(route="agents.start", kind="status", status=400, times=1))
        failed = await client.call_tool("start_agent", {"channel": "a"})
        assert failed.is_error
        started = await client.call_tool("start_agent", {"channel": "a"})
        assert not started.is_error, error_text(started)


async def test_rate_limit_per_minute(tmp_path: Path) -> None:
    env = {"CONVOAI_RATE_PER_MINUTE": "2", "CONVOAI_MAX_AGENTS": "10"}
    async with rig(tmp_path, env) as r, Client(r.server) as client:
        for channel in ("a", "b"):
            assert not (await client.call_tool("start_agent", {"channel": channel})).is_error
        refused = await client.call_tool("start_agent", {"channel": "c"})
        assert "rate limit" in error_text(refused)
        assert await agents_in_sandbox(r) == 2


# -- tool lists ---------------------------------------------------------------------------


async def test_read_only_server_lists_only_read_only_tools(tmp_path: Path) -> None:
    async with (
        rig(tmp_path, {"CONVOAI_READ_ONLY": "on"}) as r,
        Client(r.server) as client,
    ):
        names = {tool.name for tool in (await client.list_tools()).tools}
        assert names == {
            "get_agent",
            "get_history",  # the read-only tools issue 10 added
            "get_turns",
            "list_agents",
            "get_call",
            "list_calls",
            "list_numbers",
            "list_profiles",  # issue 12
            "wait",  # issue 12: it only reads
            "get_campaign",  # issue 14: campaigns, read
            "list_campaigns",
        }
        result = await client.call_tool("call", {"to_number": CALLEE, "confirm": True})
        assert result.is_error
        assert await calls_in_sandbox(r) == 0


async def test_deny_list_hides_tools(tmp_path: Path) -> None:
    async with (
        rig(tmp_path, {"CONVOAI_TOOLS_DENY": "call,hangup"}) as r,
        Client(r.server) as client,
    ):
        names = {tool.name for tool in (await client.list_tools()).tools}
        assert "call" not in names and "hangup" not in names and "start_agent" in names


# -- archive ------------------------------------------------------------------------------


async def test_stopped_agent_history_is_read_from_the_archive(tmp_path: Path) -> None:
    async with rig(tmp_path) as r, Client(r.server) as client:
        started = await client.call_tool(
            "start_agent", {"channel": "room", "greeting": "Hello from the archive test"}
        )
        agent_id = (started.structured_content or {})["agent_id"]
        for text in ("first thing", "second thing"):
            spoke = await client.call_tool("speak", {"agent_id": agent_id, "text": text})
            assert not spoke.is_error
        live = await read_json(client, f"convoai://agents/{agent_id}/history")
        assert live["source"] == "service"
        said = [entry["untrusted_text"] for entry in live["entries"]]
        assert "first thing" in said and "second thing" in said
        stopped = await client.call_tool("stop_agent", {"agent_id": agent_id})
        assert (stopped.structured_content or {})["archived_history"] is True
        with pytest.raises(NotFoundError):
            await r.server.runtime.client.agents.history(agent_id)
        archived = await read_json(client, f"convoai://agents/{agent_id}/history")
        assert archived["source"] == "archive"
        assert [entry["untrusted_text"] for entry in archived["entries"]] == said
        turns = await read_json(client, f"convoai://agents/{agent_id}/turns")
        assert turns["turns"]


async def test_a_calls_transcript_survives_the_hangup(tmp_path: Path) -> None:
    async with rig(tmp_path, BY_ARGUMENT, answer_delay=0.0) as r, Client(r.server) as client:
        placed = await client.call_tool(
            "call", {"to_number": CALLEE, "confirm": True, "greeting": "Hi, this is Ada"}
        )
        agent_id = (placed.structured_content or {})["agent_id"]
        await client.call_tool("speak", {"agent_id": agent_id, "text": "Your order shipped"})
        await client.call_tool("hangup", {"agent_id": agent_id})
        archived = await read_json(client, f"convoai://agents/{agent_id}/history")
        assert archived["source"] == "archive"
        assert archived["status"] == "STOPPED"
        said = [entry["untrusted_text"] for entry in archived["entries"]]
        assert said == ["Hi, this is Ada", "Your order shipped"]


async def test_with_the_archive_off_a_stopped_agent_has_no_history(tmp_path: Path) -> None:
    async with rig(tmp_path, {"CONVOAI_ARCHIVE": "off"}) as r, Client(r.server) as client:
        started = await client.call_tool("start_agent", {"channel": "room"})
        agent_id = (started.structured_content or {})["agent_id"]
        await client.call_tool("speak", {"agent_id": agent_id, "text": "gone soon"})
        await client.call_tool("stop_agent", {"agent_id": agent_id})
        with pytest.raises(Exception, match="history"):
            await client.read_resource(f"convoai://agents/{agent_id}/history")
        assert not (tmp_path / "archive.sqlite3").exists()


class Stepper:
    """Stands in for the watcher's sleep: each poll waits until the test lets it go on."""

    def __init__(self) -> None:
        self.polled = asyncio.Event()
        self._go = asyncio.Event()

    async def __call__(self, seconds: float) -> None:
        self.polled.set()
        await self._go.wait()
        self._go.clear()

    async def first_poll(self) -> None:
        with anyio.fail_after(10):  # a watcher that stopped polling fails instead of hanging
            await self.polled.wait()

    async def next_poll(self) -> None:
        self.polled.clear()
        self._go.set()
        await self.first_poll()

    def release(self) -> None:
        self._go.set()


async def test_watcher_archives_while_running_and_frees_the_slot_when_the_agent_ends(
    tmp_path: Path,
) -> None:
    stepper = Stepper()
    async with sandbox_client(tmp_path, {"CONVOAI_MAX_AGENTS": "1"}) as (settings, sdk, _):
        archive = Archive(tmp_path / "w.sqlite3")
        guard = Guard(
            sdk,
            policy=Policy.from_settings(settings),
            archive=archive,
            sleep=stepper,
            poll_interval=0,
        )
        await guard.admit_agent(Context(), channel="room", confirm=False)
        from convoai_mcp.builders import AgentSpec

        response = await sdk.agents.launch(
            AgentSpec(channel="room", name="watched", presets=PRESETS)
        )
        agent_id = response.agent_id
        guard.started(agent_id, kind="agent", channel="room")
        await stepper.first_poll()
        await sdk.agents.speak(agent_id, "archived while running")
        await stepper.next_poll()
        loaded = await archive.load_history(agent_id)
        assert loaded is not None
        assert "archived while running" in [c["content"] for c in loaded["contents"]]
        with pytest.raises(PolicyError, match="concurrent agents"):
            await guard.admit_agent(Context(), channel="other", confirm=False)
        # the agent ends without this server (idle timeout, console): the watcher notices
        await sdk.agents.stop(agent_id)
        watcher = guard.watcher(agent_id)
        assert watcher is not None
        stepper.release()
        await watcher.task
        assert guard.limiter.running() == {}
        await guard.admit_agent(Context(), channel="other", confirm=False)
        history, source = await guard.history(agent_id)
        assert source == "archive"
        assert "archived while running" in [e.content for e in history.contents]
        await guard.aclose()


async def test_watcher_keeps_watching_when_history_404s_but_the_agent_runs(
    tmp_path: Path,
) -> None:
    stepper = Stepper()
    async with sandbox_client(tmp_path) as (settings, sdk, sandbox):
        archive = Archive(tmp_path / "w.sqlite3")
        guard = Guard(sdk, policy=Policy.from_settings(settings), archive=archive, sleep=stepper)
        from convoai_mcp.builders import AgentSpec

        spec = AgentSpec(channel="room", presets=PRESETS, greeting="Still here")
        agent_id = (await sdk.agents.launch(spec)).agent_id
        sandbox.faults.add(Fault(route="agents.history", kind="status", status=404, times=1))
        guard.started(agent_id, kind="agent", channel="room")
        await stepper.first_poll()
        assert guard.watcher(agent_id) is not None
        assert agent_id in guard.limiter.running()
        await stepper.next_poll()
        loaded = await archive.load_history(agent_id)
        assert loaded is not None
        assert [c["content"] for c in loaded["contents"]] == ["Still here"]
        await guard.aclose()


async def test_aclose_stops_watchers(tmp_path: Path) -> None:
    stepper = Stepper()
    async with sandbox_client(tmp_path) as (settings, sdk, _):
        guard = Guard(sdk, policy=Policy.from_settings(settings), sleep=stepper, poll_interval=0)
        from convoai_mcp.builders import AgentSpec

        response = await sdk.agents.launch(AgentSpec(channel="room", presets=PRESETS))
        guard.started(response.agent_id, kind="agent", channel="room")
        watcher = guard.watcher(response.agent_id)
        assert watcher is not None
        await stepper.first_poll()
        await guard.aclose()
        assert watcher.task.done()
        assert guard.watcher(response.agent_id) is None


# -- redaction ----------------------------------------------------------------------------


def test_from_settings_registers_every_configured_secret(tmp_path: Path) -> None:
    env = {
        "CONVOAI_LLM_API_KEY": "canary-llm-key-0001",
        "CONVOAI_TTS_PARAMS": json.dumps({"key": "canary-tts-key-0002", "region": "eastus"}),
        "CONVOAI_ASR_PARAMS": json.dumps({"nested": {"api_key": "canary-asr-key-0003"}}),
        "CONVOAI_ARCHIVE": "off",
    }
    settings = sandbox_settings(
        Settings.from_env(env, require_credentials=False), "http://127.0.0.1:9/x"
    )
    root = logging.getLogger()
    handler = logging.StreamHandler()
    root.addHandler(handler)
    try:
        guard = Guard.from_settings(settings, make_client(settings))
        assert any(isinstance(f, RedactingFilter) for f in handler.filters)
    finally:
        root.removeHandler(handler)
    assert settings.app_certificate is not None
    cert = settings.app_certificate.get_secret_value()
    text = f"{cert} canary-llm-key-0001 canary-tts-key-0002 canary-asr-key-0003 eastus"
    assert guard.redact({"note": text}) == {"note": f"{MASK} {MASK} {MASK} {MASK} eastus"}
