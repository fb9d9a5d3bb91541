"""convoai-mcp: an MCP server and async client for Agora Conversational AI voice agents.

The package is layered: ``cli`` → ``server`` → ``client`` → ``regions`` / ``tokens`` /
``models`` / ``errors`` / ``config``; ``sandbox`` is a local emulator of the service that
depends only on ``tokens``. Public names are re-exported here lazily, so that importing the
package (as every start of the MCP server does) costs almost nothing.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

__version__ = "0.1.0"

# name -> module that defines it; resolved on first attribute access (PEP 562).
_EXPORTS: dict[str, str] = {
    "ConvoAIClient": "convoai_mcp.client",
    "BasicAuth": "convoai_mcp.client",
    "TokenAuth": "convoai_mcp.client",
    "AppCredentialsAuth": "convoai_mcp.client",
    "AgentSpec": "convoai_mcp.builders",
    "Area": "convoai_mcp.regions",
    "ConvoAIError": "convoai_mcp.errors",
    "mint_convoai_token": "convoai_mcp.tokens",
    "mint_rtc_token": "convoai_mcp.tokens",
    "parse_token": "convoai_mcp.tokens",
    "verify_token": "convoai_mcp.tokens",
    "TokenError": "convoai_mcp.tokens",
}

__all__ = [
    "AgentSpec",
    "AppCredentialsAuth",
    "Area",
    "BasicAuth",
    "ConvoAIClient",
    "ConvoAIError",
    "TokenAuth",
    "TokenError",
    "__version__",
    "mint_convoai_token",
    "mint_rtc_token",
    "parse_token",
    "verify_token",
]

if TYPE_CHECKING:
    from convoai_mcp.builders import AgentSpec
    from convoai_mcp.client import AppCredentialsAuth, BasicAuth, ConvoAIClient, TokenAuth
    from convoai_mcp.errors import ConvoAIError
    from convoai_mcp.regions import Area
    from convoai_mcp.tokens import (
        TokenError,
        mint_convoai_token,
        mint_rtc_token,
        parse_token,
        verify_token,
    )


def __getattr__(name: str) -> Any:
    module = _EXPORTS.get(name)
    if module is None:
        raise AttributeError(f"module 'convoai_mcp' has no attribute {name!r}")
    value = getattr(importlib.import_module(module), name)
    globals()[name] = value
    return value
