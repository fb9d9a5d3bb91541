"""What an MCP server (or any client) needs to use a running sandbox, as environment variables.

One home for the sandbox's defaults: the presets it accepts without vendor keys and the
fictional numbers a server may dial there. ``convoai-mcp sandbox`` prints :func:`export_lines`
ready for ``eval``; ``convoai-mcp --sandbox`` uses the same defaults in process.
"""

from __future__ import annotations

import json
import shlex
from collections.abc import Mapping
from pathlib import Path

from .credentials import SandboxCredentials

__all__ = [
    "FICTIONAL_ALLOWLIST",
    "SANDBOX_LLM_URL",
    "SANDBOX_PRESETS",
    "SANDBOX_TTS_PARAMS",
    "SANDBOX_TTS_VENDOR",
    "export_lines",
    "server_environment",
    "withheld",
]

SANDBOX_PRESETS = ("deepgram_nova_3", "openai_gpt_4o_mini", "minimax_speech_2_6_turbo")
"""Hosted presets (ASR, LLM, TTS) that need no vendor keys: what a server on the sandbox uses
when no vendor is configured."""

SANDBOX_LLM_URL = "https://llm.sandbox.invalid/v1/chat/completions"
SANDBOX_TTS_VENDOR = "microsoft"
SANDBOX_TTS_PARAMS = {
    "key": "sandbox-stand-in",
    "region": "eastus",
    "voice_name": "en-US-AvaNeural",
}
"""The stand-in TTS's parameters: the fields the emulator's stage validation requires of the
vendor (:mod:`convoai_mcp.sandbox.stages`); the key is no credential (nothing is called)."""
"""The stand-in LLM and TTS a call gets on the sandbox when no vendor is configured: a call takes
no presets (it needs a full LLM and TTS configuration), and the emulator calls nothing."""

FICTIONAL_ALLOWLIST = ("+1415555",)
"""The numbers a server may dial on the sandbox by default: ``+1 415 555 …`` (the emulator's
own numbers, the README's examples; 555 numbers are reserved for fiction). Nothing is dialled
for real there."""


def server_environment(
    base_url: str, credentials: SandboxCredentials, *, archive_path: Path | None = None
) -> dict[str, str]:
    """The variables of a server that uses the sandbox at ``base_url``. Secrets that came from
    the environment (not the demo values) are left out: the shell has them already (see
    :func:`withheld`)."""
    demo = credentials.is_demo
    env = {"CONVOAI_BASE_URL": base_url, "AGORA_APP_ID": credentials.app_id}
    if demo:
        env["AGORA_APP_CERTIFICATE"] = credentials.app_certificate
    env["AGORA_CUSTOMER_ID"] = credentials.customer_id
    if demo:
        env["AGORA_CUSTOMER_SECRET"] = credentials.customer_secret
    env["CONVOAI_PRESETS"] = ",".join(SANDBOX_PRESETS)
    env["CONVOAI_LLM_URL"] = SANDBOX_LLM_URL
    env["CONVOAI_TTS_VENDOR"] = SANDBOX_TTS_VENDOR
    env["CONVOAI_TTS_PARAMS"] = json.dumps(SANDBOX_TTS_PARAMS)
    env["CONVOAI_CALL_ALLOWLIST"] = ",".join(FICTIONAL_ALLOWLIST)
    env["CONVOAI_EMULATOR"] = "on"  # its fictional numbers may be dialled
    if archive_path is not None:
        env["CONVOAI_ARCHIVE_PATH"] = str(archive_path)
    return env


def withheld(credentials: SandboxCredentials) -> dict[str, str]:
    """The secrets :func:`server_environment` leaves out, masked (``"a-ve…(21 chars)"``)."""
    if credentials.is_demo:
        return {}
    shown = credentials.describe()
    return {name: shown[name] for name in ("AGORA_APP_CERTIFICATE", "AGORA_CUSTOMER_SECRET")}


def export_lines(env: Mapping[str, str], secrets: Mapping[str, str] | None = None) -> list[str]:
    """``export NAME=value`` lines, quoted for POSIX shells (``eval`` them, or ``.`` a file of
    them), and a comment for each withheld secret."""
    lines = [f"export {name}={shlex.quote(value)}" for name, value in env.items()]
    for name, masked in (secrets or {}).items():
        lines.append(f"# {name}={masked} is taken from your environment (not printed)")
    return lines
