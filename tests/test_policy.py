"""Safety policy: dialing allow-list, own outbound numbers, limits, rate, tool lists."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from convoai_mcp.config import Settings
from convoai_mcp.errors import ConfigError, ConvoAIError
from convoai_mcp.policy import (
    DEFAULT_MAX_AGENTS,
    DEFAULT_MAX_CALLS,
    DEFAULT_RATE_PER_MINUTE,
    Limiter,
    Policy,
    PolicyError,
)
from convoai_mcp.server.tools import READ_ONLY_TOOLS

OURS = {"+14155550000"}
TOOLS = [
    "start_agent",
    "stop_agent",
    "update_agent",
    "get_agent",
    "list_agents",
    "speak",
    "interrupt",
    "think",
    "call",
    "hangup",
    "get_call",
    "list_calls",
    "list_numbers",
    "mint_token",
]


class FakeClock:
    """A clock the test moves by hand."""

    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def test_policy_error_is_a_convoai_error_with_a_hint() -> None:
    with pytest.raises(PolicyError) as info:
        Policy().check_call("+14155550100", "+14155550000", OURS)
    assert isinstance(info.value, ConvoAIError)
    assert "CONVOAI_CALL_ALLOWLIST" in info.value.hint


def test_calls_are_refused_when_no_allowlist_is_configured() -> None:
    with pytest.raises(PolicyError, match="no call allow-list"):
        Policy().check_call("+14155550100", "+14155550000", OURS)


@pytest.mark.parametrize(
    ("allow", "number", "ok"),
    [
        (("+14155550100",), "+14155550100", True),
        (("+14155550100",), "+14155550101", False),
        (("+1415",), "+14155550199", True),
        (("+1415",), "+14165550199", False),
        (("+1415", "+4420"), "+442071838750", True),
        (("+4420",), "+4421000000", False),
    ],
)
def test_allowlist_matches_exact_numbers_and_prefixes(
    allow: tuple[str, ...], number: str, ok: bool
) -> None:
    policy = Policy(call_allowlist=allow)
    assert policy.destination_allowed(number) is ok
    if ok:
        policy.check_call(number, "+14155550000", OURS)
    else:
        with pytest.raises(PolicyError, match="not on the call allow-list"):
            policy.check_call(number, "+14155550000", OURS)


def test_from_number_must_be_one_of_the_projects_outbound_numbers() -> None:
    policy = Policy(call_allowlist=("+1",))
    with pytest.raises(PolicyError, match="outbound-enabled") as info:
        policy.check_call("+14155550100", "+14155559999", OURS)
    assert "+14155550000" in info.value.hint
    with pytest.raises(PolicyError, match="outbound-enabled"):
        policy.check_call("+14155550100", "+14155550000", set())


@pytest.mark.parametrize("bad", ["4155550100", "+1 415 555 0100", "+0123456789", "+1", "tel:+1415"])
def test_malformed_destinations_are_refused(bad: str) -> None:
    with pytest.raises(PolicyError, match=r"E\.164"):
        Policy(call_allowlist=("+0", "+1", "+4")).check_call(bad, "+14155550000", OURS)


@given(st.from_regex(r"\+1415[0-9]{7}", fullmatch=True))
def test_every_number_under_an_allowed_prefix_passes(number: str) -> None:
    Policy(call_allowlist=("+1415",)).check_call(number, "+14155550000", OURS)


@given(st.from_regex(r"\+[2-9][0-9]{9,12}", fullmatch=True))
def test_no_number_outside_the_allowlist_passes(number: str) -> None:
    with pytest.raises(PolicyError):
        Policy(call_allowlist=("+1415",)).check_call(number, "+14155550000", OURS)


def test_bad_allowlist_entries_are_a_config_error() -> None:
    with pytest.raises(ConfigError, match="CONVOAI_CALL_ALLOWLIST"):
        Policy(call_allowlist=("1415",))
    with pytest.raises(ConfigError, match="CONVOAI_MAX_AGENTS"):
        Policy(max_agents=-1)


def test_defaults_are_the_safe_limits() -> None:
    policy = Policy()
    assert (policy.agent_limit, policy.call_limit, policy.rate_limit) == (
        DEFAULT_MAX_AGENTS,
        DEFAULT_MAX_CALLS,
        DEFAULT_RATE_PER_MINUTE,
    )
    assert policy.needs_confirmation("call")
    assert not policy.needs_confirmation("start_agent")


def test_from_settings_reads_the_safety_variables() -> None:
    settings = Settings.from_env(
        {
            "CONVOAI_CALL_ALLOWLIST": "+1415, +4420",
            "CONVOAI_MAX_AGENTS": "3",
            "CONVOAI_MAX_CALLS": "0",
            "CONVOAI_RATE_PER_MINUTE": "7",
            "CONVOAI_CONFIRM": "call,start_agent",
            "CONVOAI_READ_ONLY": "true",
            "CONVOAI_TOOLS_DENY": "list_calls",
        },
        require_credentials=False,
    )
    policy = Policy.from_settings(settings, read_only_tools=READ_ONLY_TOOLS)
    assert policy.call_allowlist == ("+1415", "+4420")
    assert (policy.agent_limit, policy.call_limit, policy.rate_limit) == (3, 0, 7)
    assert policy.needs_confirmation("start_agent")
    assert policy.visible_tools(TOOLS) == ["get_agent", "list_agents", "get_call", "list_numbers"]


def test_read_only_mode_exposes_only_read_only_tools_in_order() -> None:
    policy = Policy(read_only=True, read_only_tools=READ_ONLY_TOOLS)
    visible = policy.visible_tools(TOOLS)
    assert visible == [t for t in TOOLS if t in READ_ONLY_TOOLS]
    assert "call" not in visible and "mint_token" not in visible
    with pytest.raises(PolicyError, match="read-only"):
        policy.check_tool("start_agent")


def test_read_only_mode_keeps_no_tool_when_not_told_which_are_read_only() -> None:
    """Fail closed: the policy knows the read-only tools only from the server's registry."""
    assert Policy(read_only=True).visible_tools(TOOLS) == []
    with pytest.raises(PolicyError, match="read-only"):
        Policy(read_only=True).check_tool("get_agent")


def test_allow_and_deny_lists() -> None:
    policy = Policy(tools_allow=frozenset({"start_agent", "speak", "stop_agent"}))
    assert policy.visible_tools(TOOLS) == ["start_agent", "stop_agent", "speak"]
    denied = Policy(tools_deny=frozenset({"call", "hangup"}))
    assert "call" not in denied.visible_tools(TOOLS)
    assert len(denied.visible_tools(TOOLS)) == len(TOOLS) - 2
    with pytest.raises(PolicyError, match="tool lists"):
        denied.check_tool("call")
    denied.check_tool("speak")


def test_unknown_tool_names_in_the_lists_are_a_config_error() -> None:
    with pytest.raises(ConfigError, match="strat_agent"):
        Policy(tools_allow=frozenset({"strat_agent"})).visible_tools(TOOLS)
    with pytest.raises(ConfigError, match="CONVOAI_TOOLS_DENY"):
        Policy(tools_deny=frozenset({"dial"})).visible_tools(TOOLS)


def test_concurrency_limit_counts_reservations_and_running_agents() -> None:
    limiter = Limiter(Policy(max_agents=2, rate_per_minute=100))
    first = limiter.reserve("agent")
    limiter.reserve("agent")
    with pytest.raises(PolicyError, match="2 of 2 concurrent agents") as info:
        limiter.reserve("agent")
    assert "CONVOAI_MAX_AGENTS" in info.value.hint
    limiter.bind("a1", kind="agent", reservation=first)
    assert limiter.running() == {"a1": "agent"}
    assert limiter.active("agent") == 2
    # calls have their own limit
    limiter.reserve("call")
    assert limiter.ended("a1") is True
    assert limiter.ended("a1") is False
    limiter.reserve("agent")


def test_a_released_reservation_frees_its_slot() -> None:
    limiter = Limiter(Policy(max_calls=1))
    reservation = limiter.reserve("call")
    with pytest.raises(PolicyError, match="concurrent calls"):
        limiter.reserve("call")
    limiter.release(reservation)
    limiter.release(reservation)
    limiter.reserve("call")


def test_max_zero_forbids() -> None:
    with pytest.raises(PolicyError):
        Limiter(Policy(max_agents=0)).reserve("agent")


def test_stale_reservations_expire() -> None:
    clock = FakeClock()
    limiter = Limiter(Policy(max_agents=1), clock=clock, reservation_ttl=30)
    limiter.reserve("agent")
    with pytest.raises(PolicyError):
        limiter.reserve("agent")
    clock.now += 31
    limiter.reserve("agent")


def test_rate_limit_is_a_rolling_minute_over_agents_and_calls() -> None:
    clock = FakeClock()
    limiter = Limiter(Policy(rate_per_minute=3, max_agents=10, max_calls=10), clock=clock)
    for kind in ("agent", "call", "agent"):
        limiter.reserve(kind)
        clock.now += 10
    with pytest.raises(PolicyError, match="3 start_agent / call requests per minute") as info:
        limiter.reserve("call")
    assert "try again in about 30 s" in info.value.hint
    clock.now += 30  # the first start is now a minute old
    limiter.reserve("call")
    with pytest.raises(PolicyError, match="rate limit"):
        limiter.reserve("agent")


def test_check_refuses_like_reserve_but_takes_nothing() -> None:
    clock = FakeClock()
    limiter = Limiter(Policy(max_calls=1, rate_per_minute=1), clock=clock)
    for _ in range(3):
        limiter.check("call")
    assert limiter.active("call") == 0
    limiter.reserve("call")
    with pytest.raises(PolicyError, match="concurrent calls"):
        limiter.check("call")


def test_check_call_without_numbers_checks_only_what_needs_no_lookup() -> None:
    policy = Policy(call_allowlist=("+1415",))
    policy.check_call("+14155550100", "+19995550000", None)
    with pytest.raises(PolicyError, match="allow-list"):
        policy.check_call("+14165550100", "+19995550000", None)


def test_confirm_none_confirms_nothing() -> None:
    settings = Settings.from_env({"CONVOAI_CONFIRM": "none"}, require_credentials=False)
    policy = Policy.from_settings(settings)
    assert not policy.needs_confirmation("call")
    assert not policy.needs_confirmation("start_agent")
