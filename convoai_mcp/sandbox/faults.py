"""Fault injection: per-route latency, error statuses, dropped connections, lost responses,
malformed bodies. Faults live on one :class:`~convoai_mcp.sandbox.Sandbox` instance (one
"region"), so failover tests can break one endpoint while another sharing the state works."""

from __future__ import annotations

import threading
from dataclasses import asdict, dataclass, field
from typing import Any, Literal, get_args

__all__ = ["OPERATIONS", "Fault", "FaultKind", "FaultSet"]

FaultKind = Literal["latency", "status", "drop", "lost_response", "malformed"]

OPERATIONS: tuple[str, ...] = (
    "agents.start",
    "agents.list",
    "agents.get",
    "agents.history",
    "agents.turns",
    "agents.stop",
    "agents.update",
    "agents.speak",
    "agents.interrupt",
    "agents.think",
    "calls.create",
    "calls.list",
    "calls.get",
    "calls.hangup",
    "numbers.list",
    "numbers.add",
    "numbers.get",
    "numbers.update",
    "numbers.delete",
)
"""Operation ids, usable as :attr:`Fault.route` (or ``"*"`` for every operation)."""

_KINDS: tuple[str, ...] = get_args(FaultKind)


@dataclass
class Fault:
    """One injected fault.

    - ``latency``: wait ``delay`` seconds, then answer normally (combines with any other fault).
    - ``status``: answer ``status`` (default 503) with the route's error body, the reason
      ``reason`` (default chosen from the status) and, if ``retry_after`` is set, a
      ``Retry-After`` header; nothing is performed.
    - ``drop``: close the connection without answering; nothing is performed.
    - ``lost_response``: perform the operation, then close the connection without answering.
    - ``malformed``: perform the operation, then answer 200 with a truncated JSON body.

    ``times`` is how many requests the fault hits before it is used up; ``None`` means forever.
    """

    route: str
    kind: FaultKind
    status: int = 503
    retry_after: float | None = None
    reason: str | None = None
    delay: float = 0.0
    times: int | None = None
    hits: int = field(default=0, compare=False)

    def __post_init__(self) -> None:
        if self.kind not in _KINDS:
            raise ValueError(
                f"unknown fault kind {self.kind!r}; expected one of {', '.join(_KINDS)}"
            )
        if self.route != "*" and self.route not in OPERATIONS:
            raise ValueError(
                f"unknown route {self.route!r}; "
                "expected '*' or an operation id such as 'agents.start'"
            )
        if not 100 <= self.status <= 599:
            raise ValueError(f"status {self.status} is not an HTTP status code")
        if self.delay < 0 or (self.retry_after is not None and self.retry_after < 0):
            raise ValueError("delay and retry_after must not be negative")
        if self.times is not None and self.times < 1:
            raise ValueError("times must be at least 1, or None for forever")

    def matches(self, operation: str) -> bool:
        """True if this fault applies to ``operation``."""
        return self.route in ("*", operation)

    def to_dict(self) -> dict[str, Any]:
        """A JSON-ready description (used by the admin endpoint)."""
        return asdict(self)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Fault:
        """Build a fault from the admin endpoint's JSON; raises ValueError / TypeError."""
        allowed = {"route", "kind", "status", "retry_after", "reason", "delay", "times"}
        unknown = set(data) - allowed
        if unknown:
            raise ValueError(f"unknown fault fields: {', '.join(sorted(unknown))}")
        return cls(**data)


@dataclass
class _Plan:
    """What the faults say should happen to one request."""

    delay: float = 0.0
    fault: Fault | None = None


class FaultSet:
    """The faults of one sandbox instance; thread-safe."""

    def __init__(self) -> None:
        self._faults: list[Fault] = []
        self._lock = threading.Lock()

    def add(self, fault: Fault) -> Fault:
        """Add a fault; returns it (its ``hits`` counts the requests it affected)."""
        with self._lock:
            self._faults.append(fault)
        return fault

    def clear(self, route: str | None = None) -> None:
        """Remove every fault, or only those set for ``route``."""
        with self._lock:
            self._faults = [] if route is None else [f for f in self._faults if f.route != route]

    def list(self) -> list[Fault]:
        """The faults still active."""
        with self._lock:
            return list(self._faults)

    def __len__(self) -> int:
        with self._lock:
            return len(self._faults)

    def take(self, operation: str) -> _Plan:
        """Consume the faults that hit one request for ``operation``.

        Every matching latency fault adds its delay; the first matching fault of another kind
        decides the outcome."""
        plan = _Plan()
        with self._lock:
            for fault in list(self._faults):
                if not fault.matches(operation):
                    continue
                if fault.kind == "latency":
                    plan.delay += fault.delay
                elif plan.fault is None:
                    plan.fault = fault
                    plan.delay += fault.delay
                else:
                    continue
                fault.hits += 1
                if fault.times is not None and fault.hits >= fault.times:
                    self._faults.remove(fault)
        return plan
