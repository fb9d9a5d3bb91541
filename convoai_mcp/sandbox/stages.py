"""What the emulated service requires of each vendor stage it receives (pure functions, no state).

The emulator's own small table, written for it (it imports nothing of the profiles or the
client): for each stage (``asr``, ``tts``, ``llm``, ``mllm``, ``avatar``) and vendor, the fields
the stage must carry, as dotted paths inside the stage object (``params.voice_id``), and for
each TTS vendor where it states its sample rate, which an avatar may need to be exactly its own
(HeyGen and LiveAvatar 24 kHz, Akool 16 kHz). They are the rules of the official SDK
(``agora-agents`` 2.12.0), where each vendor class's required arguments land in the JSON it
sends; ``tests/test_sandbox_stages.py`` derives them from the SDK again and compares, so a
broken profile fails against the emulator as it would on the service.

Where the emulator is more lenient than the SDK, on purpose (the service's own documented
minimum), it says so in :data:`LENIENT`. A ``params.language`` rule is also met by the stage's
top-level ``language`` (the REST API takes either for ASR). Vendors the table does not know
are left to the service's generic checks (an unknown avatar vendor is refused elsewhere).
"""

from __future__ import annotations

from typing import Any

from .errors import SandboxError, bad_request

__all__ = [
    "LENIENT",
    "REQUIRED",
    "TTS_FIXED_RATES",
    "TTS_RATE_PATHS",
    "stage_problem",
    "tts_sample_rate",
    "validate_stage",
]

REQUIRED: dict[str, dict[str, tuple[str, ...]]] = {
    "asr": {
        "amazon": (
            "params.access_key_id",
            "params.secret_access_key",
            "params.region",
            "params.language_code",
        ),
        "assemblyai": ("params.api_key", "params.language"),
        "gemini": ("params.api_key",),
        "google": (
            "params.project_id",
            "params.location",
            "params.adc_credentials_string",
            "params.language",
        ),
        "microsoft": ("params.key", "params.region", "params.language"),
        "openai": ("params.api_key",),
        "sarvam": ("params.api_key", "params.language"),
        "smallestai": ("params.api_key",),
        "speechmatics": ("params.language",),
        "tencent": (
            "params.key",
            "params.app_id",
            "params.secret",
            "params.engine_model_type",
            "params.voice_id",
        ),
        "xai": ("params.api_key",),
    },
    "tts": {
        "amazon": (
            "params.aws_access_key_id",
            "params.aws_secret_access_key",
            "params.region_name",
            "params.voice",
            "params.engine",
        ),
        "bytedance": ("params.token", "params.app_id", "params.cluster", "params.voice_type"),
        "bytedance_duplex": ("params.token", "params.app_id", "params.speaker"),
        "cartesia": ("params.api_key", "params.voice.id", "params.model_id"),
        "deepgram": ("params.api_key", "params.model"),
        "elevenlabs": ("params.key", "params.model_id", "params.voice_id", "params.base_url"),
        "fishaudio": ("params.api_key", "params.reference_id", "params.backend"),
        "gemini": ("params.api_key",),
        "generic": ("url",),
        "generic_http": ("url",),
        "google": ("params.credentials", "params.VoiceSelectionParams.name"),
        "gradium": ("params.api_key",),
        "humeai": ("params.key", "params.voice_id", "params.provider"),
        "microsoft": ("params.key", "params.region", "params.voice_name"),
        "mistral": ("params.api_key",),
        "murf": ("params.api_key",),
        "openai": ("params.voice",),
        "sarvam": ("params.api_subscription_key", "params.speaker", "params.target_language_code"),
        "smallestai": ("params.api_key",),
        "tencent": ("params.app_id", "params.secret_id", "params.secret_key", "params.voice_type"),
        "typecast": ("params.api_key", "params.voice_id", "params.model"),
        "xai": ("params.api_key", "params.language"),
    },
    "llm": {  # by vendor, else by style (a plain OpenAI-style LLM: see LENIENT)
        "anthropic": ("url", "api_key", "params.model", "params.max_tokens", "headers"),
        "azure": ("url", "api_key", "params.model"),
        "bedrock": ("url", "access_key", "secret_key", "region", "model"),
        "custom": ("url", "api_key", "params.model"),
        "dify": ("url", "api_key", "params.model"),
        "gemini": ("url", "params.model"),
        "openai": ("url",),
    },
    "mllm": {
        "azure": ("api_key", "url", "turn_detection"),
        "gemini": ("api_key",),
        "openai": ("api_key",),
        "openai_gpt_live": ("api_key",),
        "qwen_omni": ("api_key", "url"),
        "vertexai": (
            "params.model",
            "params.project_id",
            "params.location",
            "params.adc_credentials_string",
        ),
        "xai": ("api_key",),
    },
    "avatar": {
        "akool": ("params.api_key",),
        "anam": ("params.api_key", "params.avatar_id"),
        "generic": (
            "params.api_key",
            "params.api_base_url",
            "params.avatar_id",
            "params.agora_uid",
        ),
        "heygen": ("params.api_key", "params.quality", "params.agora_uid"),
        "liveavatar": ("params.api_key", "params.quality", "params.agora_uid"),
        "sensetime": ("params.agora_uid", "params.app_key"),
        "spatius": (
            "params.spatius_api_key",
            "params.spatius_app_id",
            "params.spatius_avatar_id",
            "params.agora_uid",
        ),
    },
}
"""stage -> vendor -> the fields the stage must carry (dotted paths inside the stage)."""

LENIENT: dict[tuple[str, str], dict[str, str]] = {
    ("llm", "openai"): {
        "url": "added: the SDK always sends the URL of an OpenAI-style LLM (its base_url, or "
        "OpenAI's own for a managed model), and the REST API documents llm.url as required",
        "params.model": "not required: an OpenAI-compatible endpoint of your own may take no "
        "model name (the SDK requires one)",
    },
}
"""Where the table differs from the SDK's rules on purpose: (stage, vendor) -> path -> why."""

TTS_RATE_PATHS: dict[str, str] = {
    "cartesia": "params.output_format.sample_rate",
    "cosyvoice": "params.sample_rate",
    "deepgram": "params.sample_rate",
    "elevenlabs": "params.sample_rate",
    "generic": "params.sample_rate",
    "generic_http": "params.sample_rate",
    "google": "params.AudioConfig.sample_rate_hertz",
    "gradium": "params.sample_rate",
    "microsoft": "params.sample_rate",
    "minimax": "params.audio_setting.sample_rate",
    "smallestai": "params.sample_rate",
    "xai": "params.sample_rate",
}
"""TTS vendor -> where its configuration states the sample rate of the audio it produces."""

TTS_FIXED_RATES: dict[str, int] = {"openai": 24000}
"""TTS vendors whose audio always has one sample rate."""

_MISSING = object()


def _at(stage: dict[str, Any], path: str) -> Any:
    value: Any = stage
    for part in path.split("."):
        if not isinstance(value, dict) or part not in value:
            return _MISSING
        value = value[part]
    return value


def _present(stage: dict[str, Any], path: str) -> bool:
    value = _at(stage, path)
    if path == "params.language" and value in (_MISSING, None, ""):
        value = stage.get("language", _MISSING)  # asr.language serves as well
    return value is not _MISSING and value is not None and value != ""


def stage_key(kind: str, stage: dict[str, Any]) -> str | None:
    """The vendor a stage is for: its ``vendor``; for an LLM without one, its ``style``."""
    vendor = stage.get("vendor")
    if kind == "llm" and not (isinstance(vendor, str) and vendor in REQUIRED["llm"]):
        style = stage.get("style")
        return style if isinstance(style, str) else "openai"
    return vendor.lower() if isinstance(vendor, str) else None


def stage_problem(kind: str, stage: dict[str, Any]) -> str | None:
    """The first required field ``stage`` (of ``kind``) lacks, as ``properties.<kind>.<path>``,
    or None when it has them all (or the vendor is not in the table)."""
    vendor = stage_key(kind, stage)
    for path in REQUIRED.get(kind, {}).get(vendor or "", ()):
        if not _present(stage, path):
            return f"properties.{kind}.{path}"
    return None


def validate_stage(kind: str, stage: dict[str, Any]) -> None:
    """Refuse (400 ``MissingRequiredField``, naming the field and the vendor) a stage that lacks
    a field its vendor requires."""
    missing = stage_problem(kind, stage)
    if missing is not None:
        vendor = stage_key(kind, stage)
        raise SandboxError(
            400,
            "MissingRequiredField",
            f"{missing} is required for the {kind} vendor {vendor}",
        )


def tts_sample_rate(tts: dict[str, Any]) -> int | None:
    """The sample rate a TTS stage produces, where its vendor says (None: not stated)."""
    vendor = tts.get("vendor")
    if not isinstance(vendor, str):
        return None
    vendor = vendor.lower()
    if vendor in TTS_FIXED_RATES:
        return TTS_FIXED_RATES[vendor]
    rate = _at(tts, TTS_RATE_PATHS.get(vendor, "params.sample_rate"))
    if rate is _MISSING or rate is None:
        return None
    if isinstance(rate, bool) or not isinstance(rate, int):
        raise bad_request("properties.tts.params.sample_rate", "must be an integer (Hz)")
    return rate
