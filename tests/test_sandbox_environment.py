"""The two ways to use the sandbox from an MCP server (issue 10): the standalone sandbox's
``export`` lines, ``eval``-ed in a real shell, and ``--sandbox``'s defaults (the README's call
example goes through)."""

from __future__ import annotations

import asyncio
import shlex
import signal
import stat
import sys
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path

import pytest
from _server_helpers import error_text, subprocess_env
from mcp import Client, StdioServerParameters

from convoai_mcp.config import Settings
from convoai_mcp.sandbox import DEMO_CREDENTIALS, SandboxCredentials
from convoai_mcp.sandbox.environment import (
    FICTIONAL_ALLOWLIST,
    SANDBOX_PRESETS,
    export_lines,
    server_environment,
    withheld,
)
from convoai_mcp.server.app import build_server
from convoai_mcp.server.sandbox_mode import run_sandbox

README_CALL = {
    "to_number": "+14155550123",
    "system_prompt": "You confirm Tuesday's 3 pm appointment.",
    "greeting": "Hi, this is the clinic.",
    "wait_until_answered": True,
    "confirm": True,  # the README's client would ask the user; this one says yes up front
}


def test_export_lines_are_quoted_and_withhold_secrets_from_the_environment() -> None:
    env = server_environment(
        "http://127.0.0.1:1/api", DEMO_CREDENTIALS, archive_path=Path("/t/a b")
    )
    assert env["CONVOAI_PRESETS"] == ",".join(SANDBOX_PRESETS)
    assert env["CONVOAI_CALL_ALLOWLIST"] == ",".join(FICTIONAL_ALLOWLIST)
    lines = export_lines(env)
    assert "export CONVOAI_ARCHIVE_PATH='/t/a b'" in lines
    mine = SandboxCredentials(DEMO_CREDENTIALS.app_id, "f" * 32, "me", "a-very-private-secret")
    env = server_environment("http://x", mine)
    assert "AGORA_CUSTOMER_SECRET" not in env and "AGORA_APP_CERTIFICATE" not in env
    text = "\n".join(export_lines(env, withheld(mine)))
    assert "a-very-private-secret" not in text and "f" * 32 not in text
    assert "# AGORA_CUSTOMER_SECRET=a-ve…" in text


def _read(path: Path) -> tuple[int, str]:
    return stat.S_IMODE(path.stat().st_mode), path.read_text(errors="replace")


def _everything_in(path: Path) -> list[Path]:
    return list(path.rglob("*"))


@asynccontextmanager
async def standalone_sandbox(*args: str, env: dict[str, str]) -> AsyncIterator[list[str]]:
    """``convoai-mcp sandbox --port 0 ...`` in a subprocess; yields what it printed."""
    proc = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "convoai_mcp",
        "sandbox",
        "--port",
        "0",
        *args,
        stdin=asyncio.subprocess.DEVNULL,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
        env=env,
    )
    assert proc.stdout is not None
    lines: list[str] = []
    try:
        while not any(line.startswith("# (emulated") for line in lines):
            raw = await asyncio.wait_for(proc.stdout.readline(), timeout=60)
            assert raw, f"the sandbox ended early: {lines}"
            lines.append(raw.decode().rstrip("\n"))
        yield lines
    finally:
        proc.send_signal(signal.SIGTERM)
        assert await asyncio.wait_for(proc.wait(), timeout=30) == 0


@pytest.mark.slow
async def test_eval_of_the_standalone_sandbox_output_gives_a_server_that_starts_an_agent(
    tmp_path: Path,
) -> None:
    """Everything it prints is ``eval``-ed by a real shell, which then runs the MCP server: an
    agent starts and is archived in the sandbox's temporary archive, not the user's real one
    (HOME and XDG_DATA_HOME point at an empty directory that stays empty)."""
    home = tmp_path / "home"
    home.mkdir()
    env = subprocess_env(
        HOME=str(home),
        XDG_DATA_HOME=str(home / ".local" / "share"),
        CONVOAI_CONFIRM_BY_ARGUMENT="true",  # a headless client: confirm=true counts
    )
    env_file = tmp_path / "sandbox.env"
    async with standalone_sandbox("--env-file", str(env_file), env=env) as lines:
        printed = "\n".join(lines)
        exports = [line for line in lines if line.startswith("export ")]
        mode, written = _read(env_file)
        assert mode == 0o600
        assert [line for line in written.splitlines() if "export" in line] == exports
        archive = Path(
            shlex.split(next(x for x in exports if "CONVOAI_ARCHIVE_PATH" in x))[1].split("=", 1)[1]
        )
        script = 'eval "$SANDBOX_OUTPUT" && exec "$PYTHON" -m convoai_mcp'
        params = StdioServerParameters(
            command="/bin/sh",
            args=["-c", script],
            env={**env, "SANDBOX_OUTPUT": printed, "PYTHON": sys.executable},
            cwd=str(tmp_path),
        )
        async with Client(params) as client:
            started = await client.call_tool("start_agent", {"channel": "eval-room"})
            assert not started.is_error, error_text(started)
            assert started.structured_content is not None
            agent_id = started.structured_content["agent_id"]
            placed = await client.call_tool("call", README_CALL)
            assert not placed.is_error, error_text(placed)
            stopped = await client.call_tool("stop_agent", {"agent_id": agent_id})
            assert not stopped.is_error, error_text(stopped)
        assert _read(archive)[1]  # the sandbox's temporary archive has the transcript
        assert _everything_in(home) == []


async def test_in_sandbox_mode_the_readme_call_example_goes_through(tmp_path: Path) -> None:
    """``--sandbox`` without CONVOAI_CALL_ALLOWLIST: the emulator's fictional numbers are
    allow-listed (it used to refuse the README's own example: outbound calls disabled)."""
    base = Settings.from_env(
        {
            "CONVOAI_ARCHIVE_PATH": str(tmp_path / "a.sqlite3"),
            "CONVOAI_CONFIRM_BY_ARGUMENT": "true",  # a headless client: confirm=true counts
        },
        require_credentials=False,
    )
    async with run_sandbox(base) as (settings, _):
        assert settings.call_allowlist == FICTIONAL_ALLOWLIST
        server = build_server(settings)
        try:
            async with Client(server) as client:
                placed = await client.call_tool("call", README_CALL)
                assert not placed.is_error, error_text(placed)
                assert placed.structured_content is not None
                assert placed.structured_content["to_number"] == README_CALL["to_number"]
        finally:
            await server.runtime.aclose()


async def test_an_explicit_allow_list_still_wins_in_sandbox_mode(tmp_path: Path) -> None:
    base = Settings.from_env(
        {"CONVOAI_CALL_ALLOWLIST": "+4420", "CONVOAI_ARCHIVE_PATH": str(tmp_path / "a.sqlite3")},
        require_credentials=False,
    )
    async with run_sandbox(base) as (settings, _):
        assert settings.call_allowlist == ("+4420",)
        server = build_server(settings)
        try:
            async with Client(server) as client:
                refused = await client.call_tool("call", README_CALL)
                assert "allow-list" in error_text(refused)
        finally:
            await server.runtime.aclose()
