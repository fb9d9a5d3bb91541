"""Request-body validation the way the service does it (pure functions, no state).

Every function raises :class:`~convoai_mcp.sandbox.errors.SandboxError` (400
``MissingRequiredField`` / ``InvalidFieldValue`` / ``InvalidRequestBody``) naming the field."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any

from .errors import SandboxError, bad_request, missing
from .stages import tts_sample_rate, validate_stage

__all__ = [
    "ASR_PRESETS",
    "AVATAR_SAMPLE_RATES",
    "LLM_PRESETS",
    "MAX_SPEAK_BYTES",
    "TTS_PRESETS",
    "AgentConfig",
    "CallConfig",
    "parse_presets",
    "validate_agent_properties",
    "validate_call_body",
    "validate_channel",
    "validate_e164",
    "validate_join_body",
    "validate_speak_body",
    "validate_think_body",
    "validate_uid",
    "validate_update_body",
]

ASR_PRESETS = frozenset({"deepgram_nova_2", "deepgram_nova_3"})
LLM_PRESETS = frozenset(
    {"openai_gpt_4o_mini", "openai_gpt_4_1_mini", "openai_gpt_5_nano", "openai_gpt_5_mini"}
)
TTS_PRESETS = frozenset({"minimax_speech_2_6_turbo", "minimax_speech_2_8_turbo", "openai_tts_1"})
AVATAR_SAMPLE_RATES: dict[str, int] = {"heygen": 24000, "liveavatar": 24000, "akool": 16000}
AVATAR_VENDORS = frozenset(
    {"akool", "liveavatar", "anam", "generic", "sensetime", "spatius", "heygen"}
)
MAX_SPEAK_BYTES = 512
DEFAULT_MAX_HISTORY = 32
SPEAK_PRIORITIES = frozenset({"INTERRUPT", "APPEND", "IGNORE"})
LISTENING_ACTIONS = frozenset({"inject", "interrupt", "ignore", "append"})
BUSY_ACTIONS = frozenset({"interrupt", "ignore", "append"})
LLM_STYLES = frozenset({"openai", "gemini", "anthropic", "dify", "bedrock"})

_NAME_CHARS = re.compile(r"^[a-zA-Z0-9 !#$%&()+\-:;<=.>?@\[\]^_{|}~,]+$")
_E164 = re.compile(r"^\+[1-9][0-9]{1,14}$")
_MAX_UID = 2**32 - 1


@dataclass
class AgentConfig:
    """What the emulator keeps from a valid start (or call) body."""

    name: str
    channel: str
    agent_uid: str
    remote_uids: list[str]
    token: str
    idle_timeout: int | None = None
    max_history: int = DEFAULT_MAX_HISTORY
    greeting: str | None = None
    failure_message: str | None = None
    mllm: bool = False
    presets: list[str] = field(default_factory=list)
    pipeline_id: str | None = None
    properties: dict[str, Any] = field(default_factory=dict)


@dataclass
class CallConfig:
    """A valid outbound call body."""

    agent: AgentConfig
    to_number: str
    from_number: str
    sip_uid: str
    sip_token: str


def _obj(value: Any, path: str, *, required: bool = True) -> dict[str, Any]:
    if value is None:
        if required:
            raise missing(path)
        return {}
    if not isinstance(value, dict):
        raise bad_request(path, "must be a JSON object")
    return value


def _str(obj: dict[str, Any], key: str, path: str, *, required: bool = True) -> str | None:
    value = obj.get(key)
    if value is None or value == "":
        if required:
            raise missing(f"{path}.{key}" if path else key)
        return None
    if not isinstance(value, str):
        raise bad_request(f"{path}.{key}" if path else key, "must be a string")
    return value


def _int(obj: dict[str, Any], key: str, path: str, *, low: int, high: int) -> int | None:
    value = obj.get(key)
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int):
        raise bad_request(f"{path}.{key}", "must be an integer")
    if not low <= value <= high:
        raise bad_request(f"{path}.{key}", f"must be between {low} and {high}, got {value}")
    return value


def _bool(obj: dict[str, Any], key: str, path: str) -> bool | None:
    value = obj.get(key)
    if value is None:
        return None
    if not isinstance(value, bool):
        raise bad_request(f"{path}.{key}" if path else key, "must be true or false")
    return value


def validate_channel(channel: str, path: str = "properties.channel") -> str:
    """A channel name: 1..64 bytes of letters, digits, space and ``!#$%&()+-:;<=.>?@[]^_{|}~,``."""
    if len(channel.encode()) > 64:
        raise bad_request(path, "must be at most 64 bytes")
    if not _NAME_CHARS.match(channel):
        raise bad_request(
            path, "may contain only letters, digits, space and !#$%&()+-:;<=.>?@[]^_{|}~,"
        )
    return channel


def validate_uid(uid: str, *, string_uid: bool, path: str) -> str:
    """An RTC uid as a string: decimal 0..2^32-1, or (``enable_string_uid``) a user account."""
    if string_uid:
        if len(uid.encode()) > 255 or not _NAME_CHARS.match(uid):
            raise bad_request(path, "a string uid has 1..255 bytes of letters, digits and symbols")
        return uid
    if not uid.isascii() or not uid.isdigit() or int(uid) > _MAX_UID:
        raise bad_request(
            path,
            f"must be a decimal integer 0..{_MAX_UID} (set enable_string_uid for string uids)",
        )
    return uid


def validate_e164(number: Any, path: str) -> str:
    """A phone number in E.164: ``+`` then 2..15 digits, not starting with 0."""
    if number is None or number == "":
        raise missing(path)
    if not isinstance(number, str) or not _E164.match(number):
        raise bad_request(path, f"must be an E.164 number such as +14155550100, got {number!r}")
    return number


def parse_presets(value: Any) -> list[str]:
    """The comma-separated ``preset`` field; unknown names are refused."""
    if value is None or value == "":
        return []
    if not isinstance(value, str):
        raise bad_request("preset", "must be a comma-separated string of preset names")
    names = [part.strip() for part in value.split(",") if part.strip()]
    known = ASR_PRESETS | LLM_PRESETS | TTS_PRESETS
    for name in names:
        if name not in known:
            raise bad_request(
                "preset", f"unknown preset {name!r}; known: {', '.join(sorted(known))}"
            )
    return names


def _mllm_enabled(props: dict[str, Any]) -> bool:
    mllm = props.get("mllm")
    features = props.get("advanced_features")
    if isinstance(mllm, dict) and mllm.get("enable") is True:
        return True
    return isinstance(features, dict) and features.get("enable_mllm") is True


def _validate_avatar(props: dict[str, Any], mllm: bool) -> None:
    avatar = _obj(props.get("avatar"), "properties.avatar", required=False)
    if not avatar or avatar.get("enable") is False:
        return
    if mllm:
        raise bad_request("properties.avatar", "an avatar cannot be combined with an MLLM agent")
    vendor = _str(avatar, "vendor", "properties.avatar")
    if vendor not in AVATAR_VENDORS:
        raise bad_request("properties.avatar.vendor", f"unknown avatar vendor {vendor!r}")
    needed = AVATAR_SAMPLE_RATES.get(str(vendor))
    tts = props.get("tts")
    rate = tts_sample_rate(tts) if isinstance(tts, dict) else None
    if needed is not None and rate is not None and rate != needed:
        raise bad_request(
            "properties.tts.params.sample_rate",
            f"avatar vendor {vendor} needs {needed} Hz TTS audio, got {rate} Hz from the TTS "
            f"vendor {tts.get('vendor') if isinstance(tts, dict) else None}",
        )
    validate_stage("avatar", avatar)


def _validate_stages(props: dict[str, Any], presets: list[str], mllm: bool) -> None:
    """Each vendor stage carries what its vendor requires (:mod:`.stages`); a stage a preset
    stands for is the preset's."""
    chosen = set(presets)
    stages = (
        (("mllm", None),)
        if mllm
        else (("asr", ASR_PRESETS), ("llm", LLM_PRESETS), ("tts", TTS_PRESETS))
    )
    for kind, kind_presets in stages:
        stage = props.get(kind)
        if isinstance(stage, dict) and not (kind_presets and chosen & kind_presets):
            validate_stage(kind, stage)


def _validate_cascade(props: dict[str, Any], presets: list[str]) -> None:
    asr = _obj(props.get("asr"), "properties.asr", required=False)
    if asr:
        _str(asr, "vendor", "properties.asr", required=False)
        _str(asr, "language", "properties.asr", required=False)
    llm = _obj(props.get("llm"), "properties.llm", required=not set(presets) & LLM_PRESETS)
    url = _str(llm, "url", "properties.llm", required=not set(presets) & LLM_PRESETS)
    if url is not None and not url.startswith(("https://", "http://")):
        raise bad_request("properties.llm.url", "must be an http(s) URL")
    style = llm.get("style")
    if style is not None and style not in LLM_STYLES:
        raise bad_request("properties.llm.style", f"must be one of {', '.join(sorted(LLM_STYLES))}")
    messages = llm.get("system_messages")
    if messages is not None and not (
        isinstance(messages, list) and all(isinstance(m, dict) for m in messages)
    ):
        raise bad_request("properties.llm.system_messages", "must be a list of message objects")
    tts = _obj(props.get("tts"), "properties.tts", required=not set(presets) & TTS_PRESETS)
    _str(tts, "vendor", "properties.tts", required=not set(presets) & TTS_PRESETS)


def validate_agent_properties(
    props_value: Any,
    *,
    name: str,
    presets: list[str],
    pipeline_id: str | None,
    require_pipeline_parts: bool = True,
) -> AgentConfig:
    """Validate ``properties`` of a start body (or of a call body)."""
    props = _obj(props_value, "properties")
    channel = validate_channel(str(_str(props, "channel", "properties")))
    token = _str(props, "token", "properties")
    string_uid = bool(_bool(props, "enable_string_uid", "properties"))
    agent_uid = validate_uid(
        str(_str(props, "agent_rtc_uid", "properties")),
        string_uid=string_uid,
        path="properties.agent_rtc_uid",
    )
    remote = props.get("remote_rtc_uids")
    if remote is None:
        raise missing("properties.remote_rtc_uids")
    if not isinstance(remote, list) or not remote or not all(isinstance(u, str) for u in remote):
        raise bad_request(
            "properties.remote_rtc_uids",
            'must be a non-empty list of strings: the user uid, e.g. ["1002"]',
        )
    for index, uid in enumerate(remote):
        if uid != "*":
            validate_uid(uid, string_uid=string_uid, path=f"properties.remote_rtc_uids[{index}]")
    idle = _int(props, "idle_timeout", "properties", low=0, high=86400 * 7)
    mllm = _mllm_enabled(props)
    if mllm:
        _obj(props.get("mllm"), "properties.mllm", required=False)
    elif require_pipeline_parts and pipeline_id is None:
        _validate_cascade(props, presets)
    _validate_avatar(props, mllm)
    _validate_stages(props, presets, mllm)
    stage = _obj(props.get("mllm" if mllm else "llm"), "properties.llm", required=False)
    max_history = _int(stage, "max_history", "properties.llm", low=1, high=1024)
    return AgentConfig(
        name=name,
        channel=channel,
        agent_uid=agent_uid,
        remote_uids=list(remote),
        token=str(token),
        idle_timeout=idle,
        max_history=max_history or DEFAULT_MAX_HISTORY,
        greeting=_str(stage, "greeting_message", "properties.llm", required=False),
        failure_message=_str(stage, "failure_message", "properties.llm", required=False),
        mllm=mllm,
        presets=presets,
        pipeline_id=pipeline_id,
        properties=props,
    )


def _body(body: Any) -> dict[str, Any]:
    if not isinstance(body, dict):
        raise SandboxError(400, "InvalidRequestBody", "the request body must be a JSON object")
    return body


def _name(body: dict[str, Any]) -> str:
    name = _str(body, "name", "")
    assert name is not None
    if len(name) > 128:
        raise bad_request("name", "must be at most 128 characters")
    return name


def validate_join_body(body: Any) -> AgentConfig:
    """Validate ``POST /v2/projects/{appid}/join``."""
    data = _body(body)
    name = _name(data)
    presets = parse_presets(data.get("preset"))
    pipeline_id = _str(data, "pipeline_id", "", required=False)
    return validate_agent_properties(
        data.get("properties"), name=name, presets=presets, pipeline_id=pipeline_id
    )


def validate_call_body(body: Any) -> CallConfig:
    """Validate ``POST /v2/projects/{appid}/call`` (the state checks ``from_number``)."""
    data = _body(body)
    name = _name(data)
    sip = _obj(data.get("sip"), "sip")
    to_number = validate_e164(sip.get("to_number"), "sip.to_number")
    from_number = validate_e164(sip.get("from_number"), "sip.from_number")
    sip_uid = validate_uid(str(_str(sip, "rtc_uid", "sip")), string_uid=False, path="sip.rtc_uid")
    sip_token = str(_str(sip, "rtc_token", "sip"))
    pipeline_id = _str(data, "pipeline_id", "", required=False)
    props = _obj(data.get("properties"), "properties")
    if "remote_rtc_uids" not in props:
        props = {**props, "remote_rtc_uids": [sip_uid]}
    # No preset on a call: without a pipeline the properties need a full LLM and TTS
    # configuration, as the service documents for the call endpoint.
    agent = validate_agent_properties(props, name=name, presets=[], pipeline_id=pipeline_id)
    return CallConfig(
        agent=agent,
        to_number=to_number,
        from_number=from_number,
        sip_uid=sip_uid,
        sip_token=sip_token,
    )


def validate_speak_body(body: Any) -> tuple[str, str, bool]:
    """``text`` (at most 512 UTF-8 bytes), ``priority`` (default INTERRUPT), ``interruptable``."""
    data = _body(body)
    text = _str(data, "text", "")
    assert text is not None
    size = len(text.encode())
    if size > MAX_SPEAK_BYTES:
        raise bad_request(
            "text", f"is {size} bytes of UTF-8; at most {MAX_SPEAK_BYTES} are allowed"
        )
    priority = data.get("priority") or "INTERRUPT"
    if priority not in SPEAK_PRIORITIES:
        raise bad_request("priority", f"must be one of {', '.join(sorted(SPEAK_PRIORITIES))}")
    interruptable = _bool(data, "interruptable", "")
    return text, str(priority), interruptable is not False


def validate_think_body(body: Any) -> tuple[str, str, dict[str, str]]:
    """``text`` and the ``on_*_action`` fields; returns (text, listening action, metadata)."""
    data = _body(body)
    text = _str(data, "text", "")
    assert text is not None
    listening = data.get("on_listening_action") or "interrupt"
    if listening not in LISTENING_ACTIONS:
        raise bad_request(
            "on_listening_action", f"must be one of {', '.join(sorted(LISTENING_ACTIONS))}"
        )
    for key in ("on_thinking_action", "on_speaking_action"):
        value = data.get(key)
        if value is not None and value not in BUSY_ACTIONS:
            raise bad_request(key, f"must be one of {', '.join(sorted(BUSY_ACTIONS))}")
    _bool(data, "interruptable", "")
    metadata = data.get("metadata")
    if metadata is None:
        metadata = {}
    if not isinstance(metadata, dict) or not all(
        isinstance(k, str) and isinstance(v, str) for k, v in metadata.items()
    ):
        raise bad_request("metadata", "must be an object of string to string")
    return text, str(listening), dict(metadata)


def validate_update_body(body: Any) -> dict[str, Any]:
    """``properties: {token, llm: {system_messages, params}, mllm: {params}}``."""
    data = _body(body)
    props = _obj(data.get("properties"), "properties")
    _str(props, "token", "properties", required=False)
    llm = _obj(props.get("llm"), "properties.llm", required=False)
    messages = llm.get("system_messages")
    if messages is not None and not (
        isinstance(messages, list) and all(isinstance(m, dict) for m in messages)
    ):
        raise bad_request("properties.llm.system_messages", "must be a list of message objects")
    _obj(llm.get("params"), "properties.llm.params", required=False)
    mllm = _obj(props.get("mllm"), "properties.mllm", required=False)
    _obj(mllm.get("params"), "properties.mllm.params", required=False)
    return props
