"""The campaign parts of the MCP server: the ``convoai://campaigns/{campaign_id}`` resource, its
update notifications (the scheduler publishes through the server's subscriptions), and the
start of the scheduler with the server (running campaigns resume)."""

# No `from __future__ import annotations`: the SDK reads the resource's signature.

import json
from typing import Any

from mcp.server.mcpserver import Context, MCPServer
from mcp.server.mcpserver.exceptions import ResourceError

from convoai_mcp.server.runtime import Runtime
from convoai_mcp.server.subscriptions import Subscriptions

__all__ = ["register", "start"]


async def campaign(campaign_id: str, ctx: Context[Runtime, Any]) -> str:
    """A campaign as get_campaign shows it (every destination, the summary)."""
    from mcp.server.mcpserver.exceptions import ToolError

    from convoai_mcp.server.campaigns import service

    rt: Runtime = ctx.request_context.lifespan_context
    try:
        result = await service.get(rt, campaign_id)
    except ToolError as exc:
        raise ResourceError(f"cannot read convoai://campaigns/{campaign_id}: {exc}") from None
    data = rt.guard.redact(result.model_dump(mode="json"))
    return json.dumps(data, indent=2, ensure_ascii=False)


def register(server: MCPServer[Runtime], runtime: Runtime, subscriptions: Subscriptions) -> None:
    """Add the campaign resource and route the scheduler's updates to subscribers."""
    server.resource(
        "convoai://campaigns/{campaign_id}",
        name="campaign",
        title="Campaign",
        description="A calling campaign: status, every destination (state, attempts, agent_id, "
        "duration, latency) and the summary. Subscribe to be notified as calls progress.",
        mime_type="application/json",
    )(campaign)
    from convoai_mcp.server.campaigns import set_publisher

    set_publisher(runtime, subscriptions.publish)


def start(runtime: Runtime) -> None:
    """Start the runtime's campaign scheduler (at the server's start: campaigns resume)."""
    from convoai_mcp.server.campaigns import ensure_started

    ensure_started(runtime)
