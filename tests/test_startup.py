"""Start-up as a user meets it: configuration errors (one line, exit 2), the safety banner, the
``check`` subcommand against a real emulator on loopback, and the log format on stderr."""

from __future__ import annotations

import asyncio
import io
import json
import logging
import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
from _server_helpers import subprocess_env

from convoai_mcp.cli import configure_logging, main, safety_summary
from convoai_mcp.config import Settings
from convoai_mcp.redact import Redactor
from convoai_mcp.sandbox import DEMO_CREDENTIALS, Sandbox, SandboxCredentials
from convoai_mcp.server.tools import TOOL_NAMES

APP_ID = "0123456789abcdef0123456789abcdef"
CERT = "fedcba9876543210fedcba9876543210"
BASE = {"AGORA_APP_ID": APP_ID, "AGORA_APP_CERTIFICATE": CERT}


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


@pytest.fixture
def root_logging() -> Iterator[None]:
    """main() installs its stderr handler on the root logger: put the test's back after. An
    in-process sandbox of an earlier test set uvicorn's loggers to WARNING: not here."""
    root = logging.getLogger()
    handlers, level = list(root.handlers), root.level
    uvicorn_loggers = [logging.getLogger(name) for name in ("uvicorn", "uvicorn.error")]
    uvicorn_levels = [logger.level for logger in uvicorn_loggers]
    for logger in uvicorn_loggers:
        logger.setLevel(logging.NOTSET)
    try:
        yield
    finally:
        root.handlers[:] = handlers
        root.setLevel(level)
        for logger, old in zip(uvicorn_loggers, uvicorn_levels, strict=True):
            logger.setLevel(old)


# ------------------------------------------------------------------- configuration errors

NESTED = '{"a": ' * 2000 + "1" + "}" * 2000

BAD_STARTS = [
    pytest.param({"CONVOAI_TTS_PARAMS": NESTED}, "CONVOAI_TTS_PARAMS", id="tts-params-2000-deep"),
    pytest.param({"CONVOAI_LLM_STYLE": "bogus"}, "CONVOAI_LLM_STYLE", id="llm-style-bogus"),
    pytest.param({"CONVOAI_LLM_URL": "ftp://llm.example/v1"}, "CONVOAI_LLM_URL", id="ftp-llm"),
    pytest.param(
        {"AGORA_CUSTOMER_ID": "acme:1", "AGORA_CUSTOMER_SECRET": "canarysecret"},
        "AGORA_CUSTOMER_ID",
        id="colon-in-customer-id",
    ),
    pytest.param(
        {"AGORA_CUSTOMER_ID": "acme", "AGORA_CUSTOMER_SECRET": "canary\u00e9secret"},
        "AGORA_CUSTOMER_SECRET",
        id="non-ascii-secret",
    ),
    pytest.param({"CONVOAI_PRESETS": "deepgram_nova3,gpt4o"}, "CONVOAI_PRESETS", id="preset-typos"),
    pytest.param({"CONVOAI_READONLY": "true"}, "CONVOAI_READ_ONLY", id="unknown-name"),
    pytest.param(
        {
            "AGORA_CUSTOMER_ID": "acme",
            "AGORA_CUSTOMER_SECRET": "canarysecret",
            "AGORA_AUTH_TOKEN": "canarytoken",
        },
        "AGORA_AUTH_TOKEN",
        id="token-and-basic",
    ),
]


@pytest.mark.parametrize(("env", "named"), BAD_STARTS)
@pytest.mark.usefixtures("root_logging")
def test_a_bad_value_is_one_line_naming_the_variable_with_status_2(
    env: dict[str, str],
    named: str,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    for name in list(os.environ):
        if name.startswith(("AGORA_", "CONVOAI_")):
            monkeypatch.delenv(name)
    for name, value in {**BASE, **env}.items():
        monkeypatch.setenv(name, value)
    assert main([]) == 2
    captured = capsys.readouterr()
    assert captured.out == ""
    lines = captured.err.strip().splitlines()
    assert len(lines) == 1, captured.err
    assert lines[0].startswith("convoai-mcp: configuration error: ")
    assert named in lines[0]
    assert "canary" not in captured.err


def test_the_2000_deep_value_is_a_clean_error_from_a_real_process() -> None:
    """It used to crash with a RecursionError traceback."""
    proc = run_cli(**BASE, CONVOAI_TTS_PARAMS=NESTED)
    assert proc.returncode == 2
    assert "Traceback" not in proc.stderr
    assert proc.stderr.count("\n") == 1
    assert "CONVOAI_TTS_PARAMS nests more than 32 levels deep" in proc.stderr


def test_a_preset_typo_says_did_you_mean_from_a_real_process() -> None:
    proc = run_cli(**BASE, CONVOAI_PRESETS="deepgram_nova3,gpt4o")
    assert proc.returncode == 2
    assert "did you mean deepgram_nova_3?" in proc.stderr


def test_an_unknown_agora_name_is_a_warning_and_the_server_starts() -> None:
    proc = run_cli("--sandbox", AGORA_APP_CERT=CERT)
    assert proc.returncode == 0, proc.stderr
    assert "warning: AGORA_APP_CERT is not read by convoai-mcp" in proc.stderr
    assert "did you mean AGORA_APP_CERTIFICATE?" in proc.stderr
    assert CERT not in proc.stderr


# ------------------------------------------------------------------- the safety banner


def banner_settings(**env: str) -> Settings:
    return Settings.from_env({**BASE, **env})


def test_safety_summary_by_default() -> None:
    line = safety_summary(banner_settings(), TOOL_NAMES, TOOL_NAMES)
    assert line == (
        "tools: all 24 exposed; calls: off (CONVOAI_CALL_ALLOWLIST is empty); "
        "confirmation: call; read-only: off; limits: 5 agents, 2 calls, 10 starts per minute"
    )


def test_safety_summary_names_the_tools_when_not_all_are_exposed() -> None:
    s = banner_settings(
        CONVOAI_CALL_ALLOWLIST="+1415,+4420",
        CONVOAI_CONFIRM="call,start_agent",
        CONVOAI_MAX_AGENTS="1",
    )
    exposed = [t for t in TOOL_NAMES if t != "mint_token"]
    line = safety_summary(s, exposed, TOOL_NAMES)
    assert "tools: 23 of 24 exposed (start_agent, speak," in line
    assert "mint_token" not in line
    assert "calls: on, allow-list of 2 entries" in line
    assert "confirmation: call, start_agent" in line
    assert "limits: 1 agents" in line


def test_safety_summary_says_why_calls_are_off() -> None:
    allow = {"CONVOAI_CALL_ALLOWLIST": "+1415"}
    no_call = [t for t in TOOL_NAMES if t != "call"]
    assert "calls: off (the call tool is not exposed)" in safety_summary(
        banner_settings(**allow), no_call, TOOL_NAMES
    )
    zero = banner_settings(**allow, CONVOAI_MAX_CALLS="0")
    assert "calls: off (CONVOAI_MAX_CALLS=0)" in safety_summary(zero, TOOL_NAMES, TOOL_NAMES)
    one = safety_summary(banner_settings(**allow), TOOL_NAMES, TOOL_NAMES)
    assert "calls: on, allow-list of 1 entry;" in one


def test_the_banner_shows_the_safety_settings_in_effect() -> None:
    """Read-only hides 9 tools; the banner (stderr) says which 8 remain and that nothing
    needs confirmation, because the confirmable tools are hidden."""
    proc = run_cli("--sandbox", CONVOAI_READ_ONLY="true", CONVOAI_CALL_ALLOWLIST="+1415")
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout == ""
    [line] = [x for x in proc.stderr.splitlines() if x.startswith("convoai-mcp: safety: ")]
    assert "tools: 11 of 24 exposed (list_numbers, get_agent, get_history, get_turns," in line
    assert "calls: off (the call tool is not exposed)" in line
    assert "confirmation: none" in line
    assert "read-only: on" in line


def test_the_banner_with_every_tool() -> None:
    proc = run_cli("--sandbox", CONVOAI_CALL_ALLOWLIST="+1415,+1212", CONVOAI_CONFIRM="none")
    assert proc.returncode == 0, proc.stderr
    assert (
        "safety: tools: all 24 exposed; calls: on, allow-list of 2 entries; "
        "confirmation: none; read-only: off" in proc.stderr
    )


# ------------------------------------------------------------------- convoai-mcp check

CANARY_CREDS = SandboxCredentials(
    app_id=APP_ID,
    app_certificate=CERT,
    customer_id="check-customer",
    customer_secret="CANARYcustSECRET7q",
)
CANARIES = {
    "AGORA_CUSTOMER_SECRET": CANARY_CREDS.customer_secret,
    "CONVOAI_LLM_API_KEY": "CANARYllmKEY0123",
    "CONVOAI_TTS_PARAMS": '{"key": "CANARYttsKEY456", "region": "eastus"}',
    "CONVOAI_HTTP_TOKEN": "CANARYhttpTOKEN0123456789",
}


async def run_check(*args: str, **env: str) -> tuple[int, str, str]:
    proc = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "convoai_mcp",
        "check",
        *args,
        env=subprocess_env(**env),
        stdin=asyncio.subprocess.DEVNULL,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )
    out, err = await asyncio.wait_for(proc.communicate(), timeout=120)
    assert proc.returncode is not None
    return proc.returncode, out.decode(), err.decode()


async def test_check_reads_the_service_and_prints_the_settings_without_secrets(
    tmp_path: Path,
) -> None:
    sandbox = Sandbox(CANARY_CREDS)
    async with sandbox.serve("127.0.0.1", 0) as base_url:
        status, out, err = await run_check(
            AGORA_APP_ID=APP_ID,
            AGORA_APP_CERTIFICATE=CERT,
            AGORA_CUSTOMER_ID=CANARY_CREDS.customer_id,
            CONVOAI_BASE_URL=base_url,
            CONVOAI_LLM_URL="https://llm.example/v1/chat/completions",
            CONVOAI_LLM_MODEL="gpt-4o-mini",
            CONVOAI_TTS_VENDOR="microsoft",
            CONVOAI_CALL_ALLOWLIST="+1415",
            CONVOAI_ARCHIVE_PATH=str(tmp_path / "a.sqlite3"),
            CONVOAI_LOG_LEVEL="DEBUG",
            **CANARIES,
        )
    assert status == 0, out + err
    assert f"via {base_url}, auth basic, certificate set" in out
    assert "safety: tools: all 24 exposed; calls: on, allow-list of 1 entry" in out
    assert "LLM gpt-4o-mini (with key)" in out
    assert "list_numbers: ok, 2 phone numbers (1 outbound-enabled)" in out
    assert out.rstrip().endswith("check passed")
    for canary in ("CANARY", CERT):
        assert canary not in out + err


async def test_check_fails_in_one_line_when_the_service_refuses() -> None:
    """Wrong secret: the emulator answers 401; the reason is one line, status 1."""
    sandbox = Sandbox(CANARY_CREDS)
    async with sandbox.serve("127.0.0.1", 0) as base_url:
        status, out, err = await run_check(
            AGORA_APP_ID=APP_ID,
            AGORA_CUSTOMER_ID=CANARY_CREDS.customer_id,
            AGORA_CUSTOMER_SECRET="CANARYwrongSECRET",
            CONVOAI_BASE_URL=base_url,
        )
    assert status == 1, out + err
    [line] = err.strip().splitlines()
    assert line.startswith("convoai-mcp: check failed: list_numbers: ")
    assert "401" in line
    assert "check passed" not in out
    assert "CANARY" not in out + err


async def test_check_reports_a_configuration_error_with_status_2() -> None:
    status, out, err = await run_check(**BASE, CONVOAI_TOOLS_DENY="mint_tokens")
    assert status == 2
    assert out == ""
    assert "check failed: configuration error: CONVOAI_TOOLS_DENY" in err
    assert "did you mean mint_token?" in err


async def test_check_sandbox() -> None:
    status, out, err = await run_check("--sandbox")
    assert status == 0, out + err
    assert "service: the sandbox" in out
    assert "calls: on, allow-list of 1 entry" in out  # the emulator's fictional numbers
    assert "archive: on, " in out and "convoai-sandbox-" in out  # a temporary one
    assert "presets deepgram_nova_3,openai_gpt_4o_mini,minimax_speech_2_6_turbo" in out
    assert DEMO_CREDENTIALS.customer_secret not in out + err


# ------------------------------------------------------------------- logging


@pytest.mark.usefixtures("root_logging")
def test_debug_shows_ours_not_the_http_librarys_internals() -> None:
    stream = io.StringIO()
    configure_logging("DEBUG", stream, fmt="text", http=False)
    logging.getLogger("convoai_mcp.client").debug("ours")
    logging.getLogger("httpcore.connection").debug("connect_tcp.started")
    logging.getLogger("httpx").info("HTTP Request: GET ...")
    logging.getLogger("httpx").warning("a warning of theirs")
    logging.getLogger("mcp.server.lowlevel.server").debug("Received message: ...")
    logging.getLogger("sse_starlette.sse").debug("chunk: b'event: message'")
    other = logging.getLogger("somelib.server")
    other.disabled = False  # a logging.config call elsewhere in the suite may have disabled it
    other.info("Application startup complete.")
    text = stream.getvalue()
    assert "ours" in text
    assert "connect_tcp" not in text and "HTTP Request" not in text
    assert "Received message" not in text and "chunk:" not in text
    assert "a warning of theirs" in text
    assert "Application startup complete." in text
    assert logging.getLogger("httpx").level == logging.NOTSET  # nobody else's level changed


@pytest.mark.usefixtures("root_logging")
def test_the_http_internals_on_request() -> None:
    stream = io.StringIO()
    configure_logging("DEBUG", stream, fmt="text", http=True)
    logging.getLogger("httpcore.connection").debug("connect_tcp.started")
    logging.getLogger("mcp.server.lowlevel.server").debug("Received message: ...")
    assert "connect_tcp.started" in stream.getvalue()
    assert "Received message" in stream.getvalue()


@pytest.mark.usefixtures("root_logging")
def test_json_lines_are_redacted_like_the_text_format() -> None:
    stream = io.StringIO()
    secret = "CANARYjsonSECRET42"
    configure_logging("INFO", stream, fmt="json", redactor=Redactor([secret]))
    log = logging.getLogger("convoai_mcp.test")
    log.info("line one\nwith secret=%s", secret)
    try:
        raise RuntimeError(f"failed with {secret}")
    except RuntimeError:
        log.exception("boom")
    lines = stream.getvalue().splitlines()
    assert len(lines) == 2
    first, second = (json.loads(line) for line in lines)
    assert set(first) == {"ts", "level", "logger", "message"}
    assert first["level"] == "INFO" and first["logger"] == "convoai_mcp.test"
    assert first["message"].startswith("line one\nwith secret=")
    assert "RuntimeError" in second["exc"]
    assert secret not in stream.getvalue()


HTTP_SANDBOX = [
    *(sys.executable, "-m", "convoai_mcp", "--sandbox"),
    *("--transport", "streamable-http", "--port", "0"),
]


def test_uvicorn_and_banner_lines_share_our_json_format_over_http() -> None:
    """The sandbox's uvicorn installs its own handlers; ours take over again, so every
    stderr line is a JSON object (banner included)."""
    proc = subprocess.Popen(
        HTTP_SANDBOX,
        stdin=subprocess.DEVNULL,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
        env=subprocess_env(CONVOAI_LOG_LEVEL="INFO", CONVOAI_LOG_FORMAT="json"),
    )
    assert proc.stderr is not None
    lines: list[str] = []
    try:
        for line in proc.stderr:  # the banner may come before or after uvicorn's line
            lines.append(line)
            seen = "".join(lines)
            if "Application startup complete" in seen and "serving MCP" in seen:
                break
    finally:
        proc.terminate()
        rest = proc.communicate(timeout=30)[1]
    lines += rest.splitlines()
    records = [json.loads(line) for line in lines if line.strip()]
    loggers = {r["logger"] for r in records}
    assert "uvicorn.error" in loggers, lines
    assert any("serving MCP (streamable-http)" in r["message"] for r in records)


def test_uvicorn_lines_share_our_text_format() -> None:
    proc = subprocess.Popen(
        HTTP_SANDBOX,
        stdin=subprocess.DEVNULL,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
        env=subprocess_env(CONVOAI_LOG_LEVEL="INFO"),
    )
    assert proc.stderr is not None
    try:
        for line in proc.stderr:
            if "Application startup complete" in line:
                break
    finally:
        proc.terminate()
        proc.communicate(timeout=30)
    assert " INFO uvicorn.error: Application startup complete." in line
    assert not line.startswith("INFO:")


async def test_check_refuses_an_unusable_archive_as_start_up_does(tmp_path: Path) -> None:
    corrupt = tmp_path / "archive.sqlite3"
    corrupt.write_bytes(b"this is not an SQLite database" * 100)
    status, out, err = await run_check("--sandbox", CONVOAI_ARCHIVE_PATH=str(corrupt))
    assert status == 2, out + err
    [line] = err.strip().splitlines()
    assert "check failed: configuration error: " in line
    assert "CONVOAI_ARCHIVE_PATH" in line
