"""Resources, resource subscriptions and prompts, in memory against the real emulator."""

from __future__ import annotations

import asyncio
import warnings
from pathlib import Path

import anyio
import pytest
from _server_helpers import BY_ARGUMENT, CALLEE, Rig, error_text, read_json, rig
from mcp import Client
from mcp.client.session import IncomingMessage
from mcp.shared.exceptions import MCPDeprecationWarning, MCPError
from mcp.shared.subscriptions import ResourcesListChanged, ResourceUpdated
from mcp_types import ResourceUpdatedNotification

from convoai_mcp.config import Settings
from convoai_mcp.server.runtime import LISTED_ENDED, MAX_ENDED, Runtime, StartedAgent

PRESETS = ["deepgram_nova_3", "openai_gpt_4o_mini", "minimax_speech_2_6_turbo"]


async def start(client: Client, channel: str) -> str:
    result = await client.call_tool("start_agent", {"channel": channel})
    assert not result.is_error, error_text(result)
    assert result.structured_content is not None
    agent_id: str = result.structured_content["agent_id"]
    return agent_id


async def start_elsewhere(r: Rig, channel: str) -> str:
    """Start an agent behind the server's back (it holds no slot; only subscribers watch it)."""
    from convoai_mcp.builders import AgentSpec

    spec = AgentSpec(channel=channel, presets=PRESETS)
    return (await r.server.runtime.client.agents.launch(spec)).agent_id


async def stopped(task: asyncio.Task[None] | None) -> None:
    """Wait (bounded) until a history poller has finished, however it ended."""
    assert task is not None
    with anyio.fail_after(5):
        await asyncio.wait({task})


# ------------------------------------------------------------------------------- resources


async def test_templates_are_listed(tmp_path: Path) -> None:
    async with rig(tmp_path) as r, Client(r.server) as client:
        templates = (await client.list_resource_templates()).resource_templates
    uris = {t.uri_template for t in templates}
    assert uris == {
        "convoai://agents/{agent_id}",
        "convoai://agents/{agent_id}/history",
        "convoai://agents/{agent_id}/turns",
        "convoai://calls/{agent_id}",
        "convoai://audit/{cursor}",
        "convoai://campaigns/{campaign_id}",
    }
    assert all(t.mime_type == "application/json" and t.description for t in templates)


async def test_agents_and_calls_started_here_are_listed(tmp_path: Path) -> None:
    async with rig(tmp_path, BY_ARGUMENT) as r, Client(r.server) as client:
        listed = [str(res.uri) for res in (await client.list_resources()).resources]
        # the static resources (the audit trail, the console's MCP App); no agent yet
        assert sorted(listed) == ["convoai://audit", "ui://convoai/console"]
        agent_id = await start(client, "listed")
        placed = await client.call_tool("call", {"to_number": CALLEE, "confirm": True})
        assert not placed.is_error, error_text(placed)
        assert placed.structured_content is not None
        call_id = placed.structured_content["agent_id"]
        uris = [str(res.uri) for res in (await client.list_resources()).resources]
    assert f"convoai://agents/{agent_id}" in uris
    assert f"convoai://agents/{agent_id}/history" in uris
    assert f"convoai://agents/{call_id}/history" in uris
    assert f"convoai://calls/{call_id}" in uris
    assert f"convoai://calls/{agent_id}" not in uris
    assert uris.index(f"convoai://agents/{call_id}") < uris.index(f"convoai://agents/{agent_id}")


async def test_turns_of_agents_and_calls_started_here_are_listed(tmp_path: Path) -> None:
    """resources/list never listed the /turns URIs (only the template)."""
    async with rig(tmp_path, BY_ARGUMENT) as r, Client(r.server) as client:
        agent_id = await start(client, "turns-listed")
        placed = await client.call_tool("call", {"to_number": CALLEE, "confirm": True})
        assert placed.structured_content is not None, error_text(placed)
        call_id = placed.structured_content["agent_id"]
        uris = [str(res.uri) for res in (await client.list_resources()).resources]
        for listed in (agent_id, call_id):
            assert f"convoai://agents/{listed}/turns" in uris
            turns = await read_json(client, f"convoai://agents/{listed}/turns")
            assert turns["agent_id"] == listed


async def test_status_history_and_turns_resources(tmp_path: Path) -> None:
    async with rig(tmp_path) as r, Client(r.server) as client:
        agent_id = await start(client, "res-room")
        await client.call_tool("speak", {"agent_id": agent_id, "text": "Welcome!"})
        await client.call_tool("think", {"agent_id": agent_id, "text": "Ask me anything"})
        status = await read_json(client, f"convoai://agents/{agent_id}")
        history = await read_json(client, f"convoai://agents/{agent_id}/history")
        turns = await read_json(client, f"convoai://agents/{agent_id}/turns")
    assert status["status"] == "RUNNING"
    assert status["started_here"]["channel"] == "res-room"
    assert history["agent_id"] == agent_id
    assert history["count"] == len(history["entries"]) >= 2
    assert {e["role"] for e in history["entries"]} >= {"user", "assistant"}
    assert turns["source"] == "service"
    assert len(turns["turns"]) >= 2
    assert "pagination" not in turns
    assert all("metrics" in t for t in turns["turns"])


async def test_reading_an_unknown_agent_is_a_clear_error(tmp_path: Path) -> None:
    async with rig(tmp_path) as r, Client(r.server) as client:
        with pytest.raises(MCPError) as info:
            await client.read_resource("convoai://agents/NOSUCH/history")
    assert "404" in info.value.error.message
    assert "Next:" in info.value.error.message


# ------------------------------------------------------------------------------- subscriptions


async def test_legacy_subscription_notifies_on_new_entries_and_stops(tmp_path: Path) -> None:
    updates: list[str] = []
    arrived = anyio.Event()

    async def on_message(message: IncomingMessage) -> None:
        nonlocal arrived
        if isinstance(message, ResourceUpdatedNotification):
            updates.append(str(message.params.uri))
            arrived.set()

    async with (
        rig(tmp_path) as r,
        Client(r.server, mode="legacy", message_handler=on_message) as client,
    ):
        assert client.server_capabilities.resources is not None
        assert client.server_capabilities.resources.subscribe is True
        agent_id = await start(client, "sub-room")
        uri = f"convoai://agents/{agent_id}/history"
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", MCPDeprecationWarning)
            await client.subscribe_resource(uri)
        subscriptions = r.server.subscriptions
        watcher = subscriptions.watcher(agent_id)
        assert watcher is not None and watcher.subscribers == 1
        await client.call_tool("speak", {"agent_id": agent_id, "text": "News!"})
        with anyio.fail_after(5):
            await arrived.wait()
        assert updates[0] == uri

        with warnings.catch_warnings():
            warnings.simplefilter("ignore", MCPDeprecationWarning)
            await client.unsubscribe_resource(uri)
        assert subscriptions.subscribers(uri) == 0
        # started here: its one watcher goes on archiving, with nobody to notify
        assert subscriptions.watcher(agent_id) is watcher
        assert watcher.subscribers == 0


async def test_subscription_ends_when_the_agent_ends(tmp_path: Path) -> None:
    updates: list[str] = []
    arrived = anyio.Event()

    async def on_message(message: IncomingMessage) -> None:
        if isinstance(message, ResourceUpdatedNotification):
            updates.append(str(message.params.uri))
            arrived.set()

    async with (
        rig(tmp_path) as r,
        Client(r.server, mode="legacy", message_handler=on_message) as client,
    ):
        agent_id = await start(client, "end-room")
        uri = f"convoai://agents/{agent_id}/history"
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", MCPDeprecationWarning)
            await client.subscribe_resource(uri)
        subscriptions = r.server.subscriptions
        watcher = subscriptions.watcher(agent_id)
        assert watcher is not None
        await client.call_tool("stop_agent", {"agent_id": agent_id})
        await stopped(watcher.task)  # it stopped by itself: nobody unsubscribed
        assert watcher.ended and not watcher.task.cancelled()
        assert subscriptions.watcher(agent_id) is None
        assert subscriptions.subscribers(uri) == 1
        with anyio.fail_after(5):
            await arrived.wait()
        assert set(updates) == {uri}


async def test_subscribing_to_a_non_history_uri_is_refused(tmp_path: Path) -> None:
    async with rig(tmp_path) as r, Client(r.server, mode="legacy") as client:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", MCPDeprecationWarning)
            with pytest.raises(MCPError) as info:
                await client.subscribe_resource("convoai://calls/abc")
    assert "history" in info.value.error.message


async def test_listen_stream_subscription_polls_only_while_open(tmp_path: Path) -> None:
    async with rig(tmp_path) as r, Client(r.server) as client:
        agent_id = await start_elsewhere(r, "listen-room")  # watched only for subscribers
        uri = f"convoai://agents/{agent_id}/history"
        subscriptions = r.server.subscriptions
        assert subscriptions.watcher(agent_id) is None
        async with client.listen(resource_subscriptions=[uri]) as sub:
            watcher = subscriptions.watcher(agent_id)
            assert watcher is not None and not watcher.counted
            await client.call_tool("think", {"agent_id": agent_id, "text": "Anything new?"})
            with anyio.fail_after(5):
                event = await sub.__anext__()
            assert event == ResourceUpdated(uri=uri)
        await stopped(watcher.task)
        assert watcher.task.cancelled()  # stopped because the stream closed
        assert subscriptions.watcher(agent_id) is None
        assert subscriptions.subscribers(uri) == 0


# ------------------------------------------------------------------------------- prompts


async def test_prompts_are_listed_and_render_their_arguments(tmp_path: Path) -> None:
    async with rig(tmp_path) as r, Client(r.server) as client:
        prompts = {p.name: p for p in (await client.list_prompts()).prompts}
        support = await client.get_prompt(
            "support_agent", {"channel": "help-desk", "product": "Acme Router"}
        )
        outbound = await client.get_prompt(
            "outbound_call", {"to_number": CALLEE, "goal": "confirm Tuesday 3pm"}
        )
        review = await client.get_prompt("review_conversation", {"agent_id": "A1"})
    assert set(prompts) == {
        "support_agent",
        "outbound_call",
        "review_conversation",
        "campaign_report",
    }
    assert all(p.description for p in prompts.values())
    required = {a.name for a in prompts["outbound_call"].arguments or [] if a.required}
    assert required == {"to_number", "goal"}
    text = getattr(support.messages[0].content, "text", "")
    assert "help-desk" in text
    assert "Acme Router" in text
    assert "start_agent" in text
    outbound_text = getattr(outbound.messages[0].content, "text", "")
    assert CALLEE in outbound_text
    assert "hangup" in outbound_text
    review_text = getattr(review.messages[0].content, "text", "")
    assert "convoai://agents/A1/turns" in review_text
    assert "get_history" in review_text and "get_turns" in review_text  # the tools (issue 10)


async def test_listeners_hear_that_the_resource_list_changed(tmp_path: Path) -> None:
    async with (
        rig(tmp_path) as r,
        Client(r.server) as client,
        client.listen(resources_list_changed=True) as sub,
    ):
        await start(client, "new-resources")
        with anyio.fail_after(5):
            event = await sub.__anext__()
    assert event == ResourcesListChanged()


# ------------------------------------------------------------------- bounded record of agents


def test_the_record_keeps_running_agents_and_the_latest_ended(tmp_path: Path) -> None:
    """Started agents cost memory for ever unless bounded: past ``MAX_ENDED`` ended ones the
    oldest ended are dropped; running ones never are; resources/list shows every running one
    and the ``LISTED_ENDED`` most recently ended."""
    settings = Settings.from_env({"CONVOAI_ARCHIVE": "off"}, require_credentials=False)
    rt = Runtime(settings)

    def agent(n: int) -> StartedAgent:
        return StartedAgent(f"a{n}", "agent", f"n{n}", "room", "1001", "1002")

    for n in range(MAX_ENDED + 200):
        rt.record(agent(n))
        if n % 10:  # every tenth keeps running
            rt.mark_ended(f"a{n}")
    running = [f"a{n}" for n in range(MAX_ENDED + 200) if n % 10 == 0]
    ended = [a for a in rt.agents if rt.agents[a].ended]
    assert len(ended) == MAX_ENDED
    assert ended[-1] == f"a{MAX_ENDED + 199}"  # the newest ended are the ones kept
    assert all(a in rt.agents for a in running)
    listed = [a.agent_id for a in rt.listed()]
    assert sorted(listed) == sorted(running + ended[-LISTED_ENDED:])
    assert listed[0] == f"a{MAX_ENDED + 199}"  # newest first
    rt.mark_ended(ended[-1])  # ending twice changes nothing
    assert len([a for a in rt.agents.values() if a.ended]) == MAX_ENDED


async def test_an_evicted_agent_is_unlisted_but_its_history_is_still_archived(
    tmp_path: Path,
) -> None:
    async with rig(tmp_path) as r, Client(r.server) as client:
        rt = r.server.runtime
        rt.max_ended, rt.listed_ended = 2, 1
        running = await start(client, "keep-running")
        ended: list[str] = []
        for n in range(3):
            agent_id = await start(client, f"ended-{n}")
            said = await client.call_tool("speak", {"agent_id": agent_id, "text": f"line {n}"})
            assert not said.is_error, error_text(said)
            stopped = await client.call_tool("stop_agent", {"agent_id": agent_id})
            assert not stopped.is_error, error_text(stopped)
            ended.append(agent_id)
        assert list(rt.agents) == [running, ended[1], ended[2]]
        uris = {str(res.uri) for res in (await client.list_resources()).resources}
        assert {f"convoai://agents/{running}", f"convoai://agents/{ended[2]}"} <= uris
        assert not [uri for uri in uris if ended[0] in uri or ended[1] in uri]
        history = await read_json(client, f"convoai://agents/{ended[0]}/history")
    assert history["source"] == "archive"
    spoken = [(e["role"], e["untrusted_text"]) for e in history["entries"]]
    assert ("assistant", "line 0") in spoken


async def test_an_agent_that_ends_on_its_own_is_marked_ended(tmp_path: Path) -> None:
    """Stopped behind the server's back (as by an idle timeout): the archive watcher notices,
    and the record says ended, so it counts towards the bound."""
    async with rig(tmp_path) as r, Client(r.server) as client:
        rt = r.server.runtime
        rt.guard.poll_interval = 0.01
        agent_id = await start(client, "self-ending")
        watcher = rt.guard.watcher(agent_id)
        assert watcher is not None
        assert rt.agents[agent_id].ended is False
        await rt.client.agents.stop(agent_id)
        with anyio.fail_after(5):
            await watcher.task
        assert rt.agents[agent_id].ended is True
