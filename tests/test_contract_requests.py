"""Contract (a): the same request from our client and from the official SDK.

For every endpoint both clients build the request from the same inputs; a recording httpx
transport captures both (no network) and the method, the decoded path, the query and the JSON
body must be the same. Values each side mints itself -- the join tokens, a publishing
avatar's token -- are taken out and must both verify for the same channel and uid. ``start``
is compared in every shape the SDK's ``agentkit`` produces: cascading (ASR + LLM + TTS),
presets, a pipeline, an MLLM, an avatar, RTM on. Two differences are the SDK's, not ours, and
are pinned here so they are seen: its HTTP layer sends no body for interrupt / hangup (its
code passes ``{}``, as the TypeScript and Go SDKs send, and an empty JSON body is dropped on
the way), and it leaves the ``+`` of a phone number unencoded in the path (we send ``%2B``).
"""

from __future__ import annotations

import json
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import parse_qsl

import httpx
import pytest
from _contract import import_sdk, operation_of

from convoai_mcp.builders import AgentSpec
from convoai_mcp.client import BasicAuth, ConvoAIClient
from convoai_mcp.models import (
    AddPhoneNumberRequest,
    AsrConfig,
    AvatarConfig,
    InboundConfig,
    LlmConfig,
    MllmConfig,
    OutboundConfig,
    PipelineRef,
    TtsConfig,
    UpdateAgentProperties,
    UpdateAgentRequest,
    UpdateLlm,
    UpdatePhoneNumberRequest,
)
from convoai_mcp.tokens import verify_token

sdk = import_sdk()
pytestmark = pytest.mark.filterwarnings("ignore:Valid config keys have changed in V2")

APP_ID = "970CA35de60c44645bbae8a215061b33"
CERT = "5CFd2fd1755d40ecb72977518be15d3b"
CUSTOMER, SECRET = "customer-1", "secret-1"
CHANNEL = "room-1"
AGENT_ID = "AGENT0000000000000000000000000001"
NUMBER = "+14155550123"
LLM_URL = "https://llm.example/v1/chat/completions"

_AGENT = {"agent_id": AGENT_ID, "create_ts": 1, "status": "RUNNING"}
_ACTION = {"agent_id": AGENT_ID, "channel": CHANNEL, "start_ts": 1}
_NUMBER = {"phone_number": NUMBER, "provider": "byo", "label": "L", "inbound": False}
_EMPTY_LIST = {"data": {"count": 0, "list": []}, "meta": {"cursor": "", "total": 0}}
CANNED: dict[str, Any] = {
    "agents.start": _AGENT,
    "agents.list": _EMPTY_LIST,
    "agents.get": {"agent_id": AGENT_ID, "start_ts": 1, "status": "RUNNING"},
    "agents.history": {"agent_id": AGENT_ID, "start_ts": 1, "status": "RUNNING", "contents": []},
    "agents.turns": {
        "agent_id": AGENT_ID,
        "total_turn_count": 0,
        "pagination": {"page_index": 1, "total_pages": 1, "is_last_page": True},
        "turns": [],
    },
    "agents.stop": {},
    "agents.update": _AGENT,
    "agents.speak": _ACTION,
    "agents.interrupt": _ACTION,
    "agents.think": _ACTION,
    "calls.create": {"agent_id": AGENT_ID},
    "calls.list": _EMPTY_LIST,
    "calls.get": {"agent_id": AGENT_ID, "state": "answered"},
    "calls.hangup": {},
    "numbers.list": [_NUMBER],
    "numbers.add": _NUMBER,
    "numbers.get": _NUMBER,
    "numbers.update": _NUMBER,
    "numbers.delete": {},
}


@dataclass(frozen=True)
class Sent:
    """One request as a client put it on the wire."""

    operation: str
    method: str
    path: str  # decoded
    raw_path: bytes
    query: dict[str, str]
    body: Any  # None: no body at all

    def same_as(self, other: Sent) -> dict[str, Any]:
        """The differences to ``other`` (method, path, query, body), empty when equal."""
        mine = {"method": self.method, "path": self.path, "query": self.query, "body": self.body}
        theirs = {
            "method": other.method,
            "path": other.path,
            "query": other.query,
            "body": other.body,
        }
        return {k: (mine[k], theirs[k]) for k in mine if mine[k] != theirs[k]}


@dataclass
class Recorder:
    """A transport handler that notes each request and answers it with a canned body."""

    sent: list[Sent] = field(default_factory=list)

    def __call__(self, request: httpx.Request) -> httpx.Response:
        operation = operation_of(request.method, request.url.path)
        content = request.content
        self.sent.append(
            Sent(
                operation=operation,
                method=request.method,
                path=request.url.path.removeprefix("/api/conversational-ai-agent"),
                raw_path=request.url.raw_path,
                query=dict(parse_qsl(request.url.query.decode())),
                body=json.loads(content) if content else None,
            )
        )
        return httpx.Response(200, json=CANNED[operation])

    def last(self, operation: str) -> Sent:
        found = [s for s in self.sent if s.operation == operation]
        assert found, f"{operation} was not sent"
        return found[-1]


@pytest.fixture
def ours() -> tuple[Recorder, Callable[[], ConvoAIClient]]:
    recorder = Recorder()

    def make() -> ConvoAIClient:
        http = httpx.AsyncClient(transport=httpx.MockTransport(recorder))
        return ConvoAIClient(
            APP_ID,
            BasicAuth(CUSTOMER, SECRET),
            base_url="http://recorder/api/conversational-ai-agent",
            app_certificate=CERT,
            http_client=http,
        )

    return recorder, make


@pytest.fixture
def theirs(monkeypatch: pytest.MonkeyPatch) -> tuple[Recorder, Any]:
    recorder = Recorder()
    monkeypatch.setenv("AGORA_AGENTS_API_BASE_URL", "http://recorder")
    client = sdk.Agora(
        area=sdk.Area.US,
        app_id=APP_ID,
        app_certificate=CERT,
        customer_id=CUSTOMER,
        customer_secret=SECRET,
        httpx_client=httpx.Client(transport=httpx.MockTransport(recorder)),
    )
    return recorder, client


def _take_tokens(body: dict[str, Any]) -> dict[str, tuple[str, str, str]]:
    """Pop every minted token from a start / call body: {where: (token, channel, uid)}."""
    props = body["properties"]
    minted = {"properties.token": (props.pop("token"), props["channel"], props["agent_rtc_uid"])}
    sip = body.get("sip")
    if sip is not None:
        minted["sip.rtc_token"] = (sip.pop("rtc_token"), props["channel"], sip["rtc_uid"])
    avatar = (props.get("avatar") or {}).get("params") or {}
    if "agora_token" in avatar:
        minted["avatar.agora_token"] = (
            avatar.pop("agora_token"),
            props["channel"],
            str(avatar["agora_uid"]),
        )
    return minted


_SDK_NULLS = {"preset", "pipeline_id", "properties.asr", "properties.llm", "properties.tts"}


def _without_nulls(value: Any, path: str, found: set[str]) -> Any:
    if isinstance(value, dict):
        kept = {}
        for key, item in value.items():
            where = f"{path}.{key}" if path else key
            if item is None:
                found.add(where)
            else:
                kept[key] = _without_nulls(item, where, found)
        return kept
    if isinstance(value, list):
        return [_without_nulls(item, path, found) for item in value]
    return value


def _same_start(mine: Sent, sdks: Sent) -> None:
    assert (mine.method, mine.path) == (sdks.method, sdks.path)
    ours_body, their_body = json.loads(json.dumps(mine.body)), json.loads(json.dumps(sdks.body))
    # The SDK sends JSON nulls for unused options (a known mistake of other clients, see the
    # spec); we leave them out. Which nulls it sends is pinned, so a new one is seen.
    nulls: set[str] = set()
    their_body = _without_nulls(their_body, "", nulls)
    assert nulls <= _SDK_NULLS, nulls
    assert _without_nulls(ours_body, "", set()) == ours_body  # we send none
    our_tokens, their_tokens = _take_tokens(ours_body), _take_tokens(their_body)
    assert set(our_tokens) == set(their_tokens)
    for where, (token, channel, uid) in {**our_tokens, **their_tokens}.items():
        assert (channel, uid) == our_tokens[where][1:] == their_tokens[where][1:]
        verify_token(token, CERT, app_id=APP_ID, channel=channel, uid=uid)
    assert ours_body == their_body


# ------------------------------------------------------------------------------ start shapes


def _llm_sdk() -> Any:
    return sdk.OpenAI(api_key="sk-test", model="gpt-4o-mini", base_url=LLM_URL)


def _llm_ours() -> LlmConfig:
    return LlmConfig(url=LLM_URL, api_key="sk-test", params={"model": "gpt-4o-mini"})


_TTS_PARAMS = {"key": "k", "region": "eastus", "voice_name": "en-US-AndrewNeural"}


def _cascading(client: Any, **agent: Any) -> Any:
    return (
        sdk.Agent(
            client=client,
            instructions="Be brief.",
            greeting="Hello!",
            failure_message="Hold on.",
            max_history=10,
            **agent,
        )
        .with_llm(_llm_sdk())
        .with_tts(sdk.MicrosoftTTS(**_TTS_PARAMS, sample_rate=24000))
        .with_stt(sdk.DeepgramSTT(api_key="dg", model="nova-3", language="en-US"))
    )


def _cascading_spec(**fields: Any) -> AgentSpec:
    return AgentSpec(
        name="assistant",
        channel=CHANNEL,
        agent_uid="1001",
        remote_uids=["1002"],
        system_prompt="Be brief.",
        greeting="Hello!",
        failure_message="Hold on.",
        max_history=10,
        idle_timeout=120,
        llm=_llm_ours(),
        tts=TtsConfig(vendor="microsoft", params={**_TTS_PARAMS, "sample_rate": 24000}),
        asr=AsrConfig(
            vendor="deepgram", params={"key": "dg", "model": "nova-3", "language": "en-US"}
        ),
        **fields,
    )


_PRESETS = ["deepgram_nova_3", "openai_gpt_4o_mini", "minimax_speech_2_6_turbo"]
_LIVE_AVATAR = {"api_key": "ak", "quality": "high", "agora_uid": "3001"}

SHAPES: dict[str, tuple[Callable[[Any], tuple[Any, dict[str, Any]]], Callable[[], AgentSpec]]] = {
    "cascading": (
        lambda c: (_cascading(c), {"idle_timeout": 120}),
        _cascading_spec,
    ),
    "rtm": (
        lambda c: (_cascading(c, advanced_features={"enable_rtm": True}), {"idle_timeout": 120}),
        lambda: _cascading_spec(advanced_features={"enable_rtm": True}),
    ),
    "presets": (
        lambda c: (sdk.Agent(client=c), {"preset": _PRESETS}),
        lambda: AgentSpec(
            name="assistant", channel=CHANNEL, remote_uids=["1002"], presets=list(_PRESETS)
        ),
    ),
    "pipeline": (
        lambda c: (sdk.Agent(client=c, pipeline_id="pl_1"), {}),
        lambda: AgentSpec(
            name="assistant", channel=CHANNEL, remote_uids=["1002"], pipeline_id="pl_1"
        ),
    ),
    "mllm": (
        lambda c: (
            sdk.Agent(client=c, greeting="Hi").with_mllm(
                sdk.OpenAIRealtime(api_key="k", model="gpt-realtime", instructions="Be kind.")
            ),
            {},
        ),
        lambda: AgentSpec(
            name="assistant",
            channel=CHANNEL,
            remote_uids=["1002"],
            system_prompt="Be kind.",
            greeting="Hi",
            mllm=MllmConfig(
                vendor="openai",
                api_key="k",
                url="wss://api.openai.com/v1/realtime",
                params={"model": "gpt-realtime"},
            ),
        ),
    ),
    "avatar": (
        lambda c: (
            _cascading(c).with_avatar(sdk.LiveAvatarAvatar(**_LIVE_AVATAR)),
            {"idle_timeout": 120},
        ),
        lambda: _cascading_spec(
            avatar=AvatarConfig(enable=True, vendor="liveavatar", params=dict(_LIVE_AVATAR))
        ),
    ),
}


@pytest.mark.parametrize("shape", sorted(SHAPES))
async def test_start_bodies_match(
    shape: str,
    ours: tuple[Recorder, Callable[[], ConvoAIClient]],
    theirs: tuple[Recorder, Any],
) -> None:
    (our_rec, make), (their_rec, client) = ours, theirs
    build_sdk, build_ours = SHAPES[shape]
    agent, session_fields = build_sdk(client)
    session = agent.create_session(
        channel=CHANNEL,
        agent_uid="1001",
        remote_uids=["1002"],
        name="assistant",
        **session_fields,
    )
    assert session.start() == AGENT_ID
    async with make() as mine:
        assert (await mine.agents.launch(build_ours())).agent_id == AGENT_ID
    _same_start(our_rec.last("agents.start"), their_rec.last("agents.start"))


async def test_call_bodies_match(
    ours: tuple[Recorder, Callable[[], ConvoAIClient]],
    theirs: tuple[Recorder, Any],
) -> None:
    """A call carries a full start configuration: the SDK's agentkit properties for the agent
    (its call endpoint takes them as given) against what our dial builds."""
    (our_rec, make), (their_rec, client) = ours, theirs
    properties = _cascading(client).to_properties(
        channel=CHANNEL,
        agent_uid="1001",
        remote_uids=["2001"],
        idle_timeout=120,
        app_id=APP_ID,
        app_certificate=CERT,
    )
    rtc_token = sdk.agentkit.token.generate_convo_ai_token(
        app_id=APP_ID, app_certificate=CERT, channel_name=CHANNEL, uid=2001
    )
    client.telephony.call(
        APP_ID,
        name="assistant",
        sip={
            "to_number": NUMBER,
            "from_number": "+14155550100",
            "rtc_uid": "2001",
            "rtc_token": rtc_token,
        },
        properties=properties.model_dump(exclude_none=True),
    )
    async with make() as mine:
        await mine.calls.dial(
            _cascading_spec(), to_number=NUMBER, from_number="+14155550100", sip_uid="2001"
        )
    _same_start(our_rec.last("calls.create"), their_rec.last("calls.create"))


# --------------------------------------------------------------------- every other endpoint


def _session(client: Any) -> Any:
    session = _cascading(client).create_session(
        channel=CHANNEL, agent_uid="1001", remote_uids=["1002"], name="assistant"
    )
    session.start()
    return session


AgentOp = tuple[str, Callable[[Any], Any], Callable[[ConvoAIClient], Awaitable[Any]]]
AGENT_OPS: list[AgentOp] = [
    (
        "agents.speak",
        lambda s: s.say("Hi there", priority="APPEND", interruptable=False),
        lambda c: c.agents.speak(AGENT_ID, "Hi there", priority="APPEND", interruptable=False),
    ),
    (
        "agents.think",
        lambda s: s.think(
            "The user is a VIP.",
            on_listening_action="inject",
            on_speaking_action="append",
            interruptable=True,
            metadata={"k": "v"},
        ),
        lambda c: c.agents.think(
            AGENT_ID,
            "The user is a VIP.",
            on_listening_action="inject",
            on_speaking_action="append",
            interruptable=True,
            metadata={"k": "v"},
        ),
    ),
    (
        "agents.update",
        lambda s: s.update(
            {"llm": {"system_messages": [{"role": "system", "content": "x"}], "params": {"a": 1}}}
        ),
        lambda c: c.agents.update(
            AGENT_ID,
            UpdateAgentRequest(
                properties=UpdateAgentProperties(
                    llm=UpdateLlm(
                        system_messages=[{"role": "system", "content": "x"}], params={"a": 1}
                    )
                )
            ),
        ),
    ),
    ("agents.history", lambda s: s.get_history(), lambda c: c.agents.history(AGENT_ID)),
    ("agents.get", lambda s: s.get_info(), lambda c: c.agents.get(AGENT_ID)),
    (
        "agents.turns",
        lambda s: s.get_turns(page_index=1, page_size=25),
        lambda c: c.agents.turns(AGENT_ID, page_size=25, all_pages=False),
    ),
    ("agents.stop", lambda s: s.stop(), lambda c: c.agents.stop(AGENT_ID)),
]


@pytest.mark.parametrize("case", AGENT_OPS, ids=[op for op, _, _ in AGENT_OPS])
async def test_agent_requests_match(
    case: AgentOp,
    ours: tuple[Recorder, Callable[[], ConvoAIClient]],
    theirs: tuple[Recorder, Any],
) -> None:
    operation, run_sdk, run_ours = case
    (our_rec, make), (their_rec, client) = ours, theirs
    run_sdk(_session(client))
    async with make() as mine:
        await run_ours(mine)
    assert our_rec.last(operation).same_as(their_rec.last(operation)) == {}


@pytest.mark.parametrize("operation", ["agents.interrupt", "calls.hangup"])
async def test_interrupt_and_hangup_send_an_empty_object(
    operation: str,
    ours: tuple[Recorder, Callable[[], ConvoAIClient]],
    theirs: tuple[Recorder, Any],
) -> None:
    """We send ``{}`` (what the SDK's code passes, and what the TypeScript and Go SDKs put on
    the wire); the Python SDK's HTTP layer drops an empty JSON body, so it sends none."""
    (our_rec, make), (their_rec, client) = ours, theirs
    async with make() as mine:
        if operation == "agents.interrupt":
            _session(client).interrupt()
            await mine.agents.interrupt(AGENT_ID)
        else:
            client.telephony.hangup(APP_ID, AGENT_ID)
            await mine.calls.hangup(AGENT_ID)
    mine_sent, sdk_sent = our_rec.last(operation), their_rec.last(operation)
    assert mine_sent.body == {}
    assert sdk_sent.body is None
    assert mine_sent.same_as(sdk_sent) == {"body": ({}, None)}


async def test_list_and_telephony_reads_match(
    ours: tuple[Recorder, Callable[[], ConvoAIClient]],
    theirs: tuple[Recorder, Any],
) -> None:
    (our_rec, make), (their_rec, client) = ours, theirs
    list(
        client.agents.list(
            APP_ID,
            channel=CHANNEL,
            from_time=1_800_000_000,
            to_time=1_800_003_600,
            state="2",
            limit=5,
            cursor="CUR",
        )
    )
    client.telephony.get(APP_ID, AGENT_ID)
    list(client.telephony.list(APP_ID, number=NUMBER, type="outbound", limit=5, cursor="CUR"))
    async with make() as mine:
        await mine.agents.list_page(
            channel=CHANNEL,
            from_time=1_800_000_000,
            to_time=1_800_003_600,
            state="RUNNING",
            limit=5,
            cursor="CUR",
        )
        await mine.calls.get(AGENT_ID)
        await mine.calls.list_page(number=NUMBER, type="outbound", limit=5, cursor="CUR")
    for operation in ("agents.list", "calls.get", "calls.list"):
        assert our_rec.last(operation).same_as(their_rec.last(operation)) == {}, operation


@pytest.mark.parametrize(
    ("sdk_state", "our_state"),
    [
        ("1,2", ["STARTING", "RUNNING"]),
        ("4,6", ["STOPPED", "FAILED"]),
        ("0,1,2,3", ["IDLE", 1, "running", "STOPPING"]),
    ],
)
async def test_several_states_are_sent_as_the_sdk_sends_them(
    ours: tuple[Recorder, Callable[[], ConvoAIClient]],
    theirs: tuple[Recorder, Any],
    sdk_state: str,
    our_state: list[Any],
) -> None:
    """The SDK documents several states as one comma-separated ``state`` parameter of state
    numbers (``state=0,1,2``); ours sends exactly that query for the same states."""
    (our_rec, make), (their_rec, client) = ours, theirs
    list(
        client.agents.list(APP_ID, from_time=1_800_000_000, to_time=1_800_003_600, state=sdk_state)
    )
    async with make() as mine:
        await mine.agents.list_page(from_time=1_800_000_000, to_time=1_800_003_600, state=our_state)
    assert our_rec.last("agents.list").same_as(their_rec.last("agents.list")) == {}
    assert our_rec.last("agents.list").query["state"] == sdk_state


async def test_phone_number_requests_match(
    ours: tuple[Recorder, Callable[[], ConvoAIClient]],
    theirs: tuple[Recorder, Any],
) -> None:
    (our_rec, make), (their_rec, client) = ours, theirs
    numbers = client.phone_numbers
    numbers.list()
    numbers.add(
        provider="byo",
        phone_number=NUMBER,
        label="Main line",
        inbound_config={"allowed_addresses": ["sip.example.com"]},
        outbound_config={"address": "sip.example.com", "transport": "tls", "prefix": "9"},
        outbound=True,
    )
    numbers.get(NUMBER)
    numbers.update(NUMBER, inbound_config={"pipeline_id": "pl_1"})
    numbers.delete(NUMBER)
    async with make() as mine:
        await mine.phone_numbers.list()
        await mine.phone_numbers.add(
            AddPhoneNumberRequest(
                provider="byo",
                phone_number=NUMBER,
                label="Main line",
                inbound_config=InboundConfig(allowed_addresses=["sip.example.com"]),
                outbound_config=OutboundConfig(
                    address="sip.example.com", transport="tls", prefix="9"
                ),
                outbound=True,
            )
        )
        await mine.phone_numbers.get(NUMBER)
        await mine.phone_numbers.update(
            NUMBER, UpdatePhoneNumberRequest(inbound_config=PipelineRef(pipeline_id="pl_1"))
        )
        await mine.phone_numbers.delete(NUMBER)
    for operation in ("numbers.list", "numbers.add", "numbers.get", "numbers.update"):
        assert our_rec.last(operation).same_as(their_rec.last(operation)) == {}, operation
    assert our_rec.last("numbers.delete").same_as(their_rec.last("numbers.delete")) == {}
    # the same number; the SDK leaves the '+' unencoded, we percent-encode it
    assert our_rec.last("numbers.get").raw_path.endswith(b"/v2/phone-numbers/%2B14155550123")
    assert their_rec.last("numbers.get").raw_path.endswith(b"/v2/phone-numbers/+14155550123")
