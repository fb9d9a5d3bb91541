"""``convoai-mcp``: run the MCP server (stdio by default), the demo, or the sandbox.

    convoai-mcp                                   stdio (what MCP clients launch)
    convoai-mcp --transport streamable-http       http://127.0.0.1:8000/mcp
    convoai-mcp --transport sse --port 9000       http://127.0.0.1:9000/sse
    convoai-mcp --sandbox                         against the in-process emulator, no account
    convoai-mcp demo                              a scripted session against the sandbox
    convoai-mcp sandbox ...                       the emulator alone (its own --help)

In stdio mode nothing but protocol messages goes to stdout: the banner and logs go to stderr.
Imports are deferred to the code path that needs them, so ``--help`` and stdio start fast.
"""

from __future__ import annotations

import argparse
import logging
import os
import sys
from collections.abc import Sequence
from typing import TYPE_CHECKING, TextIO

if TYPE_CHECKING:
    import socket

    import uvicorn
    from starlette.types import ASGIApp

    from convoai_mcp.config import Settings
    from convoai_mcp.redact import Redactor
    from convoai_mcp.server.app import ConvoAIServer

__all__ = [
    "KEEP_ALIVE_SECONDS",
    "SANDBOX_PRESETS",
    "build_parser",
    "configure_logging",
    "http_socket",
    "main",
    "sandbox_settings",
    "uvicorn_config",
]

SANDBOX_PRESETS = ("deepgram_nova_3", "openai_gpt_4o_mini", "minimax_speech_2_6_turbo")
"""Default presets when the server runs on the sandbox without configured vendors."""
SANDBOX_LLM_URL = "https://llm.sandbox.invalid/v1/chat/completions"
"""The LLM a call gets on the sandbox without configured vendors (the emulator calls nothing)."""

_TRANSPORTS = ("stdio", "streamable-http", "sse")
_HANDLER = "convoai-mcp-stderr"


def build_parser() -> argparse.ArgumentParser:
    """The argument parser of the serve command."""
    from convoai_mcp import __version__

    parser = argparse.ArgumentParser(
        prog="convoai-mcp",
        description="MCP server for Agora Conversational AI voice agents. Configuration comes "
        "from environment variables (AGORA_APP_ID, AGORA_APP_CERTIFICATE, ...; see README).",
        epilog="other commands: 'convoai-mcp demo' runs a scripted session against the "
        "sandbox; 'convoai-mcp sandbox --help' runs the emulator alone.",
    )
    parser.add_argument(
        "--transport",
        choices=_TRANSPORTS,
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
        "--sandbox",
        action="store_true",
        help="start the local emulator in process and use it with demo credentials: no "
        "account needed, nothing real is called",
    )
    parser.add_argument("--version", action="version", version=f"%(prog)s {__version__}")
    return parser


def configure_logging(
    level: str | None = None,
    stream: TextIO | None = None,
    *,
    redactor: Redactor | None = None,
) -> None:
    """Log to stderr at ``level`` (default: CONVOAI_LOG_LEVEL, else WARNING), replacing the
    handler an earlier call installed; with ``redactor``, every record is scrubbed of the
    secrets it knows before it is written."""
    name = (level or os.environ.get("CONVOAI_LOG_LEVEL") or "WARNING").strip().upper()
    handler = logging.StreamHandler(stream or sys.stderr)
    handler.set_name(_HANDLER)
    handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(name)s: %(message)s"))
    if redactor is not None:
        from convoai_mcp.redact import RedactingFilter

        handler.addFilter(RedactingFilter(redactor))
    root = logging.getLogger()
    for old in list(root.handlers):
        if old.get_name() == _HANDLER:
            root.removeHandler(old)
    root.addHandler(handler)
    root.setLevel(getattr(logging, name, logging.WARNING))


def _say(text: str) -> None:
    print(f"convoai-mcp: {text}", file=sys.stderr, flush=True)


def sandbox_settings(settings: Settings, base_url: str) -> Settings:
    """``settings`` pointed at a sandbox at ``base_url`` with the demo credentials."""
    from pydantic import SecretStr

    from convoai_mcp.sandbox import DEMO_CREDENTIALS

    creds = DEMO_CREDENTIALS
    update: dict[str, object] = {
        "app_id": creds.app_id,
        "app_certificate": SecretStr(creds.app_certificate),
        "customer_id": creds.customer_id,
        "customer_secret": SecretStr(creds.customer_secret),
        "auth_token": None,
        "base_url": base_url,
        "sandbox": True,
    }
    if not (settings.presets or settings.llm_url or settings.pipeline_id):
        update["presets"] = SANDBOX_PRESETS
        # A call takes no presets: the emulator's stand-in LLM and TTS (nothing is called).
        update["llm_url"] = SANDBOX_LLM_URL
        update["tts_vendor"] = settings.tts_vendor or "microsoft"
    return settings.model_copy(update=update)


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of the ``convoai-mcp`` console script; returns the exit status."""
    args = list(sys.argv[1:] if argv is None else argv)
    if args and args[0] == "sandbox":
        from convoai_mcp.sandbox.cli import main as sandbox_main

        return sandbox_main(args[1:], prog="convoai-mcp sandbox")
    if args and args[0] == "demo":
        from convoai_mcp.demo import main as demo_main

        return demo_main(args[1:])
    ns = build_parser().parse_args(args)
    configure_logging()

    from convoai_mcp.config import Settings
    from convoai_mcp.errors import ConfigError
    from convoai_mcp.redact import settings_redactor

    try:
        settings = Settings.from_env(require_credentials=not ns.sandbox)
        # From here on, nothing logged to stderr can carry a configured secret.
        configure_logging(settings.log_level, redactor=settings_redactor(settings))
        if ns.transport != "stdio":
            from convoai_mcp.server.http_security import check_bind

            check_bind(ns.host, settings.http_token)
    except ConfigError as exc:
        _say(f"configuration error: {exc}")
        return 2

    import anyio

    try:
        anyio.run(_serve, settings, ns)
    except KeyboardInterrupt:
        pass
    except ConfigError as exc:
        _say(f"configuration error: {exc}")
        return 2
    except OSError as exc:
        _say(f"cannot serve on {ns.host}:{ns.port}: {exc.strerror or exc}")
        return 1
    return 0


async def _serve(settings: Settings, ns: argparse.Namespace) -> None:
    import secrets
    import tempfile
    from contextlib import AsyncExitStack
    from pathlib import Path

    from convoai_mcp import __version__

    async with AsyncExitStack() as stack:
        if ns.sandbox:
            from convoai_mcp.sandbox import DEMO_CREDENTIALS, Sandbox

            # A fresh seed per run: agent ids differ from earlier sandbox sessions.
            sandbox = Sandbox(DEMO_CREDENTIALS, seed=secrets.randbits(32))
            base_url = await stack.enter_async_context(sandbox.serve("127.0.0.1", 0))
            settings = sandbox_settings(settings, base_url)
            if settings.archive_path is None:
                # Emulated transcripts stay out of the user's real archive.
                tmp = stack.enter_context(tempfile.TemporaryDirectory(prefix="convoai-sandbox-"))
                settings = settings.model_copy(
                    update={"archive_path": Path(tmp) / "archive.sqlite3"}
                )
            _say(
                f"SANDBOX mode: the emulator runs in this process at {base_url} with demo "
                "credentials; nothing real is called and nothing is charged"
            )
        from convoai_mcp.server.app import build_server

        server = build_server(settings)
        stack.push_async_callback(server.runtime.aclose)
        where = "the sandbox" if settings.sandbox else settings.describe()
        if ns.transport == "stdio":
            _say(
                f"{__version__} serving MCP over stdio ({where}); waiting for a client on "
                "stdin, Ctrl-C to stop"
            )
            await server.run_stdio_async()
        else:
            await _serve_http(server, settings, ns, where, __version__)


KEEP_ALIVE_SECONDS = 65
"""How long the HTTP transports keep an idle connection open: longer than clients keep theirs
(httpx: 5 s). With uvicorn's default 5 s both ends close at once and a reused connection fails
mid-request (ReadError after a 5 s pause; benchmarks/)."""


def http_socket(host: str, port: int) -> socket.socket:
    """The listening socket of the HTTP transports, bound to ``host``:``port`` (0: a free one).

    Its protocol is IPPROTO_TCP, not 0: asyncio sets TCP_NODELAY only on accepted sockets whose
    proto is TCP, and without it every keep-alive response waits ~40 ms (Nagle + delayed ACK;
    benchmarks/).
    """
    import socket

    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    sock = socket.socket(family, socket.SOCK_STREAM, socket.IPPROTO_TCP)
    try:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        sock.bind((host.strip("[]"), port))
    except OSError:
        sock.close()
        raise
    return sock


def uvicorn_config(app: ASGIApp, settings: Settings) -> uvicorn.Config:
    """How uvicorn serves ``app``: logging through ours, :data:`KEEP_ALIVE_SECONDS`."""
    import uvicorn

    return uvicorn.Config(
        app,
        log_config=None,
        log_level=settings.log_level.lower(),
        access_log=settings.log_level == "DEBUG",
        timeout_graceful_shutdown=2,
        timeout_keep_alive=KEEP_ALIVE_SECONDS,
    )


async def _serve_http(
    server: ConvoAIServer, settings: Settings, ns: argparse.Namespace, where: str, version: str
) -> None:
    import uvicorn

    from convoai_mcp.server.http_security import HttpSecurity, secure_asgi_app

    sock = http_socket(ns.host, ns.port)
    port = sock.getsockname()[1]
    security = HttpSecurity.from_settings(settings, host=ns.host, port=port)
    if ns.transport == "sse":
        app = server.sse_app(
            host=ns.host,
            transport_security=security.transport_security,
            max_request_body_size=security.max_body_bytes,
        )
        path = "/sse"
    else:
        app = server.streamable_http_app(
            host=ns.host,
            transport_security=security.transport_security,
            max_request_body_size=security.max_body_bytes,
        )
        path = "/mcp"
    shown = f"[{ns.host.strip('[]')}]" if ":" in ns.host else ns.host
    auth = ", bearer token required" if security.token is not None else ""
    _say(
        f"{version} serving MCP ({ns.transport}) at http://{shown}:{port}{path} ({where}"
        f"{auth}); Ctrl-C to stop"
    )
    config = uvicorn_config(secure_asgi_app(app, security), settings)
    try:
        await uvicorn.Server(config).serve(sockets=[sock])
    finally:
        sock.close()
