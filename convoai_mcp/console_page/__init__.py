"""The live console's page: one self-contained HTML file (``console.html``: inline CSS and
JavaScript, nothing loaded from elsewhere), in a package of its own that imports nothing of the
project, so that both the MCP server (:mod:`convoai_mcp.server.console`: its JSON/SSE API, the
``/console`` route, the MCP App resource) and the emulator (:mod:`convoai_mcp.sandbox.console`:
``convoai-mcp sandbox --console``) serve the same page.

The page reads ``data-api`` on its ``<html>`` element: empty, it is an MCP App and talks to its
host over the Apps bridge; a path (e.g. ``/console/api``), it reads that JSON/SSE API:

* ``GET {api}/agents`` → ``{"agents": [record...], "campaigns": [campaign...]}``;
* ``GET {api}/agents/{id}`` → ``{"agent", "status", "call", "history", "turns", "timeline"}``;
* ``GET {api}/campaigns/{id}`` → what the ``get_campaign`` tool answers;
* ``GET {api}/events`` → Server-Sent Events, ``event: change`` on every change;
* ``POST {api}/agents/{id}/say|interrupt|end`` (``application/json``).
"""

from __future__ import annotations

import json
from functools import cache
from importlib import resources

__all__ = ["console_html"]


@cache
def _page() -> str:
    return resources.files(__package__).joinpath("console.html").read_text(encoding="utf-8")


def console_html(api: str | None = None) -> str:
    """The page. With ``api`` (the API's path, e.g. ``/console/api``) it reads that endpoint;
    without, it is the MCP App and talks to its host."""
    page = _page()
    if api is None:
        return page
    return page.replace('data-api=""', f"data-api={json.dumps(api)}", 1)
