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
    from convoai_mcp.config import Settings
    from convoai_mcp.redact import Redactor

__all__ = ["build_parser", "configure_logging", "main"]

_HANDLER = "convoai-mcp-stderr"


def build_parser() -> argparse.ArgumentParser:
    """The argument parser of the serve command."""
    from convoai_mcp import __version__
    from convoai_mcp.server.transports import TRANSPORTS

    parser = argparse.ArgumentParser(
        prog="convoai-mcp",
        description="MCP server for Agora Conversational AI voice agents. Configuration comes "
        "from environment variables (AGORA_APP_ID, AGORA_APP_CERTIFICATE, ...; see README).",
        epilog="other commands: 'convoai-mcp demo' runs a scripted session against the "
        "sandbox; 'convoai-mcp sandbox --help' runs the emulator alone.",
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
        from convoai_mcp.server.transports import check_transport

        check_transport(ns.transport, ns.host, ns.port, settings)
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
    from contextlib import AsyncExitStack

    from convoai_mcp import __version__
    from convoai_mcp.server.transports import serve

    async with AsyncExitStack() as stack:
        if ns.sandbox:
            from convoai_mcp.server.sandbox_mode import run_sandbox

            settings, base_url = await stack.enter_async_context(run_sandbox(settings))
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

        def ready(url: str, token_required: bool) -> None:
            if url == "stdio":
                _say(
                    f"{__version__} serving MCP over stdio ({where}); waiting for a client on "
                    "stdin, Ctrl-C to stop"
                )
                return
            auth = ", bearer token required" if token_required else ""
            _say(
                f"{__version__} serving MCP ({ns.transport}) at {url} ({where}{auth}); "
                "Ctrl-C to stop"
            )

        await serve(
            server, settings, transport=ns.transport, host=ns.host, port=ns.port, on_ready=ready
        )
