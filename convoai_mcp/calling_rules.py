"""Calling rules a careful operator would write: which numbers, at what local time, how often.

Pure logic over a parsed number (:func:`convoai_mcp.phone.parse_phone`), an injected clock and
counts the caller supplies; nothing here stores anything or sends anything, so every refusal
happens before a request is made. A refusal is a :class:`CallingRuleError` naming the rule and the
setting that changes it.

The rules, in the order :meth:`CallingRules.check` applies them:

1. **The number** is valid for its region (see :mod:`convoai_mcp.phone`; fictional numbers only
   in sandbox mode).
2. **Number type**: premium-rate, shared-cost, personal (forwarding) and UAN numbers cost the
   caller more, pagers and voicemail are not answered by a person; all are refused unless
   allowed (:data:`DEFAULT_REFUSED_TYPES`).
3. **Quiet hours** in the callee's local time. A number may ring in several time zones (a US
   toll-free or premium number spans every North American zone, ``+7`` mobiles all of Russia's);
   then the window must hold in *every* one of them. A refusal says when the window next opens.
4. **Daily cap**: at most N calls to the same number in the last 24 hours.

Configuration (the values :meth:`CallingRules.from_env` reads; the names are the proposal for
``config.Settings``):

``CONVOAI_CALL_HOURS``
    The calling window in the callee's local time, ``HH:MM-HH:MM`` (24-hour clock; default
    ``08:00-21:00``). The start is included, the end is not; the end may be ``24:00``; a start
    later than the end wraps past midnight (``18:00-02:00``). ``off`` (or ``none``) calls at any
    hour. Examples: ``09:00-17:30``, ``8:00-20:00``, ``off``.
``CONVOAI_CALLS_PER_NUMBER_PER_DAY``
    Calls to one number in any 24 hours (default ``3``); ``0`` forbids calls, ``off`` removes the
    cap. The caller counts (the archive holds the history) and passes the count in.
``CONVOAI_CALL_ALLOW_TYPES``
    Comma-separated number types to allow although refused by default, from
    ``premium_rate, shared_cost, personal_number, uan, pager, voicemail`` (``all`` for every one).
``CONVOAI_DEFAULT_REGION``
    ISO 3166-1 region for numbers written in national format (``US``: ``(415) 555-0123``); unset,
    every number must start with ``+``.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from convoai_mcp.errors import ConfigError, ConvoAIError
from convoai_mcp.phone import NUMBER_TYPES, NumberType, PhoneNumber, parse_phone

__all__ = [
    "CAP_WINDOW",
    "DEFAULT_CALL_HOURS",
    "DEFAULT_DAILY_CAP",
    "DEFAULT_REFUSED_TYPES",
    "CallHours",
    "CallingRuleError",
    "CallingRules",
    "cap_window_start",
    "check_call_hours",
    "check_daily_cap",
    "check_number_type",
    "next_opening",
    "parse_allowed_types",
    "parse_call_hours",
    "parse_daily_cap",
]

HOURS_SETTING = "CONVOAI_CALL_HOURS"
CAP_SETTING = "CONVOAI_CALLS_PER_NUMBER_PER_DAY"
TYPES_SETTING = "CONVOAI_CALL_ALLOW_TYPES"
REGION_SETTING = "CONVOAI_DEFAULT_REGION"

DEFAULT_DAILY_CAP = 3
"""Calls to one number in any 24 hours unless ``CONVOAI_CALLS_PER_NUMBER_PER_DAY`` says else."""
CAP_WINDOW = timedelta(hours=24)
"""The daily cap counts the calls placed in this window before now (a rolling day)."""

DEFAULT_REFUSED_TYPES: Mapping[NumberType, str] = {
    "premium_rate": "a premium-rate number: the caller pays a surcharge per minute",
    "shared_cost": "a shared-cost number: the caller pays part of the cost, above a normal rate",
    "personal_number": "a personal (forwarding) number: it may forward abroad at a high rate",
    "uan": "a universal access number: often charged above a normal rate",
    "pager": "a pager: no person answers a voice call",
    "voicemail": "a voicemail access number: no person answers",
}
"""Number types refused unless ``CONVOAI_CALL_ALLOW_TYPES`` names them, and why."""

_SEARCH_DAYS = 8
"""How far ahead :func:`next_opening` looks (a week, plus a day for DST changes)."""

Clock = Callable[[], datetime]


def _utc_now() -> datetime:
    return datetime.now(UTC)


class CallingRuleError(ConvoAIError):
    """A call refused by a calling rule before anything was sent.

    ``rule`` names the rule (``number_type``, ``quiet_hours``, ``daily_cap``), ``setting`` the
    setting that changes it, and ``opens_at`` (quiet hours, daily cap) the UTC instant from which
    the same call would pass, when known.
    """

    def __init__(
        self,
        message: str,
        *,
        rule: str,
        setting: str,
        hint: str = "",
        opens_at: datetime | None = None,
    ) -> None:
        self.rule = rule
        self.setting = setting
        self.opens_at = opens_at
        super().__init__(message, hint=hint)


# --- quiet hours -------------------------------------------------------------------------------

_HHMM = re.compile(r"^\s*(\d{1,2}):(\d{2})\s*[-\u2013\u2014]\s*(\d{1,2}):(\d{2})\s*$")
_OFF = frozenset({"off", "none", "any", "always"})


@dataclass(frozen=True)
class CallHours:
    """A daily window in local time, as minutes after midnight: ``start`` included, ``end``
    excluded; ``start > end`` wraps past midnight."""

    start: int
    end: int

    def __post_init__(self) -> None:
        if not (0 <= self.start < 1440 and 0 < self.end <= 1440) or self.start == self.end:
            raise ValueError(f"not a window: start={self.start} end={self.end} (minutes)")

    def contains(self, local: datetime) -> bool:
        """True if the wall-clock time of ``local`` is inside the window."""
        minute = local.hour * 60 + local.minute
        if self.start < self.end:
            return self.start <= minute < self.end
        return minute >= self.start or minute < self.end

    @staticmethod
    def _fmt(minutes: int) -> str:
        return f"{minutes // 60:02d}:{minutes % 60:02d}"

    def __str__(self) -> str:
        return f"{self._fmt(self.start)}-{self._fmt(self.end)}"


DEFAULT_CALL_HOURS = CallHours(8 * 60, 21 * 60)
"""08:00-21:00 in the callee's local time."""


def parse_call_hours(value: str | None, *, setting: str = HOURS_SETTING) -> CallHours | None:
    """Read a ``CONVOAI_CALL_HOURS`` value: ``HH:MM-HH:MM``, or ``off`` for no quiet hours (None).
    Unset or empty means :data:`DEFAULT_CALL_HOURS`. Raises :class:`ConfigError` otherwise."""
    if value is None or not value.strip():
        return DEFAULT_CALL_HOURS
    if value.strip().lower() in _OFF:
        return None
    match = _HHMM.fullmatch(value)
    if match is None:
        raise ConfigError(
            f"{setting}={value!r} is not a window",
            hint="write it as HH:MM-HH:MM in the callee's local time, e.g. 08:00-21:00, or off",
        )
    h1, m1, h2, m2 = (int(g) for g in match.groups())
    if h1 > 23 or m1 > 59 or h2 > 24 or m2 > 59 or (h2 == 24 and m2 != 0):
        raise ConfigError(
            f"{setting}={value!r} has a time that does not exist",
            hint="hours are 00-23 (24:00 only as the end), minutes 00-59",
        )
    start, end = h1 * 60 + m1, h2 * 60 + m2
    if start == end or (start == 0 and end == 1440):
        raise ConfigError(
            f"{setting}={value!r} is the whole day or empty",
            hint=f"use {setting}=off to call at any hour, or give a window such as 08:00-21:00",
        )
    return CallHours(start, end)


def _zones(names: Sequence[str]) -> list[ZoneInfo]:
    zones = []
    for name in names:
        try:
            zones.append(ZoneInfo(name))
        except (ZoneInfoNotFoundError, ValueError):
            raise CallingRuleError(
                f"time zone {name!r} is not known to this system",
                rule="quiet_hours",
                setting=HOURS_SETTING,
                hint=f"install the tzdata package (pip install tzdata), or set {HOURS_SETTING}=off",
            ) from None
    return zones


def _inside_all(hours: CallHours, zones: Sequence[ZoneInfo], instant: datetime) -> bool:
    return all(hours.contains(instant.astimezone(zone)) for zone in zones)


def _local_start(day: date, minute: int, zone: ZoneInfo) -> datetime:
    """The UTC instant the wall clock of ``zone`` first reaches ``minute`` on ``day``; when that
    time does not exist (skipped by a DST change), the instant of the change."""
    wall = datetime(day.year, day.month, day.day, minute // 60, minute % 60, tzinfo=zone)
    late = wall.astimezone(UTC)  # fold=0: the first of two, or a skipped time read too late
    if late.astimezone(zone).replace(tzinfo=None) == wall.replace(tzinfo=None):
        return late
    early = wall.replace(fold=1).astimezone(UTC)  # a skipped time read too early
    while (late - early).total_seconds() > 1:  # the change lies in (early, late]
        middle = early + (late - early) / 2
        if middle.astimezone(zone).utcoffset() == late.astimezone(zone).utcoffset():
            late = middle
        else:
            early = middle
    return late.replace(microsecond=0)


def next_opening(zones: Sequence[str], hours: CallHours, now: datetime) -> datetime | None:
    """The first instant at or after ``now`` (aware) when the window holds in every zone, in
    UTC; None if it never does within a week (the zones are too far apart for the window).

    The window opens either now or when it opens in one of the zones, so the candidates are
    ``now`` and each zone's local window starts over the coming days (a start skipped by a DST
    change counts at the change).
    """
    if now.tzinfo is None:
        raise ValueError("now must be timezone-aware")
    infos = _zones(zones)
    now = now.astimezone(UTC)
    if _inside_all(hours, infos, now):
        return now
    candidates: set[datetime] = set()
    for zone in infos:
        local_today = now.astimezone(zone).date()
        for days in range(-1, _SEARCH_DAYS):
            day = local_today + timedelta(days=days)
            start = _local_start(day, hours.start, zone)
            if start > now:
                candidates.add(start)
    for candidate in sorted(candidates):
        if _inside_all(hours, infos, candidate):
            return candidate
    return None


def _ago(delta: timedelta) -> str:
    minutes = max(1, round(delta.total_seconds() / 60))
    hours, minutes = divmod(minutes, 60)
    if hours and minutes:
        return f"{hours} h {minutes} min"
    return f"{hours} h" if hours else f"{minutes} min"


def check_call_hours(number: PhoneNumber, hours: CallHours | None, now: datetime) -> None:
    """Refuse (:class:`CallingRuleError`, rule ``quiet_hours``) when ``now`` is outside ``hours``
    in any of the number's time zones; ``hours=None`` (``off``) allows any time."""
    if hours is None:
        return
    if not number.time_zones:
        raise CallingRuleError(
            f"the local time of {number.e164} is not known, so quiet hours cannot be checked",
            rule="quiet_hours",
            setting=HOURS_SETTING,
            hint=f"set {HOURS_SETTING}=off to call numbers without a known time zone",
        )
    infos = _zones(number.time_zones)
    now = now.astimezone(UTC)
    outside = [z for z in infos if not hours.contains(now.astimezone(z))]
    if not outside:
        return
    shown = ", ".join(f"{now.astimezone(z):%H:%M} in {z.key}" for z in outside[:3])
    if len(outside) > 3:
        shown += f" and {len(outside) - 3} more zones"
    spread = (
        f" (this number may ring in {len(infos)} time zones; the window must hold in all)"
        if len(infos) > 1
        else ""
    )
    opens = next_opening(number.time_zones, hours, now)
    if opens is None:
        when = (
            f"the window {hours} never holds in all of this number's zones at once; call a "
            "number that pins one place, or widen the window"
        )
    else:
        local = opens.astimezone(outside[0])
        when = (
            f"the window opens at {opens:%Y-%m-%d %H:%M} UTC ({local:%H:%M} in "
            f"{outside[0].key}), in {_ago(opens - now)}"
        )
    raise CallingRuleError(
        f"quiet hours: it is {shown} for {number.e164}; calls are allowed {hours} local "
        f"time{spread}",
        rule="quiet_hours",
        setting=HOURS_SETTING,
        hint=f"{when}; the operator sets the window with {HOURS_SETTING} (or off)",
        opens_at=opens,
    )


# --- daily cap ---------------------------------------------------------------------------------


def parse_daily_cap(value: str | None, *, setting: str = CAP_SETTING) -> int | None:
    """Read a ``CONVOAI_CALLS_PER_NUMBER_PER_DAY`` value: a count (``0`` forbids), ``off`` for no
    cap (None); unset or empty means :data:`DEFAULT_DAILY_CAP`."""
    if value is None or not value.strip():
        return DEFAULT_DAILY_CAP
    text = value.strip().lower()
    if text in _OFF:
        return None
    if not text.isdigit():
        raise ConfigError(
            f"{setting}={value!r} is not a count",
            hint="give a whole number of calls per number per day, e.g. 3, or off",
        )
    return int(text)


def cap_window_start(now: datetime) -> datetime:
    """Count the calls placed since this instant (:data:`CAP_WINDOW` before ``now``)."""
    return now.astimezone(UTC) - CAP_WINDOW


def check_daily_cap(
    e164: str,
    calls_in_window: int,
    cap: int | None,
    *,
    oldest_in_window: datetime | None = None,
) -> None:
    """Refuse (rule ``daily_cap``) when ``calls_in_window`` calls to ``e164`` were placed since
    :func:`cap_window_start` and that reaches ``cap`` (None: no cap). ``oldest_in_window``, the
    time of the oldest of them, lets the refusal say when the next call is possible."""
    if cap is None or calls_in_window < cap:
        return
    opens = oldest_in_window.astimezone(UTC) + CAP_WINDOW if oldest_in_window else None
    when = f"the next call is possible from {opens:%Y-%m-%d %H:%M} UTC; " if opens else ""
    if cap == 0:
        message = f"calls are switched off: {CAP_SETTING}=0"
    else:
        message = (
            f"{e164} was called {calls_in_window} time(s) in the last 24 hours; the cap is {cap}"
        )
    raise CallingRuleError(
        message,
        rule="daily_cap",
        setting=CAP_SETTING,
        hint=f"{when}the operator changes the cap with {CAP_SETTING} (a number, or off)",
        opens_at=opens,
    )


# --- number types ------------------------------------------------------------------------------


def parse_allowed_types(value: str | None, *, setting: str = TYPES_SETTING) -> frozenset[str]:
    """Read a ``CONVOAI_CALL_ALLOW_TYPES`` value: comma-separated :data:`NumberType` names (or
    ``all``) to allow although :data:`DEFAULT_REFUSED_TYPES` lists them."""
    if value is None or not value.strip():
        return frozenset()
    names = {part.strip().lower().replace("-", "_") for part in value.split(",") if part.strip()}
    if "all" in names:
        return frozenset(DEFAULT_REFUSED_TYPES)
    unknown = sorted(names - set(NUMBER_TYPES))
    if unknown:
        raise ConfigError(
            f"{setting} names unknown number types: {', '.join(unknown)}",
            hint=f"choose from {', '.join(DEFAULT_REFUSED_TYPES)} (or all)",
        )
    return frozenset(names)


def check_number_type(number: PhoneNumber, allowed: frozenset[str] = frozenset()) -> None:
    """Refuse (rule ``number_type``) a number of a type in :data:`DEFAULT_REFUSED_TYPES` that
    ``allowed`` does not name."""
    why = DEFAULT_REFUSED_TYPES.get(number.type)
    if why is None or number.type in allowed:
        return
    raise CallingRuleError(
        f"{number.e164} is {why}",
        rule="number_type",
        setting=TYPES_SETTING,
        hint=f"the operator allows it with {TYPES_SETTING}={number.type}",
    )


# --- all together ------------------------------------------------------------------------------


@dataclass(frozen=True)
class CallingRules:
    """The operator's calling rules, applied in order by :meth:`check`."""

    hours: CallHours | None = DEFAULT_CALL_HOURS
    daily_cap: int | None = DEFAULT_DAILY_CAP
    allowed_types: frozenset[str] = frozenset()
    default_region: str | None = None
    sandbox: bool = False
    clock: Clock = field(default=_utc_now, compare=False, repr=False)

    @classmethod
    def from_env(
        cls, env: Mapping[str, str], *, sandbox: bool = False, clock: Clock = _utc_now
    ) -> CallingRules:
        """The rules from the settings named in this module's docstring (ConfigError if bad)."""
        region = env.get(REGION_SETTING, "").strip() or None
        if region is not None:
            import phonenumbers

            if region.upper() not in phonenumbers.SUPPORTED_REGIONS:
                raise ConfigError(
                    f"{REGION_SETTING}={region!r} is not a known region",
                    hint="use an ISO 3166-1 code such as US, GB or DE",
                )
        return cls(
            hours=parse_call_hours(env.get(HOURS_SETTING)),
            daily_cap=parse_daily_cap(env.get(CAP_SETTING)),
            allowed_types=parse_allowed_types(env.get(TYPES_SETTING)),
            default_region=region.upper() if region else None,
            sandbox=sandbox,
            clock=clock,
        )

    def parse(self, text: str) -> PhoneNumber:
        """The number, normalised and validated (:class:`~convoai_mcp.phone.PhoneNumberError`)."""
        return parse_phone(text, default_region=self.default_region, sandbox=self.sandbox)

    def check(
        self,
        text: str,
        *,
        calls_in_window: int = 0,
        oldest_in_window: datetime | None = None,
    ) -> PhoneNumber:
        """Apply every rule to a destination; return the parsed number or raise.

        ``calls_in_window`` is the number of calls placed to this number since
        :func:`cap_window_start` of ``self.clock()`` (the caller counts them).
        """
        number = self.parse(text)
        check_number_type(number, self.allowed_types)
        check_call_hours(number, self.hours, self.clock())
        check_daily_cap(
            number.e164, calls_in_window, self.daily_cap, oldest_in_window=oldest_in_window
        )
        return number
