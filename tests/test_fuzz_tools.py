"""Property-based fuzzing of every tool's arguments through the in-memory MCP ``Client``.

Invariants:

* a call always returns a result (success, or ``isError`` with a message naming the problem and
  what to do next): never an exception, a protocol error or the SDK's bare crash message;
* input the server must refuse (wrong types, out-of-range or malformed values, invalid E.164
  numbers, over-long or control-character strings ...) reaches the emulator with zero requests;
* whatever the server does send is never refused by the emulator as an invalid request (400 /
  422): input the service would reject should have been refused before sending.

Requests are counted at the emulator by an ASGI middleware added to its Starlette app. The server
and its session live in a blocking portal (one event loop in a thread) so that Hypothesis drives
plain synchronous tests against one long-lived server.
"""

from __future__ import annotations

import os
import re
from collections.abc import Callable, Iterator
from contextlib import ExitStack
from dataclasses import dataclass, field
from typing import Any

import pytest
from _server_helpers import BY_ARGUMENT, CALLEE, Rig, rig
from anyio.from_thread import BlockingPortal, start_blocking_portal
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from mcp import Client
from mcp_types import CallToolResult

from convoai_mcp.sandbox.validation import ASR_PRESETS, LLM_PRESETS, TTS_PRESETS
from convoai_mcp.server.tools import TOOL_NAMES

# ---------------------------------------------------------------------------- the request counter


@dataclass
class Seen:
    """One request that reached the emulator, and the status it was answered with."""

    method: str
    path: str
    query: str = ""
    status: int = 0


class CountRequests:
    """ASGI middleware: notes every HTTP request reaching the emulator (method, path, status)."""

    def __init__(self, app: Any, seen: list[Seen]) -> None:
        self.app = app
        self.seen = seen

    async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        record = Seen(scope["method"], scope["path"], scope.get("query_string", b"").decode())
        self.seen.append(record)

        async def noting(message: Any) -> None:
            if message["type"] == "http.response.start":
                record.status = message["status"]
            await send(message)

        await self.app(scope, receive, noting)


_WATCHER_PATH = re.compile(r"/agents/([^/]+)/(history|turns)$")


@dataclass
class Live:
    """A server on the emulator with one open MCP session, driven from synchronous tests."""

    portal: BlockingPortal
    client: Client
    rig: Rig
    seen: list[Seen] = field(default_factory=list)

    def __repr__(self) -> str:
        return "Live(<server on the emulator>)"

    agent_id: str | None = None
    call_id: str | None = None

    def _running(self, agent_id: str | None) -> bool:
        state = self.rig.sandbox.state
        with state.lock:
            agent = state.agents.get(agent_id or "")
            return agent is not None and agent.status(state.now()) != "STOPPED"

    def _ensure_live(self) -> None:
        """Start an agent and place a call through the server, if they are not running."""
        if not self._running(self.agent_id):
            result = self.portal.call(self.client.call_tool, "start_agent", {"channel": "fuzz"})
            assert not result.is_error, text_of(result)
            assert result.structured_content is not None
            self.agent_id = result.structured_content["agent_id"]
        if not self._running(self.call_id):
            args = {"to_number": CALLEE, "confirm": True}
            result = self.portal.call(self.client.call_tool, "call", args)
            assert not result.is_error, text_of(result)
            assert result.structured_content is not None
            self.call_id = result.structured_content["agent_id"]

    def call(self, tool: str, args: dict[str, Any]) -> tuple[CallToolResult, list[Seen]]:
        """Call ``tool``; return its result and the requests it sent (archive watchers'
        background polls of agents started earlier are left out). The placeholders
        LIVE_AGENT / LIVE_CALL stand for a running agent / call."""
        self._ensure_live()
        live = {LIVE_AGENT: self.agent_id, LIVE_CALL: self.call_id}
        args = {k: live.get(v, v) if isinstance(v, str) else v for k, v in args.items()}
        before = len(self.seen)
        result = self.portal.call(self.client.call_tool, tool, args)
        started = self.rig.server.runtime.agents
        sent = []
        for seen in self.seen[before:]:
            match = _WATCHER_PATH.search(seen.path)
            if seen.method == "GET" and match and match.group(1) in started:
                continue
            sent.append(seen)
        return result, sent


LIMITS = {
    "CONVOAI_MAX_AGENTS": "100000",
    "CONVOAI_MAX_CALLS": "100000",
    "CONVOAI_RATE_PER_MINUTE": "1000000",
}
"""Safety limits raised, so valid starts reach the emulator (the defaults allow 10 a minute)."""


@pytest.fixture(scope="module")
def live(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Live]:
    tmp = tmp_path_factory.mktemp("fuzz")
    with start_blocking_portal() as portal, ExitStack() as stack:
        r = stack.enter_context(
            portal.wrap_async_context_manager(rig(tmp, {**BY_ARGUMENT, **LIMITS}))
        )
        seen: list[Seen] = []
        r.sandbox.app.add_middleware(CountRequests, seen=seen)
        client = stack.enter_context(portal.wrap_async_context_manager(Client(r.server)))
        yield Live(portal, client, r, seen)


# ------------------------------------------------------------------------------------ checks


def text_of(result: CallToolResult) -> str:
    return " ".join(getattr(block, "text", "") for block in result.content)


def assert_handled(tool: str, result: CallToolResult) -> None:
    """A success, or an isError result that is a handled failure with guidance."""
    if not result.is_error:
        assert result.structured_content is not None, result
        return
    text = text_of(result)
    assert text.strip() != f"Error executing tool {tool}", "the tool crashed"
    assert "Traceback" not in text and 'File "' not in text, text
    assert tool in text, text
    refused = f"Invalid arguments for {tool}" in text and "Nothing was sent" in text
    assert refused or ("failed" in text and "Next:" in text), text


def assert_refused(tool: str, result: CallToolResult, sent: list[Seen]) -> None:
    """Refused before anything was sent, with an actionable message."""
    assert result.is_error, f"{tool} accepted invalid input: {result.structured_content}"
    assert_handled(tool, result)
    assert sent == [], f"{tool} sent {sent} for input it should have refused"


def assert_not_rejected_by_service(tool: str, sent: list[Seen], result: CallToolResult) -> None:
    """Nothing sent was refused as invalid, except a list cursor: an opaque token only the
    service can judge (its 400 must still be a clear error)."""
    bad = [s for s in sent if s.status in (400, 413, 422) and "cursor=" not in s.query]
    assert not bad, f"{tool} sent input the service refused: {bad}; {text_of(result)}"


# ------------------------------------------------------------------------------- strategies

# JSON has no NaN / Infinity (the transport would turn them into null): none are generated.
JSON_SCALARS = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(min_value=-(2**70), max_value=2**70),
    st.floats(allow_nan=False, allow_infinity=False),
    st.text(max_size=40),
)
ANY_JSON = st.recursive(
    JSON_SCALARS,
    lambda inner: (
        st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=8), inner, max_size=4)
    ),
    max_leaves=8,
)
NOT_A_STRING = st.one_of(
    st.booleans(),
    st.integers(),
    st.floats(allow_nan=False, allow_infinity=False),
    st.lists(st.integers(), max_size=3),
    st.dictionaries(st.text(max_size=4), st.integers(), max_size=2),
)
NOT_AN_INT = st.one_of(
    st.text(alphabet="abcxyz -_", min_size=1, max_size=10),
    st.floats(allow_nan=False, allow_infinity=False).filter(lambda f: not float(f).is_integer()),
    st.lists(st.integers(), max_size=2),
    st.dictionaries(st.text(max_size=3), st.integers(), max_size=2),
)
NOT_A_BOOL = st.one_of(
    st.text(alphabet="abcxyz", min_size=2, max_size=8).filter(
        lambda s: s not in {"yes", "no", "on", "off", "true", "false", "t", "f", "y", "n"}
    ),
    st.integers(min_value=2),
    st.integers(max_value=-1),
    st.lists(st.booleans(), max_size=2),
    st.dictionaries(st.text(max_size=3), st.booleans(), max_size=2),
)
WEIRD_TEXT = st.text(
    st.characters(codec="utf-8", exclude_categories=["Cs"]),
    min_size=1,
    max_size=40,
)
CONTROL = st.sampled_from(["\x00", "\n", "\r", "\t", "\x1b", "\x7f", "\u200b", "\u202e", "\ufeff"])

AGENT_ID_RE = re.compile(r"[A-Za-z0-9_.:-]{1,128}")
CHANNEL_RE = re.compile(r"[A-Za-z0-9 !#$%&()+\-:;<=.>?@\[\]^_{|}~,]{1,64}")
E164_RE = re.compile(r"\+[1-9][0-9]{6,14}")
UID_RE = re.compile(r"0|[1-9][0-9]{0,9}")  # '01' is not a uid: its token would be for 1
NAME_RE = re.compile(r"[A-Za-z0-9_-]{1,64}")
LANG_RE = re.compile(r"[a-z]{2,3}(-[A-Za-z0-9]{2,8})*")


def bad_string(pattern: re.Pattern[str], *, max_len: int) -> st.SearchStrategy[Any]:
    """Values a string field constrained by ``pattern`` (full match) must refuse."""
    return st.one_of(
        st.just(""),
        WEIRD_TEXT.filter(lambda s: pattern.fullmatch(s) is None),
        st.builds(lambda s, c: s + c, st.text("abc123", min_size=1, max_size=8), CONTROL),
        st.builds(lambda c, s: c + s, CONTROL, st.text("abc123", min_size=1, max_size=8)),
        st.text("a1", min_size=max_len + 1, max_size=max_len + 200),
        st.just("x" * 100_000),
        NOT_A_STRING,
    )


def good_string(pattern: re.Pattern[str]) -> st.SearchStrategy[str]:
    return st.from_regex(pattern, fullmatch=True)


BAD_E164 = st.one_of(
    st.just(""),
    st.just("14155550123"),
    st.just("+04155550123"),
    st.just("+1415"),
    st.just("+1415555012345678"),
    st.just("+1 415 555 0123"),
    st.just("+1-415-555-0123"),
    st.just("+１４１５５５５０１２３"),
    st.just("+١٤١٥٥٥٥٠١٢٣"),
    st.just("+14155550123\n"),
    st.just("tel:+14155550123"),
    st.text(max_size=20).filter(lambda s: E164_RE.fullmatch(s) is None),
    NOT_A_STRING,
)
GOOD_E164 = st.from_regex(E164_RE, fullmatch=True)
OVER_LONG = st.integers(min_value=1, max_value=3).map(lambda k: "y" * (8000 * k + 1))
HUGE = st.one_of(
    st.integers(min_value=2**31, max_value=2**80),
    st.integers(min_value=-(2**80), max_value=-1),
    st.just(10**30),
)

# For each tool: {argument: (strategy of valid values, strategy of invalid values)}; required
# arguments are the ones without None among valid values being allowed (listed in REQUIRED).
Spec = dict[str, tuple[st.SearchStrategy[Any], st.SearchStrategy[Any]]]

LIVE_AGENT = "<the live agent>"
LIVE_CALL = "<the live call>"
AGENT_ID = (
    # the running agent or call (substituted by Live.call), or any id the schema allows
    st.one_of(st.just(LIVE_AGENT), st.just(LIVE_CALL), st.sampled_from([".", ".."]))
    | good_string(AGENT_ID_RE),
    bad_string(AGENT_ID_RE, max_len=128),
)
CHANNEL = (good_string(CHANNEL_RE), bad_string(CHANNEL_RE, max_len=64))
UID = (good_string(UID_RE), bad_string(UID_RE, max_len=10) | HUGE)
PROMPT = (st.text(max_size=200), OVER_LONG | NOT_A_STRING)
GREETING = (st.text(max_size=100), st.text("ab", min_size=513, max_size=700) | NOT_A_STRING)
ALL_PRESETS = sorted(ASR_PRESETS | LLM_PRESETS | TTS_PRESETS)  # the ones the service knows
PRESETS = (
    st.lists(st.sampled_from(ALL_PRESETS), max_size=3),
    st.one_of(
        st.lists(st.text(max_size=12), min_size=1, max_size=3).filter(
            lambda items: any(i not in ALL_PRESETS for i in items)
        ),
        st.lists(st.just("openai_tts_1"), min_size=4, max_size=6),
        st.text(min_size=1, max_size=10),
        st.integers(),
    ),
)
LLM_URL = (
    st.just("https://llm.example/v1/chat/completions"),
    st.one_of(st.text(max_size=30).filter(lambda s: not re.match(r"https?://", s)), NOT_A_STRING),
)
SHORT = (st.text(min_size=1, max_size=30), st.text("z", min_size=129, max_size=300) | NOT_A_STRING)
LANG = (good_string(LANG_RE), bad_string(LANG_RE, max_len=60))
IDLE = (
    st.integers(0, 86400),
    st.one_of(st.integers(max_value=-1), st.integers(min_value=86401), HUGE, NOT_AN_INT),
)
BOOL = (st.booleans(), NOT_A_BOOL)
TIMEOUT = (
    st.floats(1, 120),
    st.one_of(
        st.floats(max_value=0.999, allow_infinity=False),
        st.floats(min_value=120.001, allow_infinity=False),
        HUGE,
        st.text("abc", min_size=1),
    ),
)
LIMIT = (
    st.integers(1, 100),
    st.one_of(st.integers(max_value=0), st.integers(min_value=101), HUGE, NOT_AN_INT),
)
RECENT = (
    st.integers(1, 500),
    st.one_of(st.integers(max_value=0), st.integers(min_value=501), HUGE, NOT_AN_INT),
)
CURSOR = (
    st.text("abcdef0123", max_size=20),
    st.text("c", min_size=1025, max_size=1100) | NOT_A_STRING,
)


CAMPAIGN_ID = (
    st.from_regex(r"c[a-f0-9]{12}", fullmatch=True),
    st.just("") | st.text("!", min_size=1, max_size=5) | NOT_A_STRING,
)


def choice(values: list[str]) -> tuple[st.SearchStrategy[Any], st.SearchStrategy[Any]]:
    return (
        st.sampled_from(values),
        st.one_of(st.text(max_size=12).filter(lambda s: s not in values), NOT_A_STRING),
    )


SPECS: dict[str, Spec] = {
    "start_agent": {
        "channel": CHANNEL,
        "system_prompt": PROMPT,
        "greeting": GREETING,
        "presets": PRESETS,
        "llm_url": LLM_URL,
        "llm_model": SHORT,
        "tts_vendor": (
            st.sampled_from(["microsoft", "elevenlabs"]),
            st.text("v", min_size=65, max_size=80) | NOT_A_STRING,
        ),
        "tts_voice": SHORT,
        "asr_language": LANG,
        "agent_uid": UID,
        "user_uid": UID,
        "idle_timeout": IDLE,
        "name": (good_string(NAME_RE), bad_string(NAME_RE, max_len=64)),
        "wait_until_running": BOOL,
        "timeout_seconds": TIMEOUT,
        "confirm": BOOL,
    },
    "speak": {
        "agent_id": AGENT_ID,
        "text": (
            st.text(
                st.characters(codec="ascii", min_codepoint=32), min_size=1, max_size=100
            ).filter(str.strip),
            st.one_of(
                st.just(""),
                st.text(" \t\n", min_size=1, max_size=5),
                st.text("ab", min_size=513, max_size=600),
                st.integers(129, 200).map(lambda n: "\U0001f600" * n),
                st.integers(257, 300).map(lambda n: "é" * n),
                NOT_A_STRING,
            ),
        ),
        "priority": choice(["INTERRUPT", "APPEND", "IGNORE"]),
        "interruptable": BOOL,
    },
    "interrupt": {"agent_id": AGENT_ID},
    "think": {
        "agent_id": AGENT_ID,
        "text": (st.text(min_size=1, max_size=100), st.just("") | OVER_LONG | NOT_A_STRING),
        "on_listening_action": choice(["inject", "interrupt", "ignore", "append"]),
        "on_thinking_action": choice(["interrupt", "ignore", "append"]),
        "on_speaking_action": choice(["interrupt", "ignore", "append"]),
        "interruptable": BOOL,
        "metadata": (
            st.dictionaries(st.text(max_size=8), st.text(max_size=8), max_size=3),
            st.one_of(
                st.dictionaries(st.text(max_size=8), NOT_A_STRING, min_size=1, max_size=3),
                st.dictionaries(
                    st.text(min_size=1, max_size=8), st.just("v"), min_size=21, max_size=25
                ),
                st.lists(st.text(), min_size=1, max_size=2),
                st.text(min_size=1),
            ),
        ),
    },
    "call": {
        "to_number": (st.just(CALLEE), BAD_E164),
        "from_number": (st.just("+14155550100"), BAD_E164),
        "system_prompt": PROMPT,
        "greeting": GREETING,
        "channel": CHANNEL,
        "asr_language": LANG,
        "wait_until_answered": BOOL,
        "timeout_seconds": TIMEOUT,
        "confirm": BOOL,
    },
    "hangup": {"agent_id": AGENT_ID},
    "list_numbers": {},
    "list_profiles": {},
    "stop_agent": {"agent_id": AGENT_ID},
    "update_agent": {
        "agent_id": AGENT_ID,
        "system_prompt": PROMPT,
        "llm_params": (
            st.dictionaries(
                st.sampled_from(["temperature", "max_tokens"]), st.integers(0, 100), max_size=2
            ),
            st.one_of(
                st.dictionaries(
                    st.text(min_size=1, max_size=6), st.integers(), min_size=21, max_size=25
                ),
                st.lists(st.integers(), min_size=1, max_size=2),
                st.text(min_size=1),
                st.integers(),
            ),
        ),
        "refresh_token": BOOL,
    },
    "get_agent": {"agent_id": AGENT_ID},
    "get_history": {"agent_id": AGENT_ID, "limit": RECENT},
    "get_turns": {"agent_id": AGENT_ID, "limit": RECENT},
    "list_agents": {
        "channel": CHANNEL,
        "state": choice(
            ["IDLE", "STARTING", "RUNNING", "STOPPING", "STOPPED", "RECOVERING", "FAILED"]
        ),
        "limit": LIMIT,
        "cursor": CURSOR,
    },
    "get_call": {"agent_id": AGENT_ID},
    "list_calls": {
        "number": (GOOD_E164, BAD_E164),
        "type": choice(["inbound", "outbound"]),
        "limit": LIMIT,
        "cursor": CURSOR,
    },
    "wait": {
        # not the running agent or call: a valid wait on them would block until its timeout
        "agent_id": (st.sampled_from([".", ".."]) | good_string(AGENT_ID_RE), AGENT_ID[1]),
        "until": choice(["running", "answered", "ended", "history", "turn"]),
        "timeout_seconds": (
            st.floats(0, 0.05),
            st.one_of(st.floats(max_value=-0.001, allow_infinity=False), HUGE, NOT_AN_INT),
        ),
        "cursor": (st.from_regex(r"e[0-9]{1,3}\.0", fullmatch=True), st.text("c", min_size=33)),
    },
    # campaigns (issue 14): never of the allow-listed CALLEE, so every number is skipped up
    # front and nothing is dialled in the background while other tools are fuzzed
    "start_campaign": {
        "name": (
            st.text(min_size=1, max_size=100),
            st.just("") | st.text("n", min_size=101, max_size=120) | NOT_A_STRING,
        ),
        "destinations": (
            st.lists(
                st.builds(lambda n: {"number": n}, GOOD_E164.filter(lambda n: n != CALLEE)),
                min_size=1,
                max_size=3,
            ),
            st.just([]) | st.lists(st.builds(lambda n: {"number": n}, BAD_E164), min_size=1),
        ),
        "system_prompt": PROMPT,
        "greeting": GREETING,
        "pacing": (
            st.builds(
                lambda c, m: {"max_concurrent": c, "calls_per_minute": m},
                st.integers(1, 100),
                st.integers(1, 600),
            ),
            st.builds(lambda c: {"max_concurrent": c}, st.integers(max_value=0)) | NOT_A_BOOL,
        ),
        "confirm": (st.booleans(), NOT_A_BOOL),
    },
    "get_campaign": {"campaign_id": CAMPAIGN_ID},
    "list_campaigns": {
        "status": choice(["running", "paused", "cancelled", "completed", "expired"]),
        "limit": LIMIT,
    },
    "pause_campaign": {"campaign_id": CAMPAIGN_ID},
    "resume_campaign": {"campaign_id": CAMPAIGN_ID},
    "cancel_campaign": {"campaign_id": CAMPAIGN_ID, "hang_up": (st.booleans(), NOT_A_BOOL)},
    "mint_token": {
        "channel": CHANNEL,
        "uid": UID,
        "role": choice(["publisher", "subscriber"]),
        "lifetime_seconds": (
            st.integers(60, 86400),
            st.one_of(st.integers(max_value=59), st.integers(min_value=86401), HUGE, NOT_AN_INT),
        ),
    },
}
REQUIRED: dict[str, tuple[str, ...]] = {
    "start_agent": ("channel",),
    "speak": ("agent_id", "text"),
    "interrupt": ("agent_id",),
    "think": ("agent_id", "text"),
    "call": ("to_number",),
    "hangup": ("agent_id",),
    "stop_agent": ("agent_id",),
    "update_agent": ("agent_id",),
    "get_agent": ("agent_id",),
    "get_history": ("agent_id",),
    "get_turns": ("agent_id",),
    "get_call": ("agent_id",),
    "mint_token": ("channel",),
    "wait": ("agent_id", "until"),
    "start_campaign": ("name", "destinations"),
    "get_campaign": ("campaign_id",),
    "pause_campaign": ("campaign_id",),
    "resume_campaign": ("campaign_id",),
    "cancel_campaign": ("campaign_id",),
}


def test_specs_cover_every_tool_and_argument(live: Live) -> None:
    tools = {t.name: t for t in live.portal.call(live.client.list_tools).tools}
    assert set(tools) == set(TOOL_NAMES) == set(SPECS)
    for name, tool in tools.items():
        properties = set(tool.input_schema.get("properties", {}))
        assert set(SPECS[name]) <= properties, name
        assert set(tool.input_schema.get("required", [])) == set(REQUIRED.get(name, ())), name


@st.composite
def valid_args(draw: Callable[..., Any], tool: str) -> dict[str, Any]:
    spec = SPECS[tool]
    args: dict[str, Any] = {}
    for arg, (good, _) in spec.items():
        if arg in REQUIRED.get(tool, ()) or draw(st.booleans()):
            args[arg] = draw(good)
    return args


@st.composite
def invalid_args(draw: Callable[..., Any], tool: str) -> dict[str, Any]:
    """Valid arguments but one: wrong, or a required one missing."""
    args: dict[str, Any] = draw(valid_args(tool))
    spec = SPECS[tool]
    required = REQUIRED.get(tool, ())
    if required and draw(st.integers(0, 5)) == 0:
        del args[draw(st.sampled_from(required))]
        return args
    arg = draw(st.sampled_from(sorted(spec)))
    args[arg] = draw(spec[arg][1])
    return args


SEMANTIC_REFUSALS: dict[str, st.SearchStrategy[dict[str, Any]]] = {
    # valid on their own, refused together or by policy: still nothing may be sent
    "start_agent": st.builds(
        lambda channel, uid: {"channel": channel, "agent_uid": uid, "user_uid": uid},
        good_string(CHANNEL_RE),
        good_string(UID_RE),
    ),
    "call": st.builds(
        lambda number, source, confirm: {
            "to_number": number,
            "confirm": confirm,
            **({"from_number": source} if source else {}),
        },
        GOOD_E164.filter(lambda n: n != CALLEE),
        st.none() | GOOD_E164,
        st.booleans(),
    ),
    "update_agent": st.builds(lambda agent_id: {"agent_id": agent_id}, AGENT_ID[0]),
}

FUZZ = settings(
    max_examples=int(os.environ.get("CONVOAI_FUZZ_EXAMPLES", "40")),
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much],
    database=None,
)
FUZZED_TOOLS = [name for name in TOOL_NAMES if SPECS[name]]


@pytest.mark.parametrize("tool", FUZZED_TOOLS)
@FUZZ
@given(data=st.data())
def test_invalid_arguments_are_refused_before_sending(
    live: Live, tool: str, data: st.DataObject
) -> None:
    args = data.draw(invalid_args(tool), label="args")
    result, sent = live.call(tool, args)
    assert_refused(tool, result, sent)


@pytest.mark.parametrize("tool", sorted(SEMANTIC_REFUSALS))
@FUZZ
@given(data=st.data())
def test_refused_combinations_send_nothing(live: Live, tool: str, data: st.DataObject) -> None:
    args = data.draw(SEMANTIC_REFUSALS[tool], label="args")
    result, sent = live.call(tool, args)
    assert_refused(tool, result, sent)


@pytest.mark.parametrize("tool", TOOL_NAMES)
@FUZZ
@given(data=st.data())
def test_valid_arguments_get_a_result_the_service_accepts(
    live: Live, tool: str, data: st.DataObject
) -> None:
    args = data.draw(valid_args(tool), label="args")
    result, sent = live.call(tool, args)
    assert_handled(tool, result)
    assert_not_rejected_by_service(tool, sent, result)


@pytest.mark.parametrize("tool", TOOL_NAMES)
@FUZZ
@given(data=st.data())
def test_arbitrary_json_arguments_never_crash(live: Live, tool: str, data: st.DataObject) -> None:
    names = [*sorted(SPECS[tool]), "unexpected", "_meta", ""]
    args = data.draw(st.dictionaries(st.sampled_from(names), ANY_JSON, max_size=6), label="args")
    result, sent = live.call(tool, args)
    assert_handled(tool, result)
    assert_not_rejected_by_service(tool, sent, result)


def test_the_server_still_serves_after_the_fuzzing(live: Live) -> None:
    result, sent = live.call("list_numbers", {})
    assert not result.is_error, text_of(result)
    assert [(s.path.rsplit("/v2", 1)[-1], s.status) for s in sent] == [("/phone-numbers", 200)]
