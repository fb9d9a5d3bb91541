"""The PostgreSQL transcript archive (:class:`~convoai_mcp.archive.Archive` for a team deployment).

Chosen by ``CONVOAI_DATABASE_URL=postgresql://…`` (or ``open_archive("postgresql://…")``); the
driver is psycopg 3 (async) with ``psycopg-pool``, the optional extra
``pip install 'convoai-mcp[postgres]'``. Several server processes (replicas) may share one
database: every write is one transaction, and the deduplication keys are the SQLite archive's
(:mod:`convoai_mcp.archive.sqlite`), enforced by unique constraints, so concurrent writers of the
same entries store each once. It also holds the audit trail (append-only, as in SQLite: what
the per-number daily call cap counts).

**Schema and migrations.** The server creates and migrates the schema on first use:
:data:`MIGRATIONS` is the ordered list of schema changes, ``schema_version`` records those
applied. Migrating runs in one transaction under ``pg_advisory_xact_lock`` (:data:`_LOCK_KEY`),
so replicas that start at once wait for each other and each change is applied exactly once;
a migrated database costs one read. A database migrated by a newer server (a version this one
does not know) is refused with what to do, never written.

Values are stored as the SQLite archive stores them (JSON text, epoch seconds from the injected
clock), so both backends answer the same. The connection URL may carry a password: it is never
part of a message (:attr:`PostgresArchive.where` is ``host:port/dbname``).
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable, Iterable, Mapping, Sequence
from typing import TYPE_CHECKING, Any, Literal

import anyio

from convoai_mcp.archive.campaigns import POSTGRES_MIGRATION as _CAMPAIGNS
from convoai_mcp.archive.postgres_campaigns import PostgresCampaigns
from convoai_mcp.archive.sqlite import _audit_cursor, _content_hash, _int_or_none, _turn_key
from convoai_mcp.errors import ConfigError

if TYPE_CHECKING:
    from psycopg import AsyncConnection
    from psycopg_pool import AsyncConnectionPool

__all__ = ["MIGRATIONS", "SCHEMA_VERSION", "PostgresArchive", "describe_url"]

_PRUNE_EVERY = 3600.0
_LOCK_KEY = 0x636F6E766F6169  # "convoai": the advisory lock that serialises migrations
_INSTALL_HINT = "install the driver: pip install 'convoai-mcp[postgres]'"

MIGRATIONS: tuple[tuple[int, str], ...] = (
    (
        1,
        """
        CREATE TABLE agents (
            agent_id TEXT PRIMARY KEY,
            kind TEXT,
            name TEXT,
            channel TEXT,
            start_ts BIGINT,
            status TEXT,
            total_turn_count BIGINT,
            first_seen DOUBLE PRECISION NOT NULL,
            last_seen DOUBLE PRECISION NOT NULL
        );
        CREATE INDEX agents_last_seen ON agents (last_seen);
        CREATE TABLE history (
            seq BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
            agent_id TEXT NOT NULL,
            role TEXT NOT NULL,
            start_key BIGINT NOT NULL,
            content_hash TEXT NOT NULL,
            speech_start_ms BIGINT,
            data TEXT NOT NULL,
            archived_at DOUBLE PRECISION NOT NULL,
            UNIQUE (agent_id, role, start_key, content_hash)
        );
        CREATE TABLE turns (
            agent_id TEXT NOT NULL,
            turn_key TEXT NOT NULL,
            turn_order DOUBLE PRECISION,
            data TEXT NOT NULL,
            archived_at DOUBLE PRECISION NOT NULL,
            PRIMARY KEY (agent_id, turn_key)
        );
        """,
    ),
    (
        2,
        """
        CREATE TABLE audit (
            seq BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
            at DOUBLE PRECISION NOT NULL,
            tool TEXT NOT NULL,
            placed_number TEXT,
            data TEXT NOT NULL
        );
        CREATE INDEX audit_at ON audit (at);
        CREATE INDEX audit_placed ON audit (placed_number, at);
        """,
    ),
    (3, _CAMPAIGNS),  # campaigns and their destinations (convoai_mcp.archive.campaigns)
    (
        4,
        """
        CREATE TABLE limit_slots (
            slot_id TEXT PRIMARY KEY,
            kind TEXT NOT NULL,
            agent_id TEXT UNIQUE,
            replica TEXT NOT NULL,
            created DOUBLE PRECISION NOT NULL,
            expires DOUBLE PRECISION NOT NULL
        );
        CREATE INDEX limit_slots_kind ON limit_slots (kind, expires);
        CREATE TABLE limit_starts (
            seq BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
            at DOUBLE PRECISION NOT NULL
        );
        CREATE INDEX limit_starts_at ON limit_starts (at);
        CREATE TABLE watch_leases (
            agent_id TEXT PRIMARY KEY,
            owner TEXT NOT NULL,
            expires DOUBLE PRECISION NOT NULL
        );
        CREATE TABLE started_agents (
            agent_id TEXT PRIMARY KEY,
            origin TEXT NOT NULL,
            ended BOOLEAN NOT NULL,
            data TEXT NOT NULL,
            updated DOUBLE PRECISION NOT NULL
        );
        CREATE INDEX started_agents_updated ON started_agents (updated);
        """,
    ),
)
"""Every schema change: ``(version, SQL)``. A change is a new entry (never an edit of an applied
one). Version 4 (shared limits, watcher leases and started-agent records of replicas,
:mod:`convoai_mcp.server.replicas`) was written beside version 3 (campaigns): every version the
database lacks is applied, in version order, so a gap filled later is still applied."""

SCHEMA_VERSION = max(version for version, _ in MIGRATIONS)
"""The schema version this server writes."""

_HISTORY_UPSERT = (
    "INSERT INTO history (agent_id, role, start_key, content_hash, speech_start_ms, data, "
    "archived_at) VALUES (%s, %s, %s, %s, %s, %s, %s) "
    "ON CONFLICT (agent_id, role, start_key, content_hash) DO UPDATE SET "
    "data = excluded.data, archived_at = excluded.archived_at "
    "WHERE history.data IS DISTINCT FROM excluded.data"
)
_TURN_UPSERT = (
    "INSERT INTO turns (agent_id, turn_key, turn_order, data, archived_at) "
    "VALUES (%s, %s, %s, %s, %s) ON CONFLICT (agent_id, turn_key) DO UPDATE SET "
    "data = excluded.data, archived_at = excluded.archived_at "
    "WHERE turns.data IS DISTINCT FROM excluded.data"
)
_AGENT_COLUMNS = frozenset({"kind", "name", "channel", "start_ts", "status", "total_turn_count"})


def describe_url(url: str) -> str:
    """``host:port/dbname`` of a connection URL: what messages show (never the password)."""
    try:
        from psycopg.conninfo import conninfo_to_dict

        parts = conninfo_to_dict(url)
    except Exception:  # no driver, or a malformed URL: say no more than the scheme
        return url.split("://", 1)[0] + "://…"
    host = str(parts.get("host") or "localhost")
    port = str(parts.get("port") or "5432")
    return f"{host}:{port}/{parts.get('dbname') or parts.get('user') or ''}"


class PostgresArchive(PostgresCampaigns):
    """A PostgreSQL transcript archive; one per server process, shared by replicas. It is also
    the campaign store (:class:`~convoai_mcp.archive.campaigns.CampaignStore`)."""

    def __init__(
        self,
        url: str,
        *,
        retention_days: float = 30.0,
        clock: Callable[[], float] = time.time,
        min_size: int = 1,
        max_size: int = 4,
        connect_timeout: float = 10.0,
        read_only: bool = False,
    ) -> None:
        self._url = url
        self.read_only = read_only
        """Only read (``convoai-mcp audit``): no migration, every transaction read-only."""
        self.retention_days = retention_days
        self._clock = clock
        self._min_size = min_size
        self._max_size = max_size
        self._connect_timeout = connect_timeout
        self._pool: AsyncConnectionPool[Any] | None = None
        self._opening = anyio.Lock()
        self._last_prune = float("-inf")

    @property
    def where(self) -> str:
        """``host:port/dbname``, for messages."""
        return describe_url(self._url)

    def __repr__(self) -> str:
        return f"PostgresArchive({self.where!r})"

    # -- connection -------------------------------------------------------------------------

    async def _connection_pool(self) -> AsyncConnectionPool[Any]:
        if self._pool is not None:
            return self._pool
        async with self._opening:
            if self._pool is None:
                try:
                    from psycopg_pool import AsyncConnectionPool
                except ImportError:
                    raise ConfigError(
                        "CONVOAI_DATABASE_URL is a PostgreSQL database, but its driver "
                        "(psycopg, psycopg-pool) is not installed",
                        hint=_INSTALL_HINT,
                    ) from None
                kwargs: dict[str, Any] = {"autocommit": True}
                if self.read_only:
                    kwargs["options"] = "-c default_transaction_read_only=on"
                else:
                    await self._migrate()
                pool: AsyncConnectionPool[Any] = AsyncConnectionPool(
                    self._url,
                    min_size=self._min_size,
                    max_size=self._max_size,
                    kwargs=kwargs,
                    timeout=self._connect_timeout,
                    open=False,
                    check=AsyncConnectionPool.check_connection,
                    name="convoai-archive",
                )
                await pool.open(wait=True, timeout=self._connect_timeout)
                self._pool = pool
        return self._pool

    async def _migrate(self) -> None:
        """Bring the schema to :data:`SCHEMA_VERSION` (see the module docstring)."""
        import psycopg

        async with await psycopg.AsyncConnection.connect(
            self._url, connect_timeout=max(1, round(self._connect_timeout))
        ) as conn:
            await migrate(conn)

    async def check(self) -> None:
        """Connect, migrate and read; :class:`ConfigError` naming ``CONVOAI_DATABASE_URL`` when
        the database is unreachable or unusable."""
        try:
            pool = await self._connection_pool()
            async with pool.connection() as conn:
                await conn.execute("SELECT count(*) FROM agents")
        except ConfigError:
            raise
        except Exception as exc:
            await self.aclose()
            raise ConfigError(
                f"the PostgreSQL archive {self.where} is unusable: {_reason(exc)}",
                hint="check CONVOAI_DATABASE_URL (postgresql://user:password@host:port/dbname) "
                "and that the server is up and lets this user create tables; or unset it to "
                "use the SQLite archive",
            ) from None

    async def ping(self) -> None:
        """One round trip to the database (raises when it cannot be reached)."""
        pool = await self._connection_pool()
        async with pool.connection() as conn:
            await conn.execute("SELECT 1")

    async def aclose(self) -> None:
        """Close the pool (reopened on the next use)."""
        pool, self._pool = self._pool, None
        if pool is not None:
            await pool.close()

    # -- writes -----------------------------------------------------------------------------

    async def _touch(self, conn: AsyncConnection[Any], agent_id: str, **fields: Any) -> None:
        now = self._clock()
        values = {k: v for k, v in fields.items() if v is not None}
        assert set(values) <= _AGENT_COLUMNS
        columns = "".join(f", {column}" for column in values)
        marks = ", %s" * len(values)
        sets = "".join(f", {column} = excluded.{column}" for column in values)
        await conn.execute(
            f"INSERT INTO agents (agent_id, first_seen, last_seen{columns}) "  # noqa: S608 - fixed names
            f"VALUES (%s, %s, %s{marks}) "
            f"ON CONFLICT (agent_id) DO UPDATE SET last_seen = excluded.last_seen{sets}",
            (agent_id, now, now, *values.values()),
        )

    async def _write(
        self, agent_id: str, sql: str, rows: Sequence[tuple[Any, ...]], **agent_fields: Any
    ) -> int:
        """In one transaction: note the agent (its non-``None`` fields) and run ``sql`` for each
        row; returns how many rows it inserted or changed."""
        pool = await self._connection_pool()
        changed = 0
        async with pool.connection() as conn, conn.transaction():
            await self._touch(conn, agent_id, **agent_fields)
            if rows:  # one pipelined batch; rowcount is the total of rows inserted or changed
                async with conn.cursor() as cur:
                    await cur.executemany(sql, rows)
                    changed = max(cur.rowcount, 0)
        await self._maybe_prune()
        return changed

    async def note_agent(
        self,
        agent_id: str,
        *,
        kind: Literal["agent", "call"] | None = None,
        channel: str | None = None,
        name: str | None = None,
    ) -> None:
        """Record that this server started ``agent_id`` (kind, channel, name)."""
        await self._write(agent_id, "", (), kind=kind, channel=channel, name=name)

    async def save_history(
        self,
        agent_id: str,
        entries: Iterable[Mapping[str, Any]],
        *,
        start_ts: int | None = None,
        status: str | None = None,
    ) -> int:
        """Store new history entries and refresh changed ones (as the SQLite archive does);
        returns how many were new or changed."""
        now = self._clock()
        rows = []
        for entry in entries:
            data = dict(entry)
            start = _int_or_none(data.get("speech_start_ms"))
            rows.append(
                (
                    agent_id,
                    str(data.get("role") or ""),
                    -1 if start is None else start,
                    _content_hash(data.get("content") or ""),
                    start,
                    json.dumps(data, ensure_ascii=False, default=str),
                    now,
                )
            )
        return await self._write(agent_id, _HISTORY_UPSERT, rows, start_ts=start_ts, status=status)

    async def save_turns(
        self,
        agent_id: str,
        turns: Iterable[Mapping[str, Any]],
        *,
        name: str | None = None,
        channel: str | None = None,
        total_turn_count: int | None = None,
    ) -> int:
        """Store or refresh turns (keyed by ``turn_id``); returns how many were new or changed."""
        now = self._clock()
        rows = []
        for turn in turns:
            key, order = _turn_key(turn)
            rows.append((agent_id, key, order, json.dumps(dict(turn), default=str), now))
        return await self._write(
            agent_id,
            _TURN_UPSERT,
            rows,
            name=name,
            channel=channel,
            total_turn_count=total_turn_count,
        )

    # -- reads ------------------------------------------------------------------------------

    async def load_history(self, agent_id: str) -> dict[str, Any] | None:
        """``{agent_id, start_ts, status, contents}`` as archived, or ``None`` if unknown."""
        found = await self._read(
            agent_id,
            ("start_ts", "status"),
            "SELECT data FROM history WHERE agent_id = %s ORDER BY seq",
        )
        if found is None:
            return None
        fields, contents = found
        return {"agent_id": agent_id, "contents": contents, **fields}

    async def load_turns(self, agent_id: str) -> dict[str, Any] | None:
        """``{agent_id, name, channel, total_turn_count, turns}`` as archived, or ``None``."""
        found = await self._read(
            agent_id,
            ("name", "channel", "total_turn_count"),
            "SELECT data FROM turns WHERE agent_id = %s "
            "ORDER BY turn_order IS NULL, turn_order, archived_at",
        )
        if found is None:
            return None
        fields, turns = found
        fields.setdefault("total_turn_count", len(turns))
        return {"agent_id": agent_id, "turns": turns, **fields}

    async def _read(
        self, agent_id: str, columns: tuple[str, ...], items_sql: str
    ) -> tuple[dict[str, Any], list[Any]] | None:
        """The agent's non-null ``columns`` and its decoded items, from one snapshot."""
        pool = await self._connection_pool()
        async with pool.connection() as conn, conn.transaction():
            await conn.execute("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ READ ONLY")
            cur = await conn.execute(
                f"SELECT {', '.join(columns)} FROM agents WHERE agent_id = %s",  # noqa: S608 - fixed names
                (agent_id,),
            )
            agent = await cur.fetchone()
            cur = await conn.execute(items_sql, (agent_id,))
            rows = await cur.fetchall()
        if agent is None and not rows:
            return None
        fields: dict[str, Any] = {}
        if agent is not None:
            fields = {
                key: value for key, value in zip(columns, agent, strict=True) if value is not None
            }
        return fields, [json.loads(r[0]) for r in rows]

    async def agent_ids(self) -> list[str]:
        """Every archived agent, most recently seen first."""
        pool = await self._connection_pool()
        async with pool.connection() as conn:
            cur = await conn.execute("SELECT agent_id FROM agents ORDER BY last_seen DESC")
            return [r[0] for r in await cur.fetchall()]

    # -- audit trail ------------------------------------------------------------------------

    async def append_audit(self, entry: Mapping[str, Any]) -> int:
        """Append one audit entry (JSON-able; its ``at``, Unix seconds, defaults to now, its
        ``placed_number`` marks a placed call); returns its sequence number. Append-only:
        nothing updates or deletes an entry except retention."""
        data = dict(entry)
        at = data.get("at")
        data["at"] = float(at) if isinstance(at, int | float) else self._clock()
        placed = data.get("placed_number")
        pool = await self._connection_pool()
        async with pool.connection() as conn:
            cur = await conn.execute(
                "INSERT INTO audit (at, tool, placed_number, data) VALUES (%s, %s, %s, %s) "
                "RETURNING seq",
                (
                    data["at"],
                    str(data.get("tool") or ""),
                    placed if isinstance(placed, str) else None,
                    json.dumps(data, ensure_ascii=False, default=str),
                ),
            )
            row = await cur.fetchone()
        await self._maybe_prune()
        return int(row[0]) if row is not None else 0

    async def list_audit(
        self, *, since: float | None = None, limit: int = 50, cursor: str | None = None
    ) -> tuple[list[dict[str, Any]], str | None]:
        """Audit entries, newest first, at most ``limit``, from ``since`` (Unix seconds) on;
        with the cursor of the next (older) page, or ``None``; :class:`ValueError` for a cursor
        this archive did not hand out."""
        if limit < 1:
            raise ValueError(f"limit must be at least 1, got {limit}")
        before = _audit_cursor(cursor)
        pool = await self._connection_pool()
        async with pool.connection() as conn:
            cur = await conn.execute(
                "SELECT seq, data FROM audit WHERE seq < %s AND at >= %s "
                "ORDER BY seq DESC LIMIT %s",
                (before, float("-inf") if since is None else since, limit + 1),
            )
            rows = await cur.fetchall()
        entries = [{**json.loads(data), "seq": seq} for seq, data in rows[:limit]]
        more = len(rows) > limit
        return entries, (f"a{entries[-1]['seq']}" if more and entries else None)

    async def count_calls(self, number: str, *, since: float) -> int:
        """How many calls to ``number`` the audit trail says were placed from ``since`` on."""
        pool = await self._connection_pool()
        async with pool.connection() as conn:
            cur = await conn.execute(
                "SELECT count(*) FROM audit WHERE placed_number = %s AND at >= %s",
                (number, since),
            )
            row = await cur.fetchone()
        return int(row[0]) if row is not None else 0

    # -- retention --------------------------------------------------------------------------

    async def prune(self) -> int:
        """Delete agents not seen for ``retention_days`` (with their entries), and audit entries
        older than that; returns how many agents."""
        cutoff = self._clock() - self.retention_days * 86400.0
        pool = await self._connection_pool()
        async with pool.connection() as conn, conn.transaction():
            cur = await conn.execute(
                "WITH old AS (DELETE FROM agents WHERE last_seen < %s RETURNING agent_id), "
                "h AS (DELETE FROM history WHERE agent_id IN (SELECT agent_id FROM old)), "
                "t AS (DELETE FROM turns WHERE agent_id IN (SELECT agent_id FROM old)), "
                "a AS (DELETE FROM audit WHERE at < %s) "
                "SELECT count(*) FROM old",
                (cutoff, cutoff),
            )
            row = await cur.fetchone()
        self._last_prune = self._clock()
        return int(row[0]) if row is not None else 0

    async def _maybe_prune(self) -> None:
        if self._clock() - self._last_prune >= _PRUNE_EVERY:
            await self.prune()


async def migrate(conn: AsyncConnection[Any]) -> int:
    """Apply the :data:`MIGRATIONS` not applied yet (every missing version, in order), in one
    transaction under the advisory lock;
    returns the schema version. :class:`ConfigError` for a database of a newer server."""
    async with conn.transaction():
        await conn.execute("SELECT pg_advisory_xact_lock(%s)", (_LOCK_KEY,))
        await conn.execute(
            "CREATE TABLE IF NOT EXISTS schema_version ("
            "version INTEGER PRIMARY KEY, applied_at TIMESTAMPTZ NOT NULL DEFAULT now())"
        )
        cur = await conn.execute("SELECT version FROM schema_version")
        applied = {int(row[0]) for row in await cur.fetchall()}
        current = max(applied, default=0)
        if current > SCHEMA_VERSION:
            raise ConfigError(
                f"the database's archive schema is version {current}, newer than this server "
                f"knows ({SCHEMA_VERSION}): a newer convoai-mcp migrated it",
                hint="upgrade convoai-mcp on this machine to the version the other replicas run",
            )
        for version, sql in sorted(MIGRATIONS):
            if version not in applied:
                await conn.execute(sql)
                await conn.execute("INSERT INTO schema_version (version) VALUES (%s)", (version,))
        return max(current, SCHEMA_VERSION)


def _reason(exc: BaseException) -> str:
    """Why the database cannot be used, in words (libpq's message names no password)."""
    text = " ".join(str(exc).split())
    name = type(exc).__name__
    if name == "PoolTimeout":
        return "no connection could be made in time"
    return text[:300] or name
