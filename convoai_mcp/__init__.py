"""convoai-mcp: an MCP server and async client for Agora Conversational AI voice agents.

The package is layered: ``cli`` → ``server`` → ``client`` → ``regions`` / ``tokens`` /
``models`` / ``errors`` / ``config`` → ``_secrets``; ``sandbox`` is a local emulator of the
service that depends only on ``tokens`` (and so on ``errors``). Public names -- the client, its
auth, ``AgentSpec``, ``Area``, ``RetryPolicy``, the token functions and the whole error tree --
are re-exported here lazily, so that importing the package (as every start of the MCP server
does) costs almost nothing. ``tests/test_exported_members.py`` pins the list.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

from convoai_mcp._version import __version__

# name -> module that defines it; resolved on first attribute access (PEP 562).
_EXPORTS: dict[str, str] = {
    "ConvoAIClient": "convoai_mcp.client",
    "BasicAuth": "convoai_mcp.client",
    "TokenAuth": "convoai_mcp.client",
    "AppCredentialsAuth": "convoai_mcp.client",
    "AgentSpec": "convoai_mcp.builders",
    "Area": "convoai_mcp.regions",
    "RetryPolicy": "convoai_mcp._retry",
    "mint_convoai_token": "convoai_mcp.tokens",
    "mint_rtc_token": "convoai_mcp.tokens",
    "parse_token": "convoai_mcp.tokens",
    "verify_token": "convoai_mcp.tokens",
    "APIStatusError": "convoai_mcp.errors",
    "AuthenticationError": "convoai_mcp.errors",
    "BadRequestError": "convoai_mcp.errors",
    "ConfigError": "convoai_mcp.errors",
    "ConflictError": "convoai_mcp.errors",
    "ConvoAIError": "convoai_mcp.errors",
    "MalformedResponseError": "convoai_mcp.errors",
    "NotFoundError": "convoai_mcp.errors",
    "PermissionDeniedError": "convoai_mcp.errors",
    "RateLimitedError": "convoai_mcp.errors",
    "ServiceUnavailableError": "convoai_mcp.errors",
    "TokenError": "convoai_mcp.errors",
    "TransportError": "convoai_mcp.errors",
    "ValidationError": "convoai_mcp.errors",
}

__all__ = [
    "APIStatusError",
    "AgentSpec",
    "AppCredentialsAuth",
    "Area",
    "AuthenticationError",
    "BadRequestError",
    "BasicAuth",
    "ConfigError",
    "ConflictError",
    "ConvoAIClient",
    "ConvoAIError",
    "MalformedResponseError",
    "NotFoundError",
    "PermissionDeniedError",
    "RateLimitedError",
    "RetryPolicy",
    "ServiceUnavailableError",
    "TokenAuth",
    "TokenError",
    "TransportError",
    "ValidationError",
    "__version__",
    "mint_convoai_token",
    "mint_rtc_token",
    "parse_token",
    "verify_token",
]

if TYPE_CHECKING:
    from convoai_mcp._retry import RetryPolicy
    from convoai_mcp.builders import AgentSpec
    from convoai_mcp.client import AppCredentialsAuth, BasicAuth, ConvoAIClient, TokenAuth
    from convoai_mcp.errors import (
        APIStatusError,
        AuthenticationError,
        BadRequestError,
        ConfigError,
        ConflictError,
        ConvoAIError,
        MalformedResponseError,
        NotFoundError,
        PermissionDeniedError,
        RateLimitedError,
        ServiceUnavailableError,
        TokenError,
        TransportError,
        ValidationError,
    )
    from convoai_mcp.regions import Area
    from convoai_mcp.tokens import mint_convoai_token, mint_rtc_token, parse_token, verify_token


def __getattr__(name: str) -> Any:
    module = _EXPORTS.get(name)
    if module is None:
        raise AttributeError(f"module 'convoai_mcp' has no attribute {name!r}")
    value = getattr(importlib.import_module(module), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(__all__))
