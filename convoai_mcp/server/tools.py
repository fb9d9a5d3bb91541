"""The MCP tools: thin adapters from validated arguments to the ConvoAI client, via the guard.

Every tool takes described, constrained arguments, returns a model from
:mod:`convoai_mcp.server.results` (output schema + structured content), carries annotations that
are true of it, and turns expected failures into ``isError`` results (:func:`tool_errors`).
:data:`TOOL_NAMES` is the stable order of ``tools/list``.
"""

# No `from __future__ import annotations`: the SDK reads these signatures at registration time.
# The client, builders, models and the guard are imported inside the tools that use them, so
# that building the server (and answering `initialize`) does not wait for them.

import contextlib
import hashlib
import inspect
import json
import secrets
import time
from collections.abc import AsyncIterator, Awaitable, Callable, Mapping
from typing import TYPE_CHECKING, Annotated, Any, Literal

from mcp.server.mcpserver import Context, MCPServer
from mcp.server.mcpserver.exceptions import ToolError
from mcp_types import InputRequiredResult, ToolAnnotations
from pydantic import Field

from convoai_mcp.server.failures import tool_errors
from convoai_mcp.server.results import (
    ActionResult,
    AgentList,
    AgentResult,
    AgentSummaryResult,
    CallList,
    CallResult,
    CallStarted,
    EndResult,
    NumberList,
    NumberResult,
    StartAgentResult,
    TokenResult,
    UpdateAgentResult,
)
from convoai_mcp.server.runtime import END_HUNG_UP, END_STOPPED, Runtime, StartedAgent

if TYPE_CHECKING:
    from convoai_mcp.builders import AgentSpec
    from convoai_mcp.config import Settings
    from convoai_mcp.models import ActionResponse

__all__ = ["TOOL_NAMES", "register"]

TOOL_NAMES: tuple[str, ...] = (
    "start_agent",
    "speak",
    "interrupt",
    "think",
    "call",
    "hangup",
    "list_numbers",
    "stop_agent",
    "update_agent",
    "get_agent",
    "list_agents",
    "get_call",
    "list_calls",
    "mint_token",
)
"""Every tool, in the order ``tools/list`` presents them."""

Ctx = Context[Runtime, Any]

# ---------------------------------------------------------------------------- argument types

AgentId = Annotated[
    str,
    Field(
        min_length=1,
        max_length=128,
        pattern=r"^[A-Za-z0-9_.:-]+$",
        description="ID of the agent, as returned by start_agent / call / list_agents.",
    ),
]
Channel = Annotated[
    str,
    Field(
        min_length=1,
        max_length=64,
        pattern=r"^[A-Za-z0-9 !#$%&()+\-:;<=.>?@\[\]^_{|}~,]+$",
        description="RTC channel name (1-64 characters: letters, digits, space and "
        "!#$%&()+-:;<=.>?@[]^_{|}~,). The agent and the human join the same channel.",
    ),
]
Uid = Annotated[
    str,
    Field(
        pattern=r"^[0-9]{1,10}$",
        description="RTC uid, a positive integer written as a string, e.g. '1002'.",
    ),
]
E164 = Annotated[
    str,
    Field(
        pattern=r"^\+[1-9][0-9]{6,14}$",
        description="Phone number in E.164 form: '+', country code and number, digits only, "
        "e.g. +14155550100.",
    ),
]
Preset = Literal[
    "deepgram_nova_2",
    "deepgram_nova_3",
    "openai_gpt_4o_mini",
    "openai_gpt_4_1_mini",
    "openai_gpt_5_nano",
    "openai_gpt_5_mini",
    "minimax_speech_2_6_turbo",
    "minimax_speech_2_8_turbo",
    "openai_tts_1",
]
Presets = Annotated[
    list[Preset] | None,
    Field(
        max_length=3,
        description="Hosted vendor presets, at most one per stage (ASR: deepgram_*, LLM: "
        "openai_gpt_*, TTS: minimax_* / openai_tts_1); a preset needs no URL or key. Omit to "
        "use the server's configured defaults.",
    ),
]
SystemPrompt = Annotated[
    str | None,
    Field(
        max_length=8000,
        description="Instructions for the agent's LLM: role, tone, what to do and not do.",
    ),
]
Greeting = Annotated[
    str | None,
    Field(max_length=512, description="What the agent says first when someone joins."),
]
PipelineId = Annotated[
    str | None,
    Field(
        max_length=128,
        description="ID of an agent pipeline configured in the Agora console; replaces the "
        "vendor settings. Omit to use the configured default.",
    ),
]
LlmUrl = Annotated[
    str | None,
    Field(
        max_length=2048,
        pattern=r"^https?://",
        description="OpenAI-compatible chat completions URL; omit to use the default.",
    ),
]
LlmModel = Annotated[
    str | None, Field(max_length=128, description="LLM model name, e.g. gpt-4o-mini.")
]
TtsVendor = Annotated[
    str | None,
    Field(max_length=64, description="TTS vendor, e.g. microsoft, elevenlabs, minimax."),
]
TtsVoice = Annotated[
    str | None,
    Field(max_length=128, description="TTS voice name, e.g. en-US-AndrewMultilingualNeural."),
]
AsrLanguage = Annotated[
    str | None,
    Field(
        pattern=r"^[a-z]{2,3}(-[A-Za-z0-9]{2,8})*$",
        description="Speech recognition language, e.g. en-US, zh-CN.",
    ),
]
IdleTimeout = Annotated[
    int | None,
    Field(
        ge=0,
        le=86400,
        description="Seconds the agent stays in a channel with nobody else before leaving "
        "(0: never; omit for the configured / service default).",
    ),
]
Confirm = Annotated[
    bool,
    Field(
        description="Set true only after the user has explicitly agreed to this action (needed "
        "when the server requires confirmation and the client cannot ask the user itself)."
    ),
]
Timeout = Annotated[
    float,
    Field(ge=1, le=120, description="Longest time to wait, in seconds (when waiting)."),
]
Limit = Annotated[int, Field(ge=1, le=100, description="Page size (1-100).")]
Cursor = Annotated[
    str | None,
    Field(max_length=1024, description="next_cursor of the previous page; omit for the first."),
]

# ---------------------------------------------------------------------------- annotations


def _annotations(
    title: str,
    *,
    read_only: bool,
    destructive: bool = False,
    idempotent: bool = False,
    open_world: bool = True,
) -> ToolAnnotations:
    return ToolAnnotations(
        title=title,
        read_only_hint=read_only,
        destructive_hint=destructive,
        idempotent_hint=idempotent,
        open_world_hint=open_world,
    )


ANNOTATIONS: dict[str, ToolAnnotations] = {
    "start_agent": _annotations("Start a voice agent", read_only=False),
    "speak": _annotations("Make the agent say something", read_only=False),
    "interrupt": _annotations("Interrupt the agent", read_only=False, idempotent=True),
    "think": _annotations("Give the agent something to respond to", read_only=False),
    "call": _annotations("Place an outbound phone call", read_only=False),
    "hangup": _annotations("Hang up a call", read_only=False, destructive=True, idempotent=True),
    "list_numbers": _annotations("List phone numbers", read_only=True, idempotent=True),
    "stop_agent": _annotations(
        "Stop a voice agent", read_only=False, destructive=True, idempotent=True
    ),
    "update_agent": _annotations(
        "Change a running agent", read_only=False, destructive=True, idempotent=True
    ),
    "get_agent": _annotations("Get an agent's status", read_only=True, idempotent=True),
    "list_agents": _annotations("List agents", read_only=True, idempotent=True),
    "get_call": _annotations("Get a call's record", read_only=True, idempotent=True),
    "list_calls": _annotations("List calls", read_only=True, idempotent=True),
    "mint_token": _annotations(
        "Mint an RTC join token", read_only=True, idempotent=True, open_world=False
    ),
}

# ---------------------------------------------------------------------------- helpers


def _rt(ctx: Ctx) -> Runtime:
    return ctx.request_context.lifespan_context


def _status(value: object) -> str:
    return str(value) if value is not None else "UNKNOWN"


async def _progress(ctx: Ctx, done: float, total: float, message: str) -> None:
    with contextlib.suppress(Exception):  # best effort: the caller may be gone
        await ctx.report_progress(done, total, message)


Probe = Callable[[], Awaitable[tuple[str, bool]]]
"""Reads a state for :func:`_wait`: (state, whether waiting is over)."""


def _agent_state(rt: Runtime, agent_id: str) -> Probe:
    """The agent's status; waiting is over once it is RUNNING, FAILED or STOPPED."""

    async def probe() -> tuple[str, bool]:
        state = _status((await rt.client.agents.get(agent_id)).status)
        return state, state in {"RUNNING", "FAILED", "STOPPED"}

    return probe


def _call_state(rt: Runtime, agent_id: str) -> Probe:
    """The call's state; waiting is over once it is answered or hung up."""

    async def probe() -> tuple[str, bool]:
        state = (await rt.client.calls.get(agent_id)).state or "ringing"
        return state, state in {"answered", "hangup"}

    return probe


async def _wait(
    ctx: Ctx,
    probe: Probe,
    *,
    limit: float,
    what: str,
    interval: float = 0.25,
) -> tuple[str, float]:
    """Poll ``probe`` (-> state, done) until done or ``limit`` seconds; report progress."""
    import anyio

    started = time.monotonic()
    state, done = await probe()
    while not done:
        elapsed = time.monotonic() - started
        if elapsed >= limit:
            break
        await _progress(ctx, round(elapsed, 2), limit, f"{what}: {state}")
        await anyio.sleep(min(interval, limit - elapsed))
        interval = min(interval * 1.5, 2.0)
        state, done = await probe()
    elapsed = time.monotonic() - started
    await _progress(ctx, limit if done else round(elapsed, 2), limit, f"{what}: {state}")
    return state, round(elapsed, 2)


async def _resources_changed(ctx: Ctx) -> None:
    """Tell listening clients (``subscriptions/listen``) that resources/list grew."""
    with contextlib.suppress(Exception):  # best effort
        await ctx.notify_resources_changed()


def _random_suffix() -> str:
    return secrets.token_hex(4)


def _action_result(response: "ActionResponse", agent_id: str) -> ActionResult:
    """The result of speak / interrupt / think from the service's ActionResponse."""
    return ActionResult(
        agent_id=response.agent_id or agent_id,
        channel=response.channel,
        start_ts=response.start_ts,
    )


# ---------------------------------------------------------------------------- start_agent and call
# Both create an agent that costs money; if the service's answer is lost, the same request again
# must find that agent instead of creating a second one (see _unanswered).

_MAX_UNANSWERED = 256

_NOT_THE_REQUEST = frozenset(
    {"ctx", "confirm", "wait_until_running", "wait_until_answered", "timeout_seconds"}
)
"""Arguments that say how to run a request, not what it asks for (left out of its fingerprint)."""


def _fingerprint(tool: str, arguments: Mapping[str, object]) -> str:
    """What identifies "the same request again": the tool and every argument that describes
    the agent or the call (not ``confirm`` nor the waiting options), hashed."""
    described = {k: v for k, v in arguments.items() if k not in _NOT_THE_REQUEST}
    blob = json.dumps(described, sort_keys=True, default=str)
    return f"{tool}:{hashlib.sha256(blob.encode()).hexdigest()}"


@contextlib.asynccontextmanager
async def _unanswered(
    rt: Runtime, key: str, channel: str, name: str, tool: str
) -> AsyncIterator[None]:
    """Around a start or a call (``key``: its :func:`_fingerprint`): when its answer never
    comes, remember the channel and name it used, so that the same request again reuses them
    and finds the agent this one may have created instead of creating a second; and say so."""
    from convoai_mcp.errors import ConvoAIError

    try:
        yield
    except ConvoAIError as exc:
        if not exc.maybe_performed:
            raise  # certainly not performed (refused, never reached): tool_errors says so
        rt.unanswered.pop(key, None)
        rt.unanswered[key] = (channel, name)
        while len(rt.unanswered) > _MAX_UNANSWERED:
            rt.unanswered.pop(next(iter(rt.unanswered)))
        raise ToolError(
            f"{tool} failed: {exc.message} (an attempt reached the service but its answer was "
            f"lost). Next: the agent {name} may have started anyway; call {tool} again with the "
            "same arguments and it returns that agent instead of starting a second one (or "
            "check list_agents first)."
        ) from None
    rt.unanswered.pop(key, None)


def _agent_spec(
    settings: "Settings",
    arguments: Mapping[str, Any],
    *,
    channel: str,
    name: str,
    agent_uid: str,
    user_uid: str,
    idle_timeout: int | None,
) -> "AgentSpec":
    """The agent of a start_agent or call: the agent settings both tools take, from
    ``arguments`` (the tool's own), completed from the configuration."""
    from convoai_mcp.server import defaults

    presets = arguments["presets"]
    return defaults.agent_spec(
        settings,
        channel=channel,
        name=name,
        agent_uid=agent_uid,
        remote_uids=[user_uid],
        system_prompt=arguments["system_prompt"],
        greeting=arguments["greeting"],
        presets=list(presets) if presets else None,
        pipeline_id=arguments["pipeline_id"],
        llm_url=arguments["llm_url"],
        llm_model=arguments["llm_model"],
        tts_vendor=arguments["tts_vendor"],
        tts_voice=arguments["tts_voice"],
        asr_language=arguments["asr_language"],
        idle_timeout=idle_timeout,
    )


async def _first_outbound_number(rt: Runtime) -> str:
    """The project's first outbound-enabled number (call's default from_number)."""
    numbers = await rt.client.phone_numbers.list()
    outbound = [n.phone_number for n in numbers if n.outbound and n.phone_number]
    if not outbound:
        raise ToolError(
            "call failed: this project has no outbound-enabled phone number. Next: add one "
            "in the Agora console (or enable outbound on an existing one), then call again."
        )
    return outbound[0]


async def _started(ctx: Ctx, agent: StartedAgent) -> None:
    """Book an agent or call that was just created: the record (resources/list), the guard
    (limits, archive watcher), and a list-changed notification."""
    rt = _rt(ctx)
    rt.record(agent)
    rt.guard.started(agent.agent_id, kind=agent.kind, channel=agent.channel)
    await _resources_changed(ctx)


# ---------------------------------------------------------------------------- tools


@tool_errors("start_agent")
async def start_agent(
    ctx: Ctx,
    channel: Channel,
    system_prompt: SystemPrompt = None,
    greeting: Greeting = None,
    presets: Presets = None,
    pipeline_id: PipelineId = None,
    llm_url: LlmUrl = None,
    llm_model: LlmModel = None,
    tts_vendor: TtsVendor = None,
    tts_voice: TtsVoice = None,
    asr_language: AsrLanguage = None,
    agent_uid: Annotated[
        Uid | None, Field(description="RTC uid for the agent (default from configuration).")
    ] = None,
    user_uid: Annotated[
        Uid | None,
        Field(
            description="RTC uid of the human participant the agent listens to and the "
            "returned join token is for (default from configuration)."
        ),
    ] = None,
    idle_timeout: IdleTimeout = None,
    name: Annotated[
        str | None,
        Field(
            min_length=1,
            max_length=64,
            pattern=r"^[A-Za-z0-9_-]+$",
            description="Unique name for the agent (default: generated).",
        ),
    ] = None,
    wait_until_running: Annotated[
        bool,
        Field(description="Wait (with progress updates) until the agent is in the channel."),
    ] = False,
    timeout_seconds: Timeout = 20.0,
    confirm: Confirm = False,
) -> StartAgentResult | InputRequiredResult:
    """Start an AI voice agent in an RTC channel, where it listens and talks with the people there.

    Use it when the user wants a voice assistant in a channel (their app joins the same
    channel). Only `channel` is required: everything else defaults to the server's
    configuration. The result has the agent_id (for speak, think, interrupt, update_agent,
    stop_agent and the convoai://agents/{agent_id}/history resource) and a join token for the
    human participant's uid. The agent runs, and costs money, until stop_agent, or until it
    has been alone in the channel for idle_timeout seconds.
    """
    arguments = dict(locals())  # first: exactly this call's arguments
    from convoai_mcp.server import defaults
    from convoai_mcp.server.guard import ConfirmationRequired

    rt = _rt(ctx)
    settings = rt.settings
    try:
        await rt.guard.admit_agent(ctx, channel=channel, confirm=confirm)
    except ConfirmationRequired as exc:
        return exc.result  # the client asks the user, then calls again with the answer
    agent_uid = agent_uid or settings.agent_uid
    user_uid = user_uid or settings.user_uid
    if agent_uid == user_uid:
        raise ToolError(
            f"start_agent failed: agent_uid and user_uid are both {agent_uid}. Next: give the "
            "agent and the human participant different uids."
        )
    key = _fingerprint("start_agent", arguments)
    earlier = rt.unanswered.get(key)  # this same request was sent before; its answer was lost
    if earlier is not None:
        name = earlier[1]  # the name it used: the service finds the agent it may have created
    spec = _agent_spec(
        settings,
        arguments,
        channel=channel,
        name=name or f"convoai-{_random_suffix()}",
        agent_uid=agent_uid,
        user_uid=user_uid,
        idle_timeout=idle_timeout,
    )
    async with _unanswered(rt, key, channel, spec.name, "start_agent"):
        response = await rt.client.agents.launch(spec, adopt_existing=earlier is not None)
    agent_id = response.agent_id
    await _started(
        ctx,
        StartedAgent(
            agent_id=agent_id,
            kind="agent",
            name=spec.name,
            channel=channel,
            agent_uid=agent_uid,
            user_uid=user_uid,
        ),
    )
    status = _status(response.status)
    waited: float | None = None
    if wait_until_running and status != "RUNNING":
        probe = _agent_state(rt, agent_id)
        status, waited = await _wait(ctx, probe, limit=timeout_seconds, what="agent")
    token, expires_at = defaults.user_token(settings, channel, user_uid)
    return StartAgentResult(
        agent_id=agent_id,
        name=spec.name,
        status=status,
        channel=channel,
        agent_uid=agent_uid,
        user_uid=user_uid,
        user_token=token,
        token_expires_at=expires_at,
        app_id=settings.app_id,
        create_ts=response.create_ts,
        waited_seconds=waited,
    )


@tool_errors("speak")
async def speak(
    ctx: Ctx,
    agent_id: AgentId,
    text: Annotated[
        str,
        Field(
            min_length=1,
            max_length=512,
            description="What the agent says, verbatim (at most 512 bytes of UTF-8).",
        ),
    ],
    priority: Annotated[
        Literal["INTERRUPT", "APPEND", "IGNORE"] | None,
        Field(
            description="If the agent is talking: INTERRUPT it (default), APPEND after it, or "
            "IGNORE this message."
        ),
    ] = None,
    interruptable: Annotated[
        bool | None, Field(description="Whether a person speaking can cut this message off.")
    ] = None,
) -> ActionResult:
    """Make a running agent say a message verbatim (text-to-speech, no LLM involved).

    Use it for announcements or exact wording; use think instead when the agent should decide
    what to say. Not available for realtime (MLLM) agents.
    """
    from convoai_mcp.builders import validate_speak_text

    validate_speak_text(text)
    rt = _rt(ctx)
    response = await rt.client.agents.speak(
        agent_id, text, priority=priority, interruptable=interruptable
    )
    return _action_result(response, agent_id)


@tool_errors("interrupt")
async def interrupt(ctx: Ctx, agent_id: AgentId) -> ActionResult:
    """Stop the agent mid-sentence (it stops speaking and thinking, and listens again).

    Use it when the agent is saying something it should not, or to cut a long answer short.
    """
    response = await _rt(ctx).client.agents.interrupt(agent_id)
    return _action_result(response, agent_id)


ListenAction = Literal["inject", "interrupt", "ignore", "append"]
BusyAction = Literal["interrupt", "ignore", "append"]


@tool_errors("think")
async def think(
    ctx: Ctx,
    agent_id: AgentId,
    text: Annotated[
        str,
        Field(
            min_length=1,
            max_length=8000,
            description="Input for the agent's LLM, as if the user had said it (or context for "
            "it); the agent decides what to say.",
        ),
    ],
    on_listening_action: Annotated[
        ListenAction | None,
        Field(
            description="If the person is speaking: inject the text into their turn, interrupt "
            "(service default), ignore it, or append it after their turn."
        ),
    ] = None,
    on_thinking_action: Annotated[
        BusyAction | None,
        Field(description="If the agent is thinking: interrupt, ignore or append."),
    ] = None,
    on_speaking_action: Annotated[
        BusyAction | None,
        Field(description="If the agent is speaking: interrupt, ignore or append."),
    ] = None,
    interruptable: Annotated[
        bool | None, Field(description="Whether a person speaking can cut the reply off.")
    ] = None,
    metadata: Annotated[
        dict[str, str] | None,
        Field(max_length=20, description="String key/values passed along with the text."),
    ] = None,
) -> ActionResult:
    """Give a running agent something to respond to: its LLM answers it and the agent speaks.

    Use it to steer the conversation (e.g. "Tell the caller their order shipped") while
    letting the agent phrase it; use speak for exact wording.
    """
    response = await _rt(ctx).client.agents.think(
        agent_id,
        text,
        on_listening_action=on_listening_action,
        on_thinking_action=on_thinking_action,
        on_speaking_action=on_speaking_action,
        interruptable=interruptable,
        metadata=metadata,
    )
    return _action_result(response, agent_id)


@tool_errors("call")
async def call(
    ctx: Ctx,
    to_number: E164,
    system_prompt: SystemPrompt = None,
    greeting: Greeting = None,
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
    allow-list or ask the user to confirm. Returns the agent_id: read
    convoai://agents/{agent_id}/history for the conversation and hang up with hangup.
    """
    arguments = dict(locals())  # first: exactly this call's arguments
    from convoai_mcp.server import defaults
    from convoai_mcp.server.guard import ConfirmationRequired

    rt = _rt(ctx)
    settings = rt.settings
    if from_number is None:
        # Refuse a blocked destination before any request (even a read) is sent.
        rt.guard.policy.check_tool("call")
        rt.guard.policy.check_call(to_number, to_number, frozenset({to_number}))
        from_number = await _first_outbound_number(rt)
    try:
        await rt.guard.admit_call(
            ctx, to_number=to_number, from_number=from_number, confirm=confirm
        )
    except ConfirmationRequired as exc:
        return exc.result
    key = _fingerprint("call", arguments)
    # (channel, name) of this same request, answer lost; else the channel asked for or a new one
    earlier = rt.unanswered.get(key)  # this same request was sent before; its answer was lost
    if earlier is not None:
        channel, name = earlier  # what it used: the service finds the call it may have placed
    else:
        channel, name = channel or f"call-{_random_suffix()}", f"call-{_random_suffix()}"
    user_uid = settings.user_uid
    spec = _agent_spec(
        settings,
        arguments,
        channel=channel,
        name=name,
        agent_uid=settings.agent_uid,
        user_uid=user_uid,
        idle_timeout=None,
    )
    request = defaults.call_request(
        settings, spec, to_number=to_number, from_number=from_number, sip_uid=user_uid
    )
    async with _unanswered(rt, key, channel, spec.name, "call"):
        response = await rt.client.calls.create(request, adopt_existing=earlier is not None)
    agent_id = response.agent_id
    await _started(
        ctx,
        StartedAgent(
            agent_id=agent_id,
            kind="call",
            name=spec.name,
            channel=channel,
            agent_uid=settings.agent_uid,
            user_uid=user_uid,
            to_number=to_number,
            from_number=from_number,
        ),
    )
    state: str | None = None
    waited: float | None = None
    if wait_until_answered:
        probe = _call_state(rt, agent_id)
        state, waited = await _wait(ctx, probe, limit=timeout_seconds, what="call")
    return CallStarted(
        agent_id=agent_id,
        channel=channel,
        to_number=to_number,
        from_number=from_number,
        state=state,
        waited_seconds=waited,
    )


async def _end(
    rt: Runtime, agent_id: str, stop: Callable[[str], Awaitable[None]], reason: str
) -> EndResult:
    archived = True
    try:
        await rt.guard.before_end(agent_id)
    except Exception:  # the archive must not block ending a call that costs money
        archived = False
    await stop(agent_id)
    rt.guard.ended(agent_id)
    rt.mark_ended(agent_id, reason)
    return EndResult(
        agent_id=agent_id,
        ended=True,
        archived_history=archived and rt.settings.archive,
    )


@tool_errors("hangup")
async def hangup(ctx: Ctx, agent_id: AgentId) -> EndResult:
    """Hang up a phone call placed with call (or an inbound call), by its agent_id.

    Ends the call for the callee and stops its agent; the transcript is archived first and
    stays readable at convoai://agents/{agent_id}/history.
    """
    rt = _rt(ctx)
    return await _end(rt, agent_id, rt.client.calls.hangup, END_HUNG_UP)


@tool_errors("list_numbers")
async def list_numbers(ctx: Ctx) -> NumberList:
    """List the project's phone numbers and whether each can receive (inbound) and place
    (outbound) calls. Use it to choose a from_number for call. Read-only."""
    numbers = await _rt(ctx).client.phone_numbers.list()
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


@tool_errors("stop_agent")
async def stop_agent(ctx: Ctx, agent_id: AgentId) -> EndResult:
    """Stop a voice agent: it leaves the channel and stops costing money.

    Use it when the conversation is over. Stopping an agent that already left succeeds. The
    transcript is archived first and stays readable at convoai://agents/{agent_id}/history.
    """
    rt = _rt(ctx)
    return await _end(rt, agent_id, rt.client.agents.stop, END_STOPPED)


@tool_errors("update_agent")
async def update_agent(
    ctx: Ctx,
    agent_id: AgentId,
    system_prompt: Annotated[
        str | None,
        Field(
            max_length=8000,
            description="New instructions for the agent's LLM; replaces the current ones.",
        ),
    ] = None,
    llm_params: Annotated[
        dict[str, Any] | None,
        Field(
            max_length=20,
            description='LLM parameters to set, e.g. {"temperature": 0.3, "max_tokens": 200}.',
        ),
    ] = None,
    refresh_token: Annotated[
        bool,
        Field(
            description="Give the agent a fresh channel-join token (only for agents started "
            "by this server, before the old one expires)."
        ),
    ] = False,
) -> UpdateAgentResult:
    """Change a running agent without restarting it: its instructions, LLM parameters, or its
    channel token. The change applies from the agent's next reply; earlier settings are
    overwritten."""
    from convoai_mcp.models import UpdateAgentProperties, UpdateAgentRequest, UpdateLlm
    from convoai_mcp.server import defaults

    rt = _rt(ctx)
    updated: list[str] = []
    llm: UpdateLlm | None = None
    if system_prompt is not None or llm_params is not None:
        llm = UpdateLlm(
            system_messages=[{"role": "system", "content": system_prompt}]
            if system_prompt is not None
            else None,
            params=llm_params,
        )
        updated += ["system_prompt"] if system_prompt is not None else []
        updated += ["llm_params"] if llm_params is not None else []
    token: str | None = None
    if refresh_token:
        known = rt.agents.get(agent_id)
        if known is None:
            raise ToolError(
                f"update_agent failed: {agent_id} was not started by this server, so its "
                "channel and uid are unknown. Next: call without refresh_token."
            )
        token = defaults.agent_token(rt.settings, known.channel, known.agent_uid)
        updated.append("token")
    if not updated:
        raise ToolError(
            "update_agent failed: nothing to change. Next: pass system_prompt, llm_params or "
            "refresh_token=true."
        )
    request = UpdateAgentRequest(properties=UpdateAgentProperties(token=token, llm=llm))
    response = await rt.client.agents.update(agent_id, request)
    return UpdateAgentResult(
        agent_id=response.agent_id or agent_id,
        status=str(response.status) if response.status is not None else None,
        updated=updated,
    )


@tool_errors("get_agent")
async def get_agent(ctx: Ctx, agent_id: AgentId) -> AgentResult:
    """Get an agent's current status (STARTING, RUNNING, STOPPED, FAILED, ...) and timing.
    Read-only."""
    rt = _rt(ctx)
    info = rt.guard.redact(await rt.client.agents.get(agent_id))
    known = rt.agents.get(agent_id)
    return AgentResult(
        agent_id=info.agent_id or agent_id,
        status=_status(info.status),
        start_ts=info.start_ts,
        stop_ts=info.stop_ts,
        message=info.message,
        channel=known.channel if known else None,
    )


AgentState = Literal["IDLE", "STARTING", "RUNNING", "STOPPING", "STOPPED", "RECOVERING", "FAILED"]


@tool_errors("list_agents")
async def list_agents(
    ctx: Ctx,
    channel: Annotated[Channel | None, Field(description="Only agents in this channel.")] = None,
    state: Annotated[AgentState | None, Field(description="Only agents in this state.")] = None,
    limit: Limit = 20,
    cursor: Cursor = None,
) -> AgentList:
    """List the project's agents (the service's default window is the last 2 hours), one page
    at a time: pass next_cursor back as cursor for the next page. Read-only."""
    page = await _rt(ctx).client.agents.list_page(
        channel=channel, state=state, limit=limit, cursor=cursor
    )
    return AgentList(
        agents=[
            AgentSummaryResult(
                agent_id=item.agent_id, status=_status(item.status), start_ts=item.start_ts
            )
            for item in page.items
        ],
        next_cursor=page.cursor or None,
        total=page.total,
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


@tool_errors("get_call")
async def get_call(ctx: Ctx, agent_id: AgentId) -> CallResult:
    """Get a call's record: numbers, state (answered / hangup) and why it ended. Read-only."""
    rt = _rt(ctx)
    return _call_result(rt.guard.redact(await rt.client.calls.get(agent_id)), agent_id)


@tool_errors("list_calls")
async def list_calls(
    ctx: Ctx,
    number: Annotated[E164 | None, Field(description="Only calls to or from this number.")] = None,
    type: Annotated[
        Literal["inbound", "outbound"] | None, Field(description="Only this direction.")
    ] = None,
    limit: Limit = 20,
    cursor: Cursor = None,
) -> CallList:
    """List the project's calls (the service's default window is the last 60 days), one page at
    a time: pass next_cursor back as cursor for the next page. Read-only."""
    rt = _rt(ctx)
    page = await rt.client.calls.list_page(number=number, type=type, limit=limit, cursor=cursor)
    return CallList(
        calls=[_call_result(rt.guard.redact(item), item.agent_id or "") for item in page.items],
        next_cursor=page.cursor or None,
        total=page.total,
    )


@tool_errors("mint_token")
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

    rt = _rt(ctx)
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


_TOOLS: dict[str, Callable[..., Awaitable[Any]]] = {
    "start_agent": start_agent,
    "speak": speak,
    "interrupt": interrupt,
    "think": think,
    "call": call,
    "hangup": hangup,
    "list_numbers": list_numbers,
    "stop_agent": stop_agent,
    "update_agent": update_agent,
    "get_agent": get_agent,
    "list_agents": list_agents,
    "get_call": get_call,
    "list_calls": list_calls,
    "mint_token": mint_token,
}


def _description(fn: Callable[..., Any]) -> str:
    """The docstring as the model reads it: dedented, one line per paragraph."""
    paragraphs = inspect.cleandoc(fn.__doc__ or "").split("\n\n")
    return "\n\n".join(" ".join(p.split()) for p in paragraphs)


def register(server: MCPServer[Runtime], visible: list[str]) -> None:
    """Add the tools named in ``visible`` to ``server``, in :data:`TOOL_NAMES` order."""
    for name in TOOL_NAMES:
        if name in visible:
            fn = _TOOLS[name]
            server.add_tool(
                fn,
                name=name,
                description=_description(fn),
                annotations=ANNOTATIONS[name],
            )
