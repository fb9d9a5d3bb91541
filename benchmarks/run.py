"""Run the benchmarks: ``python benchmarks/run.py [--quick] [--only a,b] [--json PATH]``.

Prints a table (each figure next to its baseline, the ratio and the target); a full run (no
``--quick``, no ``--only``) writes benchmarks/results/latest.json and .md (machine, command, every
figure with its raw details), other runs only with ``--json PATH``.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import math
import os
import platform
import subprocess
import sys
import time
import traceback
from collections.abc import Sequence
from dataclasses import asdict
from pathlib import Path
from typing import Any

if __package__ in (None, ""):  # run as a script: make the repo importable
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from benchmarks._harness import REPO, Figure
from benchmarks.suite import FIGURES, Sizes

__all__ = ["machine", "main", "render", "render_markdown", "run"]

RESULTS = REPO / "benchmarks" / "results" / "latest.json"


def machine() -> dict[str, Any]:
    """What the figures were measured on."""
    cpu = ""
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    mem_kib = 0
    try:
        for line in Path("/proc/meminfo").read_text().splitlines():
            if line.startswith("MemTotal:"):
                mem_kib = int(line.split()[1])
    except OSError:
        pass
    try:
        commit = subprocess.run(
            ["git", "rev-parse", "--short", "HEAD"],
            cwd=REPO,
            capture_output=True,
            text=True,
            check=False,
        ).stdout.strip()
    except OSError:
        commit = ""
    from importlib.metadata import version

    return {
        "nproc": len(os.sched_getaffinity(0)),
        "cpu": cpu,
        "memory_gib": round(mem_kib / 1024 / 1024, 1),
        "python": platform.python_version(),
        "platform": platform.platform(),
        "mcp": version("mcp"),
        "httpx": version("httpx"),
        "commit": commit,
    }


def _num(value: float) -> str:
    if math.isinf(value) or math.isnan(value):
        return str(value)
    if abs(value) >= 1000:
        return f"{value:,.0f}"
    if abs(value) >= 10:
        return f"{value:.1f}"
    return f"{value:.2f}"


def render(figures: Sequence[Figure]) -> str:
    """The table printed at the end of a run."""
    lines: list[str] = []
    for figure in figures:
        verdict = {True: "MET", False: "MISSED", None: "-"}[figure.met]
        lines.append(f"{figure.title}  [{figure.seconds:.0f} s]")
        lines.append(f"  target: {figure.target}  -> {verdict}")
        width = max((len(row.label) for row in figure.rows), default=0)
        for row in figure.rows:
            arrow = "lower=better" if row.better == "lower" else "higher=better"
            lines.append(
                f"  {row.label:<{width}}  {_num(row.measured):>9} {row.unit:<8} vs "
                f"{_num(row.baseline):>9} ({row.baseline_label})  ratio {row.ratio:.2f} "
                f"[{arrow}]"
            )
        lines.extend(f"  note: {note}" for note in figure.notes)
        lines.append("")
    return "\n".join(lines)


def render_markdown(figures: Sequence[Figure]) -> str:
    """The same table in Markdown (for benchmarks/README.md)."""
    lines = [
        "| figure | measured | baseline | ratio | target | met |",
        "|---|---|---|---|---|---|",
    ]
    for figure in figures:
        verdict = {True: "yes", False: "**no**", None: "-"}[figure.met]
        if not figure.rows:
            lines.append(f"| **{figure.title}** | | | | {'; '.join(figure.notes)} | {verdict} |")
        for index, row in enumerate(figure.rows):
            name = f"**{figure.title}**<br>{row.label}" if index == 0 else row.label
            lines.append(
                f"| {name} | {_num(row.measured)} {row.unit} | {_num(row.baseline)} {row.unit} "
                f"({row.baseline_label}) | {row.ratio:.2f} | "
                f"{figure.target if index == 0 else ''} | {verdict if index == 0 else ''} |"
            )
    return "\n".join(lines) + "\n"


async def run(sizes: Sizes, only: Sequence[str] | None = None) -> list[Figure]:
    """Run the chosen figures (all by default) one after another."""
    figures = []
    for key, bench in FIGURES.items():
        if only and key not in only:
            continue
        print(f"running {key} ...", file=sys.stderr, flush=True)
        started = time.perf_counter()
        try:
            figures.append(await bench(sizes))
        except Exception as exc:  # one broken figure must not lose the others
            traceback.print_exc()
            figures.append(
                Figure(
                    key=key,
                    title=f"{key}: FAILED",
                    rows=[],
                    target="(the benchmark raised)",
                    met=False,
                    notes=[f"{type(exc).__name__}: {exc}"[:500]],
                    seconds=time.perf_counter() - started,
                )
            )
    return figures


def results_path(requested: Path | None, *, quick: bool, only: Sequence[str]) -> Path | None:
    """Where the report goes: ``--json PATH`` if given, else the tracked
    :data:`RESULTS` for a full run only (a ``--quick`` or ``--only`` run must not replace the
    published figures), else nowhere."""
    if requested is not None:
        return requested
    return None if quick or only else RESULTS


def main(argv: Sequence[str] | None = None) -> int:
    """Parse options, run, print the table, write the JSON; 0 when every target is met."""
    parser = argparse.ArgumentParser(prog="python benchmarks/run.py", description=__doc__)
    parser.add_argument("--quick", action="store_true", help="smaller sizes (about a minute)")
    parser.add_argument("--only", default="", help=f"comma list of figures: {', '.join(FIGURES)}")
    parser.add_argument(
        "--json",
        type=Path,
        default=None,
        help=f"write the report there (a full run writes {RESULTS} and its .md; --quick and "
        "--only write nothing unless --json is given)",
    )
    parser.add_argument(
        "--database-url",
        default=None,
        help="PostgreSQL maintenance URL for the team figure (a database is created and dropped "
        "there; default CONVOAI_TEST_DATABASE_URL; without one that figure is skipped)",
    )
    args = parser.parse_args(argv)
    if args.database_url:
        from benchmarks.team import use_database_url

        use_database_url(args.database_url)
    only = [name.strip() for name in args.only.split(",") if name.strip()]
    unknown = [name for name in only if name not in FIGURES]
    if unknown:
        parser.error(f"unknown figure(s): {', '.join(unknown)}")
    sizes = Sizes.quick() if args.quick else Sizes.full()
    started = time.perf_counter()
    figures = asyncio.run(run(sizes, only))
    total = time.perf_counter() - started
    print(render(figures))
    print(f"total {total:.0f} s")
    report = {
        "command": "python benchmarks/run.py" + (" --quick" if args.quick else ""),
        "when": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
        "seconds": round(total, 1),
        "machine": machine(),
        "sizes": asdict(sizes),
        "figures": [figure.to_json() for figure in figures],
    }
    out = results_path(args.json, quick=args.quick, only=only)
    if out is None:
        print(f"not written ({RESULTS.name} holds full runs only; --json PATH writes this one)")
    else:
        out.parent.mkdir(parents=True, exist_ok=True)
        out.write_text(json.dumps(report, indent=2, default=str) + "\n")
        out.with_suffix(".md").write_text(render_markdown(figures))
        print(f"wrote {out} and {out.with_suffix('.md')}")
    return 0 if all(figure.met is not False for figure in figures) else 1


if __name__ == "__main__":
    sys.exit(main())
