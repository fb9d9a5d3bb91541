"""The SQLite transcript archive (the default :class:`~convoai_mcp.archive.Archive` backend).

The service serves an agent's history only while the agent runs. This archive stores history
entries and turns in a SQLite database (standard library :mod:`sqlite3`, WAL journal, one
transaction per write, ``BEGIN IMMEDIATE`` so that concurrent writers in other threads or
processes wait instead of failing), deduplicated by a natural key:

* history entry: ``(agent_id, role, speech_start_ms, sha256(content))`` (a later snapshot of the
  same entry, e.g. with the ``speech_end_ms`` of an interruption, replaces the earlier one)
* turn: ``(agent_id, turn_id)`` (a later snapshot of the same turn replaces the earlier one)

It also holds the server's audit trail (:mod:`convoai_mcp.server.audit`): an append-only table
of entries (JSON), each with its time and, for a call that was placed, the number dialled (what
the per-number daily cap counts, across restarts). Nothing updates or deletes an entry except
retention, which drops entries older than ``retention_days`` as it drops agents.

Location (:func:`default_archive_path`): ``$CONVOAI_ARCHIVE_PATH``, else the per-user data
directory: ``$XDG_DATA_HOME/convoai-mcp/archive.sqlite3`` (default ``~/.local/share``) on Linux,
``~/Library/Application Support/convoai-mcp/`` on macOS, ``%LOCALAPPDATA%\\convoai-mcp\\`` on
Windows. The directory is created private (0700) and the database file 0600. Agents not seen for
``retention_days`` are pruned (on open, and at most hourly while running).

The public methods are async and run the SQLite work in a worker thread
(:func:`anyio.to_thread.run_sync`); the ``*_sync`` twins are for threads and scripts.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import sqlite3
import sys
import threading
import time
from collections.abc import Callable, Iterable, Iterator, Mapping
from contextlib import contextmanager
from functools import partial
from pathlib import Path
from typing import Any, Literal, TypeVar

import anyio.to_thread

from convoai_mcp.archive.campaigns import SQLITE_SCHEMA as _CAMPAIGN_SCHEMA
from convoai_mcp.archive.sqlite_campaigns import SQLiteCampaigns
from convoai_mcp.errors import ConfigError

__all__ = [
    "ARCHIVE_FILENAME",
    "PAGE_CACHE_KIB",
    "SQLiteArchive",
    "default_archive_path",
]

ARCHIVE_FILENAME = "archive.sqlite3"
_APP_DIR = "convoai-mcp"
_SCHEMA_VERSION = 1
_PRUNE_EVERY = 3600.0
PAGE_CACHE_KIB = 256
"""SQLite page cache of the archive connection, in KiB."""
_BUSY_TIMEOUT = 30.0
_R = TypeVar("_R")

_SCHEMA = (
    """
CREATE TABLE IF NOT EXISTS agents (
    agent_id TEXT PRIMARY KEY,
    kind TEXT,
    name TEXT,
    channel TEXT,
    start_ts INTEGER,
    status TEXT,
    total_turn_count INTEGER,
    first_seen REAL NOT NULL,
    last_seen REAL NOT NULL
);
CREATE TABLE IF NOT EXISTS history (
    seq INTEGER PRIMARY KEY AUTOINCREMENT,
    agent_id TEXT NOT NULL,
    role TEXT NOT NULL,
    start_key INTEGER NOT NULL,
    content_hash TEXT NOT NULL,
    speech_start_ms INTEGER,
    data TEXT NOT NULL,
    archived_at REAL NOT NULL,
    UNIQUE (agent_id, role, start_key, content_hash)
);
CREATE TABLE IF NOT EXISTS turns (
    agent_id TEXT NOT NULL,
    turn_key TEXT NOT NULL,
    turn_order REAL,
    data TEXT NOT NULL,
    archived_at REAL NOT NULL,
    PRIMARY KEY (agent_id, turn_key)
);
CREATE INDEX IF NOT EXISTS agents_last_seen ON agents (last_seen);
CREATE TABLE IF NOT EXISTS audit (
    seq INTEGER PRIMARY KEY AUTOINCREMENT,
    at REAL NOT NULL,
    tool TEXT NOT NULL,
    placed_number TEXT,
    data TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS audit_at ON audit (at);
CREATE INDEX IF NOT EXISTS audit_placed ON audit (placed_number, at);
"""
    + _CAMPAIGN_SCHEMA
)


def default_archive_path(environ: Mapping[str, str] | None = None) -> Path:
    """The per-user archive file (see the module docstring); ``CONVOAI_ARCHIVE_PATH`` wins."""
    env = os.environ if environ is None else environ
    override = env.get("CONVOAI_ARCHIVE_PATH", "").strip()
    if override:
        return _as_file(expand_path(override))
    home = Path(env.get("HOME") or Path.home())
    if sys.platform == "win32":
        base = Path(env.get("LOCALAPPDATA") or home / "AppData" / "Local")
    elif sys.platform == "darwin":
        base = home / "Library" / "Application Support"
    else:
        base = Path(env.get("XDG_DATA_HOME") or home / ".local" / "share")
    return base / _APP_DIR / ARCHIVE_FILENAME


def expand_path(value: str | Path, *, variable: str = "CONVOAI_ARCHIVE_PATH") -> Path:
    """``value`` with ``~`` / ``~user`` expanded; :class:`ConfigError` naming ``variable`` when
    the user is unknown (``~nosuchuser/x``)."""
    try:
        return Path(value).expanduser()
    except RuntimeError:
        raise ConfigError(
            f"{variable}={str(value)!r}: the home directory in it cannot be found",
            hint="write an absolute path, or ~/... for your own home directory",
        ) from None


def _as_file(path: Path) -> Path:
    """A directory (existing, or written with a trailing slash) means the file inside it."""
    if path.is_dir() or str(path).endswith(("/", os.sep)):
        return path / ARCHIVE_FILENAME
    return path


def _content_hash(content: object) -> str:
    text = content if isinstance(content, str) else json.dumps(content, sort_keys=True)
    return hashlib.sha256(text.encode("utf-8")).hexdigest()[:32]


def _int_or_none(value: object) -> int | None:
    if isinstance(value, bool) or not isinstance(value, int | float):
        return None
    return int(value)


def _turn_key(turn: Mapping[str, Any]) -> tuple[str, float | None]:
    turn_id = turn.get("turn_id")
    if isinstance(turn_id, int | float) and not isinstance(turn_id, bool):
        number = float(turn_id)
        return (str(int(number)) if number.is_integer() else repr(number)), number
    if isinstance(turn_id, str) and turn_id:
        return f"s:{turn_id}", None
    return f"h:{_content_hash(json.dumps(turn, sort_keys=True, default=str))}", None


class SQLiteArchive(SQLiteCampaigns):
    """A SQLite transcript archive; safe to share between threads and processes. It is also
    the campaign store (:class:`~convoai_mcp.archive.campaigns.CampaignStore`)."""

    def __init__(
        self,
        path: Path | str,
        *,
        retention_days: float = 30.0,
        clock: Callable[[], float] = time.time,
        read_only: bool = False,
    ) -> None:
        self.path = _as_file(expand_path(path))
        self.retention_days = retention_days
        self.read_only = read_only
        """Open the file read-only (``convoai-mcp audit``): nothing created, written or pruned."""
        self._clock = clock
        self._lock = threading.Lock()
        self._conn: sqlite3.Connection | None = None
        self._last_prune = float("-inf")

    # -- connection -------------------------------------------------------------------------

    def _connect(self) -> sqlite3.Connection:
        if self._conn is not None:
            return self._conn
        if self.read_only:
            if not self.path.is_file():
                raise ConfigError(
                    f"there is no archive at {self.path}",
                    hint="set CONVOAI_ARCHIVE_PATH to the archive the server writes (or pass "
                    "--archive); the server creates it on its first start",
                )
            self._conn = sqlite3.connect(
                f"{self.path.resolve().as_uri()}?mode=ro",
                uri=True,
                timeout=_BUSY_TIMEOUT,
                isolation_level=None,
                check_same_thread=False,
            )
            return self._conn
        self.path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
        if self.path.parent.name == _APP_DIR:  # our own directory (not e.g. a chosen /tmp)
            _make_private(self.path.parent, 0o700)
        if not self.path.exists():
            # Create the file private before SQLite opens it (WAL / SHM files inherit the mode).
            fd = os.open(self.path, os.O_CREAT | os.O_RDWR, 0o600)
            os.close(fd)
        for path in (self.path, *_companions(self.path)):
            _make_private(path, 0o600)  # an existing archive made readable by others
        # timeout= is SQLite's busy timeout: a writer waits up to 30 s for another's lock.
        # isolation_level=None: no implicit transactions; _transaction() opens each one.
        conn = sqlite3.connect(
            self.path, timeout=_BUSY_TIMEOUT, isolation_level=None, check_same_thread=False
        )
        try:
            _use_wal(conn)
            conn.execute("PRAGMA synchronous = NORMAL")
            conn.execute("PRAGMA foreign_keys = ON")
            # A small page cache: the archive is written a few rows at a time and read rarely,
            # and SQLite's default (2 MiB) showed up as RSS growth in benchmarks/ (figure 6).
            conn.execute(f"PRAGMA cache_size = -{PAGE_CACHE_KIB}")
            with _transaction(conn):
                for statement in _SCHEMA.split(";"):
                    if statement.strip():
                        conn.execute(statement)
                conn.execute(f"PRAGMA user_version = {_SCHEMA_VERSION}")
        except BaseException:
            conn.close()
            raise
        self._conn = conn
        return conn

    def check_sync(self) -> None:
        """Open the archive (creating it if needed, making it private) and read from it;
        :class:`ConfigError` naming ``CONVOAI_ARCHIVE_PATH`` when it is unusable."""
        try:
            with self._locked() as conn:
                conn.execute("SELECT count(*) FROM agents").fetchone()
        except ConfigError:
            raise
        except (OSError, sqlite3.Error) as exc:
            self.close()
            raise ConfigError(
                f"the transcript archive {self.path} is unusable: {_reason(exc)}",
                hint="move or repair that file, set CONVOAI_ARCHIVE_PATH to another file, or "
                "CONVOAI_ARCHIVE=off",
            ) from None

    @contextmanager
    def _locked(self) -> Iterator[sqlite3.Connection]:
        with self._lock:
            yield self._connect()

    def _txn(self, conn: sqlite3.Connection) -> contextlib.AbstractContextManager[None]:
        """A write transaction (``BEGIN IMMEDIATE``) on ``conn``."""
        return _transaction(conn)

    def close(self) -> None:
        """Close the connection (reopened on the next use)."""
        with self._lock:
            if self._conn is not None:
                self._conn.close()
                self._conn = None

    # -- writes -----------------------------------------------------------------------------

    def _touch(self, conn: sqlite3.Connection, agent_id: str, **fields: Any) -> None:
        now = self._clock()
        conn.execute(
            "INSERT INTO agents (agent_id, first_seen, last_seen) VALUES (?, ?, ?) "
            "ON CONFLICT (agent_id) DO UPDATE SET last_seen = excluded.last_seen",
            (agent_id, now, now),
        )
        for column, value in fields.items():
            if value is not None:
                conn.execute(
                    f"UPDATE agents SET {column} = ? WHERE agent_id = ?",  # noqa: S608 - fixed names
                    (value, agent_id),
                )

    def note_agent_sync(
        self,
        agent_id: str,
        *,
        kind: Literal["agent", "call"] | None = None,
        channel: str | None = None,
        name: str | None = None,
    ) -> None:
        """Record that this server started ``agent_id`` (kind, channel, name)."""
        with self._locked() as conn, _transaction(conn):
            self._touch(conn, agent_id, kind=kind, channel=channel, name=name)
        self._maybe_prune()

    def save_history_sync(
        self,
        agent_id: str,
        entries: Iterable[Mapping[str, Any]],
        *,
        start_ts: int | None = None,
        status: str | None = None,
    ) -> int:
        """Store history entries not stored yet, and refresh those whose other fields changed (an
        interrupted answer's ``speech_end_ms``), in one transaction; returns how many were new
        or changed. A refreshed entry keeps its place."""
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
        return self._write(
            agent_id,
            "INSERT INTO history (agent_id, role, start_key, content_hash, speech_start_ms, "
            "data, archived_at) VALUES (?, ?, ?, ?, ?, ?, ?) "
            "ON CONFLICT (agent_id, role, start_key, content_hash) DO UPDATE SET "
            "data = excluded.data, archived_at = excluded.archived_at "
            "WHERE history.data != excluded.data",
            rows,
            start_ts=start_ts,
            status=status,
        )

    def save_turns_sync(
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
        return self._write(
            agent_id,
            "INSERT INTO turns (agent_id, turn_key, turn_order, data, archived_at) "
            "VALUES (?, ?, ?, ?, ?) ON CONFLICT (agent_id, turn_key) DO UPDATE SET "
            "data = excluded.data, archived_at = excluded.archived_at "
            "WHERE turns.data != excluded.data",
            rows,
            name=name,
            channel=channel,
            total_turn_count=total_turn_count,
        )

    def _write(
        self, agent_id: str, sql: str, rows: list[tuple[Any, ...]], **agent_fields: Any
    ) -> int:
        """In one transaction: note the agent (with its non-``None`` fields) and run ``sql`` for
        each row; returns how many rows it inserted or changed."""
        with self._locked() as conn, _transaction(conn):
            self._touch(conn, agent_id, **agent_fields)
            before = conn.total_changes
            conn.executemany(sql, rows)
            changed = conn.total_changes - before
        self._maybe_prune()
        return changed

    # -- reads ------------------------------------------------------------------------------

    def load_history_sync(self, agent_id: str) -> dict[str, Any] | None:
        """``{agent_id, start_ts, status, contents}`` as archived, or ``None`` if unknown."""
        found = self._read(
            agent_id,
            ("start_ts", "status"),
            "SELECT data FROM history WHERE agent_id = ? ORDER BY seq",
        )
        if found is None:
            return None
        fields, contents = found
        return {"agent_id": agent_id, "contents": contents, **fields}

    def load_turns_sync(self, agent_id: str) -> dict[str, Any] | None:
        """``{agent_id, name, channel, total_turn_count, turns}`` as archived, or ``None``."""
        found = self._read(
            agent_id,
            ("name", "channel", "total_turn_count"),
            "SELECT data FROM turns WHERE agent_id = ? "
            "ORDER BY turn_order IS NULL, turn_order, archived_at",
        )
        if found is None:
            return None
        fields, turns = found
        fields.setdefault("total_turn_count", len(turns))
        return {"agent_id": agent_id, "turns": turns, **fields}

    def _read(
        self, agent_id: str, columns: tuple[str, ...], items_sql: str
    ) -> tuple[dict[str, Any], list[Any]] | None:
        """The agent's non-null ``columns`` and its decoded items (``items_sql`` selects their
        ``data``), read from one snapshot; ``None`` if the archive knows neither."""
        with self._locked() as conn, _transaction(conn, "BEGIN"):
            agent = conn.execute(
                f"SELECT {', '.join(columns)} FROM agents WHERE agent_id = ?",  # noqa: S608 - fixed names
                (agent_id,),
            ).fetchone()
            rows = conn.execute(items_sql, (agent_id,)).fetchall()
        if agent is None and not rows:
            return None
        fields = {}
        if agent is not None:
            fields = {
                key: value for key, value in zip(columns, agent, strict=True) if value is not None
            }
        return fields, [json.loads(r[0]) for r in rows]

    # -- audit trail ------------------------------------------------------------------------

    def append_audit_sync(self, entry: Mapping[str, Any]) -> int:
        """Append one audit entry (JSON-able; its ``at``, Unix seconds, defaults to now, its
        ``placed_number`` marks a placed call); returns its sequence number."""
        data = dict(entry)
        at = data.get("at")
        data["at"] = float(at) if isinstance(at, int | float) else self._clock()
        placed = data.get("placed_number")
        with self._locked() as conn, _transaction(conn):
            cursor = conn.execute(
                "INSERT INTO audit (at, tool, placed_number, data) VALUES (?, ?, ?, ?)",
                (
                    data["at"],
                    str(data.get("tool") or ""),
                    placed if isinstance(placed, str) else None,
                    json.dumps(data, ensure_ascii=False, default=str),
                ),
            )
            seq = int(cursor.lastrowid or 0)
        self._maybe_prune()
        return seq

    def list_audit_sync(
        self, *, since: float | None = None, limit: int = 50, cursor: str | None = None
    ) -> tuple[list[dict[str, Any]], str | None]:
        """Audit entries, newest first, at most ``limit``, from ``since`` (Unix seconds) on;
        with the cursor of the next (older) page, or None. ``cursor`` is one this returned."""
        if limit < 1:
            raise ValueError(f"limit must be at least 1, got {limit}")
        before = _audit_cursor(cursor)
        try:
            with self._locked() as conn:
                rows = conn.execute(
                    "SELECT seq, data FROM audit WHERE seq < ? AND at >= ? "
                    "ORDER BY seq DESC LIMIT ?",
                    (before, float("-inf") if since is None else since, limit + 1),
                ).fetchall()
        except sqlite3.OperationalError as exc:
            if self.read_only and "no such table" in str(exc):
                return [], None  # an archive written before the audit trail existed
            raise
        entries = [{**json.loads(data), "seq": seq} for seq, data in rows[:limit]]
        more = len(rows) > limit
        return entries, (f"a{entries[-1]['seq']}" if more and entries else None)

    def count_calls_sync(self, number: str, *, since: float) -> int:
        """How many calls to ``number`` the audit trail says were placed from ``since`` on."""
        with self._locked() as conn:
            row = conn.execute(
                "SELECT count(*) FROM audit WHERE placed_number = ? AND at >= ?", (number, since)
            ).fetchone()
        return int(row[0])

    def agent_ids_sync(self) -> list[str]:
        """Every archived agent, most recently seen first."""
        with self._locked() as conn:
            rows = conn.execute("SELECT agent_id FROM agents ORDER BY last_seen DESC").fetchall()
        return [r[0] for r in rows]

    async def agent_ids(self) -> list[str]:
        """Async :meth:`agent_ids_sync`."""
        return await self._run(self.agent_ids_sync)

    # -- retention --------------------------------------------------------------------------

    def prune_sync(self) -> int:
        """Delete agents not seen for ``retention_days`` (with their entries), and audit entries
        older than that; returns how many agents."""
        cutoff = self._clock() - self.retention_days * 86400.0
        with self._locked() as conn, _transaction(conn):
            old = [
                r[0]
                for r in conn.execute(
                    "SELECT agent_id FROM agents WHERE last_seen < ?", (cutoff,)
                ).fetchall()
            ]
            for table in ("history", "turns", "agents"):
                conn.executemany(
                    f"DELETE FROM {table} WHERE agent_id = ?",  # noqa: S608 - fixed names
                    [(a,) for a in old],
                )
            conn.execute("DELETE FROM audit WHERE at < ?", (cutoff,))
        self._last_prune = self._clock()
        return len(old)

    def _maybe_prune(self) -> None:
        if self.read_only:
            return
        if self._clock() - self._last_prune >= _PRUNE_EVERY:
            self.prune_sync()

    # -- async ------------------------------------------------------------------------------

    async def _run(self, func: Callable[[], _R]) -> _R:
        return await anyio.to_thread.run_sync(func)

    async def note_agent(
        self,
        agent_id: str,
        *,
        kind: Literal["agent", "call"] | None = None,
        channel: str | None = None,
        name: str | None = None,
    ) -> None:
        """Async :meth:`note_agent_sync`."""
        await self._run(
            partial(self.note_agent_sync, agent_id, kind=kind, channel=channel, name=name)
        )

    async def save_history(
        self,
        agent_id: str,
        entries: Iterable[Mapping[str, Any]],
        *,
        start_ts: int | None = None,
        status: str | None = None,
    ) -> int:
        """Async :meth:`save_history_sync`."""
        items = [dict(e) for e in entries]
        return await self._run(
            partial(self.save_history_sync, agent_id, items, start_ts=start_ts, status=status)
        )

    async def save_turns(
        self,
        agent_id: str,
        turns: Iterable[Mapping[str, Any]],
        *,
        name: str | None = None,
        channel: str | None = None,
        total_turn_count: int | None = None,
    ) -> int:
        """Async :meth:`save_turns_sync`."""
        items = [dict(t) for t in turns]
        return await self._run(
            partial(
                self.save_turns_sync,
                agent_id,
                items,
                name=name,
                channel=channel,
                total_turn_count=total_turn_count,
            )
        )

    async def load_history(self, agent_id: str) -> dict[str, Any] | None:
        """Async :meth:`load_history_sync`."""
        return await self._run(partial(self.load_history_sync, agent_id))

    async def load_turns(self, agent_id: str) -> dict[str, Any] | None:
        """Async :meth:`load_turns_sync`."""
        return await self._run(partial(self.load_turns_sync, agent_id))

    async def append_audit(self, entry: Mapping[str, Any]) -> int:
        """Async :meth:`append_audit_sync`."""
        return await self._run(partial(self.append_audit_sync, dict(entry)))

    async def list_audit(
        self, *, since: float | None = None, limit: int = 50, cursor: str | None = None
    ) -> tuple[list[dict[str, Any]], str | None]:
        """Async :meth:`list_audit_sync`."""
        return await self._run(
            partial(self.list_audit_sync, since=since, limit=limit, cursor=cursor)
        )

    async def count_calls(self, number: str, *, since: float) -> int:
        """Async :meth:`count_calls_sync`."""
        return await self._run(partial(self.count_calls_sync, number, since=since))

    async def prune(self) -> int:
        """Async :meth:`prune_sync`."""
        return await self._run(self.prune_sync)

    async def check(self) -> None:
        """Async :meth:`check_sync`."""
        await self._run(self.check_sync)

    async def aclose(self) -> None:
        """Close the connection from a worker thread."""
        await self._run(self.close)


def _audit_cursor(cursor: str | None) -> int:
    """The sequence number an audit page continues below (its ``a<seq>`` cursor)."""
    if cursor is None or cursor == "":
        return sys.maxsize
    if not (cursor.startswith("a") and cursor[1:].isdigit() and len(cursor) <= 20):
        raise ValueError(
            f"cursor {cursor[:40]!r} is not one this archive handed out; pass the next_cursor "
            "of the previous page, or none for the latest entries"
        )
    return int(cursor[1:])


def _companions(path: Path) -> tuple[Path, Path]:
    """SQLite's ``-wal`` and ``-shm`` files beside the database."""
    return path.with_name(path.name + "-wal"), path.with_name(path.name + "-shm")


def _make_private(path: Path, mode: int) -> None:
    """Take away group and other access from ``path`` (if it exists); :class:`ConfigError` with
    the command to run when that is not allowed (another owner)."""
    if os.name == "nt":
        return  # no POSIX modes; the per-user data directory is private already
    try:
        current = path.stat().st_mode
    except FileNotFoundError:
        return
    if not current & 0o077:
        return
    try:
        os.chmod(path, mode)
    except OSError as exc:
        raise ConfigError(
            f"the transcript archive {path} is readable by others (mode "
            f"{current & 0o777:04o}) and cannot be made private: {exc.strerror or exc}",
            hint=f"run: chmod {mode:o} '{path}' (as its owner), or set CONVOAI_ARCHIVE_PATH "
            "to another file",
        ) from None


def _reason(exc: BaseException) -> str:
    """Why the archive cannot be used, in words."""
    if isinstance(exc, NotADirectoryError | FileExistsError):
        return "a part of its path is a regular file, not a directory"
    if isinstance(exc, sqlite3.DatabaseError) and "not a database" in str(exc):
        return "the file is not an SQLite database (corrupt, or another kind of file)"
    if isinstance(exc, OSError):
        return exc.strerror or str(exc)
    return str(exc) or type(exc).__name__


def _use_wal(conn: sqlite3.Connection) -> None:
    """Put the database in WAL mode (kept in the file: a no-op once it is).

    Connections that switch a new file at the same time can deadlock on the lock upgrade;
    SQLite then fails one of them at once ("database is locked") instead of calling the busy
    handler, so that one retries here, within the busy timeout."""
    deadline = time.monotonic() + _BUSY_TIMEOUT
    while True:
        try:
            conn.execute("PRAGMA journal_mode = WAL")
            return
        except sqlite3.OperationalError as exc:
            if "locked" not in str(exc) or time.monotonic() >= deadline:
                raise
        time.sleep(0.01)


@contextmanager
def _transaction(conn: sqlite3.Connection, begin: str = "BEGIN IMMEDIATE") -> Iterator[None]:
    """``BEGIN IMMEDIATE`` (a writer: takes the write lock up front, waiting up to the busy
    timeout) or ``BEGIN`` (a reader: one consistent snapshot) ... ``COMMIT``. On any error,
    the failed ``COMMIT`` included, rolled back unless SQLite already did, so the connection
    is never left inside a transaction and the original error is the one raised."""
    conn.execute(begin)
    try:
        yield
        conn.execute("COMMIT")
    except BaseException:
        if conn.in_transaction:
            conn.execute("ROLLBACK")
        raise
