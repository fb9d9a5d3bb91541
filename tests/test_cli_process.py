"""How the ``convoai-mcp`` process starts and ends, in real subprocesses: start-up checks of the
archive, Ctrl-C, bad ports, closed pipes (issue 10)."""

from __future__ import annotations

import sqlite3
import subprocess
import sys
from pathlib import Path

import pytest
from _server_helpers import subprocess_env


def run_cli(*args: str, **env: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "convoai_mcp", *args],
        capture_output=True,
        text=True,
        env=subprocess_env(**env),
        timeout=120,
        check=False,
        stdin=subprocess.DEVNULL,
    )


def one_line_error(proc: subprocess.CompletedProcess[str]) -> str:
    """The only line on stderr (asserting there is no traceback and nothing on stdout)."""
    assert "Traceback" not in proc.stderr, proc.stderr
    assert proc.stdout == ""
    lines = proc.stderr.strip().splitlines()
    assert len(lines) == 1, proc.stderr
    return lines[0]


# -- the archive at start-up (D4, D12) ---------------------------------------------------


def test_a_corrupt_archive_is_a_one_line_start_up_error(tmp_path: Path) -> None:
    corrupt = tmp_path / "archive.sqlite3"
    corrupt.write_bytes(b"this is not a database, " * 200)
    proc = run_cli("--sandbox", CONVOAI_ARCHIVE_PATH=str(corrupt))
    assert proc.returncode == 2
    line = one_line_error(proc)
    assert "CONVOAI_ARCHIVE_PATH" in line
    assert str(corrupt) in line
    assert "not an SQLite database" in line


def test_an_archive_path_below_a_regular_file_is_a_one_line_start_up_error(
    tmp_path: Path,
) -> None:
    regular = tmp_path / "file"
    regular.write_text("x")
    proc = run_cli("--sandbox", CONVOAI_ARCHIVE_PATH=str(regular / "sub" / "a.sqlite3"))
    assert proc.returncode == 2
    line = one_line_error(proc)
    assert "CONVOAI_ARCHIVE_PATH" in line
    assert "regular file" in line


def test_an_unknown_home_directory_in_the_archive_path_is_a_configuration_error() -> None:
    proc = run_cli("--sandbox", CONVOAI_ARCHIVE_PATH="~nosuchuser-convoai/x")
    assert proc.returncode == 2
    line = one_line_error(proc)
    assert "CONVOAI_ARCHIVE_PATH" in line


def test_a_usable_archive_starts_and_a_closed_stdin_ends_the_server(tmp_path: Path) -> None:
    good = tmp_path / "good.sqlite3"
    sqlite3.connect(good).close()  # an empty SQLite file is a fine start
    proc = run_cli("--sandbox", CONVOAI_ARCHIVE_PATH=str(good))
    assert proc.returncode == 0, proc.stderr
    assert "Traceback" not in proc.stderr


@pytest.mark.parametrize("port", ["99999", "-1"])
def test_a_port_out_of_range_is_a_one_line_error(port: str, tmp_path: Path) -> None:
    proc = run_cli(
        "--sandbox",
        "--transport",
        "streamable-http",
        "--port",
        port,
        CONVOAI_ARCHIVE_PATH=str(tmp_path / "a.sqlite3"),
    )
    assert proc.returncode == 2
    assert "--port" in one_line_error(proc)
