"""A real PostgreSQL server for the tests, found or started, and throwaway databases in it.

* ``CONVOAI_TEST_DATABASE_URL`` (a maintenance database URL, e.g.
  ``postgresql://postgres@127.0.0.1:5432/postgres``): that server is used.
* Otherwise PostgreSQL's ``initdb`` / ``pg_ctl`` (on ``PATH`` or in
  ``/usr/lib/postgresql/*/bin``) make a temporary cluster on 127.0.0.1 and a free port, trust
  authentication, no fsync (fast; thrown away afterwards). They refuse to run as root, so as root
  they run as the ``postgres`` OS user (``runuser``) on a directory that user owns.

When neither works the PostgreSQL tests skip with the reason; under ``CI=true`` that is a
failure instead. ``.ci/run`` uses the same code from the command line::

    python tests/_postgres.py start DIR   # prints the URL of a new cluster in DIR
    python tests/_postgres.py stop DIR    # stops it
"""

from __future__ import annotations

import glob
import os
import pwd
import shutil
import socket
import subprocess
import sys
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from urllib.parse import urlsplit

__all__ = ["ENV", "PostgresUnavailable", "find_bin", "reachable", "start", "stop", "throwaway"]

ENV = "CONVOAI_TEST_DATABASE_URL"
_USER = "postgres"


class PostgresUnavailable(Exception):
    """No PostgreSQL server could be found or started (the message says why)."""


def find_bin() -> Path | None:
    """The directory with ``initdb`` and ``pg_ctl``, or ``None``."""
    found = shutil.which("initdb")
    candidates = [Path(found).resolve().parent] if found else []
    candidates += [Path(p) for p in sorted(glob.glob("/usr/lib/postgresql/*/bin"), reverse=True)]
    for directory in candidates:
        if (directory / "initdb").is_file() and (directory / "pg_ctl").is_file():
            return directory
    return None


def reachable(url: str) -> str | None:
    """``None`` when ``url`` accepts a connection, else why not."""
    try:
        import psycopg
    except ImportError:
        return "psycopg is not installed (pip install -e '.[dev]' or '.[postgres]')"
    try:
        with psycopg.connect(url, connect_timeout=5, autocommit=True) as conn:
            conn.execute("SELECT 1")
    except psycopg.Error as exc:
        return " ".join(str(exc).split())[:200]
    return None


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _as_owner(command: list[str]) -> list[str]:
    """``command`` run as the ``postgres`` user when we are root (initdb refuses root)."""
    if os.geteuid() != 0:
        return command
    return ["runuser", "-u", _USER, "--", *command]


def _run(command: list[str]) -> None:
    done = subprocess.run(
        _as_owner(command), capture_output=True, text=True, timeout=120, check=False
    )
    if done.returncode != 0:
        tail = (done.stderr or done.stdout).strip().splitlines()[-3:]
        raise PostgresUnavailable(f"{Path(command[0]).name} failed: {' | '.join(tail)}")


def start(directory: Path) -> str:
    """A new cluster in ``directory`` (created), started; returns its maintenance URL."""
    bindir = find_bin()
    if bindir is None:
        raise PostgresUnavailable(
            "no PostgreSQL server: set CONVOAI_TEST_DATABASE_URL, or install PostgreSQL "
            "(initdb / pg_ctl not found on PATH or in /usr/lib/postgresql/*/bin)"
        )
    directory.mkdir(parents=True, exist_ok=True)
    if os.geteuid() == 0:
        try:
            owner = pwd.getpwnam(_USER)
        except KeyError:
            raise PostgresUnavailable(f"running as root and there is no {_USER!r} user") from None
        os.chown(directory, owner.pw_uid, owner.pw_gid)
    os.chmod(directory, 0o700)
    data = directory / "data"
    _run(
        [
            str(bindir / "initdb"),
            "-D",
            str(data),
            "-U",
            _USER,
            "-A",
            "trust",
            "-E",
            "UTF8",
            "--no-locale",
            "--no-sync",
        ]
    )
    port = _free_port()
    options = (
        f"-c listen_addresses=127.0.0.1 -c port={port} -c unix_socket_directories={directory} "
        "-c fsync=off -c synchronous_commit=off -c full_page_writes=off -c max_connections=200"
    )
    _run(
        [
            str(bindir / "pg_ctl"),
            "-D",
            str(data),
            "-o",
            options,
            "-l",
            str(directory / "log"),
            "-w",
            "-t",
            "60",
            "start",
        ]
    )
    (directory / "port").write_text(str(port))
    return f"postgresql://{_USER}@127.0.0.1:{port}/postgres"


def stop(directory: Path) -> None:
    """Stop the cluster in ``directory`` (if it runs) and remove the directory."""
    bindir = find_bin()
    data = directory / "data"
    if bindir is not None and (data / "postmaster.pid").exists():
        subprocess.run(
            _as_owner([str(bindir / "pg_ctl"), "-D", str(data), "-m", "immediate", "-w", "stop"]),
            capture_output=True,
            timeout=60,
            check=False,
        )
    shutil.rmtree(directory, ignore_errors=True)


def with_database(url: str, dbname: str) -> str:
    """``url`` (a ``postgresql://`` URL) pointing at the database ``dbname`` instead."""
    return urlsplit(url)._replace(path=f"/{dbname}").geturl()


@contextmanager
def throwaway(url: str) -> Iterator[str]:
    """A new, empty database on the server of ``url``; yields its URL, drops it afterwards."""
    import psycopg

    name = f"convoai_test_{uuid.uuid4().hex[:16]}"
    with psycopg.connect(url, autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')
    try:
        yield with_database(url, name)
    finally:
        with psycopg.connect(url, autocommit=True) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def main(argv: list[str]) -> int:
    """``start DIR`` (prints the URL) or ``stop DIR``."""
    if len(argv) != 2 or argv[0] not in ("start", "stop"):
        print("usage: python tests/_postgres.py start|stop DIR", file=sys.stderr)
        return 2
    directory = Path(argv[1])
    if argv[0] == "stop":
        stop(directory)
        return 0
    try:
        print(start(directory))
    except PostgresUnavailable as exc:
        print(f"PostgreSQL not started: {exc}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
