"""Cold start: what the stdio server imports before it answers ``tools/list`` (not timed).

The real CLI (``python -m convoai_mcp``) is spawned with ``-X importtime`` and spoken to over its
stdio (initialize, initialized, tools/list); the modules it imported are read from that output.
Modules only some sessions need (the profile file's parser and vendor catalog, the calling rules
and phone number library, the TOML parser, "did you mean", the sandbox, PostgreSQL, JWT) must
not be among them, and loading them later must still work (a profile file present, a malformed
calling rule still stopping start-up with exit status 2).
"""

from __future__ import annotations

import json
import re
import subprocess
import sys
from pathlib import Path

import pytest
from _server_helpers import subprocess_env

APP_ID = "0123456789abcdef0123456789abcdef"
CERTIFICATE = "fedcba9876543210fedcba9876543210"

LAZY = (
    "convoai_mcp.profiles",
    "convoai_mcp.profiles._profiles",
    "convoai_mcp.profiles._vendors",
    "convoai_mcp.profiles._catalog",
    "convoai_mcp.calling_rules",
    "phonenumbers",
    "tomllib",
    "difflib",
    "convoai_mcp.sandbox",
    "convoai_mcp.archive.postgres",
    "psycopg",
    "jwt",
)
"""Not imported by a plain stdio start-up (no profile file, no calling rules set, no campaign to
resume)."""

_IMPORT = re.compile(r"^import time:\s+\d+ \|\s+\d+ \|\s*(\S+)\s*$", re.MULTILINE)
_REQUESTS = [
    {
        "jsonrpc": "2.0",
        "id": 1,
        "method": "initialize",
        "params": {
            "protocolVersion": "2025-06-18",
            "capabilities": {},
            "clientInfo": {"name": "test", "version": "1"},
        },
    },
    {"jsonrpc": "2.0", "method": "notifications/initialized"},
    {"jsonrpc": "2.0", "id": 2, "method": "tools/list", "params": {}},
]


def _env(tmp_path: Path, **extra: str) -> dict[str, str]:
    home = tmp_path / "home"
    home.mkdir(exist_ok=True)
    return subprocess_env(
        HOME=str(home),
        XDG_CONFIG_HOME=str(home / ".config"),
        AGORA_APP_ID=APP_ID,
        AGORA_APP_CERTIFICATE=CERTIFICATE,
        AGORA_CUSTOMER_ID="customer",
        AGORA_CUSTOMER_SECRET="customer-secret",
        CONVOAI_BASE_URL="http://127.0.0.1:9/api/conversational-ai-agent",
        CONVOAI_ARCHIVE_PATH=str(tmp_path / "archive.sqlite3"),
        **extra,
    )


def _imports_until_tools(tmp_path: Path, **extra: str) -> tuple[set[str], list[str]]:
    """Start the stdio server, list its tools, close stdin; (modules imported, tool names)."""
    stderr = tmp_path / "stderr.txt"  # a file: -X importtime writes more than a pipe holds
    with stderr.open("wb") as err_file:
        process = subprocess.Popen(
            [sys.executable, "-X", "importtime", "-m", "convoai_mcp"],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=err_file,
            env=_env(tmp_path, **extra),
            cwd=tmp_path,
        )
    assert process.stdin is not None and process.stdout is not None
    try:
        process.stdin.write((json.dumps(_REQUESTS[0]) + "\n").encode())
        process.stdin.flush()
        tools: list[str] = []
        while True:
            line = process.stdout.readline()
            assert line, "the server exited before answering tools/list"
            message = json.loads(line)
            if message.get("id") == 1:
                body = "".join(json.dumps(m) + "\n" for m in _REQUESTS[1:])
                process.stdin.write(body.encode())
                process.stdin.flush()
            elif message.get("id") == 2:
                tools = [tool["name"] for tool in message["result"]["tools"]]
                break
        process.communicate(timeout=60)  # closes stdin: the server exits
    finally:
        if process.poll() is None:
            process.kill()
            process.wait()
    return set(_IMPORT.findall(stderr.read_text(errors="replace"))), tools


def test_the_stdio_server_answers_tools_list_without_the_lazy_modules(tmp_path: Path) -> None:
    modules, tools = _imports_until_tools(tmp_path)
    assert "start_agent" in tools and "speak" in tools
    assert "convoai_mcp.server.app" in modules  # the output was read: the server is in it
    assert sorted(set(LAZY) & modules) == []


def test_a_profile_file_is_still_loaded_at_start_up(tmp_path: Path) -> None:
    profiles = tmp_path / "profiles.toml"
    profiles.write_text(
        'default = "plain"\n[profiles.plain]\ndescription = "Preset voice"\n'
        'presets = ["deepgram_nova_3", "openai_gpt_4o_mini", "minimax_speech_2_6_turbo"]\n'
    )
    modules, tools = _imports_until_tools(tmp_path, CONVOAI_PROFILES=str(profiles))
    assert "convoai_mcp.profiles._profiles" in modules
    assert "list_profiles" in tools


@pytest.mark.parametrize(
    ("name", "value"),
    [
        ("CONVOAI_CALL_HOURS", "8 till late"),
        ("CONVOAI_DEFAULT_REGION", "XX"),
        ("CONVOAI_PROFILES", "/nonexistent/profiles.toml"),
    ],
)
def test_lazily_checked_settings_still_stop_start_up(tmp_path: Path, name: str, value: str) -> None:
    proc = subprocess.run(
        [sys.executable, "-m", "convoai_mcp"],
        capture_output=True,
        text=True,
        env=_env(tmp_path, **{name: value}),
        cwd=tmp_path,
        stdin=subprocess.DEVNULL,
        timeout=120,
        check=False,
    )
    assert proc.returncode == 2, proc.stderr
    assert name in proc.stderr
    assert "Traceback" not in proc.stderr


def test_reading_the_configuration_loads_no_profiles_calling_rules_or_toml(
    tmp_path: Path,
) -> None:
    code = (
        "import sys\n"
        "from convoai_mcp.config import Settings\n"
        "Settings.from_env()\n"
        "lazy = ('convoai_mcp.profiles', 'convoai_mcp.calling_rules', 'phonenumbers', "
        "'tomllib', 'difflib')\n"
        "print(sorted(m for m in lazy if m in sys.modules))\n"
    )
    proc = subprocess.run(
        [sys.executable, "-c", code],
        capture_output=True,
        text=True,
        env=_env(tmp_path),
        cwd=tmp_path,
        timeout=120,
        check=True,
    )
    assert proc.stdout.strip() == "[]", proc.stdout + proc.stderr
