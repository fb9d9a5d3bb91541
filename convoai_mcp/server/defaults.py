"""Tool arguments + configured defaults -> an :class:`AgentSpec`; join tokens for people.

The rule for every setting: an argument the model passed wins; otherwise the server's
configuration (``CONVOAI_*``) applies; otherwise the service's own default. That is what lets a
model start an agent with nothing but a channel.
"""

from __future__ import annotations

import time
from typing import TYPE_CHECKING, Any, Literal

from convoai_mcp.builders import LLM_PRESETS, TTS_PRESETS, AgentSpec, build_call_request
from convoai_mcp.errors import ConfigError, ValidationError
from convoai_mcp.models import AsrConfig, CallRequest, LlmConfig, TtsConfig

if TYPE_CHECKING:
    from convoai_mcp.config import Settings

__all__ = ["agent_spec", "agent_token", "call_request", "rtc_token", "user_token"]

TOKEN_LIFETIME = 86400

_NO_LLM_HINT = (
    "pass presets (e.g. ['openai_gpt_4o_mini', 'minimax_speech_2_6_turbo']), llm_url, or a "
    "pipeline_id; or have the operator set CONVOAI_PRESETS, CONVOAI_LLM_URL or "
    "CONVOAI_PIPELINE_ID"
)


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
) -> AgentSpec:
    """The agent described by the tool arguments, completed from ``settings``."""
    explicit_stages = bool(presets or llm_url or tts_vendor)
    chosen_presets = list(presets) if presets else list(settings.presets)
    if pipeline_id is None and not explicit_stages:
        pipeline_id = settings.pipeline_id
    llm_preset = bool(LLM_PRESETS.intersection(chosen_presets))
    tts_preset = bool(TTS_PRESETS.intersection(chosen_presets))

    llm: LlmConfig | None = None
    url = llm_url or (None if llm_preset else settings.llm_url)
    if url:
        model = llm_model or settings.llm_model
        llm = LlmConfig(
            url=url,
            api_key=settings.llm_api_key.get_secret_value() if settings.llm_api_key else None,
            style=settings.llm_style,
            params={"model": model} if model else None,
        )
    elif not (llm_preset or pipeline_id):
        raise ValidationError("no LLM is configured for the agent", hint=_NO_LLM_HINT)

    tts: TtsConfig | None = None
    vendor = tts_vendor or (None if tts_preset else settings.tts_vendor)
    if vendor:
        params: dict[str, Any] = dict(settings.tts_params) if vendor == settings.tts_vendor else {}
        if tts_voice:
            params["voice_name"] = tts_voice
        tts = TtsConfig(vendor=vendor, params=params or None)
    elif not (tts_preset or pipeline_id):
        raise ValidationError("no TTS is configured for the agent", hint=_NO_LLM_HINT)

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
