"""Smoke test of the benchmarks: every figure runs at a tiny size and returns a well-formed result.

No timing assertions: the numbers at these sizes mean nothing; what is checked is that each
benchmark runs end to end against the emulator and reports rows with finite ratios.
"""

from __future__ import annotations

import importlib
import json
import math
import sys
from pathlib import Path
from types import ModuleType

import pytest

pytestmark = pytest.mark.slow

REPO = Path(__file__).resolve().parent.parent


def _load(name: str) -> ModuleType:
    if str(REPO) not in sys.path:
        sys.path.insert(0, str(REPO))
    return importlib.import_module(name)


suite = _load("benchmarks.suite")
team = _load("benchmarks.team")
harness = _load("benchmarks._harness")
runner = _load("benchmarks.run")


def test_every_issue_figure_is_there() -> None:
    assert list(suite.FIGURES) == [
        "tool_call_overhead",
        "concurrency",
        "cold_start",
        "token_minting",
        "failover",
        "memory",
        "team",
    ]


@pytest.mark.parametrize("key", list(suite.FIGURES))
async def test_figure_runs_and_is_well_formed(key: str, request: pytest.FixtureRequest) -> None:
    if key == "team":  # PostgreSQL state: a real server (skipped with the reason without one)
        team.use_database_url(request.getfixturevalue("postgres_server"))
    figure = await suite.FIGURES[key](suite.Sizes.tiny())
    assert isinstance(figure, harness.Figure)
    assert figure.key == key
    assert figure.title
    assert figure.target
    assert figure.met in (True, False, None)
    assert figure.rows
    for row in figure.rows:
        assert row.label
        assert row.unit
        assert row.better in ("lower", "higher")
        assert math.isfinite(row.measured) and row.measured >= 0, row
        assert math.isfinite(row.baseline) and row.baseline > 0, row
        assert math.isfinite(row.ratio) and row.ratio >= 0, row
        # One round at this size, so even paired ratios are measured / baseline.
        assert row.ratio == pytest.approx(row.measured / row.baseline, rel=1e-6), row
    encoded = json.loads(json.dumps(figure.to_json(), default=str))
    assert encoded["key"] == key
    assert len(encoded["rows"]) == len(figure.rows)
    table = runner.render([figure])
    assert figure.title in table
    assert "ratio" in table
    if key in ("tool_call_overhead", "concurrency"):
        # Both transports against the bare httpx baseline: the row labels the README quotes.
        labels = " | ".join(row.label for row in figure.rows)
        assert "MCP in-memory" in labels and "MCP streamable HTTP" in labels, labels
        assert all(row.baseline_label.startswith("bare httpx") for row in figure.rows[:2])


def test_percentile_interpolates() -> None:
    values = [4.0, 1.0, 3.0, 2.0]
    assert harness.percentile(values, 0) == 1.0
    assert harness.percentile(values, 100) == 4.0
    assert harness.percentile(values, 50) == pytest.approx(2.5)
    with pytest.raises(ValueError):
        harness.percentile([], 50)


def test_ratio_of_a_zero_baseline() -> None:
    assert harness.ratio(0.0, 0.0) == 1.0
    assert math.isinf(harness.ratio(1.0, 0.0))
    assert harness.ratio(3.0, 2.0) == 1.5


def test_where_the_report_goes() -> None:
    """Only a full run replaces the tracked figures; --json always wins."""
    assert runner.results_path(None, quick=False, only=[]) == runner.RESULTS
    assert runner.results_path(None, quick=True, only=[]) is None
    assert runner.results_path(None, quick=False, only=["memory"]) is None
    assert runner.results_path(Path("x.json"), quick=True, only=[]) == Path("x.json")


def test_a_quick_run_leaves_the_tracked_results_alone(tmp_path: Path) -> None:
    """``run.py --quick`` in a copy of benchmarks/: the copy's results/latest.json and .md are
    untouched (they used to be rewritten with the quick figures); ``--json`` writes there."""
    import shutil
    import subprocess

    copy = tmp_path / "repo"
    shutil.copytree(
        REPO / "benchmarks", copy / "benchmarks", ignore=shutil.ignore_patterns("__pycache__")
    )
    tracked = [copy / "benchmarks" / "results" / name for name in ("latest.json", "latest.md")]
    before = [path.read_bytes() for path in tracked]
    env = {**__import__("os").environ, "PYTHONPATH": f"{copy}:{REPO}"}
    command = [
        sys.executable,
        str(copy / "benchmarks" / "run.py"),
        "--quick",
        "--only",
        "token_minting",
    ]
    # Exit status 1 only says a target was missed (this machine is busy): not what is tested.
    done = subprocess.run(command, env=env, capture_output=True, text=True, timeout=300)
    assert done.returncode in (0, 1), done.stderr
    assert "not written" in done.stdout
    assert [path.read_bytes() for path in tracked] == before
    out = tmp_path / "mine.json"
    done = subprocess.run(
        [*command, "--json", str(out)], env=env, capture_output=True, text=True, timeout=300
    )
    assert done.returncode in (0, 1), done.stderr
    assert json.loads(out.read_text())["figures"][0]["key"] == "token_minting"
    assert out.with_suffix(".md").exists()


async def test_the_team_figure_is_skipped_with_a_message_without_postgresql(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.delenv(team.DATABASE_URL_ENV, raising=False)
    monkeypatch.setattr(team, "_URL", [])
    figure = await team.team(suite.Sizes.tiny())
    assert figure.met is None and figure.rows == []
    assert figure.notes == [
        "skipped: no PostgreSQL server: pass --database-url URL or set CONVOAI_TEST_DATABASE_URL"
    ]
    assert "skipped" in runner.render([figure])
