"""Resource templates: an agent's status, history (transcript) and turns, and a call's record.

All are JSON. History and turns go through the guard, which answers from the service while the
agent runs and from the local archive afterwards; the ``source`` field says which one answered.
"""

# No `from __future__ import annotations`: the SDK reads these signatures at registration time.

import json
from collections.abc import Awaitable, Callable
from typing import Any, TypeVar

from mcp.server.mcpserver import Context, MCPServer

from convoai_mcp.errors import ConvoAIError
from convoai_mcp.server.failures import resource_error
from convoai_mcp.server.runtime import Runtime

__all__ = ["register"]

Ctx = Context[Runtime, Any]
T = TypeVar("T")
_JSON = "application/json"


def _rt(ctx: Ctx) -> Runtime:
    return ctx.request_context.lifespan_context


async def _fetch(uri: str, request: Callable[[], Awaitable[T]]) -> T:
    """Run ``request``; a ConvoAI failure becomes the SDK's error for reading ``uri``."""
    try:
        return await request()
    except ConvoAIError as exc:
        raise resource_error(uri, exc) from None


def _wire(model: Any) -> dict[str, Any]:
    from convoai_mcp.models import WireModel  # not at start-up

    if isinstance(model, WireModel):  # the service's nulls kept, as the official SDK keeps them
        return model.as_received()
    data: dict[str, Any] = model.model_dump(mode="json", exclude_none=True)
    return data


def _sourced(model: Any, agent_id: str, source: str) -> dict[str, Any]:
    """A history or turns answer as JSON, with its agent_id and which source answered."""
    data = _wire(model)
    data.setdefault("agent_id", agent_id)
    data["source"] = source
    return data


def _dump(rt: Runtime, value: dict[str, Any]) -> str:
    return json.dumps(rt.guard.redact(value), indent=2, ensure_ascii=False, default=str)


async def agent_status(agent_id: str, ctx: Ctx) -> str:
    """Status of one agent: state, start / stop time, and what this server knows about it."""
    rt = _rt(ctx)
    info = await _fetch(f"convoai://agents/{agent_id}", lambda: rt.client.agents.get(agent_id))
    data = _wire(info)
    known = rt.agents.get(agent_id)
    if known is not None:
        data["started_here"] = {
            "kind": known.kind,
            "name": known.name,
            "channel": known.channel,
            "agent_uid": known.agent_uid,
            "user_uid": known.user_uid,
            **({"to_number": known.to_number} if known.to_number else {}),
        }
    return _dump(rt, data)


async def agent_history(agent_id: str, ctx: Ctx) -> str:
    """The agent's conversation: user and assistant messages in order (archived once it ends),
    as untrusted data: the first page (CONVOAI_TRANSCRIPT_MAX_CHARS), the rest via get_history."""
    from convoai_mcp.server.untrusted import transcript_page

    rt = _rt(ctx)
    uri = f"convoai://agents/{agent_id}/history"
    history, source = await _fetch(uri, lambda: rt.guard.history(agent_id))
    page = transcript_page(history.contents, max_chars=rt.settings.transcript_max_chars)
    data = _sourced(history, agent_id, source)
    data.pop("contents", None)  # the spoken text is only in the page's untrusted entries
    data = {**page.model_dump(mode="json"), **data, "count": len(history.contents)}
    if page.next_cursor is not None:
        data["rest"] = (
            f"call get_history with agent_id={agent_id!r}, cursor={page.next_cursor!r} for more"
        )
    return _dump(rt, data)


async def agent_turns(agent_id: str, ctx: Ctx) -> str:
    """Every turn of the conversation (all pages) with end-to-end and per-stage latency; its
    strings cleaned of control characters and bounded (a turn's metadata may quote a caller)."""
    from convoai_mcp.server.untrusted import UNTRUSTED_NOTICE, scrub

    rt = _rt(ctx)
    uri = f"convoai://agents/{agent_id}/turns"
    turns, source = await _fetch(uri, lambda: rt.guard.turns(agent_id))
    data = _sourced(turns, agent_id, source)
    data.pop("pagination", None)  # every page is in turns already
    data = {"untrusted": True, "notice": UNTRUSTED_NOTICE, **scrub(data, max_chars=500)}
    return _dump(rt, data)


async def call_record(agent_id: str, ctx: Ctx) -> str:
    """The record of one call: numbers, state and why it ended."""
    rt = _rt(ctx)
    info = await _fetch(f"convoai://calls/{agent_id}", lambda: rt.client.calls.get(agent_id))
    return _dump(rt, _wire(info))


async def audit_older(cursor: str, ctx: Ctx) -> str:
    """An older page of the audit trail (``cursor``: a next_cursor of the previous page)."""
    return await _audit_page(_rt(ctx), cursor)


async def _audit_page(rt: Runtime, cursor: str | None) -> str:
    from mcp.server.mcpserver.exceptions import ResourceError

    from convoai_mcp.server import audit

    try:
        page = await audit.read_page(rt.guard.archive, cursor=cursor)
    except ValueError as exc:
        raise ResourceError(f"cannot read convoai://audit/{cursor}: {exc}") from None
    if page["next_cursor"] is not None:
        page["next"] = f"convoai://audit/{page['next_cursor']}"
    return _dump(rt, page)


def register(server: MCPServer[Runtime]) -> None:
    """Add the resource templates to ``server``."""
    runtime: Runtime = getattr(server, "runtime")  # noqa: B009 - a ConvoAIServer's own runtime

    async def audit_latest() -> str:
        """The latest entries of the audit trail, newest first (50; 'next' for older ones)."""
        return await _audit_page(runtime, None)

    server.resource(
        "convoai://audit",
        name="audit",
        title="Audit trail",
        description="The latest side-effecting tool calls, newest first: tool, arguments "
        "(secrets masked), decision (allowed, approved and how, refused and by which rule), "
        "outcome, MCP client. 'next' names the page of older entries.",
        mime_type=_JSON,
    )(audit_latest)
    server.resource(
        "convoai://audit/{cursor}",
        name="audit_page",
        title="Audit trail (older entries)",
        description="An older page of the audit trail (the 'next' of the previous page).",
        mime_type=_JSON,
    )(audit_older)
    server.resource(
        "convoai://agents/{agent_id}",
        name="agent",
        title="Agent status",
        description="State of a voice agent (STARTING, RUNNING, STOPPED, ...) and its timing.",
        mime_type=_JSON,
    )(agent_status)
    server.resource(
        "convoai://agents/{agent_id}/history",
        name="agent_history",
        title="Agent transcript",
        description="The conversation so far (user and assistant messages). Served from the "
        "service while the agent runs and from the local archive after it ends; 'source' says "
        "which. Subscribe to be notified of new messages.",
        mime_type=_JSON,
    )(agent_history)
    server.resource(
        "convoai://agents/{agent_id}/turns",
        name="agent_turns",
        title="Agent turns and latency",
        description="Every turn (all pages) with how it started and ended, end-to-end latency "
        "and per-stage (ASR, LLM, TTS) latency. Available for 7 days after the agent ends.",
        mime_type=_JSON,
    )(agent_turns)
    server.resource(
        "convoai://calls/{agent_id}",
        name="call",
        title="Call record",
        description="A phone call: from / to numbers, state (answered, hangup) and end reason.",
        mime_type=_JSON,
    )(call_record)
