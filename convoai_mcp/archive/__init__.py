"""Local transcript archive: what agents said, kept after the service forgets it.

:class:`Archive` is the interface the server uses (async, one call per write or read);
:func:`open_archive` picks the backend from a path or URL, and :func:`archive_from_settings`
from the configuration:

* a path, or ``sqlite:///absolute/path`` (``sqlite:///~/x`` expands ``~``) →
  :class:`~convoai_mcp.archive.sqlite.SQLiteArchive` (the default, embedded);
* ``postgresql://…`` → not available yet (a PostgreSQL backend is a new module here,
  e.g. ``archive/postgres.py``, that implements :class:`Archive`).

Nothing heavy is imported before a backend is opened.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterable, Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal, Protocol, runtime_checkable

from convoai_mcp.errors import ConfigError

if TYPE_CHECKING:
    from convoai_mcp.config import Settings

__all__ = ["Archive", "archive_from_settings", "check_archive", "open_archive"]

_SQLITE_SCHEME = "sqlite://"
_POSTGRES_SCHEMES = ("postgresql://", "postgres://")


@runtime_checkable
class Archive(Protocol):
    """What the server needs from a transcript archive. Every method may raise (the server logs
    and reports it, a failed write never breaks a tool); :meth:`check` is run at start-up."""

    async def check(self) -> None:
        """Open the archive (creating it if needed) and read from it; raise if it is unusable
        (:class:`~convoai_mcp.errors.ConfigError` with what to do)."""
        ...

    async def note_agent(
        self,
        agent_id: str,
        *,
        kind: Literal["agent", "call"] | None = None,
        channel: str | None = None,
        name: str | None = None,
    ) -> None:
        """Record that this server started ``agent_id``."""
        ...

    async def save_history(
        self,
        agent_id: str,
        entries: Iterable[Mapping[str, Any]],
        *,
        start_ts: int | None = None,
        status: str | None = None,
    ) -> int:
        """Store new or changed history entries; returns how many."""
        ...

    async def save_turns(
        self,
        agent_id: str,
        turns: Iterable[Mapping[str, Any]],
        *,
        name: str | None = None,
        channel: str | None = None,
        total_turn_count: int | None = None,
    ) -> int:
        """Store new or changed turns; returns how many."""
        ...

    async def load_history(self, agent_id: str) -> dict[str, Any] | None:
        """``{agent_id, start_ts, status, contents}`` as archived, or ``None`` if unknown."""
        ...

    async def load_turns(self, agent_id: str) -> dict[str, Any] | None:
        """``{agent_id, name, channel, total_turn_count, turns}`` as archived, or ``None``."""
        ...

    async def append_audit(self, entry: Mapping[str, Any]) -> int:
        """Append one entry to the audit trail (append-only; see
        :mod:`convoai_mcp.server.audit`); ``at`` (Unix seconds) defaults to now and
        ``placed_number`` marks a placed call. Returns the entry's sequence number."""
        ...

    async def list_audit(
        self, *, since: float | None = None, limit: int = 50, cursor: str | None = None
    ) -> tuple[list[dict[str, Any]], str | None]:
        """Audit entries newest first (at most ``limit``, none before ``since``), and the cursor
        of the next older page or None; ValueError for a cursor it did not hand out."""
        ...

    async def count_calls(self, number: str, *, since: float) -> int:
        """Calls to ``number`` (normalised E.164) placed from ``since`` (Unix seconds) on."""
        ...

    async def prune(self) -> int:
        """Delete agents, and audit entries, past the retention; returns how many agents."""
        ...

    async def aclose(self) -> None:
        """Release the connection (reopened on the next use)."""
        ...


def open_archive(
    url_or_path: str | Path,
    *,
    retention_days: float = 30.0,
    clock: Callable[[], float] = time.time,
) -> Archive:
    """The archive at ``url_or_path`` (see the module docstring); raises :class:`ConfigError`
    for a scheme without a backend. Nothing is opened until the first use (or :meth:`check`)."""
    target = str(url_or_path).strip()
    lowered = target.lower()
    if lowered.startswith(_POSTGRES_SCHEMES):
        raise ConfigError(
            "a PostgreSQL archive is not available yet",
            hint="use a SQLite path (CONVOAI_ARCHIVE_PATH=/path/archive.sqlite3, or a "
            "sqlite:/// URL), or CONVOAI_ARCHIVE=off",
        )
    if lowered.startswith(_SQLITE_SCHEME):
        target = target[len(_SQLITE_SCHEME) :]
        if target.startswith("/~"):
            target = target[1:]
        if not target or target == "/":
            raise ConfigError(
                f"{url_or_path!s} names no file", hint="write sqlite:///absolute/path.sqlite3"
            )
    elif "://" in target:
        scheme = target.split("://", 1)[0]
        raise ConfigError(
            f"the archive location has an unknown scheme {scheme!r}",
            hint="use a file path, a sqlite:/// URL or CONVOAI_ARCHIVE=off",
        )
    from convoai_mcp.archive.sqlite import SQLiteArchive

    return SQLiteArchive(target, retention_days=retention_days, clock=clock)


def archive_from_settings(settings: Settings) -> Archive | None:
    """The configured archive (``CONVOAI_ARCHIVE_PATH``, else the per-user data directory), or
    ``None`` when ``CONVOAI_ARCHIVE=off``."""
    if not settings.archive:
        return None
    from convoai_mcp.archive.sqlite import default_archive_path

    return open_archive(
        settings.archive_path or default_archive_path(),
        retention_days=float(settings.archive_retention_days),
    )


async def check_archive(settings: Settings) -> None:
    """At start-up: open the configured archive and read from it; :class:`ConfigError` (exit
    status 2, naming ``CONVOAI_ARCHIVE_PATH``) when it is unusable. Nothing when it is off."""
    archive = archive_from_settings(settings)
    if archive is None:
        return
    try:
        await archive.check()
    finally:
        await archive.aclose()
