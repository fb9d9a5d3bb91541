"""The phone-number tools."""

# No `from __future__ import annotations`: the SDK reads these signatures at registration time.

from convoai_mcp.server.args import Ctx
from convoai_mcp.server.registry import tool
from convoai_mcp.server.results import NumberList, NumberResult
from convoai_mcp.server.tools._common import rt_of

__all__ = ["list_numbers"]


@tool(order=70, title="List phone numbers", read_only=True, idempotent=True)
async def list_numbers(ctx: Ctx) -> NumberList:
    """List the project's phone numbers and whether each can receive (inbound) and place
    (outbound) calls. Use it to choose a from_number for call. Read-only."""
    numbers = await rt_of(ctx).client.phone_numbers.list()
    return NumberList(
        numbers=[
            NumberResult(
                phone_number=n.phone_number,
                label=n.label,
                provider=n.provider,
                inbound=bool(n.inbound),
                outbound=bool(n.outbound),
                pipeline_id=n.associated_pipeline.pipeline_id if n.associated_pipeline else None,
            )
            for n in numbers
        ]
    )
