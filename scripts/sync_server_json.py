"""Bring ``server.json``'s environment variables in line with ``convoai_mcp.config.VARIABLES``.

    python scripts/sync_server_json.py          # rewrite server.json
    python scripts/sync_server_json.py --check  # exit 1 if it is out of date

The variable table in ``config.py`` is the one home of the names, their help and secrecy; this
copies them (description, ``isSecret``, ``isRequired``) into the registry manifest, in table
order, and keeps what only the manifest says about a variable (``default``, ``choices``,
``format``). ``tests/test_server_json.py`` fails when the two disagree.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from convoai_mcp.config import VARIABLES  # noqa: E402


def synced(manifest: dict[str, Any]) -> dict[str, Any]:
    """``manifest`` with its (single) package's environment variables from the table."""
    package = manifest["packages"][0]
    old = {v["name"]: v for v in package.get("environmentVariables", [])}
    variables = []
    for name, var in VARIABLES.items():
        entry: dict[str, Any] = {"name": name, "description": var.help}
        if var.required:
            entry["isRequired"] = True
        if var.secret:
            entry["isSecret"] = True
        entry.update(
            (key, value)
            for key, value in old.get(name, {}).items()
            if key not in ("name", "description", "isRequired", "isSecret")
        )
        variables.append(entry)
    package["environmentVariables"] = variables
    return manifest


def main(argv: list[str] | None = None) -> int:
    """Rewrite (or, with --check, verify) server.json."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--check", action="store_true", help="only report whether it is stale")
    args = parser.parse_args(argv)
    path = ROOT / "server.json"
    text = path.read_text()
    new = json.dumps(synced(json.loads(text)), indent=2, ensure_ascii=False) + "\n"
    if args.check:
        if new != text:
            print("server.json is out of date: run python scripts/sync_server_json.py")
            return 1
        return 0
    path.write_text(new)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
