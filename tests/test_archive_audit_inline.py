"""The SQLite archive writes an audit entry at once when nothing stands in its way, and in a
worker thread (waiting as before) when another writer holds the database (benchmarks/ figure 1:
the thread round trip cost more CPU per audited tool call than the insert)."""

from __future__ import annotations

import asyncio
import sqlite3
import threading
from pathlib import Path

from convoai_mcp.archive.sqlite import SQLiteArchive


def _entry(tool: str, **extra: object) -> dict[str, object]:
    return {"tool": tool, "arguments": {"agent_id": "a1", "text": "Hi."}, **extra}


def _writer_threads(archive: SQLiteArchive) -> list[int]:
    """The thread of every INSERT the archive's connection runs from now on."""
    threads: list[int] = []
    conn = archive._conn
    assert conn is not None

    def trace(statement: str) -> None:
        if statement.startswith("INSERT INTO audit"):
            threads.append(threading.get_ident())

    conn.set_trace_callback(trace)
    return threads


async def test_an_idle_archive_writes_the_entry_on_the_calling_thread(tmp_path: Path) -> None:
    archive = SQLiteArchive(tmp_path / "archive.sqlite3")
    try:
        await archive.append_audit(_entry("start_agent"))  # opens the archive (in a thread)
        threads = _writer_threads(archive)
        first = await archive.append_audit(_entry("speak"))
        second = await archive.append_audit(_entry("call", placed_number="+14155550100"))
        assert threads == [threading.get_ident()] * 2
        assert second == first + 1
        entries, _ = await archive.list_audit()
        assert [e["tool"] for e in entries] == ["call", "speak", "start_agent"]
        assert await archive.count_calls("+14155550100", since=0) == 1
    finally:
        await archive.aclose()
    # Durable: another connection (another process would be the same) reads them.
    again = SQLiteArchive(tmp_path / "archive.sqlite3", read_only=True)
    try:
        assert [e["tool"] for e in again.list_audit_sync()[0]] == ["call", "speak", "start_agent"]
    finally:
        again.close()


async def test_a_locked_archive_is_waited_for_in_a_worker_thread(tmp_path: Path) -> None:
    path = tmp_path / "archive.sqlite3"
    archive = SQLiteArchive(path)
    other = sqlite3.connect(path, isolation_level=None, check_same_thread=False)
    try:
        await archive.append_audit(_entry("start_agent"))
        threads = _writer_threads(archive)
        other.execute("BEGIN IMMEDIATE")  # another writer (process) holds the write lock
        write = asyncio.create_task(archive.append_audit(_entry("speak")))
        for _ in range(200):  # the event loop is not blocked meanwhile: this loop runs
            await asyncio.sleep(0)
        assert not write.done()
        other.execute("COMMIT")
        seq = await asyncio.wait_for(write, 30)
        assert seq > 0
        assert threads and threads[0] != threading.get_ident()
        # The connection is left as it was: its busy timeout waits for other writers again.
        conn = archive._conn
        assert conn is not None
        assert conn.execute("PRAGMA busy_timeout").fetchone()[0] == 30_000
        assert not conn.in_transaction
        entries, _ = await archive.list_audit()
        assert [e["tool"] for e in entries] == ["speak", "start_agent"]
    finally:
        other.close()
        await archive.aclose()
