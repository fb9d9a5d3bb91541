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


# -- ending: Ctrl-C, closed pipes, ports in use -----------------------------------------


def _stderr_until(proc: subprocess.Popen[bytes], marker: bytes) -> bytes:
    assert proc.stderr is not None
    seen = b""
    while marker not in seen:
        line = proc.stderr.readline()
        assert line, f"the process ended before printing {marker!r}: {seen!r}"
        seen += line
    return seen


@pytest.mark.slow
def test_ctrl_c_stops_the_stdio_server_at_once_with_status_130(tmp_path: Path) -> None:
    """SIGINT while stdin stays open (a terminal): the SDK's stdin thread blocks in read(), and
    the server used to wait for it forever."""
    import signal

    proc = subprocess.Popen(
        [sys.executable, "-m", "convoai_mcp", "--sandbox"],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        env=subprocess_env(CONVOAI_ARCHIVE_PATH=str(tmp_path / "a.sqlite3")),
    )
    try:
        _stderr_until(proc, b"waiting for a client on stdin")
        proc.send_signal(signal.SIGINT)
        assert proc.wait(timeout=30) == 130
        assert proc.stderr is not None
        assert b"Traceback" not in proc.stderr.read()
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
        assert proc.stdin is not None
        proc.stdin.close()


@pytest.mark.slow
def test_demo_into_a_pipe_closed_early_is_quiet() -> None:
    """``convoai-mcp demo | head -1``: no BrokenPipeError traceback; status 141 (SIGPIPE)."""
    proc = subprocess.Popen(
        [sys.executable, "-m", "convoai_mcp", "demo"],
        stdin=subprocess.DEVNULL,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        env=subprocess_env(),
    )
    assert proc.stdout is not None and proc.stderr is not None
    assert proc.stdout.readline().startswith(b"convoai-mcp demo:")
    proc.stdout.close()  # what head does after its lines
    try:
        assert proc.wait(timeout=120) == 141
        assert proc.stderr.read() == b""
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()


def test_the_sandbox_on_a_port_in_use_fails_first_in_one_line() -> None:
    """No banner (and no credentials) before the failure: one line on stderr, exit 1."""
    import socket

    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        proc = run_cli("sandbox", "--port", str(port))
    assert proc.returncode == 1
    assert f"cannot listen on 127.0.0.1:{port}" in one_line_error(proc)


def test_the_http_server_on_a_port_in_use_fails_first_in_one_line(tmp_path: Path) -> None:
    """Bound before the sandbox starts and the banner is printed: one line, exit 1."""
    import socket

    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        proc = run_cli(
            "--sandbox",
            "--transport",
            "streamable-http",
            "--port",
            str(port),
            CONVOAI_ARCHIVE_PATH=str(tmp_path / "a.sqlite3"),
        )
    assert proc.returncode == 1
    assert f"cannot serve on 127.0.0.1:{port}" in one_line_error(proc)
