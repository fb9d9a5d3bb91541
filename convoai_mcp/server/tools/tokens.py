"""The token tool: RTC join tokens, computed locally."""

# No `from __future__ import annotations`: the SDK reads these signatures at registration time.

from typing import Annotated, Literal

from mcp.server.mcpserver.exceptions import ToolError
from pydantic import Field

from convoai_mcp.server.args import Channel, Ctx, Uid
from convoai_mcp.server.registry import tool
from convoai_mcp.server.results import TokenResult
from convoai_mcp.server.tools._common import rt_of

__all__ = ["mint_token"]


@tool(order=140, title="Mint an RTC join token", read_only=False, open_world=True)
async def mint_token(
    ctx: Ctx,
    channel: Channel,
    uid: Annotated[
        Uid | None,
        Field(description="RTC uid the token is for (default: the configured user uid)."),
    ] = None,
    role: Annotated[
        Literal["publisher", "subscriber"],
        Field(description="publisher may send audio/video; subscriber only receives."),
    ] = "publisher",
    lifetime_seconds: Annotated[
        int,
        Field(
            ge=60,
            le=86400,
            description="How long the token is valid, in seconds (at most the operator's cap, "
            "3600 unless configured).",
        ),
    ] = 3600,
) -> TokenResult:
    """Mint an RTC token that lets a user's app join a channel (e.g. to talk with an agent).

    Computed locally from the App Certificate (nothing is sent or charged), but it is a
    credential: whoever holds it can join the channel as that uid until it expires. Give the
    token, app_id, channel and uid only to the user's app that joins. Refused for the uids this
    server's agents use and for the channels of its phone calls.
    """
    from convoai_mcp.server import defaults

    rt = rt_of(ctx)
    settings = rt.settings
    uid = uid or settings.user_uid
    live = [a for a in rt.agents.values() if not a.ended]
    if uid == settings.agent_uid or any(uid == a.agent_uid for a in live):
        raise ToolError(
            f"mint_token failed: uid {uid} is the uid of this server's voice agents; a token "
            "for it would let an app impersonate the agent. Next: mint for the human "
            f"participant's uid (default {settings.user_uid}) or another uid."
        )
    if any(a.kind == "call" and a.channel == channel for a in live):
        raise ToolError(
            "mint_token failed: that channel carries a live phone call; a token for it would "
            "let an app listen in or speak to the callee. Next: mint for another channel."
        )
    if lifetime_seconds > settings.token_max_lifetime:
        raise ToolError(
            f"mint_token failed: lifetime_seconds is at most {settings.token_max_lifetime} on "
            f"this server. Next: pass {settings.token_max_lifetime} or less (the operator sets "
            "the cap with CONVOAI_TOKEN_MAX_LIFETIME)."
        )
    token, expires_at = defaults.rtc_token(rt.settings, channel, uid, role, lifetime_seconds)
    return TokenResult(
        app_id=rt.settings.app_id,
        channel=channel,
        uid=uid,
        role=role,
        token=token,
        expires_at=expires_at,
    )
