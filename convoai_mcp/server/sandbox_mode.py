"""The server in sandbox mode (``convoai-mcp --sandbox``, ``convoai-mcp demo``, the tests).

* :func:`sandbox_settings` — settings pointed at an emulator with the demo credentials, with
  :data:`SANDBOX_PRESETS` when no vendor is configured;
* :func:`run_sandbox` — the emulator in this process, plus a temporary archive unless
  ``CONVOAI_ARCHIVE_PATH`` is set, and the fictional numbers allow-listed unless
  ``CONVOAI_CALL_ALLOWLIST`` is set (nothing real is dialled there).
"""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator
from typing import TYPE_CHECKING

from convoai_mcp.sandbox.environment import (
    FICTIONAL_ALLOWLIST,
    SANDBOX_LLM_URL,
    SANDBOX_PRESETS,
    SANDBOX_TTS_PARAMS,
    SANDBOX_TTS_VENDOR,
)

if TYPE_CHECKING:
    from convoai_mcp.config import Settings

__all__ = [
    "SANDBOX_CALL_ALLOWLIST",
    "SANDBOX_PRESETS",
    "run_sandbox",
    "sandbox_settings",
]

SANDBOX_CALL_ALLOWLIST = FICTIONAL_ALLOWLIST
"""What ``call`` may dial in sandbox mode when ``CONVOAI_CALL_ALLOWLIST`` is unset (the
emulator's fictional numbers; nothing is dialled for real there)."""


def sandbox_settings(
    settings: Settings, base_url: str, *, default_allowlist: bool = False
) -> Settings:
    """``settings`` pointed at a sandbox at ``base_url`` with the demo credentials; with
    ``default_allowlist``, :data:`SANDBOX_CALL_ALLOWLIST` where no allow-list is set."""
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
        update["tts_vendor"] = settings.tts_vendor or SANDBOX_TTS_VENDOR
        if not settings.tts_vendor and not settings.tts_params:  # what the emulator requires
            update["tts_params"] = dict(SANDBOX_TTS_PARAMS)
    if default_allowlist and not settings.call_allowlist:
        update["call_allowlist"] = SANDBOX_CALL_ALLOWLIST
    return settings.model_copy(update=update)


@contextlib.asynccontextmanager
async def run_sandbox(settings: Settings) -> AsyncIterator[tuple[Settings, str]]:
    """Serve the emulator on a free loopback port (a fresh seed per run, so agent ids differ
    from earlier sessions) and yield ``(settings for it, its base URL)``; emulated transcripts
    go to a temporary archive unless ``CONVOAI_ARCHIVE_PATH`` is set."""
    import secrets
    import tempfile
    from pathlib import Path

    from convoai_mcp.sandbox import DEMO_CREDENTIALS, Sandbox

    sandbox = Sandbox(DEMO_CREDENTIALS, seed=secrets.randbits(32))
    async with sandbox.serve("127.0.0.1", 0) as base_url:
        settings = sandbox_settings(settings, base_url, default_allowlist=True)
        if settings.archive_path is not None:
            yield settings, base_url
            return
        with tempfile.TemporaryDirectory(prefix="convoai-sandbox-") as tmp:
            path = Path(tmp) / "archive.sqlite3"
            yield settings.model_copy(update={"archive_path": path}), base_url
