"""The agent-profile tool: which configured agents a model can start or call with."""

# No `from __future__ import annotations`: the SDK reads these signatures at registration time.

from convoai_mcp.server.args import Ctx
from convoai_mcp.server.registry import tool
from convoai_mcp.server.results import ProfileList
from convoai_mcp.server.tools._common import rt_of

__all__ = ["list_profiles"]


@tool(order=115, title="List agent profiles", read_only=True, idempotent=True, open_world=False)
async def list_profiles(ctx: Ctx) -> ProfileList:
    """List the agent profiles the operator configured: complete voice agents (vendors, voice,
    language, the agent's own tools) that start_agent and call take by name as profile.
    Read-only; shows no keys."""
    from convoai_mcp.server.profiled import listing

    return ProfileList.model_validate(listing(rt_of(ctx).settings))
