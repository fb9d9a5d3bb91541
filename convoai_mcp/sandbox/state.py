"""The emulated project in memory: agents, their conversations, calls and phone numbers.

The records themselves are in :mod:`.records` and the phone-number rules in :mod:`.numbers`;
this module holds the state and the operations that change it.

Pure and synchronous: every operation takes the time from the state's clock and advances
agents and calls lazily (STARTING → RUNNING after ``start_delay``, a call answered after
``answer_delay``, an idle agent stopped after ``idle_timeout``), so tests drive time with
:meth:`SandboxState.advance` or an injected clock and never sleep. Bounded: stopped agents and
ended calls beyond the caps (or older than the 7-day turn retention) are evicted.
Several sandbox instances may share one state (failover tests); a lock guards it.
"""

from __future__ import annotations

import math
import random
import threading
import time
from collections.abc import Callable, Mapping
from typing import Any, TypeVar

from .callees import Callees
from .conversation import reply_to, speech_seconds, stage_latencies
from .errors import SandboxError, bad_request, not_found
from .numbers import (
    MAX_NUMBERS,
    apply_number_changes,
    number_not_found,
    seed_numbers,
    validate_number_record,
)
from .records import AgentRecord, CallRecord, HistoryEntry, TurnRecord
from .validation import AgentConfig, CallConfig, validate_e164

__all__ = [
    "AGENT_STATES",
    "AgentRecord",
    "CallRecord",
    "HistoryEntry",
    "SandboxState",
    "TurnRecord",
]

AGENT_STATES: tuple[str, ...] = (
    "IDLE",
    "STARTING",
    "RUNNING",
    "STOPPING",
    "STOPPED",
    "RECOVERING",
    "FAILED",
)
"""Agent state names by their numeric code (the ``state`` filter of list agents)."""

_ID_ALPHABET = "ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789"
_TURN_RETENTION = 7 * 86400.0
_STATUS_MESSAGES = {"STARTING": "agent is starting", "RUNNING": "agent is running"}
"""The ``message`` of a live agent; a stopped one says why it stopped."""
_AGENT_LIST_WINDOW = 2 * 3600
_API_CAUSES = frozenset({"api_speak", "api_interrupt"})
"""Turn end causes that carry the request's ``transport``, as the service documents."""
_CALL_LIST_WINDOW = 60 * 86400

_Listed = TypeVar("_Listed", AgentRecord, CallRecord)


def _list_answer(
    matched: list[_Listed],
    records: Mapping[str, _Listed],
    *,
    cursor: str | None,
    limit: int,
    item: Callable[[_Listed], dict[str, Any]],
) -> dict[str, Any]:
    """The list answer for ``matched`` (newest first): the page that starts at ``cursor`` (the
    ``agent_id`` of its first item, as the service documents it), the total, the next cursor
    (always present: ``""`` on the last page, as the official SDKs show and test for)."""
    first = None
    if cursor:
        start = records.get(cursor)
        if start is None:
            raise bad_request(
                "cursor", "is not a cursor returned by this list (or its item is gone)"
            )
        first = start.seq
    remaining = [r for r in matched if first is None or r.seq <= first]
    items = [item(r) for r in remaining[:limit]]
    meta: dict[str, Any] = {
        "cursor": remaining[limit].agent_id if len(remaining) > limit else "",
        "total": len(matched),
    }
    return {"data": {"count": len(items), "list": items}, "meta": meta, "status": "ok"}


class SandboxState:
    """All mutable state of the emulated project.

    ``clock`` gives Unix seconds; :meth:`advance` moves the state's time forward on top of it.
    ``start_delay`` / ``answer_delay`` are seconds until a new agent runs / a call is answered.
    ``max_agents`` / ``max_calls`` cap the kept records (stopped ones are evicted first);
    ``max_active`` caps agents not yet stopped (429 ``ConcurrencyLimitExceeded`` beyond).
    ``callees`` says how the person at each called number behaves (:mod:`.callees`);
    ``ring_timeout`` is how long a call that nobody answers rings before it fails.
    """

    def __init__(
        self,
        *,
        seed: int = 0,
        clock: Callable[[], float] = time.time,
        start_delay: float = 0.0,
        answer_delay: float = 0.2,
        max_agents: int = 1000,
        max_calls: int = 1000,
        max_active: int = 200,
        ring_timeout: float = 60.0,
    ) -> None:
        self.seed = seed
        self.clock = clock
        self.start_delay = start_delay
        self.answer_delay = answer_delay
        self.max_agents = max_agents
        self.max_calls = max_calls
        self.max_active = max_active
        self.ring_timeout = ring_timeout
        self.callees = Callees()
        self.offset = 0.0
        self.lock = threading.RLock()
        self._rng = random.Random(seed)
        self._seq = 0
        self.agents: dict[str, AgentRecord] = {}
        self.calls: dict[str, CallRecord] = {}
        self.numbers: dict[str, dict[str, Any]] = seed_numbers()
        self.listeners: list[Callable[[], None]] = []
        """Called (without the lock) after time moved and after each request the sandbox
        answered: e.g. its webhook delivery (:mod:`.webhooks`) looks for what happened."""

    # ----- time -----------------------------------------------------------------------------

    def now(self) -> float:
        """The state's current time (clock plus :meth:`advance` offset)."""
        return self.clock() + self.offset

    def advance(self, seconds: float) -> float:
        """Move time forward by ``seconds``; returns the new time."""
        if not math.isfinite(seconds) or seconds < 0:
            raise ValueError(f"time only moves forward by a finite amount, got {seconds!r}")
        with self.lock:
            self.offset += seconds
            now = self.now()
        self.changed()
        return now

    def changed(self) -> None:
        """Tell the :attr:`listeners` that something may have happened."""
        for listener in list(self.listeners):
            listener()

    def settle(self) -> float:
        """Apply what happened by now to every agent (greetings, callee lines, idle timeouts,
        calls that failed); returns the time. Call with :attr:`lock` held to read the records
        as they are at that time."""
        with self.lock:
            now = self.now()
            for agent in self.agents.values():
                self._refresh(agent, now)
            return now

    # ----- internals ------------------------------------------------------------------------

    def _new_id(self) -> str:
        while True:
            agent_id = "".join(self._rng.choice(_ID_ALPHABET) for _ in range(32))
            if agent_id not in self.agents:
                return agent_id

    def _next_seq(self) -> int:
        self._seq += 1
        return self._seq

    def _refresh(self, agent: AgentRecord, now: float) -> None:
        """Apply what happened by ``now``: a call that failed unanswered, the greeting, what
        the callee said and did, an idle timeout."""
        call = self.calls.get(agent.agent_id) if agent.kind == "call" else None
        end = call.callee_ends_at if call is not None else None
        unanswered = end is not None and end <= min(now, agent.running_at)
        if call is not None and call.stopped_at is None and end is not None and unanswered:
            self._stop(agent, end, call.callee_message)  # before it was answered: no greeting
            call.reason = call.callee_reason
        if (
            not agent.greeted
            and now >= agent.running_at
            and (agent.stopped_at is None or agent.stopped_at > agent.running_at)
        ):
            agent.greeted = True
            if agent.config.greeting:
                self._say(
                    agent,
                    agent.running_at,
                    agent.config.greeting,
                    "greeting",
                    {"greeting_nth": 1},
                )
            agent.last_activity = agent.running_at
        if call is not None and call.stopped_at is None:
            self._callee_acts(agent, call, now)
        idle = agent.config.idle_timeout
        if agent.stopped_at is None and idle and agent.greeted:
            deadline = max(agent.last_activity, agent.speaking_until) + idle
            if now >= deadline:
                self._stop(agent, deadline, f"stopped after {idle} s idle (idle_timeout)")

    def _callee_acts(self, agent: AgentRecord, call: CallRecord, now: float) -> None:
        """What the callee did by ``now``: its scripted lines, then its hang-up (or the
        failure of a call it never answered)."""
        end = call.callee_ends_at
        while call.lines_said < len(call.says):
            line = call.says[call.lines_said]
            at = call.answered_at + line.at
            if at > now or (end is not None and at >= end) or agent.stopped_at is not None:
                break
            call.lines_said += 1
            self._user_turn(agent, line.text, at)
        if end is not None and end <= now and agent.stopped_at is None:
            self._stop(agent, end, call.callee_message)
            call.reason = call.callee_reason

    def _user_turn(self, agent: AgentRecord, text: str, at: float) -> None:
        """The user (or callee) says ``text``, ending at ``at`` (barging in if the agent
        talks); the agent answers with a ``voice_input`` turn."""
        user, duration = self._user_entry(agent, text, at)
        self._remember(agent, user)
        self._interrupt_at(agent, at, "start_of_speech", by_user=True)
        meta = {"speech_duration_ms": round(duration * 1000), "transport": "rtc"}
        self._say(
            agent,
            max(at, agent.speaking_until),
            reply_to(text, agent.rng),
            "voice_input",
            meta,
            stages=("asr", "llm", "tts"),
        )
        agent.last_activity = max(agent.last_activity, at)

    def _interrupt_at(
        self, agent: AgentRecord, at: float, caused_by: str, *, by_user: bool = False
    ) -> None:
        """Cut speech still going on at ``at``; the user cannot cut ``interruptable: false``."""
        for turn in agent.turns:
            protected = by_user and not turn.interruptable
            if turn.end_at > at and turn.end_type == "ok" and not protected:
                played = max(0.0, at - turn.speech_start)
                turn.end_at = round(max(at, turn.start_at), 3)
                turn.end_type = "interrupted"
                turn.end_metadata = {
                    "playback_duration_ms": round(played * 1000),
                    "caused_by": caused_by,
                }
                if caused_by in _API_CAUSES:
                    turn.end_metadata["transport"] = "http"
                if turn.entry is not None:
                    turn.entry.speech_end_ms = agent.ms(max(at, turn.speech_start))
        agent.speaking_until = max([at, *(t.end_at for t in agent.turns)]) if agent.turns else at

    def _stop(self, agent: AgentRecord, at: float, message: str) -> None:
        self._interrupt_at(agent, at, "api_leave")
        agent.stopped_at = at
        agent.message = message
        call = self.calls.get(agent.agent_id)
        if call is not None and call.stopped_at is None:
            call.stopped_at = at
            call.reason = "request"  # the agent's side ended it

    def _say(
        self,
        agent: AgentRecord,
        start: float,
        text: str,
        start_type: str,
        start_metadata: dict[str, Any],
        *,
        stages: tuple[str, ...] = ("tts",),
        interruptable: bool = True,
    ) -> TurnRecord:
        """Schedule assistant speech of ``text`` from ``start`` (after the stage latencies)."""
        rng = agent.rng
        latency = stage_latencies(rng)
        speech_start = start + latency.total(stages) / 1000
        duration = speech_seconds(text, rng)
        entry = HistoryEntry(
            "assistant", text, agent.ms(speech_start), agent.ms(speech_start + duration), 0
        )
        self._remember(agent, entry)
        agent.turn_count += 1
        turn = TurnRecord(
            turn_id=agent.turn_count,
            start_at=round(start, 3),
            start_type=start_type,
            start_metadata=start_metadata,
            end_at=round(speech_start + duration, 3),
            end_type="ok",
            end_metadata={"playback_duration_ms": round(duration * 1000)},
            e2e_latency_ms=latency.total(stages),
            segments=latency.segments(stages),
            speech_start=speech_start,
            entry=entry,
            interruptable=interruptable,
        )
        agent.turns.append(turn)
        agent.speaking_until = max(agent.speaking_until, turn.end_at)
        return turn

    @staticmethod
    def _user_entry(agent: AgentRecord, text: str, end: float) -> tuple[HistoryEntry, float]:
        """The user's history entry for ``text`` ending at ``end``, and how long it was said."""
        duration = speech_seconds(text, agent.rng)
        delay = agent.rng.randint(160, 480)
        return HistoryEntry("user", text, agent.ms(end - duration), agent.ms(end), delay), duration

    def _remember(self, agent: AgentRecord, entry: HistoryEntry) -> None:
        agent.history.append(entry)
        while len(agent.history) > agent.config.max_history:
            agent.history.popleft()

    def _ignored_turn(
        self, agent: AgentRecord, at: float, start_type: str, meta: dict[str, Any]
    ) -> None:
        agent.turn_count += 1
        agent.turns.append(
            TurnRecord(
                turn_id=agent.turn_count,
                start_at=round(at, 3),
                start_type=start_type,
                start_metadata=meta,
                end_at=round(at, 3),
                end_type="ignored",
                end_metadata={"caused_by": "disable"},
                e2e_latency_ms=0,
                segments=[],
                speech_start=at,
            )
        )

    def _live(self, agent_id: str, now: float) -> AgentRecord:
        agent = self.agents.get(agent_id)
        if agent is None:
            raise not_found("agent", agent_id)
        self._refresh(agent, now)
        if agent.status(now) == "STOPPED":
            raise not_found("agent", agent_id)
        return agent

    def _evict(self, now: float) -> None:
        for agent_id, agent in list(self.agents.items()):
            if agent.stopped_at is not None and now - agent.stopped_at > _TURN_RETENTION:
                del self.agents[agent_id]
        excess = len(self.agents) - self.max_agents
        if excess > 0:
            for agent_id, agent in list(self.agents.items()):
                if excess <= 0:
                    break
                self._refresh(agent, now)
                if agent.stopped_at is not None and agent.stopped_at <= now:
                    del self.agents[agent_id]
                    excess -= 1
        excess = len(self.calls) - self.max_calls
        if excess > 0:
            for agent_id, call in list(self.calls.items()):
                if excess <= 0:
                    break
                if call.stopped_at is not None and call.stopped_at <= now:
                    del self.calls[agent_id]
                    excess -= 1

    def _create_agent(
        self, config: AgentConfig, now: float, *, running_at: float, kind: str
    ) -> AgentRecord:
        for other in self.agents.values():
            if other.config.name == config.name:
                self._refresh(other, now)
                if other.status(now) != "STOPPED":
                    raise SandboxError(
                        409,
                        "TaskConflict",
                        f"an agent named {config.name!r} is already running ({other.agent_id}); "
                        "stop it or pick another name",
                        extra={"agent_id": other.agent_id},
                    )
        active = sum(1 for a in self.agents.values() if a.status(now) != "STOPPED")
        if active >= self.max_active:
            raise SandboxError(
                429, "ConcurrencyLimitExceeded", f"at most {self.max_active} agents may run at once"
            )
        agent_id = self._new_id()
        agent = AgentRecord(
            agent_id=agent_id,
            seq=self._next_seq(),
            config=config,
            created_at=now,
            running_at=running_at,
            rng=random.Random(f"{self.seed}:{agent_id}"),
            kind=kind,
            last_activity=running_at,
        )
        self.agents[agent_id] = agent
        self._evict(now)
        return agent

    # ----- agents ---------------------------------------------------------------------------

    def start_agent(self, config: AgentConfig) -> dict[str, Any]:
        """``join``: create an agent; 409 ``TaskConflict`` if the name is taken by a live agent."""
        with self.lock:
            now = self.now()
            agent = self._create_agent(config, now, running_at=now + self.start_delay, kind="agent")
            return {"agent_id": agent.agent_id, "create_ts": int(now), "status": "STARTING"}

    def get_agent(self, agent_id: str) -> dict[str, Any]:
        """``GET agents/{id}``: also answers for stopped agents still kept."""
        with self.lock:
            now = self.now()
            agent = self.agents.get(agent_id)
            if agent is None:
                raise not_found("agent", agent_id)
            self._refresh(agent, now)
            status = agent.status(now)
            stopped_at = agent.stopped_at if status == "STOPPED" else None
            return {
                "agent_id": agent.agent_id,
                "start_ts": int(agent.created_at),
                "stop_ts": None if stopped_at is None else int(stopped_at),
                "status": status,
                "message": _STATUS_MESSAGES.get(status, agent.message),
            }

    def list_agents(
        self,
        *,
        channel: str | None = None,
        state: int | set[int] | None = None,
        from_time: float | None = None,
        to_time: float | None = None,
        limit: int = 20,
        cursor: str | None = None,
    ) -> dict[str, Any]:
        """``GET agents``: newest first, filtered (``state``: one state number or a set of
        them), cursor-paged."""
        states = {state} if isinstance(state, int) else state
        names = None if states is None else {AGENT_STATES[n] for n in states}
        with self.lock:
            now = self.now()
            low = from_time if from_time is not None else int(now) - _AGENT_LIST_WINDOW
            high = to_time if to_time is not None else int(now) + 1
            matched: list[AgentRecord] = []
            for agent in sorted(self.agents.values(), key=lambda a: a.seq, reverse=True):
                self._refresh(agent, now)
                if channel is not None and agent.config.channel != channel:
                    continue
                if names is not None and agent.status(now) not in names:
                    continue
                if not low <= int(agent.created_at) <= high:
                    continue
                matched.append(agent)
            return _list_answer(
                matched,
                self.agents,
                cursor=cursor,
                limit=limit,
                item=lambda a: {
                    "agent_id": a.agent_id,
                    "start_ts": int(a.created_at),
                    "status": a.status(now),
                },
            )

    def stop_agent(self, agent_id: str) -> None:
        """``leave``: 404 if unknown or already stopped."""
        with self.lock:
            now = self.now()
            agent = self._live(agent_id, now)
            self._stop(agent, now, "stopped by a leave request")

    def history(self, agent_id: str) -> dict[str, Any]:
        """``history``: only while the agent is not stopped; its ``status`` is ``RUNNING``,
        the only value the service documents for this answer."""
        with self.lock:
            now = self.now()
            agent = self._live(agent_id, now)
            agent.history_read_at = self.offset
            return {
                "agent_id": agent.agent_id,
                "start_ts": int(agent.created_at),
                "status": "RUNNING",
                "contents": [entry.to_wire() for entry in agent.history],
            }

    def history_unread(self) -> list[str]:
        """The running agents whose history nobody read since the clock last moved
        (:meth:`advance`): a test that moves the clock waits for this to be empty, so that a
        reader (a server's watcher) saw every line before an agent ends and its history is
        gone."""
        with self.lock:
            now = self.now()
            return [
                agent.agent_id
                for agent in self.agents.values()
                if agent.status(now) == "RUNNING" and agent.history_read_at != self.offset
            ]

    def turns(self, agent_id: str, *, page_index: int = 1, page_size: int = 10) -> dict[str, Any]:
        """``turns``: also after the agent stopped (until evicted), paged from 1."""
        with self.lock:
            now = self.now()
            agent = self.agents.get(agent_id)
            if agent is None:
                raise not_found("agent", agent_id)
            self._refresh(agent, now)
            visible = [t for t in agent.turns if t.start_at <= now]
            total_pages = max(1, -(-len(visible) // page_size))
            start = (page_index - 1) * page_size
            page = visible[start : start + page_size]
            return {
                "agent_id": agent.agent_id,
                "name": agent.config.name,
                "channel": agent.config.channel,
                "total_turn_count": len(visible),
                "pagination": {
                    "page_index": page_index,
                    "total_pages": total_pages,
                    "is_last_page": page_index >= total_pages,
                },
                "turns": [t.to_wire(agent, now) for t in page],
            }

    def update_agent(self, agent_id: str, properties: dict[str, Any]) -> dict[str, Any]:
        """``update``: set ``token``, and ``llm.system_messages`` / ``llm.params`` /
        ``mllm.params`` where given. A given ``params`` object replaces the one the agent was
        started with (it is not merged): the service documents that an update overwrites it,
        so the caller sends the complete object."""
        with self.lock:
            now = self.now()
            agent = self._live(agent_id, now)
            props = agent.config.properties
            if "token" in properties:
                agent.config.token = str(properties["token"])
                props["token"] = agent.config.token
            for stage in ("llm", "mllm"):
                update = properties.get(stage)
                if isinstance(update, dict):
                    current = props.get(stage)
                    merged = dict(current) if isinstance(current, dict) else {}
                    if "system_messages" in update:
                        merged["system_messages"] = update["system_messages"]
                    if isinstance(update.get("params"), dict):
                        merged["params"] = dict(update["params"])
                    props[stage] = merged
            agent.last_activity = max(agent.last_activity, now)
            return {
                "agent_id": agent.agent_id,
                "create_ts": int(agent.created_at),
                "status": agent.status(now),
            }

    def _action(self, agent: AgentRecord, now: float) -> dict[str, Any]:
        agent.last_activity = max(agent.last_activity, now)
        return {"agent_id": agent.agent_id, "channel": agent.config.channel, "start_ts": int(now)}

    def speak(
        self, agent_id: str, text: str, priority: str = "INTERRUPT", interruptable: bool = True
    ) -> dict[str, Any]:
        """``speak``: INTERRUPT cuts current speech, APPEND queues, IGNORE drops it if busy."""
        with self.lock:
            now = self.now()
            agent = self._live(agent_id, now)
            if agent.config.mllm:
                raise SandboxError(
                    400, "NotImplemented", "speak is not supported for MLLM (realtime) agents"
                )
            at = max(now, agent.running_at)
            busy = agent.speaking_until > at
            meta = {"transport": "http"}
            if busy and priority == "IGNORE":
                self._ignored_turn(agent, at, "api_speak", meta)
            else:
                if busy and priority == "INTERRUPT":
                    self._interrupt_at(agent, at, "api_speak")
                start = agent.speaking_until if busy and priority == "APPEND" else at
                self._say(agent, start, text, "api_speak", meta, interruptable=interruptable)
            return self._action(agent, now)

    def interrupt(self, agent_id: str) -> dict[str, Any]:
        """``interrupt``: cut whatever the agent is saying."""
        with self.lock:
            now = self.now()
            agent = self._live(agent_id, now)
            self._interrupt_at(agent, now, "api_interrupt")
            return self._action(agent, now)

    def think(
        self,
        agent_id: str,
        text: str,
        listening_action: str = "interrupt",
        metadata: dict[str, str] | None = None,
        speaking_action: str | None = None,
    ) -> dict[str, Any]:
        """``think``: the text goes to the (canned) LLM as a user message; the agent answers.

        ``metadata`` is accepted (the real service passes it to the LLM) and otherwise unused."""
        with self.lock:
            now = self.now()
            agent = self._live(agent_id, now)
            at = max(now, agent.running_at)
            busy = agent.speaking_until > at
            action = (speaking_action or "interrupt") if busy else listening_action
            meta: dict[str, Any] = {"speech_duration_ms": 0}  # text, not speech
            user, _ = self._user_entry(agent, text, at)
            if busy and action == "ignore":
                self._ignored_turn(agent, at, "voice_input", meta)
                return self._action(agent, now)
            self._remember(agent, user)
            if action != "inject" or busy:
                if busy and action == "interrupt":
                    self._interrupt_at(agent, at, "start_of_speech")  # new input cut it
                start = agent.speaking_until if busy and action == "append" else at
                reply = reply_to(text, agent.rng)
                self._say(agent, start, reply, "voice_input", meta, stages=("asr", "llm", "tts"))
            return self._action(agent, now)

    def user_says(self, agent_id: str, text: str) -> dict[str, Any]:
        """Simulate the remote user speaking ``text`` (barging in if the agent talks); the agent
        answers with a ``voice_input`` turn. Not part of the REST API: admin / tests only."""
        with self.lock:
            now = self.now()
            agent = self._live(agent_id, now)
            self._user_turn(agent, text, max(now, agent.running_at))
            return self._action(agent, now)

    # ----- telephony ------------------------------------------------------------------------

    def inbound_call(self, from_number: str, to_number: str) -> dict[str, Any]:
        """Simulate a call to one of the project's inbound numbers; it is answered at once by an
        agent on the number's inbound pipeline. Not part of the REST API: admin / tests only."""
        validate_e164(from_number, "from_number")
        validate_e164(to_number, "to_number")
        with self.lock:
            now = self.now()
            number = self.numbers.get(to_number)
            if number is None or not number.get("inbound"):
                raise bad_request("to_number", f"{to_number} is not an inbound-enabled number")
            config = number.get("inbound_config")
            pipeline = config.get("pipeline_id") if isinstance(config, dict) else None
            seq = self._seq + 1
            agent_config = AgentConfig(
                name=f"inbound-{seq}",
                channel=f"inbound-{seq}",
                agent_uid="1001",
                remote_uids=["2001"],  # the caller (the SIP side)
                token="",
                greeting="Hello, you have reached the sandbox. How can I help?",
                pipeline_id=str(pipeline) if pipeline else None,
            )
            return self._open_call(
                agent_config, now, answered_at=now, to_number=to_number, from_number=from_number
            )

    def create_call(self, call: CallConfig) -> dict[str, Any]:
        """``call``: the from-number must be one of the project's outbound numbers. The callee
        at ``to_number`` behaves as :attr:`callees` says (answers, or not, says its lines)."""
        with self.lock:
            now = self.now()
            number = self.numbers.get(call.from_number)
            if number is None or not number.get("outbound"):
                raise bad_request(
                    "sip.from_number",
                    f"{call.from_number} is not one of this project's outbound-enabled numbers",
                )
            callee = self.callees.get(call.to_number)
            ring = self.answer_delay if callee.after is None else callee.after
            answered_at, ends_at, reason, message = now + ring, None, "request", ""
            if callee.outcome == "answer" and callee.hang_up_after is not None:
                ends_at, reason = answered_at + callee.hang_up_after, "hangup"
                message = "the callee hung up"
            elif callee.outcome == "no_answer":
                ends_at, reason = now + self.ring_timeout, "failed"
                message = f"no answer (rang {self.ring_timeout:g} s: ring timeout)"
            elif callee.outcome == "busy":
                ends_at, reason, message = now + (callee.after or 1.0), "failed", "busy"
            elif callee.outcome == "reject":
                ends_at, reason, message = answered_at, "failed", "rejected by the callee"
            if callee.outcome != "answer":
                answered_at = ends_at if ends_at is not None else answered_at  # never answered
            answer = self._open_call(
                call.agent,
                now,
                answered_at=answered_at,
                to_number=call.to_number,
                from_number=call.from_number,
                outbound=True,
            )
            record = self.calls[answer["agent_id"]]
            record.callee_ends_at, record.callee_reason = ends_at, reason
            record.callee_message = message
            record.says = callee.says if callee.outcome == "answer" else ()
            return answer

    def _open_call(
        self,
        config: AgentConfig,
        now: float,
        *,
        answered_at: float,
        to_number: str,
        from_number: str,
        outbound: bool = False,
    ) -> dict[str, Any]:
        """Start the call's agent (it runs once the call is answered) and record the call."""
        agent = self._create_agent(config, now, running_at=answered_at, kind="call")
        self.calls[agent.agent_id] = CallRecord(
            agent_id=agent.agent_id,
            seq=agent.seq,
            channel=config.channel,
            to_number=to_number,
            from_number=from_number,
            pipeline_id=config.pipeline_id,
            type="outbound" if outbound else "inbound",
            created_at=now,
            answered_at=answered_at,
        )
        self._evict(now)
        return {"agent_id": agent.agent_id}

    def _call(self, agent_id: str, now: float) -> CallRecord:
        call = self.calls.get(agent_id)
        if call is None:
            raise not_found("call", agent_id)
        agent = self.agents.get(agent_id)
        if agent is not None:
            self._refresh(agent, now)
        return call

    def get_call(self, agent_id: str) -> dict[str, Any]:
        """``GET calls/{id}``."""
        with self.lock:
            now = self.now()
            return self._call(agent_id, now).to_wire(now, with_reason=True)

    def hangup(self, agent_id: str) -> None:
        """``hangup``: the call ends with reason ``request`` (actively hung up) and its agent
        stops."""
        with self.lock:
            now = self.now()
            call = self._call(agent_id, now)
            if call.state(now) == "hangup":
                raise not_found("call", agent_id)
            agent = self.agents.get(agent_id)
            if agent is not None and agent.stopped_at is None:
                self._stop(agent, now, "call hung up")
            call.stopped_at = now
            call.reason = "request"

    def list_calls(
        self,
        *,
        number: str | None = None,
        type: str | None = None,
        from_time: float | None = None,
        to_time: float | None = None,
        limit: int = 20,
        cursor: str | None = None,
    ) -> dict[str, Any]:
        """``GET call``: newest first, filtered by number / type / time, cursor-paged."""
        with self.lock:
            now = self.now()
            low = from_time if from_time is not None else int(now) - _CALL_LIST_WINDOW
            high = to_time if to_time is not None else int(now) + 1
            matched: list[CallRecord] = []
            for call in sorted(self.calls.values(), key=lambda c: c.seq, reverse=True):
                self._call(call.agent_id, now)
                if number is not None and number not in (call.to_number, call.from_number):
                    continue
                if type is not None and call.type != type:
                    continue
                if not low <= int(call.created_at) <= high:
                    continue
                matched.append(call)
            return _list_answer(
                matched,
                self.calls,
                cursor=cursor,
                limit=limit,
                item=lambda c: c.to_wire(now, with_reason=False),
            )

    # ----- phone numbers --------------------------------------------------------------------

    def list_numbers(self) -> list[dict[str, Any]]:
        """``GET /v2/phone-numbers``."""
        with self.lock:
            return [dict(n) for n in self.numbers.values()]

    def get_number(self, phone_number: str) -> dict[str, Any]:
        """``GET /v2/phone-numbers/{n}``."""
        with self.lock:
            return dict(self._number(phone_number))

    def add_number(self, record: dict[str, Any]) -> dict[str, Any]:
        """``POST /v2/phone-numbers`` with a record from :func:`validate_number_record`."""
        with self.lock:
            phone = record["phone_number"]
            if phone in self.numbers:
                raise SandboxError(
                    409,
                    "PhoneNumberAlreadyExists",
                    f"phone number {phone} is already in this project",
                )
            if len(self.numbers) >= MAX_NUMBERS:
                raise SandboxError(
                    403, "ResourceQuotaLimitExceeded", f"at most {MAX_NUMBERS} phone numbers"
                )
            self.numbers[phone] = record
            return dict(record)

    def update_number(self, phone_number: str, changes: dict[str, Any]) -> dict[str, Any]:
        """``PATCH`` with changes from :func:`validate_number_changes`."""
        with self.lock:
            number = self._number(phone_number)
            apply_number_changes(number, changes)
            return dict(number)

    def delete_number(self, phone_number: str) -> None:
        """``DELETE /v2/phone-numbers/{n}``."""
        with self.lock:
            if self.numbers.pop(phone_number, None) is None:
                raise number_not_found(phone_number)

    def validate_number_record(self, body: Any) -> dict[str, Any]:
        """Turn an add-number body into the stored record (400 on a bad body)."""
        return validate_number_record(body)

    def _number(self, phone_number: str) -> dict[str, Any]:
        number = self.numbers.get(phone_number)
        if number is None:
            raise number_not_found(phone_number)
        return number

    def summary(self) -> dict[str, Any]:
        """The time and how many agents (kept / not stopped), calls and numbers there are."""
        with self.lock:
            now = self.now()
            running = 0
            for agent in self.agents.values():
                self._refresh(agent, now)  # an idle timeout that passed stops the agent
                running += agent.status(now) != "STOPPED"
            return {
                "now": now,
                "agents": len(self.agents),
                "running_agents": running,
                "calls": len(self.calls),
                "numbers": len(self.numbers),
            }

    def reset(self) -> None:
        """Forget every agent and call and restore the seeded phone numbers (time is kept,
        unless it is no longer a finite time)."""
        with self.lock:
            if not math.isfinite(self.offset):
                self.offset = 0.0
            self.agents.clear()
            self.calls.clear()
            self.numbers = seed_numbers()
            self.callees.clear()
