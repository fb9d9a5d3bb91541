"""What an OAuth access token lets its caller do: the one place the scopes are checked.

With ``CONVOAI_OAUTH_ISSUER`` the HTTP transports accept JWT access tokens
(:mod:`convoai_mcp.server.transports.oauth`), and each tool needs one *role*, a scope the
token must carry (``CONVOAI_OAUTH_SCOPES`` renames them; the defaults are ``convoai:<role>``):

========  ====================================================================================
role      tools
========  ====================================================================================
read      the read-only tools (get_agent, list_agents, get_history, get_turns, get_call,
          list_calls, list_numbers, list_profiles, wait) and every resource
agents    start_agent, speak, think, interrupt, update_agent, stop_agent, mint_token
calls     call, hangup
admin     the phone-number administration tools (any tool of ``tools/numbers.py`` that is not
          read-only, or one registered with ``scope="admin"``)
========  ====================================================================================

``agents``, ``calls`` and ``admin`` each include ``read`` (who may stop an agent may see it);
none includes another. The HTTP layer refuses a token with none of the four (403
``insufficient_scope``), so every caller that reaches a resource may read.

``tools/list`` shows a caller with a token only the tools its roles allow (:func:`caller_roles`,
applied by the server, :mod:`.app`). The registry's one wrapper (:mod:`.registry`) calls
:func:`refusal` before a tool runs: a call
outside the token's scopes is refused before anything is sent, with an ``isError`` naming the
missing scope (and recorded in the audit trail as refused by rule ``oauth_scope``). Without an
access token (stdio, the static ``CONVOAI_HTTP_TOKEN``, the console's in-memory session, whose
HTTP API checks the scopes itself) nothing is checked here.

This module imports no JOSE library: the tokens were verified before a request got here.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from typing import TYPE_CHECKING, Any, Literal

from convoai_mcp.config import OAUTH_DEFAULT_SCOPE_PREFIX, OAUTH_SCOPE_ROLES

if TYPE_CHECKING:
    from mcp.server.auth.provider import AccessToken

__all__ = [
    "ROLE_SETTING",
    "RULE",
    "Role",
    "access_token",
    "caller_roles",
    "default_role",
    "refusal",
    "roles_of",
    "scope_names",
]

Role = Literal["read", "agents", "calls", "admin"]

RULE = "oauth_scope"
"""The audit trail's name of the rule that refused a call outside the token's scopes."""
ROLE_SETTING = "CONVOAI_OAUTH_SCOPES"

_ROLE_BY_MODULE: Mapping[str, Role] = {"calls": "calls", "numbers": "admin"}
"""Which role a tool that changes something needs, by the tool module it is defined in."""


def default_role(fn: Callable[..., Any], *, read_only: bool) -> Role:
    """The role a tool needs unless it is registered with its own: ``read`` for a read-only
    tool, else by its module (``calls`` for tools/calls.py, ``admin`` for tools/numbers.py,
    ``agents`` for the rest)."""
    if read_only:
        return "read"
    module = getattr(fn, "__module__", "").rsplit(".", 1)[-1]
    return _ROLE_BY_MODULE.get(module, "agents")


def scope_names(configured: Mapping[str, str] | None = None) -> dict[str, str]:
    """Each role's scope name: ``configured`` (``Settings.oauth_scopes``) over the defaults."""
    names = {role: OAUTH_DEFAULT_SCOPE_PREFIX + role for role in OAUTH_SCOPE_ROLES}
    names.update(configured or {})
    return names


def roles_of(scopes: Iterable[str], names: Mapping[str, str]) -> frozenset[str]:
    """The roles a token's ``scopes`` grant (``agents``, ``calls``, ``admin`` include ``read``)."""
    held = set(scopes)
    roles = {role for role, name in names.items() if name in held}
    if roles:
        roles.add("read")
    return frozenset(roles)


def access_token(ctx: Any) -> AccessToken | None:
    """The verified access token of the request ``ctx`` serves (None: none, or no request)."""
    try:
        request = ctx.request_context.request
    except Exception:  # called outside a request (a bare function in a test)
        request = None
    scope = getattr(request, "scope", None)
    user = scope.get("user") if isinstance(scope, Mapping) else None
    token = getattr(user, "access_token", None)
    if token is not None:
        return token  # type: ignore[no-any-return]
    try:
        from mcp.server.auth.middleware.auth_context import get_access_token
    except ImportError:  # pragma: no cover - part of the SDK
        return None
    return get_access_token()


def caller_roles(configured: Mapping[str, str] | None) -> frozenset[str] | None:
    """The roles of the access token of the request being served (None: no token, nothing to
    filter), for ``tools/list`` (which the SDK calls without a context)."""
    token = access_token(None)
    if token is None:
        return None
    return roles_of(token.scopes, scope_names(configured))


def refusal(tool: str, role: str, ctx: Any) -> str | None:
    """Why the caller of ``ctx`` may not call ``tool`` (which needs ``role``), or None."""
    token = access_token(ctx)
    if token is None:
        return None
    try:
        configured = ctx.request_context.lifespan_context.settings.oauth_scopes
    except Exception:
        configured = None
    names = scope_names(configured if isinstance(configured, Mapping) else None)
    if role in roles_of(token.scopes, names):
        return None
    needed = names.get(role, role)
    held = ", ".join(sorted(s for s in token.scopes if s in names.values())) or "none of ours"
    return (
        f"{tool} needs the OAuth scope {needed}, which this access token does not carry "
        f"(it has: {held}); nothing was sent. Ask the authorization server for a token with "
        f"the scope {needed}, or use a tool your token allows."
    )
