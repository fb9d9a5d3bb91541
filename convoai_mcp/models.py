"""Pydantic wire models of the Conversational AI REST API, with the exact wire names.

Every model keeps fields it does not know (``extra="allow"``), so a newer service never breaks
parsing and nothing it sends is lost. Request bodies are serialised with :meth:`WireModel.to_wire`,
which leaves out unset and ``None`` fields (the service gets no JSON ``null`` for an option nobody
chose) -- except :class:`UpdatePhoneNumberRequest`, where an explicit ``None`` clears a value.
``repr()`` masks every field whose name marks it as a secret (keys, tokens, passwords ...: the one
vocabulary of :mod:`convoai_mcp._secrets`), and anything that looks like one inside other text
(``https://llm.example/v1?key=...``).
"""

from __future__ import annotations

from enum import StrEnum
from typing import Annotated, Any, Generic, Literal, TypeVar

from pydantic import BaseModel, BeforeValidator, ConfigDict, Field

from convoai_mcp._secrets import MASK, is_secret_name, mask_fields, maskable
from convoai_mcp.errors import scrub

__all__ = [
    "STATE_NUMBERS",
    "TERMINAL_STATES",
    "ActionResponse",
    "AddPhoneNumberRequest",
    "AgentInfo",
    "AgentProperties",
    "AgentStatus",
    "AgentSummary",
    "AsrConfig",
    "AssociatedPipeline",
    "AvatarConfig",
    "CallInfo",
    "CallProperties",
    "CallRequest",
    "CallResponse",
    "History",
    "HistoryEntry",
    "InboundConfig",
    "LatencySegment",
    "ListData",
    "ListMeta",
    "ListResponse",
    "LlmConfig",
    "MllmConfig",
    "OutboundConfig",
    "Page",
    "Pagination",
    "PhoneNumber",
    "PipelineRef",
    "SipConfig",
    "SpeakRequest",
    "StartAgentRequest",
    "StartAgentResponse",
    "ThinkRequest",
    "TtsConfig",
    "Turn",
    "TurnEnd",
    "TurnMetrics",
    "TurnStart",
    "Turns",
    "UpdateAgentProperties",
    "UpdateAgentRequest",
    "UpdateAgentResponse",
    "UpdateLlm",
    "UpdateMllm",
    "UpdatePhoneNumberRequest",
    "WireModel",
    "is_secret_name",
    "mask_secrets",
]

T = TypeVar("T")


def mask_secrets(value: Any, *, keep_models: bool = False) -> Any:
    """A copy of ``value`` (dicts / lists / models) with secret-named entries replaced by ``***``.

    With ``keep_models`` nested models are left as they are (their own ``repr`` masks them).
    """
    if not keep_models:
        value = _dump_models(value)
    return mask_fields(value)


def _dump_models(value: Any) -> Any:
    if isinstance(value, BaseModel):
        return value.model_dump(mode="json", by_alias=True, exclude_none=True)
    if isinstance(value, dict):
        return {k: _dump_models(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_dump_models(v) for v in value]
    return value


def _drop_none(value: Any) -> Any:
    if isinstance(value, dict):
        return {k: _drop_none(v) for k, v in value.items() if v is not None}
    if isinstance(value, list):
        return [_drop_none(v) for v in value]
    return value


def _keep_nulls(pruned: Any, received: Any) -> Any:
    """``pruned`` (no None anywhere) with the nulls of ``received`` (only the fields that were
    set) put back where they were."""
    if isinstance(pruned, dict) and isinstance(received, dict):
        merged = {k: _keep_nulls(v, received.get(k)) for k, v in pruned.items()}
        merged.update({k: None for k, v in received.items() if v is None and k not in merged})
        return merged
    if isinstance(pruned, list) and isinstance(received, list) and len(pruned) == len(received):
        return [_keep_nulls(p, r) for p, r in zip(pruned, received, strict=True)]
    return pruned


class WireModel(BaseModel):
    """Base of every wire model: unknown fields kept, secrets masked in ``repr``."""

    model_config = ConfigDict(extra="allow", populate_by_name=True)

    def to_wire(self) -> dict[str, Any]:
        """The JSON body: wire names, no ``None`` anywhere (nested dicts and extras included)."""
        data = self.model_dump(mode="json", by_alias=True, exclude_none=True)
        result: dict[str, Any] = _drop_none(data)
        return result

    def as_received(self) -> dict[str, Any]:
        """The answer as JSON the way the official SDK gives it back (its models dump only what
        was set): fields left out when the service did not send them, and kept as null where
        it sent a null (a turn still being spoken: ``end: null``). Field names, not aliases."""
        kept: dict[str, Any] = _keep_nulls(
            self.model_dump(mode="json", exclude_none=True),
            self.model_dump(mode="json", exclude_unset=True),
        )
        return kept

    def redacted(self) -> dict[str, Any]:
        """Like :meth:`to_wire`, with secrets masked: safe for logs and tool results."""
        result: dict[str, Any] = mask_secrets(self.to_wire())
        return result

    def __repr_args__(self) -> Any:
        for name, value in super().__repr_args__():
            if name is not None and is_secret_name(name) and maskable(value):
                yield name, MASK
            elif isinstance(value, str):
                yield name, scrub(value, limit=None)
            elif isinstance(value, dict | list):
                yield name, mask_secrets(value, keep_models=True)
            else:
                yield name, value


# --------------------------------------------------------------------------- start requests


class AsrConfig(WireModel):
    """Speech recognition: ``vendor`` (e.g. ``deepgram``), ``language``, vendor ``params``."""

    vendor: str | None = None
    language: str | None = None
    params: dict[str, Any] | None = None


class LlmConfig(WireModel):
    """The chat LLM: an OpenAI-style endpoint, its key, prompt and messages."""

    url: str | None = None
    api_key: str | None = None
    vendor: str | None = None
    style: str | None = None
    system_messages: list[dict[str, Any]] | None = None
    params: dict[str, Any] | None = None
    max_history: int | None = None
    greeting_message: str | None = None
    failure_message: str | None = None
    input_modalities: list[str] | None = None
    output_modalities: list[str] | None = None
    headers: dict[str, str] | None = None
    template_variables: dict[str, str] | None = None
    mcp_servers: list[dict[str, Any]] | None = None
    tools: list[dict[str, Any]] | None = None


class TtsConfig(WireModel):
    """Text to speech: ``vendor`` and its ``params`` (``url``/``headers`` for ``generic_http``)."""

    vendor: str | None = None
    params: dict[str, Any] | None = None
    skip_patterns: list[int] | None = None
    url: str | None = None
    headers: dict[str, str] | None = None


class MllmConfig(WireModel):
    """A multimodal realtime model (speech in, speech out) replacing ASR + LLM + TTS."""

    enable: bool | None = None
    vendor: str | None = None
    url: str | None = None
    api_key: str | None = None
    params: dict[str, Any] | None = None
    messages: list[dict[str, Any]] | None = None
    max_history: int | None = None
    input_modalities: list[str] | None = None
    output_modalities: list[str] | None = None
    greeting_message: str | None = None
    failure_message: str | None = None
    turn_detection: dict[str, Any] | None = None


class AvatarConfig(WireModel):
    """A video avatar (``heygen``, ``liveavatar``, ``akool``, ``anam`` ...)."""

    enable: bool | None = None
    vendor: str | None = None
    params: dict[str, Any] | None = None


class _PropertiesBase(WireModel):
    channel: str
    token: str
    agent_rtc_uid: str
    enable_string_uid: bool | None = None
    idle_timeout: int | None = None
    asr: AsrConfig | None = None
    llm: LlmConfig | None = None
    tts: TtsConfig | None = None
    mllm: MllmConfig | None = None
    avatar: AvatarConfig | None = None
    turn_detection: dict[str, Any] | None = None
    parameters: dict[str, Any] | None = None
    advanced_features: dict[str, Any] | None = None
    geofence: dict[str, Any] | None = None
    interruption: dict[str, Any] | None = None
    sal: dict[str, Any] | None = None
    labels: dict[str, str] | None = None
    rtc: dict[str, Any] | None = None
    filler_words: dict[str, Any] | None = None


class AgentProperties(_PropertiesBase):
    """``properties`` of a start (join) request."""

    remote_rtc_uids: list[str]


class StartAgentRequest(WireModel):
    """Body of ``POST /v2/projects/{appid}/join``; ``name`` is unique per agent."""

    name: str
    properties: AgentProperties
    preset: str | None = None
    pipeline_id: str | None = None


# --------------------------------------------------------------------------- other requests


class UpdateLlm(WireModel):
    """LLM settings that may change while the agent runs."""

    system_messages: list[dict[str, Any]] | None = None
    params: dict[str, Any] | None = None


class UpdateMllm(WireModel):
    """MLLM settings that may change while the agent runs."""

    params: dict[str, Any] | None = None


class UpdateAgentProperties(WireModel):
    """``properties`` of an update request."""

    token: str | None = None
    llm: UpdateLlm | None = None
    mllm: UpdateMllm | None = None


class UpdateAgentRequest(WireModel):
    """Body of ``POST .../agents/{agent_id}/update``."""

    properties: UpdateAgentProperties


class SpeakRequest(WireModel):
    """Body of ``POST .../speak``: ``text`` of at most 512 UTF-8 bytes."""

    text: str
    priority: Literal["INTERRUPT", "APPEND", "IGNORE"] | None = None
    interruptable: bool | None = None


class ThinkRequest(WireModel):
    """Body of ``POST .../think``: inject text for the LLM to respond to."""

    text: str
    on_listening_action: Literal["inject", "interrupt", "ignore", "append"] | None = None
    on_thinking_action: Literal["interrupt", "ignore", "append"] | None = None
    on_speaking_action: Literal["interrupt", "ignore", "append"] | None = None
    interruptable: bool | None = None
    metadata: dict[str, str] | None = None


class SipConfig(WireModel):
    """The SIP leg of an outbound call."""

    to_number: str
    from_number: str
    rtc_uid: str
    rtc_token: str


class CallProperties(_PropertiesBase):
    """``properties`` of a call request (any start property is accepted)."""

    remote_rtc_uids: list[str] | None = None


class CallRequest(WireModel):
    """Body of ``POST /v2/projects/{appid}/call``."""

    name: str
    sip: SipConfig
    properties: CallProperties
    pipeline_id: str | None = None


class InboundConfig(WireModel):
    """Inbound SIP settings of a phone number."""

    allowed_addresses: list[str] | None = None


class OutboundConfig(WireModel):
    """Outbound SIP trunk settings of a phone number."""

    address: str | None = None
    transport: str | None = None
    prefix: str | None = None


class AddPhoneNumberRequest(WireModel):
    """Body of ``POST /v2/phone-numbers``."""

    provider: str
    phone_number: str
    label: str
    inbound: bool | None = None
    outbound: bool | None = None
    inbound_config: InboundConfig | None = None
    outbound_config: OutboundConfig | None = None


class PipelineRef(WireModel):
    """``{pipeline_id}``; ``None`` clears the association."""

    pipeline_id: str | None = None


class UpdatePhoneNumberRequest(WireModel):
    """Body of ``PATCH /v2/phone-numbers/{number}``: explicit ``None`` values are sent (clear)."""

    inbound_config: PipelineRef | None = None
    outbound_config: PipelineRef | None = None

    def to_wire(self) -> dict[str, Any]:
        """Only the fields that were set, explicit ``None`` (clear) included."""
        return self.model_dump(mode="json", by_alias=True, exclude_unset=True)


# --------------------------------------------------------------------------- responses


class AgentStatus(StrEnum):
    """Agent states; unknown names from a newer service are kept as plain strings."""

    IDLE = "IDLE"
    STARTING = "STARTING"
    RUNNING = "RUNNING"
    STOPPING = "STOPPING"
    STOPPED = "STOPPED"
    RECOVERING = "RECOVERING"
    FAILED = "FAILED"


STATE_NUMBERS: dict[AgentStatus, int] = {status: n for n, status in enumerate(AgentStatus)}
"""Each state's number on the wire (list filters take numbers; answers carry names)."""
_STATE_NUMBERS = {n: status for status, n in STATE_NUMBERS.items()}
TERMINAL_STATES: frozenset[AgentStatus] = frozenset({AgentStatus.STOPPED, AgentStatus.FAILED})
"""States an agent never leaves. ``STOPPING`` is not one: the agent is still leaving (its
history may still change), so watchers keep watching until ``STOPPED`` or a 404."""


def _status(value: Any) -> Any:
    if isinstance(value, bool):
        return value
    if isinstance(value, int):
        return _STATE_NUMBERS.get(value, str(value))
    if isinstance(value, str):
        try:
            return AgentStatus(value.upper())
        except ValueError:
            return value
    return value


Status = Annotated[AgentStatus | str | None, BeforeValidator(_status)]


class StartAgentResponse(WireModel):
    """Answer to a start: the new agent's id, creation time and status."""

    agent_id: str
    create_ts: int | None = None
    status: Status = None


class AgentInfo(WireModel):
    """Answer to ``GET .../agents/{agent_id}``."""

    agent_id: str | None = None
    start_ts: int | None = None
    stop_ts: int | None = None
    status: Status = None
    message: str | None = None


class AgentSummary(WireModel):
    """One item of the agent list."""

    agent_id: str
    start_ts: int | None = None
    status: Status = None


class ListMeta(WireModel):
    """Paging info of a list answer: the next page's ``cursor`` and the ``total``."""

    cursor: str | None = None
    total: int | None = None


class ListData(WireModel, Generic[T]):
    """``data`` of a list answer."""

    count: int | None = None
    items: list[T] = Field(default_factory=list, alias="list")


class ListResponse(WireModel, Generic[T]):
    """``{data: {count, list}, meta: {cursor, total}, status}``."""

    data: ListData[T] = Field(default_factory=ListData)
    meta: ListMeta | None = None
    status: str | None = None


class Page(BaseModel, Generic[T]):
    """One page of a list: the ``items``, the ``cursor`` of the next page (None at the end)."""

    items: list[T]
    cursor: str | None = None
    total: int | None = None


class HistoryEntry(WireModel):
    """One message of the conversation history."""

    role: str | None = None
    content: str | None = None
    speech_start_ms: int | None = None
    speech_end_ms: int | None = None
    speech_algorithmic_delay: int | None = None


class History(WireModel):
    """Answer to ``GET .../history`` (only while the agent runs)."""

    agent_id: str | None = None
    start_ts: int | None = None
    status: Status = None
    contents: list[HistoryEntry] = Field(default_factory=list)


class TurnStart(WireModel):
    """How a turn started (``voice_input``, ``greeting``, ``silence_timeout``, ``api_speak``).

    ``start_at`` is a Unix timestamp in **milliseconds** (an integer on the wire), unlike the
    seconds of every other timestamp of the API."""

    start_at: int | float | None = None
    type: str | None = None
    metadata: dict[str, Any] | None = None


class TurnEnd(WireModel):
    """How a turn ended (``ok``, ``interrupted``, ``ignored``, ``error``); ``metadata.caused_by``
    says what cut an interrupted turn (``start_of_speech``, ``api_speak``, ``api_interrupt``,
    ``api_leave``). ``end_at`` is a Unix timestamp in **milliseconds**."""

    end_at: int | float | None = None
    type: str | None = None
    metadata: dict[str, Any] | None = None


class LatencySegment(WireModel):
    """Latency of one pipeline stage in ms: ``asr_ttlw`` (ASR time to last word), ``llm_ttft``
    (LLM time to first token), ``llm_ftfs``, ``tts_ttfb`` (TTS time to first byte),
    ``algorithm_processing``, ``transport``; ``llm_ttfa`` for audio-modality LLMs."""

    name: str | None = None
    latency: float | None = None


class TurnMetrics(WireModel):
    """End-to-end and per-stage latency of a turn."""

    e2e_latency_ms: float | None = None
    segmented_latency_ms: list[LatencySegment] | None = None


class Turn(WireModel):
    """One conversational turn with its timing metrics."""

    turn_id: float | None = None
    start: TurnStart | None = None
    end: TurnEnd | None = None
    metrics: TurnMetrics | None = None


class Pagination(WireModel):
    """Paging info of the turns answer."""

    page_index: int | None = None
    total_pages: int | None = None
    is_last_page: bool | None = None


class Turns(WireModel):
    """Answer to ``GET .../turns``; the client merges all pages into ``turns``."""

    agent_id: str | None = None
    name: str | None = None
    channel: str | None = None
    total_turn_count: int | None = None
    pagination: Pagination | None = None
    turns: list[Turn] = Field(default_factory=list)


class UpdateAgentResponse(WireModel):
    """Answer to an update."""

    agent_id: str | None = None
    create_ts: int | None = None
    status: Status = None


class ActionResponse(WireModel):
    """Answer to speak / interrupt / think."""

    agent_id: str | None = None
    channel: str | None = None
    start_ts: int | None = None


class CallResponse(WireModel):
    """Answer to an outbound call: the id of the agent on the call."""

    agent_id: str


class CallInfo(WireModel):
    """A call, as listed or read by id."""

    agent_id: str | None = None
    channel: str | None = None
    to_number: str | None = None
    from_number: str | None = None
    pipeline_id: str | None = None
    type: str | None = None
    state: str | None = None
    """``answered`` or ``hangup``; absent (None) while the call has not been answered yet."""
    reason: str | None = None
    """Why it ended: ``request`` (hung up through the API), ``hangup`` (the other party),
    ``failed``; absent while the call goes on."""
    create_ts: int | None = None
    stop_ts: int | None = None


class AssociatedPipeline(WireModel):
    """The pipeline a phone number is attached to."""

    pipeline_id: str | None = None
    pipeline_name: str | None = None


class PhoneNumber(WireModel):
    """A phone number of the account."""

    phone_number: str | None = None
    provider: str | None = None
    label: str | None = None
    inbound: bool | None = None
    outbound: bool | None = None
    associated_pipeline: AssociatedPipeline | None = None
    inbound_config: dict[str, Any] | None = None
    outbound_config: dict[str, Any] | None = None
