"""The archive behaviours every backend shares: one suite, run against SQLite and PostgreSQL.

The ``store`` fixture is parametrized by backend; ``store.open()`` opens another archive on the
same storage (a restart, a second process or replica). The PostgreSQL run needs a real server
(tests/_postgres.py: found or started; skipped with the reason when there is none, a failure
under ``CI=true``). What only one backend has (file modes, WAL, SQLite's crash tests; the
PostgreSQL migrations) is in test_archive_sqlite.py / test_archive_postgres.py.
"""

from __future__ import annotations

import sqlite3
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Protocol

import anyio
import pytest

from convoai_mcp.archive import Archive, open_archive


class ArchiveUnderTest(Archive, Protocol):
    async def agent_ids(self) -> list[str]: ...


@dataclass
class Store:
    """One backend's storage, and the archives opened on it (closed at the end)."""

    backend: str
    location: str
    error: type[Exception]
    opened: list[ArchiveUnderTest] = field(default_factory=list)

    def open(
        self, *, retention_days: float = 30.0, clock: Callable[[], float] | None = None
    ) -> ArchiveUnderTest:
        archive: Any = (
            open_archive(self.location, retention_days=retention_days)
            if clock is None
            else open_archive(self.location, retention_days=retention_days, clock=clock)
        )
        self.opened.append(archive)
        return archive  # type: ignore[no-any-return]


@pytest.fixture(params=["sqlite", "postgres"])
async def store(request: pytest.FixtureRequest, tmp_path: Path) -> AsyncIterator[Store]:
    if request.param == "sqlite":
        made = Store("sqlite", str(tmp_path / "a.sqlite3"), sqlite3.Error)
    else:
        import psycopg

        made = Store("postgres", request.getfixturevalue("postgres_url"), psycopg.Error)
    try:
        yield made
    finally:
        for archive in made.opened:
            await archive.aclose()


def entry(i: int, role: str = "user", **extra: Any) -> dict[str, Any]:
    return {
        "role": role,
        "content": f"message {i}",
        "speech_start_ms": 1000 * i,
        "speech_end_ms": 1000 * i + 500,
        **extra,
    }


# -- history and turns ----------------------------------------------------------------------


async def test_the_archive_works_through_the_interface(store: Store) -> None:
    archive = store.open()
    await archive.check()
    await archive.note_agent("a1", kind="agent", channel="room")
    assert await archive.save_history("a1", [{"role": "user", "content": "hi"}]) == 1
    assert await archive.save_turns("a1", [{"turn_id": 1}]) == 1
    history = await archive.load_history("a1")
    assert history is not None and history["contents"] == [{"role": "user", "content": "hi"}]
    turns = await archive.load_turns("a1")
    assert turns is not None and turns["channel"] == "room"
    assert await archive.prune() == 0


async def test_history_roundtrip_dedups_and_keeps_unknown_fields(store: Store) -> None:
    archive = store.open()
    first = [entry(1), entry(2, "assistant", extra_field="kept")]
    assert await archive.save_history("a1", first, start_ts=111, status="RUNNING") == 2
    # the service's window moved on: one old, one new
    again = [entry(2, "assistant", extra_field="kept"), entry(3)]
    assert await archive.save_history("a1", again) == 1
    assert await archive.save_history("a1", first) == 0
    loaded = await archive.load_history("a1")
    assert loaded is not None
    assert loaded["start_ts"] == 111 and loaded["status"] == "RUNNING"
    assert [c["content"] for c in loaded["contents"]] == ["message 1", "message 2", "message 3"]
    assert loaded["contents"][1]["extra_field"] == "kept"
    assert await archive.load_history("unknown") is None


async def test_an_entry_cut_short_later_is_refreshed_in_place(store: Store) -> None:
    archive = store.open()
    speaking = entry(2, "assistant")  # archived while it was still being said
    assert await archive.save_history("a1", [entry(1), speaking, entry(3)]) == 3
    cut = {**speaking, "speech_end_ms": speaking["speech_end_ms"] - 300}  # then interrupted
    assert await archive.save_history("a1", [entry(1), cut]) == 1
    assert await archive.save_history("a1", [cut]) == 0
    loaded = await archive.load_history("a1")
    assert loaded is not None
    assert loaded["contents"] == [entry(1), cut, entry(3)]


async def test_same_text_at_different_times_is_kept_twice(store: Store) -> None:
    archive = store.open()
    yes = {"role": "user", "content": "yes"}
    added = await archive.save_history(
        "a1", [{**yes, "speech_start_ms": 10}, {**yes, "speech_start_ms": 20}]
    )
    assert added == 2
    # entries without timestamps dedup by role + content
    assert await archive.save_history("a1", [yes, yes]) == 1
    loaded = await archive.load_history("a1")
    assert loaded is not None and len(loaded["contents"]) == 3


async def test_turns_are_keyed_by_turn_id_and_refreshed(store: Store) -> None:
    archive = store.open()
    t1 = {"turn_id": 1, "start": {"type": "greeting"}}
    t2 = {"turn_id": 2, "start": {"type": "voice_input"}}
    assert await archive.save_turns("a1", [t1, t2], name="n", channel="c") == 2
    t2_done = {**t2, "end": {"type": "ok"}, "metrics": {"e2e_latency_ms": 900}}
    assert await archive.save_turns("a1", [t1, t2_done]) == 1
    assert await archive.save_turns("a1", [t1, t2_done]) == 0
    loaded = await archive.load_turns("a1")
    assert loaded is not None
    assert loaded["name"] == "n" and loaded["channel"] == "c"
    assert loaded["turns"] == [t1, t2_done]
    assert loaded["total_turn_count"] == 2


async def test_turns_are_ordered_by_turn_id_and_string_ids_after(store: Store) -> None:
    archive = store.open()
    turns: list[dict[str, Any]] = [
        {"turn_id": "x"},
        {"turn_id": 10},
        {"turn_id": 2},
        {"turn_id": 2.5},
    ]
    assert await archive.save_turns("a1", turns, total_turn_count=7) == 4
    loaded = await archive.load_turns("a1")
    assert loaded is not None
    assert [t["turn_id"] for t in loaded["turns"]] == [2, 2.5, 10, "x"]
    assert loaded["total_turn_count"] == 7


async def test_archive_survives_a_restart(store: Store) -> None:
    archive = store.open()
    await archive.note_agent("a1", kind="call", channel="room")
    await archive.save_history("a1", [entry(1), entry(2)])
    await archive.aclose()
    reopened = store.open()
    loaded = await reopened.load_history("a1")
    assert loaded is not None and len(loaded["contents"]) == 2
    assert await reopened.agent_ids() == ["a1"]


async def test_a_closed_archive_reopens_on_the_next_use(store: Store) -> None:
    archive = store.open()
    await archive.save_history("a1", [entry(1)])
    await archive.aclose()
    assert await archive.save_history("a1", [entry(2)]) == 1
    loaded = await archive.load_history("a1")
    assert loaded is not None and len(loaded["contents"]) == 2


async def test_a_failed_write_leaves_nothing_and_the_next_one_works(store: Store) -> None:
    archive = store.open()
    unbindable: Any = ["not", "an", "int"]  # the database refuses it inside the transaction
    with pytest.raises(store.error):
        await archive.save_history("a1", [entry(1)], start_ts=unbindable)
    assert await archive.agent_ids() == []  # the agent row written before the error is gone
    assert await archive.save_history("a1", [entry(1)]) == 1
    assert await archive.agent_ids() == ["a1"]


# -- retention ------------------------------------------------------------------------------


async def test_retention_prunes_agents_not_seen_for_the_configured_days(store: Store) -> None:
    now = [1_000_000.0]
    archive = store.open(retention_days=2, clock=lambda: now[0])
    await archive.save_history("old", [entry(1)])
    await archive.save_turns("old", [{"turn_id": 1}])
    now[0] += 86400
    await archive.save_history("recent", [entry(1)])
    now[0] += 86400 + 1  # "old" last seen 2 days + 1 s ago
    assert await archive.prune() == 1
    assert await archive.load_history("old") is None
    assert await archive.load_turns("old") is None  # its turns are gone too
    assert await archive.load_history("recent") is not None


async def test_pruning_also_happens_while_writing(store: Store) -> None:
    now = [1_000_000.0]
    archive = store.open(retention_days=1, clock=lambda: now[0])
    await archive.save_history("old", [entry(1)])
    now[0] += 3 * 86400
    await archive.save_history("new", [entry(1)])  # more than an hour since the last prune
    assert await archive.agent_ids() == ["new"]


# -- the audit trail ----------------------------------------------------------------------


async def test_the_audit_trail_pages_newest_first_and_counts_placed_calls(store: Store) -> None:
    now = [1_000_000.0]
    archive = store.open(clock=lambda: now[0])
    seqs = []
    for i in range(5):
        now[0] += 60
        placed = {"placed_number": "+14155550123"} if i % 2 == 0 else {}
        seqs.append(await archive.append_audit({"tool": "call", "n": i, **placed}))
    assert seqs == sorted(seqs)
    page, cursor = await archive.list_audit(limit=2)
    assert [e["n"] for e in page] == [4, 3] and cursor is not None
    assert page[0]["at"] == now[0] and page[0]["seq"] == seqs[4]
    page, cursor = await archive.list_audit(limit=2, cursor=cursor)
    assert [e["n"] for e in page] == [2, 1] and cursor is not None
    page, cursor = await archive.list_audit(limit=2, cursor=cursor)
    assert [e["n"] for e in page] == [0] and cursor is None
    recent, _ = await archive.list_audit(since=now[0] - 60)
    assert [e["n"] for e in recent] == [4, 3]
    assert await archive.count_calls("+14155550123", since=0) == 3
    assert await archive.count_calls("+14155550123", since=now[0] - 60) == 1
    assert await archive.count_calls("+14155550199", since=0) == 0
    with pytest.raises(ValueError, match="not one this archive handed out"):
        await archive.list_audit(cursor="x1")
    with pytest.raises(ValueError, match="at least 1"):
        await archive.list_audit(limit=0)
    now[0] += 31 * 86400  # retention (30 days) drops old audit entries too
    await archive.prune()
    assert await archive.list_audit() == ([], None)


# -- concurrency ----------------------------------------------------------------------------


async def test_concurrent_writers_store_each_entry_once(store: Store) -> None:
    """Eight writers (half sharing one archive, half with their own: other processes or
    replicas) archive overlapping windows of the same 60 entries and 7 turns at once."""
    shared = store.open()
    entries = [entry(i, "user" if i % 2 else "assistant") for i in range(60)]

    async def work(worker: int) -> None:
        archive = shared if worker % 2 else store.open()
        chunk = 3 + worker
        for start in range(0, len(entries), chunk):
            await archive.save_history("a1", entries[start : start + chunk])
            await archive.save_turns("a1", [{"turn_id": start % 7}])

    async with anyio.create_task_group() as group:
        for worker in range(8):
            group.start_soon(work, worker)
    loaded = await shared.load_history("a1")
    assert loaded is not None
    assert sorted(c["speech_start_ms"] for c in loaded["contents"]) == [1000 * i for i in range(60)]
    turns = await shared.load_turns("a1")
    assert turns is not None and [t["turn_id"] for t in turns["turns"]] == list(range(7))
