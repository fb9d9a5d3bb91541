"""Contract (b): the official SDK, sync and async, against our emulator over loopback.

In each auth mode the SDK (``agora-agents`` 2.12.0) uses (app credentials, a prebuilt token,
Basic) it runs every operation against one emulator served on a loopback port (in a thread of
its own, so the SDK's blocking client can talk to it): an agent session's start, say, think,
interrupt, update, history, turns over several pages, info and stop; listing agents across
pages with ``iter_pages()``; a telephony call, get, list and hangup; phone numbers list, add,
get, update and delete, with the ``+`` in the path as the SDK sends it (unencoded). Every
answer the SDK received is recorded from its httpx client and must conform to the SDK's
response model for it (:func:`_contract.answer_problems`): no value its types reject, no enum
value it does not declare.
"""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import threading
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any, Literal

import httpx
import pytest
from _contract import answer_problems, import_sdk, operation_of

from convoai_mcp.sandbox import DEMO_CREDENTIALS, PATH_PREFIX, Sandbox

sdk = import_sdk()
pytestmark = pytest.mark.filterwarnings("ignore:Valid config keys have changed in V2")
from agora_agent.agentkit.token import generate_convo_ai_token  # noqa: E402

CREDS = DEMO_CREDENTIALS
APP_ID = CREDS.app_id
OUTBOUND = "+14155550100"
Mode = Literal["app-credentials", "token", "basic"]
MODES: tuple[Mode, ...] = ("app-credentials", "token", "basic")
_names = itertools.count(1)


@dataclass
class Served:
    """The emulator, served from a thread with its own event loop."""

    sandbox: Sandbox
    root: str  # the base URL without the API path: what AGORA_AGENTS_API_BASE_URL takes


@pytest.fixture(scope="module")
def served() -> Iterator[Served]:
    """One emulator for the whole module (start_delay 0; time moved with ``state.advance``)."""
    sandbox = Sandbox(CREDS, seed=11, answer_delay=0.5)
    loop = asyncio.new_event_loop()
    ready = threading.Event()
    box: dict[str, Any] = {}

    async def main() -> None:
        stop = asyncio.Event()
        box["stop"] = stop
        async with sandbox.serve("127.0.0.1", 0) as url:
            box["url"] = url
            ready.set()
            await stop.wait()

    thread = threading.Thread(target=loop.run_until_complete, args=(main(),), daemon=True)
    thread.start()
    assert ready.wait(10), "the emulator did not start"
    try:
        yield Served(sandbox, str(box["url"]).removesuffix(PATH_PREFIX))
    finally:
        loop.call_soon_threadsafe(box["stop"].set)
        thread.join(10)
        loop.close()


@dataclass
class Seen:
    """Every answer the SDK's httpx client received: (operation, status, JSON body)."""

    answers: list[tuple[str, int, Any]] = field(default_factory=list)
    plus_paths: list[bytes] = field(default_factory=list)

    def note(self, response: httpx.Response) -> None:
        request = response.request
        if "/phone-numbers/" in request.url.path:
            self.plus_paths.append(request.url.raw_path)
        body = response.json() if response.content else None
        operation = operation_of(request.method, request.url.path)
        self.answers.append((operation, response.status_code, body))

    def problems(self) -> list[str]:
        return [p for op, status, body in self.answers for p in answer_problems(op, status, body)]

    def operations(self) -> set[str]:
        return {op for op, status, _ in self.answers if status < 400}


def _token(channel: str, uid: int) -> str:
    return str(
        generate_convo_ai_token(
            app_id=APP_ID, app_certificate=CREDS.app_certificate, channel_name=channel, uid=uid
        )
    )


def _credentials(mode: Mode, channel: str) -> dict[str, Any]:
    base: dict[str, Any] = {
        "area": sdk.Area.US,
        "app_id": APP_ID,
        "app_certificate": CREDS.app_certificate,
    }
    if mode == "basic":
        base.update(customer_id=CREDS.customer_id, customer_secret=CREDS.customer_secret)
    elif mode == "token":
        base["auth_token"] = _token(channel, 1001)  # the REST token, for the agent's channel
    return base


def _low_level(mode: Mode, channel: str) -> dict[str, Any] | None:
    """``request_options`` for the SDK's low-level calls. In app-credentials mode the SDK sends
    an empty Authorization header there (a known SDK bug: the service, and the emulator,
    answer 401), so the token the SDK's sessions mint is passed the SDK's own way."""
    if mode != "app-credentials":
        return None
    return {"additional_headers": {"Authorization": f"agora token={_token(channel, 1001)}"}}


def _agent(client: Any, n: int) -> Any:
    return (
        sdk.Agent(client=client, instructions="Be brief.", greeting=f"Hello number {n}!")
        .with_llm(
            sdk.OpenAI(
                api_key="sk-test", model="gpt-4o-mini", base_url="https://llm.example/v1/chat"
            )
        )
        .with_tts(sdk.MicrosoftTTS(key="k", region="eastus", voice_name="en-US-AndrewNeural"))
        .with_stt(sdk.DeepgramSTT(api_key="dg", model="nova-3"))
    )


def _call_request(channel: str) -> dict[str, Any]:
    return {
        "name": f"sdk-call-{next(_names)}",
        "sip": {
            "to_number": "+15551234567",
            "from_number": OUTBOUND,
            "rtc_uid": "2001",
            "rtc_token": _token(channel, 2001),
        },
        "properties": {
            "channel": channel,
            "token": _token(channel, 1001),
            "agent_rtc_uid": "1001",
            "remote_rtc_uids": ["2001"],
            "llm": {"url": "https://llm.example/v1/chat", "params": {"model": "m"}},
            "tts": {
                "vendor": "microsoft",
                "params": {"key": "k", "region": "eastus", "voice_name": "v"},
            },
        },
    }


def _number() -> str:
    return f"+4420718{next(_names):05d}"


def _check(seen: Seen, mode: Mode) -> None:
    assert seen.problems() == []
    assert seen.operations() >= {
        "agents.start",
        "agents.speak",
        "agents.think",
        "agents.interrupt",
        "agents.update",
        "agents.history",
        "agents.turns",
        "agents.get",
        "agents.stop",
        "agents.list",
        "calls.create",
        "calls.get",
        "calls.list",
        "calls.hangup",
        "numbers.list",
        "numbers.add",
        "numbers.get",
        "numbers.update",
        "numbers.delete",
    }, mode
    assert seen.plus_paths and all(b"/+" in raw for raw in seen.plus_paths)  # unencoded '+'


@contextlib.contextmanager
def _base_url(served: Served, monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    with monkeypatch.context() as patch:
        patch.setenv("AGORA_AGENTS_API_BASE_URL", served.root)
        yield


# ------------------------------------------------------------------------------------ sync


def _sync_session(client: Any, served: Served, channel: str, n: int) -> Any:
    session = _agent(client, n).create_session(
        channel=channel, agent_uid="1001", remote_uids=["1002"], name=f"sdk-agent-{next(_names)}"
    )
    session.start()
    return session


@pytest.mark.parametrize("mode", MODES)
def test_sync_sdk_against_the_emulator(
    mode: Mode, served: Served, monkeypatch: pytest.MonkeyPatch
) -> None:
    seen = Seen()
    channel = f"sdk-sync-{mode}"
    state = served.sandbox.state
    with (
        _base_url(served, monkeypatch),
        httpx.Client(event_hooks={"response": [_reading(seen.note)]}) as http,
    ):
        client = sdk.Agora(**_credentials(mode, channel), httpx_client=http)
        session = _sync_session(client, served, channel, 1)
        assert session.id
        state.advance(2)  # running, the greeting being said
        session.say("Breaking news.", priority="INTERRUPT")
        session.say("Queued.", priority="APPEND", interruptable=False)
        session.think("The user is a VIP.", on_listening_action="inject", metadata={"k": "v"})
        session.interrupt()
        session.think("And then?")
        session.update({"llm": {"params": {"model": "gpt-4o"}}})
        state.advance(60)
        history = session.get_history()
        assert [c.role for c in history.contents][:1] == ["assistant"]
        first = session.get_turns(page_index=1, page_size=2)
        assert first.pagination.is_last_page is False
        every = session.get_all_turns(page_size=2)
        assert len(every.turns) == first.total_turn_count >= 4
        assert all(isinstance(t.start.start_at, int | float) for t in every.turns)
        info = session.get_info()
        assert info.status == "RUNNING"
        others = [_sync_session(client, served, channel, n) for n in (2, 3)]
        pages = list(
            client.agents.list(
                APP_ID, channel=channel, limit=2, request_options=_low_level(mode, channel)
            ).iter_pages()
        )
        assert len(pages) >= 2
        listed = {item.agent_id for page in pages for item in page.items}
        assert {session.id, *(o.id for o in others)} <= listed
        for each in (session, *others):
            each.stop()
        assert session.get_info().status == "STOPPED"

        options = _low_level(mode, channel)
        call = client.telephony.call(APP_ID, **_call_request(channel), request_options=options)
        got = client.telephony.get(APP_ID, call.agent_id, request_options=options)
        assert got.state is None  # not answered yet
        state.advance(1)
        assert client.telephony.get(APP_ID, call.agent_id, request_options=options).state == (
            "answered"
        )
        calls = list(client.telephony.list(APP_ID, request_options=options))
        assert call.agent_id in {c.agent_id for c in calls}
        client.telephony.hangup(APP_ID, call.agent_id, request_options=options)
        ended = client.telephony.get(APP_ID, call.agent_id, request_options=options)
        assert (ended.state, ended.reason) == ("hangup", "request")

        number = _number()
        numbers = client.phone_numbers
        assert {n.phone_number for n in numbers.list(request_options=options)} >= {OUTBOUND}
        added = numbers.add(
            provider="byo",
            phone_number=number,
            label="SDK line",
            inbound_config={"allowed_addresses": []},
            outbound_config={"address": "sip.example.com", "transport": "tls", "prefix": ""},
            outbound=True,
            request_options=options,
        )
        assert added.phone_number == number
        assert numbers.get(number, request_options=options).label == "SDK line"
        updated = numbers.update(
            number, outbound_config={"pipeline_id": "pl_1"}, request_options=options
        )
        assert updated.associated_pipeline.pipeline_id == "pl_1"
        numbers.delete(number, request_options=options)
        assert number not in {n.phone_number for n in numbers.list(request_options=options)}
    _check(seen, mode)


def _reading(note: Callable[[httpx.Response], None]) -> Callable[[httpx.Response], None]:
    def hook(response: httpx.Response) -> None:
        response.read()
        note(response)

    return hook


# ----------------------------------------------------------------------------------- async


async def _async_session(client: Any, channel: str, n: int) -> Any:
    session = _agent(client, n).create_async_session(
        channel=channel, agent_uid="1001", remote_uids=["1002"], name=f"sdk-agent-{next(_names)}"
    )
    await session.start()
    return session


@pytest.mark.parametrize("mode", MODES)
async def test_async_sdk_against_the_emulator(
    mode: Mode, served: Served, monkeypatch: pytest.MonkeyPatch
) -> None:
    seen = Seen()
    channel = f"sdk-async-{mode}"
    state = served.sandbox.state

    async def note(response: httpx.Response) -> None:
        await response.aread()
        seen.note(response)

    with _base_url(served, monkeypatch):
        async with httpx.AsyncClient(event_hooks={"response": [note]}) as http:
            client = sdk.AsyncAgora(**_credentials(mode, channel), httpx_client=http)
            session = await _async_session(client, channel, 1)
            state.advance(2)
            await session.say("Breaking news.")
            await session.think("The user is a VIP.", on_listening_action="inject")
            await session.interrupt()
            await session.think("And then?")
            await session.update({"llm": {"params": {"model": "gpt-4o"}}})
            state.advance(60)
            assert (await session.get_history()).contents
            every = await session.get_all_turns(page_size=2)
            assert len(every.turns) == every.total_turn_count >= 4
            assert (await session.get_info()).status == "RUNNING"
            others = [await _async_session(client, channel, n) for n in (2, 3)]
            pager = await client.agents.list(
                APP_ID, channel=channel, limit=2, request_options=_low_level(mode, channel)
            )
            pages = [page async for page in pager.iter_pages()]
            assert len(pages) >= 2
            listed = {item.agent_id for page in pages for item in page.items}
            assert {session.id, *(o.id for o in others)} <= listed
            for each in (session, *others):
                await each.stop()

            options = _low_level(mode, channel)
            call = await client.telephony.call(
                APP_ID, **_call_request(channel), request_options=options
            )
            ringing = await client.telephony.get(APP_ID, call.agent_id, request_options=options)
            assert ringing.state is None  # not answered yet
            state.advance(1)
            pager_calls = await client.telephony.list(APP_ID, request_options=options)
            assert call.agent_id in {c.agent_id async for c in pager_calls}
            await client.telephony.hangup(APP_ID, call.agent_id, request_options=options)
            ended = await client.telephony.get(APP_ID, call.agent_id, request_options=options)
            assert (ended.state, ended.reason) == ("hangup", "request")

            number = _number()
            numbers = client.phone_numbers
            await numbers.list(request_options=options)
            await numbers.add(
                provider="twilio",
                phone_number=number,
                label="SDK async line",
                inbound_config={"allowed_addresses": ["sip.example.com"]},
                outbound_config={},
                inbound=True,
                request_options=options,
            )
            assert (await numbers.get(number, request_options=options)).inbound is True
            await numbers.update(
                number, inbound_config={"pipeline_id": "pl_2"}, request_options=options
            )
            await numbers.delete(number, request_options=options)
    _check(seen, mode)


def test_the_sdk_low_level_calls_without_a_token_are_refused(
    served: Served, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Why the tests pass a token to the low-level calls in app-credentials mode: the SDK
    sends an empty Authorization header there, which the service (and emulator) refuses."""
    seen = Seen()
    with (
        _base_url(served, monkeypatch),
        httpx.Client(event_hooks={"response": [_reading(seen.note)]}) as http,
    ):
        client = sdk.Agora(**_credentials("app-credentials", "x"), httpx_client=http)
        with pytest.raises(sdk.core.api_error.ApiError) as caught:
            list(client.agents.list(APP_ID))
    assert caught.value.status_code == 401
    assert seen.problems() == []  # the 401 body conforms too
