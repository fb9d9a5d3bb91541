"""Failover between real local endpoints: a closed port or a 503 first, a healthy one second."""

from __future__ import annotations

import pytest
from _client_helpers import (
    CREDS,
    Seen,
    SleepRecorder,
    cascading_spec,
    closed_port_url,
    make_auth,
    serve_recorded,
)

from convoai_mcp._retry import RetryPolicy
from convoai_mcp.client import ConvoAIClient
from convoai_mcp.errors import ServiceUnavailableError, TransportError
from convoai_mcp.sandbox import Fault, Sandbox, SandboxState


def _client(endpoints: list[str], sleeps: SleepRecorder, **kwargs: object) -> ConvoAIClient:
    return ConvoAIClient(
        CREDS.app_id,
        make_auth("basic"),
        endpoints=endpoints,
        app_certificate=CREDS.app_certificate,
        sleep=sleeps,
        **kwargs,  # type: ignore[arg-type]
    )


async def test_refused_connection_fails_over_and_the_good_endpoint_is_remembered() -> None:
    dead = closed_port_url()
    sb = Sandbox(CREDS, answer_delay=0.0)
    seen: list[Seen] = []
    sleeps = SleepRecorder()
    async with serve_recorded(sb, seen) as good:
        async with _client([dead, good], sleeps) as client:
            started = await client.agents.launch(cascading_spec())
            assert client.router.last_ok == good
            assert sleeps.delays == []  # moving to an untried endpoint needs no wait
            await client.agents.get(started.agent_id)
            assert (await client.router.candidates())[0] == good
    assert [s.path.rsplit("/", 1)[-1] for s in seen] == ["join", started.agent_id]


async def test_503_region_fails_over_to_a_healthy_region_sharing_state() -> None:
    state = SandboxState(answer_delay=0.0)
    sick = Sandbox(CREDS, state=state)
    healthy = Sandbox(CREDS, state=state)
    sick.faults.add(Fault(route="*", kind="status", status=503))
    sick_seen: list[Seen] = []
    healthy_seen: list[Seen] = []
    sleeps = SleepRecorder()
    async with (
        serve_recorded(sick, sick_seen) as first,
        serve_recorded(healthy, healthy_seen) as second,
        _client([first, second], sleeps) as client,
    ):
        started = await client.agents.launch(cascading_spec(name="failover"))
        assert client.router.last_ok == second
        agents = [a.agent_id async for a in client.agents.list()]
        assert agents == [started.agent_id]  # one agent: the 503 did not create one
        assert len(sick_seen) == 1  # later requests go straight to the healthy region
        assert len(healthy_seen) == 2


async def test_all_endpoints_down_is_a_transport_error_within_the_attempt_bound() -> None:
    sleeps = SleepRecorder()
    endpoints = [closed_port_url(), closed_port_url()]
    async with _client(endpoints, sleeps, retry=RetryPolicy(max_attempts=5, deadline=5)) as client:
        with pytest.raises(TransportError, match="cannot connect") as info:
            await client.agents.list_page()
    assert info.value.attempts == 5
    assert len(sleeps.delays) == 3  # the 2nd endpoint is tried at once, then backoff


async def test_all_regions_503_surfaces_the_status_error() -> None:
    state = SandboxState(answer_delay=0.0)
    a, b = Sandbox(CREDS, state=state), Sandbox(CREDS, state=state)
    for sb in (a, b):
        sb.faults.add(Fault(route="*", kind="status", status=503, retry_after=0.5))
    sleeps = SleepRecorder()
    async with (
        serve_recorded(a, []) as first,
        serve_recorded(b, []) as second,
        _client([first, second], sleeps, retry=RetryPolicy(max_attempts=3)) as client,
    ):
        with pytest.raises(ServiceUnavailableError) as info:
            await client.agents.list_page()
    assert info.value.status == 503
    assert sleeps.delays == [0.5, 0.5]  # Retry-After honoured between attempts


async def test_lost_join_on_one_region_is_recovered_on_the_next() -> None:
    state = SandboxState(answer_delay=0.0)
    a, b = Sandbox(CREDS, state=state), Sandbox(CREDS, state=state)
    a.faults.add(Fault(route="agents.start", kind="lost_response", times=1))
    a_seen: list[Seen] = []
    b_seen: list[Seen] = []
    sleeps = SleepRecorder()
    async with (
        serve_recorded(a, a_seen) as first,
        serve_recorded(b, b_seen) as second,
        _client([first, second], sleeps) as client,
    ):
        started = await client.agents.launch(cascading_spec(name="cross-region"))
        agents = [x.agent_id async for x in client.agents.list()]
        assert agents == [started.agent_id]
        assert [s.path.rsplit("/", 1)[-1] for s in a_seen] == ["join"]
        assert b_seen[0].path.endswith("/join")  # the retry went to the next region: 409
        assert client.router.last_ok == second
