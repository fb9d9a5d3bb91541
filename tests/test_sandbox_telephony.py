"""Calls and phone numbers in the sandbox, with raw httpx."""

from __future__ import annotations

import base64
from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest

from convoai_mcp.sandbox import DEMO_CREDENTIALS, Sandbox
from convoai_mcp.tokens import mint_convoai_token

CREDS = DEMO_CREDENTIALS
P = f"/v2/projects/{CREDS.app_id}"
T0 = 1_800_000_000.0
AUTH = {
    "Authorization": "Basic "
    + base64.b64encode(f"{CREDS.customer_id}:{CREDS.customer_secret}".encode()).decode()
}
OUTBOUND = "+14155550100"
INBOUND_ONLY = "+14155550101"


class Clock:
    def __init__(self) -> None:
        self.now = T0

    def __call__(self) -> float:
        return self.now


def tok(channel: str, uid: int) -> str:
    return mint_convoai_token(CREDS.app_id, CREDS.app_certificate, channel, uid, issue_ts=int(T0))


def call_body(
    name: str = "call-1", to: str = "+15551234567", from_: str = OUTBOUND
) -> dict[str, Any]:
    channel = f"ch-{name}"
    return {
        "name": name,
        "sip": {
            "to_number": to,
            "from_number": from_,
            "rtc_uid": "2001",
            "rtc_token": tok(channel, 2001),
        },
        "properties": {
            "channel": channel,
            "token": tok(channel, 1001),
            "agent_rtc_uid": "1001",
            "remote_rtc_uids": ["2001"],
            "llm": {
                "url": "https://llm.example/v1/chat/completions",
                "params": {"model": "m"},
                "greeting_message": "Hi, this is the sandbox calling.",
            },
            "tts": {  # complete: the emulator checks each vendor stage (issue 12)
                "vendor": "microsoft",
                "params": {"key": "k", "region": "eastus", "voice_name": "en-US-AndrewNeural"},
            },
        },
    }


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture
async def sandbox(clock: Clock) -> AsyncIterator[Sandbox]:
    sb = Sandbox(CREDS, clock=clock, answer_delay=1.5)
    async with sb.serve():
        yield sb


@pytest.fixture
async def http(sandbox: Sandbox) -> AsyncIterator[httpx.AsyncClient]:
    assert sandbox.base_url is not None
    async with httpx.AsyncClient(base_url=sandbox.base_url, headers=AUTH) as c:
        yield c


async def place(http: httpx.AsyncClient, body: dict[str, Any] | None = None) -> str:
    r = await http.post(f"{P}/call", json=body or call_body())
    assert r.status_code == 200, r.text
    assert set(r.json()) == {"agent_id"}
    return str(r.json()["agent_id"])


async def test_call_lifecycle(http: httpx.AsyncClient, clock: Clock) -> None:
    agent_id = await place(http)
    r = await http.get(f"{P}/calls/{agent_id}")
    assert r.status_code == 200
    assert r.json() == {
        "agent_id": agent_id,
        "channel": "ch-call-1",
        "to_number": "+15551234567",
        "from_number": OUTBOUND,
        "pipeline_id": None,
        "type": "outbound",
        "create_ts": int(T0),
        "stop_ts": None,
    }  # not answered yet: no state (the service knows only answered / hangup), no reason
    clock.now += 1.5
    assert (await http.get(f"{P}/calls/{agent_id}")).json()["state"] == "answered"
    agent = (await http.get(f"{P}/agents/{agent_id}")).json()
    assert agent["status"] == "RUNNING"
    clock.now += 10
    history = (await http.get(f"{P}/agents/{agent_id}/history")).json()["contents"]
    assert history[0]["content"] == "Hi, this is the sandbox calling."
    listed = await http.post(f"{P}/calls/{agent_id}/hangup", json=[])  # {} or nothing only
    assert (listed.status_code, listed.json()["error_type"]) == (400, "InvalidRequestBody")
    r = await http.post(f"{P}/calls/{agent_id}/hangup", json={})
    assert (r.status_code, r.json()) == (200, {})
    got = (await http.get(f"{P}/calls/{agent_id}")).json()
    # hung up through the API: reason "request" (actively hung up), as the service documents
    assert (got["state"], got["reason"], got["stop_ts"]) == ("hangup", "request", int(T0 + 11.5))
    assert (await http.get(f"{P}/agents/{agent_id}")).json()["status"] == "STOPPED"
    again = await http.post(f"{P}/calls/{agent_id}/hangup", json={})
    assert again.status_code == 404
    assert again.json()["error_type"] == "TaskNotFound"


async def test_leaving_the_call_agent_ends_the_call(http: httpx.AsyncClient, clock: Clock) -> None:
    agent_id = await place(http)
    clock.now += 5
    assert (await http.post(f"{P}/agents/{agent_id}/leave")).status_code == 200
    got = (await http.get(f"{P}/calls/{agent_id}")).json()
    assert (got["state"], got["reason"]) == ("hangup", "request")


@pytest.mark.parametrize("stage", ["llm", "tts"])
async def test_call_without_llm_or_tts_is_refused(http: httpx.AsyncClient, stage: str) -> None:
    """The call endpoint takes no preset: without a pipeline it needs a full LLM and TTS."""
    body = call_body()
    del body["properties"][stage]
    body["preset"] = "openai_gpt_4o_mini,minimax_speech_2_6_turbo"  # not a call field
    r = await http.post(f"{P}/call", json=body)
    assert (r.status_code, r.json()["error_type"]) == (400, "MissingRequiredField")
    assert f"properties.{stage}" in r.json()["description"]
    body = call_body()
    del body["properties"][stage]
    body["pipeline_id"] = "pl_1"  # a pipeline provides the stages
    assert (await http.post(f"{P}/call", json=body)).status_code == 200


@pytest.mark.parametrize(
    ("edit", "error_type", "mention"),
    [
        ({"to": "4155551234"}, "InvalidFieldValue", "sip.to_number"),
        ({"to": "+0155551234"}, "InvalidFieldValue", "sip.to_number"),
        ({"to": "+1" + "5" * 15}, "InvalidFieldValue", "sip.to_number"),
        ({"from_": "+1 415 555 0100"}, "InvalidFieldValue", "sip.from_number"),
        ({"from_": INBOUND_ONLY}, "InvalidFieldValue", "outbound-enabled"),
        ({"from_": "+14155550199"}, "InvalidFieldValue", "outbound-enabled"),
        ({"to": ""}, "MissingRequiredField", "sip.to_number"),
    ],
)
async def test_call_rejections(
    http: httpx.AsyncClient, edit: dict[str, str], error_type: str, mention: str
) -> None:
    r = await http.post(f"{P}/call", json=call_body(**edit))
    assert r.status_code == 400
    body = r.json()
    assert set(body) == {"error_type", "description"}
    assert body["error_type"] == error_type
    assert mention in body["description"]
    assert (await http.get(f"{P}/call")).json()["meta"]["total"] == 0


async def test_call_requires_sip_and_valid_tokens(http: httpx.AsyncClient) -> None:
    body = call_body()
    del body["sip"]
    r = await http.post(f"{P}/call", json=body)
    assert (r.status_code, r.json()["error_type"]) == (400, "MissingRequiredField")
    body = call_body()
    body["sip"]["rtc_token"] = tok("another-channel", 2001)
    r = await http.post(f"{P}/call", json=body)
    assert r.status_code == 400
    assert "sip.rtc_token" in r.json()["description"]


async def test_call_names_conflict_with_live_agents(http: httpx.AsyncClient) -> None:
    await place(http)
    r = await http.post(f"{P}/call", json=call_body())
    assert (r.status_code, r.json()["error_type"]) == (409, "TaskConflict")


async def test_list_calls_filters_and_paging(http: httpx.AsyncClient, clock: Clock) -> None:
    ids = []
    for i in range(5):
        ids.append(await place(http, call_body(f"c{i}", to=f"+1555000000{i % 2}")))
        clock.now += 60
    first = (await http.get(f"{P}/call", params={"limit": 2})).json()
    assert first["status"] == "ok"
    assert first["meta"]["total"] == 5
    assert first["data"]["count"] == 2
    item = first["data"]["list"][0]
    assert set(item) == {
        "agent_id",
        "channel",
        "to_number",
        "from_number",
        "pipeline_id",
        "type",
        "state",
        "create_ts",
        "stop_ts",
    }
    collected = [c["agent_id"] for c in first["data"]["list"]]
    cursor = first["meta"]["cursor"]
    while cursor:
        page = (await http.get(f"{P}/call", params={"limit": 2, "cursor": cursor})).json()
        collected += [c["agent_id"] for c in page["data"]["list"]]
        cursor = page["meta"]["cursor"]
    assert page["meta"]["cursor"] == ""  # always present; empty on the last page
    assert collected == ids[::-1]
    odd = (await http.get(f"{P}/call", params={"number": "+15550000001"})).json()
    assert [c["agent_id"] for c in odd["data"]["list"]] == [ids[3], ids[1]]
    mine = (await http.get(f"{P}/call", params={"number": OUTBOUND})).json()
    assert mine["meta"]["total"] == 5
    inbound = (await http.get(f"{P}/call", params={"type": "inbound"})).json()
    assert inbound["data"]["list"] == []
    bad = await http.get(f"{P}/call", params={"type": "sideways"})
    assert (bad.status_code, bad.json()["error_type"]) == (400, "InvalidFieldValue")
    clock.now += 61 * 86400
    assert (await http.get(f"{P}/call")).json()["meta"]["total"] == 0  # default window: 60 days


async def test_unknown_call_is_404(http: httpx.AsyncClient) -> None:
    r = await http.get(f"{P}/calls/NOPE")
    assert r.status_code == 404
    assert r.json()["error_type"] == "TaskNotFound"


async def test_numbers_seeded(http: httpx.AsyncClient) -> None:
    r = await http.get("/v2/phone-numbers")
    assert r.status_code == 200
    numbers = {n["phone_number"]: n for n in r.json()}
    assert numbers[OUTBOUND]["outbound"] is True
    assert numbers[INBOUND_ONLY]["inbound"] is True
    assert numbers[INBOUND_ONLY]["outbound"] is False
    # unset pipeline / configs are left out, never null
    assert set(numbers[OUTBOUND]) == {
        "phone_number",
        "provider",
        "label",
        "inbound",
        "outbound",
        "outbound_config",
    }
    assert set(numbers[INBOUND_ONLY]) == {
        "phone_number",
        "provider",
        "label",
        "inbound",
        "outbound",
        "inbound_config",
    }
    for n in numbers.values():
        assert None not in n.values()


async def test_number_crud(http: httpx.AsyncClient) -> None:
    number = "+442071838750"
    add = await http.post(
        "/v2/phone-numbers",
        json={
            "provider": "twilio",
            "phone_number": number,
            "label": "London",
            "outbound": True,
            "outbound_config": {"address": "sip.example.com", "transport": "tls", "prefix": "9"},
        },
    )
    assert add.status_code == 200
    assert add.json()["phone_number"] == number
    assert add.json()["outbound"] is True
    assert add.json()["inbound"] is False
    dup = await http.post(
        "/v2/phone-numbers", json={"provider": "byo", "phone_number": number, "label": "x"}
    )
    assert (dup.status_code, dup.json()["error_type"]) == (409, "PhoneNumberAlreadyExists")
    path = "/v2/phone-numbers/%2B442071838750"
    assert (await http.get(path)).json()["label"] == "London"
    patched = await http.patch(path, json={"outbound_config": {"pipeline_id": "pl_1"}})
    assert patched.status_code == 200
    assert patched.json()["associated_pipeline"] == {
        "pipeline_id": "pl_1",
        "pipeline_name": "pipeline pl_1",
    }
    assert patched.json()["outbound_config"]["pipeline_id"] == "pl_1"
    assert patched.json()["outbound_config"]["address"] == "sip.example.com"
    cleared = await http.patch(path, json={"outbound_config": None})
    assert "associated_pipeline" not in cleared.json()
    assert "pipeline_id" not in cleared.json()["outbound_config"]
    r = await http.post(f"{P}/call", json=call_body(from_=number))
    assert r.status_code == 200  # a newly added outbound number may place calls
    deleted = await http.delete(path)
    assert deleted.status_code == 200  # as the official SDKs' fixtures answer
    assert (await http.get(path)).status_code == 404
    assert (await http.delete(path)).status_code == 404


@pytest.mark.parametrize(
    ("body", "error_type"),
    [
        ({"phone_number": "+15550001111", "label": "x"}, "MissingRequiredField"),
        ({"provider": "vonage", "phone_number": "+15550001111", "label": "x"}, "InvalidFieldValue"),
        ({"provider": "byo", "phone_number": "5550001111", "label": "x"}, "InvalidFieldValue"),
        ({"provider": "byo", "phone_number": "+15550001111"}, "MissingRequiredField"),
        (
            {"provider": "byo", "phone_number": "+15550001111", "label": "x", "inbound": "yes"},
            "InvalidFieldValue",
        ),
    ],
)
async def test_add_number_rejections(
    http: httpx.AsyncClient, body: dict[str, Any], error_type: str
) -> None:
    r = await http.post("/v2/phone-numbers", json=body)
    assert r.status_code == 400
    assert r.json()["error_type"] == error_type


async def test_unencoded_plus_in_path_is_a_plus(http: httpx.AsyncClient) -> None:
    """A literal ``+`` in a path is a plus (only query strings read it as a space); the
    official SDK sends it unencoded, our client as ``%2B``: both find the number."""
    r = await http.get("/v2/phone-numbers/+14155550100")  # httpx leaves a literal '+' in paths
    assert r.request.url.raw_path.endswith(b"/+14155550100")
    assert r.status_code == 200
    assert r.json()["phone_number"] == "+14155550100"
    assert (await http.get("/v2/phone-numbers/%2B14155550100")).status_code == 200
    patched = await http.patch("/v2/phone-numbers/+14155550100", json={"label": "Main"})
    assert patched.json()["label"] == "Main"
    assert (await http.delete("/v2/phone-numbers/+14155550100")).status_code == 200
    assert (await http.get("/v2/phone-numbers/%2B14155550100")).status_code == 404
