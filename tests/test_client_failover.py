"""Failover between real local endpoints: a closed port or a 503 first, a healthy one second."""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator
from dataclasses import dataclass, field

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


@dataclass
class _Region:
    """One emulated region: its sandbox, base URL and the requests it saw."""

    sb: Sandbox
    url: str = ""
    seen: list[Seen] = field(default_factory=list)


@dataclass
class _TwoRegions:
    first: _Region
    second: _Region
    client: ConvoAIClient
    sleeps: SleepRecorder


@contextlib.asynccontextmanager
async def _two_regions(**client_kwargs: object) -> AsyncIterator[_TwoRegions]:
    """Two emulators sharing one state (as two regions of one service), and a client whose
    endpoints are [first, second]."""
    state = SandboxState(answer_delay=0.0)
    first, second = _Region(Sandbox(CREDS, state=state)), _Region(Sandbox(CREDS, state=state))
    sleeps = SleepRecorder()
    async with (
        serve_recorded(first.sb, first.seen) as first.url,
        serve_recorded(second.sb, second.seen) as second.url,
        _client([first.url, second.url], sleeps, **client_kwargs) as client,
    ):
        yield _TwoRegions(first, second, client, sleeps)


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
    async with _two_regions() as r:
        r.first.sb.faults.add(Fault(route="*", kind="status", status=503))
        started = await r.client.agents.launch(cascading_spec(name="failover"))
        assert r.client.router.last_ok == r.second.url
        agents = [a.agent_id async for a in r.client.agents.list()]
        assert agents == [started.agent_id]  # one agent: the 503 did not create one
        assert len(r.first.seen) == 1  # later requests go straight to the healthy region
        assert len(r.second.seen) == 2


async def test_all_endpoints_down_is_a_transport_error_within_the_attempt_bound() -> None:
    sleeps = SleepRecorder()
    endpoints = [closed_port_url(), closed_port_url()]
    async with _client(endpoints, sleeps, retry=RetryPolicy(max_attempts=5, deadline=5)) as client:
        with pytest.raises(TransportError, match="cannot connect") as info:
            await client.agents.list_page()
    assert info.value.attempts == 5
    assert len(sleeps.delays) == 3  # the 2nd endpoint is tried at once, then backoff


async def test_all_regions_503_surfaces_the_status_error() -> None:
    async with _two_regions(retry=RetryPolicy(max_attempts=3)) as r:
        for region in (r.first, r.second):
            region.sb.faults.add(Fault(route="*", kind="status", status=503, retry_after=0.5))
        with pytest.raises(ServiceUnavailableError) as info:
            await r.client.agents.list_page()
    assert info.value.status == 503
    assert r.sleeps.delays == [0.5, 0.5]  # Retry-After honoured between attempts
    assert (len(r.first.seen), len(r.second.seen)) == (2, 1)  # first, second, first again


async def test_lost_join_on_one_region_is_recovered_on_the_next() -> None:
    async with _two_regions() as r:
        r.first.sb.faults.add(Fault(route="agents.start", kind="lost_response", times=1))
        started = await r.client.agents.launch(cascading_spec(name="cross-region"))
        agents = [x.agent_id async for x in r.client.agents.list()]
        assert agents == [started.agent_id]
        assert [s.path.rsplit("/", 1)[-1] for s in r.first.seen] == ["join"]
        assert r.second.seen[0].path.endswith("/join")  # the retry went to the next region: 409
        assert r.client.router.last_ok == r.second.url
