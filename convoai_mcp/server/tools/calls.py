"""The telephony tools: place, hang up and read phone calls."""

# No `from __future__ import annotations`: the SDK reads these signatures at registration time.

import dataclasses
from typing import TYPE_CHECKING, Annotated, Any, Literal

from mcp_types import InputRequiredResult
from pydantic import Field

from convoai_mcp.server.args import (
    E164,
    AgentId,
    AsrLanguage,
    Channel,
    Confirm,
    Ctx,
    Cursor,
    FromTime,
    Greeting,
    Limit,
    LlmModel,
    LlmUrl,
    PipelineId,
    Presets,
    ProfileName,
    SystemPrompt,
    TemplateVariables,
    Timeout,
    ToTime,
    TtsVendor,
    TtsVoice,
)
from convoai_mcp.server.registry import tool
from convoai_mcp.server.results import (
    CallList,
    CallResult,
    CallStarted,
    CallSummaryResult,
    EndResult,
)
from convoai_mcp.server.runtime import END_HUNG_UP, Pending, StartedAgent
from convoai_mcp.server.tools._common import (
    agent_spec,
    call_state,
    fingerprint,
    foreign_llm,
    random_suffix,
    rt_of,
    wait,
)

if TYPE_CHECKING:
    from convoai_mcp.models import CallRequest

__all__ = ["call", "get_call", "hangup", "list_calls"]


@tool(order=50, title="Place an outbound phone call", read_only=False, ui=True)
async def call(
    ctx: Ctx,
    to_number: E164,
    profile: ProfileName = None,
    system_prompt: SystemPrompt = None,
    greeting: Greeting = None,
    template_variables: TemplateVariables = None,
    from_number: Annotated[
        E164 | None,
        Field(
            description="The project's outbound-enabled number to call from (see "
            "list_numbers); default: the first one."
        ),
    ] = None,
    presets: Presets = None,
    pipeline_id: PipelineId = None,
    llm_url: LlmUrl = None,
    llm_model: LlmModel = None,
    tts_vendor: TtsVendor = None,
    tts_voice: TtsVoice = None,
    asr_language: AsrLanguage = None,
    channel: Annotated[
        Channel | None, Field(description="RTC channel for the call (default: generated).")
    ] = None,
    wait_until_answered: Annotated[
        bool, Field(description="Wait (with progress updates) until the callee answers.")
    ] = False,
    timeout_seconds: Timeout = 30.0,
    confirm: Confirm = False,
) -> CallStarted | InputRequiredResult:
    """Place an outbound phone call to a real person, handled by a voice agent.

    Use it when the user asks to phone someone. The agent follows system_prompt (put the
    script and goal there) and opens with greeting. This reaches a real phone and costs
    money: only dial numbers the user asked for; the server may refuse numbers outside its
    allow-list or ask the user to confirm. Returns the agent_id: follow the call with wait
    (until answered / ended, or turn for what the callee says), read it with get_history (and
    get_turns for latency) and hang up with hangup. With profile (see
    list_profiles; it must be callable) the agent is one the operator configured;
    system_prompt, greeting, tts_voice, asr_language and template_variables adjust it.
    """
    arguments = dict(locals())  # first: exactly this call's arguments
    from convoai_mcp.server import defaults, lifecycle, profiled
    from convoai_mcp.server.guard import ConfirmationRequired

    rt = rt_of(ctx)
    settings = rt.settings
    chosen = profiled.chosen(settings, arguments)  # the profile, if any; refuses before sending
    user_uid = settings.user_uid
    key = fingerprint("call", arguments)
    # This same request was sent before and its answer lost: the call it placed, if any.
    earlier, adopted = await lifecycle.earlier_outcome(rt, key, "call")
    if adopted is not None:
        known = rt.agents[adopted]
        agent_id, channel = adopted, known.channel
        from_number = known.from_number or from_number
    else:
        if earlier is not None:  # what it used: the service finds the call it may have placed
            channel, name = earlier.channel, earlier.name
        else:
            channel, name = channel or f"call-{random_suffix()}", f"call-{random_suffix()}"

        # Built before anything is reserved or sent: a call the server cannot configure (or
        # the operator did not allow) is refused first.
        def profile_request(from_number: str) -> "CallRequest":
            assert chosen is not None
            return profiled.call_request(
                settings,
                chosen,
                arguments,
                name=name,
                channel=channel,
                agent_uid=settings.agent_uid,
                sip_uid=user_uid,
                to_number=to_number,
                from_number=from_number,
            )

        if chosen is not None:  # the profile's keys go only to its own stages (D1)
            llm_endpoint = None
            profile_request(from_number or to_number)  # an override it cannot take: refused
        else:
            llm_endpoint = foreign_llm(settings, arguments, for_call=True)
            spec = agent_spec(
                settings,
                arguments,
                channel=channel,
                name=name,
                agent_uid=settings.agent_uid,
                user_uid=user_uid,
                idle_timeout=None,
                for_call=True,
            )
        try:  # one admission: policy, limits, the default from_number, confirmation
            reservation, from_number = await rt.guard.admit_call(
                ctx,
                to_number=to_number,
                from_number=from_number,
                confirm=confirm,
                llm_endpoint=llm_endpoint,
                request=arguments,
            )
        except ConfirmationRequired as exc:
            return exc.result
        try:
            if chosen is not None:
                request = profile_request(from_number)
            else:
                request = defaults.call_request(
                    settings, spec, to_number=to_number, from_number=from_number, sip_uid=user_uid
                )
        except BaseException:
            rt.guard.release(reservation)
            raise
        booked = StartedAgent(
            agent_id="",
            kind="call",
            name=name,
            channel=channel,
            agent_uid=settings.agent_uid,
            user_uid=user_uid,
            to_number=to_number,
            from_number=from_number,
        )
        placed = await lifecycle.create(
            ctx,
            tool="call",
            key=key,
            pending=Pending(channel, name),
            reservation=reservation,
            send=lambda: rt.client.calls.create(request, adopt_existing=earlier is not None),
            agent_id_of=lambda answer: answer.agent_id,
            record=lambda agent_id: dataclasses.replace(booked, agent_id=agent_id),
            find=lambda: lifecycle.find_call(rt, channel, to_number, name),
        )
        agent_id = placed.agent_id
    state: str | None = None
    waited: float | None = None
    if wait_until_answered:
        probe = call_state(rt, agent_id)
        state, waited = await wait(ctx, probe, limit=timeout_seconds, what="call")
    return CallStarted(
        agent_id=agent_id,
        channel=channel,
        to_number=to_number,
        from_number=from_number,
        state=state,
        waited_seconds=waited,
    )


@tool(order=60, title="Hang up a call", read_only=False, destructive=True, idempotent=True)
async def hangup(ctx: Ctx, agent_id: AgentId) -> EndResult:
    """Hang up a phone call placed with call (or an inbound call), by its agent_id.

    Ends the call for the callee and stops its agent; the transcript is archived first and
    stays readable with get_history. Hanging up a call that already ended succeeds and says
    so; for an agent that is not a call, use stop_agent.
    """
    from convoai_mcp.server import lifecycle

    rt = rt_of(ctx)
    return await lifecycle.end(
        rt, agent_id, rt.client.calls.hangup, kind="call", reason=END_HUNG_UP
    )


def _call_result(info: Any, agent_id: str) -> CallResult:
    return CallResult(
        agent_id=info.agent_id or agent_id,
        channel=info.channel,
        to_number=info.to_number,
        from_number=info.from_number,
        type=info.type,
        state=info.state,
        reason=info.reason,
        pipeline_id=info.pipeline_id,
        create_ts=info.create_ts,
        stop_ts=info.stop_ts,
    )


def _call_summary(info: Any) -> CallSummaryResult:
    """A list item: the list answer has no end reason (get_call reads it), so none is shown,
    rather than a null that contradicts get_call."""
    return CallSummaryResult(
        agent_id=info.agent_id or "",
        channel=info.channel,
        to_number=info.to_number,
        from_number=info.from_number,
        type=info.type,
        state=info.state,
        pipeline_id=info.pipeline_id,
        create_ts=info.create_ts,
        stop_ts=info.stop_ts,
    )


@tool(order=120, title="Get a call's record", read_only=True, idempotent=True, ui=True)
async def get_call(ctx: Ctx, agent_id: AgentId) -> CallResult:
    """Get a call's record: numbers, state (answered / hangup) and why it ended. Read-only."""
    rt = rt_of(ctx)
    return _call_result(rt.guard.redact(await rt.client.calls.get(agent_id)), agent_id)


@tool(order=130, title="List calls", read_only=True, idempotent=True)
async def list_calls(
    ctx: Ctx,
    number: Annotated[E164 | None, Field(description="Only calls to or from this number.")] = None,
    type: Annotated[
        Literal["inbound", "outbound"] | None, Field(description="Only this direction.")
    ] = None,
    from_time: FromTime = None,
    to_time: ToTime = None,
    limit: Limit = 20,
    cursor: Cursor = None,
) -> CallList:
    """List the project's calls (the service's default window is the last 60 days; from_time
    and to_time choose another), one page at a time: pass next_cursor back as cursor for the
    next page. Why a call ended is only in get_call. Read-only."""
    rt = rt_of(ctx)
    page = await rt.client.calls.list_page(
        number=number,
        type=type,
        from_time=from_time,
        to_time=to_time,
        limit=limit,
        cursor=cursor,
    )
    return CallList(
        calls=[_call_summary(rt.guard.redact(item)) for item in page.items],
        next_cursor=page.cursor or None,
        total=page.total,
    )
