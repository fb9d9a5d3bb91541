"""The archive interface: the factory picks the backend, every backend is an ``Archive`` (the
behaviours they share: test_archive_behaviour.py)."""

from __future__ import annotations

from pathlib import Path

import pytest

from convoai_mcp.archive import Archive, archive_from_settings, open_archive
from convoai_mcp.archive.postgres import PostgresArchive
from convoai_mcp.archive.sqlite import SQLiteArchive
from convoai_mcp.config import Settings
from convoai_mcp.errors import ConfigError


def test_a_path_opens_the_sqlite_archive(tmp_path: Path) -> None:
    archive = open_archive(tmp_path / "a.sqlite3", retention_days=3)
    assert isinstance(archive, SQLiteArchive)
    assert isinstance(archive, Archive)
    assert archive.path == tmp_path / "a.sqlite3"
    assert archive.retention_days == 3


def test_a_sqlite_url_opens_the_sqlite_archive(tmp_path: Path) -> None:
    archive = open_archive(f"sqlite://{tmp_path}/b.sqlite3")
    assert isinstance(archive, SQLiteArchive)
    assert archive.path == tmp_path / "b.sqlite3"


@pytest.mark.parametrize("url", ["postgresql://db.example/convoai", "postgres://u@h/db"])
def test_a_postgresql_url_opens_the_postgres_archive_without_connecting(url: str) -> None:
    """Issue 15 on purpose: a postgresql:// URL was "not available yet"; now it is the
    PostgreSQL backend (nothing is connected before the first use)."""
    archive = open_archive(url, retention_days=4)
    assert isinstance(archive, PostgresArchive)
    assert isinstance(archive, Archive)
    assert archive.retention_days == 4


def test_the_postgres_archive_never_shows_the_password() -> None:
    archive = open_archive("postgresql://bob:s3cret-pw@db.example:6543/convoai")
    assert isinstance(archive, PostgresArchive)
    assert archive.where == "db.example:6543/convoai"
    assert "s3cret" not in repr(archive)


def test_the_database_url_setting_selects_postgresql() -> None:
    url = "postgresql://bob:s3cret-pw@db.example/convoai"
    settings = Settings.from_env(
        {"CONVOAI_DATABASE_URL": url, "CONVOAI_ARCHIVE_RETENTION_DAYS": "9"},
        require_credentials=False,
    )
    assert "s3cret" not in repr(settings)
    archive = archive_from_settings(settings)
    assert isinstance(archive, PostgresArchive)
    assert archive.retention_days == 9
    off = {"CONVOAI_DATABASE_URL": url, "CONVOAI_ARCHIVE": "off"}
    assert archive_from_settings(Settings.from_env(off, require_credentials=False)) is None


@pytest.mark.parametrize(
    ("env", "message"),
    [
        ({"CONVOAI_DATABASE_URL": "mysql://h/db"}, "not a postgresql:// URL"),
        ({"CONVOAI_DATABASE_URL": "h/db"}, "not a postgresql:// URL"),
    ],
)
def test_a_wrong_database_url_is_refused_at_start_up(env: dict[str, str], message: str) -> None:
    with pytest.raises(ConfigError, match=message) as info:
        Settings.from_env(env, require_credentials=False)
    assert "h/db" not in str(info.value)


@pytest.mark.parametrize("url", ["mysql://h/db", "sqlite://", "sqlite:///"])
def test_unknown_schemes_and_empty_urls_are_refused(url: str) -> None:
    with pytest.raises(ConfigError):
        open_archive(url)
