"""``python -m convoai_mcp.sandbox``: same as ``convoai-mcp sandbox``."""

from __future__ import annotations

import sys

from .cli import main

__all__: list[str] = []

if __name__ == "__main__":
    sys.exit(main(prog="python -m convoai_mcp.sandbox"))
