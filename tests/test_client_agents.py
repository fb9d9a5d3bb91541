"""Every agent endpoint end to end against the emulator over loopback HTTP."""

from __future__ import annotations

import json

import pytest
from _client_helpers import CREDS, LLM_KEY, SECRETS, AuthMode, cascading_spec, make_auth, rig
from hypothesis import given
from hypothesis import strategies as st
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route

from convoai_mcp.builders import build_start_request
from convoai_mcp.client import ConvoAIClient, encode_path_segment
from convoai_mcp.errors import BadRequestError, NotFoundError, ValidationError
from convoai_mcp.models import (
    AgentStatus,
    MllmConfig,
    UpdateAgentProperties,
    UpdateAgentRequest,
    UpdateLlm,
)
from convoai_mcp.sandbox import PATH_PREFIX, Fault
from convoai_mcp.sandbox.runner import serve


async def test_launch_get_speak_think_interrupt_update_history_stop() -> None:
    async with rig() as r:
        agents = r.client.agents
        started = await agents.launch(cascading_spec(name="agent-a"))
        assert started.agent_id
        assert started.status in (AgentStatus.STARTING, AgentStatus.RUNNING)

        info = await agents.get(started.agent_id)
        assert info.agent_id == started.agent_id
        assert info.status in (AgentStatus.STARTING, AgentStatus.RUNNING)

        spoken = await agents.speak(started.agent_id, "Hi there", priority="APPEND")
        assert spoken.agent_id == started.agent_id
        thought = await agents.think(started.agent_id, "The user is a VIP.", metadata={"k": "v"})
        assert thought.agent_id == started.agent_id
        interrupted = await agents.interrupt(started.agent_id)
        assert interrupted.agent_id == started.agent_id
        # the body is {}, as all three official SDKs send it
        assert (r.seen[-1].path.rsplit("/", 1)[-1], r.seen[-1].body) == ("interrupt", b"{}")

        update = UpdateAgentRequest(
            properties=UpdateAgentProperties(
                llm=UpdateLlm(system_messages=[{"role": "system", "content": "Be terse."}])
            )
        )
        updated = await agents.update(started.agent_id, update)
        assert updated.agent_id == started.agent_id

        history = await agents.history(started.agent_id)
        assert history.agent_id == started.agent_id
        assert ("assistant", "Hi there") in [(e.role, e.content) for e in history.contents]

        await agents.stop(started.agent_id)
        stopped = await agents.get(started.agent_id)
        assert stopped.status in (AgentStatus.STOPPING, AgentStatus.STOPPED)


async def test_start_body_on_the_wire_has_no_nulls() -> None:
    async with rig() as r:
        await r.client.agents.launch(cascading_spec(name="no-nulls"))
        joins = [s for s in r.seen if s.path.endswith("/join")]
        assert len(joins) == 1
        assert joins[0].path == f"/api/conversational-ai-agent/v2/projects/{r.client.app_id}/join"
        body = json.loads(joins[0].body)
        assert body["name"] == "no-nulls"
        assert not _has_null(body)
        assert joins[0].headers["content-type"] == "application/json"


def _has_null(value: object) -> bool:
    if value is None:
        return True
    if isinstance(value, dict):
        return any(_has_null(v) for v in value.values())
    if isinstance(value, list):
        return any(_has_null(v) for v in value)
    return False


async def test_stop_twice_is_success() -> None:
    async with rig() as r:
        started = await r.client.agents.launch(cascading_spec())
        await r.client.agents.stop(started.agent_id)
        await r.client.agents.stop(started.agent_id)  # already gone: not an error
        await r.client.agents.stop("no-such-agent")
        assert sum(s.path.endswith("/leave") for s in r.seen) == 3  # a 404 is not retried
        assert (await r.client.agents.get(started.agent_id)).status in (
            AgentStatus.STOPPING,
            AgentStatus.STOPPED,
        )


async def test_get_unknown_agent_is_not_found_with_request_id() -> None:
    async with rig() as r:
        with pytest.raises(NotFoundError) as info:
            await r.client.agents.get("no-such-agent")
        assert info.value.status == 404
        assert info.value.reason == "TaskNotFound"
        assert info.value.request_id
        assert info.value.hint


async def test_list_pages_through_every_agent() -> None:
    async with rig() as r:
        ids = {
            (await r.client.agents.launch(cascading_spec(name=f"p{i}"))).agent_id for i in range(5)
        }
        listed = [a.agent_id async for a in r.client.agents.list(channel="room-1", limit=2)]
        assert sorted(listed) == sorted(ids)
        page = await r.client.agents.list_page(channel="room-1", limit=2)
        assert len(page.items) == 2
        assert page.cursor is not None
        list_calls = [s for s in r.seen if s.path.endswith("/agents")]
        assert len(list_calls) == 4  # 3 pages (2 + 2 + 1) for the iterator + 1 page


async def test_list_filters_by_state() -> None:
    async with rig() as r:
        a = await r.client.agents.launch(cascading_spec(name="keep"))
        b = await r.client.agents.launch(cascading_spec(name="gone"))
        await r.client.agents.stop(b.agent_id)
        running = [x.agent_id async for x in r.client.agents.list(state="RUNNING")]
        assert a.agent_id in running
        assert b.agent_id not in running
        with pytest.raises(ValidationError):
            await r.client.agents.list_page(state="ASLEEP")


async def test_turns_merges_all_pages() -> None:
    async with rig() as r:
        started = await r.client.agents.launch(cascading_spec(name="turns-agent"))
        for i in range(4):
            await r.client.agents.speak(started.agent_id, f"sentence {i}")
        one_page = await r.client.agents.turns(started.agent_id, page_size=100)
        paged = await r.client.agents.turns(started.agent_id, page_size=1)
        assert paged.total_turn_count == one_page.total_turn_count
        assert [t.turn_id for t in paged.turns] == [t.turn_id for t in one_page.turns]
        assert len(paged.turns) >= 2
        assert paged.name == "turns-agent"
        turn_requests = [s for s in r.seen if s.path.endswith("/turns")]
        assert len(turn_requests) >= 1 + len(paged.turns)


async def test_speak_limits_are_checked_before_sending() -> None:
    async with rig() as r:
        started = await r.client.agents.launch(cascading_spec())
        before = len(r.seen)
        with pytest.raises(ValidationError, match="513 bytes"):
            await r.client.agents.speak(started.agent_id, "x" * 513)
        with pytest.raises(ValidationError, match="empty"):
            await r.client.agents.think(started.agent_id, " ")
        assert len(r.seen) == before


async def test_speak_refused_for_mllm_agents_think_allowed() -> None:
    """Only speak is restricted for MLLM agents (as in the official SDK); think is sent."""
    async with rig() as r:
        spec = cascading_spec(llm=None, tts=None, mllm=MllmConfig(vendor="openai", api_key="k"))
        started = await r.client.agents.launch(spec)
        before = len(r.seen)
        with pytest.raises(ValidationError, match="MLLM"):
            await r.client.agents.speak(started.agent_id, "hello")
        assert len(r.seen) == before
        answer = await r.client.agents.think(started.agent_id, "hello")
        assert answer.agent_id == started.agent_id
        assert r.seen[-1].path.endswith("/think")


async def test_path_values_are_percent_encoded_on_the_wire() -> None:
    async with rig() as r:
        with pytest.raises(NotFoundError):
            await r.client.agents.get("a b/c+d")
        raw = r.seen[-1].raw_path
        assert raw.endswith(b"/agents/a%20b%2Fc%2Bd")
        with pytest.raises(ValidationError):
            await r.client.agents.get("..")
        with pytest.raises(ValidationError):
            await r.client.agents.stop("")


@given(st.text(min_size=1).filter(lambda s: s not in (".", "..")))
def test_encode_path_segment_is_one_safe_segment(value: str) -> None:
    from urllib.parse import unquote

    encoded = encode_path_segment(value)
    assert "/" not in encoded and "?" not in encoded and "#" not in encoded and "+" not in encoded
    assert encoded not in (".", "..")
    assert unquote(encoded) == value


@pytest.mark.parametrize("bad", ["", ".", ".."])
def test_encode_path_segment_refuses(bad: str) -> None:
    with pytest.raises(ValidationError):
        encode_path_segment(bad)


async def test_unknown_response_fields_are_kept() -> None:
    """A newer service's extra fields survive parsing (a tiny app stands in for it)."""
    agent = {"agent_id": "a1", "status": "HIBERNATING", "region": "eu", "future": {"x": [1, 2]}}
    listing = {
        "data": {"count": 1, "list": [agent], "next_gen": True},
        "meta": {"cursor": None, "total": 1},
        "status": "ok",
    }

    async def get_agent(request: Request) -> JSONResponse:
        return JSONResponse(agent)

    async def list_agents(request: Request) -> JSONResponse:
        return JSONResponse(listing)

    app = Starlette(
        routes=[
            Route(f"{PATH_PREFIX}/v2/projects/{{appid}}/agents/{{agent_id}}", get_agent),
            Route(f"{PATH_PREFIX}/v2/projects/{{appid}}/agents", list_agents),
        ]
    )
    async with serve(app) as root:
        client = ConvoAIClient(CREDS.app_id, make_auth("basic"), base_url=root + PATH_PREFIX)
        async with client:
            info = await client.agents.get("a1")
            summaries = [s async for s in client.agents.list()]
    assert info.status == "HIBERNATING"
    assert info.model_extra == {"region": "eu", "future": {"x": [1, 2]}}
    assert info.to_wire() == agent
    assert [s.model_extra for s in summaries] == [{"region": "eu", "future": {"x": [1, 2]}}]


async def test_no_secret_in_errors_reprs_or_logs(caplog: pytest.LogCaptureFixture) -> None:
    """The request carries the LLM and TTS keys and a join token minted from the certificate;
    none of them shows in a repr, an error, or the debug log of a failed attempt."""
    caplog.set_level("DEBUG", logger="convoai_mcp")
    async with rig("app") as r:
        spec = cascading_spec()
        request = build_start_request(
            spec, app_id=CREDS.app_id, app_certificate=CREDS.app_certificate
        )
        r.sb.faults.add(Fault(route="agents.start", kind="status", status=503, times=1))
        started = await r.client.agents.start(request)
        with pytest.raises(NotFoundError) as info:
            await r.client.agents.get("missing")
        assert "attempt 1 of POST" in caplog.text  # the failed attempt was logged
        join_token = request.properties.token
        texts = [
            repr(r.client),
            repr(r.client.auth),
            str(info.value),
            repr(info.value),
            repr(started),
            repr(spec),
            repr(request),
            str(request),
            json.dumps(request.redacted()),
            caplog.text,
        ]
        for text in texts:
            for secret in (*SECRETS, join_token):
                assert secret not in text, text
        assert LLM_KEY in json.dumps(request.to_wire())  # the wire body itself is intact


@pytest.mark.parametrize("mode", ["basic", "app"])
async def test_errors_never_echo_a_configured_or_sent_secret(mode: AuthMode) -> None:
    """A service error that quotes the credentials, the request's token or a key from the body
    -- bare, with no secret-looking name around it -- is scrubbed by value (issue 10 D5); what
    a caller needs stays structured: status, reason, request id, method, path."""

    async def join(request: Request) -> JSONResponse:
        body = await request.json()
        token = request.headers["authorization"].rpartition("=")[2]
        echoed = " / ".join(
            [
                body["properties"]["llm"]["api_key"],
                body["properties"]["tts"]["params"]["key"],
                CREDS.app_certificate,
                *([CREDS.customer_secret] if mode == "basic" else []),
                token,
                request.headers["authorization"],
            ]
        )
        return JSONResponse(
            {"reason": "InvalidFieldValue", "detail": f"cannot use {echoed}", "note": echoed},
            status_code=400,
            headers={"x-request-id": "req-42"},
        )

    app = Starlette(
        routes=[Route(f"{PATH_PREFIX}/v2/projects/{{appid}}/join", join, methods=["POST"])]
    )
    async with serve(app) as root:
        client = ConvoAIClient(
            CREDS.app_id,
            make_auth(mode),
            base_url=root + PATH_PREFIX,
            app_certificate=CREDS.app_certificate,
        )
        async with client:
            with pytest.raises(BadRequestError) as info:
                await client.agents.launch(cascading_spec())
    err = info.value
    shown = [
        str(err),
        repr(err),
        err.detail or "",
        json.dumps(err.extra),
        json.dumps(err.as_dict()),
    ]
    for text in shown:
        for secret in SECRETS:
            assert secret not in text, text
    assert "cannot use ***" in (err.detail or "")
    data = err.as_dict()
    assert (data["status"], data["reason"], data["request_id"], data["method"]) == (
        400,
        "InvalidFieldValue",
        "req-42",
        "POST",
    )
    assert data["path"] == f"/v2/projects/{CREDS.app_id}/join"
    assert data["summary"] == err.summary and CREDS.app_id not in err.summary
