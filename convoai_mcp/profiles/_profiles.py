"""Load, check and use agent profiles (the TOML file; see ``convoai_mcp/profiles/__init__.py``).

Pure apart from reading the file and the environment once in :func:`load_profiles`: a loaded
:class:`Profiles` holds every stage already rendered to the JSON the official SDK's vendor class
would produce, and :func:`build_join` puts a profile together into the join request's
``properties`` the way the SDK's ``Agent`` / ``AgentSession`` do (presets inferred from managed
vendor settings as the SDK infers them, the turn-detection language copied into the ASR stage).
"""

from __future__ import annotations

import copy
import difflib
import os
import re
import stat
import tomllib
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from convoai_mcp.errors import ConfigError
from convoai_mcp.presets import ALL_PRESETS, ASR_PRESETS, LLM_PRESETS, TTS_PRESETS
from convoai_mcp.profiles import _vendors
from convoai_mcp.profiles._vendors import STAGES, StageError

__all__ = [
    "AGENT_KEYS",
    "DEFAULT_TURN_DETECTION_LANGUAGE",
    "PROFILE_KEYS",
    "TURN_DETECTION_LANGUAGES",
    "VENDOR_PARAM",
    "JoinConfig",
    "Overrides",
    "Profile",
    "Profiles",
    "Stage",
    "build_call",
    "build_join",
    "load_profiles",
    "parse_profiles",
    "summarize",
]

# What the SDK's Agent takes besides the vendor stages (tables unless noted).
AGENT_KEYS: dict[str, type | tuple[type, ...]] = {
    "instructions": str,
    "greeting": str,
    "failure_message": str,
    "max_history": int,
    "turn_detection": dict,
    "interruption": dict,
    "sal": dict,
    "advanced_features": dict,
    "parameters": dict,
    "geofence": dict,
    "labels": dict,
    "rtc": dict,
    "filler_words": dict,
    "greeting_configs": dict,
}
# The rest of a [profiles.NAME] table.
PROFILE_KEYS: dict[str, type | tuple[type, ...]] = {
    "description": str,
    "area": str,
    "presets": (list, str),
    "pipeline_id": str,
    "template_variables": dict,
    "tools": bool,
    "idle_timeout": int,
    "enable_string_uid": bool,
}
TURN_DETECTION_LANGUAGES: tuple[str, ...] = (
    "ar-EG", "ar-JO", "ar-SA", "ar-AE", "bn-IN", "zh-CN", "zh-HK", "zh-TW", "nl-NL", "en-IN",
    "en-US", "fil-PH", "fr-FR", "de-DE", "gu-IN", "he-IL", "hi-IN", "id-ID", "it-IT", "ja-JP",
    "kn-IN", "ko-KR", "ms-MY", "fa-IR", "pt-PT", "ru-RU", "es-ES", "ta-IN", "te-IN", "th-TH",
    "tr-TR", "vi-VN",
)  # fmt: skip
"""The turn-detection languages the SDK accepts (``TurnDetectionLanguage``)."""
DEFAULT_TURN_DETECTION_LANGUAGE = "en-US"

VENDOR_PARAM = "vendor_param"
"""How a stage writes the SDK class's own ``vendor`` parameter (LLM classes have one)."""
_ENV_REF = re.compile(r"\$\{([A-Za-z_][A-Za-z0-9_]*)\}")
_NAME = re.compile(r"[A-Za-z0-9_-]{1,64}")
_OPENAI_CHAT_URL = "https://api.openai.com/v1/chat/completions"
_DEEPGRAM_PRESETS = {"nova-2": "deepgram_nova_2", "nova-3": "deepgram_nova_3"}
_OPENAI_PRESETS = {
    "gpt-4o-mini": "openai_gpt_4o_mini",
    "gpt-4.1-mini": "openai_gpt_4_1_mini",
    "gpt-5-nano": "openai_gpt_5_nano",
    "gpt-5-mini": "openai_gpt_5_mini",
}
_MINIMAX_PRESETS = {
    "speech-2.6-turbo": "minimax_speech_2_6_turbo",
    "speech_2_6_turbo": "minimax_speech_2_6_turbo",
    "speech-2.8-turbo": "minimax_speech_2_8_turbo",
    "speech_2_8_turbo": "minimax_speech_2_8_turbo",
}
_TOKEN_MANAGED_AVATARS = frozenset({"heygen", "liveavatar", "generic", "sensetime", "spatius"})


@dataclass(frozen=True)
class Stage:
    """One vendor stage of a profile: the SDK class it mirrors, its checked arguments (secrets
    resolved) and the stage JSON."""

    stage: str
    vendor: str
    sdk_class: str
    args: Mapping[str, Any]
    config: Mapping[str, Any]

    def __repr__(self) -> str:
        return f"Stage({self.stage}: {self.vendor} as {self.sdk_class})"


@dataclass(frozen=True)
class Profile:
    """A named, complete agent configuration."""

    name: str
    source: str
    description: str = ""
    area: str = "global"
    stages: Mapping[str, Stage] = field(default_factory=dict)
    presets: tuple[str, ...] = ()
    pipeline_id: str | None = None
    agent: Mapping[str, Any] = field(default_factory=dict)
    template_variables: Mapping[str, str] = field(default_factory=dict)
    tools: bool | None = None
    idle_timeout: int | None = None
    enable_string_uid: bool | None = None
    secrets: tuple[str, ...] = ()

    def __repr__(self) -> str:
        return f"Profile({self.name!r}, stages={sorted(self.stages)}, presets={self.presets})"

    @property
    def is_mllm(self) -> bool:
        """True when the profile is a multimodal (MLLM) agent."""
        return "mllm" in self.stages

    @property
    def voice_field(self) -> str | None:
        """The parameter of the voice-producing stage that picks the voice (None: none)."""
        stage = self.stages.get("mllm") or self.stages.get("tts")
        if stage is None:
            return None
        name = _vendors.VOICE_FIELDS.get(stage.sdk_class)
        return name if name in _vendors.catalog()[stage.sdk_class]["fields"] else None

    @property
    def voice(self) -> str | None:
        """The configured voice, if the voice stage names one."""
        stage = self.stages.get("mllm") or self.stages.get("tts")
        name = self.voice_field
        if stage is None or name is None:
            return None
        value = stage.args.get(name)
        return value if isinstance(value, str) else None

    @property
    def language(self) -> str:
        """The turn-detection (and ASR) language."""
        value = (self.agent.get("turn_detection") or {}).get("language")
        return value if isinstance(value, str) else DEFAULT_TURN_DETECTION_LANGUAGE


@dataclass(frozen=True)
class Profiles:
    """Every profile of one file, and the default."""

    source: str
    profiles: Mapping[str, Profile]
    default: str | None = None

    def names(self) -> list[str]:
        """The profile names, in file order."""
        return list(self.profiles)

    def get(self, name: str | None = None) -> Profile:
        """The profile called ``name`` (None: the default); ConfigError naming the choices."""
        if name is None:
            if self.default is None:
                raise ConfigError(
                    "no profile was named and the profile file sets no default",
                    hint=f'name one of {", ".join(self.profiles)} or add default = "NAME" '
                    f"to {self.source}",
                )
            name = self.default
        try:
            return self.profiles[name]
        except KeyError:
            raise ConfigError(
                f"no profile called {name!r}" + _did_you_mean(name, self.profiles),
                hint=f"the profiles are: {', '.join(self.profiles) or '(none)'}",
            ) from None

    def secret_values(self) -> list[str]:
        """Every secret value of every profile, for the redactor (``Redactor.add``)."""
        seen: dict[str, None] = {}
        for profile in self.profiles.values():
            for value in profile.secrets:
                seen.setdefault(value, None)
        return list(seen)

    def summaries(self) -> list[dict[str, Any]]:
        """:func:`summarize` of every profile, for ``list_profiles``."""
        return [summarize(p) | {"default": p.name == self.default} for p in self.profiles.values()]


@dataclass(frozen=True)
class Overrides:
    """What a single start or call may change in a profile (small and safe by design)."""

    system_prompt: str | None = None
    greeting: str | None = None
    voice: str | None = None
    language: str | None = None
    template_variables: Mapping[str, str] | None = None


@dataclass(frozen=True)
class JoinConfig:
    """What a profile contributes to a join request: the ``properties`` (with the session's
    channel, token and uids when they were given), the ``preset`` list as the SDK sends it
    (comma-separated) and the ``pipeline_id``."""

    properties: dict[str, Any]
    preset: str | None = None
    pipeline_id: str | None = None

    def __repr__(self) -> str:
        return f"JoinConfig(keys={sorted(self.properties)}, preset={self.preset!r})"


# -- loading -------------------------------------------------------------------------------------


def _did_you_mean(name: str, choices: Any) -> str:
    near = difflib.get_close_matches(name, list(choices), n=1)
    return f"; did you mean {near[0]!r}?" if near else ""


class _Where:
    """Builds ConfigErrors that name the file, the profile and the key."""

    def __init__(self, source: str, profile: str | None = None) -> None:
        self.source = source
        self.profile = profile

    def error(self, key: str, message: str, hint: str = "") -> ConfigError:
        where = self.source
        if self.profile is not None:
            where += f": profile {self.profile!r}"
        if key:
            where += f", key {key!r}"
        return ConfigError(f"{where}: {message}", hint=hint)


def _is_private(path: Path) -> bool:
    mode = path.stat().st_mode
    return not (mode & (stat.S_IRWXG | stat.S_IRWXO))


def load_profiles(
    path: str | os.PathLike[str], *, environ: Mapping[str, str] | None = None
) -> Profiles:
    """Read, check and resolve the profile file at ``path`` (``${NAME}`` from ``environ``,
    default ``os.environ``). Raises :class:`ConfigError` naming the file, the profile and the
    key; a file that does not parse names the line."""
    file = Path(path).expanduser()
    try:
        text = file.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise ConfigError(
            f"the profile file {file} does not exist",
            hint="create it, or point CONVOAI_PROFILES at the right file",
        ) from None
    except (OSError, UnicodeDecodeError) as exc:
        raise ConfigError(f"the profile file {file} cannot be read: {exc}") from None
    return parse_profiles(
        text,
        source=str(file),
        environ=os.environ if environ is None else environ,
        private=_is_private(file),
    )


def parse_profiles(
    text: str, *, source: str, environ: Mapping[str, str], private: bool = False
) -> Profiles:
    """:func:`load_profiles` for text already read; ``private``: the file is mode 0600 (only
    then may a secret be written inline)."""
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(
            f"{source}: not valid TOML: {exc}",
            hint="fix the line named; strings need quotes, tables [profiles.NAME]",
        ) from None
    top = _Where(source)
    for key in data:
        if key not in ("default", "profiles"):
            raise top.error(
                key,
                "unknown top-level key" + _did_you_mean(key, ["default", "profiles"]),
                hint='the file holds default = "NAME" and [profiles.NAME] tables',
            )
    tables = data.get("profiles", {})
    if not isinstance(tables, dict) or not tables:
        raise top.error("profiles", "no profiles", hint="add at least one [profiles.NAME] table")
    default = data.get("default")
    if default is not None and (not isinstance(default, str) or default not in tables):
        raise top.error(
            "default",
            f"names no profile: {default!r}" + _did_you_mean(str(default), tables),
            hint=f"the profiles are: {', '.join(tables)}",
        )
    profiles: dict[str, Profile] = {}
    for name, table in tables.items():
        where = _Where(source, name)
        if not _NAME.fullmatch(name):
            raise where.error("", "a profile name has 1-64 letters, digits, '_' or '-'")
        if not isinstance(table, dict):
            raise where.error("", "must be a table: [profiles.NAME]")
        profiles[name] = _parse_profile(name, table, where, environ, private)
    return Profiles(source=source, profiles=profiles, default=default)


def _resolve(
    value: Any,
    key: str,
    where: _Where,
    environ: Mapping[str, str],
    private: bool,
    secrets: list[str],
    secret: bool = False,
) -> Any:
    """``value`` with ``${NAME}`` read from the environment; secrets collected."""
    from convoai_mcp._secrets import is_secret_name as is_secret_key

    if isinstance(value, dict):
        return {
            k: _resolve(
                v, f"{key}.{k}", where, environ, private, secrets, secret or is_secret_key(k)
            )
            for k, v in value.items()
        }
    if isinstance(value, list):
        return [
            _resolve(v, f"{key}[{i}]", where, environ, private, secrets, secret)
            for i, v in enumerate(value)
        ]
    if not isinstance(value, str):
        return value
    refs = _ENV_REF.findall(value)
    if not refs:
        if secret and value and not private:
            raise where.error(
                key,
                "a secret is written inline in a file others can read",
                hint='write it as "${ENV_NAME}" and set that variable, or make the file '
                f"private: chmod 600 {where.source}",
            )
        if secret and value:
            secrets.append(value)
        return value
    out = value
    for ref in refs:
        if ref not in environ:
            raise where.error(
                key,
                f"the environment variable {ref} is not set",
                hint=f"set {ref}, or change the value of {key}",
            )
        resolved = environ[ref]
        if secret and resolved:
            secrets.append(resolved)
        out = out.replace("${" + ref + "}", resolved)
    return out


def _check_type(table: Mapping[str, Any], key: str, kind: Any, where: _Where) -> None:
    if key in table and (
        not isinstance(table[key], kind) or (kind is int and isinstance(table[key], bool))
    ):
        names = " or ".join(
            {"str": "a string", "int": "a whole number", "bool": "true or false",
             "dict": "a table", "list": "a list"}[t.__name__]
            for t in (kind if isinstance(kind, tuple) else (kind,))
        )  # fmt: skip
        raise where.error(key, f"must be {names}")


def _parse_profile(
    name: str, table: dict[str, Any], where: _Where, environ: Mapping[str, str], private: bool
) -> Profile:
    known = [*STAGES, *AGENT_KEYS, *PROFILE_KEYS]
    for key in table:
        if key not in known:
            raise where.error(
                key,
                "unknown key" + _did_you_mean(key, known),
                hint=f"a profile takes: {', '.join(known)}",
            )
    for key, kind in (AGENT_KEYS | PROFILE_KEYS).items():
        _check_type(table, key, kind, where)
    area = table.get("area", "global")
    if area not in ("global", "cn"):
        raise where.error("area", f"must be 'global' or 'cn', not {area!r}")
    secrets: list[str] = []
    resolved = {
        k: _resolve(v, k, where, environ, private, secrets)
        for k, v in table.items()
        if k not in STAGES
    }
    stages: dict[str, Stage] = {}
    for stage in STAGES:
        if stage not in table:
            continue
        raw = table[stage]
        if not isinstance(raw, dict):
            raise where.error(stage, f"must be a table: [profiles.{name}.{stage}]")
        stages[stage] = _parse_stage(stage, raw, area, where, environ, private, secrets)
    presets = resolved.get("presets", [])
    if isinstance(presets, str):
        presets = [p.strip() for p in presets.split(",") if p.strip()]
    for index, preset in enumerate(presets):
        if not isinstance(preset, str) or preset not in ALL_PRESETS:
            raise where.error(
                f"presets[{index}]",
                f"unknown preset {preset!r}" + _did_you_mean(str(preset), sorted(ALL_PRESETS)),
                hint=f"the presets are: {', '.join(sorted(ALL_PRESETS))}",
            )
    agent = {k: resolved[k] for k in AGENT_KEYS if k in resolved}
    profile = Profile(
        name=name,
        source=where.source,
        description=resolved.get("description", ""),
        area=area,
        stages=stages,
        presets=tuple(presets),
        pipeline_id=resolved.get("pipeline_id"),
        agent=agent,
        template_variables=resolved.get("template_variables", {}),
        tools=resolved.get("tools"),
        idle_timeout=resolved.get("idle_timeout"),
        enable_string_uid=resolved.get("enable_string_uid"),
        secrets=tuple(dict.fromkeys(secrets)),
    )
    _check_profile(profile, where)
    return profile


def _parse_stage(
    stage: str, raw: dict[str, Any], area: str, where: _Where, environ: Mapping[str, str],
    private: bool, secrets: list[str],
) -> Stage:  # fmt: skip
    from convoai_mcp._secrets import is_secret_name as is_secret_key

    vendor = raw.get("vendor")
    if not isinstance(vendor, str) or not vendor:
        names = ", ".join(_vendors.vendor_names(stage, area))
        raise where.error(f"{stage}.vendor", "is missing", hint=f"one of: {names}")
    try:
        sdk_class = _vendors.find_class(stage, vendor, area)
    except StageError as exc:
        raise where.error(f"{stage}.vendor", exc.message) from None
    args = {
        k: _resolve(v, f"{stage}.{k}", where, environ, private, secrets, is_secret_key(k))
        for k, v in raw.items()
        if k != "vendor"
    }
    if VENDOR_PARAM in args:
        # The LLM classes' own ``vendor`` parameter (the ``llm.vendor`` field): the stage's
        # ``vendor`` key already picks the class, so it is written ``vendor_param``.
        if "vendor" not in _vendors.catalog()[sdk_class]["fields"]:
            raise where.error(f"{stage}.{VENDOR_PARAM}", f"{sdk_class} has no vendor parameter")
        args["vendor"] = args.pop(VENDOR_PARAM)
    try:
        checked = _vendors.check_args(sdk_class, args)
        config = _vendors.render_stage(sdk_class, checked)
    except StageError as exc:
        key = f"{stage}.{exc.key}" if exc.key else stage
        raise where.error(key, exc.message) from None
    return Stage(stage=stage, vendor=vendor, sdk_class=sdk_class, args=checked, config=config)


def _check_profile(profile: Profile, where: _Where) -> None:
    """The SDK's whole-agent rules: MLLM vs cascading, stages or presets, avatar sample rate."""
    stages = profile.stages
    preset_stages = _preset_stages(profile.presets)
    if "mllm" in stages:
        for other in ("llm", "tts", "asr"):
            if other in stages or other in preset_stages:
                raise where.error(
                    other if other in stages else "presets",
                    f"an MLLM agent takes no {other} stage: the MLLM listens and speaks itself",
                    hint=f"remove [{profile.name}.{other}] or the mllm stage",
                )
        avatar = stages.get("avatar")
        if avatar is not None and avatar.config.get("enable") is not False:
            raise where.error(
                "avatar",
                "avatars are only supported with the cascading ASR + LLM + TTS pipeline",
                hint="remove the avatar table, or use llm + tts stages instead of mllm",
            )
    elif profile.pipeline_id is None:
        for needed in ("llm", "tts"):
            if needed not in stages and needed not in preset_stages:
                presets = ", ".join(sorted({"llm": LLM_PRESETS, "tts": TTS_PRESETS}[needed]))
                raise where.error(
                    needed,
                    f"no {needed} stage: add [profiles.{profile.name}.{needed}], a preset "
                    f"({presets}) or a pipeline_id",
                )
    language = (profile.agent.get("turn_detection") or {}).get("language")
    if language is not None and language not in TURN_DETECTION_LANGUAGES:
        raise where.error(
            "turn_detection.language",
            f"unknown language {language!r}"
            + _did_you_mean(str(language), TURN_DETECTION_LANGUAGES),
            hint=f"one of: {', '.join(TURN_DETECTION_LANGUAGES)}",
        )
    avatar = stages.get("avatar")
    tts = stages.get("tts")
    if avatar is not None and avatar.config.get("enable") is not False:
        need = _vendors.required_sample_rate(avatar.sdk_class, avatar.args)
        have = _tts_rate(tts)
        if need and have is not None and have != need:
            raise where.error(
                "tts.sample_rate",
                f"the {avatar.vendor} avatar needs TTS at {need} Hz, the TTS is set to {have} Hz",
                hint=f"set the TTS sample rate to {need}",
            )
        if need and have is None and tts is not None and avatar.vendor != "spatius":
            raise where.error(
                "tts.sample_rate",
                f"the {avatar.vendor} avatar needs TTS at {need} Hz and the TTS sets no rate",
                hint=f"set the TTS sample rate to {need} explicitly",
            )
        missing = _avatar_missing(avatar.config)
        if missing:
            raise where.error(f"avatar.{missing}", f"the {avatar.vendor} avatar requires {missing}")


def _tts_rate(tts: Stage | None) -> int | None:
    if tts is None:
        return None
    rate = _vendors.stage_sample_rate(tts.sdk_class, tts.args)
    if rate is None:
        params = tts.config.get("params")
        if isinstance(params, dict):
            found = (
                params.get("sample_rate")
                or params.get("sample_rate_hertz")
                or params.get("samplingRate")
            )
            rate = found if isinstance(found, int) else None
    return rate


def _avatar_missing(config: Mapping[str, Any]) -> str | None:
    """The first parameter the SDK's ``validate_avatar_config`` would find missing."""
    params = config.get("params") or {}
    required = {
        "heygen": ("api_key", "quality", "agora_uid"),
        "liveavatar": ("api_key", "quality", "agora_uid"),
        "akool": ("api_key",),
        "anam": ("api_key", "avatar_id"),
        "generic": ("api_key", "api_base_url", "avatar_id", "agora_uid"),
        "sensetime": ("app_key", "agora_uid"),
        "spatius": ("spatius_api_key", "spatius_app_id", "spatius_avatar_id", "agora_uid"),
    }.get(str(config.get("vendor")), ())
    return next((name for name in required if not params.get(name)), None)


def _preset_stages(presets: tuple[str, ...]) -> set[str]:
    out: set[str] = set()
    for preset in presets:
        for stage, names in (("asr", ASR_PRESETS), ("llm", LLM_PRESETS), ("tts", TTS_PRESETS)):
            if preset in names:
                out.add(stage)
    return out


# -- join ----------------------------------------------------------------------------------------


def _drop_none(value: Any) -> Any:
    if isinstance(value, dict):
        return {k: _drop_none(v) for k, v in value.items() if v is not None}
    if isinstance(value, list):
        return [_drop_none(v) for v in value]
    return value


def _norm(value: Any) -> str:
    return value.strip().lower() if isinstance(value, str) else ""


def _infer_asr(asr: Mapping[str, Any] | None) -> str | None:
    if not asr or asr.get("vendor") != "deepgram":
        return None
    params = asr.get("params") or {}
    return None if params.get("key") else _DEEPGRAM_PRESETS.get(_norm(params.get("model")))


def _infer_llm(llm: Mapping[str, Any] | None) -> str | None:
    if not llm or llm.get("api_key") or llm.get("vendor") not in (None, "openai"):
        return None
    if llm.get("url") not in (None, _OPENAI_CHAT_URL):
        return None
    return _OPENAI_PRESETS.get(_norm((llm.get("params") or {}).get("model")))


def _infer_tts(tts: Mapping[str, Any] | None) -> str | None:
    if not tts:
        return None
    params = tts.get("params") or {}
    if tts.get("vendor") == "openai":
        if params.get("api_key"):
            return None
        return "openai_tts_1" if (_norm(params.get("model")) or "tts-1") == "tts-1" else None
    if tts.get("vendor") == "minimax":
        if params.get("key"):
            return None
        model = _norm(params.get("model")) or _norm(tts.get("_minimax_preset_model"))
        return _MINIMAX_PRESETS.get(model)
    return None


def _omit_none(value: Mapping[str, Any]) -> dict[str, Any] | None:
    out = {k: v for k, v in value.items() if v is not None}
    return out or None


def _strip_inferred(props: dict[str, Any], inferred: list[str]) -> dict[str, Any]:
    """The SDK's ``strip_inferred_preset_fields``: a stage replaced by a preset keeps only what
    the preset does not provide."""
    categories = _preset_stages(tuple(inferred))
    asr = props.get("asr")
    if asr and "asr" in categories:
        params = dict(asr.get("params") or {})
        if _infer_asr(asr) == _DEEPGRAM_PRESETS.get(_norm(params.get("model"))):
            params["model"] = None
        params["api_key"] = None
        asr = {k: v for k, v in {**asr, "params": _omit_none(params)}.items() if v is not None}
    llm = props.get("llm")
    if llm and "llm" in categories:
        params = dict(llm.get("params") or {})
        if _infer_llm(llm) == _OPENAI_PRESETS.get(_norm(params.get("model"))):
            params["model"] = None
        url = llm.get("url")
        rest = {k: v for k, v in llm.items() if k not in {"api_key", "url", "params"}}
        llm = {
            k: v
            for k, v in {
                **rest,
                "api_key": None,
                "url": url if url and url != _OPENAI_CHAT_URL else None,
                "params": _omit_none(params),
            }.items()
            if v is not None
        }
    tts = props.get("tts")
    if tts and "tts" in categories:
        params = dict(tts.get("params") or {})
        preset = _infer_tts(tts)
        if tts.get("vendor") == "openai":
            if preset == "openai_tts_1" and (_norm(params.get("model")) or "tts-1") == "tts-1":
                params["model"] = None
            params["api_key"] = None
        elif tts.get("vendor") == "minimax":
            if preset == _MINIMAX_PRESETS.get(_norm(params.get("model"))):
                params["model"] = None
            for name in ("key", "group_id", "url"):
                params[name] = None
        tts = {k: v for k, v in {**tts, "params": _omit_none(params)}.items() if v is not None}
        tts.pop("_minimax_preset_model", None)
    if tts and "_minimax_preset_model" in tts:
        tts = {k: v for k, v in tts.items() if k != "_minimax_preset_model"}
    # As the SDK: the three keys are always there, null where no stage is sent.
    return {**props, "asr": asr, "llm": llm, "tts": tts}


def _restage(stage: Stage, **changes: Any) -> dict[str, Any]:
    args = {**stage.args, **changes}
    return _vendors.render_stage(stage.sdk_class, _vendors.check_args(stage.sdk_class, args))


def _apply_overrides(
    profile: Profile, overrides: Overrides
) -> tuple[dict[str, dict[str, Any]], dict[str, Any]]:
    """The stage configs and Agent settings of ``profile`` with ``overrides`` applied."""
    configs = {name: copy.deepcopy(dict(s.config)) for name, s in profile.stages.items()}
    agent = copy.deepcopy(dict(profile.agent))
    where = _Where(profile.source, profile.name)
    if overrides.voice is not None:
        name = profile.voice_field
        stage = profile.stages.get("mllm") or profile.stages.get("tts")
        if stage is None or name is None:
            what = (
                f"its {stage.vendor} {stage.stage} stage has no voice setting"
                if stage is not None
                else "its voice comes from a preset (" + ", ".join(profile.presets) + ")"
            )
            raise ConfigError(
                f"profile {profile.name!r} cannot take a voice: {what}",
                hint="start without voice, or choose a profile whose TTS names a voice",
            )
        try:
            configs[stage.stage] = _restage(stage, **{name: overrides.voice})
        except StageError as exc:
            raise where.error(f"voice ({stage.stage}.{name})", exc.message) from None
    if overrides.language is not None:
        if overrides.language not in TURN_DETECTION_LANGUAGES:
            raise ConfigError(
                f"unknown language {overrides.language!r}"
                + _did_you_mean(overrides.language, TURN_DETECTION_LANGUAGES),
                hint=f"one of: {', '.join(TURN_DETECTION_LANGUAGES)}",
            )
        agent["turn_detection"] = {
            **(agent.get("turn_detection") or {}),
            "language": overrides.language,
        }
    if overrides.system_prompt is not None:
        if "mllm" in configs:
            stage = profile.stages["mllm"]
            if "instructions" not in _vendors.catalog()[stage.sdk_class]["fields"]:
                raise ConfigError(
                    f"profile {profile.name!r}: the {stage.vendor} MLLM takes no instructions"
                )
            configs["mllm"] = _restage(stage, instructions=overrides.system_prompt)
        elif "llm" in configs:
            configs["llm"]["system_messages"] = [
                {"role": "system", "content": overrides.system_prompt}
            ]
        else:
            agent["instructions"] = overrides.system_prompt
    if overrides.greeting is not None:
        target = "mllm" if "mllm" in configs else "llm" if "llm" in configs else None
        if target is None:
            agent["greeting"] = overrides.greeting
        else:
            configs[target]["greeting_message"] = overrides.greeting
    variables = {**profile.template_variables, **(overrides.template_variables or {})}
    if variables:
        if "llm" not in configs:
            raise ConfigError(
                f"profile {profile.name!r}: template variables need an llm stage",
                hint=f"add [profiles.{profile.name}.llm], or start without template variables",
            )
        configs["llm"]["template_variables"] = {
            **(configs["llm"].get("template_variables") or {}),
            **variables,
        }
    return configs, agent


def build_join(
    profile: Profile,
    overrides: Overrides | None = None,
    *,
    channel: str | None = None,
    token: str | None = None,
    agent_uid: str | None = None,
    remote_uids: list[str] | None = None,
    app_id: str | None = None,
    avatar_token: Callable[[str], str] | None = None,
    _call: bool = False,
) -> JoinConfig:
    """The join request's ``properties`` (plus preset and pipeline_id) for ``profile``.

    The session fields (``channel``, ``token``, ``agent_rtc_uid``, ``remote_rtc_uids``) are
    included when given. A token-managed avatar (HeyGen, LiveAvatar, generic, SenseTime,
    Spatius) with an ``agora_uid`` and no ``agora_token`` gets one from ``avatar_token(uid)``;
    the generic avatar gets ``app_id`` and ``channel``. Raises :class:`ConfigError` for an
    override the profile cannot take."""
    configs, agent = _apply_overrides(profile, overrides or Overrides())
    session = {
        "channel": channel,
        "token": token,
        "agent_rtc_uid": agent_uid,
        "remote_rtc_uids": remote_uids,
        "idle_timeout": profile.idle_timeout,
        "enable_string_uid": profile.enable_string_uid,
    }
    props: dict[str, Any] = {k: v for k, v in session.items() if v is not None}
    advanced = agent.get("advanced_features")
    if profile.tools is not None:
        advanced = {**(advanced or {}), "enable_tools": profile.tools}
    mllm = configs.get("mllm")
    if mllm is not None:
        mllm = {**mllm, "enable": True}
        if advanced is not None:
            advanced = {k: v for k, v in advanced.items() if k != "enable_mllm"} or None
        props["mllm"] = mllm
    for key in ("turn_detection", "interruption", "sal"):
        if agent.get(key) is not None:
            props[key] = agent[key]
    if "avatar" in configs:
        props["avatar"] = configs["avatar"]
    if advanced is not None:
        props["advanced_features"] = advanced
    props["parameters"] = _parameters(agent.get("parameters"), advanced)
    for key in ("geofence", "labels", "rtc", "filler_words"):
        if agent.get(key) is not None:
            props[key] = agent[key]
    if mllm is not None:
        if agent.get("greeting") is not None:
            mllm.setdefault("greeting_message", agent["greeting"])
        if agent.get("failure_message") is not None:
            mllm.setdefault("failure_message", agent["failure_message"])
        if mllm.get("vendor") == "openai_gpt_live":
            props.pop("turn_detection", None)
        props = _drop_none(props)
        _enrich_avatar(props, channel, app_id, avatar_token)
        return _finish(profile, props, call=_call)
    preset_stages = _preset_stages(profile.presets)
    skip = set(preset_stages)
    allow_missing = set(preset_stages) | ({"asr", "llm", "tts"} if profile.pipeline_id else set())
    if _infer_asr(configs.get("asr")):
        skip.add("asr")
    if _infer_llm(configs.get("llm")):
        skip.add("llm")
    if _infer_tts(configs.get("tts")):
        skip.add("tts")
    language = (agent.get("turn_detection") or {}).get(
        "language"
    ) or DEFAULT_TURN_DETECTION_LANGUAGE
    turn_detection = {**(agent.get("turn_detection") or {}), "language": language}
    asr_default = {"vendor": "fengming" if profile.area == "cn" else "ares"}
    if "asr" not in skip and ("asr" in configs or "asr" not in allow_missing):
        props["asr"] = {**(configs.get("asr") or asr_default), "language": language}
    props["turn_detection"] = turn_detection
    props = _drop_none(props)
    _enrich_avatar(props, channel, app_id, avatar_token)
    if "tts" in configs:
        props["tts"] = _drop_none(configs["tts"])
    if "llm" in configs:
        llm = dict(configs["llm"])
        for key, source in (
            ("system_messages", "instructions"),
            ("greeting_message", "greeting"),
            ("greeting_configs", "greeting_configs"),
            ("failure_message", "failure_message"),
            ("max_history", "max_history"),
        ):
            value = agent.get(source)
            if value is not None and key not in llm:
                llm[key] = (
                    [{"role": "system", "content": value}] if key == "system_messages" else value
                )
        props["llm"] = llm
    if "asr" in configs:
        props["asr"] = _drop_none({**configs["asr"], "language": language})
    return _finish(profile, props, call=_call)


def build_call(
    profile: Profile,
    overrides: Overrides | None = None,
    *,
    channel: str | None = None,
    token: str | None = None,
    agent_uid: str | None = None,
    remote_uids: list[str] | None = None,
    app_id: str | None = None,
    avatar_token: Callable[[str], str] | None = None,
) -> JoinConfig:
    """The outbound call request's ``properties`` (and pipeline_id) for ``profile``.

    The call endpoint takes no presets, so the profile needs its own llm and tts stages (or a
    pipeline_id): a profile with presets, or whose keyless stage the SDK would turn into a
    preset, is refused with what to add. Otherwise as :func:`build_join`."""
    problem = _call_problem(profile)
    if problem is not None:
        raise ConfigError(
            f"profile {profile.name!r} cannot place calls: {problem}",
            hint="the call endpoint takes no presets; give the profile llm and tts stages with "
            f"their keys ([profiles.{profile.name}.llm], [profiles.{profile.name}.tts]), or a "
            "pipeline_id",
        )
    return build_join(
        profile,
        overrides,
        channel=channel,
        token=token,
        agent_uid=agent_uid,
        remote_uids=remote_uids,
        app_id=app_id,
        avatar_token=avatar_token,
        _call=True,
    )


def _call_problem(profile: Profile) -> str | None:
    if profile.presets:
        return f"it uses presets ({', '.join(profile.presets)})"
    if profile.pipeline_id is not None:
        return None
    if profile.is_mllm:
        return "it is an MLLM agent"
    for stage, infer in (("llm", _infer_llm), ("tts", _infer_tts), ("asr", _infer_asr)):
        config = profile.stages[stage].config if stage in profile.stages else None
        if config is None and stage != "asr":
            return f"it has no {stage} stage"
        preset = infer(config)
        if preset:
            return f"its keyless {stage} stage is the {preset} preset"
    return None


def _parameters(parameters: Mapping[str, Any] | None, advanced: Mapping[str, Any] | None) -> Any:
    updates: dict[str, Any] = {}
    if (advanced or {}).get("enable_rtm") is True and (parameters or {}).get(
        "data_channel"
    ) is None:
        updates["data_channel"] = "rtm"
    if (parameters or {}).get("audio_scenario") is None:
        updates["audio_scenario"] = "default"
    return {**(parameters or {}), **updates}


def _enrich_avatar(
    props: dict[str, Any],
    channel: str | None,
    app_id: str | None,
    avatar_token: Callable[[str], str] | None,
) -> None:
    avatar = props.get("avatar")
    if not isinstance(avatar, dict) or avatar.get("enable", True) is False:
        return
    params = avatar.setdefault("params", {})
    if avatar.get("vendor") == "generic":
        if not params.get("agora_appid") and app_id is not None:
            params["agora_appid"] = app_id
        if not params.get("agora_channel") and channel is not None:
            params["agora_channel"] = channel
    if avatar.get("vendor") not in _TOKEN_MANAGED_AVATARS or not params.get("agora_uid"):
        return
    if not params.get("agora_token"):
        if avatar_token is None:
            raise ConfigError(
                "the avatar needs an RTC token for its agora_uid",
                hint="give the App Certificate (tokens are then minted per session) or set "
                "agora_token on the avatar",
            )
        params["agora_token"] = avatar_token(str(params["agora_uid"]))


def _finish(profile: Profile, props: dict[str, Any], *, call: bool = False) -> JoinConfig:
    if call:
        return JoinConfig(properties=props, preset=None, pipeline_id=profile.pipeline_id)
    explicit = list(profile.presets)
    categories = _preset_stages(profile.presets)
    inferred: list[str] = []
    for stage, infer in (("asr", _infer_asr), ("llm", _infer_llm), ("tts", _infer_tts)):
        if stage not in categories:
            found = infer(props.get(stage))
            if found:
                inferred.append(found)
    props = _strip_inferred(props, inferred)
    preset = ",".join([*explicit, *inferred]) or None
    return JoinConfig(properties=props, preset=preset, pipeline_id=profile.pipeline_id)


# -- summary -------------------------------------------------------------------------------------


def summarize(profile: Profile) -> dict[str, Any]:
    """What ``list_profiles`` shows of a profile: never a secret."""
    stages = {name: stage.vendor for name, stage in profile.stages.items()}
    for preset in profile.presets:
        for stage in _preset_stages((preset,)):
            stages.setdefault(stage, f"preset {preset}")
    llm = profile.stages.get("llm") or profile.stages.get("mllm")
    mcp = [
        {k: v for k, v in server.items() if k in ("name", "endpoint", "transport")}
        for server in (llm.config.get("mcp_servers") or [] if llm else [])
        if isinstance(server, dict)
    ]
    tools_flag = profile.tools
    if tools_flag is None:
        tools_flag = (profile.agent.get("advanced_features") or {}).get("enable_tools")
    return {
        "name": profile.name,
        "description": profile.description,
        "kind": "mllm" if profile.is_mllm else "cascading",
        "stages": stages,
        "presets": list(profile.presets),
        "pipeline_id": profile.pipeline_id,
        "voice": profile.voice,
        "voice_field": profile.voice_field,
        "language": profile.language,
        "tools": {
            "enabled": bool(tools_flag),
            "mcp_servers": [_redacted_server(s) for s in mcp],
            "functions": len((llm.config.get("tools") or []) if llm else []),
        },
        "template_variables": sorted(profile.template_variables),
        "callable": _callable(profile),
    }


def _redacted_server(server: Mapping[str, Any]) -> dict[str, Any]:
    """An MCP server as the summary shows it: name, transport, the endpoint without query,
    fragment or user info (where credentials could hide)."""
    out = dict(server)
    endpoint = out.get("endpoint")
    if isinstance(endpoint, str):
        endpoint = endpoint.split("?", 1)[0].split("#", 1)[0]
        scheme, sep, rest = endpoint.partition("://")
        host, slash, path = rest.partition("/")
        out["endpoint"] = scheme + sep + host.rpartition("@")[2] + slash + path
    return out


def _callable(profile: Profile) -> bool:
    """True when the profile can place a phone call (see :func:`build_call`)."""
    return _call_problem(profile) is None
