"""The people the emulator's outbound calls reach: per-number callee behaviour.

A :class:`Callee` says what happens when a number is called: it answers after some seconds
(then maybe hangs up after some more, and says scripted lines at given moments), never answers
(the call fails after the ring timeout), is busy, or rejects the call. :class:`Callees` holds
one per number and a default for every other number (answer after the state's
``answer_delay``). Set them in process (``sandbox.state.callees.set(number, Callee(...))``) or
through the admin API (``PUT /_sandbox/callees/{number}``, see :mod:`.admin`).

What each outcome looks like through the REST API (the call's states and reasons are the ones
the official SDK declares: state ``answered`` / ``hangup``, reason ``request`` / ``hangup`` /
``failed``; the agent's ``message`` says more):

==============  ===============================  =========  ===============================
outcome         when the call ends               reason     the call's agent ``message``
==============  ===============================  =========  ===============================
answer          when hung up (API), or after     request /  "call hung up" / "the callee
                ``hang_up_after`` s of talk      hangup     hung up"
no_answer       after the ring timeout           failed     "no answer (rang N s: ring
                                                            timeout)"
busy            after ``after`` s (default 1)    failed     "busy"
reject          after ``after`` s of ringing     failed     "rejected by the callee"
==============  ===============================  =========  ===============================

Times are the emulator's own clock (:meth:`SandboxState.advance`): nothing here sleeps.
"""

from __future__ import annotations

import math
import threading
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any, Literal, get_args

__all__ = ["OUTCOMES", "Callee", "Callees", "Line"]

Outcome = Literal["answer", "no_answer", "busy", "reject"]
OUTCOMES: tuple[str, ...] = get_args(Outcome)

MAX_LINES = 100
"""Scripted lines per callee."""
MAX_CALLEES = 10_000
"""Numbers with their own behaviour."""
_MAX_TEXT = 2000
_MAX_SECONDS = 86400.0
_FIELDS = frozenset({"outcome", "after", "hang_up_after", "says"})


def _seconds(value: Any, name: str) -> float:
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise ValueError(f"{name} must be a number of seconds, got {value!r}")
    seconds = float(value)
    if not math.isfinite(seconds) or not 0 <= seconds <= _MAX_SECONDS:
        raise ValueError(f"{name} must be between 0 and {_MAX_SECONDS:g} seconds, got {value!r}")
    return seconds


@dataclass(frozen=True)
class Line:
    """Something the callee says, ``at`` seconds after answering."""

    at: float
    text: str

    def __post_init__(self) -> None:
        _seconds(self.at, "says[].at")
        if not isinstance(self.text, str) or not self.text.strip() or len(self.text) > _MAX_TEXT:
            raise ValueError(f"says[].text must be 1 to {_MAX_TEXT} characters of text")


@dataclass(frozen=True)
class Callee:
    """How the person at one number behaves; see the module docstring.

    ``after``: seconds of ringing before the outcome (answer / reject / busy; None: the
    state's ``answer_delay`` to answer or reject, 1 s to be busy; ignored for no_answer, which
    rings for the state's ring timeout). ``hang_up_after``: seconds after answering at which
    the callee hangs up (None: never). ``says``: lines the callee says after answering.
    """

    outcome: Outcome = "answer"
    after: float | None = None
    hang_up_after: float | None = None
    says: tuple[Line, ...] = field(default_factory=tuple)

    def __post_init__(self) -> None:
        if self.outcome not in OUTCOMES:
            raise ValueError(f"outcome must be one of {', '.join(OUTCOMES)}, got {self.outcome!r}")
        if self.after is not None:
            _seconds(self.after, "after")
        if self.hang_up_after is not None:
            _seconds(self.hang_up_after, "hang_up_after")
        if len(self.says) > MAX_LINES:
            raise ValueError(f"says holds at most {MAX_LINES} lines")
        object.__setattr__(self, "says", tuple(sorted(self.says, key=lambda line: line.at)))

    @classmethod
    def answers(
        cls,
        after: float | None = None,
        *,
        hang_up_after: float | None = None,
        says: Iterable[tuple[float, str]] = (),
    ) -> Callee:
        """A callee who answers (``says``: (seconds after answering, text) pairs)."""
        lines = tuple(Line(at, text) for at, text in says)
        return cls("answer", after=after, hang_up_after=hang_up_after, says=lines)

    @classmethod
    def from_dict(cls, data: Any) -> Callee:
        """From the admin API's JSON; ValueError says what is wrong."""
        if not isinstance(data, Mapping):
            raise ValueError('send a callee object, e.g. {"outcome": "answer", "after": 2}')
        unknown = sorted(set(data) - _FIELDS)
        if unknown:
            raise ValueError(f"unknown callee fields {unknown}; known: {sorted(_FIELDS)}")
        says = data.get("says") or []
        if not isinstance(says, list) or not all(isinstance(x, Mapping) for x in says):
            raise ValueError('says must be a list of {"at": seconds, "text": "..."}')
        lines = tuple(Line(_seconds(x.get("at", 0), "says[].at"), x.get("text")) for x in says)
        after, hang_up = data.get("after"), data.get("hang_up_after")
        return cls(
            outcome=data.get("outcome", "answer"),
            after=None if after is None else _seconds(after, "after"),
            hang_up_after=None if hang_up is None else _seconds(hang_up, "hang_up_after"),
            says=lines,
        )

    def to_dict(self) -> dict[str, Any]:
        """The admin API's JSON form."""
        return {
            "outcome": self.outcome,
            "after": self.after,
            "hang_up_after": self.hang_up_after,
            "says": [{"at": line.at, "text": line.text} for line in self.says],
        }


class Callees:
    """The callee behaviour of each number, and the default for the others."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._numbers: dict[str, Callee] = {}
        self.default = Callee()

    def set(self, number: str, callee: Callee) -> None:
        """``number`` (E.164, or ``"default"`` for every other number) behaves as ``callee``."""
        with self._lock:
            if number == "default":
                self.default = callee
                return
            if number not in self._numbers and len(self._numbers) >= MAX_CALLEES:
                raise ValueError(f"at most {MAX_CALLEES} numbers have their own callee")
            self._numbers[number] = callee

    def remove(self, number: str) -> None:
        """``number`` behaves as the default again (``"default"``: the plain default)."""
        with self._lock:
            if number == "default":
                self.default = Callee()
            else:
                self._numbers.pop(number, None)

    def clear(self) -> None:
        """Forget every number's behaviour and restore the plain default."""
        with self._lock:
            self._numbers.clear()
            self.default = Callee()

    def get(self, number: str) -> Callee:
        """How ``number`` behaves."""
        with self._lock:
            return self._numbers.get(number, self.default)

    def to_dict(self) -> dict[str, Any]:
        """The admin API's JSON form: the default and every number's own behaviour."""
        with self._lock:
            return {
                "default": self.default.to_dict(),
                "numbers": {n: c.to_dict() for n, c in sorted(self._numbers.items())},
            }
