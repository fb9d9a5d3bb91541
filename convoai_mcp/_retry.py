"""Retry policy and backoff, as pure functions (no I/O, no sleeping).

The client decides *whether* an outcome may be retried (it knows if a request is idempotent);
this module says *how long* to wait: capped exponential backoff with full jitter, or the
service's ``Retry-After`` (seconds or an HTTP date), all within one overall deadline.
"""

from __future__ import annotations

import random
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from email.utils import parsedate_to_datetime
from typing import Literal

__all__ = [
    "DEFAULT_RETRY",
    "NO_RETRY",
    "RETRYABLE_STATUSES",
    "Attempts",
    "Deadline",
    "Mode",
    "RetryPolicy",
    "backoff_delay",
    "is_retryable_status",
    "parse_retry_after",
    "retry_delay",
]

Mode = Literal["idempotent", "once", "create"]
"""How a request may be retried: ``idempotent`` (any retryable failure), ``once`` (speak /
interrupt / think: only when it certainly did not run), ``create`` (join / call: the agent name
makes a retry safe)."""

RETRYABLE_STATUSES = frozenset({408, 429, 500, 502, 503, 504})
"""Statuses worth another try: timeouts, rate limits and server failures (not 501/505)."""


@dataclass(frozen=True)
class RetryPolicy:
    """How hard to try.

    ``max_attempts`` counts every attempt, failovers included; ``deadline`` bounds the whole call
    (attempts, waits and failovers) in seconds; backoff before attempt ``n`` (0-based retry count)
    is uniform in ``[0, min(max_delay, base_delay * 2**n)]``; a ``Retry-After`` above
    ``max_retry_after`` ends the retries instead of waiting.
    """

    max_attempts: int = 4
    deadline: float = 30.0
    base_delay: float = 0.25
    max_delay: float = 4.0
    max_retry_after: float = 20.0

    def __post_init__(self) -> None:
        if self.max_attempts < 1:
            raise ValueError("max_attempts must be at least 1")
        if self.deadline <= 0 or self.base_delay < 0 or self.max_delay < 0:
            raise ValueError("deadline must be positive and delays non-negative")


DEFAULT_RETRY = RetryPolicy()
NO_RETRY = RetryPolicy(max_attempts=1)


def is_retryable_status(status: int) -> bool:
    """True for 408, 429, 500, 502, 503, 504."""
    return status in RETRYABLE_STATUSES


def backoff_delay(
    retry: int, policy: RetryPolicy, *, rand: Callable[[], float] = random.random
) -> float:
    """Full-jitter backoff before retry number ``retry`` (0 for the first retry)."""
    exponent = min(max(retry, 0), 62)
    ceiling = min(policy.max_delay, policy.base_delay * (2.0**exponent))
    return ceiling * rand()


def parse_retry_after(value: str | None, *, now: float | None = None) -> float | None:
    """Seconds to wait from a ``Retry-After`` value (delta seconds or HTTP date), or None.

    Negative or past values become 0; unparseable values give None.
    """
    if value is None:
        return None
    value = value.strip()
    if not value:
        return None
    try:
        seconds = float(value)
    except ValueError:
        pass
    else:
        if seconds != seconds or seconds in (float("inf"), float("-inf")):
            return None
        return max(0.0, seconds)
    try:
        when = parsedate_to_datetime(value)
    except (TypeError, ValueError, IndexError):
        return None
    if when.tzinfo is None:
        return None
    current = time.time() if now is None else now
    return max(0.0, when.timestamp() - current)


def retry_delay(
    retry: int,
    policy: RetryPolicy,
    *,
    retry_after: float | None = None,
    remaining: float,
    rand: Callable[[], float] = random.random,
) -> float | None:
    """How long to wait before retry number ``retry``, or None to give up.

    Gives up when attempts are exhausted (``retry + 1 >= max_attempts``), when ``Retry-After``
    exceeds ``max_retry_after``, or when the wait would not leave time for another attempt.
    """
    if retry + 1 >= policy.max_attempts:
        return None
    if retry_after is not None:
        if retry_after > policy.max_retry_after:
            return None
        delay = retry_after
    else:
        delay = backoff_delay(retry, policy, rand=rand)
    if delay >= remaining:
        return None
    return delay


@dataclass
class Attempts:
    """What happened to the attempts of one logical request (filled in by the client)."""

    count: int = 0
    ambiguous: bool = False
    """True once an attempt may have been performed although its answer was lost."""
    tried: set[str] = field(default_factory=set)
    """Base URLs tried so far."""


class Deadline:
    """One overall time budget, measured with an injectable monotonic clock."""

    def __init__(self, seconds: float, *, clock: Callable[[], float] = time.monotonic) -> None:
        self._clock = clock
        self._end = clock() + seconds

    def remaining(self) -> float:
        """Seconds left (never negative)."""
        return max(0.0, self._end - self._clock())

    @property
    def expired(self) -> bool:
        """True once the budget is spent."""
        return self.remaining() <= 0.0
