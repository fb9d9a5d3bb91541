"""Resource templates: an agent's status, history (transcript) and turns, and a call's record.

All are JSON. History and turns go through the guard, which answers from the service while the
agent runs and from the local archive afterwards; the ``source`` field says which one answered.
"""

# No `from __future__ import annotations`: the SDK reads these signatures at registration time.

import json
from typing import Any

from mcp.server.mcpserver import Context, MCPServer

from convoai_mcp.errors import ConvoAIError
from convoai_mcp.server.failures import resource_error
from convoai_mcp.server.runtime import Runtime

__all__ = ["register"]

Ctx = Context[Runtime, Any]
_JSON = "application/json"


def _rt(ctx: Ctx) -> Runtime:
    return ctx.request_context.lifespan_context


def _dump(rt: Runtime, value: dict[str, Any]) -> str:
    return json.dumps(rt.guard.redact(value), indent=2, ensure_ascii=False, default=str)


def _wire(model: Any) -> dict[str, Any]:
    data: dict[str, Any] = model.model_dump(mode="json", exclude_none=True)
    return data


async def agent_status(agent_id: str, ctx: Ctx) -> str:
    """Status of one agent: state, start / stop time, and what this server knows about it."""
    rt = _rt(ctx)
    uri = f"convoai://agents/{agent_id}"
    try:
        info = await rt.client.agents.get(agent_id)
    except ConvoAIError as exc:
        raise resource_error(uri, exc) from None
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
    """The agent's conversation: user and assistant messages in order (archived once it ends)."""
    rt = _rt(ctx)
    try:
        history, source = await rt.guard.history(agent_id)
    except ConvoAIError as exc:
        raise resource_error(f"convoai://agents/{agent_id}/history", exc) from None
    data = _wire(history)
    data.setdefault("agent_id", agent_id)
    data["source"] = source
    data["count"] = len(history.contents)
    return _dump(rt, data)


async def agent_turns(agent_id: str, ctx: Ctx) -> str:
    """Every turn of the conversation (all pages) with end-to-end and per-stage latency."""
    rt = _rt(ctx)
    try:
        turns, source = await rt.guard.turns(agent_id)
    except ConvoAIError as exc:
        raise resource_error(f"convoai://agents/{agent_id}/turns", exc) from None
    data = _wire(turns)
    data.pop("pagination", None)
    data.setdefault("agent_id", agent_id)
    data["source"] = source
    return _dump(rt, data)


async def call_record(agent_id: str, ctx: Ctx) -> str:
    """The record of one call: numbers, state and why it ended."""
    rt = _rt(ctx)
    try:
        info = await rt.client.calls.get(agent_id)
    except ConvoAIError as exc:
        raise resource_error(f"convoai://calls/{agent_id}", exc) from None
    return _dump(rt, _wire(info))


def register(server: MCPServer[Runtime]) -> None:
    """Add the resource templates to ``server``."""
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
