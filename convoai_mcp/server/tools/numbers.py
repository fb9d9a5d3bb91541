"""The phone-number tools: ``list_numbers`` for everyone, and the ``admin`` tool set.

The admin tools (``add_number``, ``get_number``, ``update_number``, ``delete_number``; the one
list of them is ``policy.ADMIN_TOOLS``) administer the account's numbers. They are not exposed
unless the operator turns them on (``CONVOAI_TOOLS_ALLOW=default,admin``), and the two that
change or remove a number (``policy.ADMIN_CONFIRMED``) go ahead only on a human's approval,
through the same gate as ``call``; the number is read first, so that the human approves what
really changes, and a number that is not there is refused before anyone is asked.
"""

# No `from __future__ import annotations`: the SDK reads these signatures at registration time.

from typing import TYPE_CHECKING, Annotated

from mcp.server.mcpserver.exceptions import ToolError
from mcp_types import InputRequiredResult
from pydantic import Field

from convoai_mcp.server.args import (
    E164,
    Confirm,
    Ctx,
    NumberLabel,
    NumberPipeline,
    NumberProvider,
    SipAddress,
    SipAllowedAddresses,
    SipTransport,
)
from convoai_mcp.server.registry import tool
from convoai_mcp.server.results import NumberDeleted, NumberDetail, NumberList, NumberResult
from convoai_mcp.server.tools._common import rt_of

if TYPE_CHECKING:
    from convoai_mcp.models import PhoneNumber

__all__ = ["add_number", "delete_number", "get_number", "list_numbers", "update_number"]


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


def _pipeline(config: object) -> str | None:
    pid = config.get("pipeline_id") if isinstance(config, dict) else None
    return pid if isinstance(pid, str) and pid else None


def _detail(number: "PhoneNumber", fallback: str, changed: list[str] | None = None) -> NumberDetail:
    return NumberDetail(
        phone_number=number.phone_number or fallback,
        label=number.label,
        provider=number.provider,
        inbound=bool(number.inbound),
        outbound=bool(number.outbound),
        pipeline_id=number.associated_pipeline.pipeline_id if number.associated_pipeline else None,
        inbound_pipeline_id=_pipeline(number.inbound_config),
        outbound_pipeline_id=_pipeline(number.outbound_config),
        changed=changed,
    )


async def _current(ctx: Ctx, tool_name: str, phone_number: str) -> NumberDetail:
    """The number as it is now; a clear refusal when the account has no such number."""
    from convoai_mcp.errors import NotFoundError

    try:
        number = await rt_of(ctx).client.phone_numbers.get(phone_number)
    except NotFoundError:
        raise ToolError(
            f"{tool_name} failed: {phone_number} is not one of the account's phone numbers; "
            "nothing was changed. Next: check the number with list_numbers (or add it with "
            "add_number)."
        ) from None
    return _detail(number, phone_number)


@tool(order=71, title="Add a phone number", read_only=False)
async def add_number(
    ctx: Ctx,
    phone_number: E164,
    label: NumberLabel,
    provider: Annotated[
        NumberProvider,
        Field(description="Who provides the number: byo (your own SIP trunk) or twilio."),
    ] = "byo",
    inbound: Annotated[bool, Field(description="The number receives calls.")] = False,
    outbound: Annotated[
        bool, Field(description="The number places calls (from_number of call).")
    ] = False,
    allowed_addresses: SipAllowedAddresses = None,
    sip_address: SipAddress = None,
    sip_transport: Annotated[
        SipTransport | None, Field(description="Transport to the SIP trunk (e.g. tls).")
    ] = None,
    sip_prefix: Annotated[
        str | None,
        Field(max_length=16, pattern=r"^[0-9*#+]*$", description="Dial prefix of the trunk."),
    ] = None,
) -> NumberDetail:
    """Add (import) a phone number to the account, for inbound and / or outbound calls.

    An admin tool. The number must already be yours (your SIP trunk, or Twilio): nothing is
    bought. Adding a number that is already there is refused. Attach a pipeline for inbound
    calls afterwards with update_number.
    """
    from convoai_mcp.models import AddPhoneNumberRequest, InboundConfig, OutboundConfig

    rt = rt_of(ctx)
    await rt.guard.admit_admin(ctx, tool="add_number")
    inbound_config = (
        InboundConfig(allowed_addresses=list(allowed_addresses))
        if allowed_addresses is not None
        else None
    )
    outbound_config = (
        OutboundConfig(address=sip_address, transport=sip_transport, prefix=sip_prefix)
        if sip_address is not None or sip_transport is not None or sip_prefix is not None
        else None
    )
    request = AddPhoneNumberRequest(
        provider=provider,
        phone_number=phone_number,
        label=label,
        inbound=inbound,
        outbound=outbound,
        inbound_config=inbound_config,
        outbound_config=outbound_config,
    )
    added = await rt.client.phone_numbers.add(request)
    rt.guard.numbers_changed()
    return _detail(added, phone_number)


@tool(order=72, title="Get a phone number", read_only=True, idempotent=True)
async def get_number(ctx: Ctx, phone_number: E164) -> NumberDetail:
    """Get one of the account's phone numbers: label, provider, inbound / outbound, and the
    pipelines attached to it. An admin tool. Read-only."""
    return await _current(ctx, "get_number", phone_number)


@tool(
    order=73,
    title="Attach or clear a number's pipelines",
    read_only=False,
    destructive=True,
    idempotent=True,
)
async def update_number(
    ctx: Ctx,
    phone_number: E164,
    inbound_pipeline_id: Annotated[
        NumberPipeline,
        Field(description="Attach this pipeline: it answers inbound calls to the number."),
    ] = None,
    outbound_pipeline_id: Annotated[
        NumberPipeline, Field(description="Attach this pipeline for outbound calls.")
    ] = None,
    clear_inbound: Annotated[
        bool, Field(description="Detach the inbound pipeline (inbound calls go unanswered).")
    ] = False,
    clear_outbound: Annotated[bool, Field(description="Detach the outbound pipeline.")] = False,
    confirm: Confirm = False,
) -> NumberDetail | InputRequiredResult:
    """Attach a pipeline (an agent configured in the Agora console) to a phone number for
    inbound calls (or outbound), or clear it.

    An admin tool; a human approves the change first. What the number's callers reach
    changes at once.
    """
    arguments = dict(locals())
    from convoai_mcp.models import PipelineRef, UpdatePhoneNumberRequest
    from convoai_mcp.server.approval import ApprovalDetails
    from convoai_mcp.server.guard import ConfirmationRequired

    for direction, pid, clear in (
        ("inbound", inbound_pipeline_id, clear_inbound),
        ("outbound", outbound_pipeline_id, clear_outbound),
    ):
        if pid is not None and clear:
            raise ToolError(
                f"update_number failed: {direction}_pipeline_id and clear_{direction} "
                "contradict each other. Next: pass one of them."
            )
    fields: dict[str, PipelineRef | None] = {}
    changes: list[tuple[str, str]] = []  # (label on the page, what happens)
    changed: list[str] = []
    if inbound_pipeline_id is not None:
        fields["inbound_config"] = PipelineRef(pipeline_id=inbound_pipeline_id)
        changes.append(("Inbound pipeline", f"attach {inbound_pipeline_id}"))
        changed.append("inbound_pipeline")
    if clear_inbound:
        fields["inbound_config"] = None
        changes.append(("Inbound pipeline", "clear"))
        changed.append("inbound_pipeline")
    if outbound_pipeline_id is not None:
        fields["outbound_config"] = PipelineRef(pipeline_id=outbound_pipeline_id)
        changes.append(("Outbound pipeline", f"attach {outbound_pipeline_id}"))
        changed.append("outbound_pipeline")
    if clear_outbound:
        fields["outbound_config"] = None
        changes.append(("Outbound pipeline", "clear"))
        changed.append("outbound_pipeline")
    if not fields:
        raise ToolError(
            "update_number failed: nothing to change. Next: pass inbound_pipeline_id, "
            "outbound_pipeline_id, clear_inbound or clear_outbound."
        )
    rt = rt_of(ctx)
    current = await _current(ctx, "update_number", phone_number)
    what = "; ".join(f"{label.lower()}: {change}" for label, change in changes)
    try:
        await rt.guard.admit_admin(
            ctx,
            tool="update_number",
            question=f"Change phone number {phone_number} ({current.label or 'no label'}): {what}?",
            confirm=confirm,
            request=arguments,
            details=ApprovalDetails(
                title="Change a phone number's pipelines",
                agent_summary=(
                    ("Number", phone_number),
                    ("Label", current.label or "-"),
                    ("Inbound pipeline now", current.inbound_pipeline_id or "none"),
                    ("Outbound pipeline now", current.outbound_pipeline_id or "none"),
                    *changes,
                ),
                cost_warning="Calls to and from this number are handled by the new "
                "configuration as soon as you approve.",
            ),
        )
    except ConfirmationRequired as exc:
        return exc.result
    request = UpdatePhoneNumberRequest(**fields)
    updated = await rt.client.phone_numbers.update(phone_number, request)
    rt.guard.numbers_changed()
    return _detail(updated, phone_number, changed=changed)


@tool(order=74, title="Delete a phone number", read_only=False, destructive=True, idempotent=True)
async def delete_number(
    ctx: Ctx, phone_number: E164, confirm: Confirm = False
) -> NumberDeleted | InputRequiredResult:
    """Remove a phone number from the account: it no longer receives or places calls through
    Conversational AI.

    An admin tool; a human approves first. A number that is not in the account is refused
    (nothing to delete). Adding it back needs its SIP configuration again (add_number).
    """
    arguments = dict(locals())
    from convoai_mcp.server.approval import ApprovalDetails
    from convoai_mcp.server.guard import ConfirmationRequired

    rt = rt_of(ctx)
    current = await _current(ctx, "delete_number", phone_number)
    ways = [w for w, on in (("receive", current.inbound), ("place", current.outbound)) if on]
    effect = f", so that it can no longer {' or '.join(ways)} calls" if ways else ""
    try:
        await rt.guard.admit_admin(
            ctx,
            tool="delete_number",
            question=f"Delete phone number {phone_number} ({current.label or 'no label'}) from "
            f"the account{effect}?",
            confirm=confirm,
            request=arguments,
            details=ApprovalDetails(
                title="Delete a phone number",
                agent_summary=(
                    ("Number", phone_number),
                    ("Label", current.label or "-"),
                    ("Provider", current.provider or "-"),
                    ("Inbound", "yes" if current.inbound else "no"),
                    ("Outbound", "yes" if current.outbound else "no"),
                    ("Pipeline", current.pipeline_id or "none"),
                ),
                cost_warning="The number stops receiving and placing calls at once; adding it "
                "back needs its SIP configuration again.",
            ),
        )
    except ConfirmationRequired as exc:
        return exc.result
    await rt.client.phone_numbers.delete(phone_number)
    rt.guard.numbers_changed()
    return NumberDeleted(phone_number=phone_number, deleted=True, label=current.label)
