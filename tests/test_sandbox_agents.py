"""The sandbox's agent API, driven with raw httpx requests shaped like the spec's examples."""

from __future__ import annotations

import base64
import copy
from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest

from convoai_mcp.sandbox import DEMO_CREDENTIALS, Sandbox
from convoai_mcp.tokens import mint_convoai_token

CREDS = DEMO_CREDENTIALS
APP = CREDS.app_id
P = f"/v2/projects/{APP}"
T0 = 1_800_000_000.0


class Clock:
    """A clock the test moves by hand."""

    def __init__(self, now: float = T0) -> None:
        self.now = now

    def __call__(self) -> float:
        return self.now


def basic() -> str:
    raw = f"{CREDS.customer_id}:{CREDS.customer_secret}".encode()
    return "Basic " + base64.b64encode(raw).decode()


def join_token(channel: str = "room-123", uid: int | str = 1001) -> str:
    return mint_convoai_token(CREDS.app_id, CREDS.app_certificate, channel, uid, issue_ts=int(T0))


def cascading_body(name: str = "assistant-1", channel: str = "room-123") -> dict[str, Any]:
    """The spec's cascading start body, with a real join token."""
    return {
        "name": name,
        "properties": {
            "channel": channel,
            "token": join_token(channel),
            "agent_rtc_uid": "1001",
            "remote_rtc_uids": ["100"],
            "idle_timeout": 120,
            "asr": {
                "vendor": "deepgram",
                "language": "en-US",
                "params": {"key": "...", "model": "nova-3"},
            },
            "llm": {
                "url": "https://api.openai.com/v1/chat/completions",
                "api_key": "...",
                "system_messages": [
                    {"role": "system", "content": "You are a helpful voice assistant."}
                ],
                "params": {"model": "gpt-4o-mini"},
                "max_history": 10,
                "greeting_message": "Hello! How can I help?",
                "failure_message": "Please hold on.",
                "style": "openai",
            },
            "tts": {
                "vendor": "microsoft",
                "params": {
                    "key": "...",
                    "region": "eastus",
                    "voice_name": "en-US-AndrewMultilingualNeural",
                    "sample_rate": 24000,
                },
            },
            "turn_detection": {"language": "en-US"},
            "parameters": {"audio_scenario": "default"},
        },
    }


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture
async def sandbox(clock: Clock) -> AsyncIterator[Sandbox]:
    sb = Sandbox(CREDS, clock=clock, seed=7, start_delay=2.0)
    async with sb.serve():
        yield sb


@pytest.fixture
async def http(sandbox: Sandbox) -> AsyncIterator[httpx.AsyncClient]:
    assert sandbox.base_url is not None
    async with httpx.AsyncClient(
        base_url=sandbox.base_url, headers={"Authorization": basic()}
    ) as c:
        yield c


async def start(http: httpx.AsyncClient, body: dict[str, Any] | None = None) -> str:
    r = await http.post(f"{P}/join", json=body or cascading_body())
    assert r.status_code == 200, r.text
    return str(r.json()["agent_id"])


async def test_join_answers_agent_id_create_ts_status(http: httpx.AsyncClient) -> None:
    r = await http.post(f"{P}/join", json=cascading_body())
    assert r.status_code == 200
    body = r.json()
    assert set(body) == {"agent_id", "create_ts", "status"}
    assert isinstance(body["agent_id"], str) and len(body["agent_id"]) == 32
    assert body["create_ts"] == int(T0)
    assert body["status"] == "STARTING"
    assert r.headers["content-type"] == "application/json"
    assert r.headers["x-request-id"]


async def test_lifecycle_starting_running_stopped(http: httpx.AsyncClient, clock: Clock) -> None:
    agent_id = await start(http)
    r = await http.get(f"{P}/agents/{agent_id}")
    assert r.json() == {
        "agent_id": agent_id,
        "start_ts": int(T0),
        "stop_ts": None,
        "status": "STARTING",
        "message": "agent is starting",
    }
    clock.now += 2.0
    assert (await http.get(f"{P}/agents/{agent_id}")).json()["status"] == "RUNNING"
    clock.now += 1.0
    r = await http.post(f"{P}/agents/{agent_id}/leave")
    assert r.status_code == 200
    got = (await http.get(f"{P}/agents/{agent_id}")).json()
    assert got["status"] == "STOPPED"
    assert got["stop_ts"] == int(T0 + 3)
    assert "leave" in got["message"]
    again = await http.post(f"{P}/agents/{agent_id}/leave")
    assert again.status_code == 404
    assert again.json()["reason"] == "TaskNotFound"


async def test_idle_timeout_stops_agent_lazily(http: httpx.AsyncClient, clock: Clock) -> None:
    body = cascading_body()
    body["properties"]["idle_timeout"] = 30
    agent_id = await start(http, body)
    clock.now += 2.0 + 29.0
    assert (await http.get(f"{P}/agents/{agent_id}")).json()["status"] == "RUNNING"
    clock.now += 10.0  # greeting speech ends a few seconds after start; then 30 s idle
    got = (await http.get(f"{P}/agents/{agent_id}")).json()
    assert got["status"] == "STOPPED"
    assert "idle" in got["message"]
    assert (await http.get(f"{P}/agents/{agent_id}/history")).status_code == 404


async def test_activity_postpones_idle_timeout(http: httpx.AsyncClient, clock: Clock) -> None:
    body = cascading_body()
    body["properties"]["idle_timeout"] = 30
    agent_id = await start(http, body)
    for _ in range(4):
        clock.now += 20.0
        r = await http.post(f"{P}/agents/{agent_id}/interrupt", json={})
        assert r.status_code == 200
    assert (await http.get(f"{P}/agents/{agent_id}")).json()["status"] == "RUNNING"


async def test_interrupt_body_is_an_empty_object_or_nothing(http: httpx.AsyncClient) -> None:
    """interrupt takes ``{}`` (the TypeScript and Go SDKs, our client) or no body (the Python
    SDK's HTTP layer drops an empty JSON body); anything but a JSON object is refused."""
    agent_id = await start(http)
    assert (await http.post(f"{P}/agents/{agent_id}/interrupt")).status_code == 200
    assert (await http.post(f"{P}/agents/{agent_id}/interrupt", json={})).status_code == 200
    listed = await http.post(f"{P}/agents/{agent_id}/interrupt", json=[])
    assert (listed.status_code, listed.json()["reason"]) == (400, "InvalidRequestBody")
    broken = await http.post(f"{P}/agents/{agent_id}/interrupt", content=b"{")
    assert broken.status_code == 400


async def test_name_unique_among_live_agents_only(http: httpx.AsyncClient) -> None:
    first = await start(http)
    r = await http.post(f"{P}/join", json=cascading_body())
    assert r.status_code == 409
    assert r.json()["reason"] == "TaskConflict"
    assert "detail" in r.json()
    await http.post(f"{P}/agents/{first}/leave")
    second = await start(http)
    assert second != first


async def test_speak_interrupt_think_answer_agent_channel_start_ts(
    http: httpx.AsyncClient, clock: Clock
) -> None:
    agent_id = await start(http)
    clock.now += 5
    expected = {"agent_id": agent_id, "channel": "room-123", "start_ts": int(T0 + 5)}
    r = await http.post(
        f"{P}/agents/{agent_id}/speak",
        json={"text": "Hello there", "priority": "APPEND", "interruptable": False},
    )
    assert (r.status_code, r.json()) == (200, expected)
    r = await http.post(f"{P}/agents/{agent_id}/interrupt", json={})
    assert (r.status_code, r.json()) == (200, expected)
    r = await http.post(
        f"{P}/agents/{agent_id}/think",
        json={
            "text": "What is the weather?",
            "on_listening_action": "inject",
            "metadata": {"k": "v"},
        },
    )
    assert (r.status_code, r.json()) == (200, expected)


async def test_history_has_greeting_speak_and_think(http: httpx.AsyncClient, clock: Clock) -> None:
    agent_id = await start(http)
    clock.now += 10
    await http.post(f"{P}/agents/{agent_id}/speak", json={"text": "Welcome aboard."})
    clock.now += 10
    await http.post(f"{P}/agents/{agent_id}/think", json={"text": "Tell me a joke"})
    r = await http.get(f"{P}/agents/{agent_id}/history")
    assert r.status_code == 200
    body = r.json()
    assert body["agent_id"] == agent_id
    assert body["start_ts"] == int(T0)
    assert body["status"] == "RUNNING"
    roles = [(c["role"], c["content"]) for c in body["contents"]]
    assert roles[:3] == [
        ("assistant", "Hello! How can I help?"),
        ("assistant", "Welcome aboard."),
        ("user", "Tell me a joke"),
    ]
    assert roles[3][0] == "assistant" and "Tell me a joke" in roles[3][1]
    for item in body["contents"]:
        assert set(item) == {
            "role",
            "content",
            "speech_start_ms",
            "speech_end_ms",
            "speech_algorithmic_delay",
        }
        assert 0 <= item["speech_start_ms"] <= item["speech_end_ms"]
    speak = body["contents"][1]
    assert speak["speech_start_ms"] >= 8000  # spoken 8 s after the agent started running
    assert body["contents"][2]["speech_algorithmic_delay"] > 0


async def test_history_capped_at_max_history(http: httpx.AsyncClient, clock: Clock) -> None:
    body = cascading_body()
    body["properties"]["llm"]["max_history"] = 3
    agent_id = await start(http, body)
    for i in range(5):
        clock.now += 30
        await http.post(f"{P}/agents/{agent_id}/speak", json={"text": f"line {i}"})
    contents = (await http.get(f"{P}/agents/{agent_id}/history")).json()["contents"]
    assert [c["content"] for c in contents] == ["line 2", "line 3", "line 4"]


async def test_history_default_cap_is_32(http: httpx.AsyncClient, clock: Clock) -> None:
    body = cascading_body()
    del body["properties"]["llm"]["max_history"]
    agent_id = await start(http, body)
    for i in range(40):
        clock.now += 30
        await http.post(f"{P}/agents/{agent_id}/speak", json={"text": f"line {i}"})
    contents = (await http.get(f"{P}/agents/{agent_id}/history")).json()["contents"]
    assert len(contents) == 32
    assert contents[-1]["content"] == "line 39"


async def test_turns_types_metrics_and_interruptions(http: httpx.AsyncClient, clock: Clock) -> None:
    agent_id = await start(http)
    clock.now += 2.1  # greeting is being spoken
    await http.post(f"{P}/agents/{agent_id}/speak", json={"text": "Breaking news!"})  # INTERRUPT
    clock.now += 30
    await http.post(f"{P}/agents/{agent_id}/think", json={"text": "And then?"})
    clock.now += 30
    r = await http.get(f"{P}/agents/{agent_id}/turns")
    assert r.status_code == 200
    body = r.json()
    assert body["agent_id"] == agent_id
    assert body["name"] == "assistant-1"
    assert body["channel"] == "room-123"
    assert body["total_turn_count"] == 3
    assert body["pagination"] == {"page_index": 1, "total_pages": 1, "is_last_page": True}
    greeting, speak, think = body["turns"]
    assert [t["turn_id"] for t in body["turns"]] == [1, 2, 3]
    assert greeting["start"]["type"] == "greeting"
    assert greeting["end"]["type"] == "interrupted"
    assert speak["start"]["type"] == "api_speak"
    assert speak["end"]["type"] == "ok"
    assert think["start"]["type"] == "voice_input"
    assert [s["name"] for s in think["metrics"]["segmented_latency_ms"]] == [
        "asr_ttlw",
        "llm_ttft",
        "tts_ttfb",
    ]  # the service's segment names
    assert [s["name"] for s in speak["metrics"]["segmented_latency_ms"]] == ["tts_ttfb"]
    assert greeting["end"]["metadata"]["caused_by"] == "api_speak"
    assert greeting["end"]["metadata"]["transport"] == "http"
    assert think["metrics"]["e2e_latency_ms"] == sum(
        s["latency"] for s in think["metrics"]["segmented_latency_ms"]
    )
    for turn in body["turns"]:
        assert turn["start"]["start_at"] <= turn["end"]["end_at"]
        assert turn["metrics"]["e2e_latency_ms"] > 0
        # Unix milliseconds, integers on the wire
        assert isinstance(turn["start"]["start_at"], int)
        assert isinstance(turn["end"]["end_at"], int)
        assert T0 * 1000 <= turn["start"]["start_at"] <= (T0 + 61) * 1000


async def test_turns_paged_and_readable_after_stop(http: httpx.AsyncClient, clock: Clock) -> None:
    agent_id = await start(http)
    for i in range(6):
        clock.now += 30
        await http.post(f"{P}/agents/{agent_id}/speak", json={"text": f"turn {i}"})
    await http.post(f"{P}/agents/{agent_id}/leave")
    clock.now += 3600
    seen: list[int] = []
    page = 1
    while True:
        r = await http.get(
            f"{P}/agents/{agent_id}/turns", params={"page_index": page, "page_size": 3}
        )
        assert r.status_code == 200
        body = r.json()
        assert body["total_turn_count"] == 7
        assert body["pagination"]["total_pages"] == 3
        assert body["pagination"]["page_index"] == page
        seen += [t["turn_id"] for t in body["turns"]]
        if body["pagination"]["is_last_page"]:
            break
        page += 1
    assert seen == [1, 2, 3, 4, 5, 6, 7]
    bad = await http.get(f"{P}/agents/{agent_id}/turns", params={"page_size": 0})
    assert bad.status_code == 400
    assert bad.json()["reason"] == "InvalidFieldValue"
    # no maximum page size (the official SDK documents none; our client allows up to 1000)
    big = await http.get(f"{P}/agents/{agent_id}/turns", params={"page_size": 1000})
    assert big.status_code == 200
    assert len(big.json()["turns"]) == 7


async def test_speak_priorities(http: httpx.AsyncClient, clock: Clock) -> None:
    agent_id = await start(http)
    clock.now += 30
    long_text = "This is a fairly long sentence that takes a few seconds to say."
    await http.post(f"{P}/agents/{agent_id}/speak", json={"text": long_text})
    clock.now += 0.5
    await http.post(f"{P}/agents/{agent_id}/speak", json={"text": "ignored", "priority": "IGNORE"})
    await http.post(f"{P}/agents/{agent_id}/speak", json={"text": "queued", "priority": "APPEND"})
    clock.now += 60
    turns = (await http.get(f"{P}/agents/{agent_id}/turns")).json()["turns"]
    assert [t["end"]["type"] for t in turns[1:]] == ["ok", "ignored", "ok"]
    assert turns[3]["start"]["start_at"] >= turns[1]["end"]["end_at"]
    contents = [
        c["content"] for c in (await http.get(f"{P}/agents/{agent_id}/history")).json()["contents"]
    ]
    assert "ignored" not in contents
    assert contents[-1] == "queued"


async def test_interrupt_cuts_current_speech(http: httpx.AsyncClient, clock: Clock) -> None:
    agent_id = await start(http)
    clock.now += 30
    await http.post(f"{P}/agents/{agent_id}/speak", json={"text": "A long announcement " * 5})
    clock.now += 1.5
    await http.post(f"{P}/agents/{agent_id}/interrupt", json={})
    clock.now += 60
    last = (await http.get(f"{P}/agents/{agent_id}/turns")).json()["turns"][-1]
    assert last["end"]["type"] == "interrupted"
    assert last["end"]["end_at"] == pytest.approx((T0 + 31.5) * 1000, abs=10)
    assert last["end"]["metadata"]["caused_by"] == "api_interrupt"
    assert 0 < last["end"]["metadata"]["playback_duration_ms"] < 1500


async def test_conversation_is_deterministic_for_a_seed(clock: Clock) -> None:
    async def run() -> list[Any]:
        sb = Sandbox(CREDS, clock=Clock(), seed=42)
        async with (
            sb.serve() as url,
            httpx.AsyncClient(base_url=url, headers={"Authorization": basic()}) as c,
        ):
            agent_id = await start(c)
            await c.post(f"{P}/agents/{agent_id}/think", json={"text": "Hi"})
            turns = (await c.get(f"{P}/agents/{agent_id}/turns")).json()["turns"]
            history = (await c.get(f"{P}/agents/{agent_id}/history")).json()["contents"]
            return [agent_id, turns, history]

    assert await run() == await run()


async def test_update_replaces_llm_params_and_answers(
    http: httpx.AsyncClient, sandbox: Sandbox
) -> None:
    """An update's ``params`` overwrites the ones the agent was started with (the service
    documents it so: "pass the complete params")."""
    agent_id = await start(http)
    r = await http.post(
        f"{P}/agents/{agent_id}/update",
        json={
            "properties": {
                "token": join_token(),
                "llm": {
                    "system_messages": [{"role": "system", "content": "Be brief."}],
                    "params": {"max_tokens": 50},
                },
            }
        },
    )
    assert r.status_code == 200
    assert r.json() == {"agent_id": agent_id, "create_ts": int(T0), "status": "STARTING"}
    llm = sandbox.state.agents[agent_id].config.properties["llm"]
    assert llm["system_messages"] == [{"role": "system", "content": "Be brief."}]
    assert llm["params"] == {"max_tokens": 50}  # replaced, not merged: the model is gone
    bad = await http.post(
        f"{P}/agents/{agent_id}/update", json={"properties": {"token": join_token("other-room")}}
    )
    assert bad.status_code == 400
    assert bad.json()["reason"] == "InvalidFieldValue"


@pytest.mark.parametrize(
    "operation", ["get", "history", "turns", "leave", "update", "speak", "interrupt", "think"]
)
async def test_unknown_agent_is_404_task_not_found(http: httpx.AsyncClient, operation: str) -> None:
    path = f"{P}/agents/NOSUCHAGENT"
    bodies = {
        "update": {"properties": {"llm": {"params": {"model": "x"}}}},
        "speak": {"text": "hi"},
        "think": {"text": "hi"},
        "interrupt": {},
    }
    if operation == "get":
        r = await http.get(path)
    elif operation in ("history", "turns"):
        r = await http.get(f"{path}/{operation}")
    else:
        r = await http.post(f"{path}/{operation}", json=bodies.get(operation))
    assert r.status_code == 404
    assert r.json()["reason"] == "TaskNotFound"
    assert r.json()["detail"]


@pytest.mark.parametrize("operation", ["speak", "interrupt", "think", "update", "history"])
async def test_stopped_agent_is_404_for_live_operations(
    http: httpx.AsyncClient, operation: str
) -> None:
    agent_id = await start(http)
    await http.post(f"{P}/agents/{agent_id}/leave")
    path = f"{P}/agents/{agent_id}/{operation}"
    if operation == "history":
        r = await http.get(path)
    else:
        r = await http.post(path, json={"text": "hi", "properties": {"llm": {"params": {}}}})
    assert r.status_code == 404
    assert r.json()["reason"] == "TaskNotFound"


def _edit(path: str, value: Any) -> Any:
    def apply(body: dict[str, Any]) -> None:
        *parents, last = path.split(".")
        node = body
        for key in parents:
            node = node[key]
        if value is _DELETE:
            del node[last]
        else:
            node[last] = value

    return apply


_DELETE = object()

JOIN_REJECTIONS = [
    ("name", _DELETE, "MissingRequiredField", "name"),
    ("name", "", "MissingRequiredField", "name"),
    ("properties", _DELETE, "MissingRequiredField", "properties"),
    ("properties.channel", _DELETE, "MissingRequiredField", "properties.channel"),
    ("properties.token", _DELETE, "MissingRequiredField", "properties.token"),
    ("properties.agent_rtc_uid", _DELETE, "MissingRequiredField", "properties.agent_rtc_uid"),
    ("properties.remote_rtc_uids", _DELETE, "MissingRequiredField", "properties.remote_rtc_uids"),
    ("properties.remote_rtc_uids", [], "InvalidFieldValue", "properties.remote_rtc_uids"),
    ("properties.remote_rtc_uids", ["abc"], "InvalidFieldValue", "remote_rtc_uids[0]"),
    ("properties.channel", "bad/channel", "InvalidFieldValue", "properties.channel"),
    ("properties.channel", "x" * 65, "InvalidFieldValue", "properties.channel"),
    ("properties.agent_rtc_uid", "agent-one", "InvalidFieldValue", "properties.agent_rtc_uid"),
    ("properties.agent_rtc_uid", "4294967296", "InvalidFieldValue", "properties.agent_rtc_uid"),
    ("properties.idle_timeout", "120", "InvalidFieldValue", "properties.idle_timeout"),
    ("properties.llm.url", _DELETE, "MissingRequiredField", "properties.llm.url"),
    ("properties.llm.url", "ftp://x", "InvalidFieldValue", "properties.llm.url"),
    ("properties.llm.style", "klingon", "InvalidFieldValue", "properties.llm.style"),
    ("properties.llm.max_history", 0, "InvalidFieldValue", "properties.llm.max_history"),
    ("properties.tts", _DELETE, "MissingRequiredField", "properties.tts"),
    ("properties.tts.vendor", _DELETE, "MissingRequiredField", "properties.tts.vendor"),
    ("preset", "openai_gpt_9000", "InvalidFieldValue", "preset"),
    ("properties.token", "007garbage", "InvalidFieldValue", "properties.token"),
    (
        "properties.avatar",
        {"enable": True, "vendor": "akool", "params": {}},
        "InvalidFieldValue",
        "sample_rate",
    ),
    ("properties.avatar", {"enable": True, "vendor": "mystery"}, "InvalidFieldValue", "vendor"),
]


@pytest.mark.parametrize(("path", "value", "reason", "mention"), JOIN_REJECTIONS)
async def test_join_rejects_bad_bodies(
    http: httpx.AsyncClient, path: str, value: Any, reason: str, mention: str
) -> None:
    body = cascading_body()
    _edit(path, value)(body)
    r = await http.post(f"{P}/join", json=body)
    assert r.status_code == 400, r.text
    assert r.json()["reason"] == reason
    assert mention in r.json()["detail"]
    listed = (await http.get(f"{P}/agents")).json()
    assert listed["meta"]["total"] == 0  # nothing was created


async def test_join_rejects_non_json_and_non_object_bodies(http: httpx.AsyncClient) -> None:
    for content in (b"", b"{not json", b"[1, 2]"):
        r = await http.post(
            f"{P}/join", content=content, headers={"content-type": "application/json"}
        )
        assert r.status_code == 400
        assert r.json()["reason"] == "InvalidRequestBody"


async def test_join_with_presets_needs_no_llm_or_tts(http: httpx.AsyncClient) -> None:
    body = cascading_body()
    del body["properties"]["llm"]
    del body["properties"]["tts"]
    del body["properties"]["asr"]
    body["preset"] = "deepgram_nova_3,openai_gpt_4o_mini,minimax_speech_2_6_turbo"
    await start(http, body)


async def test_join_with_pipeline_id_needs_no_llm(http: httpx.AsyncClient) -> None:
    body = cascading_body()
    del body["properties"]["llm"]
    del body["properties"]["tts"]
    body["pipeline_id"] = "pl_123"
    await start(http, body)


async def test_string_uids_need_enable_string_uid(http: httpx.AsyncClient) -> None:
    body = cascading_body()
    body["properties"]["agent_rtc_uid"] = "agent-one"
    body["properties"]["remote_rtc_uids"] = ["*"]
    body["properties"]["token"] = join_token("room-123", "agent-one")
    refused = await http.post(f"{P}/join", json=body)
    assert refused.status_code == 400, refused.text
    assert "agent_rtc_uid" in refused.json()["detail"]
    body["properties"]["enable_string_uid"] = True
    await start(http, body)


async def test_avatar_rules(http: httpx.AsyncClient) -> None:
    ok = cascading_body("heygen-agent")
    ok["properties"]["avatar"] = {
        "enable": True,
        "vendor": "heygen",
        "params": {"api_key": "k", "quality": "high", "agora_uid": "3001", "avatar_id": "a"},
    }
    await start(http, ok)
    mismatch = cascading_body("heygen-16k")
    mismatch["properties"]["tts"]["params"]["sample_rate"] = 16000
    mismatch["properties"]["avatar"] = {"enable": True, "vendor": "heygen"}
    r = await http.post(f"{P}/join", json=mismatch)
    assert r.status_code == 400
    assert "24000" in r.json()["detail"]
    mllm = cascading_body("realtime")
    mllm["properties"]["mllm"] = {"enable": True, "vendor": "openai", "params": {"model": "gpt-4o"}}
    mllm["properties"]["avatar"] = {"enable": True, "vendor": "heygen"}
    r = await http.post(f"{P}/join", json=mllm)
    assert r.status_code == 400
    assert "MLLM" in r.json()["detail"]


async def test_speak_rules(http: httpx.AsyncClient, clock: Clock) -> None:
    agent_id = await start(http)
    exact = "é" * 256  # 512 bytes
    assert (
        await http.post(f"{P}/agents/{agent_id}/speak", json={"text": exact})
    ).status_code == 200
    r = await http.post(f"{P}/agents/{agent_id}/speak", json={"text": exact + "a"})
    assert r.status_code == 400
    assert r.json()["reason"] == "InvalidFieldValue"
    assert "513 bytes" in r.json()["detail"]
    r = await http.post(f"{P}/agents/{agent_id}/speak", json={})
    assert (r.status_code, r.json()["reason"]) == (400, "MissingRequiredField")
    r = await http.post(f"{P}/agents/{agent_id}/speak", json={"text": "x", "priority": "NOW"})
    assert (r.status_code, r.json()["reason"]) == (400, "InvalidFieldValue")
    mllm = cascading_body("realtime")
    del mllm["properties"]["llm"]
    del mllm["properties"]["tts"]
    mllm["properties"]["mllm"] = {"enable": True, "vendor": "openai", "api_key": "k"}
    realtime = await start(http, mllm)
    r = await http.post(f"{P}/agents/{realtime}/speak", json={"text": "hi"})
    assert r.status_code == 400
    assert r.json()["reason"] == "NotImplemented"


async def test_think_rejects_bad_actions(http: httpx.AsyncClient) -> None:
    agent_id = await start(http)
    for body in (
        {"text": "x", "on_listening_action": "shout"},
        {"text": "x", "on_speaking_action": "inject"},
        {"text": "x", "metadata": {"k": 1}},
    ):
        r = await http.post(f"{P}/agents/{agent_id}/think", json=body)
        assert r.status_code == 400, body
        assert r.json()["reason"] == "InvalidFieldValue"


async def test_list_shape_filters_and_cursor_paging(http: httpx.AsyncClient, clock: Clock) -> None:
    ids = []
    for i in range(5):
        ids.append(
            await start(http, cascading_body(f"a{i}", channel="even" if i % 2 == 0 else "odd"))
        )
        clock.now += 10
    await http.post(f"{P}/agents/{ids[0]}/leave")
    r = await http.get(f"{P}/agents", params={"limit": 2})
    body = r.json()
    assert body["status"] == "ok"
    assert body["data"]["count"] == 2
    assert body["meta"]["total"] == 5
    assert [item["agent_id"] for item in body["data"]["list"]] == [ids[4], ids[3]]
    assert set(body["data"]["list"][0]) == {"agent_id", "start_ts", "status"}
    collected = [item["agent_id"] for item in body["data"]["list"]]
    cursor = body["meta"]["cursor"]
    while cursor:
        page = (await http.get(f"{P}/agents", params={"limit": 2, "cursor": cursor})).json()
        collected += [item["agent_id"] for item in page["data"]["list"]]
        cursor = page["meta"]["cursor"]
    assert page["meta"]["cursor"] == ""  # always present; empty on the last page
    assert collected == ids[::-1]
    even = (await http.get(f"{P}/agents", params={"channel": "even"})).json()
    assert [i["agent_id"] for i in even["data"]["list"]] == [ids[4], ids[2], ids[0]]
    stopped = (await http.get(f"{P}/agents", params={"state": 4})).json()
    assert [i["agent_id"] for i in stopped["data"]["list"]] == [ids[0]]
    assert stopped["data"]["list"][0]["status"] == "STOPPED"
    window = (
        await http.get(f"{P}/agents", params={"from_time": int(T0 + 15), "to_time": int(T0 + 35)})
    ).json()
    assert [i["agent_id"] for i in window["data"]["list"]] == [ids[3], ids[2]]
    # the official SDK types the time range as float and the state filter as a comma list
    window = (
        await http.get(f"{P}/agents", params={"from_time": T0 + 14.5, "to_time": T0 + 35.25})
    ).json()
    assert [i["agent_id"] for i in window["data"]["list"]] == [ids[3], ids[2]]
    several = (await http.get(f"{P}/agents", params={"state": "0,1,2,4"})).json()
    assert several["meta"]["total"] == 5
    live = (await http.get(f"{P}/agents", params={"state": "1, 2"})).json()
    assert {i["agent_id"] for i in live["data"]["list"]} == set(ids[1:])


async def test_list_defaults_to_last_two_hours(http: httpx.AsyncClient, clock: Clock) -> None:
    old = await start(http, cascading_body("old"))
    clock.now += 3 * 3600
    new = await start(http, cascading_body("new"))
    listed = (await http.get(f"{P}/agents")).json()
    assert [i["agent_id"] for i in listed["data"]["list"]] == [new]
    everything = (await http.get(f"{P}/agents", params={"from_time": 0})).json()
    assert {i["agent_id"] for i in everything["data"]["list"]} == {old, new}


@pytest.mark.parametrize(
    "params",
    [
        {"state": 7},
        {"state": "RUNNING"},
        {"state": "1,,2"},
        {"state": "1,7"},
        {"from_time": "soon"},
        {"to_time": "nan"},
        {"limit": 0},
        {"limit": 101},
        {"cursor": "garbage!"},
    ],
)
async def test_list_rejects_bad_query(http: httpx.AsyncClient, params: dict[str, Any]) -> None:
    r = await http.get(f"{P}/agents", params=params)
    assert r.status_code == 400
    assert r.json()["reason"] == "InvalidFieldValue"


async def test_start_with_token_bodies_does_not_mutate_request(http: httpx.AsyncClient) -> None:
    body = cascading_body()
    before = copy.deepcopy(body)
    await start(http, body)
    assert body == before


async def test_unknown_path_and_method_have_json_errors(http: httpx.AsyncClient) -> None:
    r = await http.get("/v2/nothing-here")
    assert r.status_code == 404
    assert set(r.json()) == {"detail", "reason"}
    assert r.headers["x-request-id"]
    r = await http.delete(f"{P}/join")
    assert r.status_code == 405
    assert r.headers["x-request-id"]


async def test_cn_path_prefix_is_served(sandbox: Sandbox) -> None:
    assert sandbox.base_url is not None
    root = sandbox.base_url.removesuffix("/api/conversational-ai-agent")
    async with httpx.AsyncClient(base_url=root, headers={"Authorization": basic()}) as c:
        r = await c.get(f"/cn/api/conversational-ai-agent{P}/agents")
    assert r.status_code == 200


async def test_user_speech_cannot_cut_uninterruptable_speech(
    http: httpx.AsyncClient, sandbox: Sandbox, clock: Clock
) -> None:
    agent_id = await start(http)
    clock.now += 30
    text = "Please listen to this important notice in full."
    await http.post(f"{P}/agents/{agent_id}/speak", json={"text": text, "interruptable": False})
    clock.now += 0.5
    sandbox.state.user_says(agent_id, "Stop!")
    clock.now += 60
    turns = (await http.get(f"{P}/agents/{agent_id}/turns")).json()["turns"]
    notice, answer = turns[-2], turns[-1]
    assert notice["end"]["type"] == "ok"
    assert answer["start"]["type"] == "voice_input"
    assert answer["start"]["start_at"] >= notice["end"]["end_at"]
    await http.post(f"{P}/agents/{agent_id}/speak", json={"text": text})
    clock.now += 0.5
    sandbox.state.user_says(agent_id, "Stop!")
    clock.now += 60
    turns = (await http.get(f"{P}/agents/{agent_id}/turns")).json()["turns"]
    assert turns[-2]["end"]["type"] == "interrupted"
    assert turns[-2]["end"]["metadata"]["caused_by"] == "start_of_speech"


async def test_oversized_body_is_refused(http: httpx.AsyncClient) -> None:
    body = cascading_body()
    body["properties"]["labels"] = {"blob": "x" * 1_100_000}
    r = await http.post(f"{P}/join", json=body)
    assert r.status_code == 413
    assert r.json()["reason"] == "InvalidRequestBody"
