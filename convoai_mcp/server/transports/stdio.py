"""The stdio transport: MCP over the process's stdin and stdout.

The SDK reads stdin in a worker thread, and a blocked ``read()`` cannot be cancelled: with
stdin still open (a terminal) a Ctrl-C used to cancel the server and then wait for that
thread forever. Here SIGINT ends the process at once with status 130 (128 + SIGINT, what shells
report), without a traceback. Nothing is lost by not cleaning up: every archive write is its own
committed transaction, and the agents started keep running on the service as with any exit.
"""

from __future__ import annotations

import os
import signal
import sys
from collections.abc import Callable
from types import FrameType
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from convoai_mcp.server.app import ConvoAIServer

__all__ = ["INTERRUPTED_STATUS", "serve_stdio"]

INTERRUPTED_STATUS = 128 + signal.SIGINT
"""The exit status after Ctrl-C (130)."""


def _exit_on_interrupt(signum: int, frame: FrameType | None) -> None:
    del signum, frame
    try:
        sys.stderr.flush()
    finally:
        os._exit(INTERRUPTED_STATUS)


async def serve_stdio(server: ConvoAIServer, *, on_ready: Callable[[], None] | None = None) -> None:
    """Serve ``server`` over stdin / stdout until stdin closes; Ctrl-C exits with status 130.
    ``on_ready()`` is called once Ctrl-C is handled so (e.g. to print the banner)."""
    import threading

    previous = None
    if threading.current_thread() is threading.main_thread():
        previous = signal.signal(signal.SIGINT, _exit_on_interrupt)
    try:
        if on_ready is not None:
            on_ready()
        await server.run_stdio_async()
    finally:
        if previous is not None:
            signal.signal(signal.SIGINT, previous)
