"""Build the MCP bundle (``.mcpb``, the Claude Desktop extension format) of convoai-mcp.

    python scripts/build_mcpb.py                 # -> dist/convoai-mcp-<version>.mcpb
    python scripts/build_mcpb.py --out x.mcpb

A bundle is a zip with a ``manifest.json`` at its root (spec: github.com/modelcontextprotocol/mcpb,
MANIFEST.md; schema v0.4, vendored in tests/). This one uses the ``uv`` server type: the host
installs the dependencies from the bundled ``pyproject.toml`` with uv, so the zip holds only our
source (no platform-specific wheels), and runs ``server/main.py``. Double-clicking the file in
Claude Desktop installs it; the fields of ``user_config`` are asked for in its settings form,
secrets (``sensitive``) stored in the OS keychain, and passed to the server as the environment
variables of the same name.

Everything is derived: the version and URLs from pyproject.toml, the fields' help text and
secrecy from ``convoai_mcp.config.VARIABLES``, the tool list from the server itself. The zip is
reproducible (sorted entries, fixed timestamps).
"""

from __future__ import annotations

import argparse
import json
import sys
import tomllib
import zipfile
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from convoai_mcp.config import VARIABLES  # noqa: E402

MANIFEST_VERSION = "0.4"
ENTRY_POINT = "server/main.py"
ENTRY_SOURCE = '''"""Entry point of the convoai-mcp MCP bundle: the server over stdio."""

from convoai_mcp.cli import main

raise SystemExit(main())
'''

FIELDS: dict[str, tuple[str, str, Any]] = {
    # variable: (title, type, default or None); help text and secrecy come from VARIABLES
    "AGORA_APP_ID": ("Agora App ID", "string", None),
    "AGORA_APP_CERTIFICATE": ("App Certificate", "string", None),
    "AGORA_CUSTOMER_ID": ("RESTful customer ID", "string", None),
    "AGORA_CUSTOMER_SECRET": ("RESTful customer secret", "string", None),
    "AGORA_AREA": ("Area", "string", "GLOBAL"),
    "CONVOAI_PRESETS": (
        "Default presets (ASR, LLM, TTS)",
        "string",
        "deepgram_nova_3,openai_gpt_4o_mini,minimax_speech_2_6_turbo",
    ),
    "CONVOAI_LLM_URL": ("LLM URL (instead of a preset)", "string", None),
    "CONVOAI_LLM_API_KEY": ("LLM API key", "string", None),
    "CONVOAI_LLM_MODEL": ("LLM model", "string", None),
    "CONVOAI_CALL_ALLOWLIST": ("Numbers calls may go to", "string", None),
    "CONVOAI_CONFIRM": ("Tools that need your confirmation", "string", "call"),
    "CONVOAI_READ_ONLY": ("Read-only", "boolean", False),
    "CONVOAI_TOOLS_DENY": ("Tools to hide", "string", None),
    "CONVOAI_MAX_AGENTS": ("Maximum agents at once", "number", 5),
    "CONVOAI_MAX_CALLS": ("Maximum calls at once", "number", 2),
}
"""The variables a Claude Desktop user is asked for; the rest keep their defaults."""

PACKAGE_EXCLUDE = ("__pycache__", ".pyc", ".pyo")


def project() -> dict[str, Any]:
    """``[project]`` of pyproject.toml."""
    data: dict[str, Any] = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    return data


def user_config() -> dict[str, dict[str, Any]]:
    """The ``user_config`` entries, keyed by the lower-case variable name."""
    config: dict[str, dict[str, Any]] = {}
    for name, (title, kind, default) in FIELDS.items():
        var = VARIABLES[name]
        entry: dict[str, Any] = {"type": kind, "title": title, "description": var.help}
        entry["required"] = var.required
        if var.secret:
            entry["sensitive"] = True
        if default is not None:
            entry["default"] = default
        if kind == "number":
            entry["min"] = 0
        config[name.lower()] = entry
    return config


def tools() -> list[dict[str, str]]:
    """Every tool the server lists, with the first sentence of its description."""
    import anyio

    from convoai_mcp.config import Settings
    from convoai_mcp.server.app import build_server

    async def listed() -> list[dict[str, str]]:
        server = build_server(Settings.from_env({}, require_credentials=False))
        try:
            found = await server.list_tools()
        finally:
            await server.runtime.aclose()
        return [
            {"name": t.name, "description": (t.description or "").split("\n")[0].strip()}
            for t in found
        ]

    return anyio.run(listed)


def manifest() -> dict[str, Any]:
    """The bundle's manifest.json."""
    meta = project()
    urls: dict[str, str] = meta["urls"]
    return {
        "manifest_version": MANIFEST_VERSION,
        "name": meta["name"],
        "display_name": "Agora Conversational AI",
        "version": meta["version"],
        "description": meta["description"],
        "long_description": (
            "Start Agora voice AI agents in RTC channels, make them speak or think, place "
            "outbound phone calls to allow-listed numbers, read transcripts and per-turn "
            "latency, and stop everything again. Calls go only to the numbers you allow, "
            "costly actions ask for your confirmation, and secrets never reach the model. "
            f"Documentation: {urls['Documentation']}"
        ),
        "author": {"name": meta["authors"][0]["name"], "url": urls["Homepage"]},
        "repository": {"type": "git", "url": urls["Repository"]},
        "homepage": urls["Homepage"],
        "documentation": urls["Documentation"],
        "support": urls["Issues"],
        "license": meta["license"],
        "keywords": list(meta["keywords"]),
        "privacy_policies": ["https://www.agora.io/en/privacy-policy/"],
        "server": {
            "type": "uv",
            "entry_point": ENTRY_POINT,
            "mcp_config": {
                "command": "uv",
                "args": ["run", "--directory", "${__dirname}", ENTRY_POINT],
                "env": {name: f"${{user_config.{name.lower()}}}" for name in FIELDS},
            },
        },
        "tools": tools(),
        "tools_generated": False,
        "compatibility": {
            "platforms": ["darwin", "win32", "linux"],
            "runtimes": {"python": meta["requires-python"]},
        },
        "user_config": user_config(),
    }


def bundle_files() -> dict[str, bytes]:
    """Every file of the bundle by its path in the zip."""
    files: dict[str, bytes] = {
        "manifest.json": (json.dumps(manifest(), indent=2, ensure_ascii=False) + "\n").encode(),
        ENTRY_POINT: ENTRY_SOURCE.encode(),
    }
    for name in ("pyproject.toml", "README.md", "LICENSE"):
        files[name] = (ROOT / name).read_bytes()
    package = ROOT / "convoai_mcp"
    for path in sorted(package.rglob("*")):
        if path.is_file() and not any(part in str(path) for part in PACKAGE_EXCLUDE):
            files[path.relative_to(ROOT).as_posix()] = path.read_bytes()
    return files


def build(out: Path) -> Path:
    """Write the bundle to ``out`` (a reproducible zip) and return the path."""
    out.parent.mkdir(parents=True, exist_ok=True)
    with zipfile.ZipFile(out, "w", compression=zipfile.ZIP_DEFLATED) as archive:
        for name, data in sorted(bundle_files().items()):
            info = zipfile.ZipInfo(name, date_time=(2020, 1, 1, 0, 0, 0))
            info.compress_type = zipfile.ZIP_DEFLATED
            info.external_attr = 0o644 << 16
            archive.writestr(info, data)
    return out


def main(argv: list[str] | None = None) -> int:
    """Build the bundle; prints its path."""
    parser = argparse.ArgumentParser(description="Build the convoai-mcp MCP bundle (.mcpb).")
    parser.add_argument("--out", type=Path, help="output file (default: dist/NAME-VERSION.mcpb)")
    args = parser.parse_args(argv)
    meta = project()
    out = args.out or ROOT / "dist" / f"{meta['name']}-{meta['version']}.mcpb"
    print(build(out))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
