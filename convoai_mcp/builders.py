"""From a friendly :class:`AgentSpec` to a valid start (or call) request, with no I/O.

:func:`build_start_request` refuses, with :class:`~convoai_mcp.errors.ValidationError`, what the
service would reject anyway, so nothing half-built is ever sent:

- a channel name or uid the RTC network does not accept, an empty name or uid list;
- a cascading agent without an LLM or a TTS stage (unless a preset or a pipeline provides it);
- an avatar together with an MLLM, or an avatar whose required TTS sample rate (HeyGen and
  LiveAvatar 24000 Hz, Akool 16000 Hz) differs from the TTS sample rate that is set;
- a token lifetime outside 1..86400 seconds.

It mints the channel join token itself (a ConvoAI token for the agent's channel and uid) when it
is given the App Certificate. :func:`validate_speak_text` and :func:`validate_e164` serve the
client's speak / think and call paths.

The body is the one the official Python SDK (``agora-agents`` 2.12.0, its ``agentkit``) sends for
the same agent, and the contract tests (``tests/test_contract_requests.py``) hold it to that:

- defaults the SDK always sends: ``parameters.audio_scenario: default``; for an ASR + LLM + TTS
  agent ``turn_detection.language`` (``en-US`` unless given) with the ASR ``language`` set to the
  same value, and the ASR vendor ``ares`` (``fengming`` in the CN area) when no ASR is configured
  and no ASR preset or pipeline provides one; ``parameters.data_channel: rtm`` when
  ``advanced_features.enable_rtm`` is on; an LLM given here gets ``style: openai`` and
  ``input_modalities: ["text"]`` unless it sets them. Where we differ: the SDK overwrites a
  given ASR language with the turn-detection language; we take the ASR language as the
  turn-detection language when only the ASR one is given (both end up equal either way);
- an MLLM agent is marked with ``mllm.enable`` (the deprecated
  ``advanced_features.enable_mllm`` is removed), and gets no turn detection or ASR;
- ``system_prompt`` / ``greeting`` / ``failure_message`` / ``max_history`` fill only what the
  LLM (or MLLM) config leaves unset: the config wins, as in the SDK;
- agent uid ``0`` is allowed (the service assigns a random uid);
- an avatar whose vendor publishes its own video in the channel (``heygen``, ``liveavatar``,
  ``generic``, ``sensetime``, ``spatius``) and names its ``agora_uid`` gets its ``agora_token``
  minted for that uid when the App Certificate is known (a ``generic`` one also its
  ``agora_appid`` / ``agora_channel``), as the SDK's sessions do.
"""

from __future__ import annotations

import re
import secrets
from typing import Any, TypeVar

import pydantic
from pydantic import BaseModel, ConfigDict, Field

from convoai_mcp import tokens
from convoai_mcp.errors import ValidationError
from convoai_mcp.models import (
    AgentProperties,
    AsrConfig,
    AvatarConfig,
    CallProperties,
    CallRequest,
    LlmConfig,
    MllmConfig,
    SipConfig,
    StartAgentRequest,
    TtsConfig,
)
from convoai_mcp.phone import is_e164
from convoai_mcp.presets import ASR_PRESETS, LLM_PRESETS, TTS_PRESETS

__all__ = [
    "ASR_PRESETS",
    "AVATAR_SAMPLE_RATES",
    "DEFAULT_ASR_VENDOR",
    "DEFAULT_ASR_VENDOR_CN",
    "DEFAULT_TURN_DETECTION_LANGUAGE",
    "LLM_PRESETS",
    "MAX_SPEAK_BYTES",
    "TTS_PRESETS",
    "AgentSpec",
    "build_call_request",
    "build_start_request",
    "tts_sample_rate",
    "validate_channel",
    "validate_e164",
    "validate_speak_text",
    "validate_token_lifetime",
    "validate_uid",
]

MAX_SPEAK_BYTES = 512
DEFAULT_TURN_DETECTION_LANGUAGE = "en-US"
"""The turn-detection (and ASR) language when none is given, as the official SDK sends it."""
DEFAULT_ASR_VENDOR = "ares"
DEFAULT_ASR_VENDOR_CN = "fengming"
"""The ASR vendor sent when none is configured (the service's own; ``fengming`` in CN)."""
AVATAR_SAMPLE_RATES = {"heygen": 24000, "liveavatar": 24000, "akool": 16000}
"""Avatar vendor -> the TTS sample rate it needs."""
_PUBLISHING_AVATARS = frozenset({"heygen", "liveavatar", "generic", "sensetime", "spatius"})
"""Avatar vendors that join the channel as ``agora_uid`` and need a token for it."""

M = TypeVar("M", bound=BaseModel)
# RTC channel names: at most 64 bytes of letters, digits, space and these punctuation marks.
_CHANNEL = re.compile(r"[A-Za-z0-9 !#$%&()+\-:;<=.>?@\[\]^_{|}~,]{1,64}")
_UID_MAX = 2**32 - 1


def _new_name() -> str:
    return f"convoai-{secrets.token_hex(4)}"


class AgentSpec(BaseModel):
    """What an agent should be; :func:`build_start_request` turns it into the wire request.

    Stages come from explicit ``asr`` / ``llm`` / ``tts`` configs, from ``presets`` (e.g.
    ``["deepgram_nova_3", "openai_gpt_4o_mini", "minimax_speech_2_6_turbo"]``), from a
    ``pipeline_id`` made in the console, or from an ``mllm`` (realtime speech model).
    ``system_prompt`` / ``greeting`` / ``failure_message`` / ``max_history`` go into the LLM
    (or MLLM) config. ``extra_properties`` are merged into ``properties`` as given.
    """

    model_config = ConfigDict(extra="forbid")

    name: str = Field(default_factory=_new_name, description="unique agent name")
    channel: str = Field(description="RTC channel the agent joins")
    agent_uid: str = Field(default="1001", description="the agent's RTC uid")
    remote_uids: list[str] = Field(
        default_factory=lambda: ["1002"],
        description="the user uid the agent listens to (the service takes one)",
    )
    enable_string_uid: bool | None = None
    system_prompt: str | None = None
    greeting: str | None = None
    failure_message: str | None = None
    max_history: int | None = Field(default=None, ge=1)
    idle_timeout: int | None = Field(default=None, ge=0)
    asr: AsrConfig | None = None
    llm: LlmConfig | None = None
    tts: TtsConfig | None = None
    mllm: MllmConfig | None = None
    avatar: AvatarConfig | None = None
    presets: list[str] = Field(default_factory=list)
    pipeline_id: str | None = None
    turn_detection: dict[str, Any] | None = None
    parameters: dict[str, Any] | None = None
    advanced_features: dict[str, Any] | None = None
    extra_properties: dict[str, Any] = Field(default_factory=dict)

    @property
    def is_mllm(self) -> bool:
        """True when the agent runs on a realtime MLLM instead of ASR + LLM + TTS."""
        return self.mllm is not None and self.mllm.enable is not False

    def __repr__(self) -> str:
        return f"AgentSpec(name={self.name!r}, channel={self.channel!r}, uid={self.agent_uid!r})"

    def __str__(self) -> str:
        return repr(self)


def _checked(model: type[M], data: dict[str, Any], where: str) -> M:
    """``model.model_validate(data)``, failing with a ValidationError that names the fields
    but never echoes their values (they may be secrets)."""
    try:
        return model.model_validate(data)
    except pydantic.ValidationError as exc:
        problems = "; ".join(
            f"{where}.{'.'.join(str(p) for p in err['loc'])}: {err['msg']}"
            for err in exc.errors(include_url=False, include_input=False)
        )
        raise ValidationError(problems, hint="fix the named fields") from None


# --------------------------------------------------------------------------- small validators


def validate_speak_text(text: str) -> str:
    """Return ``text`` if it is non-empty and at most 512 UTF-8 bytes, else ValidationError."""
    size = len(text.encode("utf-8"))
    if not text.strip():
        raise ValidationError("speak text is empty", hint="give the sentence the agent should say")
    if size > MAX_SPEAK_BYTES:
        raise ValidationError(
            f"speak text is {size} bytes in UTF-8; the service accepts at most {MAX_SPEAK_BYTES}",
            hint="split it into shorter messages",
        )
    return text


def validate_e164(number: str) -> str:
    """Return ``number`` if it is E.164 (``+`` then 7..15 digits, no spaces), else raise."""
    if not is_e164(number):
        raise ValidationError(
            f"phone number {number!r} is not in E.164 form",
            hint="use + and the country code, digits only, e.g. +14155550123",
        )
    return number


def validate_channel(channel: str) -> str:
    """Return ``channel`` if the RTC network accepts it as a channel name (<= 64 bytes)."""
    if not _CHANNEL.fullmatch(channel):
        raise ValidationError(
            f"channel name {channel!r} is not valid",
            hint="use 1..64 characters: letters, digits, space and !#$%&()+-:;<=.>?@[]^_{|}~,",
        )
    return channel


def validate_uid(uid: str, *, string_uid: bool | None = None, what: str = "agent uid") -> str:
    """Return ``uid`` if valid: digits in 0..2**32-1 (0: the service assigns a random uid), or
    any 1..255 chars with string uids."""
    if string_uid:
        if not 0 < len(uid.encode("utf-8")) <= 255:
            raise ValidationError(f"{what} {uid!r} must be 1..255 bytes")
        return uid
    if not (uid.isascii() and uid.isdigit()) or not 0 <= int(uid) <= _UID_MAX:
        raise ValidationError(
            f"{what} {uid!r} is not a numeric uid in 0..{_UID_MAX}",
            hint="use digits, e.g. 1001 (0: the service picks one), or set enable_string_uid "
            "for string accounts",
        )
    return uid


def validate_token_lifetime(lifetime: int) -> int:
    """Return ``lifetime`` if it is 1..86400 seconds (no silent capping), else raise."""
    if isinstance(lifetime, bool) or not isinstance(lifetime, int) or not 1 <= lifetime <= 86400:
        raise ValidationError(
            f"token lifetime {lifetime!r} is out of range",
            hint="choose 1..86400 seconds (24 hours at most)",
        )
    return lifetime


def tts_sample_rate(tts: TtsConfig | None) -> int | None:
    """The output sample rate a TTS config sets, wherever its vendor keeps it, or None."""
    if tts is None or not tts.params:
        return None
    params = tts.params
    candidates: list[Any] = [params.get("sample_rate")]
    for nested, key in (
        ("audio_setting", "sample_rate"),  # minimax
        ("output_format", "sample_rate"),  # cartesia
        ("AudioConfig", "sample_rate_hertz"),  # google
    ):
        inner = params.get(nested)
        if isinstance(inner, dict):
            candidates.append(inner.get(key))
    for value in candidates:
        if isinstance(value, int | float) and not isinstance(value, bool):
            return int(value)
    return None


# --------------------------------------------------------------------------- stage checks


def _check_presets(presets: list[str]) -> None:
    for preset in presets:
        if not preset or preset != preset.strip() or "," in preset:
            raise ValidationError(
                f"preset {preset!r} is not a preset name",
                hint="give one name per list item, e.g. deepgram_nova_3",
            )


def _check_stages(spec: AgentSpec) -> None:
    if spec.pipeline_id:
        return  # the pipeline defines the stages
    if spec.is_mllm:
        if spec.avatar is not None and spec.avatar.enable is not False:
            raise ValidationError(
                "an avatar cannot be combined with an MLLM (realtime) agent",
                hint="remove the avatar, or use ASR + LLM + TTS",
            )
        return
    known = ASR_PRESETS | LLM_PRESETS | TTS_PRESETS
    if any(p not in known for p in spec.presets):
        return  # an unknown preset may provide any stage; let the service judge
    has_llm = spec.llm is not None or bool(LLM_PRESETS.intersection(spec.presets))
    has_tts = spec.tts is not None or bool(TTS_PRESETS.intersection(spec.presets))
    if not has_llm:
        raise ValidationError(
            "the agent has no LLM",
            hint="set llm (url, api_key, model), an LLM preset such as openai_gpt_4o_mini, "
            "a pipeline_id, or an mllm",
        )
    if not has_tts:
        raise ValidationError(
            "the agent has no TTS",
            hint="set tts (vendor and params), a TTS preset such as minimax_speech_2_6_turbo, "
            "or a pipeline_id",
        )
    llm = spec.llm
    if (
        llm is not None
        and not LLM_PRESETS.intersection(spec.presets)
        and not (llm.url or llm.vendor or llm.style == "bedrock")
    ):
        raise ValidationError(
            "llm.url is missing", hint="give the chat completions URL, or use an LLM preset"
        )
    if spec.tts is not None and not TTS_PRESETS.intersection(spec.presets) and not spec.tts.vendor:
        raise ValidationError("tts.vendor is missing", hint="e.g. microsoft, elevenlabs, minimax")


def _check_avatar(spec: AgentSpec) -> None:
    avatar = spec.avatar
    if avatar is None or avatar.enable is False or not avatar.vendor:
        return
    needed = AVATAR_SAMPLE_RATES.get(avatar.vendor.lower())
    actual = tts_sample_rate(spec.tts)
    if needed is not None and actual is not None and actual != needed:
        raise ValidationError(
            f"avatar {avatar.vendor} needs TTS audio at {needed} Hz, but the TTS is set to "
            f"{actual} Hz",
            hint=f"set the TTS sample_rate to {needed}",
        )


# --------------------------------------------------------------------------- assembly


def _llm(spec: AgentSpec) -> LlmConfig | None:
    """The LLM config; the spec's prompt, greeting, failure message and history size fill only
    what it leaves unset (the config wins, as in the official SDK)."""
    if spec.llm is None and not (
        spec.system_prompt or spec.greeting or spec.failure_message or spec.max_history
    ):
        return None
    llm = (spec.llm or LlmConfig()).model_copy(deep=True)
    if llm.system_messages is None and spec.system_prompt:
        llm.system_messages = [{"role": "system", "content": spec.system_prompt}]
    if llm.greeting_message is None:
        llm.greeting_message = spec.greeting
    if llm.failure_message is None:
        llm.failure_message = spec.failure_message
    if llm.max_history is None:
        llm.max_history = spec.max_history
    if spec.llm is not None and not LLM_PRESETS.intersection(spec.presets):
        # what the SDK's LLM vendors always send (the service's defaults)
        if llm.style is None:
            llm.style = "openai"
        if llm.input_modalities is None:
            llm.input_modalities = ["text"]
    return llm


def _mllm(spec: AgentSpec) -> MllmConfig | None:
    """The MLLM config marked ``enable``; the spec's prompt (as ``params.instructions``),
    greeting, failure message and history size fill only what it leaves unset."""
    if spec.mllm is None:
        return None
    mllm = spec.mllm.model_copy(deep=True)
    if not spec.is_mllm:
        return mllm  # disabled (enable: false): sent as given, the agent is ASR + LLM + TTS
    mllm.enable = True
    if spec.system_prompt:
        params = dict(mllm.params or {})
        params.setdefault("instructions", spec.system_prompt)
        mllm.params = params
    if mllm.greeting_message is None:
        mllm.greeting_message = spec.greeting
    if mllm.failure_message is None:
        mllm.failure_message = spec.failure_message
    if mllm.max_history is None:
        mllm.max_history = spec.max_history
    return mllm


def _turn_detection(spec: AgentSpec, *, cn: bool) -> tuple[dict[str, Any] | None, AsrConfig | None]:
    """Turn detection and ASR with the SDK's defaults: for an ASR + LLM + TTS agent the
    turn-detection language (given, else the ASR language, else en-US) is also the ASR
    language, and the service's default ASR vendor is named when no ASR stage is provided."""
    turn_detection = dict(spec.turn_detection) if spec.turn_detection is not None else None
    asr = spec.asr.model_copy(deep=True) if spec.asr is not None else None
    if spec.is_mllm:
        return turn_detection, asr
    language = (turn_detection or {}).get("language") or (asr.language if asr else None)
    language = language or DEFAULT_TURN_DETECTION_LANGUAGE
    turn_detection = {**(turn_detection or {}), "language": language}
    provided = spec.pipeline_id or ASR_PRESETS.intersection(spec.presets)
    if asr is None and not provided:
        asr = AsrConfig()
    if asr is not None:
        asr.language = language
        if asr.vendor is None and not provided:
            asr.vendor = DEFAULT_ASR_VENDOR_CN if cn else DEFAULT_ASR_VENDOR
    return turn_detection, asr


def _parameters(spec: AgentSpec) -> dict[str, Any]:
    """``parameters`` with the SDK's defaults: ``audio_scenario: default``, and
    ``data_channel: rtm`` when RTM is enabled."""
    parameters = dict(spec.parameters or {})
    parameters.setdefault("audio_scenario", "default")
    if (spec.advanced_features or {}).get("enable_rtm") is True:
        parameters.setdefault("data_channel", "rtm")
    return parameters


def _join_token(
    spec: AgentSpec,
    uid: str,
    *,
    app_id: str,
    app_certificate: str | None,
    token: str | None,
    lifetime: int,
) -> str:
    if token is not None:
        return token
    if app_certificate is None:
        raise ValidationError(
            "no channel join token for the agent",
            hint="configure AGORA_APP_CERTIFICATE so the token is minted, or pass token= "
            "(an empty string only for projects without an App Certificate)",
        )
    # A numeric uid is minted as the integer it is, so uid 0 packs as the empty account, as
    # Agora's reference token builders and our recorded vectors do (the official SDK packs
    # "0"; the service accepts both for uid 0).
    account: int | str = uid if spec.enable_string_uid else int(uid)
    try:
        return tokens.mint_convoai_token(
            app_id, app_certificate, spec.channel, account, lifetime=lifetime
        )
    except ValueError as exc:  # malformed App ID / certificate; the message has no secret
        raise ValidationError(str(exc)) from None


def _avatar(
    spec: AgentSpec, *, app_id: str, app_certificate: str | None, lifetime: int
) -> AvatarConfig | None:
    """The avatar, completed as the SDK's sessions complete it: a channel-publishing vendor's
    ``agora_token`` for its ``agora_uid`` (minted when the certificate is known), and a
    generic avatar's ``agora_appid`` / ``agora_channel``."""
    avatar = spec.avatar
    if avatar is None or avatar.enable is False or not avatar.vendor:
        return avatar
    vendor = avatar.vendor.lower()
    if vendor not in _PUBLISHING_AVATARS:
        return avatar
    avatar = avatar.model_copy(deep=True)
    params = dict(avatar.params or {})
    if vendor == "generic":
        params.setdefault("agora_appid", app_id)
        params.setdefault("agora_channel", spec.channel)
    uid = params.get("agora_uid")
    if uid and not params.get("agora_token") and app_certificate is not None:
        uid_text = validate_uid(str(uid), string_uid=spec.enable_string_uid, what="avatar uid")
        if uid_text == spec.agent_uid:
            raise ValidationError(
                "the avatar's agora_uid is the agent's uid",
                hint="give the avatar a uid of its own for its video",
            )
        params["agora_token"] = _join_token(
            spec,
            uid_text,
            app_id=app_id,
            app_certificate=app_certificate,
            token=None,
            lifetime=lifetime,
        )
    avatar.params = params
    return avatar


def _avatar_field(
    spec: AgentSpec, app_id: str, app_certificate: str | None, lifetime: int
) -> dict[str, Any]:
    if spec.avatar is None:
        return {}  # nothing to complete (an avatar in extra_properties is sent as given)
    avatar = _avatar(spec, app_id=app_id, app_certificate=app_certificate, lifetime=lifetime)
    return {"avatar": avatar}


def _properties_fields(spec: AgentSpec, *, cn: bool) -> dict[str, Any]:
    advanced = dict(spec.advanced_features or {})
    if spec.is_mllm:
        advanced.pop("enable_mllm", None)  # deprecated: mllm.enable says it
    turn_detection, asr = _turn_detection(spec, cn=cn)
    fields: dict[str, Any] = {
        "channel": spec.channel,
        "agent_rtc_uid": spec.agent_uid,
        "enable_string_uid": spec.enable_string_uid,
        "idle_timeout": spec.idle_timeout,
        "asr": asr,
        "llm": None if spec.is_mllm else _llm(spec),
        "tts": None if spec.is_mllm else spec.tts,
        "mllm": _mllm(spec),
        "avatar": spec.avatar,
        "turn_detection": turn_detection,
        "parameters": _parameters(spec),
        "advanced_features": advanced or None,
    }
    reserved = {"channel", "token", "agent_rtc_uid", "remote_rtc_uids"}.intersection(
        spec.extra_properties
    )
    if reserved:
        raise ValidationError(
            f"extra_properties may not set {', '.join(sorted(reserved))}",
            hint="use the AgentSpec fields (channel, agent_uid, remote_uids) or token=",
        )
    fields.update(spec.extra_properties)
    return fields


def _validate_common(spec: AgentSpec, token_lifetime: int) -> None:
    validate_token_lifetime(token_lifetime)
    if not spec.name.strip() or any(ord(c) < 32 for c in spec.name):
        raise ValidationError(f"agent name {spec.name!r} is not valid", hint="use a short label")
    validate_channel(spec.channel)
    validate_uid(spec.agent_uid, string_uid=spec.enable_string_uid)
    _check_presets(spec.presets)
    _check_stages(spec)
    _check_avatar(spec)


def build_start_request(
    spec: AgentSpec,
    *,
    app_id: str,
    app_certificate: str | None,
    token: str | None = None,
    token_lifetime: int = 86400,
    cn: bool = False,
) -> StartAgentRequest:
    """Validate ``spec`` and build the start body, minting the join token when possible.
    ``cn``: the request goes to the CN area (its default ASR vendor differs).

    Raises :class:`ValidationError` for anything the service would reject; sends nothing.
    """
    _validate_common(spec, token_lifetime)
    if not spec.remote_uids:
        raise ValidationError(
            "remote_uids is empty", hint="give the uid of the user the agent listens to"
        )
    for uid in spec.remote_uids:
        if uid != "*":
            validate_uid(uid, string_uid=spec.enable_string_uid, what="remote uid")
    join_token = _join_token(
        spec,
        spec.agent_uid,
        app_id=app_id,
        app_certificate=app_certificate,
        token=token,
        lifetime=token_lifetime,
    )
    properties = _checked(
        AgentProperties,
        {
            **_properties_fields(spec, cn=cn),
            **_avatar_field(spec, app_id, app_certificate, token_lifetime),
            "token": join_token,
            "remote_rtc_uids": list(spec.remote_uids),
        },
        "properties",
    )
    return StartAgentRequest(
        name=spec.name,
        properties=properties,
        preset=",".join(spec.presets) or None,
        pipeline_id=spec.pipeline_id,
    )


def build_call_request(
    spec: AgentSpec,
    *,
    to_number: str,
    from_number: str,
    app_id: str,
    app_certificate: str | None,
    sip_uid: str = "1002",
    token: str | None = None,
    sip_token: str | None = None,
    token_lifetime: int = 86400,
    cn: bool = False,
) -> CallRequest:
    """Validate and build an outbound call: the agent joins ``spec.channel`` and the callee
    joins it as ``sip_uid``; both tokens are minted when the App Certificate is given."""
    validate_e164(to_number)
    validate_e164(from_number)
    _validate_common(spec, token_lifetime)
    validate_uid(sip_uid, string_uid=spec.enable_string_uid, what="SIP uid")
    if sip_uid == spec.agent_uid:
        raise ValidationError("sip_uid must differ from the agent uid")
    agent_token, callee_token = (
        _join_token(
            spec,
            uid,
            app_id=app_id,
            app_certificate=app_certificate,
            token=given,
            lifetime=token_lifetime,
        )
        for uid, given in ((spec.agent_uid, token), (sip_uid, sip_token))
    )
    properties = _checked(
        CallProperties,
        {**_properties_fields(spec, cn=cn), "token": agent_token, "remote_rtc_uids": [sip_uid]},
        "properties",
    )
    sip = SipConfig(
        to_number=to_number, from_number=from_number, rtc_uid=sip_uid, rtc_token=callee_token
    )
    return CallRequest(name=spec.name, sip=sip, properties=properties, pipeline_id=spec.pipeline_id)
