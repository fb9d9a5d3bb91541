"""The audit trail: who did what, recorded append-only in the archive.

Every call of a tool that is not read-only (start_agent, speak, think, interrupt, update_agent,
stop_agent, call, hangup, mint_token, ... ; the registry's one wrapper, :mod:`.registry`, calls
:func:`record`) appends one entry to the archive's audit table:

``at`` / ``time``
    When the call ended (Unix seconds / ISO 8601 UTC).
``tool``, ``arguments``
    The tool and its arguments, with secrets masked by the same redactor as the logs.
``decision``
    ``allowed`` (no rule stood in the way), ``approved`` (a human approved it; ``channel`` says
    through what: ``form`` elicitation, ``url`` page, ``pre_approval``, ``argument``: the
    operator let the ``confirm`` argument count), ``refused`` (``rule`` and ``setting`` say
    which: the calling rules' :class:`~convoai_mcp.calling_rules.CallingRuleError` names them,
    the policy's refusals are named from :data:`POLICY_RULES`), ``pending`` (the server asked
    for the user's answer and returned; the repeated call is its own entry) or ``invalid``
    (refused for its arguments before any rule was asked).
``outcome``, ``agent_id``, ``error``
    ``ok``, ``error`` (with its redacted text), ``input_required``, ``cancelled`` or ``crash``;
    the agent (or call) the tool acted on or created.
``client``, ``http_user``, ``subject``, ``client_id``
    The MCP client's name and version from its ``initialize`` (or the request envelope), and
    who the HTTP transport authenticated, where known: ``bearer`` for the one configured token;
    with OAuth (:mod:`.scopes`) the access token's subject (``sub``, else its client) as
    ``http_user``, and its ``sub`` and OAuth client id on their own (never the token).
``placed_number``
    For a call that was placed: the number dialled (what the per-number daily cap counts).

The guard notes the decision while it admits a request (:func:`note`); this module keeps it in
a context variable that the wrapper sets per call. Writing never breaks a tool: a failed write
is logged (without the entry) and the tool's answer stands.

``convoai://audit`` (:func:`read_page`) and ``convoai-mcp audit`` read it; retention follows
the archive's (``CONVOAI_ARCHIVE_RETENTION_DAYS``).
"""

from __future__ import annotations

import logging
import re
import time
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any, Literal

if TYPE_CHECKING:
    from convoai_mcp.archive import Archive
    from convoai_mcp.redact import Redactor

__all__ = [
    "POLICY_RULES",
    "Channel",
    "Decision",
    "entry",
    "format_entry",
    "note",
    "read_page",
    "record",
    "refusal_rule",
    "tracking",
]

logger = logging.getLogger(__name__)

Channel = Literal["form", "url", "pre_approval", "argument"]

POLICY_RULES: tuple[tuple[str, str, str | None], ...] = (
    # (a phrase of the refusal, the rule, the setting that changes it); first match wins
    ("read-only mode", "read_only", "CONVOAI_READ_ONLY"),
    ("tool lists", "tool_lists", "CONVOAI_TOOLS_ALLOW / CONVOAI_TOOLS_DENY"),
    ("not confirmed", "confirmation", "CONVOAI_CONFIRM"),
    ("confirm", "confirmation", "CONVOAI_CONFIRM"),
    ("approv", "approval", "CONVOAI_CONFIRM"),
    ("not a valid", "number_validity", None),
    ("not an e.164", "number_format", None),
    ("no call allow-list", "allow_list", "CONVOAI_CALL_ALLOWLIST"),
    ("allow-list", "allow_list", "CONVOAI_CALL_ALLOWLIST"),
    ("outbound-enabled", "outbound_number", None),
    ("concurrent agents", "max_agents", "CONVOAI_MAX_AGENTS"),
    ("concurrent calls", "max_calls", "CONVOAI_MAX_CALLS"),
    ("rate limit", "rate", "CONVOAI_RATE_PER_MINUTE"),
    ("llm", "llm_choice", "CONVOAI_LLM_URLS_ALLOWED / CONVOAI_LLM_MODELS_ALLOWED"),
)
"""How a policy refusal (a :class:`~convoai_mcp.policy.PolicyError` without its own ``rule``)
is named in the trail: by the phrases its message is written with."""

_ADMITTED = frozenset({"start_agent", "call"})
"""The tools whose requests pass the guard's admission (which notes its decision)."""
_SETTING = re.compile(r"\bCONVOAI_[A-Z_]+\b")


@dataclass
class Decision:
    """What admission decided about one tool call (filled in by :func:`note`)."""

    decision: str | None = None
    rule: str | None = None
    setting: str | None = None
    channel: str | None = None


_CURRENT: ContextVar[Decision | None] = ContextVar("convoai_audit_decision", default=None)


@contextmanager
def tracking() -> Iterator[Decision]:
    """A fresh :class:`Decision` for the tool call running in this context."""
    decision = Decision()
    token = _CURRENT.set(decision)
    try:
        yield decision
    finally:
        _CURRENT.reset(token)


def note(
    decision: str,
    *,
    channel: Channel | None = None,
    rule: str | None = None,
    unless_noted: bool = False,
) -> None:
    """Say what admission decided for the current tool call (nothing outside one). With
    ``unless_noted`` a decision noted earlier in the call (e.g. by an approval channel) stays."""
    current = _CURRENT.get()
    if current is not None and not (unless_noted and current.decision is not None):
        current.decision, current.channel = decision, channel
        current.rule = rule or current.rule


def refusal_rule(exc: BaseException) -> tuple[str, str | None]:
    """The rule and setting that refused (``exc``: a PolicyError or CallingRuleError)."""
    rule = getattr(exc, "rule", None)
    setting = getattr(exc, "setting", None)
    if isinstance(rule, str):
        return rule, setting if isinstance(setting, str) else None
    text = str(exc).lower()
    for phrase, name, named in POLICY_RULES:
        if phrase in text:
            return name, named
    found = _SETTING.search(str(exc))
    return "policy", found.group(0) if found else None


def _identity(ctx: Any) -> tuple[str | None, str | None]:
    """The OAuth access token's subject and client id, where the request carried one."""
    from convoai_mcp.server.scopes import access_token

    token = access_token(ctx)
    if token is None:
        return None, None
    return token.subject, token.client_id or None


def _client(ctx: Any) -> tuple[str | None, str | None]:
    """The MCP client's ``name/version`` and the HTTP user, where known."""
    client = user = None
    try:
        params = ctx.request_context.session.client_params
        info = params.client_info if params is not None else None
        if info is not None:
            client = f"{info.name}/{info.version}" if info.version else info.name
    except Exception:  # no request context (a bare function call in a test)
        client = None
    try:
        request = ctx.request_context.request
    except Exception:
        request = None
    if request is not None:
        scope = getattr(request, "scope", None) or {}
        who = scope.get("user") if isinstance(scope, Mapping) else None
        name = getattr(who, "display_name", None) or getattr(who, "username", None)
        if isinstance(name, str) and name:
            user = name
        else:
            headers = getattr(request, "headers", None) or {}
            auth = headers.get("authorization", "") if isinstance(headers, Mapping) else ""
            user = "bearer" if auth.lower().startswith("bearer ") else None
    return client, user


def entry(
    *,
    tool: str,
    arguments: Mapping[str, Any],
    decision: Decision,
    outcome: str,
    agent_id: str | None,
    error: str | None,
    ctx: Any,
    redactor: Redactor | None,
    placed_number: str | None = None,
    at: float | None = None,
) -> dict[str, Any]:
    """One audit entry (see the module docstring), secrets masked."""
    when = time.time() if at is None else at
    args = {k: v for k, v in arguments.items() if k != "ctx" and v is not None}
    if redactor is not None:
        args = redactor.value(args)
        error = redactor.text(error) if error else error
    client, user = _client(ctx)
    subject, client_id = _identity(ctx)
    if subject or client_id:
        user = subject or client_id
    if outcome == "input_required":
        chosen = "pending"
    elif decision.decision is not None:
        chosen = decision.decision
    elif error is not None and tool in _ADMITTED:
        chosen = "invalid"  # failed before its admission was reached
    else:
        chosen = "allowed"
    return {
        "at": when,
        "time": datetime.fromtimestamp(when, UTC).isoformat(timespec="seconds"),
        "tool": tool,
        "arguments": args,
        "decision": chosen,
        "rule": decision.rule,
        "setting": decision.setting,
        "channel": decision.channel,
        "outcome": outcome,
        "agent_id": agent_id,
        "error": error,
        "client": client,
        "http_user": user,
        "subject": subject,
        "client_id": client_id,
        "placed_number": placed_number,
    }


async def record(archive: Archive | None, item: Mapping[str, Any]) -> None:
    """Append ``item`` to the archive's audit trail; a failure is logged, never raised."""
    if archive is None:
        return
    try:
        await archive.append_audit(item)
    except Exception as exc:  # the audit must never break a tool
        logger.warning("could not write the audit entry of %s: %s", item.get("tool"), exc)


async def read_page(
    archive: Archive | None, *, limit: int = 50, cursor: str | None = None
) -> dict[str, Any]:
    """The latest audit entries (newest first) as the ``convoai://audit`` resource shows them."""
    if archive is None:
        return {
            "entries": [],
            "next_cursor": None,
            "note": "the archive is off (CONVOAI_ARCHIVE=off): nothing is recorded",
        }
    entries, next_cursor = await archive.list_audit(limit=limit, cursor=cursor)
    return {"entries": entries, "next_cursor": next_cursor}


def format_entry(item: Mapping[str, Any]) -> str:
    """One line of ``convoai-mcp audit``: time, tool, decision (rule / channel), outcome."""
    decision = str(item.get("decision") or "?")
    if item.get("rule"):
        decision += f" by {item['rule']}" + (f" ({item['setting']})" if item.get("setting") else "")
    if item.get("channel"):
        decision += f" via {item['channel']}"
    outcome = str(item.get("outcome") or "?")
    if item.get("agent_id"):
        outcome += f" {item['agent_id']}"
    if item.get("error"):
        outcome += f": {item['error']}"
    who = item.get("client") or "-"
    if item.get("http_user"):
        who += f" [{item['http_user']}]"
    return f"{item.get('time', '?')}  {item.get('tool', '?'):<13} {decision:<28} {outcome}  ({who})"
