"""The ``convoai-mcp`` command: help, version, configuration errors, delegation, the demo."""

from __future__ import annotations

import io
import logging
import re
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
from _server_helpers import subprocess_env

from convoai_mcp import __version__
from convoai_mcp.cli import build_parser, main
from convoai_mcp.config import Settings
from convoai_mcp.demo import run_demo
from convoai_mcp.sandbox import DEMO_CREDENTIALS
from convoai_mcp.server.sandbox_mode import SANDBOX_PRESETS, sandbox_settings

APP_ID = "0123456789abcdef0123456789abcdef"


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


def test_defaults_are_stdio_on_loopback() -> None:
    ns = build_parser().parse_args([])
    assert (ns.transport, ns.host, ns.port, ns.sandbox) == ("stdio", "127.0.0.1", 8000, False)
    ns = build_parser().parse_args(["--transport", "sse", "--port", "0", "--sandbox"])
    assert (ns.transport, ns.port, ns.sandbox) == ("sse", 0, True)


def test_an_unknown_transport_is_refused(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as info:
        build_parser().parse_args(["--transport", "websocket"])
    assert info.value.code == 2
    assert "streamable-http" in capsys.readouterr().err


def test_help_names_the_other_commands_and_imports_nothing_heavy() -> None:
    proc = subprocess.run(
        [
            sys.executable,
            "-c",
            "import sys\n"
            "from convoai_mcp.cli import main\n"
            "try:\n    main(['--help'])\nexcept SystemExit:\n    pass\n"
            "heavy = [m for m in ('convoai_mcp.sandbox', 'convoai_mcp.server.app', 'uvicorn',"
            " 'starlette', 'sqlite3', 'httpx', 'mcp') if m in sys.modules]\n"
            "print('HEAVY', heavy)\n",
        ],
        capture_output=True,
        text=True,
        env=subprocess_env(),
        timeout=60,
        check=True,
    )
    assert "demo" in proc.stdout
    assert "sandbox" in proc.stdout
    assert "--transport" in proc.stdout
    assert "HEAVY []" in proc.stdout


def test_version() -> None:
    proc = run_cli("--version")
    assert proc.returncode == 0
    assert __version__ in proc.stdout


def test_missing_configuration_names_the_variable_on_stderr_only() -> None:
    proc = run_cli()
    assert proc.returncode == 2
    assert proc.stdout == ""
    assert "AGORA_APP_ID is not set" in proc.stderr
    assert "--sandbox" in proc.stderr
    assert "Traceback" not in proc.stderr


def test_malformed_secret_is_not_echoed() -> None:
    cert = "zz" + "a" * 30
    proc = run_cli(AGORA_APP_ID=APP_ID, AGORA_APP_CERTIFICATE=cert)
    assert proc.returncode == 2
    assert "AGORA_APP_CERTIFICATE" in proc.stderr
    assert cert not in proc.stderr


def test_sandbox_subcommand_delegates_to_the_emulator_cli() -> None:
    proc = run_cli("sandbox", "--help")
    assert proc.returncode == 0
    assert "convoai-mcp sandbox" in proc.stdout
    assert "--answer-delay" in proc.stdout


def test_sandbox_settings_use_demo_credentials_and_default_presets() -> None:
    base = Settings.from_env({"CONVOAI_CALL_ALLOWLIST": "+1415"}, require_credentials=False)
    settings = sandbox_settings(base, "http://127.0.0.1:1/api/conversational-ai-agent")
    assert settings.app_id == DEMO_CREDENTIALS.app_id
    assert settings.auth_mode == "basic"
    assert settings.sandbox is True
    assert settings.presets == SANDBOX_PRESETS
    assert settings.call_allowlist == ("+1415",)
    configured = base.model_copy(update={"llm_url": "https://llm.example/v1"})
    assert sandbox_settings(configured, "http://x").presets == ()


@pytest.fixture
def root_logging() -> Iterator[None]:
    """main() installs its stderr handler on the root logger: put the test's back after."""
    root = logging.getLogger()
    handlers, level = list(root.handlers), root.level
    try:
        yield
    finally:
        root.handlers[:] = handlers
        root.setLevel(level)


@pytest.mark.usefixtures("root_logging")
def test_main_returns_2_on_configuration_error(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.delenv("AGORA_APP_ID", raising=False)
    monkeypatch.setenv("CONVOAI_LOG_LEVEL", "WARNING")
    assert main([]) == 2
    captured = capsys.readouterr()
    assert captured.out == ""
    assert "configuration error" in captured.err


@pytest.mark.usefixtures("root_logging")
def test_secrets_logged_before_any_tool_call_are_scrubbed_on_stderr(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """The guard (and its log filter) is created at the first tool call; the CLI's stderr
    handler redacts from the moment the settings are read, so a library logging a secret while
    the server starts cannot leak it."""
    certificate = "fedcba9876543210fedcba9876543210"
    secret = "CLIcustSECRETq7w3e9r1"
    for name, value in {
        "AGORA_APP_ID": APP_ID,
        "AGORA_APP_CERTIFICATE": certificate,
        "AGORA_CUSTOMER_ID": "cli-customer",
        "AGORA_CUSTOMER_SECRET": secret,
        "CONVOAI_LOG_LEVEL": "INFO",
    }.items():
        monkeypatch.setenv(name, value)
    served: list[str] = []

    def serve_instead(fn: object, settings: Settings, ns: object) -> None:
        """Stands in for the server's event loop (anyio.run): logs as a careless library
        would, before any tool call."""
        served.append(settings.app_id)
        logging.getLogger("somelib.http").warning(
            "connecting with certificate=%s secret %s", certificate, secret
        )

    monkeypatch.setattr("anyio.run", serve_instead)
    assert main([]) == 0
    err = capsys.readouterr().err
    assert served == [APP_ID]
    assert "connecting with certificate=" in err  # the line itself was written...
    assert certificate not in err  # ...without the secrets
    assert secret not in err


async def test_demo_walks_through_every_step(tmp_path: Path) -> None:
    out = io.StringIO()
    status = await run_demo(out, archive_dir=tmp_path)
    text = out.getvalue()
    assert status == 0, text
    for step in (
        "→ start_agent",
        "→ speak",
        "→ think",
        "/history",
        "/turns",
        "→ list_numbers",
        "→ call",
        "→ hangup",
        "→ stop_agent",
        "source: archive",
        "all steps succeeded",
    ):
        assert step in text
    assert "✗" not in text
    turns = re.findall(r"turn (\S+): \S+, end-to-end (\S+) ms", text)
    assert turns, text
    assert all(turn_id.isdigit() for turn_id, _ in turns), turns  # "turn 1", not "turn 1.0"
    assert DEMO_CREDENTIALS.app_certificate not in text
    assert DEMO_CREDENTIALS.customer_secret not in text


@pytest.mark.slow
def test_demo_command_succeeds_from_a_fresh_process(tmp_path: Path) -> None:
    proc = run_cli("demo")
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert "all steps succeeded" in proc.stdout
