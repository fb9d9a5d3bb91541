"""Contract (c): every answer the emulator gives conforms to the official SDK's response models.

One scenario drives the emulator (in process, through an ASGI transport: only the bodies
matter here) into every answer it has -- agents starting, running and stopped, turns ended
every way, calls not yet answered, answered and hung up, numbers with and without pipelines,
every kind of error body -- and each body is checked with :func:`_contract.conforms` against
the SDK model for that operation: it must validate, and every enum value must be one the SDK
declares (the SDK's own open enums accept anything, so this is stricter than the SDK).
"""

from __future__ import annotations

import base64
from dataclasses import dataclass, field
from typing import Any

import httpx
import pydantic
from _contract import AGENT_ERROR, SUCCESS, answer_problems, conforms, import_sdk, sdk_model

from convoai_mcp.sandbox import DEMO_CREDENTIALS, Callee, Fault, Sandbox
from convoai_mcp.tokens import mint_convoai_token

import_sdk()

CREDS = DEMO_CREDENTIALS
P = f"/v2/projects/{CREDS.app_id}"
T0 = 1_800_000_000.0
BASIC = (
    "Basic " + base64.b64encode(f"{CREDS.customer_id}:{CREDS.customer_secret}".encode()).decode()
)
OUTBOUND = "+14155550100"


def token(channel: str, uid: int | str) -> str:
    return mint_convoai_token(CREDS.app_id, CREDS.app_certificate, channel, uid, issue_ts=int(T0))


def agent_body(name: str, channel: str, **extra: Any) -> dict[str, Any]:
    return {
        "name": name,
        "properties": {
            "channel": channel,
            "token": token(channel, 1001),
            "agent_rtc_uid": "1001",
            "remote_rtc_uids": ["1002"],
            "llm": {
                "url": "https://llm.example/v1/chat/completions",
                "params": {"model": "m"},
                "greeting_message": "Hello! How can I help you today?",
            },
            "tts": {  # complete: the emulator checks each vendor stage (issue 12)
                "vendor": "microsoft",
                "params": {"key": "k", "region": "eastus", "voice_name": "en-US-AndrewNeural"},
            },
            **extra,
        },
    }


def call_body(name: str) -> dict[str, Any]:
    channel = f"ch-{name}"
    body = agent_body(name, channel)
    body["sip"] = {
        "to_number": "+15551234567",
        "from_number": OUTBOUND,
        "rtc_uid": "2001",
        "rtc_token": token(channel, 2001),
    }
    body["properties"]["remote_rtc_uids"] = ["2001"]
    return body


class Clock:
    def __init__(self) -> None:
        self.now = T0

    def __call__(self) -> float:
        return self.now


@dataclass
class Recorder:
    """Asks the emulator and keeps every (operation, status, body) for the final check."""

    http: httpx.AsyncClient
    clock: Clock
    seen: list[tuple[str, int, Any]] = field(default_factory=list)

    async def ask(
        self, operation: str, method: str, path: str, *, expect: int = 200, **kwargs: Any
    ) -> Any:
        response = await self.http.request(method, path, **kwargs)
        assert response.status_code == expect, (operation, response.status_code, response.text)
        body = response.json() if response.content else None
        self.seen.append((operation, response.status_code, body))
        return body


async def _agents(r: Recorder, sb: Sandbox) -> None:
    first = await r.ask("agents.start", "POST", f"{P}/join", json=agent_body("a-1", "room-1"))
    agent = first["agent_id"]
    assert first["status"] == "STARTING"
    await r.ask("agents.get", "GET", f"{P}/agents/{agent}")  # STARTING
    await r.ask("agents.history", "GET", f"{P}/agents/{agent}/history")
    await r.ask("agents.start", "POST", f"{P}/join", json=agent_body("a-1", "room-1"), expect=409)
    bad = agent_body("a-2", "room-2")
    del bad["properties"]["tts"]
    await r.ask("agents.start", "POST", f"{P}/join", json=bad, expect=400)
    wrong = agent_body("a-2", "room-2")
    wrong["properties"]["token"] = token("elsewhere", 1001)
    await r.ask("agents.start", "POST", f"{P}/join", json=wrong, expect=400)
    r.clock.now += 2  # running; the greeting is being said
    await r.ask("agents.speak", "POST", f"{P}/agents/{agent}/speak", json={"text": "Breaking."})
    await r.ask(
        "agents.speak",
        "POST",
        f"{P}/agents/{agent}/speak",
        json={"text": "Ignored.", "priority": "IGNORE"},
    )
    await r.ask(
        "agents.speak",
        "POST",
        f"{P}/agents/{agent}/speak",
        json={"text": "Queued.", "priority": "APPEND", "interruptable": False},
    )
    await r.ask("agents.interrupt", "POST", f"{P}/agents/{agent}/interrupt", json={})
    await r.ask("agents.interrupt", "POST", f"{P}/agents/{agent}/interrupt", json=[], expect=400)
    await r.ask("agents.think", "POST", f"{P}/agents/{agent}/think", json={"text": "And then?"})
    r.clock.now += 0.3
    sb.state.user_says(agent, "Wait, stop.")  # barge-in: start_of_speech
    await r.ask(
        "agents.think",
        "POST",
        f"{P}/agents/{agent}/think",
        json={"text": "Note this.", "on_listening_action": "inject", "metadata": {"k": "v"}},
    )
    await r.ask(
        "agents.update",
        "POST",
        f"{P}/agents/{agent}/update",
        json={"properties": {"llm": {"params": {"model": "m2"}}}},
    )
    await r.ask(
        "agents.speak", "POST", f"{P}/agents/{agent}/speak", json={"text": "x" * 600}, expect=400
    )
    r.clock.now += 1  # some turns still being said: end is null
    await r.ask("agents.turns", "GET", f"{P}/agents/{agent}/turns")
    r.clock.now += 60
    await r.ask("agents.history", "GET", f"{P}/agents/{agent}/history")
    for page in (1, 2, 3):
        await r.ask(
            "agents.turns",
            "GET",
            f"{P}/agents/{agent}/turns",
            params={"page_index": page, "page_size": 2},
        )
    await r.ask(
        "agents.turns", "GET", f"{P}/agents/{agent}/turns", params={"page_size": 0}, expect=400
    )
    mllm = agent_body("m-1", "room-m", mllm={"enable": True, "vendor": "openai", "api_key": "k"})
    del mllm["properties"]["llm"], mllm["properties"]["tts"]
    realtime = (await r.ask("agents.start", "POST", f"{P}/join", json=mllm))["agent_id"]
    await r.ask(
        "agents.speak", "POST", f"{P}/agents/{realtime}/speak", json={"text": "hi"}, expect=400
    )
    await r.ask("agents.think", "POST", f"{P}/agents/{realtime}/think", json={"text": "hi"})
    speaking = await r.ask("agents.start", "POST", f"{P}/join", json=agent_body("a-3", "r3"))
    r.clock.now += 2
    await r.ask("agents.stop", "POST", f"{P}/agents/{speaking['agent_id']}/leave")  # api_leave
    await r.ask("agents.stop", "POST", f"{P}/agents/{agent}/leave")
    await r.ask("agents.stop", "POST", f"{P}/agents/{agent}/leave", expect=404)
    await r.ask("agents.get", "GET", f"{P}/agents/{agent}")  # STOPPED, with stop_ts
    await r.ask("agents.turns", "GET", f"{P}/agents/{speaking['agent_id']}/turns")
    await r.ask("agents.history", "GET", f"{P}/agents/{agent}/history", expect=404)
    await r.ask("agents.get", "GET", f"{P}/agents/NOSUCH", expect=404)
    listed = await r.ask("agents.list", "GET", f"{P}/agents", params={"limit": 1})
    while listed["meta"]["cursor"]:
        listed = await r.ask(
            "agents.list",
            "GET",
            f"{P}/agents",
            params={"limit": 1, "cursor": listed["meta"]["cursor"]},
        )
    await r.ask("agents.list", "GET", f"{P}/agents", params={"state": "2,4", "from_time": 1.5})
    await r.ask("agents.list", "GET", f"{P}/agents", params={"state": "9"}, expect=400)
    await r.ask("agents.list", "GET", f"{P}/agents", headers={"Authorization": ""}, expect=401)
    await r.ask(
        "agents.list", "GET", f"{P}/agents", headers={"Authorization": "Bearer x"}, expect=401
    )
    await r.ask(
        "agents.list",
        "GET",
        f"{P}/agents",
        headers={"Authorization": "agora token=007broken"},
        expect=401,
    )
    await r.ask("agents.list", "GET", "/v2/projects/" + "f" * 32 + "/agents", expect=403)
    sb.faults.add(Fault(route="agents.get", kind="status", status=503, retry_after=1, times=1))
    await r.ask("agents.get", "GET", f"{P}/agents/{agent}", expect=503)
    for status in (408, 409, 422, 429, 500, 502, 504):
        sb.faults.add(Fault(route="agents.speak", kind="status", status=status, times=1))
        await r.ask(
            "agents.speak", "POST", f"{P}/agents/{agent}/speak", json={"text": "x"}, expect=status
        )


async def _calls(r: Recorder, sb: Sandbox) -> None:
    placed = await r.ask("calls.create", "POST", f"{P}/call", json=call_body("c-1"))
    call = placed["agent_id"]
    ringing = await r.ask("calls.get", "GET", f"{P}/calls/{call}")
    assert "state" not in ringing  # not answered yet: the SDK's states are answered / hangup
    await r.ask("calls.list", "GET", f"{P}/call")
    r.clock.now += 1
    await r.ask("calls.get", "GET", f"{P}/calls/{call}")  # answered
    await r.ask("calls.hangup", "POST", f"{P}/calls/{call}/hangup", json={})
    await r.ask("calls.hangup", "POST", f"{P}/calls/{call}/hangup", json={}, expect=404)
    ended = await r.ask("calls.get", "GET", f"{P}/calls/{call}")
    assert (ended["state"], ended["reason"]) == ("hangup", "request")
    second = await r.ask("calls.create", "POST", f"{P}/call", json=call_body("c-2"))
    listed = await r.ask("calls.list", "GET", f"{P}/call", params={"limit": 1})
    assert listed["meta"]["cursor"] == second["agent_id"] or listed["meta"]["cursor"]
    while listed["meta"]["cursor"]:
        listed = await r.ask(
            "calls.list",
            "GET",
            f"{P}/call",
            params={"limit": 1, "cursor": listed["meta"]["cursor"]},
        )
    await r.ask("calls.list", "GET", f"{P}/call", params={"type": "sideways"}, expect=400)
    bad = call_body("c-3")
    bad["sip"]["to_number"] = "555"
    await r.ask("calls.create", "POST", f"{P}/call", json=bad, expect=400)
    await r.ask("calls.get", "GET", f"{P}/calls/NOSUCH", expect=404)
    sb.faults.add(Fault(route="calls.list", kind="status", status=503, times=1))
    await r.ask("calls.list", "GET", f"{P}/call", expect=503)
    await _callees(r, sb)


async def _callees(r: Recorder, sb: Sandbox) -> None:
    """Every callee behaviour ends in a state and reason the SDK declares."""
    outcomes = {
        "no_answer": Callee("no_answer"),
        "busy": Callee("busy"),
        "reject": Callee("reject", after=2),
        "hangs_up": Callee.answers(1, hang_up_after=20, says=[(3, "Yes, I'll be there.")]),
    }
    placed: dict[str, str] = {}
    for n, (label, callee) in enumerate(outcomes.items()):
        body = call_body(f"callee-{label}")
        body["sip"]["to_number"] = f"+1555000{n:04d}"
        sb.state.callees.set(body["sip"]["to_number"], callee)
        placed[label] = (await r.ask("calls.create", "POST", f"{P}/call", json=body))["agent_id"]
    r.clock.now += 5
    talking = await r.ask("calls.get", "GET", f"{P}/calls/{placed['hangs_up']}")
    assert talking["state"] == "answered"
    await r.ask("agents.history", "GET", f"{P}/agents/{placed['hangs_up']}/history")
    r.clock.now += 60
    reasons = {}
    for label, call in placed.items():
        ended = await r.ask("calls.get", "GET", f"{P}/calls/{call}")
        reasons[label] = (ended["state"], ended["reason"])
        await r.ask("agents.get", "GET", f"{P}/agents/{call}")
    await r.ask("calls.list", "GET", f"{P}/call")
    assert reasons == {
        "no_answer": ("hangup", "failed"),
        "busy": ("hangup", "failed"),
        "reject": ("hangup", "failed"),
        "hangs_up": ("hangup", "hangup"),
    }


async def _numbers(r: Recorder, sb: Sandbox) -> None:
    await r.ask("numbers.list", "GET", "/v2/phone-numbers")
    await r.ask(
        "numbers.add",
        "POST",
        "/v2/phone-numbers",
        json={"provider": "byo", "phone_number": "+442071838750", "label": "London"},
    )
    await r.ask(
        "numbers.add",
        "POST",
        "/v2/phone-numbers",
        json={
            "provider": "twilio",
            "phone_number": "+442071838751",
            "label": "London 2",
            "inbound": True,
            "outbound": True,
            "inbound_config": {"allowed_addresses": ["sip.example.com"]},
            "outbound_config": {"address": "sip.example.com", "transport": "tls", "prefix": ""},
        },
    )
    await r.ask(
        "numbers.add",
        "POST",
        "/v2/phone-numbers",
        json={"provider": "byo", "phone_number": "+442071838750", "label": "again"},
        expect=409,
    )
    await r.ask("numbers.get", "GET", "/v2/phone-numbers/+442071838750")
    await r.ask(
        "numbers.update",
        "PATCH",
        "/v2/phone-numbers/+442071838751",
        json={"inbound_config": {"pipeline_id": "pl_1"}},
    )
    await r.ask("numbers.get", "GET", "/v2/phone-numbers/%2B442071838751")
    await r.ask(
        "numbers.update",
        "PATCH",
        "/v2/phone-numbers/+442071838751",
        json={"inbound_config": None, "outbound_config": None},
    )
    await r.ask("numbers.list", "GET", "/v2/phone-numbers")
    await r.ask("numbers.delete", "DELETE", "/v2/phone-numbers/+442071838750")
    await r.ask("numbers.get", "GET", "/v2/phone-numbers/+442071838750", expect=404)
    await r.ask("numbers.add", "POST", "/v2/phone-numbers", json={"provider": "byo"}, expect=400)
    sb.faults.add(Fault(route="numbers.get", kind="status", status=429, retry_after=2, times=1))
    await r.ask("numbers.get", "GET", "/v2/phone-numbers/+442071838751", expect=429)


async def test_every_emulator_answer_conforms_to_the_sdk_models() -> None:
    clock = Clock()
    sb = Sandbox(CREDS, clock=clock, start_delay=1.0, answer_delay=0.5, seed=7)
    transport = httpx.ASGITransport(app=sb.app)
    async with httpx.AsyncClient(
        transport=transport,
        base_url="http://sandbox/api/conversational-ai-agent",
        headers={"Authorization": BASIC},
    ) as http:
        recorder = Recorder(http, clock)
        await _agents(recorder, sb)
        await _calls(recorder, sb)
        await _numbers(recorder, sb)
        # answers of the routing layer itself
        await recorder.ask("agents.get", "GET", "/v2/nowhere", expect=404)
        await recorder.ask("agents.get", "DELETE", f"{P}/join", expect=405)
    problems = [p for op, status, body in recorder.seen for p in answer_problems(op, status, body)]
    assert problems == []
    covered = {op for op, status, _ in recorder.seen if status < 400}
    assert covered == set(SUCCESS)  # every operation's success answer was checked
    errors = {status for _, status, _ in recorder.seen if status >= 400}
    assert errors >= {400, 401, 403, 404, 405, 408, 409, 422, 429, 500, 502, 503, 504}


def test_the_checker_catches_what_the_sdk_would_not() -> None:
    """:func:`conforms` is stricter than the SDK: the old dialect's values fail it."""
    turns = sdk_model(*SUCCESS["agents.turns"])  # type: ignore[misc]
    old_turn = {
        "turns": [
            {
                "turn_id": 1,
                "start": {"start_at": 1.5, "type": "greeting"},
                "end": {"end_at": 2.0, "type": "cut_off"},
                "metrics": {"segmented_latency_ms": [{"name": "tts", "latency": "fast"}]},
            }
        ]
    }
    problems = conforms(turns, old_turn)
    assert any("cut_off" in p for p in problems)  # an enum value the SDK does not declare
    assert any("latency" in p for p in problems)  # a type the model rejects
    # what the SDK documents beyond its types: the old dialect fails here too
    old_list = {"data": {"count": 0, "list": []}, "meta": {"total": 0}, "status": "ok"}
    assert any("cursor" in p for p in answer_problems("agents.list", 200, old_list))
    seconds = {"turns": [{"start": {"start_at": 1800000000.5}, "end": None}]}
    assert any("not ms" in p for p in answer_problems("agents.turns", 200, seconds))
    null_number = {"phone_number": "+14155550100", "associated_pipeline": None}
    assert any("null" in p for p in answer_problems("numbers.get", 200, null_number))
    assert any("200" in p for p in answer_problems("numbers.delete", 204, None))
    calls = sdk_model(*SUCCESS["calls.get"])  # type: ignore[misc]
    assert any("ringing" in p for p in conforms(calls, {"state": "ringing"}))
    errors = sdk_model(*AGENT_ERROR)
    assert any(
        "InvalidCredentials" in p for p in conforms(errors, {"reason": "InvalidCredentials"})
    )
    assert conforms(errors, {"detail": "d", "reason": "TaskNotFound", "agent_id": "x"}) == []
    assert issubclass(errors, pydantic.BaseModel)
