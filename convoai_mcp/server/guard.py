"""The safety seam between the MCP tools and the safety layer.

The server calls a :class:`Guard` at fixed points:

* ``visible_tools`` when it registers tools (read-only mode, allow / deny lists);
* ``admit_admin`` before a phone-number change or removal is sent (the tool lists and a
  human's approval);
* ``admit_agent`` / ``admit_call`` before anything is sent: policy (allow-list, own outbound
  number), limits, rate, and the user's confirmation, in one pass; they return the
  :class:`~convoai_mcp.policy.Reservation` (the slot) that the start flow
  (:mod:`convoai_mcp.server.lifecycle`) books or releases;
* ``started`` once the service created the agent (binds the slot, starts the agent's
  transcript watcher, :mod:`convoai_mcp.server.watchers`, which archives what it reads), or
  ``release`` when the start certainly did not happen;
* ``before_end`` before stop / hangup (snapshots history and turns into the archive and says
  what was really kept: :class:`Archived`), and ``ended`` afterwards (frees the slot);
* ``history`` / ``turns`` for the resources (fall back to the archive when the service answers
  404, and say which source answered);
* ``redact`` on everything echoed back; ``aclose`` at process exit.

Limits: the :class:`~convoai_mcp.policy.Limiter` counts what this process started; with a
PostgreSQL ``CONVOAI_DATABASE_URL`` every admission is also booked in the database
(:class:`~convoai_mcp.server.replicas.PostgresLimits`, the guard's ``shared`` limits), which
decides for all replicas together, and watchers hold a lease per agent
(:class:`~convoai_mcp.server.replicas.WatchLeases`). ``started``, ``release`` and ``ended``
stay synchronous: their database writes are queued and written in order.

Confirmation: a human approves through the gate (:mod:`convoai_mcp.server.gate`): form
elicitation, URL elicitation, or a link in the error for clients with neither; the tool's own
``confirm`` argument counts only where the operator opted in (``CONVOAI_CONFIRM_BY_ARGUMENT``).
On a 2026-07-28+ connection :class:`ConfirmationRequired` is raised and the tool must *return*
its ``.result`` (an ``InputRequiredResult``): the client asks the user and calls again with the
answer. A declined, cancelled, denied or unanswered request sends nothing.
"""

from __future__ import annotations

import contextlib
import logging
import time
from collections.abc import Awaitable, Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Literal, TypeVar

import anyio
from mcp.server.mcpserver import Context

from convoai_mcp.archive import Archive, archive_from_settings
from convoai_mcp.calling_rules import (
    REGION_SETTING,
    CallingRuleError,
    CallingRules,
    cap_window_start,
    check_call_hours,
    check_daily_cap,
    check_number_type,
)
from convoai_mcp.errors import ConvoAIError, NotFoundError
from convoai_mcp.models import AgentStatus, History, Turns
from convoai_mcp.phone import PhoneNumberError
from convoai_mcp.policy import (
    ADMIN_CONFIRMED,
    Kind,
    Limiter,
    Policy,
    PolicyError,
    Reservation,
    SharedLimits,
)
from convoai_mcp.redact import Redactor, install_log_redaction, settings_redactor
from convoai_mcp.server import audit
from convoai_mcp.server.approval import ApprovalDetails
from convoai_mcp.server.gate import Channel, ConfirmationRequired, Gate, request_of
from convoai_mcp.server.replicas import Database, Replicas
from convoai_mcp.server.watchers import Hooks, Watcher, Watchers, is_terminal

if TYPE_CHECKING:
    from convoai_mcp.client import ConvoAIClient
    from convoai_mcp.config import Settings

__all__ = ["Archived", "ConfirmationRequired", "Guard", "Source"]

T = TypeVar("T")
M = TypeVar("M", History, Turns)
Source = Literal["service", "archive"]

logger = logging.getLogger(__name__)

_DEFAULT_POLL = 2.0
_DEFAULT_SUBSCRIBED_POLL = 1.0
_DEFAULT_WATCH_LIMIT = 6 * 3600.0
_NUMBERS_TTL = 30.0


@dataclass(frozen=True)
class Archived:
    """What :meth:`Guard.before_end` kept: ``ok`` when the transcript is in the archive,
    else ``problem`` says why not."""

    ok: bool
    problem: str | None = None


def _llm_note(endpoint: str | None) -> str:
    """The confirmation question's note on an LLM the model chose (not the configured one)."""
    if endpoint is None:
        return ""
    return f" Its LLM is {endpoint}, chosen by the assistant (not the configured one)."


def _summary(
    request: Mapping[str, Any], *, skip: Sequence[str] = ()
) -> tuple[tuple[str, str], ...]:
    """The request's own settings, for the approval page (what the model chose; the server's
    configuration fills in the rest)."""
    shown: list[tuple[str, str]] = []
    for name, value in request_of(request).items():
        if name in skip or value is None or value is False:
            continue
        text = ", ".join(map(str, value)) if isinstance(value, list | tuple) else str(value)
        shown.append((name.replace("_", " ").capitalize(), text[:300]))
    return tuple(shown)


_AUDIT_CHANNEL: dict[Channel, audit.Channel] = {
    "form": "form",
    "url": "url",
    "link": "url",  # approved on the page, the link given in an earlier error
    "preapproved": "pre_approval",
    "argument": "argument",
}


def _note_admitted(channel: Channel | None) -> None:
    """Tell the audit trail how an admitted request got through: no approval needed (None), or
    the gate's channel (form, the URL page, a pre-approved number, the confirm argument)."""
    if channel is None:
        audit.note("allowed")
    else:
        audit.note("approved", channel=_AUDIT_CHANNEL[channel])


class Guard:
    """Policy, confirmation, redaction and transcript archiving for one server instance."""

    def __init__(
        self,
        client: ConvoAIClient,
        *,
        policy: Policy | None = None,
        archive: Archive | None = None,
        redactor: Redactor | None = None,
        gate: Gate | None = None,
        poll_interval: float = _DEFAULT_POLL,
        subscribed_interval: float = _DEFAULT_SUBSCRIBED_POLL,
        watch_limit: float = _DEFAULT_WATCH_LIMIT,
        clock: Callable[[], float] = time.monotonic,
        sleep: Callable[[float], Awaitable[None]] = anyio.sleep,
        rules: CallingRules | None = None,
        replicas: Replicas | None = None,
    ) -> None:
        self.client = client
        self.policy = policy if policy is not None else Policy()
        self.rules = rules
        """The calling rules admit_call applies (None: only the policy's checks; the server
        always has them, from :meth:`Settings.calling_rules`)."""
        self._dialled: list[tuple[str, float]] = []  # the cap's count when there is no archive
        self.archive = archive
        self.redactor = redactor if redactor is not None else Redactor()
        self.gate = gate if gate is not None else Gate(redactor=self.redactor)
        """The human gate: who approves a call or a start, and the approval page."""
        self.limiter = Limiter(self.policy, clock=clock)
        """What this process started (with ``shared`` limits: its own view of them)."""
        self.replicas = replicas
        """The state shared with other replicas (PostgreSQL), or None for one process."""
        self.shared: SharedLimits | None = replicas.limits if replicas is not None else None
        """The limits every replica books (the database decides), or None."""
        self._clock = clock
        self.watchers = Watchers(
            Hooks(
                fetch=self.client.agents.history,
                gone=self._has_ended,
                begin=self._watch_begins,
                seen=self._watch_saw,
                ended=self._watch_ended,
                state=self._watch_state,
            ),
            poll_interval=poll_interval,
            subscribed_interval=subscribed_interval,
            watch_limit=watch_limit,
            clock=clock,
            sleep=sleep,
            lease=replicas.leases if replicas is not None else None,
        )
        """One transcript watcher per agent (archive and subscribers)."""
        self._numbers: tuple[float, tuple[str, ...]] | None = None
        self.on_ended: Callable[[str], None] | None = None
        """Called with the id of a watched agent that ended on its own (idle timeout, remote
        hang-up)."""

    @property
    def poll_interval(self) -> float:
        """Seconds between history reads of a watched agent nobody subscribed to."""
        return self.watchers.poll_interval

    @poll_interval.setter
    def poll_interval(self, value: float) -> None:
        self.watchers.poll_interval = value

    @classmethod
    def from_settings(
        cls,
        settings: Settings,
        client: ConvoAIClient,
        *,
        subscribed_interval: float = _DEFAULT_SUBSCRIBED_POLL,
        gate: Gate | None = None,
        database: Database | None = None,
    ) -> Guard:
        """Build a guard from the server's settings and its ConvoAI client.

        Registers every configured secret with the redactor and installs the redacting log
        filter on the root logger's handlers (the CLI already did for its stderr handler).
        ``database``: the shared PostgreSQL database to book the limits in (the runtime's; by
        default one is opened for ``CONVOAI_DATABASE_URL``).
        """
        redactor = settings_redactor(settings)
        install_log_redaction(redactor)
        policy = Policy.from_settings(settings)
        return cls(
            client,
            policy=policy,
            replicas=Replicas.from_settings(settings, policy, db=database),
            archive=archive_from_settings(settings),
            redactor=redactor,
            gate=gate if gate is not None else Gate.from_settings(settings, redactor=redactor),
            subscribed_interval=subscribed_interval,
            rules=settings.calling_rules(),
        )

    # -- tools --------------------------------------------------------------------------------

    def visible_tools(self, names: Sequence[str]) -> list[str]:
        """Return the tool names this server may expose (read-only mode, allow / deny lists)."""
        return self.policy.visible_tools(names)

    async def admit_admin(
        self,
        ctx: Context[Any, Any],
        *,
        tool: str,
        question: str = "",
        confirm: bool = False,
        request: Mapping[str, Any] | None = None,
        details: ApprovalDetails | None = None,
    ) -> None:
        """Admit an admin tool's call (``policy.ADMIN_TOOLS``): exposed by the tool lists, and
        for those that change or remove what exists (``policy.ADMIN_CONFIRMED``) approved by a
        human through the gate, always; or :class:`PolicyError` /
        :class:`ConfirmationRequired`, nothing sent."""
        self.policy.check_tool(tool)
        approved: Channel | None = None
        if tool in ADMIN_CONFIRMED:
            shown = details if details is not None else ApprovalDetails(title=question)
            approved = await self._confirm(
                ctx, tool, question, confirm, request=request or {}, details=lambda: shown
            )
        _note_admitted(approved)

    def numbers_changed(self) -> None:
        """Forget the cached outbound numbers (an admin tool added, changed or removed one)."""
        self._numbers = None

    async def admit_agent(
        self,
        ctx: Context[Any, Any],
        *,
        channel: str,
        confirm: bool,
        llm_endpoint: str | None = None,
        request: Mapping[str, Any] | None = None,
    ) -> Reservation:
        """The slot and rate token for starting an agent in ``channel``, or
        :class:`PolicyError` (``llm_endpoint``: an LLM the model chose instead of the
        configured one, named in the confirmation question). The caller books
        (:meth:`started`) or releases (:meth:`release`) it; an unused one expires after the
        limiter's reservation TTL."""
        self.policy.check_tool("start_agent")
        await self._check_limits("agent")
        approved: Channel | None = None
        if self.policy.needs_confirmation("start_agent"):
            approved = await self._confirm(
                ctx,
                "start_agent",
                f"Start an AI voice agent in channel {channel!r}? It joins the channel and is "
                "billed per minute until it is stopped." + _llm_note(llm_endpoint),
                confirm,
                request=request if request is not None else {"channel": channel},
                details=lambda: ApprovalDetails(
                    title="Start a voice agent",
                    agent_summary=_summary(
                        request if request is not None else {"channel": channel}
                    ),
                    llm_endpoint=llm_endpoint,
                    cost_warning="The agent joins the channel and is billed per minute "
                    "(speech recognition, the language model and speech synthesis) until it is "
                    "stopped.",
                ),
            )
        reservation = await self._reserve("agent")
        _note_admitted(approved)
        return reservation

    async def vet_call(self, to_number: str, from_number: str | None = None) -> str:
        """The checks of a destination that need no slot (a campaign runs them for its whole
        list up front): a valid number (libphonenumber), on the allow-list (normalised), of a
        type that costs no surcharge, inside the callee's calling hours, under the per-number
        daily cap. Returns the number normalised (E.164), or raises :class:`PolicyError` /
        :class:`CallingRuleError` naming the rule."""
        number = self._valid_number(to_number)
        self.policy.check_call(number, from_number or number, None)
        await self._check_calling_rules(number)
        return number

    async def admit_call(
        self,
        ctx: Context[Any, Any] | None,
        *,
        to_number: str,
        from_number: str | None,
        confirm: bool,
        llm_endpoint: str | None = None,
        request: Mapping[str, Any] | None = None,
        approved_as: str | None = None,
    ) -> tuple[Reservation, str]:
        """One admission for a call: the slot and rate token for dialing ``to_number`` from
        ``from_number`` (default: the project's first outbound-enabled number), and that
        number; or :class:`PolicyError` (allow-list, own outbound number, limits, rate,
        confirmation naming ``llm_endpoint``, an LLM the model chose). The phone-number list
        is read once, and only for what may be allowed. ``approved_as``: the call is covered by
        an approval given already (a campaign's, which showed every number): no human is
        asked again, and ``ctx`` may be None."""
        self.policy.check_tool("call")
        # Refuse a blocked destination before any request (even a read) is sent.
        number = await self.vet_call(to_number, from_number)
        await self._check_limits("call")
        numbers = await self._outbound_numbers()
        if from_number is None:
            if not numbers:
                raise PolicyError(
                    "this project has no outbound-enabled phone number",
                    hint="add one in the Agora console (or enable outbound on an existing one), "
                    "then call again",
                )
            from_number = numbers[0]
        self.policy.check_call(to_number, from_number, numbers)
        approved: Channel | None = None
        if approved_as is None and ctx is None:
            raise PolicyError(
                "call needs a human's approval and there is no request to ask through",
                hint="place calls through the call tool, or approve them as a campaign",
            )
        if approved_as is None and ctx is not None and self.policy.needs_confirmation("call"):
            asked = request if request is not None else {"to_number": to_number}
            asked = {**asked, "from_number": from_number}  # the caller id the human approves
            called_from = from_number
            approved = await self._confirm(
                ctx,
                "call",
                f"Place a phone call to {to_number} from {from_number}? A real phone rings; "
                "the call and its AI agent are billed per minute until hang-up."
                + _llm_note(llm_endpoint),
                confirm,
                request=asked,
                details=lambda: self._call_details(number, called_from, asked, llm_endpoint),
                to_number=number,
            )
        reservation = await self._reserve("call")
        self._dialled.append((number, time.time()))
        if approved_as is None:
            _note_admitted(approved)
        return reservation, from_number

    def _valid_number(self, to_number: str) -> str:
        """``to_number`` normalised to E.164 by libphonenumber, or :class:`CallingRuleError`
        (rule ``number_validity``) for a number that is not valid for its region."""
        if self.rules is None:
            return to_number
        try:
            return self.rules.parse(to_number).e164
        except PhoneNumberError as exc:
            raise CallingRuleError(
                exc.message,
                rule="number_validity",
                setting=REGION_SETTING,
                hint=exc.hint or "check the number; only valid numbers are dialled",
            ) from None

    async def _check_calling_rules(self, e164: str) -> None:
        """Number type, quiet hours in the callee's local time, the per-number daily cap
        (counted from the archive's audit trail, so across restarts)."""
        rules = self.rules
        if rules is None:
            return
        number = rules.parse(e164)
        check_number_type(number, rules.allowed_types)
        now = rules.clock()
        check_call_hours(number, rules.hours, now)
        if rules.daily_cap is None:
            return
        since = cap_window_start(now).timestamp()
        count = sum(1 for n, at in self._dialled if n == e164 and at >= since)
        if self.archive is not None:
            try:
                count = await self.archive.count_calls(e164, since=since)
            except Exception as exc:  # counted in memory then (this process's calls)
                logger.warning("could not count the calls to a number: %s", type(exc).__name__)
        check_daily_cap(e164, count, rules.daily_cap)

    async def _check_limits(self, kind: Kind) -> None:
        """The limiter's check (and the shared limits'); before refusing, the slots of agents
        nobody watches any more (past the watch limit, or their replica died) are re-checked
        against the service and freed if they ended."""
        try:
            await self._check(kind)
        except PolicyError:
            if not await self._recheck(kind):
                raise
            await self._check(kind)

    async def _check(self, kind: Kind) -> None:
        """The limiter's check, or with shared limits theirs (this replica's counts are a part
        of the deployment's, which another replica may have freed already)."""
        if self.shared is None:
            self.limiter.check(kind)
        else:
            await self.shared.check(kind)

    async def _reserve(self, kind: Kind) -> Reservation:
        """A slot and a rate token here, or with shared limits there (they decide) and here."""
        if self.shared is None:
            return self.limiter.reserve(kind)
        reservation = self.limiter.reserve(kind, check=False)
        try:
            await self.shared.reserve(reservation)
        except BaseException:
            self.limiter.release(reservation)
            raise
        return reservation

    async def _recheck(self, kind: Kind) -> bool:
        """Free the slot of every unwatched running agent of ``kind`` that has ended; True if
        one was freed. With shared limits, the orphans (agents of a replica that stopped
        renewing their slots) too: an ended one is freed, a running one adopted (watched
        here, its slot renewed here)."""
        freed = False
        for agent_id, held in self.limiter.running().items():
            if held != kind or self.watchers.get(agent_id) is not None:
                continue
            if await self._has_ended(agent_id):
                self._freed(agent_id)
                freed = True
        if self.shared is not None:
            for agent_id in await self.shared.orphans(kind):
                if await self._has_ended(agent_id):
                    self.shared.ended(agent_id)
                    freed = True
                elif await self.shared.adopt(agent_id):
                    self.limiter.bind(agent_id, kind=kind, reservation=Reservation(kind, 0.0))
                    self.watchers.watch(agent_id, kind=kind, counted=True)
            await self.shared.flush()
        return freed

    def _freed(self, agent_id: str) -> None:
        """An agent ended without this server ending it: free its slot and say so."""
        self.limiter.ended(agent_id)
        if self.shared is not None:
            self.shared.ended(agent_id)
        if self.on_ended is not None:
            self.on_ended(agent_id)

    async def _outbound_numbers(self) -> tuple[str, ...]:
        """The project's outbound-enabled numbers, in the service's order (cached briefly)."""
        now = self._clock()
        if self._numbers is not None and now - self._numbers[0] < _NUMBERS_TTL:
            return self._numbers[1]
        numbers = await self.client.phone_numbers.list()
        mine = tuple(n.phone_number for n in numbers if n.outbound and n.phone_number)
        self._numbers = (now, mine)
        return mine

    async def _confirm(
        self,
        ctx: Context[Any, Any],
        tool: str,
        question: str,
        confirm: bool,
        *,
        request: Mapping[str, Any],
        details: Callable[[], ApprovalDetails],
        to_number: str | None = None,
    ) -> Channel:
        """A human's approval through the gate (:mod:`convoai_mcp.server.gate`) and how it was
        given, or a refusal."""
        channel = await self.gate.approve(
            ctx,
            tool=tool,
            question=question,
            confirm=confirm,
            request=request,
            details=details,
            to_number=to_number,
        )
        logger.info("%s approved (%s)", tool, channel)
        return channel

    def _call_details(
        self, to_number: str, from_number: str, request: Mapping[str, Any], llm: str | None
    ) -> ApprovalDetails:
        """What the approval page shows for a call."""
        from convoai_mcp.phone import PhoneNumberError, parse_phone

        summary = _summary(request, skip=("to_number", "from_number"))
        try:
            number = parse_phone(to_number, sandbox=self.gate.sandbox)
        except PhoneNumberError:
            return ApprovalDetails(
                title="Place a phone call",
                to_number=to_number,
                caller_id=from_number,
                agent_summary=summary,
                llm_endpoint=llm,
            )
        return ApprovalDetails.for_call(
            number, caller_id=from_number, agent_summary=summary, llm_endpoint=llm
        )

    # -- lifecycle ----------------------------------------------------------------------------

    def started(
        self, agent_id: str, *, kind: Kind, channel: str, reservation: Reservation | None = None
    ) -> bool:
        """Book an agent or call this server started: its slot (``reservation``, taken at
        admission) and its transcript watcher. False, booking nothing, when the reservation
        had expired and the limit is full meanwhile: the caller must stop the agent. (With
        shared limits it is booked there whatever: it runs, so it counts.)"""
        if reservation is not None:
            if reservation.agent_id is None:
                self.limiter.release(reservation)  # idempotent: back to the pool, then taken
            if (
                self.shared is None  # shared limits: booked there whatever (see bind)
                and agent_id not in self.limiter.running()
                and self.limiter.active(kind) >= self.policy.limit(kind)
            ):
                return False
        # A released reservation is not pending any more, so bind takes no one else's.
        self.limiter.bind(agent_id, kind=kind, reservation=reservation)
        if self.shared is not None:
            self.shared.bind(agent_id, reservation, kind=kind)
        self.watchers.watch(agent_id, kind=kind, channel=channel, counted=True)
        return True

    def release(self, reservation: Reservation) -> None:
        """Give back the slot of an admission whose start certainly did not happen."""
        self.limiter.release(reservation)
        if self.shared is not None:
            self.shared.release(reservation)

    async def before_end(self, agent_id: str) -> Archived:
        """Snapshot history and turns into the archive before stop / hangup, and say what
        really was kept: never raises for the archive's or the service's failures (ending an
        agent that costs money must not wait on them)."""
        if self.archive is None:
            return Archived(False, "the archive is off (CONVOAI_ARCHIVE=off)")
        problems: list[str] = []
        answered = False
        fetches: tuple[tuple[str, Callable[[str], Awaitable[Any]], Any], ...] = (
            ("history", self.client.agents.history, self._archive_history),
            ("turns", self.client.agents.turns, self._archive_turns),
        )
        for what, fetch, keep in fetches:
            try:
                fresh = await fetch(agent_id)
            except NotFoundError:
                continue  # already gone: what the watcher archived is what there is
            except ConvoAIError as exc:
                problems.append(f"the service did not send the {what} ({exc.message})")
                continue
            answered = True
            problem = await keep(agent_id, fresh)
            if problem is not None:
                problems.append(problem)
        if problems:
            return Archived(False, "; ".join(dict.fromkeys(problems)))
        try:  # read it back: a broken archive must not pass for a kept transcript
            kept = await self.archive.load_history(agent_id)
        except Exception as exc:
            return Archived(False, self._archive_problem("read", exc))
        if kept is None and not answered:
            return Archived(
                False,
                "neither the service nor the archive has a transcript of this agent "
                "(an unknown agent id, or one that ended long ago)",
            )
        return Archived(True)

    def _archive_problem(self, verb: str, exc: Exception) -> str:
        detail = self.redactor.text(str(exc)) if str(exc) else ""
        return f"the archive could not be {verb}: {type(exc).__name__}" + (
            f" ({detail})" if detail else ""
        )

    def ended(self, agent_id: str) -> None:
        """Release the limits held by ``agent_id`` (here and in the shared limits: whichever
        replica started it) and stop watching it."""
        self.limiter.ended(agent_id)
        if self.shared is not None:
            self.shared.ended(agent_id)
        self.watchers.release(agent_id)

    def watcher(self, agent_id: str) -> Watcher | None:
        """The transcript watcher of ``agent_id`` (None when not watched)."""
        return self.watchers.get(agent_id)

    async def _watch_begins(self, watcher: Watcher) -> None:
        if self.archive is not None and watcher.counted:
            await self.archive.note_agent(
                watcher.agent_id, kind=watcher.kind, channel=watcher.channel
            )

    async def _watch_saw(self, watcher: Watcher, history: History) -> None:
        await self._archive_history(watcher.agent_id, history)

    async def _watch_ended(self, watcher: Watcher) -> None:
        """Ended on its own (idle timeout, remote hang-up): keep the turns, free the slot."""
        with contextlib.suppress(ConvoAIError):
            await self._snapshot_turns(watcher.agent_id)
        if watcher.counted:
            self._freed(watcher.agent_id)

    async def _watch_state(self, watcher: Watcher) -> tuple[str, str | None]:
        """The state a ``wait`` asks for: a call's (ringing / answered / hangup, and why it
        ended), or an agent's status; an agent or call the service no longer has is ended."""
        try:
            if watcher.kind == "call":
                call = await self.client.calls.get(watcher.agent_id)
                return call.state or "ringing", call.reason
            info = await self.client.agents.get(watcher.agent_id)
        except NotFoundError:
            return ("hangup" if watcher.kind == "call" else "STOPPED"), None
        return str(info.status or "UNKNOWN"), None

    async def _has_ended(self, agent_id: str) -> bool:
        """History answered 404: ended, unless the agent itself is still there (e.g. starting)."""
        try:
            info = await self.client.agents.get(agent_id)
        except NotFoundError:
            return True
        except ConvoAIError:
            return False
        return is_terminal(info.status)

    # -- history ------------------------------------------------------------------------------

    async def _archive_history(self, agent_id: str, history: History) -> str | None:
        """Archive ``history``; what went wrong, or None (also when there was nothing)."""
        if self.archive is None or not history.contents:
            return None
        entries = [self.redactor.value(e.model_dump(mode="json")) for e in history.contents]
        try:
            await self.archive.save_history(
                agent_id,
                entries,
                start_ts=history.start_ts,
                status=str(history.status) if history.status is not None else None,
            )
        except Exception as exc:  # the archive must never break a tool or a resource
            logger.warning("could not archive history of %s: %s", agent_id, type(exc).__name__)
            return self._archive_problem("written", exc)
        return None

    async def _archive_turns(self, agent_id: str, turns: Turns) -> str | None:
        """Archive ``turns``; what went wrong, or None (also when there was nothing)."""
        if self.archive is None or not turns.turns:
            return None
        items = [self.redactor.value(t.model_dump(mode="json")) for t in turns.turns]
        try:
            await self.archive.save_turns(
                agent_id,
                items,
                name=turns.name,
                channel=turns.channel,
                total_turn_count=turns.total_turn_count,
            )
        except Exception as exc:
            logger.warning("could not archive turns of %s: %s", agent_id, type(exc).__name__)
            return self._archive_problem("written", exc)
        return None

    async def keep_history(self, agent_id: str, history: History) -> str | None:
        """Archive a history the service reported (a webhook), as a watcher's read is; what went
        wrong, or None."""
        return await self._archive_history(agent_id, history)

    async def keep_turns(self, agent_id: str, turns: Turns) -> str | None:
        """Archive turns the service reported (a webhook); what went wrong, or None."""
        return await self._archive_turns(agent_id, turns)

    async def _snapshot_turns(self, agent_id: str) -> None:
        await self._archive_turns(agent_id, await self.client.agents.turns(agent_id))

    async def history(self, agent_id: str) -> tuple[History, Source]:
        """The agent's history and which source answered (the archive once the service 404s)."""
        history, source = await self._service_or_archive(
            agent_id, "history", self.client.agents.history, self._archive_history, History
        )
        if source == "archive" and not is_terminal(history.status):
            # The service no longer knows it, so it has ended (the archive may say RUNNING).
            history = history.model_copy(update={"status": AgentStatus.STOPPED})
        return history, source

    async def turns(self, agent_id: str) -> tuple[Turns, Source]:
        """The agent's turns and which source answered (the archive once the service 404s)."""
        return await self._service_or_archive(
            agent_id, "turns", self.client.agents.turns, self._archive_turns, Turns
        )

    async def _service_or_archive(
        self,
        agent_id: str,
        what: Literal["history", "turns"],
        fetch: Callable[[str], Awaitable[M]],
        keep: Callable[[str, M], Awaitable[str | None]],
        model: type[M],
    ) -> tuple[M, Source]:
        """``fetch`` from the service and ``keep`` (archive) the answer; when the service no
        longer has it (404), the archived copy, else that 404."""
        try:
            fresh = await fetch(agent_id)
        except NotFoundError:
            archived = await self._load(agent_id, what)
            if archived is None:
                raise
            return model.model_validate(archived), "archive"
        await keep(agent_id, fresh)
        return fresh, "service"

    async def _load(
        self, agent_id: str, what: Literal["history", "turns"]
    ) -> dict[str, Any] | None:
        if self.archive is None:
            return None
        try:
            if what == "history":
                return await self.archive.load_history(agent_id)
            return await self.archive.load_turns(agent_id)
        except Exception as exc:
            logger.warning("could not read the archive for %s: %s", agent_id, type(exc).__name__)
            return None

    # -- misc ---------------------------------------------------------------------------------

    def redact(self, value: T) -> T:
        """Return ``value`` with secrets masked as ``***`` (by key name and known value)."""
        return self.redactor.value(value)

    async def aclose(self) -> None:
        """Stop the transcript watchers, the approval page and close the archive."""
        await self.watchers.aclose()
        await self.gate.aclose()
        if self.replicas is not None:
            await self.replicas.aclose()
        if self.archive is not None:
            await self.archive.aclose()
