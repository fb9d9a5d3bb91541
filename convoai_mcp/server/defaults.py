"""Tool arguments + configured defaults -> an :class:`AgentSpec`; join tokens for people.

The rule for every setting: an argument the model passed wins; otherwise the server's
configuration (``CONVOAI_*``) applies; otherwise the service's own default. That is what lets a
model start an agent with nothing but a channel.

Keys stay with what they were configured for: ``CONVOAI_LLM_API_KEY`` travels only to
``CONVOAI_LLM_URL``; an LLM URL the model picks is refused unless the operator listed it in
``CONVOAI_LLM_URLS_ALLOWED``, and then it is called without any key (:func:`llm_choice`). A
model picked with ``llm_model`` on the operator's key must be ``CONVOAI_LLM_MODEL`` or listed in
``CONVOAI_LLM_MODELS_ALLOWED``. ``CONVOAI_TTS_PARAMS`` goes only with ``CONVOAI_TTS_VENDOR``, and
``CONVOAI_ASR_PARAMS`` only with the configured ASR vendor (the model cannot pick one).

A call (:func:`agent_spec` with ``for_call=True``) takes no presets: the call request has no
preset field, so the LLM and the TTS must be configured in full (or a pipeline).
"""

from __future__ import annotations

import time
from typing import TYPE_CHECKING, Any, Literal

from convoai_mcp.builders import LLM_PRESETS, TTS_PRESETS, AgentSpec, build_call_request
from convoai_mcp.errors import ConfigError, ValidationError
from convoai_mcp.models import AsrConfig, CallRequest, LlmConfig, TtsConfig
from convoai_mcp.policy import PolicyError

if TYPE_CHECKING:
    from convoai_mcp.config import Settings

__all__ = [
    "LlmChoice",
    "agent_spec",
    "agent_token",
    "call_request",
    "check_llm_model",
    "endpoint_label",
    "llm_choice",
    "rtc_token",
    "user_token",
]

TOKEN_LIFETIME = 86400

_NO_LLM_HINT = (
    "pass presets (e.g. ['openai_gpt_4o_mini', 'minimax_speech_2_6_turbo']), llm_url, or a "
    "pipeline_id; or have the operator set CONVOAI_PRESETS, CONVOAI_LLM_URL or "
    "CONVOAI_PIPELINE_ID"
)


_CALL_NEEDS = (
    "a phone call cannot use presets (the call request has no preset field), so it needs a "
    "full {stage} configuration"
)
_CALL_HINT = (
    "have the operator set CONVOAI_LLM_URL (with CONVOAI_LLM_API_KEY) and CONVOAI_TTS_VENDOR "
    "(with CONVOAI_TTS_PARAMS), or CONVOAI_PIPELINE_ID; or pass llm_url and tts_vendor"
)

VOICE_FIELDS: dict[str, tuple[str, ...]] = {
    "microsoft": ("voice_name",),
    "elevenlabs": ("voice_id",),
    "openai": ("voice",),
    "amazon": ("voice",),
    "mistral": ("voice",),
    "generic_http": ("voice",),
    "cosyvoice": ("voice",),
    "gradium": ("voice_id",),
    "humeai": ("voice_id",),
    "typecast": ("voice_id",),
    "xai": ("voice_id",),
    "smallestai": ("voice_id",),
    "stepfun": ("voice_id",),
    "murf": ("voiceId",),
    "rime": ("speaker",),
    "sarvam": ("speaker",),
    "bytedance_duplex": ("speaker",),
    "bytedance": ("voice_type",),
    "minimax": ("voice_setting", "voice_id"),
    "google": ("VoiceSelectionParams", "name"),
    "cartesia": ("voice",),  # {"mode": "id", "id": ...}
}
"""Where each TTS vendor takes its voice in ``tts.params`` (a path of keys), as the official
SDK's vendor classes (``agora-agents`` 2.12.0, ``agentkit.vendors``) write it. Vendors not here
(deepgram: the voice is its model; fishaudio, tencent) take no ``tts_voice``."""


class LlmChoice:
    """The LLM a start or call uses: its URL, whether the operator's key goes with it, and the
    model-chosen endpoint to name when asking the user (None when it is the configured one)."""

    def __init__(self, url: str | None, *, send_key: bool, foreign: str | None) -> None:
        self.url = url
        self.send_key = send_key
        self.foreign = foreign


def endpoint_label(url: str) -> str:
    """``url`` without credentials or query, e.g. for a confirmation question."""
    from urllib.parse import urlsplit

    parts = urlsplit(url)
    host = parts.hostname or ""
    port = f":{parts.port}" if parts.port else ""
    return f"{parts.scheme}://{host}{port}{parts.path}"


def _allowed(value: str, listed: tuple[str, ...]) -> bool:
    return "*" in listed or value in listed


def llm_choice(
    settings: Settings,
    *,
    presets: list[str] | None,
    llm_url: str | None,
    llm_model: str | None,
    for_call: bool = False,
) -> LlmChoice:
    """Which LLM the arguments choose, refusing (:class:`PolicyError`, nothing sent) a URL or a
    model the operator did not allow. Call it before anything is sent."""
    chosen = [] if for_call else (list(presets) if presets else list(settings.presets))
    if llm_url is None:
        url = None if LLM_PRESETS.intersection(chosen) else settings.llm_url
        if url is None:
            return LlmChoice(None, send_key=False, foreign=None)
    elif llm_url != settings.llm_url:
        if not _allowed(llm_url, settings.llm_urls_allowed):
            raise PolicyError(
                "llm_url is not the configured LLM endpoint, and the operator has not allowed "
                "the model to choose LLM endpoints",
                hint="omit llm_url to use the configured LLM (or a preset); to allow this "
                "endpoint the operator lists it in CONVOAI_LLM_URLS_ALLOWED (it is then called "
                "without the operator's API key)",
            )
        return LlmChoice(llm_url, send_key=False, foreign=endpoint_label(llm_url))
    else:
        url = llm_url
    send_key = settings.llm_api_key is not None
    if llm_model:
        check_llm_model(settings, llm_model)
    return LlmChoice(url, send_key=send_key, foreign=None)


def check_llm_model(settings: Settings, model: str) -> None:
    """Refuse (:class:`PolicyError`) a model the operator did not allow on their LLM key."""
    if (
        settings.llm_api_key is not None
        and model != settings.llm_model
        and not _allowed(model, settings.llm_models_allowed)
    ):
        raise PolicyError(
            "llm_model is not a model the operator allows on the configured LLM and its key",
            hint="omit the model to keep the configured one"
            + (f" ({settings.llm_model})" if settings.llm_model else "")
            + "; the operator allows more in CONVOAI_LLM_MODELS_ALLOWED",
        )


def _set_voice(vendor: str, params: dict[str, Any], voice: str) -> None:
    path = VOICE_FIELDS.get(vendor)
    if path is None:
        known = ", ".join(sorted(VOICE_FIELDS))
        raise ValidationError(
            f"the TTS vendor {vendor!r} has no voice setting this server knows",
            hint=f"omit tts_voice (set the voice in CONVOAI_TTS_PARAMS), or use one of: {known}",
        )
    if vendor == "cartesia":
        params["voice"] = {"mode": "id", "id": voice}
        return
    target = params
    for key in path[:-1]:
        inner = target.get(key)
        target[key] = dict(inner) if isinstance(inner, dict) else {}
        target = target[key]
    target[path[-1]] = voice


def agent_spec(
    settings: Settings,
    *,
    channel: str,
    name: str,
    agent_uid: str,
    remote_uids: list[str],
    system_prompt: str | None,
    greeting: str | None,
    presets: list[str] | None,
    pipeline_id: str | None,
    llm_url: str | None,
    llm_model: str | None,
    tts_vendor: str | None,
    tts_voice: str | None,
    asr_language: str | None,
    idle_timeout: int | None,
    for_call: bool = False,
) -> AgentSpec:
    """The agent described by the tool arguments, completed from ``settings``.

    Raises :class:`PolicyError` for an LLM URL or model the operator did not allow
    (:func:`llm_choice`) and :class:`ValidationError` for what cannot be built (no LLM or TTS;
    presets in a call; a voice the TTS takes no voice for)."""
    if for_call and presets:
        raise ValidationError(
            "call takes no presets: the call request has no preset field, so they would be dropped",
            hint="omit presets; " + _CALL_HINT,
        )
    choice = llm_choice(
        settings, presets=presets, llm_url=llm_url, llm_model=llm_model, for_call=for_call
    )
    explicit_stages = bool(presets or llm_url or tts_vendor)
    chosen_presets = [] if for_call else (list(presets) if presets else list(settings.presets))
    if pipeline_id is None and not explicit_stages:
        pipeline_id = settings.pipeline_id
    llm_preset = bool(LLM_PRESETS.intersection(chosen_presets))
    tts_preset = bool(TTS_PRESETS.intersection(chosen_presets))
    no_stage_hint = _CALL_HINT if for_call else _NO_LLM_HINT

    llm: LlmConfig | None = None
    if choice.url:
        model = llm_model or settings.llm_model
        key = settings.llm_api_key if choice.send_key else None
        llm = LlmConfig(
            url=choice.url,
            api_key=key.get_secret_value() if key else None,
            style=settings.llm_style,
            params={"model": model} if model else None,
        )
    elif not (llm_preset or pipeline_id):
        what = _CALL_NEEDS.format(stage="LLM") if for_call else "no LLM is configured for the agent"
        raise ValidationError(what, hint=no_stage_hint)

    tts: TtsConfig | None = None
    vendor = tts_vendor or (None if tts_preset else settings.tts_vendor)
    if vendor:
        params: dict[str, Any] = dict(settings.tts_params) if vendor == settings.tts_vendor else {}
        if tts_voice:
            _set_voice(vendor, params, tts_voice)
        tts = TtsConfig(vendor=vendor, params=params or None)
    elif not (tts_preset or pipeline_id):
        what = _CALL_NEEDS.format(stage="TTS") if for_call else "no TTS is configured for the agent"
        raise ValidationError(what, hint=no_stage_hint)
    elif tts_voice:
        raise ValidationError(
            "tts_voice needs a TTS vendor: the TTS "
            + ("preset" if tts_preset else "of the pipeline")
            + " takes no voice from this server",
            hint="omit tts_voice, or pass tts_vendor with it (e.g. microsoft)",
        )

    asr: AsrConfig | None = None
    language = asr_language or settings.asr_language
    if settings.asr_vendor or language:
        asr = AsrConfig(
            vendor=settings.asr_vendor,
            language=language,
            params=dict(settings.asr_params) or None,
        )

    return AgentSpec(
        name=name,
        channel=channel,
        agent_uid=agent_uid,
        remote_uids=remote_uids,
        system_prompt=system_prompt,
        greeting=greeting,
        idle_timeout=idle_timeout if idle_timeout is not None else settings.idle_timeout,
        asr=asr,
        llm=llm,
        tts=tts,
        presets=chosen_presets,
        pipeline_id=pipeline_id,
    )


def call_request(
    settings: Settings, spec: AgentSpec, *, to_number: str, from_number: str, sip_uid: str
) -> CallRequest:
    """The outbound call body for ``spec`` (both join tokens minted here)."""
    return build_call_request(
        spec,
        to_number=to_number,
        from_number=from_number,
        app_id=settings.app_id,
        app_certificate=_certificate(settings),
        sip_uid=sip_uid,
        token="" if settings.app_certificate is None else None,
        sip_token="" if settings.app_certificate is None else None,
    )


def _certificate(settings: Settings) -> str | None:
    return settings.app_certificate.get_secret_value() if settings.app_certificate else None


def _require_certificate(settings: Settings) -> str:
    cert = _certificate(settings)
    if cert is None:
        raise ConfigError(
            "AGORA_APP_CERTIFICATE is not set, so no token can be minted",
            hint="set AGORA_APP_CERTIFICATE (project page in the Agora console); a project "
            "without a certificate is joined with the App ID alone and needs no token",
        )
    return cert


def user_token(settings: Settings, channel: str, uid: str) -> tuple[str | None, int | None]:
    """A ConvoAI (RTC + RTM) join token for a person, and its expiry; (None, None) without a
    certificate."""
    from convoai_mcp.tokens import mint_convoai_token

    cert = _certificate(settings)
    if cert is None:
        return None, None
    now = int(time.time())
    token = mint_convoai_token(
        settings.app_id, cert, channel, uid, lifetime=TOKEN_LIFETIME, issue_ts=now
    )
    return token, now + TOKEN_LIFETIME


def agent_token(settings: Settings, channel: str, uid: str) -> str:
    """A fresh ConvoAI join token for an agent (update_agent refresh_token)."""
    from convoai_mcp.tokens import mint_convoai_token

    return mint_convoai_token(
        settings.app_id, _require_certificate(settings), channel, uid, lifetime=TOKEN_LIFETIME
    )


def rtc_token(
    settings: Settings,
    channel: str,
    uid: str,
    role: Literal["publisher", "subscriber"],
    lifetime: int,
) -> tuple[str, int]:
    """An RTC join token and its expiry (Unix seconds)."""
    from convoai_mcp.tokens import mint_rtc_token

    cert = _require_certificate(settings)
    now = int(time.time())
    token = mint_rtc_token(
        settings.app_id, cert, channel, uid, role=role, lifetime=lifetime, issue_ts=now
    )
    return token, now + lifetime
