"""Campaign storage shared by both archive backends: the rows, their states, and the SQL.

A campaign (:data:`CAMPAIGN_STATUSES`) has one row in ``campaigns`` (its spec as JSON) and one
row per destination in ``campaign_destinations`` (:data:`DESTINATION_STATES`). Work is *claimed*:
:meth:`CampaignStore.claim_due` gives a scheduler the destinations it may dial now (and the calls
in progress whose owner's lease expired: a dead process or replica), marking them with its owner
id and a lease; every later write of a destination is fenced by that owner
(:meth:`CampaignStore.update_destination` changes nothing for a claim that was taken over). On
PostgreSQL the claim locks the campaign row and takes destinations with ``FOR UPDATE SKIP
LOCKED``, so two replicas never take the same number; on SQLite ``BEGIN IMMEDIATE`` serialises
the processes sharing a file.

The SQL here is written with ``?`` placeholders (SQLite's); the PostgreSQL backend turns them
into ``%s``.
"""

from __future__ import annotations

import json
from collections.abc import Collection, Mapping, Sequence
from typing import Any, Literal, Protocol, get_args, runtime_checkable

__all__ = [
    "CAMPAIGN_STATUSES",
    "DESTINATION_COLUMNS",
    "DESTINATION_STATES",
    "FINAL_STATES",
    "IN_PROGRESS",
    "CampaignStatus",
    "CampaignStore",
    "DestinationState",
]

CampaignStatus = Literal["running", "paused", "cancelled", "completed", "expired"]
CAMPAIGN_STATUSES: tuple[str, ...] = get_args(CampaignStatus)
DestinationState = Literal[
    "queued",
    "dialing",
    "ringing",
    "answered",
    "ended",
    "no_answer",
    "busy",
    "failed",
    "skipped",
    "cancelled",
]
DESTINATION_STATES: tuple[str, ...] = get_args(DestinationState)
IN_PROGRESS: frozenset[str] = frozenset({"dialing", "ringing", "answered"})
"""A call was (or is being) placed: it is followed until it ends."""
FINAL_STATES: frozenset[str] = frozenset(DESTINATION_STATES) - IN_PROGRESS - {"queued"}

CAMPAIGN_COLUMNS = (
    "id",
    "name",
    "status",
    "spec",
    "created_at",
    "created_by",
    "updated_at",
    "stop_mode",
)
DESTINATION_COLUMNS = (
    "campaign_id",
    "idx",
    "number",
    "variables",
    "state",
    "reason",
    "rule",
    "attempts",
    "agent_id",
    "duration",
    "hung_up_by",
    "latency",
    "next_at",
    "dialed_at",
    "claim_owner",
    "claim_until",
    "updated_at",
)
_JSON_COLUMNS = frozenset({"spec", "variables", "attempts", "latency"})
_UPDATABLE = frozenset(DESTINATION_COLUMNS) - {"campaign_id", "idx", "number"}

SQLITE_SCHEMA = """
CREATE TABLE IF NOT EXISTS campaigns (
    id TEXT PRIMARY KEY,
    name TEXT NOT NULL,
    status TEXT NOT NULL,
    spec TEXT NOT NULL,
    created_at REAL NOT NULL,
    created_by TEXT,
    updated_at REAL NOT NULL,
    stop_mode TEXT
);
CREATE TABLE IF NOT EXISTS campaign_destinations (
    campaign_id TEXT NOT NULL,
    idx INTEGER NOT NULL,
    number TEXT NOT NULL,
    variables TEXT,
    state TEXT NOT NULL,
    reason TEXT,
    rule TEXT,
    attempts TEXT NOT NULL DEFAULT '[]',
    agent_id TEXT,
    duration REAL,
    hung_up_by TEXT,
    latency TEXT,
    next_at REAL,
    dialed_at REAL,
    claim_owner TEXT,
    claim_until REAL,
    updated_at REAL NOT NULL,
    PRIMARY KEY (campaign_id, idx)
);
CREATE INDEX IF NOT EXISTS campaign_destinations_due
    ON campaign_destinations (campaign_id, state, next_at);
CREATE INDEX IF NOT EXISTS campaigns_status ON campaigns (status, created_at);
"""

POSTGRES_MIGRATION = """
CREATE TABLE campaigns (
    id TEXT PRIMARY KEY,
    name TEXT NOT NULL,
    status TEXT NOT NULL,
    spec TEXT NOT NULL,
    created_at DOUBLE PRECISION NOT NULL,
    created_by TEXT,
    updated_at DOUBLE PRECISION NOT NULL,
    stop_mode TEXT
);
CREATE INDEX campaigns_status ON campaigns (status, created_at);
CREATE TABLE campaign_destinations (
    campaign_id TEXT NOT NULL REFERENCES campaigns (id) ON DELETE CASCADE,
    idx INTEGER NOT NULL,
    number TEXT NOT NULL,
    variables TEXT,
    state TEXT NOT NULL,
    reason TEXT,
    rule TEXT,
    attempts TEXT NOT NULL DEFAULT '[]',
    agent_id TEXT,
    duration DOUBLE PRECISION,
    hung_up_by TEXT,
    latency TEXT,
    next_at DOUBLE PRECISION,
    dialed_at DOUBLE PRECISION,
    claim_owner TEXT,
    claim_until DOUBLE PRECISION,
    updated_at DOUBLE PRECISION NOT NULL,
    PRIMARY KEY (campaign_id, idx)
);
CREATE INDEX campaign_destinations_due ON campaign_destinations (campaign_id, state, next_at);
"""
"""PostgreSQL schema version 3 (see :data:`convoai_mcp.archive.postgres.MIGRATIONS`)."""

# -- SQL (``?`` placeholders) -------------------------------------------------------------------

INSERT_CAMPAIGN = (
    f"INSERT INTO campaigns ({', '.join(CAMPAIGN_COLUMNS)}) "  # noqa: S608 - fixed names
    f"VALUES ({', '.join('?' for _ in CAMPAIGN_COLUMNS)})"
)
INSERT_DESTINATION = (
    f"INSERT INTO campaign_destinations ({', '.join(DESTINATION_COLUMNS)}) "  # noqa: S608
    f"VALUES ({', '.join('?' for _ in DESTINATION_COLUMNS)})"
)
SELECT_CAMPAIGN = f"SELECT {', '.join(CAMPAIGN_COLUMNS)} FROM campaigns"  # noqa: S608 - fixed
SELECT_DESTINATIONS = f"SELECT {', '.join(DESTINATION_COLUMNS)} FROM campaign_destinations"  # noqa: S608 - fixed
COUNT_STATES = (
    "SELECT state, count(*) FROM campaign_destinations WHERE campaign_id = ? GROUP BY state"
)
# A queued destination under a live claim is about to be dialled: it counts as in flight and
# as a dial of the last minute (else two rounds in a row would both take the same budget).
IN_FLIGHT = (
    "SELECT count(*) FROM campaign_destinations WHERE campaign_id = ? "
    "AND (state IN ('dialing', 'ringing', 'answered') OR (state = 'queued' AND claim_until >= ?))"
)
RECENT_DIALS = (
    "SELECT count(*) FROM campaign_destinations WHERE campaign_id = ? AND (dialed_at >= ? "
    "OR (state = 'queued' AND claim_until >= ?))"
)
# In-progress calls whose owner's lease ran out (a dead process): taken over to follow them.
ORPHANS = (
    SELECT_DESTINATIONS + " WHERE state IN ('dialing', 'ringing', 'answered') "
    "AND (claim_until IS NULL OR claim_until < ?) {campaign} ORDER BY campaign_id, idx"
)
DUE = (
    SELECT_DESTINATIONS  # noqa: S608 - fixed names
    + " WHERE state = 'queued' AND (next_at IS NULL OR next_at <= ?) "
    "AND (claim_until IS NULL OR claim_until < ?) "
    "AND campaign_id IN (SELECT id FROM campaigns WHERE status = 'running') {campaign} "
    "ORDER BY campaign_id, next_at IS NOT NULL, next_at, idx LIMIT ?"
)
CLAIM = (
    "UPDATE campaign_destinations SET claim_owner = ?, claim_until = ?, updated_at = ? "
    "WHERE campaign_id = ? AND idx = ?"
)
RENEW = (
    "UPDATE campaign_destinations SET claim_until = ? WHERE claim_owner = ? "
    "AND state IN ('queued', 'dialing', 'ringing', 'answered')"
)
CANCEL_QUEUED = (
    "UPDATE campaign_destinations SET state = 'cancelled', reason = ?, claim_owner = NULL, "
    "claim_until = NULL, next_at = NULL, updated_at = ? WHERE campaign_id = ? AND state = 'queued'"
)


def encode(column: str, value: Any) -> Any:
    """A value as stored (JSON text for the JSON columns)."""
    if column in _JSON_COLUMNS and value is not None:
        return json.dumps(value, ensure_ascii=False, default=str)
    return value


def campaign_row(values: Mapping[str, Any]) -> tuple[Any, ...]:
    """The ``INSERT_CAMPAIGN`` parameters of a campaign."""
    return tuple(encode(c, values.get(c)) for c in CAMPAIGN_COLUMNS)


def destination_row(values: Mapping[str, Any]) -> tuple[Any, ...]:
    """The ``INSERT_DESTINATION`` parameters of a destination (``attempts`` defaults to [])."""
    filled = {"attempts": [], **values}
    return tuple(encode(c, filled.get(c)) for c in DESTINATION_COLUMNS)


def decode(columns: Sequence[str], row: Sequence[Any]) -> dict[str, Any]:
    """A stored row as a dict (JSON columns decoded)."""
    out: dict[str, Any] = {}
    for column, value in zip(columns, row, strict=True):
        if column in _JSON_COLUMNS and isinstance(value, str):
            value = json.loads(value)
        out[column] = value
    return out


def update_sql(fields: Mapping[str, Any], *, fenced: bool) -> tuple[str, list[Any]]:
    """``UPDATE`` of a destination's ``fields`` (and ``updated_at``), fenced by its owner when
    ``fenced`` (parameters end with campaign id, idx and, fenced, the owner, filled in by the
    caller); ValueError for a column that cannot be set."""
    unknown = set(fields) - _UPDATABLE
    if unknown:
        raise ValueError(f"cannot set {sorted(unknown)} on a campaign destination")
    sets = ", ".join(f"{c} = ?" for c in fields)
    sql = f"UPDATE campaign_destinations SET {sets} WHERE campaign_id = ? AND idx = ?"  # noqa: S608
    if fenced:
        sql += " AND claim_owner = ?"
    return sql, [encode(c, v) for c, v in fields.items()]


def status_sql(expect: Collection[str] | None) -> str:
    """``UPDATE`` of a campaign's status (parameters: status, stop_mode, updated_at, id, and
    the expected statuses)."""
    sql = (
        "UPDATE campaigns SET status = ?, stop_mode = coalesce(?, stop_mode), updated_at = ? "
        "WHERE id = ?"
    )
    if expect:
        sql += f" AND status IN ({', '.join('?' for _ in expect)})"
    return sql


def budget(
    limit: int, in_flight: int, recent: int, max_in_flight: int | None, per_minute: int | None
) -> int:
    """How many new dials a claim may take now."""
    room = limit
    if max_in_flight is not None:
        room = min(room, max_in_flight - in_flight)
    if per_minute is not None:
        room = min(room, per_minute - recent)
    return max(room, 0)


@runtime_checkable
class CampaignStore(Protocol):
    """What the campaign scheduler needs from the archive (both backends implement it)."""

    async def create_campaign(
        self, campaign: Mapping[str, Any], destinations: Sequence[Mapping[str, Any]]
    ) -> None:
        """Store a new campaign and its destinations in one transaction."""
        ...

    async def get_campaign(self, campaign_id: str) -> dict[str, Any] | None:
        """The campaign's row (spec decoded), or None."""
        ...

    async def list_campaigns(
        self, *, status: str | None = None, limit: int = 50
    ) -> list[dict[str, Any]]:
        """Campaigns newest first (only ``status`` ones when given)."""
        ...

    async def set_campaign_status(
        self,
        campaign_id: str,
        status: str,
        *,
        expect: Collection[str] | None = None,
        stop_mode: str | None = None,
    ) -> bool:
        """Set the status (only from one of ``expect`` when given); True if it changed."""
        ...

    async def list_destinations(self, campaign_id: str) -> list[dict[str, Any]]:
        """Every destination of the campaign, by index."""
        ...

    async def destination_counts(self, campaign_id: str) -> dict[str, int]:
        """How many destinations are in each state."""
        ...

    async def claim_due(
        self,
        owner: str,
        now: float,
        limit: int,
        lease: float,
        *,
        campaign_id: str | None = None,
        max_in_flight: int | None = None,
        per_minute: int | None = None,
    ) -> list[dict[str, Any]]:
        """Claim for ``owner`` (until ``now + lease``) the in-progress destinations whose lease
        expired, and up to ``limit`` queued ones that are due (of running campaigns), within
        ``max_in_flight`` calls in progress and ``per_minute`` dials in the last minute."""
        ...

    async def renew_claims(self, owner: str, now: float, lease: float) -> int:
        """Extend the leases of ``owner``'s claims; returns how many."""
        ...

    async def update_destination(
        self, campaign_id: str, idx: int, owner: str | None, fields: Mapping[str, Any]
    ) -> bool:
        """Write ``fields`` of a destination, only while ``owner`` holds its claim (``None``:
        whoever does); False when it does not any more."""
        ...

    async def cancel_queued(self, campaign_id: str, reason: str, now: float) -> int:
        """Mark the campaign's queued destinations cancelled; returns how many."""
        ...
