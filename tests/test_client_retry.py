"""Retries, Retry-After, deadlines, and no duplicates when a start / call answer is lost."""

from __future__ import annotations

from collections.abc import Awaitable, Callable

import pytest
from _client_helpers import (
    CREDS,
    Rig,
    SleepRecorder,
    cascading_spec,
    closed_port_url,
    make_auth,
    rig,
)
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route

from convoai_mcp._retry import RetryPolicy
from convoai_mcp.builders import build_start_request
from convoai_mcp.client import ConvoAIClient, MalformedResponseError, Mode, _Failure, _FailureKind
from convoai_mcp.errors import (
    APIStatusError,
    ConflictError,
    NotFoundError,
    RateLimitedError,
    ServiceUnavailableError,
    TransportError,
)
from convoai_mcp.models import ActionResponse, AddPhoneNumberRequest
from convoai_mcp.sandbox import PATH_PREFIX, Fault
from convoai_mcp.sandbox.faults import FaultKind
from convoai_mcp.sandbox.runner import serve


def _count(r: Rig, suffix: str) -> int:
    return sum(1 for s in r.seen if s.path.endswith(suffix))


async def test_429_is_retried_after_retry_after() -> None:
    async with rig() as r:
        r.sb.faults.add(
            Fault(route="agents.list", kind="status", status=429, retry_after=3, times=2)
        )
        page = await r.client.agents.list_page()
        assert page.items == []
        assert r.sleeps.delays == [3.0, 3.0]
        assert _count(r, "/agents") == 3


async def test_503_is_retried_with_bounded_backoff() -> None:
    policy = RetryPolicy(max_attempts=4, deadline=10.0, base_delay=0.5, max_delay=1.0)
    async with rig(retry=policy) as r:
        r.sb.faults.add(Fault(route="agents.list", kind="status", status=503, times=2))
        await r.client.agents.list_page()
        assert _count(r, "/agents") == 3
        assert len(r.sleeps.delays) == 2
        assert all(0.0 <= d <= 1.0 for d in r.sleeps.delays)


async def test_attempts_are_bounded() -> None:
    async with rig(retry=RetryPolicy(max_attempts=3, deadline=10.0)) as r:
        r.sb.faults.add(Fault(route="agents.list", kind="status", status=503))
        with pytest.raises(ServiceUnavailableError) as info:
            await r.client.agents.list_page()
        assert info.value.status == 503
        assert _count(r, "/agents") == 3


async def test_retry_after_beyond_the_limit_is_not_waited_for() -> None:
    async with rig(retry=RetryPolicy(max_retry_after=5.0)) as r:
        r.sb.faults.add(Fault(route="agents.list", kind="status", status=429, retry_after=60))
        with pytest.raises(RateLimitedError) as info:
            await r.client.agents.list_page()
        assert info.value.retry_after == 60.0
        assert r.sleeps.delays == []
        assert _count(r, "/agents") == 1


async def test_deadline_bounds_the_whole_call() -> None:
    """An answer slower than the whole deadline: one attempt, cut at the deadline, and no
    retry (no time is left for one) although nine more attempts were allowed."""
    async with rig(retry=RetryPolicy(max_attempts=10, deadline=0.1)) as r:
        # short, because the emulator's shutdown waits for the slow answer
        r.sb.faults.add(Fault(route="agents.get", kind="latency", delay=0.4))
        with pytest.raises(TransportError) as info:
            await r.client.agents.get("whatever")
        assert info.value.sent  # it was sent: the answer is what did not come
        assert info.value.attempts == 1
        assert _count(r, "/agents/whatever") == 1
        assert r.sleeps.delays == []


async def test_4xx_is_not_retried() -> None:
    async with rig() as r:
        with pytest.raises(NotFoundError):
            await r.client.agents.get("missing")
        assert _count(r, "/agents/missing") == 1
        assert r.sleeps.delays == []


@pytest.mark.parametrize("kind", ["drop", "malformed"])
async def test_broken_answer_to_a_get_is_retried(kind: FaultKind) -> None:
    async with rig() as r:
        started = await r.client.agents.launch(cascading_spec())
        r.sb.faults.add(Fault(route="agents.get", kind=kind, times=1))
        info = await r.client.agents.get(started.agent_id)
        assert info.agent_id == started.agent_id
        assert _count(r, f"/agents/{started.agent_id}") == 2


async def test_malformed_answer_forever_is_a_clear_error() -> None:
    async with rig(retry=RetryPolicy(max_attempts=2)) as r:
        r.sb.faults.add(Fault(route="agents.list", kind="malformed"))
        with pytest.raises(MalformedResponseError, match="not the expected JSON"):
            await r.client.agents.list_page()


async def test_lost_join_answer_creates_no_second_agent() -> None:
    async with rig() as r:
        r.sb.faults.add(Fault(route="agents.start", kind="lost_response", times=1))
        started = await r.client.agents.launch(cascading_spec(name="once-only"))
        agents = [a async for a in r.client.agents.list(channel="room-1")]
        assert [a.agent_id for a in agents] == [started.agent_id]
        assert _count(r, "/join") == 2  # the retry met 409 and the agent was found


async def test_lost_join_answer_recovered_by_name_when_409_has_no_agent_id() -> None:
    async with rig() as r:
        other = await r.client.agents.launch(cascading_spec(name="someone-else"))
        r.sb.faults.add(Fault(route="agents.start", kind="lost_response", times=1))
        r.sb.faults.add(
            Fault(route="agents.start", kind="status", status=409, reason="TaskConflict", times=1)
        )
        started = await r.client.agents.launch(cascading_spec(name="find-me"))
        assert started.agent_id != other.agent_id
        turns = await r.client.agents.turns(started.agent_id)
        assert turns.name == "find-me"
        agents = [a.agent_id async for a in r.client.agents.list(channel="room-1")]
        assert sorted(agents) == sorted([other.agent_id, started.agent_id])


async def test_join_conflict_without_lost_answer_is_an_error() -> None:
    async with rig() as r:
        first = await r.client.agents.launch(cascading_spec(name="taken"))
        with pytest.raises(ConflictError) as info:
            await r.client.agents.launch(cascading_spec(name="taken"))
        assert info.value.reason == "TaskConflict"
        assert info.value.extra.get("agent_id") == first.agent_id
        request = build_start_request(
            cascading_spec(name="taken"), app_id=CREDS.app_id, app_certificate=CREDS.app_certificate
        )
        adopted = await r.client.agents.start(request, adopt_existing=True)
        assert adopted.agent_id == first.agent_id


@pytest.mark.parametrize("route", ["agents.start", "calls.create"])
@pytest.mark.parametrize("lost_first", [True, False])
async def test_create_failing_after_a_lost_answer_warns_that_it_may_exist(
    route: str, lost_first: bool
) -> None:
    """The first join / call is performed but its answer is lost; every retry then meets 503.
    The final 503 must not read as 'nothing happened': it says the agent may exist and how to
    find it. Without the lost answer the same 503 carries no such warning."""
    async with rig(retry=RetryPolicy(max_attempts=3, deadline=10.0)) as r:
        if lost_first:
            r.sb.faults.add(Fault(route=route, kind="lost_response", times=1))
        r.sb.faults.add(Fault(route=route, kind="status", status=503))
        spec = cascading_spec(name="maybe-made", channel="maybe-room")
        create = (
            r.client.agents.launch(spec)
            if route == "agents.start"
            else r.client.calls.dial(spec, to_number="+14155550126", from_number="+14155550100")
        )
        with pytest.raises(ServiceUnavailableError) as info:
            await create
        r.sb.faults.clear()
        err = info.value
        assert err.status == 503
        assert _count(r, "/join" if route == "agents.start" else "/call") == 3
        created = [a.agent_id async for a in r.client.agents.list(channel="maybe-room")]
        assert len(created) == (1 if lost_first else 0)
        assert err.maybe_performed is lost_first
        warned = "may have been created anyway" in str(err) and "list the agents" in err.hint
        assert warned is lost_first, str(err)


async def test_refused_connection_after_a_lost_answer_says_it_may_have_been_sent() -> None:
    """Endpoints [dead, emulator]: refused, then the join's answer lost, then refused again.
    The final 'cannot connect' error still says the join may have been performed."""
    policy = RetryPolicy(max_attempts=3, deadline=10.0)
    async with rig(endpoints_before=[closed_port_url()], retry=policy) as r:
        r.sb.faults.add(Fault(route="agents.start", kind="lost_response", times=1))
        with pytest.raises(TransportError, match="cannot connect") as info:
            await r.client.agents.launch(cascading_spec(name="refused-later"))
        err = info.value
        assert err.attempts == 3
        assert _count(r, "/join") == 1
        assert err.sent and err.maybe_performed
        assert "may have been created anyway" in err.hint


async def test_speak_is_never_repeated_after_a_lost_answer() -> None:
    async with rig() as r:
        started = await r.client.agents.launch(cascading_spec())
        r.sb.faults.add(Fault(route="agents.speak", kind="lost_response", times=1))
        with pytest.raises(TransportError) as info:
            await r.client.agents.speak(started.agent_id, "only once")
        assert _count(r, "/speak") == 1
        assert info.value.sent and info.value.maybe_performed
        assert "before repeating it" in info.value.hint


async def test_speak_is_retried_when_it_surely_did_not_run() -> None:
    async with rig() as r:
        started = await r.client.agents.launch(cascading_spec())
        r.sb.faults.add(Fault(route="agents.speak", kind="status", status=503, times=1))
        r.sb.faults.add(
            Fault(route="agents.speak", kind="status", status=429, retry_after=1, times=1)
        )
        spoken = await r.client.agents.speak(started.agent_id, "after two refusals")
        assert spoken.agent_id == started.agent_id
        assert _count(r, "/speak") == 3
        r.sb.faults.add(Fault(route="agents.speak", kind="status", status=500, times=1))
        with pytest.raises(ServiceUnavailableError) as info:
            await r.client.agents.speak(started.agent_id, "500 may have run")
        assert _count(r, "/speak") == 4
        assert info.value.maybe_performed
        assert "check (e.g. the agent's history) before repeating" in info.value.hint


@pytest.mark.parametrize("action", ["speak", "interrupt", "think"])
async def test_a_408_once_only_action_is_not_repeated(action: str) -> None:
    """408 is TaskOperationTimeout: the action timed out inside the service and may have run,
    so it is sent exactly once and the error says to check before repeating it."""
    async with rig() as r:
        started = await r.client.agents.launch(cascading_spec())
        r.sb.faults.add(Fault(route=f"agents.{action}", kind="status", status=408, times=1))
        agents, agent_id = r.client.agents, started.agent_id
        sent: dict[str, Callable[[], Awaitable[ActionResponse]]] = {
            "speak": lambda: agents.speak(agent_id, "said at most once"),
            "interrupt": lambda: agents.interrupt(agent_id),
            "think": lambda: agents.think(agent_id, "thought at most once"),
        }
        with pytest.raises(APIStatusError) as info:
            await sent[action]()
        assert _count(r, f"/{action}") == 1
        assert info.value.status == 408 and info.value.maybe_performed
        assert "before repeating" in info.value.hint


async def test_a_408_on_join_then_409_finds_the_agent_it_created() -> None:
    """A join answered 408 may have created the agent: the retry's 409 is resolved to it
    instead of failing as a name conflict. (The emulator's 408 performs nothing, so the agent
    the timed-out join "created" is started beforehand under the same name.)"""
    async with rig() as r:
        first = await r.client.agents.launch(cascading_spec(name="timed-out-join"))
        r.sb.faults.add(Fault(route="agents.start", kind="status", status=408, times=1))
        again = await r.client.agents.launch(cascading_spec(name="timed-out-join"))
        assert again.agent_id == first.agent_id
        assert _count(r, "/join") == 3


async def test_lost_stop_answer_is_success() -> None:
    async with rig() as r:
        started = await r.client.agents.launch(cascading_spec())
        r.sb.faults.add(Fault(route="agents.stop", kind="lost_response", times=1))
        await r.client.agents.stop(started.agent_id)
        assert _count(r, "/leave") == 2


async def test_lost_call_answer_places_one_call() -> None:
    async with rig() as r:
        r.sb.faults.add(Fault(route="calls.create", kind="lost_response", times=1))
        placed = await r.client.calls.dial(
            cascading_spec(name="caller", channel="call-9"),
            to_number="+14155550123",
            from_number="+14155550100",
        )
        calls = [c async for c in r.client.calls.list()]
        assert [c.agent_id for c in calls] == [placed.agent_id]


async def test_lost_call_answer_recovered_by_channel_when_409_has_no_agent_id() -> None:
    async with rig() as r:
        r.sb.faults.add(Fault(route="calls.create", kind="lost_response", times=1))
        r.sb.faults.add(
            Fault(route="calls.create", kind="status", status=409, reason="TaskConflict", times=1)
        )
        placed = await r.client.calls.dial(
            cascading_spec(name="caller-2", channel="call-10"),
            to_number="+14155550124",
            from_number="+14155550100",
        )
        info = await r.client.calls.get(placed.agent_id)
        assert info.channel == "call-10"
        calls = [c.agent_id async for c in r.client.calls.list(number="+14155550124")]
        assert calls == [placed.agent_id]


async def test_lost_hangup_and_delete_answers_are_success() -> None:
    async with rig() as r:
        placed = await r.client.calls.dial(
            cascading_spec(name="caller-3", channel="call-11"),
            to_number="+14155550125",
            from_number="+14155550100",
        )
        r.sb.faults.add(Fault(route="calls.hangup", kind="lost_response", times=1))
        await r.client.calls.hangup(placed.agent_id)
        await r.client.phone_numbers.add(
            AddPhoneNumberRequest(provider="byo", phone_number="+14155550199", label="x")
        )
        r.sb.faults.add(Fault(route="numbers.delete", kind="lost_response", times=1))
        await r.client.phone_numbers.delete("+14155550199")
        with pytest.raises(NotFoundError):
            await r.client.phone_numbers.get("+14155550199")


@pytest.mark.parametrize("year", [2001, 2099])
async def test_retry_after_as_an_http_date_is_honoured(year: int) -> None:
    """The emulator sends delta seconds; a stand-in answers 429 once with an HTTP date. A date
    in the past means 'now' (retried without a wait); one decades ahead is beyond any limit
    (not waited for: the error carries it). Dates this far off keep the test independent of
    the wall clock; exact values are checked in test_retry.py with an injected ``now``."""
    calls: list[int] = []

    async def list_agents(request: Request) -> JSONResponse:
        calls.append(1)
        if len(calls) == 1:
            return JSONResponse(
                {"reason": "ConcurrencyLimitExceeded", "detail": "slow down"},
                status_code=429,
                headers={"Retry-After": f"Mon, 01 Jan {year} 00:00:00 GMT"},
            )
        return JSONResponse({"data": {"count": 0, "list": []}, "meta": {}, "status": "ok"})

    app = Starlette(routes=[Route(f"{PATH_PREFIX}/v2/projects/{{appid}}/agents", list_agents)])
    sleeps = SleepRecorder()
    async with serve(app) as root:
        client = ConvoAIClient(
            CREDS.app_id,
            make_auth("basic"),
            base_url=root + PATH_PREFIX,
            sleep=sleeps,
            retry=RetryPolicy(max_retry_after=30),
        )
        async with client:
            if year == 2001:
                page = await client.agents.list_page()
                assert page.items == []
            else:
                with pytest.raises(RateLimitedError) as info:
                    await client.agents.list_page()
                assert info.value.retry_after is not None
                assert info.value.retry_after > 365 * 86400
    assert len(calls) == (2 if year == 2001 else 1)
    assert sleeps.delays == []


@pytest.mark.parametrize(
    ("kind", "status", "retried"),
    [
        # (what went wrong, status) -> retried for (idempotent, create, once)
        ("unreachable", None, (True, True, True)),
        ("unanswered", None, (True, True, False)),
        ("malformed", None, (True, True, False)),
        ("unusable", None, (False, False, False)),
        ("status", 408, (True, True, False)),  # may have run (TaskOperationTimeout): issue D8
        ("status", 429, (True, True, True)),
        ("status", 503, (True, True, True)),
        ("status", 500, (True, True, False)),
        ("status", 502, (True, True, False)),
        ("status", 504, (True, True, False)),
        ("status", 501, (False, False, False)),
        ("status", 409, (False, False, False)),
        ("status", 404, (False, False, False)),
    ],
)
def test_retry_rules_table(
    kind: _FailureKind, status: int | None, retried: tuple[bool, bool, bool]
) -> None:
    """The whole retry decision as one table: a once-only action (speak) is repeated only when
    it certainly did not run."""
    failure = _Failure(TransportError("x"), kind, status=status)
    modes: tuple[Mode, ...] = ("idempotent", "create", "once")
    assert tuple(ConvoAIClient._should_retry(failure, mode) for mode in modes) == retried
    assert failure.maybe_performed is (
        kind in ("unanswered", "malformed") or status in (408, 500, 502, 504)
    )
