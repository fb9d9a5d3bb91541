"""What only the PostgreSQL archive has: the versioned schema, migrated by the server, safe when
replicas start at once; a clear error for an unreachable or newer database. Against a real
server (tests/_postgres.py; the shared behaviours are in test_archive_behaviour.py)."""

from __future__ import annotations

import socket

import anyio
import pytest

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
    assert tables(postgres_url) == {"schema_version", "agents", "history", "turns"}
    assert versions(postgres_url) == [v for v, _ in MIGRATIONS]
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
