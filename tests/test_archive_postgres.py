"""What only the PostgreSQL archive has: the versioned schema, migrated by the server, safe when
replicas start at once; a clear error for an unreachable or newer database. Against a real
server (tests/_postgres.py; the shared behaviours are in test_archive_behaviour.py)."""

from __future__ import annotations

import json
import signal
import socket
import sys
import time
from typing import Any

import anyio
import pytest
from mcp import Client

from convoai_mcp.archive import check_archive
from convoai_mcp.archive.postgres import MIGRATIONS, SCHEMA_VERSION, PostgresArchive
from convoai_mcp.config import Settings
from convoai_mcp.errors import ConfigError

psycopg = pytest.importorskip("psycopg", reason="the postgres extra is not installed")


def versions(url: str) -> list[int]:
    with psycopg.connect(url) as conn:
        return [r[0] for r in conn.execute("SELECT version FROM schema_version ORDER BY 1")]


def tables(url: str) -> set[str]:
    with psycopg.connect(url) as conn:
        rows = conn.execute(
            "SELECT table_name FROM information_schema.tables WHERE table_schema = 'public'"
        ).fetchall()
    return {r[0] for r in rows}


async def test_the_server_creates_the_schema_and_records_its_version(postgres_url: str) -> None:
    assert tables(postgres_url) == set()
    archive = PostgresArchive(postgres_url)
    await archive.check()
    await archive.aclose()
    # the archive's tables, and those of the later versions (campaigns, replicas)
    assert {"schema_version", "agents", "history", "turns", "audit"} <= tables(postgres_url)
    assert {"limit_slots", "limit_starts", "watch_leases"} <= tables(postgres_url)
    assert {"campaigns", "campaign_destinations"} <= tables(postgres_url)
    assert versions(postgres_url) == sorted(v for v, _ in MIGRATIONS)
    assert versions(postgres_url)[-1] == SCHEMA_VERSION


async def test_migrating_again_changes_nothing(postgres_url: str) -> None:
    first = PostgresArchive(postgres_url)
    await first.save_history("a1", [{"role": "user", "content": "kept"}])
    await first.aclose()
    for _ in range(2):
        again = PostgresArchive(postgres_url)
        await again.check()
        loaded = await again.load_history("a1")
        await again.aclose()
        assert loaded is not None and loaded["contents"] == [{"role": "user", "content": "kept"}]
    assert versions(postgres_url) == [v for v, _ in MIGRATIONS]


async def test_replicas_starting_at_once_migrate_once(postgres_url: str) -> None:
    """Eight servers open a fresh database at the same moment: every one succeeds (none trips
    over another's CREATE TABLE), and each migration is recorded once."""
    archives = [PostgresArchive(postgres_url, min_size=1, max_size=1) for _ in range(8)]
    errors: list[BaseException] = []

    async def start(archive: PostgresArchive, index: int) -> None:
        try:
            await archive.note_agent(f"replica-{index}")
        except BaseException as exc:  # pragma: no cover - reported below
            errors.append(exc)

    async with anyio.create_task_group() as group:
        for index, archive in enumerate(archives):
            group.start_soon(start, archive, index)
    ids = await archives[0].agent_ids()
    for archive in archives:
        await archive.aclose()
    assert errors == []
    assert sorted(ids) == sorted(f"replica-{i}" for i in range(8))
    assert versions(postgres_url) == [v for v, _ in MIGRATIONS]


async def test_a_database_of_a_newer_server_is_refused_untouched(postgres_url: str) -> None:
    archive = PostgresArchive(postgres_url)
    await archive.check()
    await archive.aclose()
    with psycopg.connect(postgres_url) as conn:
        conn.execute("INSERT INTO schema_version (version) VALUES (%s)", (SCHEMA_VERSION + 1,))
    newer = PostgresArchive(postgres_url)
    with pytest.raises(ConfigError, match="newer than this server") as info:
        await newer.check()
    assert "upgrade convoai-mcp" in info.value.hint
    assert versions(postgres_url)[-1] == SCHEMA_VERSION + 1


def _closed_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


async def test_an_unreachable_database_is_a_config_error_without_the_password() -> None:
    url = f"postgresql://bob:s3cret-pw@127.0.0.1:{_closed_port()}/convoai"
    archive = PostgresArchive(url, connect_timeout=2)
    with pytest.raises(ConfigError, match=r"PostgreSQL archive 127\.0\.0\.1") as info:
        await archive.check()
    text = f"{info.value} {info.value.hint}"
    assert "s3cret" not in text
    assert "CONVOAI_DATABASE_URL" in text


async def test_start_up_checks_the_configured_database(postgres_url: str) -> None:
    settings = Settings.from_env({"CONVOAI_DATABASE_URL": postgres_url}, require_credentials=False)
    await check_archive(settings)  # creates and migrates the schema, as the server does
    assert versions(postgres_url)[-1] == SCHEMA_VERSION
    bad = Settings.from_env(
        {"CONVOAI_DATABASE_URL": postgres_url.rsplit("/", 1)[0] + "/no_such_database"},
        require_credentials=False,
    )
    with pytest.raises(ConfigError, match="no_such_database"):
        await check_archive(bad)


# -- the real server on PostgreSQL ----------------------------------------------------------


def with_password(url: str, password: str) -> str:
    """``url`` with a password (trust authentication ignores it: a canary for the output)."""
    scheme, rest = url.split("://", 1)
    user, host = rest.split("@", 1)
    return f"{scheme}://{user}:{password}@{host}"


async def run_cli(*args: str, env: dict[str, str]) -> tuple[int, str]:
    from _server_helpers import subprocess_env

    command = [sys.executable, "-m", "convoai_mcp", *args]
    done = await anyio.run_process(command, env=subprocess_env(**env), check=False)
    return done.returncode, done.stdout.decode() + done.stderr.decode()


@pytest.mark.slow
async def test_check_migrates_and_names_the_database_without_its_password(
    postgres_url: str,
) -> None:
    url = with_password(postgres_url, "canary-db-pw")
    status, out = await run_cli("check", "--sandbox", env={"CONVOAI_DATABASE_URL": url})
    assert status == 0, out
    dbname = postgres_url.rsplit("/", 1)[1]
    assert "archive: on, PostgreSQL 127.0.0.1:" in out and f"/{dbname}, kept 30 days" in out
    assert "canary-db-pw" not in out
    assert versions(postgres_url)[-1] == SCHEMA_VERSION
    gone = url.rsplit("/", 1)[0] + "/no_such_database"
    status, out = await run_cli("check", "--sandbox", env={"CONVOAI_DATABASE_URL": gone})
    assert status == 2, out
    assert "no_such_database" in out and "CONVOAI_DATABASE_URL" in out
    assert "canary-db-pw" not in out


@pytest.mark.slow
@pytest.mark.skipif(sys.platform == "win32", reason="SIGKILL")
async def test_history_survives_a_server_killed_with_sigkill_on_postgresql(
    postgres_url: str,
) -> None:
    """As for SQLite (test_archive_sqlite.py): the server dies hard, and after a restart the
    history of an agent the new emulator never heard of comes from the PostgreSQL archive."""
    from test_archive_sqlite import http_server, read_history

    env = {"CONVOAI_DATABASE_URL": postgres_url}
    async with http_server(None, env) as (url, process):
        async with Client(url) as client:
            started = await client.call_tool("start_agent", {"channel": "pg-kill-room"})
            assert not started.is_error
            agent_id = (started.structured_content or {})["agent_id"]
            spoke = await client.call_tool("speak", {"agent_id": agent_id, "text": "kept in pg"})
            assert not spoke.is_error
            live = await read_history(client, agent_id)
            assert live["source"] == "service"
        process.send_signal(signal.SIGKILL)
        await process.wait()
    async with http_server(None, env) as (url, _), Client(url) as client:
        after = await read_history(client, agent_id)
    assert after["source"] == "archive"
    assert said(after) == said(live)
    assert "kept in pg" in said(after)


def said(history: dict[str, Any]) -> list[str]:
    """The texts of a history resource."""
    return [str(e["untrusted_text"]) for e in history["entries"]]


async def test_a_database_of_an_older_server_is_migrated_keeping_its_data(
    postgres_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    from convoai_mcp.archive import postgres

    with monkeypatch.context() as older:  # a server that knew only the first schema
        older.setattr(postgres, "MIGRATIONS", MIGRATIONS[:1])
        older.setattr(postgres, "SCHEMA_VERSION", MIGRATIONS[0][0])
        old = PostgresArchive(postgres_url)
        await old.check()  # creates the first schema
        await old.aclose()
    with psycopg.connect(postgres_url) as conn:  # what that server had written
        conn.execute("INSERT INTO agents (agent_id, first_seen, last_seen) VALUES ('a1', 1e9, 1e9)")
        conn.execute(
            "INSERT INTO history (agent_id, role, start_key, content_hash, data, archived_at) "
            """VALUES ('a1', 'user', -1, 'h', '{"role": "user", "content": "from before"}', 1e9)"""
        )
    assert versions(postgres_url) == [MIGRATIONS[0][0]]
    assert "audit" not in tables(postgres_url)
    new = PostgresArchive(postgres_url, retention_days=36500)
    loaded = await new.load_history("a1")
    assert loaded is not None and loaded["contents"] == [{"role": "user", "content": "from before"}]
    assert await new.append_audit({"tool": "call"}) >= 1
    await new.aclose()
    assert versions(postgres_url) == [v for v, _ in MIGRATIONS]


def test_the_audit_command_reads_the_postgresql_archive_read_only(
    postgres_url: str, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    from convoai_mcp.cli import main

    url = with_password(postgres_url, "canary-db-pw")
    monkeypatch.setenv("CONVOAI_DATABASE_URL", url)
    assert main(["audit"]) == 2  # nothing there yet: read-only creates nothing
    assert tables(postgres_url) == set()
    err = capsys.readouterr().err
    assert "cannot read the archive PostgreSQL 127.0.0.1:" in err and "canary-db-pw" not in err

    async def write() -> None:
        archive = PostgresArchive(postgres_url)
        for i in range(3):  # recent: older ones would be pruned by retention
            await archive.append_audit({"tool": "start_agent", "n": i, "at": time.time() - 3 + i})
        await archive.aclose()

    anyio.run(write)
    assert main(["audit", "--json"]) == 0
    out, err = capsys.readouterr()
    assert [json.loads(line)["n"] for line in out.splitlines()] == [0, 1, 2]  # oldest first
    assert "canary-db-pw" not in out + err
