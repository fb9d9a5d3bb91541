"""Every fault kind, observed with raw httpx; the admin endpoint."""

from __future__ import annotations

import base64
import json
from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest
from starlette.middleware.base import BaseHTTPMiddleware
from starlette.requests import Request

from convoai_mcp.sandbox import (
    DEMO_CREDENTIALS,
    OPERATIONS,
    PATH_PREFIX,
    Fault,
    FaultSet,
    Sandbox,
)
from convoai_mcp.sandbox.runner import serve
from convoai_mcp.tokens import mint_convoai_token

CREDS = DEMO_CREDENTIALS
P = f"/v2/projects/{CREDS.app_id}"
AUTH = {
    "Authorization": "Basic "
    + base64.b64encode(f"{CREDS.customer_id}:{CREDS.customer_secret}".encode()).decode()
}


def start_body(name: str = "faulty") -> dict[str, object]:
    return {
        "name": name,
        "preset": "openai_gpt_4o_mini,openai_tts_1",
        "properties": {
            "channel": "room-9",
            "token": mint_convoai_token(CREDS.app_id, CREDS.app_certificate, "room-9", 1001),
            "agent_rtc_uid": "1001",
            "remote_rtc_uids": ["*"],
        },
    }


@pytest.fixture
async def sandbox() -> AsyncIterator[Sandbox]:
    sb = Sandbox(CREDS, admin=True)
    async with sb.serve():
        yield sb


@pytest.fixture
async def http(sandbox: Sandbox) -> AsyncIterator[httpx.AsyncClient]:
    assert sandbox.base_url is not None
    async with httpx.AsyncClient(base_url=sandbox.base_url, headers=AUTH) as c:
        yield c


@pytest.fixture
async def admin(sandbox: Sandbox) -> AsyncIterator[httpx.AsyncClient]:
    """A client of the admin endpoint (the host root, no credentials)."""
    assert sandbox.base_url is not None
    root = sandbox.base_url.removesuffix(PATH_PREFIX)
    async with httpx.AsyncClient(base_url=root) as c:
        yield c


async def test_status_fault_with_retry_after_then_recovers(
    sandbox: Sandbox, http: httpx.AsyncClient
) -> None:
    fault = sandbox.faults.add(
        Fault(route="agents.start", kind="status", status=429, retry_after=0.01, times=1)
    )
    r = await http.post(f"{P}/join", json=start_body())
    assert r.status_code == 429
    assert r.headers["retry-after"] == "0.01"
    assert r.headers["x-request-id"]
    assert r.json() == {
        "detail": "injected fault: HTTP 429",
        "reason": "ResourceQuotaLimitExceeded",
    }
    assert fault.hits == 1
    assert len(sandbox.faults) == 0
    assert (await http.get(f"{P}/agents")).json()["meta"]["total"] == 0  # nothing performed
    assert (await http.post(f"{P}/join", json=start_body())).status_code == 200


@pytest.mark.parametrize(
    ("status", "reason"), [(500, "InternalError"), (503, "ServiceUnavailable")]
)
async def test_server_error_faults(
    sandbox: Sandbox, http: httpx.AsyncClient, status: int, reason: str
) -> None:
    sandbox.faults.add(Fault(route="agents.list", kind="status", status=status, times=2))
    for _ in range(2):
        r = await http.get(f"{P}/agents")
        assert (r.status_code, r.json()["reason"]) == (status, reason)
        assert "retry-after" not in r.headers
    assert (await http.get(f"{P}/agents")).status_code == 200


async def test_telephony_fault_uses_telephony_body(
    sandbox: Sandbox, http: httpx.AsyncClient
) -> None:
    sandbox.faults.add(
        Fault(route="numbers.list", kind="status", status=503, reason="Busy", times=1)
    )
    r = await http.get("/v2/phone-numbers")
    assert r.status_code == 503
    assert r.json() == {"error_type": "Busy", "description": "injected fault: HTTP 503"}


async def test_drop_closes_connection_and_performs_nothing(
    sandbox: Sandbox, http: httpx.AsyncClient
) -> None:
    sandbox.faults.add(Fault(route="agents.start", kind="drop", times=1))
    with pytest.raises((httpx.RemoteProtocolError, httpx.ReadError)):
        await http.post(f"{P}/join", json=start_body())
    assert (await http.get(f"{P}/agents")).json()["meta"]["total"] == 0
    assert (await http.post(f"{P}/join", json=start_body())).status_code == 200


async def test_lost_response_performs_the_action(sandbox: Sandbox, http: httpx.AsyncClient) -> None:
    sandbox.faults.add(Fault(route="agents.start", kind="lost_response", times=1))
    with pytest.raises((httpx.RemoteProtocolError, httpx.ReadError)):
        await http.post(f"{P}/join", json=start_body("lost-one"))
    listed = (await http.get(f"{P}/agents")).json()
    assert listed["meta"]["total"] == 1  # the agent exists although nobody heard back
    retry = await http.post(f"{P}/join", json=start_body("lost-one"))
    assert retry.status_code == 409
    assert retry.json()["reason"] == "TaskConflict"


async def test_malformed_answers_200_with_broken_json(
    sandbox: Sandbox, http: httpx.AsyncClient
) -> None:
    sandbox.faults.add(Fault(route="agents.start", kind="malformed", times=1))
    r = await http.post(f"{P}/join", json=start_body())
    assert r.status_code == 200
    assert r.headers["content-type"] == "application/json"
    with pytest.raises(json.JSONDecodeError):
        json.loads(r.content)
    assert r.content.startswith(b'{"agent_id"')
    assert (await http.get(f"{P}/agents")).json()["meta"]["total"] == 1


async def test_latency_fault_delays_the_answer(sandbox: Sandbox, http: httpx.AsyncClient) -> None:
    sandbox.faults.add(Fault(route="agents.list", kind="latency", delay=0.5, times=1))
    with pytest.raises(httpx.ReadTimeout):
        await http.get(f"{P}/agents", timeout=httpx.Timeout(5.0, read=0.05))
    assert (await http.get(f"{P}/agents", timeout=httpx.Timeout(5.0, read=0.5))).status_code == 200


async def test_wildcard_and_forever(sandbox: Sandbox, http: httpx.AsyncClient) -> None:
    sandbox.faults.add(Fault(route="*", kind="status", status=503))
    for path in (f"{P}/agents", "/v2/phone-numbers", f"{P}/call"):
        assert (await http.get(path)).status_code == 503
    sandbox.faults.clear()
    assert (await http.get(f"{P}/agents")).status_code == 200


def test_fault_set_consumes_times_and_orders() -> None:
    faults = FaultSet()
    faults.add(Fault("agents.get", "latency", delay=0.2, times=2))
    first = faults.add(Fault("agents.get", "status", status=500, times=1))
    faults.add(Fault("agents.get", "drop", times=1))
    plan = faults.take("agents.get")
    assert plan.delay == pytest.approx(0.2)
    assert plan.fault is first
    plan = faults.take("agents.get")
    assert plan.fault is not None and plan.fault.kind == "drop"
    assert faults.take("agents.get").fault is None
    assert faults.take("agents.list").delay == 0
    assert len(faults) == 0


@pytest.mark.parametrize(
    "kwargs",
    [
        {"route": "agents.start", "kind": "explode"},
        {"route": "agents.launch", "kind": "drop"},
        {"route": "agents.start", "kind": "status", "status": 99},
        {"route": "agents.start", "kind": "latency", "delay": -1},
        {"route": "agents.start", "kind": "drop", "times": 0},
    ],
)
def test_fault_validation(kwargs: dict[str, object]) -> None:
    with pytest.raises(ValueError):
        Fault(**kwargs)  # type: ignore[arg-type]


def test_operation_ids_are_route_names() -> None:
    sb = Sandbox(CREDS)
    names = {getattr(r, "name", None) for m in sb.app.routes for r in getattr(m, "routes", [])}
    assert set(OPERATIONS) <= names


async def test_admin_endpoint_manages_faults_and_time(
    admin: httpx.AsyncClient, http: httpx.AsyncClient
) -> None:
    r = await admin.post(
        "/_sandbox/faults",
        json={
            "route": "agents.list",
            "kind": "status",
            "status": 503,
            "retry_after": 2,
            "times": 1,
        },
    )
    assert r.status_code == 201
    assert r.headers["x-request-id"]
    assert (await admin.get("/_sandbox/faults")).json()[0]["route"] == "agents.list"
    failed = await http.get(f"{P}/agents")
    assert (failed.status_code, failed.headers["retry-after"]) == (503, "2")
    assert (await admin.get("/_sandbox/faults")).json() == []
    bad = await admin.post("/_sandbox/faults", json={"route": "nope", "kind": "drop"})
    assert bad.status_code == 400
    await admin.post("/_sandbox/faults", json=[{"route": "*", "kind": "status"}])
    assert (await admin.delete("/_sandbox/faults")).status_code == 204
    assert (await http.get(f"{P}/agents")).status_code == 200
    before = (await admin.get("/_sandbox/state")).json()["now"]
    moved = (await admin.post("/_sandbox/time", json={"advance": 3600})).json()["now"]
    assert moved - before >= 3600
    assert (await admin.post("/_sandbox/time", json={"advance": -1})).status_code == 400
    idle = start_body()
    idle["properties"]["idle_timeout"] = 60  # type: ignore[index]
    await http.post(f"{P}/join", json=idle)
    state = (await admin.get("/_sandbox/state")).json()
    assert (state["agents"], state["running_agents"], state["app_id"]) == (1, 1, CREDS.app_id)
    await admin.post("/_sandbox/time", json={"advance": 61})
    state = (await admin.get("/_sandbox/state")).json()
    assert (state["agents"], state["running_agents"]) == (1, 0)  # stopped by its idle timeout
    assert "app_certificate" not in state
    assert (await admin.post("/_sandbox/reset")).status_code == 204
    assert (await admin.get("/_sandbox/state")).json()["agents"] == 0


async def test_admin_endpoint_is_off_by_default() -> None:
    sb = Sandbox(CREDS)
    async with sb.serve() as url, httpx.AsyncClient() as c:
        root = url.removesuffix(PATH_PREFIX)
        r = await c.post(f"{root}/_sandbox/faults", json={"route": "*", "kind": "drop"})
        assert r.status_code == 404
        assert len(sb.faults) == 0


async def test_admin_simulates_inbound_calls_and_user_speech(
    admin: httpx.AsyncClient, http: httpx.AsyncClient
) -> None:
    refused = await admin.post(
        "/_sandbox/calls/inbound",
        json={"from_number": "+15550001234", "to_number": "+14155550100"},
    )
    assert refused.status_code == 400  # +14155550100 takes no inbound calls
    r = await admin.post(
        "/_sandbox/calls/inbound",
        json={"from_number": "+15550001234", "to_number": "+14155550101"},
    )
    assert r.status_code == 201
    agent_id = r.json()["agent_id"]
    call = (await http.get(f"{P}/calls/{agent_id}")).json()
    assert (call["type"], call["state"], call["from_number"]) == (
        "inbound",
        "answered",
        "+15550001234",
    )
    inbound = (await http.get(f"{P}/call", params={"type": "inbound"})).json()
    assert [c["agent_id"] for c in inbound["data"]["list"]] == [agent_id]
    said = await admin.post(f"/_sandbox/agents/{agent_id}/say", json={"text": "Opening hours?"})
    assert said.status_code == 200
    contents = (await http.get(f"{P}/agents/{agent_id}/history")).json()["contents"]
    assert ("user", "Opening hours?") in [(c["role"], c["content"]) for c in contents]
    assert contents[-1]["role"] == "assistant"
    missing = await admin.post("/_sandbox/agents/NOPE/say", json={"text": "hi"})
    assert missing.status_code == 404


class _HideTransport:
    """Middleware whose ``receive`` hides the server's transport from the emulator."""

    def __init__(self, app: Any) -> None:
        self.app = app

    async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
        async def hidden() -> Any:
            return await receive()

        await self.app(scope, hidden, send)


async def _passthrough(request: Request, call_next: Any) -> Any:
    return await call_next(request)


def _base_http_middleware(app: Any) -> Any:
    """Starlette's own middleware base: wraps ``receive`` and re-streams the answer."""
    return BaseHTTPMiddleware(app, dispatch=_passthrough)


@pytest.mark.parametrize("wrap", [_HideTransport, _base_http_middleware])
@pytest.mark.parametrize("kind", ["drop", "lost_response"])
async def test_drop_still_breaks_the_answer_behind_middleware(kind: str, wrap: Any) -> None:
    sb = Sandbox(CREDS)
    sb.faults.add(Fault(route="agents.start", kind=kind, times=1))  # type: ignore[arg-type]
    async with serve(wrap(sb.app)) as root, httpx.AsyncClient(headers=AUTH) as c:
        api = f"{root}{PATH_PREFIX}{P}"
        with pytest.raises((httpx.RemoteProtocolError, httpx.ReadError)):
            await c.post(f"{api}/join", json=start_body())
        listed = (await c.get(f"{api}/agents")).json()["data"]["list"]
        assert len(listed) == (1 if kind == "lost_response" else 0)
