"""``python -m convoai_mcp``: the same as the ``convoai-mcp`` command."""

from __future__ import annotations

import sys

from convoai_mcp.cli import main

__all__: list[str] = []

if __name__ == "__main__":
    sys.exit(main())
