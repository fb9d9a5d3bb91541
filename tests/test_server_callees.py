"""The emulator plays the callees: each behaviour gives the right call outcome and transcript,
seen through the MCP Client (call, wait, get_call, get_agent, get_history), and is settable
through the admin API. The emulator's clock is moved, never slept."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from _server_helpers import CALLEE, rig
from mcp import Client
from test_server_wait import ok, wait_while

from convoai_mcp.sandbox import DEMO_CREDENTIALS, PATH_PREFIX, Callee, Sandbox

NO_CONFIRM = {"CONVOAI_CONFIRM": "none", "CONVOAI_CALL_ALLOWLIST": "+1415"}
GREETING = "Hi, this is Acme about your appointment tomorrow."


async def place(client: Client, number: str = CALLEE) -> str:
    placed = await ok(client, "call", {"to_number": number, "greeting": GREETING})
    agent_id: str = placed["agent_id"]
    return agent_id


async def ended_after(client: Client, sandbox: Sandbox, call_id: str, seconds: float) -> Any:
    """Wait (through the tool) for the call to end while the emulator's clock moves."""
    return await wait_while(
        client,
        {"agent_id": call_id, "until": "ended", "timeout_seconds": 30},
        lambda: sandbox.state.advance(seconds),
    )


async def test_a_callee_who_answers_after_some_seconds(tmp_path: Path) -> None:
    async with rig(tmp_path, NO_CONFIRM) as r, Client(r.server) as client:
        r.sandbox.state.callees.set(CALLEE, Callee.answers(after=10))
        call_id = await place(client)
        r.sandbox.state.advance(9)
        ringing = await ok(client, "get_call", {"agent_id": call_id})
        answered = await wait_while(
            client,
            {"agent_id": call_id, "until": "answered"},
            lambda: r.sandbox.state.advance(2),
        )
        history = await ok(client, "get_history", {"agent_id": call_id})
    assert ringing["state"] is None  # not answered yet: the service has no state for it
    assert (answered["event"], answered["state"]) == ("answered", "answered")
    assert [e["untrusted_text"] for e in history["entries"]] == [GREETING]


@pytest.mark.parametrize(
    ("callee", "seconds", "message"),
    [
        (Callee("no_answer"), 61, "no answer (rang 60 s: ring timeout)"),
        (Callee("busy"), 2, "busy"),
        (Callee("reject", after=3), 4, "rejected by the callee"),
    ],
    ids=["no_answer", "busy", "reject"],
)
async def test_a_call_nobody_answers_fails_without_a_transcript(
    tmp_path: Path, callee: Callee, seconds: float, message: str
) -> None:
    async with rig(tmp_path, NO_CONFIRM) as r, Client(r.server) as client:
        r.sandbox.state.callees.set(CALLEE, callee)
        call_id = await place(client)
        before = await ok(
            client, "wait", {"agent_id": call_id, "until": "ended", "timeout_seconds": 0}
        )
        ended = await ended_after(client, r.sandbox, call_id, seconds)
        record = await ok(client, "get_call", {"agent_id": call_id})
        agent = await ok(client, "get_agent", {"agent_id": call_id})
        history = await client.call_tool("get_history", {"agent_id": call_id})
        turns = r.sandbox.state.turns(call_id)
    assert (before["event"], before["state"]) == ("timeout", "ringing")
    assert (ended["event"], ended["state"], ended["reason"]) == ("ended", "hangup", "failed")
    assert (record["state"], record["reason"]) == ("hangup", "failed")
    assert (agent["status"], agent["message"]) == ("STOPPED", message)
    assert turns["total_turn_count"] == 0  # never answered: not even the greeting
    if not history.is_error:  # nothing was ever said, so nothing may have been archived
        assert history.structured_content is not None
        assert history.structured_content["total_entries"] == 0


async def test_a_callee_who_talks_and_then_hangs_up(tmp_path: Path) -> None:
    callee = Callee.answers(
        after=2,
        hang_up_after=30,
        says=[(4, "Yes, I can come tomorrow."), (12, "Thanks, bye."), (40, "(never said)")],
    )
    async with rig(tmp_path, NO_CONFIRM) as r, Client(r.server) as client:
        r.sandbox.state.callees.set(CALLEE, callee)
        call_id = await place(client)
        first = await ok(
            client, "wait", {"agent_id": call_id, "until": "turn", "timeout_seconds": 0}
        )
        said = await wait_while(
            client,
            {"agent_id": call_id, "until": "turn", "cursor": first["next_cursor"]},
            lambda: r.sandbox.state.advance(7),
        )
        bye = await wait_while(
            client,
            {"agent_id": call_id, "until": "turn", "cursor": said["next_cursor"]},
            lambda: r.sandbox.state.advance(10),
        )
        ended = await ended_after(client, r.sandbox, call_id, 20)
        record = await ok(client, "get_call", {"agent_id": call_id})
        agent = await ok(client, "get_agent", {"agent_id": call_id})
        history = await ok(client, "get_history", {"agent_id": call_id})
    callee_lines = [
        e["untrusted_text"] for e in said["new_entries"]["entries"] if e["role"] == "user"
    ]
    assert callee_lines == ["Yes, I can come tomorrow."]
    assert [e["untrusted_text"] for e in bye["new_entries"]["entries"] if e["role"] == "user"] == [
        "Thanks, bye."
    ]
    assert (ended["event"], ended["reason"]) == ("ended", "hangup")
    assert (record["state"], record["reason"]) == ("hangup", "hangup")
    assert agent["message"] == "the callee hung up"
    assert history["source"] == "archive"
    roles = [(e["role"], e["untrusted_text"]) for e in history["entries"]]
    assert roles[0] == ("assistant", GREETING)
    assert ("user", "Yes, I can come tomorrow.") in roles and ("user", "Thanks, bye.") in roles
    assert ("user", "(never said)") not in roles  # after the hang-up
    assert [role for role, _ in roles].count("assistant") == 3  # the greeting and two replies


async def test_hanging_up_first_ends_the_call_as_a_request(tmp_path: Path) -> None:
    async with rig(tmp_path, NO_CONFIRM) as r, Client(r.server) as client:
        r.sandbox.state.callees.set(CALLEE, Callee.answers(1, hang_up_after=60, says=[(30, "Hi?")]))
        call_id = await place(client)
        r.sandbox.state.advance(5)
        await ok(client, "hangup", {"agent_id": call_id})
        r.sandbox.state.advance(100)
        record = await ok(client, "get_call", {"agent_id": call_id})
        history = await ok(client, "get_history", {"agent_id": call_id})
    assert (record["state"], record["reason"]) == ("hangup", "request")
    assert [e["role"] for e in history["entries"]] == ["assistant"]  # the callee never spoke


async def test_the_default_callee_plays_every_other_number(tmp_path: Path) -> None:
    other = "+14155550199"
    async with rig(tmp_path, NO_CONFIRM) as r, Client(r.server) as client:
        r.sandbox.state.callees.set("default", Callee("busy"))
        r.sandbox.state.callees.set(CALLEE, Callee.answers(1))
        busy = await place(client, other)
        answers = await place(client, CALLEE)
        r.sandbox.state.advance(2)
        busy_record = await ok(client, "get_call", {"agent_id": busy})
        answered = await ok(client, "get_call", {"agent_id": answers})
    assert (busy_record["state"], busy_record["reason"]) == ("hangup", "failed")
    assert answered["state"] == "answered"


# ----------------------------------------------------------------------------- admin API


@pytest.fixture
async def admin() -> AsyncIterator[tuple[Sandbox, httpx.AsyncClient]]:
    sb = Sandbox(DEMO_CREDENTIALS, admin=True)
    async with sb.serve() as base_url:
        root = base_url.removesuffix(PATH_PREFIX)
        async with httpx.AsyncClient(base_url=root + "/_sandbox") as http:
            yield sb, http


async def test_callees_are_set_read_and_removed_through_the_admin_api(
    admin: tuple[Sandbox, httpx.AsyncClient],
) -> None:
    sb, http = admin
    body = {"outcome": "answer", "after": 3, "hang_up_after": 30, "says": [{"at": 5, "text": "Hi"}]}
    put = await http.put(f"/callees/{CALLEE}", json=body)
    assert put.status_code == 200, put.text
    assert put.json() == {"number": CALLEE, **body}
    assert (await http.put("/callees/default", json={"outcome": "no_answer"})).status_code == 200
    listed = (await http.get("/callees")).json()
    assert listed["numbers"][CALLEE]["says"] == [{"at": 5.0, "text": "Hi"}]
    assert listed["default"]["outcome"] == "no_answer"
    assert sb.state.callees.get(CALLEE).hang_up_after == 30
    assert sb.state.callees.get("+14155550999").outcome == "no_answer"
    assert (await http.delete(f"/callees/{CALLEE}")).status_code == 204
    assert sb.state.callees.get(CALLEE).outcome == "no_answer"  # the default again
    assert (await http.delete("/callees")).status_code == 204
    assert sb.state.callees.get(CALLEE) == Callee()


@pytest.mark.parametrize(
    ("number", "body", "says"),
    [
        (CALLEE, {"outcome": "voicemail"}, "outcome must be one of"),
        (CALLEE, {"after": -1}, "after must be between"),
        (CALLEE, {"after": True}, "after must be a number"),
        (CALLEE, {"hang_up_after": "soon"}, "hang_up_after must be a number"),
        (CALLEE, {"says": [{"at": 1}]}, "says[].text"),
        (CALLEE, {"says": "hello"}, "says must be a list"),
        (CALLEE, {"ring": 3}, "unknown callee fields ['ring']"),
        (CALLEE, [1], "send a callee object"),
        ("555", {}, "E.164"),
    ],
)
async def test_a_bad_callee_is_refused_with_what_is_wrong(
    admin: tuple[Sandbox, httpx.AsyncClient], number: str, body: Any, says: str
) -> None:
    sb, http = admin
    refused = await http.put(f"/callees/{number}", json=body)
    assert refused.status_code == 400
    assert says in refused.json()["detail"], refused.json()
    assert sb.state.callees.to_dict()["numbers"] == {}


async def test_reset_forgets_the_callees(admin: tuple[Sandbox, httpx.AsyncClient]) -> None:
    sb, http = admin
    sb.state.callees.set(CALLEE, Callee("busy"))
    assert (await http.post("/reset")).status_code == 204
    assert sb.state.callees.get(CALLEE) == Callee()
