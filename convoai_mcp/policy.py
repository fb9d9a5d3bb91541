"""What the server may do: dialing allow-list, limits, rate, read-only mode, tool lists.

Pure rules, no I/O. :class:`Policy` answers "is this allowed?" and raises :class:`PolicyError`
(with what was refused and how to allow it); :class:`Limiter` counts what this server has
started (concurrency) and how often (a sliding one-minute window, with an injectable clock).
The :class:`~convoai_mcp.server.guard.Guard` glues both to the MCP tools.

One process (stdio, SQLite) counts in memory, in the :class:`Limiter`. Replicas that share a
PostgreSQL database (``CONVOAI_DATABASE_URL``) also book every slot there, through the
:class:`SharedLimits` interface (``convoai_mcp.server.replicas.PostgresLimits``): the database
decides, the limiter is then this replica's own view of what it started.

Safe by default: no allow-list means no outbound calls; at most
:data:`DEFAULT_MAX_AGENTS` agents and :data:`DEFAULT_MAX_CALLS` calls at once; at most
:data:`DEFAULT_RATE_PER_MINUTE` starts (agents and calls together) per minute; ``call`` needs
confirmation; the ``admin`` tool set (phone-number administration, :data:`ADMIN_TOOLS`) is
hidden unless the operator names it in ``CONVOAI_TOOLS_ALLOW``.
"""

from __future__ import annotations

import re
import time
from collections import deque
from collections.abc import Callable, Collection, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Literal, Protocol

from convoai_mcp.config import did_you_mean
from convoai_mcp.errors import ConfigError, ConvoAIError
from convoai_mcp.phone import is_e164

if TYPE_CHECKING:
    from convoai_mcp.config import Settings

__all__ = [
    "ADMIN_CONFIRMED",
    "ADMIN_TOOLS",
    "DEFAULT_MAX_AGENTS",
    "DEFAULT_MAX_CALLS",
    "DEFAULT_RATE_PER_MINUTE",
    "DEFAULT_TOOL_SET",
    "OPT_IN_TOOLS",
    "TOOL_SETS",
    "Kind",
    "Limiter",
    "Policy",
    "PolicyError",
    "Reservation",
    "SharedLimits",
]

Kind = Literal["agent", "call"]

DEFAULT_MAX_AGENTS = 5
DEFAULT_MAX_CALLS = 2
DEFAULT_RATE_PER_MINUTE = 10

ADMIN_TOOLS: tuple[str, ...] = ("add_number", "get_number", "update_number", "delete_number")
"""The ``admin`` tool set: phone-number administration. Hidden unless ``CONVOAI_TOOLS_ALLOW``
names ``admin`` (or one of these tools); the one list of them (the tool registry registers
them, the OAuth scopes map ``admin`` to them)."""

ADMIN_CONFIRMED: frozenset[str] = frozenset({"update_number", "delete_number"})
"""Admin tools that change or remove what exists: a human approves each call (the gate, as for
``call``), whatever ``CONVOAI_CONFIRM`` says."""

DEFAULT_TOOL_SET = "default"
"""The name, in ``CONVOAI_TOOLS_ALLOW`` / ``CONVOAI_TOOLS_DENY``, of every tool that is not in an
opt-in set (what is exposed when ``CONVOAI_TOOLS_ALLOW`` is unset)."""

TOOL_SETS: dict[str, frozenset[str]] = {"admin": frozenset(ADMIN_TOOLS)}
"""Opt-in tool sets by name: exposed only when ``CONVOAI_TOOLS_ALLOW`` names them (or a tool
of them)."""

OPT_IN_TOOLS: frozenset[str] = frozenset().union(*TOOL_SETS.values())
"""Every tool of an opt-in set."""

_ENTRY = re.compile(r"\+[0-9]{1,15}")
_ENABLE_CALLS = (
    "set CONVOAI_CALL_ALLOWLIST to a comma list of E.164 numbers or prefixes the server may "
    "dial, e.g. CONVOAI_CALL_ALLOWLIST=+14155550100,+4420"
)


class PolicyError(ConvoAIError):
    """Refused by the server's safety policy; nothing was sent. The hint says how to allow it."""


def _limit(value: int | None, default: int) -> int:
    return default if value is None else value


@dataclass(frozen=True)
class Policy:
    """The operator's rules. ``None`` limits mean the safe defaults; ``0`` forbids.

    ``read_only_tools`` are the tools read-only mode keeps: the server's tool registry says
    which (``convoai_mcp.server.tools.READ_ONLY_TOOLS``; this module sits below the server and
    is told). By default none: read-only mode then keeps no tool at all.
    """

    call_allowlist: tuple[str, ...] = ()
    max_agents: int | None = None
    max_calls: int | None = None
    rate_per_minute: int | None = None
    confirm: frozenset[str] = frozenset({"call"})
    read_only: bool = False
    tools_allow: frozenset[str] | None = None
    tools_deny: frozenset[str] = frozenset()
    read_only_tools: frozenset[str] = frozenset()

    def __post_init__(self) -> None:
        for entry in self.call_allowlist:
            if not _ENTRY.fullmatch(entry):
                raise ConfigError(
                    f"CONVOAI_CALL_ALLOWLIST entry {entry!r} is not an E.164 number or prefix",
                    hint="use '+' and digits only, e.g. +14155550100 or +1415",
                )
        for name, value in (
            ("CONVOAI_MAX_AGENTS", self.max_agents),
            ("CONVOAI_MAX_CALLS", self.max_calls),
            ("CONVOAI_RATE_PER_MINUTE", self.rate_per_minute),
        ):
            if value is not None and value < 0:
                raise ConfigError(f"{name}={value} is negative", hint="use 0 or more")

    @classmethod
    def from_settings(
        cls, settings: Settings, *, read_only_tools: frozenset[str] = frozenset()
    ) -> Policy:
        """The policy configured by the ``CONVOAI_*`` safety variables (``read_only_tools``:
        the tools read-only mode keeps)."""
        return cls(
            call_allowlist=tuple(settings.call_allowlist),
            max_agents=settings.max_agents,
            max_calls=settings.max_calls,
            rate_per_minute=settings.rate_per_minute,
            confirm=frozenset(settings.confirm),
            read_only=settings.read_only,
            tools_allow=frozenset(settings.tools_allow)
            if settings.tools_allow is not None
            else None,
            tools_deny=frozenset(settings.tools_deny),
            read_only_tools=read_only_tools,
        )

    # -- limits ---------------------------------------------------------------------------

    @property
    def agent_limit(self) -> int:
        """Maximum concurrent agents (``start_agent``) this server may have running."""
        return _limit(self.max_agents, DEFAULT_MAX_AGENTS)

    @property
    def call_limit(self) -> int:
        """Maximum concurrent calls this server may have up."""
        return _limit(self.max_calls, DEFAULT_MAX_CALLS)

    def limit(self, kind: Kind) -> int:
        """The concurrency limit of ``kind``."""
        return self.agent_limit if kind == "agent" else self.call_limit

    @property
    def rate_limit(self) -> int:
        """Maximum ``start_agent`` + ``call`` admissions per rolling minute."""
        return _limit(self.rate_per_minute, DEFAULT_RATE_PER_MINUTE)

    # -- tools ----------------------------------------------------------------------------

    def visible_tools(self, names: Sequence[str]) -> list[str]:
        """The subset of ``names`` (every registered tool) to expose, in the same order.

        Raises :class:`ConfigError` when the allow / deny lists name a tool or tool set that
        does not exist (a typo would otherwise silently expose or hide the wrong tools).
        """
        known = set(names)
        sets = [DEFAULT_TOOL_SET, *TOOL_SETS]
        for var, listed in (
            ("CONVOAI_TOOLS_ALLOW", self.tools_allow or frozenset()),
            ("CONVOAI_TOOLS_DENY", self.tools_deny),
        ):
            unknown = sorted(set(listed) - known - set(sets))
            if unknown:
                close = "".join(did_you_mean(name, [*names, *sets]) for name in unknown)
                raise ConfigError(
                    f"{var} names unknown tools: {', '.join(unknown)}{close}",
                    hint=f"known tools: {', '.join(names)}; tool sets: {', '.join(sets)}",
                )
        return [name for name in names if self.tool_allowed(name)]

    def tool_allowed(self, name: str) -> bool:
        """True when the tool ``name`` may be exposed and called."""
        if self.read_only and name not in self.read_only_tools:
            return False
        if self.tools_allow is None:
            if name in OPT_IN_TOOLS:
                return False
        elif not _listed(name, self.tools_allow):
            return False
        return not _listed(name, self.tools_deny)

    def check_tool(self, name: str) -> None:
        """Raise :class:`PolicyError` when ``name`` is hidden by read-only mode or the lists."""
        if self.tool_allowed(name):
            return
        if self.read_only and name not in self.read_only_tools:
            raise PolicyError(
                f"{name} is disabled: the server runs in read-only mode",
                hint="unset CONVOAI_READ_ONLY to allow tools that start, change or stop things",
            )
        if name in OPT_IN_TOOLS and self.tools_allow is None:
            raise PolicyError(
                f"{name} is an admin tool, off unless the operator turns the admin tools on",
                hint="ask the operator to set CONVOAI_TOOLS_ALLOW=default,admin",
            )
        raise PolicyError(
            f"{name} is disabled by the operator's tool lists",
            hint="add it to CONVOAI_TOOLS_ALLOW / remove it from CONVOAI_TOOLS_DENY",
        )

    def needs_confirmation(self, tool: str) -> bool:
        """True when ``tool`` (``"call"``, ``"start_agent"``) needs the user's confirmation."""
        return tool in self.confirm

    # -- dialing --------------------------------------------------------------------------

    def check_call(
        self, to_number: str, from_number: str, outbound_numbers: Collection[str] | None
    ) -> None:
        """Refuse a call unless ``to_number`` is allow-listed and ``from_number`` is ours.

        ``outbound_numbers`` are the project's numbers that have outbound enabled; ``None``
        skips that check (a first pass before the numbers are fetched).
        """
        if not is_e164(to_number):
            raise PolicyError(
                f"to_number {to_number!r} is not an E.164 number",
                hint="write it as '+', country code and number, digits only, e.g. +14155550100",
            )
        if not is_e164(from_number):
            raise PolicyError(
                f"from_number {from_number!r} is not an E.164 number",
                hint="use one of the project's outbound numbers (see list_numbers)",
            )
        if not self.call_allowlist:
            raise PolicyError(
                "outbound calls are disabled: no call allow-list is configured", hint=_ENABLE_CALLS
            )
        if not self.destination_allowed(to_number):
            raise PolicyError(
                f"{to_number} is not on the call allow-list",
                hint=f"dial a number matching {', '.join(self.call_allowlist)}, or ask the "
                "operator to add it to CONVOAI_CALL_ALLOWLIST",
            )
        if outbound_numbers is not None and from_number not in outbound_numbers:
            mine = ", ".join(sorted(outbound_numbers)) or "none"
            raise PolicyError(
                f"{from_number} is not one of this project's outbound-enabled numbers",
                hint=f"use one of: {mine} (list_numbers shows them); enable outbound on the "
                "number in the Agora console to use it",
            )

    def destination_allowed(self, number: str) -> bool:
        """True when ``number`` equals or begins with an allow-list entry."""
        return any(number.startswith(entry) for entry in self.call_allowlist)


def limit_reached(kind: Kind, active: int, limit: int, *, by: str = "this server") -> PolicyError:
    """The refusal of a start over the concurrency limit of ``kind`` (started ``by``)."""
    what, var, stop = ("agents", "CONVOAI_MAX_AGENTS", "stop_agent")
    if kind == "call":
        what, var, stop = ("calls", "CONVOAI_MAX_CALLS", "hangup")
    return PolicyError(
        f"limit reached: {active} of {limit} concurrent {what} started by {by} are still running",
        hint=f"end one first ({stop}), or ask the operator to raise {var}",
    )


def rate_reached(rate: int, free_in: float) -> PolicyError:
    """The refusal of a start over the per-minute rate (a token frees in ``free_in`` s)."""
    wait = max(1, int(free_in + 0.999))
    return PolicyError(
        f"rate limit reached: {rate} start_agent / call requests per minute",
        hint=f"try again in about {wait} s, or ask the operator to raise CONVOAI_RATE_PER_MINUTE",
    )


def _listed(name: str, listed: Collection[str]) -> bool:
    """True when ``name`` is in ``listed``, by name or through a tool set it names."""
    if name in listed:
        return True
    if DEFAULT_TOOL_SET in listed and name not in OPT_IN_TOOLS:
        return True
    return any(name in TOOL_SETS[s] for s in listed if s in TOOL_SETS)


@dataclass
class Reservation:
    """A slot held between admission and ``started`` (or release, if the start failed)."""

    kind: Kind
    created: float
    agent_id: str | None = None
    slot_id: str | None = None
    """The slot's id in the shared limits (:class:`SharedLimits`), once booked there."""


class SharedLimits(Protocol):
    """Limits booked where every replica sees them (a database), transactionally: N replicas
    together never hold more than the policy allows. The in-memory :class:`Limiter` stays this
    replica's view; this one decides.

    ``reserve`` and ``check`` are awaited at admission; ``bind``, ``release`` and ``ended`` only
    free or convert slots, so they are queued and written in order in the background (a late
    write errs on the safe side: the slot counts a little longer). ``orphans`` are the agents
    whose replica stopped renewing their slots (it died); ``adopt`` takes one over.
    """

    async def check(self, kind: Kind) -> None:
        """Raise :class:`PolicyError` if a reservation of ``kind`` would be refused now."""
        ...

    async def reserve(self, reservation: Reservation) -> None:
        """Book ``reservation`` (sets its ``slot_id``) or raise :class:`PolicyError`."""
        ...

    def bind(self, agent_id: str, reservation: Reservation | None, *, kind: Kind) -> None:
        """``agent_id`` started: its slot (``reservation``'s, else a new one) is held by it."""
        ...

    def release(self, reservation: Reservation) -> None:
        """Give back a reservation whose start did not happen."""
        ...

    def ended(self, agent_id: str) -> None:
        """Free ``agent_id``'s slot."""
        ...

    async def orphans(self, kind: Kind) -> list[str]:
        """Agents of ``kind`` holding slots that no live replica renews."""
        ...

    async def adopt(self, agent_id: str) -> bool:
        """Take over an orphan's slot (this replica renews it from now on); False when another
        replica took it first."""
        ...

    async def flush(self) -> None:
        """Return once the queued writes are written."""
        ...

    async def aclose(self) -> None:
        """Write what is queued and let go of the database."""
        ...


@dataclass
class Limiter:
    """Concurrency slots and a one-minute rate window for agents and calls.

    ``reserve`` is called at admission (and refuses over a limit); ``bind`` turns the
    reservation into a running agent when the start succeeded; ``release`` gives back a
    reservation whose start failed; ``ended`` frees an agent's slot. Unbound reservations also
    expire after ``reservation_ttl`` seconds, so a lost ``release`` cannot leak a slot forever.
    """

    policy: Policy
    clock: Callable[[], float] = time.monotonic
    reservation_ttl: float = 300.0
    _running: dict[str, Kind] = field(default_factory=dict, init=False)
    _pending: list[Reservation] = field(default_factory=list, init=False)
    _starts: deque[float] = field(default_factory=deque, init=False)

    def active(self, kind: Kind) -> int:
        """Running plus reserved slots of ``kind``."""
        self._expire()
        running = sum(1 for k in self._running.values() if k == kind)
        return running + sum(1 for r in self._pending if r.kind == kind)

    def running(self) -> dict[str, Kind]:
        """The agents this server started that have not ended: agent_id -> kind."""
        return dict(self._running)

    def check(self, kind: Kind) -> None:
        """Raise :class:`PolicyError` if ``reserve(kind)`` would be refused now (takes nothing)."""
        now = self.clock()
        self._expire()
        limit = self.policy.limit(kind)
        active = self.active(kind)
        if active >= limit:
            raise limit_reached(kind, active, limit)
        while self._starts and self._starts[0] <= now - 60.0:
            self._starts.popleft()
        rate = self.policy.rate_limit
        if len(self._starts) >= rate:
            raise rate_reached(rate, self._starts[0] + 60.0 - now)

    def reserve(self, kind: Kind, *, check: bool = True) -> Reservation:
        """Take a slot and a rate token for ``kind`` or raise :class:`PolicyError`
        (``check=False``: take it whatever the counts, the shared limits decided)."""
        if check:
            self.check(kind)
        now = self.clock()
        self._starts.append(now)
        reservation = Reservation(kind=kind, created=now)
        self._pending.append(reservation)
        return reservation

    def bind(self, agent_id: str, *, kind: Kind, reservation: Reservation | None = None) -> None:
        """Record ``agent_id`` as running, consuming ``reservation`` (or the oldest of ``kind``)."""
        if reservation is None:
            reservation = next((r for r in self._pending if r.kind == kind), None)
        if reservation is not None and reservation in self._pending:
            self._pending.remove(reservation)
            reservation.agent_id = agent_id
        self._running[agent_id] = kind

    def release(self, reservation: Reservation) -> None:
        """Give back a reservation whose start did not happen (idempotent)."""
        if reservation in self._pending:
            self._pending.remove(reservation)

    def ended(self, agent_id: str) -> bool:
        """Free ``agent_id``'s slot; False when it was not running here."""
        return self._running.pop(agent_id, None) is not None

    def _expire(self) -> None:
        cutoff = self.clock() - self.reservation_ttl
        self._pending = [r for r in self._pending if r.created > cutoff]
