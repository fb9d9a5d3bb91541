"""Infrastructure shared by the benchmarks: the emulator in its own process, the environment a
server needs to use it, subprocess helpers, statistics, and the result types.

The emulator (``python -m convoai_mcp.sandbox``) always runs in a separate process, so that its
CPU time is not charged to the code under test, and a server's RSS is not inflated by the
emulator's state. Everything measured and its baseline run in the benchmark process (or, for
cold start and memory, in subprocesses started the same way).
"""

from __future__ import annotations

import asyncio
import contextlib
import math
import os
import re
import shlex
import socket
import sys
from collections.abc import AsyncIterator, Iterator, Mapping, Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

__all__ = [
    "PYTHON",
    "REPO",
    "Emulator",
    "Figure",
    "Row",
    "black_hole",
    "children_of",
    "cmdline",
    "emulator",
    "free_port",
    "percentile",
    "ratio",
    "rss_kib",
    "server_env",
    "silent_listener",
    "spawn_http_server",
    "stop_process",
    "summary",
    "tool_content",
]

REPO = Path(__file__).resolve().parent.parent
PYTHON = sys.executable


# --------------------------------------------------------------------------- results


async def tool_content(client: Any, name: str, arguments: dict[str, Any]) -> dict[str, Any]:
    """The structured result of tool ``name`` through an ``mcp.Client``; RuntimeError with
    the tool's text when it failed."""
    result = await client.call_tool(name, arguments)
    if result.is_error or result.structured_content is None:
        text = " ".join(getattr(block, "text", "") for block in result.content)
        raise RuntimeError(f"{name} failed: {text}")
    content: dict[str, Any] = result.structured_content
    return content


@dataclass
class Row:
    """One measured quantity next to its baseline.

    ``ratio`` is ``measured / baseline`` (for a rate, > 1 means faster than the baseline;
    ``better`` says which way is good), or, where rounds are paired, the median of the
    per-round ratios.
    """

    label: str
    measured: float
    baseline: float
    unit: str
    ratio: float
    better: str = "lower"  # "lower" or "higher"
    baseline_label: str = ""

    @classmethod
    def of(
        cls,
        label: str,
        measured: float,
        baseline: float,
        unit: str,
        *,
        better: str = "lower",
        baseline_label: str = "",
    ) -> Row:
        """A row whose ratio is ``measured / baseline`` (see :func:`ratio`)."""
        return cls(
            label,
            measured,
            baseline,
            unit,
            ratio(measured, baseline),
            better=better,
            baseline_label=baseline_label,
        )


@dataclass
class Figure:
    """One of the six figures: its rows, its target and whether it was met."""

    key: str
    title: str
    rows: list[Row]
    target: str
    met: bool | None
    notes: list[str] = field(default_factory=list)
    details: dict[str, Any] = field(default_factory=dict)
    seconds: float = 0.0

    def to_json(self) -> dict[str, Any]:
        """A JSON-serialisable dict."""
        return asdict(self)


def ratio(measured: float, baseline: float) -> float:
    """``measured / baseline`` (inf when the baseline is 0 and the measure is not)."""
    if baseline == 0:
        return 1.0 if measured == 0 else math.inf
    return measured / baseline


def percentile(values: Sequence[float], q: float) -> float:
    """The ``q``-th percentile (0..100) by linear interpolation; values need not be sorted."""
    if not values:
        raise ValueError("no values")
    data = sorted(values)
    pos = (len(data) - 1) * q / 100.0
    lo = math.floor(pos)
    hi = min(lo + 1, len(data) - 1)
    return data[lo] + (data[hi] - data[lo]) * (pos - lo)


def summary(values: Sequence[float]) -> dict[str, float]:
    """n, p50, p90, p99, mean, min, max."""
    return {
        "n": float(len(values)),
        "p50": percentile(values, 50),
        "p90": percentile(values, 90),
        "p99": percentile(values, 99),
        "mean": sum(values) / len(values),
        "min": min(values),
        "max": max(values),
    }


# --------------------------------------------------------------------------- processes


def _base_env() -> dict[str, str]:
    """The current environment without our variables, with the repo importable."""
    env = {
        key: value
        for key, value in os.environ.items()
        if not key.startswith(("AGORA_", "CONVOAI_", "PYTHONPATH"))
    }
    env["PYTHONPATH"] = str(REPO)
    # A server started by a user runs from compiled .pyc files (pip writes them at install).
    # With PYTHONDONTWRITEBYTECODE inherited, the warm-up spawn could not write them, and every
    # measured spawn recompiled each module changed since the last .pyc (config.py alone ~5 ms).
    env.pop("PYTHONDONTWRITEBYTECODE", None)
    return env


@dataclass
class Emulator:
    """The emulator process: its base URL and the credentials it accepts."""

    base_url: str
    app_id: str
    app_certificate: str
    customer_id: str
    customer_secret: str
    pid: int

    @property
    def admin_url(self) -> str:
        """Root of the admin endpoint (only served when started with ``admin=True``)."""
        return self.base_url.split("/api/", 1)[0] + "/_sandbox"

    def api_env(self, archive_path: Path | None = None) -> dict[str, str]:
        """``AGORA_*`` / ``CONVOAI_*`` variables for a server that uses this emulator."""
        from convoai_mcp.server.sandbox_mode import SANDBOX_PRESETS

        env = {
            "AGORA_APP_ID": self.app_id,
            "AGORA_APP_CERTIFICATE": self.app_certificate,
            "AGORA_CUSTOMER_ID": self.customer_id,
            "AGORA_CUSTOMER_SECRET": self.customer_secret,
            "CONVOAI_BASE_URL": self.base_url,
            "CONVOAI_PRESETS": ",".join(SANDBOX_PRESETS),
        }
        if archive_path is not None:
            env["CONVOAI_ARCHIVE_PATH"] = str(archive_path)
        return env


def server_env(extra: Mapping[str, str] | None = None) -> dict[str, str]:
    """Environment for a server subprocess: ours stripped, the repo importable, ``extra``."""
    env = _base_env()
    env.update(extra or {})
    return env


async def stop_process(process: asyncio.subprocess.Process, grace: float = 5.0) -> None:
    """Terminate ``process`` (SIGTERM, then SIGKILL after ``grace`` seconds) and reap it."""
    if process.returncode is None:
        with contextlib.suppress(ProcessLookupError):
            process.terminate()
        try:
            await asyncio.wait_for(process.wait(), grace)
        except TimeoutError:
            with contextlib.suppress(ProcessLookupError):
                process.kill()
            await process.wait()


@contextlib.asynccontextmanager
async def emulator(*, answer_delay: float = 0.05, admin: bool = False) -> AsyncIterator[Emulator]:
    """Run ``python -m convoai_mcp.sandbox --port 0`` and yield where it listens
    (``admin``: with its fault-injection endpoint)."""
    process = await asyncio.create_subprocess_exec(
        PYTHON,
        "-m",
        "convoai_mcp.sandbox",
        "--port",
        "0",
        "--answer-delay",
        str(answer_delay),
        *(["--admin"] if admin else []),
        env=_base_env(),
        stdin=asyncio.subprocess.DEVNULL,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.DEVNULL,
    )
    try:
        assert process.stdout is not None
        values: dict[str, str] = {}
        keys = {"CONVOAI_BASE_URL", "AGORA_APP_ID", "AGORA_APP_CERTIFICATE"}
        keys |= {"AGORA_CUSTOMER_ID", "AGORA_CUSTOMER_SECRET"}
        async with asyncio.timeout(30):
            while not keys <= values.keys():
                line = (await process.stdout.readline()).decode()
                if not line:
                    raise RuntimeError("the emulator exited before printing its banner")
                # the banner's ``export NAME=value`` lines (shell-quoted; comments start #)
                words = shlex.split(line, comments=True)
                if len(words) == 2 and words[0] == "export":
                    name, _, value = words[1].partition("=")
                    values[name] = value
        yield Emulator(
            base_url=values["CONVOAI_BASE_URL"],
            app_id=values["AGORA_APP_ID"],
            app_certificate=values["AGORA_APP_CERTIFICATE"],
            customer_id=values["AGORA_CUSTOMER_ID"],
            customer_secret=values["AGORA_CUSTOMER_SECRET"],
            pid=process.pid,
        )
    finally:
        await stop_process(process)


@contextlib.asynccontextmanager
async def spawn_http_server(
    env: Mapping[str, str], command: Sequence[str] = ("-m", "convoai_mcp")
) -> AsyncIterator[tuple[str, int]]:
    """``python -m convoai_mcp --transport streamable-http --port 0``; yields (URL, pid).

    ``command`` replaces ``-m convoai_mcp`` (e.g. a script that patches something first).
    """
    process = await asyncio.create_subprocess_exec(
        PYTHON,
        *command,
        "--transport",
        "streamable-http",
        "--port",
        "0",
        env=server_env(env),
        stdin=asyncio.subprocess.DEVNULL,
        stdout=asyncio.subprocess.DEVNULL,
        stderr=asyncio.subprocess.PIPE,
    )
    try:
        assert process.stderr is not None
        seen = ""
        async with asyncio.timeout(30):
            while (match := re.search(r"at (http://\S+?) \(", seen)) is None:
                line = (await process.stderr.readline()).decode()
                if not line:
                    raise RuntimeError(f"the HTTP server exited: {seen[-500:]}")
                seen += line
        log: list[str] = [seen]
        drain = asyncio.create_task(_drain(process.stderr, log))
        try:
            yield match.group(1), process.pid
        except BaseException:
            tail = "".join(log)[-3000:]
            print(f"--- the HTTP server's stderr (tail):\n{tail}", file=sys.stderr)
            raise
        finally:
            drain.cancel()
    finally:
        await stop_process(process)


async def _drain(stream: asyncio.StreamReader, log: list[str]) -> None:
    while line := await stream.readline():
        log.append(line.decode(errors="replace"))
        del log[:-200]


def rss_kib(pid: int) -> int:
    """Resident set size of ``pid`` in KiB (from /proc)."""
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1])
    raise RuntimeError(f"no VmRSS for {pid}")


def children_of(pid: int) -> list[int]:
    """Direct children of ``pid`` (Linux /proc)."""
    found: list[int] = []
    for task in Path(f"/proc/{pid}/task").iterdir():
        children = task / "children"
        with contextlib.suppress(OSError):
            found.extend(int(c) for c in children.read_text().split())
    return found


def cmdline(pid: int) -> list[str]:
    """The command line of ``pid``."""
    try:
        raw = Path(f"/proc/{pid}/cmdline").read_bytes()
    except OSError:
        return []
    return [part.decode(errors="replace") for part in raw.split(b"\0") if part]


def free_port() -> int:
    """A loopback port nothing listens on (bound, then released)."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


@contextlib.contextmanager
def black_hole() -> Iterator[int]:
    """A loopback port whose TCP handshakes never complete (SYNs dropped), yielded.

    A listening socket with a backlog of 0 that never accepts: once one connection fills its
    accept queue, the kernel drops further SYNs, so a client's connect hangs until its own
    connect timeout - what a firewalled or dead region looks like from the outside.
    """
    server = socket.socket()
    fillers: list[socket.socket] = []
    try:
        server.bind(("127.0.0.1", 0))
        server.listen(0)
        port: int = server.getsockname()[1]
        for _ in range(2):
            filler = socket.socket()
            filler.setblocking(False)
            with contextlib.suppress(BlockingIOError):
                filler.connect(("127.0.0.1", port))
            fillers.append(filler)
        yield port
    finally:
        for filler in fillers:
            filler.close()
        server.close()


@contextlib.contextmanager
def silent_listener() -> Iterator[int]:
    """A loopback port that completes TCP handshakes (large backlog) but never reads or
    answers: the request is sent and no response ever comes."""
    server = socket.socket()
    try:
        server.bind(("127.0.0.1", 0))
        server.listen(128)
        port: int = server.getsockname()[1]
        yield port
    finally:
        server.close()
