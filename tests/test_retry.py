"""Backoff bounds, Retry-After parsing, give-up rules, the deadline."""

from __future__ import annotations

from datetime import UTC, datetime
from email.utils import format_datetime

import pytest
from hypothesis import given
from hypothesis import strategies as st

from convoai_mcp._retry import (
    DEFAULT_RETRY,
    Deadline,
    RetryPolicy,
    backoff_delay,
    is_retryable_status,
    parse_retry_after,
    retry_delay,
)


@given(
    retry=st.integers(min_value=0, max_value=10_000),
    rand=st.floats(min_value=0.0, max_value=1.0),
    base=st.floats(min_value=0.0, max_value=10.0),
    cap=st.floats(min_value=0.0, max_value=60.0),
)
def test_backoff_is_within_full_jitter_bounds(
    retry: int, rand: float, base: float, cap: float
) -> None:
    policy = RetryPolicy(base_delay=base, max_delay=cap)
    delay = backoff_delay(retry, policy, rand=lambda: rand)
    assert 0.0 <= delay <= min(cap, base * 2.0 ** min(retry, 62)) + 1e-9


def test_backoff_grows_then_caps() -> None:
    policy = RetryPolicy(base_delay=0.5, max_delay=3.0)
    tops = [backoff_delay(n, policy, rand=lambda: 1.0) for n in range(5)]
    assert tops == [0.5, 1.0, 2.0, 3.0, 3.0]


@pytest.mark.parametrize(
    ("status", "expected"),
    [(408, True), (429, True), (500, True), (503, True), (501, False), (404, False), (409, False)],
)
def test_retryable_statuses(status: int, expected: bool) -> None:
    assert is_retryable_status(status) is expected


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("3", 3.0),
        (" 1.5 ", 1.5),
        ("-4", 0.0),
        ("", None),
        (None, None),
        ("soon", None),
        ("nan", None),
        ("inf", None),
    ],
)
def test_parse_retry_after_seconds(value: str | None, expected: float | None) -> None:
    assert parse_retry_after(value) == expected


def test_parse_retry_after_http_date() -> None:
    now = 1_700_000_000.0
    when = format_datetime(datetime.fromtimestamp(now + 7, tz=UTC), usegmt=True)
    assert parse_retry_after(when, now=now) == pytest.approx(7.0)
    past = format_datetime(datetime.fromtimestamp(now - 70, tz=UTC), usegmt=True)
    assert parse_retry_after(past, now=now) == 0.0


@given(value=st.text(max_size=40))
def test_parse_retry_after_never_raises_and_is_non_negative(value: str) -> None:
    result = parse_retry_after(value, now=0.0)
    assert result is None or result >= 0.0


def test_retry_delay_gives_up_when_attempts_run_out() -> None:
    policy = RetryPolicy(max_attempts=3)
    assert retry_delay(0, policy, remaining=100, rand=lambda: 1.0) is not None
    assert retry_delay(1, policy, remaining=100, rand=lambda: 1.0) is not None
    assert retry_delay(2, policy, remaining=100, rand=lambda: 1.0) is None


def test_retry_delay_honours_retry_after_within_limits() -> None:
    policy = RetryPolicy(max_retry_after=10)
    assert retry_delay(0, policy, retry_after=2.0, remaining=100) == 2.0
    assert retry_delay(0, policy, retry_after=11.0, remaining=100) is None
    assert retry_delay(0, policy, retry_after=5.0, remaining=4.0) is None


@given(retry=st.integers(0, 50), remaining=st.floats(0.0, 100.0), rand=st.floats(0.0, 1.0))
def test_retry_delay_never_exceeds_the_deadline(retry: int, remaining: float, rand: float) -> None:
    delay = retry_delay(
        retry, RetryPolicy(max_attempts=100), remaining=remaining, rand=lambda: rand
    )
    assert delay is None or 0.0 <= delay < remaining


def test_policy_rejects_nonsense() -> None:
    with pytest.raises(ValueError):
        RetryPolicy(max_attempts=0)
    with pytest.raises(ValueError):
        RetryPolicy(deadline=0)
    assert DEFAULT_RETRY.max_attempts >= 2


def test_deadline_counts_down_with_injected_clock() -> None:
    now = [100.0]
    deadline = Deadline(5.0, clock=lambda: now[0])
    assert deadline.remaining() == 5.0
    now[0] = 104.0
    assert deadline.remaining() == pytest.approx(1.0)
    assert not deadline.expired
    now[0] = 106.0
    assert deadline.remaining() == 0.0
    assert deadline.expired
