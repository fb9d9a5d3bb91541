"""Settings shared by the whole suite.

Hypothesis runs derandomized under CI (``CI`` set, as ``.ci/run`` is run), so a red build is
reproducible from its commit; locally it explores new examples on every run. Set
``HYPOTHESIS_PROFILE=explore`` to explore under CI too.

``postgres_server`` / ``postgres_url``: a real PostgreSQL server and a throwaway database in it
(tests/_postgres.py); skipped with the reason when none can be found or started, a failure under
``CI=true``.
"""

from __future__ import annotations

import os
import subprocess
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import NoReturn

import pytest
from hypothesis import settings

settings.register_profile("ci", derandomize=True, deadline=None, print_blob=True)
settings.register_profile("explore", deadline=None, print_blob=True)
settings.load_profile(
    os.environ.get("HYPOTHESIS_PROFILE") or ("ci" if os.environ.get("CI") else "explore")
)


# -- PostgreSQL (tests/_postgres.py) ------------------------------------------------------------


@pytest.fixture(scope="session")
def postgres_server() -> Iterator[str]:
    """The maintenance URL of a real PostgreSQL server: ``CONVOAI_TEST_DATABASE_URL``, else a
    temporary cluster started for this session. Skips with the reason when there is none, and
    fails instead under ``CI=true`` (CI must run the PostgreSQL tests)."""
    import _postgres

    def unavailable(reason: str) -> NoReturn:
        if os.environ.get("CI", "").lower() == "true":
            pytest.fail(f"PostgreSQL tests cannot run under CI: {reason}", pytrace=False)
        pytest.skip(f"no PostgreSQL: {reason}")

    url = os.environ.get(_postgres.ENV, "").strip()
    if url:
        problem = _postgres.reachable(url)
        if problem is not None:
            unavailable(f"{_postgres.ENV} is unreachable: {problem}")
        yield url
        return
    try:
        import psycopg  # noqa: F401
    except ImportError:
        unavailable("psycopg is not installed (pip install -e '.[dev]')")
    directory = Path(tempfile.mkdtemp(prefix="convoai-pg-"))
    try:
        try:
            url = _postgres.start(directory)
        except (_postgres.PostgresUnavailable, OSError, subprocess.SubprocessError) as exc:
            unavailable(str(exc))
        yield url
    finally:
        _postgres.stop(directory)


@pytest.fixture
def postgres_url(postgres_server: str) -> Iterator[str]:
    """The URL of a new, empty database on :func:`postgres_server`, dropped afterwards."""
    import _postgres

    with _postgres.throwaway(postgres_server) as url:
        yield url
