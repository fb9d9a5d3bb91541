"""The package's public names (``convoai_mcp.__all__``), pinned as httpx's
tests/test_exported_members.py pins its own: adding or dropping one is a deliberate change."""

from __future__ import annotations

import importlib
import subprocess
import sys

import convoai_mcp
from convoai_mcp import errors

PUBLIC = [
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


def test_public_names_are_pinned() -> None:
    assert convoai_mcp.__all__ == PUBLIC


def test_every_public_name_resolves_and_is_listed_by_dir() -> None:
    for name in convoai_mcp.__all__:
        assert getattr(convoai_mcp, name) is not None, name
    assert set(convoai_mcp.__all__) <= set(dir(convoai_mcp))


def test_the_whole_error_tree_is_exported() -> None:
    """Every exception class of errors.py is a public name of the package."""
    classes = {
        name
        for name in errors.__all__
        if isinstance(getattr(errors, name), type) and issubclass(getattr(errors, name), Exception)
    }
    assert classes <= set(convoai_mcp.__all__)
    for name in classes:
        assert issubclass(getattr(convoai_mcp, name), convoai_mcp.ConvoAIError), name


def test_exports_come_from_their_home_modules() -> None:
    assert convoai_mcp.TokenError is importlib.import_module("convoai_mcp.tokens").TokenError
    assert convoai_mcp.MalformedResponseError is (
        importlib.import_module("convoai_mcp.client").MalformedResponseError
    )
    assert issubclass(convoai_mcp.TokenError, ValueError)  # as before it joined the tree


def test_importing_the_package_imports_no_submodule() -> None:
    """The exports are lazy: a bare ``import convoai_mcp`` loads none of its modules but the
    version's."""
    code = (
        "import sys, convoai_mcp; "
        "print(sorted(m for m in sys.modules if m.startswith('convoai_mcp.')))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "['convoai_mcp._version']"
