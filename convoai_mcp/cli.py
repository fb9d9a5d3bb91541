"""``convoai-mcp``: run the MCP server (stdio by default), the demo, or the sandbox.

    convoai-mcp                                   stdio (what MCP clients launch)
    convoai-mcp --transport streamable-http       http://127.0.0.1:8000/mcp
    convoai-mcp --transport sse --port 9000       http://127.0.0.1:9000/sse
    convoai-mcp --sandbox                         against the in-process emulator, no account
    convoai-mcp check [--sandbox]                 validate the configuration and try it once
    convoai-mcp console [--sandbox] [--port N]    MCP and the live console on loopback
    convoai-mcp demo                              a scripted session against the sandbox
    convoai-mcp audit [--since ISO] [--json]      the audit trail (read-only)
    convoai-mcp sandbox ...                       the emulator alone (its own --help)

In stdio mode nothing but protocol messages goes to stdout: the banner (what is served, and the
safety settings in effect) and logs go to stderr. Logs are text or JSON lines
(``CONVOAI_LOG_FORMAT``), masked of every configured secret; the HTTP libraries' internals stay
quiet unless ``CONVOAI_LOG_HTTP`` asks for them, and uvicorn's lines come out in the same format.
Imports are deferred to the code path that needs them, so ``--help`` and stdio start fast.
"""

from __future__ import annotations

import argparse
import json
import logging
import os
import sys
from collections.abc import Sequence
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any, TextIO

if TYPE_CHECKING:
    from convoai_mcp.archive.sqlite import SQLiteArchive
    from convoai_mcp.config import Settings
    from convoai_mcp.redact import Redactor
    from convoai_mcp.server.app import ConvoAIServer

__all__ = [
    "JsonFormatter",
    "LibraryFilter",
    "adopt_uvicorn_logging",
    "audit_main",
    "build_parser",
    "check_main",
    "configure_logging",
    "main",
    "safety_summary",
]

_HANDLER = "convoai-mcp-stderr"


def build_parser() -> argparse.ArgumentParser:
    """The argument parser of the serve command."""
    from convoai_mcp import __version__
    from convoai_mcp.server.transports import TRANSPORTS

    parser = argparse.ArgumentParser(
        prog="convoai-mcp",
        description="MCP server for Agora Conversational AI voice agents. Configuration comes "
        "from environment variables (AGORA_APP_ID, AGORA_APP_CERTIFICATE, ...; see README).",
        epilog="other commands: 'convoai-mcp check' validates the configuration and makes "
        "one harmless read against the service; 'convoai-mcp console' serves MCP and the live "
        "console on loopback; 'convoai-mcp demo' runs a scripted session "
        "against the sandbox; 'convoai-mcp sandbox --help' runs the emulator alone; "
        "'convoai-mcp audit' prints the audit trail.",
    )
    parser.add_argument(
        "--transport",
        choices=TRANSPORTS,
        default="stdio",
        help="stdio (default, for MCP clients that launch the server), streamable-http or sse",
    )
    parser.add_argument(
        "--host",
        default="127.0.0.1",
        help="address for the HTTP transports (default 127.0.0.1; anything else needs "
        "CONVOAI_HTTP_TOKEN)",
    )
    parser.add_argument(
        "--port", type=int, default=8000, help="port for the HTTP transports (0: a free one)"
    )
    parser.add_argument(
        "--stateless",
        action="store_true",
        help="streamable HTTP without sessions, for replicas behind a load balancer without "
        "session affinity (also CONVOAI_HTTP_STATELESS=on; see README, Deploying for a team)",
    )
    parser.add_argument(
        "--sandbox",
        action="store_true",
        help="start the local emulator in process and use it with demo credentials: no "
        "account needed, nothing real is called",
    )
    parser.add_argument("--version", action="version", version=f"%(prog)s {__version__}")
    return parser


_TEXT_FORMAT = "%(asctime)s %(levelname)s %(name)s: %(message)s"
_HTTP_LIBRARIES = ("httpx", "httpcore", "hpack", "h11", "h2", "sse_starlette")
"""Loggers whose DEBUG / INFO lines are the HTTP stack's internals (requests, connection,
header, frame and SSE chunk events): only their warnings unless CONVOAI_LOG_HTTP asks."""


class LibraryFilter(logging.Filter):
    """Keeps other libraries' detail out of our log: their DEBUG lines (the MCP SDK's message
    dumps, asyncio, ...) are dropped, and the HTTP libraries' INFO lines too, unless
    ``everything`` (CONVOAI_LOG_HTTP) is set. Ours (``convoai_mcp.*``) always pass. A handler
    filter, so no logger's level is changed for anyone else in the process."""

    def __init__(self, everything: bool = False) -> None:
        super().__init__()
        self.everything = everything

    def filter(self, record: logging.LogRecord) -> bool:
        """True when ``record`` is to be written."""
        name = record.name
        if self.everything or name == "convoai_mcp" or name.startswith("convoai_mcp."):
            return True
        top = name.split(".", 1)[0]
        floor = logging.WARNING if top in _HTTP_LIBRARIES else logging.INFO
        return record.levelno >= floor


_UVICORN_LOGGERS = ("uvicorn", "uvicorn.error", "uvicorn.access", "uvicorn.asgi")


class JsonFormatter(logging.Formatter):
    """One JSON object per line: ``ts`` (ISO 8601, UTC), ``level``, ``logger``, ``message``,
    and ``exc`` (the traceback text) when there is one. Redaction happens before, in the
    handler's :class:`~convoai_mcp.redact.RedactingFilter`, exactly as for the text format."""

    def format(self, record: logging.LogRecord) -> str:
        """The record as a single JSON line (newlines in the message are escaped)."""
        entry: dict[str, Any] = {
            "ts": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname,
            "logger": record.name,
            "message": record.getMessage(),
        }
        if record.exc_info and not record.exc_text:
            record.exc_text = self.formatException(record.exc_info)
        if record.exc_text:
            entry["exc"] = record.exc_text
        if record.stack_info:
            entry["stack"] = record.stack_info
        return json.dumps(entry, ensure_ascii=False, default=str)


def configure_logging(
    level: str | None = None,
    stream: TextIO | None = None,
    *,
    redactor: Redactor | None = None,
    fmt: str | None = None,
    http: bool | None = None,
) -> None:
    """Log to stderr at ``level`` (default: CONVOAI_LOG_LEVEL, else WARNING) in ``fmt``
    (``text`` or ``json``; default: CONVOAI_LOG_FORMAT, else text), replacing the handler an
    earlier call installed; with ``redactor``, every record is scrubbed of the secrets it knows
    before it is written. Other libraries' DEBUG lines, and the HTTP libraries' INFO lines,
    are left out unless ``http`` (default: CONVOAI_LOG_HTTP) is true (:class:`LibraryFilter`);
    uvicorn's loggers write through the same handler."""
    name = (level or os.environ.get("CONVOAI_LOG_LEVEL") or "WARNING").strip().upper()
    number = getattr(logging, name, logging.WARNING)
    if not isinstance(number, int):
        number = logging.WARNING
    shape = (fmt or os.environ.get("CONVOAI_LOG_FORMAT") or "text").strip().lower()
    if http is None:
        http = (os.environ.get("CONVOAI_LOG_HTTP") or "").strip().lower() in ("1", "true", "on")
    handler = logging.StreamHandler(stream or sys.stderr)
    handler.set_name(_HANDLER)
    handler.setFormatter(JsonFormatter() if shape == "json" else logging.Formatter(_TEXT_FORMAT))
    handler.addFilter(LibraryFilter(everything=http))
    if redactor is not None:
        from convoai_mcp.redact import RedactingFilter

        handler.addFilter(RedactingFilter(redactor))
    root = logging.getLogger()
    for old in list(root.handlers):
        if old.get_name() == _HANDLER:
            root.removeHandler(old)
    root.addHandler(handler)
    root.setLevel(number)
    global _json_lines
    _json_lines = shape == "json"
    adopt_uvicorn_logging()


def adopt_uvicorn_logging() -> None:
    """Send uvicorn's lines through our handler (our format, our redaction): uvicorn installs
    its own handlers whenever a ``uvicorn.Config`` is made with its default log config (the
    sandbox's is), so this runs again after each."""
    for name in _UVICORN_LOGGERS:
        logger = logging.getLogger(name)
        logger.handlers.clear()
        logger.propagate = True


def safety_summary(settings: Settings, exposed: Sequence[str], known: Sequence[str]) -> str:
    """One secret-free line: which tools are exposed, whether calls can go out (and to how many
    allow-list entries), what needs confirmation (loudly when the model's ``confirm`` counts),
    read-only mode and the limits, and when calls go out the calling rules (quiet hours,
    per-number cap)."""
    from convoai_mcp.policy import ADMIN_CONFIRMED, Policy

    policy = Policy.from_settings(settings)
    shown = set(exposed)
    if shown == set(known):
        tools = f"tools: all {len(known)} exposed"
    else:
        tools = f"tools: {len(shown)} of {len(known)} exposed ({', '.join(exposed) or 'none'})"
    entries = len(settings.call_allowlist)
    if "call" not in shown:
        calls = "calls: off (the call tool is not exposed)"
    elif not entries:
        calls = "calls: off (CONVOAI_CALL_ALLOWLIST is empty)"
    elif policy.call_limit == 0:
        calls = "calls: off (CONVOAI_MAX_CALLS=0)"
    else:
        calls = f"calls: on, allow-list of {entries} {'entry' if entries == 1 else 'entries'}"
    confirmed = [t for t in settings.confirm if t in shown]
    confirmed += sorted(ADMIN_CONFIRMED & shown)  # always confirmed when exposed
    confirm = f"confirmation: {', '.join(confirmed) if confirmed else 'none'}"
    if confirmed and settings.confirm_by_argument:
        confirm += (
            " (WARNING: CONVOAI_CONFIRM_BY_ARGUMENT=true: the model's own confirm=true counts "
            "as approval, no human is asked)"
        )
    if confirmed and settings.preapproved_numbers:
        count = len(settings.preapproved_numbers)
        confirm += f" (pre-approved: {count} {'entry' if count == 1 else 'entries'})"
    read_only = f"read-only: {'on' if settings.read_only else 'off'}"
    limits = (
        f"limits: {policy.agent_limit} agents, {policy.call_limit} calls, "
        f"{policy.rate_limit} starts per minute"
    )
    parts = [tools, calls, confirm, read_only, limits]
    if calls.startswith("calls: on"):
        rules = settings.calling_rules()
        hours = f"{rules.hours} callee's time" if rules.hours else "any hour"
        cap = f"{rules.daily_cap} per number per day" if rules.daily_cap is not None else "no cap"
        parts.append(f"call rules: {hours}, {cap}")
    return "; ".join(parts)


_json_lines = False
"""Whether the banner and messages on stderr are JSON lines too (CONVOAI_LOG_FORMAT=json)."""


def _say(text: str) -> None:
    """A banner or error line on stderr: ``convoai-mcp: text``, or a JSON line like the logs."""
    if _json_lines:
        record = logging.LogRecord("convoai_mcp", logging.INFO, __file__, 0, text, None, None)
        print(JsonFormatter().format(record), file=sys.stderr, flush=True)
    else:
        print(f"convoai-mcp: {text}", file=sys.stderr, flush=True)


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of the ``convoai-mcp`` console script; returns the exit status."""
    args = list(sys.argv[1:] if argv is None else argv)
    if args and args[0] == "sandbox":
        from convoai_mcp.sandbox.cli import main as sandbox_main

        return sandbox_main(args[1:], prog="convoai-mcp sandbox")
    if args and args[0] == "demo":
        from convoai_mcp.demo import main as demo_main

        return demo_main(args[1:])
    if args and args[0] == "check":
        return check_main(args[1:])
    if args and args[0] == "console":
        return main(_console_args(args[1:]))
    if args and args[0] == "audit":
        return audit_main(args[1:])
    ns = build_parser().parse_args(args)
    configure_logging()

    from convoai_mcp.config import Settings
    from convoai_mcp.errors import ConfigError
    from convoai_mcp.redact import settings_redactor

    try:
        settings = Settings.from_env(require_credentials=not ns.sandbox)
        if ns.stateless:
            settings = settings.model_copy(update={"http_stateless": True})
        # From here on, nothing logged to stderr can carry a configured secret.
        _configure_from(settings, settings_redactor(settings))
        from convoai_mcp.server.transports import check_transport

        check_transport(ns.transport, ns.host, ns.port, settings)
    except ConfigError as exc:
        _say(f"configuration error: {exc}")
        return 2
    for warning in settings.warnings:
        _say(f"warning: {warning}")
    if settings.http_stateless and settings.request_state_key is None:
        _say(
            "warning: stateless HTTP without CONVOAI_REQUEST_STATE_KEY: a confirmation asked by "
            "this replica cannot be answered on another; set the same key on every replica"
        )

    import anyio

    try:
        anyio.run(_serve, settings, ns)
    except KeyboardInterrupt:  # Ctrl-C before the transport took SIGINT over, or after HTTP
        return 130
    except ConfigError as exc:
        _say(f"configuration error: {exc}")
        return 2
    except OSError as exc:
        _say(f"cannot serve on {ns.host}:{ns.port}: {exc.strerror or exc}")
        return 1
    return 0


def _console_args(argv: Sequence[str]) -> list[str]:
    """``convoai-mcp console`` as the serve command's arguments: streamable HTTP on loopback
    (the console is at ``/console`` of it), on a free port unless ``--port`` says one."""
    parser = argparse.ArgumentParser(
        prog="convoai-mcp console",
        description="Serve MCP (streamable HTTP at /mcp) and the live console (/console: every "
        "agent and call this server starts, its transcript and latency as they grow, and say / "
        "interrupt / hang up) on 127.0.0.1; open the printed console URL in a browser.",
    )
    parser.add_argument("--port", type=int, default=0, help="port (default 0: a free one)")
    parser.add_argument(
        "--sandbox", action="store_true", help="against the in-process emulator (no account)"
    )
    ns = parser.parse_args(list(argv))
    out = ["--transport", "streamable-http", "--host", "127.0.0.1", "--port", str(ns.port)]
    return [*out, "--sandbox"] if ns.sandbox else out


def _since(value: str) -> float:
    """``--since``: an ISO 8601 date or time (UTC unless it says otherwise) as Unix seconds."""
    try:
        when = datetime.fromisoformat(value.strip().replace("Z", "+00:00"))
    except ValueError:
        raise argparse.ArgumentTypeError(
            f"{value!r} is not an ISO 8601 date or time; write e.g. 2026-12-01 or "
            "2026-12-01T18:30:00Z"
        ) from None
    return (when if when.tzinfo else when.replace(tzinfo=UTC)).timestamp()


def audit_main(argv: Sequence[str]) -> int:
    """``convoai-mcp audit``: print the audit trail (oldest first), reading the archive
    read-only. Exit status 0, or 2 when there is no archive to read."""
    parser = argparse.ArgumentParser(
        prog="convoai-mcp audit",
        description="Print the audit trail the server keeps in its archive: every tool call "
        "that starts, changes, stops or costs something, with its decision (allowed, approved "
        "and how, refused and by which rule) and outcome. Reads the archive read-only "
        "(CONVOAI_DATABASE_URL, else CONVOAI_ARCHIVE_PATH, else the per-user data directory).",
    )
    parser.add_argument("--since", type=_since, help="only entries from then on (ISO 8601)")
    parser.add_argument("--json", action="store_true", help="one JSON object per line")
    parser.add_argument("--archive", help="the archive file (default: CONVOAI_ARCHIVE_PATH)")
    ns = parser.parse_args(list(argv))
    database_url = os.environ.get("CONVOAI_DATABASE_URL", "").strip()
    if database_url and not ns.archive:
        return _audit_from_postgres(database_url, ns)
    import sqlite3

    from convoai_mcp.archive.sqlite import SQLiteArchive, default_archive_path
    from convoai_mcp.errors import ConfigError

    try:
        archive = SQLiteArchive(ns.archive or default_archive_path(), read_only=True)
        entries = _audit_entries(archive, ns.since)
    except ConfigError as exc:
        _say(f"configuration error: {exc}")
        return 2
    except (OSError, sqlite3.DatabaseError) as exc:
        _say(f"cannot read the archive {archive.path}: {exc}")
        return 2
    from convoai_mcp.server.audit import format_entry

    for item in entries:
        print(json.dumps(item, ensure_ascii=False) if ns.json else format_entry(item))
    if not entries and not ns.json:
        _say(f"no audit entries in {archive.path}" + (" since then" if ns.since else ""))
    return 0


def _audit_from_postgres(url: str, ns: argparse.Namespace) -> int:
    """``convoai-mcp audit`` on the PostgreSQL archive of ``CONVOAI_DATABASE_URL`` (read-only
    transactions, no migration)."""
    import anyio

    from convoai_mcp.archive.postgres import PostgresArchive
    from convoai_mcp.errors import ConfigError
    from convoai_mcp.server.audit import format_entry

    archive = PostgresArchive(url, read_only=True, connect_timeout=10)

    async def read() -> list[dict[str, Any]]:
        found: list[dict[str, Any]] = []
        cursor: str | None = None
        try:
            while True:
                page, cursor = await archive.list_audit(since=ns.since, limit=500, cursor=cursor)
                found += page
                if cursor is None:
                    return found[::-1]
        finally:
            await archive.aclose()

    try:
        entries = anyio.run(read)
    except ConfigError as exc:
        _say(f"configuration error: {exc}")
        return 2
    except Exception as exc:  # the driver's errors: unreachable, no such table, ...
        reason = " ".join(str(exc).split())[:300] or type(exc).__name__
        _say(f"cannot read the archive PostgreSQL {archive.where}: {reason}")
        return 2
    for item in entries:
        print(json.dumps(item, ensure_ascii=False) if ns.json else format_entry(item))
    if not entries and not ns.json:
        _say(
            f"no audit entries in PostgreSQL {archive.where}" + (" since then" if ns.since else "")
        )
    return 0


def _audit_entries(archive: SQLiteArchive, since: float | None) -> list[dict[str, Any]]:
    """Every entry from ``since`` on, oldest first."""
    found: list[dict[str, Any]] = []
    cursor: str | None = None
    try:
        while True:
            page, cursor = archive.list_audit_sync(since=since, limit=500, cursor=cursor)
            found += page
            if cursor is None:
                return found[::-1]
    finally:
        archive.close()


def _configure_from(settings: Settings, redactor: Redactor) -> None:
    """Logging as ``settings`` say, masked with ``redactor``."""
    configure_logging(
        settings.log_level, redactor=redactor, fmt=settings.log_format, http=settings.log_http
    )


async def _server_safety(server: ConvoAIServer, settings: Settings) -> str:
    """:func:`safety_summary` for the tools ``server`` really lists."""
    from convoai_mcp.server.tools import TOOL_NAMES

    exposed = [tool.name for tool in await server.list_tools()]
    # the opt-in tools (admin) count as known only where the operator turned them on
    known = [*TOOL_NAMES, *(name for name in exposed if name not in TOOL_NAMES)]
    return safety_summary(settings, exposed, known)


def _check_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="convoai-mcp check",
        description="Validate the configuration (the same checks as start-up), make one "
        "harmless read (list_numbers) against the configured service, and print the settings "
        "in effect, without secrets. Exit status 0 when all is well, 2 for a configuration "
        "error, 1 when the service cannot be used.",
    )
    parser.add_argument(
        "--sandbox",
        action="store_true",
        help="check against an in-process emulator with demo credentials, as --sandbox serves",
    )
    return parser


def check_main(argv: Sequence[str]) -> int:
    """``convoai-mcp check``: returns the exit status (0 ok, 1 service unusable, 2 config)."""
    ns = _check_parser().parse_args(list(argv))
    configure_logging()

    from convoai_mcp.config import Settings
    from convoai_mcp.errors import ConfigError
    from convoai_mcp.redact import settings_redactor

    try:
        settings = Settings.from_env(require_credentials=not ns.sandbox)
        _configure_from(settings, settings_redactor(settings))
    except ConfigError as exc:
        _say(f"check failed: configuration error: {exc}")
        return 2
    import anyio

    try:
        return anyio.run(_check, settings, ns.sandbox)
    except KeyboardInterrupt:
        return 130


async def _check(settings: Settings, sandbox: bool) -> int:
    from contextlib import AsyncExitStack

    from convoai_mcp import __version__
    from convoai_mcp.errors import ConfigError, ConvoAIError
    from convoai_mcp.redact import settings_redactor

    def out(text: str) -> None:
        print(text, flush=True)

    async with AsyncExitStack() as stack:
        if sandbox:  # exactly what --sandbox serves (allow-list, temporary archive)
            from convoai_mcp.server.sandbox_mode import run_sandbox

            settings, _ = await stack.enter_async_context(run_sandbox(settings))
            adopt_uvicorn_logging()
        redactor = settings_redactor(settings)
        try:
            from convoai_mcp.archive import check_archive
            from convoai_mcp.server.app import build_server

            await check_archive(settings)  # as at start-up: an unusable archive is an error
            server = build_server(settings)  # the tool lists are checked here, as at start-up
            stack.push_async_callback(server.runtime.aclose)
            safety = await _server_safety(server, settings)
        except ConfigError as exc:
            _say(f"check failed: configuration error: {redactor.text(str(exc))}")
            return 2
        where = "the sandbox (in process)" if settings.sandbox else settings.describe()
        out(f"convoai-mcp {__version__} check")
        out(f"  service: {where}")
        for warning in settings.warnings:
            out(f"  warning: {warning}")
        out(f"  safety: {safety}")
        defaults = _defaults_summary(settings)
        out(f"  agent defaults: {defaults}")
        if settings.profiles is not None:
            profiles = settings.profiles
            default = f", default {profiles.default}" if profiles.default else ", no default"
            out(f"  profiles: {', '.join(profiles.names())} (from {profiles.source}{default})")
        out(f"  archive: {_archive_summary(settings)}")
        try:
            numbers = await server.runtime.client.phone_numbers.list()
        except ConvoAIError as exc:
            _say(f"check failed: list_numbers: {redactor.text(str(exc))}")
            return 1
        outbound = sum(1 for n in numbers if n.outbound)
        out(
            f"  list_numbers: ok, {len(numbers)} phone number{'' if len(numbers) == 1 else 's'} "
            f"({outbound} outbound-enabled)"
        )
        out("check passed")
        return 0


def _defaults_summary(settings: Settings) -> str:
    """What a bare ``start_agent`` would use, secret-free."""
    parts = []
    if settings.presets:
        parts.append("presets " + ",".join(settings.presets))
    if settings.pipeline_id:
        parts.append(f"pipeline {settings.pipeline_id}")
    if settings.llm_url:
        key = "with key" if settings.llm_api_key else "no key"
        style = f", style {settings.llm_style}" if settings.llm_style else ""
        parts.append(f"LLM {settings.llm_model or '(no model)'}{style} ({key})")
    if settings.tts_vendor:
        parts.append(f"TTS {settings.tts_vendor}")
    if settings.asr_vendor or settings.asr_language:
        parts.append(f"ASR {settings.asr_vendor or 'default'} {settings.asr_language or ''}")
    if not parts:
        return "none (start_agent needs presets, an LLM + TTS, or a pipeline: see README)"
    return "; ".join(p.strip() for p in parts)


def _archive_summary(settings: Settings) -> str:
    if not settings.archive:
        return "off"
    if settings.database_url is not None:
        from convoai_mcp.archive.postgres import describe_url

        database = describe_url(settings.database_url.get_secret_value())  # never the password
        return f"on, PostgreSQL {database}, kept {settings.archive_retention_days} days"
    from convoai_mcp.archive.sqlite import default_archive_path

    where = settings.archive_path or default_archive_path()
    return f"on, {where}, kept {settings.archive_retention_days} days"


async def _serve(settings: Settings, ns: argparse.Namespace) -> None:
    from contextlib import AsyncExitStack

    from convoai_mcp import __version__
    from convoai_mcp.server.transports import listen, serve

    async with AsyncExitStack() as stack:
        sock = listen(ns.transport, ns.host, ns.port)  # a port in use fails before anything
        if sock is not None:
            stack.callback(sock.close)
        if ns.sandbox:
            from convoai_mcp.server.sandbox_mode import run_sandbox

            settings, base_url = await stack.enter_async_context(run_sandbox(settings))
            adopt_uvicorn_logging()  # the emulator's uvicorn installed its own handlers
        from convoai_mcp.archive import check_archive

        await check_archive(settings)  # unusable: ConfigError, exit status 2
        if ns.sandbox:
            _say(
                f"SANDBOX mode: the emulator runs in this process at {base_url} with demo "
                "credentials; nothing real is called and nothing is charged"
            )
        from convoai_mcp.server.app import build_server

        server = build_server(settings)
        stack.push_async_callback(server.runtime.aclose)
        where = "the sandbox" if settings.sandbox else settings.describe()
        _say("safety: " + await _server_safety(server, settings))

        def ready(url: str, token_required: bool) -> None:
            if url == "stdio":
                _say(
                    f"{__version__} serving MCP over stdio ({where}); waiting for a client on "
                    "stdin, Ctrl-C to stop"
                )
                return
            auth = ", bearer token required" if token_required else ""
            mode = ", stateless" if settings.http_stateless else ""
            fragment = "#token=<CONVOAI_HTTP_TOKEN>"
            if token_required and settings.oauth_issuer is not None:
                auth = f", OAuth access token of {settings.oauth_issuer} required"
                fragment = "#token=<access token>"
            _say(
                f"{__version__} serving MCP ({ns.transport}{mode}) at {url} ({where}{auth}); "
                "Ctrl-C to stop"
            )
            console = url.rsplit("/", 1)[0] + "/console"
            _say(f"console at {console}" + (fragment if auth else ""))

        await serve(
            server,
            settings,
            transport=ns.transport,
            host=ns.host,
            port=ns.port,
            on_ready=ready,
            sock=sock,
        )
