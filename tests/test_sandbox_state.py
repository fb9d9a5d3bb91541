"""Invariants of the sandbox's in-memory model under random operation sequences (Hypothesis),
and its pure validators."""

from __future__ import annotations

import re
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, invariant, precondition, rule

from convoai_mcp.sandbox import AGENT_STATES, SandboxState
from convoai_mcp.sandbox.errors import SandboxError
from convoai_mcp.sandbox.validation import (
    AgentConfig,
    validate_channel,
    validate_e164,
    validate_speak_body,
    validate_uid,
)

T0 = 1_800_000_000.0


def config(name: str, max_history: int, idle: int | None) -> AgentConfig:
    return AgentConfig(
        name=name,
        channel=f"ch-{name}",
        agent_uid="1001",
        remote_uids=["*"],
        token="",
        idle_timeout=idle,
        max_history=max_history,
        greeting="Hello!",
    )


class SandboxMachine(RuleBasedStateMachine):
    """Random starts, stops, speech, thinking, user speech and time jumps."""

    def __init__(self) -> None:
        super().__init__()
        self.time = T0
        self.state = SandboxState(clock=lambda: self.time, start_delay=1.0, max_agents=6)
        self.ids: list[str] = []
        self.names = 0
        self.peak_live = 0

    def _pick(self, index: int) -> str:
        return self.ids[index % len(self.ids)]

    @rule(max_history=st.integers(1, 4), idle=st.sampled_from([None, 5, 60]), reuse=st.booleans())
    def start(self, max_history: int, idle: int | None, reuse: bool) -> None:
        name = "same" if reuse else f"agent-{self.names}"
        self.names += 1
        try:
            self.ids.append(self.state.start_agent(config(name, max_history, idle))["agent_id"])
            count = sum(1 for a in self.state.agents.values() if a.status(self.time) != "STOPPED")
            self.peak_live = max(self.peak_live, count)
        except SandboxError as err:
            assert err.status in (409, 429)
            if err.status == 409:
                live = [a for a in self.state.agents.values() if a.status(self.time) != "STOPPED"]
                assert any(a.config.name == name for a in live)

    @precondition(lambda self: bool(self.ids))
    @rule(index=st.integers(0, 100))
    def stop(self, index: int) -> None:
        try:
            self.state.stop_agent(self._pick(index))
        except SandboxError as err:
            assert err.status == 404

    @precondition(lambda self: bool(self.ids))
    @rule(
        index=st.integers(0, 100),
        text=st.text(min_size=1, max_size=40),
        priority=st.sampled_from(["INTERRUPT", "APPEND", "IGNORE"]),
        interruptable=st.booleans(),
    )
    def speak(self, index: int, text: str, priority: str, interruptable: bool) -> None:
        try:
            answer = self.state.speak(self._pick(index), text, priority, interruptable)
        except SandboxError as err:
            assert err.status == 404
        else:
            assert answer["start_ts"] == int(self.time)

    @precondition(lambda self: bool(self.ids))
    @rule(
        index=st.integers(0, 100),
        text=st.text(min_size=1, max_size=40),
        action=st.sampled_from(["inject", "interrupt", "ignore", "append"]),
        user=st.booleans(),
    )
    def talk(self, index: int, text: str, action: str, user: bool) -> None:
        try:
            if user:
                self.state.user_says(self._pick(index), text)
            else:
                self.state.think(self._pick(index), text, action, speaking_action=None)
        except SandboxError as err:
            assert err.status == 404

    @precondition(lambda self: bool(self.ids))
    @rule(index=st.integers(0, 100))
    def interrupt(self, index: int) -> None:
        try:
            self.state.interrupt(self._pick(index))
        except SandboxError as err:
            assert err.status == 404

    @rule(seconds=st.sampled_from([0.1, 0.7, 3.0, 30.0, 400.0]))
    def wait(self, seconds: float) -> None:
        self.time += seconds

    @invariant()
    def agents_are_consistent(self) -> None:
        live_names: list[str] = []
        for agent_id in list(self.state.agents):
            got = self.state.get_agent(agent_id)
            assert got["status"] in AGENT_STATES
            if got["status"] != "STOPPED":
                live_names.append(self.state.agents[agent_id].config.name)
                history = self.state.history(agent_id)["contents"]
                assert len(history) <= self.state.agents[agent_id].config.max_history
                for entry in history:
                    assert 0 <= entry["speech_start_ms"] <= entry["speech_end_ms"]
                    assert entry["role"] in ("user", "assistant")
            turns = self.state.turns(agent_id, page_size=100)
            ids = [t["turn_id"] for t in turns["turns"]]
            assert ids == sorted(set(ids))
            for turn in turns["turns"]:
                if turn["end"] is not None:
                    assert turn["start"]["start_at"] <= turn["end"]["end_at"]
                    assert turn["end"]["type"] in ("ok", "interrupted", "ignored")
                assert turn["start"]["type"] in ("greeting", "api_speak", "voice_input")
        assert len(live_names) == len(set(live_names))
        # eviction (on starts) keeps at most max_agents, unless more than that are live
        assert len(self.state.agents) <= max(6, self.peak_live)

    @invariant()
    def paging_yields_each_agent_once(self) -> None:
        seen: list[str] = []
        cursor: str | None = None
        while True:
            page = self.state.list_agents(limit=2, cursor=cursor, from_time=0)
            seen += [item["agent_id"] for item in page["data"]["list"]]
            assert page["meta"]["total"] == len(self.state.agents)
            cursor = page["meta"].get("cursor")
            if not cursor:
                break
        assert sorted(seen) == sorted(self.state.agents)


SandboxMachine.TestCase.settings = settings(max_examples=60, stateful_step_count=30, deadline=None)
TestSandboxMachine = SandboxMachine.TestCase

_E164 = re.compile(r"\+[1-9][0-9]{1,14}")


@given(st.text(alphabet="+0123456789 -", max_size=18))
def test_e164_validator_matches_the_definition(number: str) -> None:
    expected = _E164.fullmatch(number) is not None
    try:
        validate_e164(number, "n")
    except SandboxError:
        assert not expected
    else:
        assert expected


@given(st.text(max_size=300))
def test_speak_text_limit_is_512_utf8_bytes(text: str) -> None:
    body: dict[str, Any] = {"text": text}
    size = len(text.encode())
    try:
        validate_speak_body(body)
    except SandboxError as err:
        assert size == 0 or size > 512
        assert err.status == 400
    else:
        assert 0 < size <= 512


@given(st.integers(0, 2**32 - 1))
def test_numeric_uids_accepted(uid: int) -> None:
    assert validate_uid(str(uid), string_uid=False, path="u") == str(uid)


@pytest.mark.parametrize("uid", ["-1", "4294967296", "1.5", "abc", "١٢٣"])
def test_bad_numeric_uids_refused(uid: str) -> None:
    with pytest.raises(SandboxError):
        validate_uid(uid, string_uid=False, path="u")


@pytest.mark.parametrize(
    ("channel", "ok"),
    [("room-123", True), ("a b!#$%&()+-:;<=.>?@[]^_{|}~,", True), ("x" * 64, True),
     ("x" * 65, False), ("slash/no", False), ("é", False), ("tab\t", False)],
)  # fmt: skip
def test_channel_names(channel: str, ok: bool) -> None:
    if ok:
        assert validate_channel(channel) == channel
    else:
        with pytest.raises(SandboxError):
            validate_channel(channel)
