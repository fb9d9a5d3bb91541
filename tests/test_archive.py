"""The archive interface: the factory picks the backend, every backend is an ``Archive``."""

from __future__ import annotations

from pathlib import Path

import pytest

from convoai_mcp.archive import Archive, open_archive
from convoai_mcp.archive.sqlite import SQLiteArchive
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
def test_postgresql_is_a_clear_not_available_yet_error(url: str) -> None:
    with pytest.raises(ConfigError, match="PostgreSQL archive is not available yet") as info:
        open_archive(url)
    assert "CONVOAI_ARCHIVE_PATH" in info.value.hint


@pytest.mark.parametrize("url", ["mysql://h/db", "sqlite://", "sqlite:///"])
def test_unknown_schemes_and_empty_urls_are_refused(url: str) -> None:
    with pytest.raises(ConfigError):
        open_archive(url)


async def test_the_sqlite_archive_works_through_the_interface(tmp_path: Path) -> None:
    archive: Archive = open_archive(tmp_path / "c.sqlite3")
    await archive.check()
    await archive.note_agent("a1", kind="agent", channel="room")
    assert await archive.save_history("a1", [{"role": "user", "content": "hi"}]) == 1
    assert await archive.save_turns("a1", [{"turn_id": 1}]) == 1
    history = await archive.load_history("a1")
    assert history is not None and history["contents"] == [{"role": "user", "content": "hi"}]
    turns = await archive.load_turns("a1")
    assert turns is not None and turns["channel"] == "room"
    assert await archive.prune() == 0
    await archive.aclose()
