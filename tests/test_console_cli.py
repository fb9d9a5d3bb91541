"""``convoai-mcp console``: MCP and the live console on loopback, in a real subprocess."""

from __future__ import annotations

import io
import re
import signal
import subprocess
import sys
from pathlib import Path
from typing import Any

import anyio
import httpx
import pytest
from _server_helpers import subprocess_env
from mcp import Client

from convoai_mcp.cli import _console_args
from convoai_mcp.demo import DEMO_CAMPAIGN, run_demo


def test_the_console_command_is_streamable_http_on_loopback() -> None:
    base = ["--transport", "streamable-http", "--host", "127.0.0.1", "--port"]
    assert _console_args([]) == [*base, "0"]
    assert _console_args(["--sandbox", "--port", "8123"]) == [*base, "8123", "--sandbox"]


def _stderr_until(proc: subprocess.Popen[bytes], pattern: bytes) -> re.Match[bytes]:
    assert proc.stderr is not None
    seen = b""
    while (match := re.search(pattern, seen)) is None:
        line = proc.stderr.readline()
        assert line, f"the process ended before printing {pattern!r}: {seen!r}"
        seen += line
    return match


async def _use(base: str) -> None:
    """Start an agent over MCP, see it in the console's API, and stop it from there."""
    async with Client(f"{base}/mcp") as client:
        started = await client.call_tool("start_agent", {"channel": "cli-room"})
        assert not started.is_error and started.structured_content is not None
        agent_id = started.structured_content["agent_id"]
    async with httpx.AsyncClient(base_url=base, timeout=30) as http:
        page = await http.get("/console")
        assert page.status_code == 200 and "convoai-mcp console" in page.text
        listed = (await http.get("/console/api/agents")).json()["agents"]
        assert [a["agent_id"] for a in listed] == [agent_id]
        ended = await http.post(f"/console/api/agents/{agent_id}/end", json={})
        assert ended.status_code == 200, ended.text
        assert ended.json()["tool"] == "stop_agent"
        detail = (await http.get(f"/console/api/agents/{agent_id}")).json()
        assert detail["agent"]["ended"] is True


@pytest.mark.slow
def test_console_sandbox_serves_mcp_and_the_console(tmp_path: Path) -> None:
    proc = subprocess.Popen(
        [sys.executable, "-m", "convoai_mcp", "console", "--sandbox"],
        stdin=subprocess.DEVNULL,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        env=subprocess_env(CONVOAI_ARCHIVE_PATH=str(tmp_path / "a.sqlite3")),
    )
    try:
        console = _stderr_until(proc, rb"console at (http://127\.0\.0\.1:\d+/console)\n")
        url = console.group(1).decode()
        base = url.removesuffix("/console")
        anyio.run(_use, base)
        proc.send_signal(signal.SIGINT)
        proc.wait(timeout=30)
        assert proc.stderr is not None
        assert b"Traceback" not in proc.stderr.read()
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()


async def test_the_demo_prints_the_console_url_and_serves_it(tmp_path: Path) -> None:
    """While the demo runs (here: after its last step, as ``--keep-console`` holds it) its
    console answers with the demo's agent and calls, the transcript from the archive, and
    the demo's campaign."""
    seen: dict[str, Any] = {}

    async def look(url: str) -> None:
        base = url.removesuffix("/console")
        async with httpx.AsyncClient(base_url=base, timeout=30) as http:
            page = await http.get("/console")
            seen["page"] = page.status_code, page.text
            agents = (await http.get("/console/api/agents")).json()["agents"]
            seen["kinds"] = sorted(a["kind"] for a in agents)
            seen["ended"] = all(a["ended"] for a in agents)
            listed = (await http.get("/console/api/agents")).json()["campaigns"]
            seen["campaigns"] = [(c["status"], c["summary"]["total"]) for c in listed]
            campaign = await http.get(f"/console/api/campaigns/{listed[0]['campaign_id']}")
            seen["numbers"] = [d["number"] for d in campaign.json()["destinations"]]
            agent = next(a for a in agents if a["kind"] == "agent")
            detail = (await http.get(f"/console/api/agents/{agent['agent_id']}")).json()
            seen["history"] = detail["history"]
            seen["other"] = (await http.get("/mcp")).status_code

    out = io.StringIO()
    status = await run_demo(out, archive_dir=tmp_path, hold=look)
    text = out.getvalue()
    assert status == 0, text
    (url,) = re.findall(r"console at (http://127\.0\.0\.1:\d+/console) ", text)
    assert seen["page"][0] == 200 and "convoai-mcp console" in seen["page"][1]
    # the agent, the call, and the demo campaign's three calls
    assert seen["kinds"] == ["agent", "call", "call", "call", "call"]
    assert seen["ended"] is True
    assert seen["campaigns"] == [("completed", len(DEMO_CAMPAIGN))]
    assert seen["numbers"] == list(DEMO_CAMPAIGN)
    assert seen["history"]["source"] == "archive" and seen["history"]["entries"]
    assert seen["other"] == 404  # the console alone: no MCP endpoint beside it
    async with httpx.AsyncClient() as http:
        with pytest.raises(httpx.ConnectError):  # and no longer once the demo is over
            await http.get(url)


@pytest.mark.slow
def test_demo_keep_console_serves_until_interrupted(tmp_path: Path) -> None:
    proc = subprocess.Popen(
        [sys.executable, "-m", "convoai_mcp", "demo", "--keep-console"],
        stdin=subprocess.DEVNULL,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        env=subprocess_env(),
    )
    try:
        assert proc.stdout is not None
        seen = b""
        pattern = rb"The console stays at (http://127\.0\.0\.1:\d+/console) until Ctrl-C\.\n"
        while (match := re.search(pattern, seen)) is None:
            line = proc.stdout.readline()
            assert line, f"the demo ended before holding the console: {seen!r}"
            seen += line
        url = match.group(1).decode()
        agents = httpx.get(url + "/api/agents", timeout=30).json()["agents"]
        # the agent, the call and the demo campaign's three calls
        assert sorted(a["kind"] for a in agents) == ["agent", "call", "call", "call", "call"]
        proc.send_signal(signal.SIGINT)
        out, err = proc.communicate(timeout=30)
        assert proc.returncode == 0, err
        assert b"all steps succeeded" in out and b"Traceback" not in err
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
