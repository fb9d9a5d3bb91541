"""The argument types the tools share: each a described, constrained ``Annotated`` type.

The SDK turns them into the tools' input schemas, so a constraint here is checked before any
tool runs (and shown to the model in ``tools/list``). Facts with a home elsewhere are imported
from it: the E.164 rule (:mod:`convoai_mcp.phone`) and the preset names
(:mod:`convoai_mcp.presets`). :data:`AgentState` spells out ``models.AgentStatus`` so that
registering the tools does not load the client's models (a test checks that they agree).
"""

# No `from __future__ import annotations`: the SDK reads these types at registration time.

import re
from typing import TYPE_CHECKING, Annotated, Any, Literal

from mcp.server.mcpserver import Context
from pydantic import BeforeValidator, Field

from convoai_mcp.phone import E164_PATTERN, is_e164
from convoai_mcp.presets import PRESET_NAMES
from convoai_mcp.server.runtime import Runtime

__all__ = [
    "E164",
    "AgentId",
    "AgentState",
    "AgentStates",
    "AsrLanguage",
    "BusyAction",
    "Channel",
    "Confirm",
    "Ctx",
    "Cursor",
    "FromTime",
    "Greeting",
    "IdleTimeout",
    "Limit",
    "ListenAction",
    "LlmModel",
    "LlmUrl",
    "NumberLabel",
    "NumberPipeline",
    "NumberProvider",
    "PipelineId",
    "Preset",
    "Presets",
    "Priority",
    "ProfileName",
    "SipAddress",
    "SipAllowedAddresses",
    "SipTransport",
    "SystemPrompt",
    "TemplateVariables",
    "Timeout",
    "ToTime",
    "TtsVendor",
    "TtsVoice",
    "TurnsCursor",
    "Uid",
]

Ctx = Context[Runtime, Any]
"""The request context every tool takes (its lifespan context is the :class:`Runtime`)."""

_SEPARATORS = re.compile(r"[\s().\-/]")


def _near_e164(value: object) -> object:
    """Refuse a number that is E.164 but for spaces, dashes or a missing ``+`` with the number
    it probably means (never dial a guess: the model asks or corrects)."""
    if isinstance(value, str) and not is_e164(value):
        compact = _SEPARATORS.sub("", value)
        if compact.startswith("00"):
            compact = compact[2:]
        guess = compact if compact.startswith("+") else f"+{compact}"
        if is_e164(guess):
            raise ValueError(
                f"not in E.164 form; did you mean {guess}? (E.164 is '+', the country code and "
                "the number, digits only; add the country code if it is missing)"
            )
    return value


def _upper(value: object) -> object:
    return value.upper() if isinstance(value, str) else value


def _lower(value: object) -> object:
    return value.lower() if isinstance(value, str) else value


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
        pattern=r"^(0|[1-9][0-9]{0,9})$",
        description="RTC uid, a positive integer written as a string without leading zeros, "
        "e.g. '1002'.",
    ),
]
E164 = Annotated[
    str,
    Field(
        pattern=E164_PATTERN,
        description="Phone number in E.164 form: '+', country code and number, digits only, "
        "e.g. +14155550100.",
    ),
    BeforeValidator(_near_e164),
]
if TYPE_CHECKING:
    Preset = str
else:
    Preset = Literal[PRESET_NAMES]  # the enum of the schema, in presets.PRESET_NAMES order
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
    Field(
        max_length=128,
        description="TTS voice name, e.g. en-US-AndrewMultilingualNeural (with a profile: "
        "written into the voice field of the profile's TTS vendor).",
    ),
]
AsrLanguage = Annotated[
    str | None,
    Field(
        pattern=r"^[a-z]{2,3}(-[A-Za-z0-9]{2,8})*$",
        description="Speech recognition language, e.g. en-US, zh-CN (with a profile: the ASR "
        "and turn-detection language together).",
    ),
]
ProfileName = Annotated[
    str | None,
    Field(
        min_length=1,
        max_length=64,
        pattern=r"^[A-Za-z0-9_-]+$",
        description="Agent profile to use (see list_profiles): a complete agent configured by "
        "the operator; omit for the default. Not together with presets, pipeline_id, llm_url, "
        "llm_model or tts_vendor.",
    ),
]
"""The ``profile`` argument; the server lists the configured names as its enum
(:func:`convoai_mcp.server.profiled.profile_schema`)."""
TemplateVariables = Annotated[
    dict[str, str] | None,
    Field(
        max_length=50,
        description="Values for the {{name}} placeholders of the profile's prompt, e.g. "
        '{"customer": "Ann"} (needs a profile).',
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
FromTime = Annotated[
    int | None,
    Field(
        ge=0,
        le=2**40,
        description="Only what was created at or after this Unix time (seconds); with "
        "to_time, replaces the service's default window.",
    ),
]
ToTime = Annotated[
    int | None,
    Field(
        ge=0,
        le=2**40,
        description="Only what was created at or before this Unix time (seconds).",
    ),
]
Limit = Annotated[int, Field(ge=1, le=100, description="Page size (1-100).")]
Cursor = Annotated[
    str | None,
    Field(max_length=1024, description="next_cursor of the previous page; omit for the first."),
]

AgentState = Literal["IDLE", "STARTING", "RUNNING", "STOPPING", "STOPPED", "RECOVERING", "FAILED"]
# Enum arguments accept either case (the service's spelling differs between actions).
Priority = Annotated[Literal["INTERRUPT", "APPEND", "IGNORE"], BeforeValidator(_upper)]
ListenAction = Annotated[
    Literal["inject", "interrupt", "ignore", "append"], BeforeValidator(_lower)
]
BusyAction = Annotated[Literal["interrupt", "ignore", "append"], BeforeValidator(_lower)]
AgentStates = Annotated[
    list[Annotated[AgentState, BeforeValidator(_upper)]] | None,
    Field(
        min_length=1,
        max_length=7,
        description='Only agents in one of these states, e.g. ["STARTING", "RUNNING"] '
        "(replaces state).",
    ),
]

# -- phone-number administration (the admin tools) -------------------------------------------

NumberLabel = Annotated[
    str,
    Field(
        min_length=1,
        max_length=64,
        description="A label that identifies the number, e.g. 'Support line'.",
    ),
]
NumberProvider = Literal["byo", "twilio"]
NumberPipeline = Annotated[
    str | None,
    Field(
        min_length=1,
        max_length=128,
        pattern=r"^[A-Za-z0-9_.:-]+$",
        description="ID of a pipeline (an agent configured in the Agora console).",
    ),
]
SipAddress = Annotated[
    str | None,
    Field(
        min_length=1,
        max_length=253,
        pattern=r"^[A-Za-z0-9.\-:\[\]]+$",
        description="Your SIP trunk's address for outbound calls, e.g. sip.example.com or "
        "203.0.113.5:5061 (no credentials: a trunk that needs them is configured in the Agora "
        "console).",
    ),
]
SipTransport = Literal["udp", "tcp", "tls"]
SipAllowedAddresses = Annotated[
    list[Annotated[str, Field(max_length=64, pattern=r"^[0-9A-Fa-f.:/]+$")]] | None,
    Field(
        max_length=20,
        description="IP addresses or CIDR ranges your SIP provider sends inbound calls from, "
        'e.g. ["112.126.15.64/27"].',
    ),
]

TurnsCursor = Annotated[
    str | None,
    Field(
        max_length=32,
        pattern=r"^t[0-9]{1,9}$",
        description="next_cursor of the previous page (omit for the most recent turns).",
    ),
]
