"""The emulated project's records: agents, their history entries and turns, calls.

Plain data with their JSON forms; the rules that create and change them live in
:mod:`.state`.
"""

from __future__ import annotations

import random
from collections import deque
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from .validation import AgentConfig

if TYPE_CHECKING:
    from .callees import Line

__all__ = ["MAX_TURNS_PER_AGENT", "AgentRecord", "CallRecord", "HistoryEntry", "TurnRecord"]

MAX_TURNS_PER_AGENT = 1000
"""Turns kept per agent (the oldest are dropped beyond)."""


def _unix_ms(seconds: float) -> int:
    return round(seconds * 1000)


@dataclass
class HistoryEntry:
    """One ``contents`` item of the history answer."""

    role: str
    content: str
    speech_start_ms: int
    speech_end_ms: int
    speech_algorithmic_delay: int

    def to_wire(self) -> dict[str, Any]:
        """The JSON item."""
        return {
            "role": self.role,
            "content": self.content,
            "speech_start_ms": self.speech_start_ms,
            "speech_end_ms": self.speech_end_ms,
            "speech_algorithmic_delay": self.speech_algorithmic_delay,
        }


@dataclass
class TurnRecord:
    """One conversation turn; ``end_type`` is final once ``end_at`` has passed."""

    turn_id: int
    start_at: float
    start_type: str
    start_metadata: dict[str, Any]
    end_at: float
    end_type: str
    end_metadata: dict[str, Any]
    e2e_latency_ms: int
    segments: list[dict[str, object]]
    speech_start: float
    entry: HistoryEntry | None = None
    interruptable: bool = True

    def to_wire(self, agent: AgentRecord, now: float) -> dict[str, Any]:
        """The JSON item; a turn still being spoken has ``end: null``. ``start_at`` /
        ``end_at`` are integer Unix milliseconds, as the service documents them (the record
        keeps seconds, like the rest of the emulator)."""
        end: dict[str, Any] | None = None
        if self.end_at <= now:
            end = {
                "end_at": _unix_ms(self.end_at),
                "type": self.end_type,
                "metadata": self.end_metadata,
            }
        return {
            "agent_id": agent.agent_id,
            "channel": agent.config.channel,
            "turn_id": self.turn_id,
            "start": {
                "start_at": _unix_ms(self.start_at),
                "type": self.start_type,
                "metadata": self.start_metadata,
            },
            "end": end,
            "metrics": {
                "e2e_latency_ms": self.e2e_latency_ms,
                "segmented_latency_ms": self.segments,
            },
        }


@dataclass
class AgentRecord:
    """One agent (started with ``join`` or by a call)."""

    agent_id: str
    seq: int
    config: AgentConfig
    created_at: float
    running_at: float
    rng: random.Random
    kind: str = "agent"
    stopped_at: float | None = None
    message: str = ""
    last_activity: float = 0.0
    speaking_until: float = 0.0
    greeted: bool = False
    history: deque[HistoryEntry] = field(default_factory=deque)
    turns: deque[TurnRecord] = field(default_factory=lambda: deque(maxlen=MAX_TURNS_PER_AGENT))
    turn_count: int = 0
    history_read_at: float | None = None
    """The clock's :meth:`~convoai_mcp.sandbox.state.SandboxState.advance` offset when the
    history was last read (``None``: never): tests wait for a reader to catch up."""

    def status(self, now: float) -> str:
        """The state name at ``now``."""
        if self.stopped_at is not None and now >= self.stopped_at:
            return "STOPPED"
        if now < self.running_at:
            return "STARTING"
        return "RUNNING"

    def ms(self, at: float) -> int:
        """Milliseconds since the agent started running (history timestamps)."""
        return max(0, round((at - self.running_at) * 1000))


@dataclass
class CallRecord:
    """One call; its agent has the same id."""

    agent_id: str
    seq: int
    channel: str
    to_number: str
    from_number: str
    pipeline_id: str | None
    type: str
    created_at: float
    answered_at: float
    stopped_at: float | None = None
    reason: str = "request"
    """Why the call ended: ``request`` (hung up through the API, or its agent left),
    ``hangup`` (the callee hung up), ``failed`` (not answered: no answer, busy, rejected)."""
    callee_ends_at: float | None = None
    """When the callee ends the call (hangs up, or the call fails), unless it ended before."""
    callee_reason: str = "request"
    callee_message: str = ""
    """The call's ``reason`` and its agent's ``message`` when the callee ends it."""
    says: tuple[Line, ...] = ()
    """The callee's scripted lines (seconds after answering); ``lines_said`` of them are said."""
    lines_said: int = 0

    def state(self, now: float) -> str | None:
        """``None`` until answered (the service's states are only ``answered`` and
        ``hangup``: a call not yet answered has no ``state``), then ``answered``, then
        ``hangup``."""
        if self.stopped_at is not None and now >= self.stopped_at:
            return "hangup"
        return "answered" if now >= self.answered_at else None

    def to_wire(self, now: float, *, with_reason: bool) -> dict[str, Any]:
        """The list item (and, with the end reason once it ended, the get answer). A call not
        yet answered has no ``state``; ``stop_ts`` is null until it ends."""
        stopped = self.stopped_at is not None and now >= self.stopped_at
        item: dict[str, Any] = {
            "agent_id": self.agent_id,
            "channel": self.channel,
            "to_number": self.to_number,
            "from_number": self.from_number,
            "pipeline_id": self.pipeline_id,
            "type": self.type,
            "state": self.state(now),
            "create_ts": int(self.created_at),
            "stop_ts": int(self.stopped_at) if stopped and self.stopped_at is not None else None,
        }
        if item["state"] is None:
            del item["state"]
        if with_reason and stopped:
            item["reason"] = self.reason
        return item
