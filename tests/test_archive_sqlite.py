"""Transcript archive: location, dedup, restart, crash safety, concurrency, retention."""

from __future__ import annotations

import json
import os
import re
import signal
import sqlite3
import stat
import subprocess
import sys
import textwrap
import threading
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

import anyio
import pytest
from anyio.abc import Process
from mcp import Client

from convoai_mcp.archive import archive_from_settings
from convoai_mcp.archive.sqlite import (
    ARCHIVE_FILENAME,
    PAGE_CACHE_KIB,
    default_archive_path,
)
from convoai_mcp.archive.sqlite import (
    SQLiteArchive as Archive,
)
from convoai_mcp.config import Settings

ROOT = Path(__file__).resolve().parents[1]


def entry(i: int, role: str = "user", **extra: Any) -> dict[str, Any]:
    return {
        "role": role,
        "content": f"message {i}",
        "speech_start_ms": 1000 * i,
        "speech_end_ms": 1000 * i + 500,
        **extra,
    }


def count(path: Path, table: str = "history") -> int:
    with sqlite3.connect(path) as conn:
        row = conn.execute(f"SELECT count(*) FROM {table}").fetchone()
    return int(row[0])


def integrity(path: Path) -> str:
    with sqlite3.connect(path) as conn:
        return str(conn.execute("PRAGMA integrity_check").fetchone()[0])


# -- location ------------------------------------------------------------------------------


@pytest.mark.skipif(sys.platform in ("win32", "darwin"), reason="XDG layout")
def test_default_path_is_the_per_user_data_directory(tmp_path: Path) -> None:
    env = {"HOME": str(tmp_path), "XDG_DATA_HOME": str(tmp_path / "data")}
    assert default_archive_path(env) == tmp_path / "data" / "convoai-mcp" / ARCHIVE_FILENAME
    env = {"HOME": str(tmp_path)}
    expected = tmp_path / ".local" / "share" / "convoai-mcp" / ARCHIVE_FILENAME
    assert default_archive_path(env) == expected


def test_archive_path_setting_accepts_a_file_or_a_directory(tmp_path: Path) -> None:
    env = {"CONVOAI_ARCHIVE_PATH": str(tmp_path / "t.db")}
    assert default_archive_path(env) == tmp_path / "t.db"
    env = {"CONVOAI_ARCHIVE_PATH": str(tmp_path)}
    assert default_archive_path(env) == tmp_path / ARCHIVE_FILENAME


def test_from_settings_honours_off_path_and_retention(tmp_path: Path) -> None:
    off = Settings.from_env({"CONVOAI_ARCHIVE": "off"}, require_credentials=False)
    assert archive_from_settings(off) is None
    on = Settings.from_env(
        {
            "CONVOAI_ARCHIVE_PATH": str(tmp_path / "a.sqlite3"),
            "CONVOAI_ARCHIVE_RETENTION_DAYS": "3",
        },
        require_credentials=False,
    )
    archive = archive_from_settings(on)
    assert isinstance(archive, Archive)
    assert archive.path == tmp_path / "a.sqlite3"
    assert archive.retention_days == 3


@pytest.mark.skipif(sys.platform == "win32", reason="POSIX modes")
def test_archive_directory_and_file_are_private(tmp_path: Path) -> None:
    archive = Archive(tmp_path / "private" / "a.sqlite3")
    archive.save_history_sync("a1", [entry(1)])
    archive.close()
    assert stat.S_IMODE((tmp_path / "private").stat().st_mode) == 0o700
    assert stat.S_IMODE((tmp_path / "private" / "a.sqlite3").stat().st_mode) == 0o600


@pytest.mark.skipif(sys.platform == "win32", reason="POSIX modes")
def test_an_existing_archive_readable_by_others_is_made_private(tmp_path: Path) -> None:
    """Issue 10 D11: a 0644 archive (and its -wal / -shm files) in a 0755 data directory are
    tightened to 0600 / 0700 when the server opens it, not only when it creates them."""
    directory = tmp_path / "convoai-mcp"
    directory.mkdir(mode=0o755)
    os.chmod(directory, 0o755)
    path = directory / ARCHIVE_FILENAME
    other = sqlite3.connect(path)  # another process with the archive open: -wal / -shm exist
    other.execute("PRAGMA journal_mode = WAL")
    other.execute("CREATE TABLE t (x)")
    other.execute("INSERT INTO t VALUES (1)")
    other.commit()
    companions = [path.with_name(path.name + suffix) for suffix in ("-wal", "-shm")]
    for existing in (path, *companions):
        assert existing.exists()
        os.chmod(existing, 0o644)
    try:
        archive = Archive(path)
        archive.save_history_sync("a1", [entry(1)])
        archive.close()
    finally:
        other.close()
    assert stat.S_IMODE(directory.stat().st_mode) == 0o700
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    for companion in companions:
        if companion.exists():
            assert stat.S_IMODE(companion.stat().st_mode) == 0o600


@pytest.mark.skipif(sys.platform == "win32", reason="POSIX modes")
def test_a_chosen_directory_is_left_as_it_is_but_the_files_are_private(tmp_path: Path) -> None:
    """CONVOAI_ARCHIVE_PATH in a directory of the user's (e.g. a shared one) keeps that
    directory's mode; only the archive's own files are tightened."""
    os.chmod(tmp_path, 0o755)
    path = tmp_path / "mine.sqlite3"
    path.touch(mode=0o644)
    os.chmod(path, 0o644)
    archive = Archive(path)
    archive.check_sync()
    archive.close()
    assert stat.S_IMODE(tmp_path.stat().st_mode) == 0o755
    assert stat.S_IMODE(path.stat().st_mode) == 0o600


def test_uses_wal(tmp_path: Path) -> None:
    archive = Archive(tmp_path / "a.sqlite3")
    archive.save_history_sync("a1", [entry(1)])
    with sqlite3.connect(archive.path) as conn:
        assert conn.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
    archive.close()


def test_page_cache_is_small(tmp_path: Path) -> None:
    """The archive's SQLite page cache is bounded well below SQLite's 2 MiB default (it was
    the largest share of a long-running server's memory growth, benchmarks/ figure 6)."""
    archive = Archive(tmp_path / "a.sqlite3")
    archive.save_history_sync("a1", [entry(1)])
    with archive._locked() as conn:
        assert conn.execute("PRAGMA cache_size").fetchone()[0] == -PAGE_CACHE_KIB
    assert PAGE_CACHE_KIB <= 512
    archive.close()


# -- history and turns ----------------------------------------------------------------------


def test_history_roundtrip_dedups_and_keeps_unknown_fields(tmp_path: Path) -> None:
    archive = Archive(tmp_path / "a.sqlite3")
    first = [entry(1), entry(2, "assistant", extra_field="kept")]
    assert archive.save_history_sync("a1", first, start_ts=111, status="RUNNING") == 2
    # the service's window moved on: one old, one new
    assert (
        archive.save_history_sync("a1", [entry(2, "assistant", extra_field="kept"), entry(3)]) == 1
    )
    assert archive.save_history_sync("a1", first) == 0
    loaded = archive.load_history_sync("a1")
    assert loaded is not None
    assert loaded["start_ts"] == 111 and loaded["status"] == "RUNNING"
    assert [c["content"] for c in loaded["contents"]] == ["message 1", "message 2", "message 3"]
    assert loaded["contents"][1]["extra_field"] == "kept"
    assert archive.load_history_sync("unknown") is None
    archive.close()


def test_an_entry_cut_short_later_is_refreshed_in_place(tmp_path: Path) -> None:
    archive = Archive(tmp_path / "a.sqlite3")
    speaking = entry(2, "assistant")  # archived while it was still being said
    assert archive.save_history_sync("a1", [entry(1), speaking, entry(3)]) == 3
    cut = {**speaking, "speech_end_ms": speaking["speech_end_ms"] - 300}  # then interrupted
    assert archive.save_history_sync("a1", [entry(1), cut]) == 1
    assert archive.save_history_sync("a1", [cut]) == 0
    loaded = archive.load_history_sync("a1")
    assert loaded is not None
    assert loaded["contents"] == [entry(1), cut, entry(3)]
    archive.close()


def test_same_text_at_different_times_is_kept_twice(tmp_path: Path) -> None:
    archive = Archive(tmp_path / "a.sqlite3")
    yes = {"role": "user", "content": "yes"}
    added = archive.save_history_sync(
        "a1", [{**yes, "speech_start_ms": 10}, {**yes, "speech_start_ms": 20}]
    )
    assert added == 2
    # entries without timestamps dedup by role + content
    assert archive.save_history_sync("a1", [yes, yes]) == 1
    loaded = archive.load_history_sync("a1")
    assert loaded is not None and len(loaded["contents"]) == 3
    archive.close()


def test_turns_are_keyed_by_turn_id_and_refreshed(tmp_path: Path) -> None:
    archive = Archive(tmp_path / "a.sqlite3")
    t1 = {"turn_id": 1, "start": {"type": "greeting"}}
    t2 = {"turn_id": 2, "start": {"type": "voice_input"}}
    assert archive.save_turns_sync("a1", [t1, t2], name="n", channel="c") == 2
    t2_done = {**t2, "end": {"type": "ok"}, "metrics": {"e2e_latency_ms": 900}}
    assert archive.save_turns_sync("a1", [t1, t2_done]) == 1
    assert archive.save_turns_sync("a1", [t1, t2_done]) == 0
    loaded = archive.load_turns_sync("a1")
    assert loaded is not None
    assert loaded["name"] == "n" and loaded["channel"] == "c"
    assert loaded["turns"] == [t1, t2_done]
    assert loaded["total_turn_count"] == 2
    archive.close()


def test_archive_survives_a_restart(tmp_path: Path) -> None:
    path = tmp_path / "a.sqlite3"
    archive = Archive(path)
    archive.note_agent_sync("a1", kind="call", channel="room")
    archive.save_history_sync("a1", [entry(1), entry(2)])
    archive.close()
    reopened = Archive(path)
    loaded = reopened.load_history_sync("a1")
    assert loaded is not None and len(loaded["contents"]) == 2
    assert reopened.agent_ids_sync() == ["a1"]
    reopened.close()


def test_a_failed_write_leaves_nothing_and_the_next_one_works(tmp_path: Path) -> None:
    archive = Archive(tmp_path / "a.sqlite3")
    unbindable: Any = ["not", "an", "int"]  # SQLite refuses it inside the transaction
    with pytest.raises(sqlite3.Error):
        archive.save_history_sync("a1", [entry(1)], start_ts=unbindable)
    assert archive.agent_ids_sync() == []  # the agent row written before the error is gone
    assert archive.save_history_sync("a1", [entry(1)]) == 1
    assert archive.agent_ids_sync() == ["a1"]
    archive.close()


async def test_async_api_runs_off_the_event_loop(tmp_path: Path) -> None:
    archive = Archive(tmp_path / "a.sqlite3")
    await archive.note_agent("a1", kind="agent", channel="c", name="bot")
    assert await archive.save_history("a1", [entry(1)]) == 1
    assert await archive.save_turns("a1", [{"turn_id": 1}], total_turn_count=1) == 1
    history = await archive.load_history("a1")
    turns = await archive.load_turns("a1")
    assert history is not None and history["contents"][0]["content"] == "message 1"
    assert turns is not None and turns["name"] == "bot"
    assert await archive.prune() == 0
    await archive.aclose()


# -- retention ------------------------------------------------------------------------------


def test_retention_prunes_agents_not_seen_for_the_configured_days(tmp_path: Path) -> None:
    now = [1_000_000.0]
    archive = Archive(tmp_path / "a.sqlite3", retention_days=2, clock=lambda: now[0])
    archive.save_history_sync("old", [entry(1)])
    archive.save_turns_sync("old", [{"turn_id": 1}])
    now[0] += 86400
    archive.save_history_sync("recent", [entry(1)])
    now[0] += 86400 + 1  # "old" last seen 2 days + 1 s ago
    assert archive.prune_sync() == 1
    assert archive.load_history_sync("old") is None
    assert archive.load_turns_sync("old") is None
    assert archive.load_history_sync("recent") is not None
    assert count(archive.path, "turns") == 0
    archive.close()


def test_pruning_also_happens_while_writing(tmp_path: Path) -> None:
    now = [1_000_000.0]
    archive = Archive(tmp_path / "a.sqlite3", retention_days=1, clock=lambda: now[0])
    archive.save_history_sync("old", [entry(1)])
    now[0] += 3 * 86400
    archive.save_history_sync("new", [entry(1)])  # more than an hour since the last prune
    assert archive.agent_ids_sync() == ["new"]
    archive.close()


# -- crash and concurrency ------------------------------------------------------------------

WRITER = textwrap.dedent(
    """
    import sys
    from convoai_mcp.archive.sqlite import SQLiteArchive as Archive

    path, agent, batch, start, stop, step = sys.argv[1:7]
    archive = Archive(path)
    batch, start, stop, step = int(batch), int(start), int(stop), int(step)
    i = start
    while stop < 0 or i < stop:
        end = i + batch if stop < 0 else min(i + batch, stop)
        entries = [
            {"role": "user", "content": f"message {n}", "speech_start_ms": n}
            for n in range(i, end)
        ]
        archive.save_history_sync(agent, entries)
        print(f"committed {end}", flush=True)
        i += step
    archive.close()
    """
)


def writer(path: Path, *args: int | str) -> subprocess.Popen[str]:
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    return subprocess.Popen(
        [sys.executable, "-c", WRITER, str(path), *map(str, args)],
        stdout=subprocess.PIPE,
        text=True,
        env=env,
    )


@pytest.mark.slow
@pytest.mark.skipif(sys.platform == "win32", reason="SIGKILL")
def test_a_writer_killed_mid_write_leaves_a_readable_archive(tmp_path: Path) -> None:
    path = tmp_path / "a.sqlite3"
    proc = writer(path, "a1", 25, 0, -1, 25)  # endless batches of 25, one transaction each
    assert proc.stdout is not None
    for _ in range(5):
        line = proc.stdout.readline()
        assert line.startswith("committed")
    os.kill(proc.pid, signal.SIGKILL)
    proc.wait()
    assert proc.returncode == -signal.SIGKILL
    assert integrity(path) == "ok"
    archive = Archive(path)
    loaded = archive.load_history_sync("a1")
    assert loaded is not None
    n = len(loaded["contents"])
    assert n >= 125  # everything reported as committed is there
    assert n % 25 == 0  # and no half-written batch
    assert [c["speech_start_ms"] for c in loaded["contents"]] == list(range(n))
    # the archive still takes writes after the crash
    assert archive.save_history_sync("a1", [entry(10**6)]) == 1
    archive.close()


def test_concurrent_threads_write_no_duplicates(tmp_path: Path) -> None:
    path = tmp_path / "a.sqlite3"
    shared = Archive(path)
    entries = [entry(i, "user" if i % 2 else "assistant") for i in range(60)]
    errors: list[BaseException] = []

    def work(worker: int) -> None:
        archive = shared if worker % 2 else Archive(path)
        try:
            chunk = 3 + worker
            for start in range(0, len(entries), chunk):
                archive.save_history_sync("a1", entries[start : start + chunk])
                archive.save_turns_sync("a1", [{"turn_id": start % 7}])
        except BaseException as exc:  # pragma: no cover - reported below
            errors.append(exc)
        finally:
            if archive is not shared:
                archive.close()

    threads = [threading.Thread(target=work, args=(w,)) for w in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == []
    assert count(path) == 60
    assert count(path, "turns") == 7
    assert integrity(path) == "ok"
    shared.close()


def test_connections_creating_a_new_archive_at_once_all_succeed(tmp_path: Path) -> None:
    """Switching a new file to WAL from several connections at once can deadlock, and SQLite
    fails one of them without waiting; that one must retry (failed ~1 in 12 rounds before)."""
    errors: list[BaseException] = []
    for round_index in range(60):
        path = tmp_path / f"new-{round_index}.sqlite3"
        ready = threading.Barrier(8)

        def work(path: Path = path, ready: threading.Barrier = ready) -> None:
            archive = Archive(path)
            ready.wait()
            try:
                archive.note_agent_sync("a1")
            except BaseException as exc:  # pragma: no cover - reported below
                errors.append(exc)
            finally:
                archive.close()

        threads = [threading.Thread(target=work) for _ in range(8)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
    assert errors == []


@pytest.mark.slow
def test_concurrent_processes_write_no_duplicates(tmp_path: Path) -> None:
    path = tmp_path / "a.sqlite3"
    procs = [writer(path, "a1", 7 + k, 0, 120, 3 + k) for k in range(4)]
    for proc in procs:
        out, _ = proc.communicate(timeout=120)
        assert proc.returncode == 0
        assert "committed 120" in out
    assert integrity(path) == "ok"
    assert count(path) == 120
    archive = Archive(path)
    loaded = archive.load_history_sync("a1")
    assert loaded is not None
    assert [c["speech_start_ms"] for c in loaded["contents"]] == list(range(120))
    archive.close()


# -- the real server, killed --------------------------------------------------------------


@asynccontextmanager
async def http_server(archive: Path) -> AsyncIterator[tuple[str, Process]]:
    """``convoai-mcp --sandbox`` over streamable HTTP on a free port; yields (url, process)."""
    env = {
        key: value
        for key, value in os.environ.items()
        if not key.startswith(("AGORA_", "CONVOAI_", "PYTHONPATH"))
    }
    env.update({"PYTHONPATH": str(ROOT), "CONVOAI_ARCHIVE_PATH": str(archive)})
    command = [sys.executable, "-m", "convoai_mcp", "--sandbox"]
    command += ["--transport", "streamable-http", "--port", "0"]
    process = await anyio.open_process(command, env=env, stdin=subprocess.DEVNULL)
    try:
        assert process.stderr is not None
        seen = ""
        with anyio.fail_after(30):
            while (match := re.search(r"at (http://\S+?) \(", seen)) is None:
                seen += (await process.stderr.receive()).decode()
        yield match.group(1), process
    finally:
        if process.returncode is None:
            process.kill()
        with anyio.fail_after(10):
            await process.wait()
        await process.aclose()


async def read_history(client: Client, agent_id: str) -> dict[str, Any]:
    result = await client.read_resource(f"convoai://agents/{agent_id}/history")
    data: dict[str, Any] = json.loads(getattr(result.contents[0], "text", ""))
    return data


@pytest.mark.slow
@pytest.mark.skipif(sys.platform == "win32", reason="SIGKILL")
async def test_history_survives_a_server_killed_with_sigkill(tmp_path: Path) -> None:
    """The server process dies hard (and its in-process emulator with it): after a restart the
    history of an agent the new emulator has never heard of still comes from the archive."""
    path = tmp_path / "archive.sqlite3"
    async with http_server(path) as (url, process):
        async with Client(url) as client:
            started = await client.call_tool("start_agent", {"channel": "kill-room"})
            assert not started.is_error
            agent_id = (started.structured_content or {})["agent_id"]
            for text in ("before the crash", "still before the crash"):
                spoke = await client.call_tool("speak", {"agent_id": agent_id, "text": text})
                assert not spoke.is_error
            live = await read_history(client, agent_id)
            assert live["source"] == "service"
        process.send_signal(signal.SIGKILL)
        await process.wait()
        assert process.returncode == -signal.SIGKILL
    assert integrity(path) == "ok"
    async with http_server(path) as (url, _), Client(url) as client:
        after = await read_history(client, agent_id)
    assert after["source"] == "archive"
    assert [e["untrusted_text"] for e in after["entries"]] == [
        e["untrusted_text"] for e in live["entries"]
    ]
    assert "before the crash" in [e["untrusted_text"] for e in after["entries"]]
