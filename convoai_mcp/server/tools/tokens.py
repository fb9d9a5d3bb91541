"""The token tool: RTC join tokens, computed locally."""

# No `from __future__ import annotations`: the SDK reads these signatures at registration time.

from typing import Annotated, Literal

from pydantic import Field

from convoai_mcp.server.args import Channel, Ctx, Uid
from convoai_mcp.server.registry import tool
from convoai_mcp.server.results import TokenResult
from convoai_mcp.server.tools._common import rt_of

__all__ = ["mint_token"]


@tool(
    order=140,
    title="Mint an RTC join token",
    read_only=True,
    idempotent=True,
    open_world=False,
    read_only_mode=False,  # it hands out credentials: not kept in read-only mode
)
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
        int, Field(ge=60, le=86400, description="How long the token is valid, in seconds.")
    ] = 3600,
) -> TokenResult:
    """Mint an RTC token that lets a user's app join a channel (e.g. to talk with an agent).

    Computed locally from the App Certificate: nothing is sent to the service and nothing is
    charged. Give the token, app_id, channel and uid to the app that joins.
    """
    from convoai_mcp.server import defaults

    rt = rt_of(ctx)
    uid = uid or rt.settings.user_uid
    token, expires_at = defaults.rtc_token(rt.settings, channel, uid, role, lifetime_seconds)
    return TokenResult(
        app_id=rt.settings.app_id,
        channel=channel,
        uid=uid,
        role=role,
        token=token,
        expires_at=expires_at,
    )
