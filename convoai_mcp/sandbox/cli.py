"""``convoai-mcp sandbox``: run the emulator from the command line until interrupted.

What it prints on stdout is ready for a shell's ``eval``: comments, and ``export`` lines with
the base URL, the credentials it accepts, the presets it serves without keys, its fictional
numbers as the call allow-list and a temporary transcript archive (so emulated conversations
stay out of the user's real one). ``--env-file PATH`` writes the same lines to a file.
``--webhook-url`` (with ``--webhook-secret`` or ``CONVOAI_WEBHOOK_SECRET``) delivers the signed
notification callbacks there (:mod:`.webhooks`)."""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import os
import re
import signal
import socket
import sys
import tempfile
from collections.abc import Sequence
from pathlib import Path
from typing import TextIO

from convoai_mcp.tokens import validate_app_certificate, validate_app_id

from .app import ADMIN_PREFIX, Sandbox
from .console import CONSOLE_PATH
from .credentials import SandboxCredentials
from .environment import export_lines, server_environment, withheld
from .runner import bind, is_loopback

__all__ = ["DEFAULT_PORT", "build_parser", "main"]

DEFAULT_PORT = 8787
_SECRET = re.compile(r"[A-Za-z0-9_-]{7,32}")
"""A webhook secret as Agora's console and CLI accept it."""


def build_parser(prog: str = "convoai-mcp sandbox") -> argparse.ArgumentParser:
    """The command-line options."""
    parser = argparse.ArgumentParser(
        prog=prog,
        description="Run a local emulator of the Agora Conversational AI REST API (no audio, "
        "no real LLM). Credentials come from AGORA_APP_ID, AGORA_APP_CERTIFICATE, "
        "AGORA_CUSTOMER_ID and AGORA_CUSTOMER_SECRET, else fixed demo values.",
    )
    parser.add_argument("--host", default="127.0.0.1", help="interface (default 127.0.0.1)")
    parser.add_argument(
        "--port",
        type=int,
        default=DEFAULT_PORT,
        help=f"port, 0 for any free one (default {DEFAULT_PORT})",
    )
    parser.add_argument(
        "--admin", action="store_true", help=f"enable the admin endpoint under {ADMIN_PREFIX}/"
    )
    parser.add_argument(
        "--console",
        action="store_true",
        help="serve the live console at /console: every agent and call the emulator holds",
    )
    parser.add_argument("--seed", type=int, default=0, help="seed of the simulated conversation")
    parser.add_argument(
        "--start-delay", type=float, default=0.0, help="seconds an agent stays STARTING (default 0)"
    )
    parser.add_argument(
        "--answer-delay", type=float, default=0.2, help="seconds until a call is answered (0.2)"
    )
    parser.add_argument(
        "--env-file",
        type=Path,
        metavar="PATH",
        help="also write the export lines to PATH (mode 0600), for '. PATH' in a shell",
    )
    parser.add_argument(
        "--webhook-url",
        metavar="URL",
        help="deliver the notification callbacks (agent joined / left / history, turns, call "
        "state) to URL, e.g. http://127.0.0.1:8000/webhooks/agora of a convoai-mcp server",
    )
    parser.add_argument(
        "--webhook-secret",
        metavar="SECRET",
        help="the secret that signs them (default: CONVOAI_WEBHOOK_SECRET; 7..32 characters "
        "A-Z a-z 0-9 _ -, as the Agora console takes)",
    )
    parser.add_argument(
        "--allow-remote",
        action="store_true",
        help="allow a non-loopback --host (the sandbox has no protection for public exposure)",
    )
    return parser


def _banner(sandbox: Sandbox, base_url: str, out: TextIO, exports: list[str]) -> None:
    """What the sandbox prints on stdout once it listens: comments and the ``export`` lines, so
    that a shell can ``eval`` all of it as it is."""
    print(f"# convoai-mcp sandbox listening; base URL {base_url}", file=out)
    print(
        "# for an MCP server on it: paste (or eval) the export lines in a shell, or use", file=out
    )
    print(
        "# --env-file PATH and '. PATH'; then run convoai-mcp (transcripts: a temporary archive)",
        file=out,
    )
    for line in exports:
        print(line, file=out)
    if sandbox.admin:
        root = base_url.split("/api/", 1)[0]
        print(f"# admin endpoint: {root}{ADMIN_PREFIX}/", file=out)
    if sandbox.webhooks is not None:
        print(
            f"# webhooks: signed notification callbacks POSTed to {sandbox.webhooks.url} "
            "(the server needs the same CONVOAI_WEBHOOK_SECRET)",
            file=out,
        )
    if sandbox.console:
        root = base_url.split("/api/", 1)[0]
        print(f"# console: {root}{CONSOLE_PATH}", file=out)
    print("# (emulated: no audio, no real ASR/LLM/TTS; Ctrl-C to stop)", file=out)
    out.flush()


def _write_env_file(path: Path, exports: list[str]) -> None:
    """The export lines in ``path``, private (0600): it holds the sandbox's credentials."""
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w", encoding="utf-8") as file:
        file.write("# convoai-mcp sandbox: '. this-file', then run convoai-mcp\n")
        file.write("\n".join(exports) + "\n")


async def _run(
    sandbox: Sandbox, sock: socket.socket, host: str, out: TextIO, env_file: Path | None
) -> None:
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        with contextlib.suppress(NotImplementedError, RuntimeError):
            loop.add_signal_handler(sig, stop.set)
    with tempfile.TemporaryDirectory(prefix="convoai-sandbox-", ignore_cleanup_errors=True) as tmp:
        archive = Path(tmp) / "archive.sqlite3"
        async with sandbox.serve(host, sock.getsockname()[1], sock=sock) as base_url:
            env = server_environment(base_url, sandbox.credentials, archive_path=archive)
            exports = export_lines(env, withheld(sandbox.credentials))
            if env_file is not None:
                _write_env_file(env_file, exports)  # before the banner: it is ready when seen
            _banner(sandbox, base_url, out, exports)
            await stop.wait()


def main(argv: Sequence[str] | None = None, *, prog: str = "convoai-mcp sandbox") -> int:
    """Parse ``argv`` (without the program name), run the sandbox until SIGINT / SIGTERM."""
    parser = build_parser(prog)
    args = parser.parse_args(list(argv) if argv is not None else None)
    if not 0 <= args.port <= 65535:
        parser.error(f"--port must be 0..65535, got {args.port}")
    if args.start_delay < 0 or args.answer_delay < 0:
        parser.error("--start-delay and --answer-delay must not be negative")
    if not is_loopback(args.host) and not args.allow_remote:
        print(
            f"refusing to listen on {args.host}: the sandbox is for loopback use; "
            "pass --allow-remote to expose it anyway",
            file=sys.stderr,
        )
        return 2
    webhook_secret = args.webhook_secret or os.environ.get("CONVOAI_WEBHOOK_SECRET") or None
    if args.webhook_url is not None:
        if not args.webhook_url.startswith(("http://", "https://")):
            parser.error(
                f"--webhook-url must be an http:// or https:// URL, got {args.webhook_url}"
            )
        if webhook_secret is None:
            parser.error("--webhook-url needs --webhook-secret (or CONVOAI_WEBHOOK_SECRET)")
        if not _SECRET.fullmatch(webhook_secret):
            parser.error(
                "the webhook secret must be 7..32 characters of A-Z a-z 0-9 _ - "
                f"(it has {len(webhook_secret)} characters)"
            )
    credentials = SandboxCredentials.from_env()
    try:
        validate_app_id(credentials.app_id)
        validate_app_certificate(credentials.app_certificate)
    except ValueError as exc:
        print(f"cannot start the sandbox: {exc}", file=sys.stderr)
        return 2
    try:  # fail before printing anything: the address may be in use
        sock = bind(args.host, args.port)
    except OSError as exc:
        print(f"cannot listen on {args.host}:{args.port}: {exc.strerror or exc}", file=sys.stderr)
        return 1
    sandbox = Sandbox(
        credentials,
        seed=args.seed,
        start_delay=args.start_delay,
        answer_delay=args.answer_delay,
        admin=args.admin,
        console=args.console,
        console_hosts=frozenset({args.host}),
    )
    if args.webhook_url is not None and webhook_secret is not None:
        sandbox.deliver_webhooks(args.webhook_url, webhook_secret, tick=1.0)
    try:
        asyncio.run(_run(sandbox, sock, args.host, sys.stdout, args.env_file))
    except OSError as exc:
        print(f"cannot listen on {args.host}:{args.port}: {exc.strerror or exc}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        pass
    finally:
        sock.close()
    return 0
