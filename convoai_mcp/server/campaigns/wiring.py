"""The campaign parts of the MCP server: the ``convoai://campaigns/{campaign_id}`` resource, its
update notifications (the scheduler publishes through the server's subscriptions), and the
start of the scheduler with the server (running campaigns resume)."""

# No `from __future__ import annotations`: the SDK reads the resource's signature.

import json
import logging
from typing import Any

from mcp.server.mcpserver import Context, MCPServer
from mcp.server.mcpserver.exceptions import ResourceError

from convoai_mcp.server.runtime import Runtime
from convoai_mcp.server.subscriptions import Subscriptions

__all__ = ["register", "start"]

logger = logging.getLogger(__name__)


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
    """At the server's start: resume the campaigns the archive holds, in the background.

    Nothing heavy happens on the way to the first answer: the guard and the client (and, on
    SQLite, anything at all beyond one read) are only made when a campaign is running or paused
    or has a call in progress; a tool call makes them otherwise."""
    from convoai_mcp.server.campaigns import _SCHEDULERS, ensure_started

    if runtime in _SCHEDULERS:
        ensure_started(runtime)
        return
    runtime.spawn(_resume(runtime), "convoai-campaigns-resume")


async def _resume(runtime: Runtime) -> None:
    from convoai_mcp.server.campaigns import ensure_started

    try:
        if await _active(runtime):
            ensure_started(runtime)
    except Exception as exc:  # a broken archive or configuration: the tools say so
        logger.warning("campaigns not resumed: %s: %s", type(exc).__name__, exc)


async def _active(runtime: Runtime) -> bool:
    """Whether the archive holds a campaign to resume (PostgreSQL: assumed, it is shared)."""
    settings = runtime.settings
    if not settings.archive:
        return False
    if settings.database_url is not None:
        return True
    import anyio.to_thread

    from convoai_mcp.archive.sqlite import SQLiteArchive, default_archive_path

    path = settings.archive_path or default_archive_path()
    archive = SQLiteArchive(path, read_only=True)
    if not archive.path.is_file():
        return False
    try:
        return await anyio.to_thread.run_sync(archive.has_active_campaigns_sync)
    finally:
        archive.close()
