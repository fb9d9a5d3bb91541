"""Vendor stages: a profile's ``[NAME.tts]`` (or llm, asr, mllm, avatar) table to the stage JSON.

The stage tables take the parameters of the official SDK's vendor class for that vendor, under the
same names, and produce what that class's ``to_config()`` produces. What each class takes and
produces is data in :mod:`._catalog` (derived from the SDK, see ``tests/_profile_catalog_gen.py``);
this module checks the parameters (unknown names with "did you mean", types, required ones, bounds,
choices and the cross-parameter rules the SDK's validators apply) and renders the template.
No I/O, no pydantic: problems come back as plain messages for the loader to place.
"""

from __future__ import annotations

import copy
import difflib
import functools
import math
from collections.abc import Callable, Mapping
from typing import Any

__all__ = [
    "STAGES",
    "VOICE_FIELDS",
    "StageError",
    "catalog",
    "check_args",
    "find_class",
    "render_stage",
    "required_sample_rate",
    "stage_sample_rate",
    "vendor_names",
]

STAGES = ("llm", "tts", "asr", "mllm", "avatar")
_OMIT = object()

# The parameter that picks the voice, per TTS (and MLLM) class; absent: the vendor has none.
VOICE_FIELDS: dict[str, str] = {
    "ElevenLabsTTS": "voice_id",
    "MicrosoftTTS": "voice_name",
    "MicrosoftCNTTS": "voice_name",
    "OpenAITTS": "voice",
    "CartesiaTTS": "voice_id",
    "GoogleTTS": "voice_name",
    "AmazonTTS": "voice_id",
    "DeepgramTTS": "model",
    "GradiumTTS": "voice_id",
    "HumeAITTS": "voice_id",
    "RimeTTS": "speaker",
    "FishAudioTTS": "reference_id",
    "MiniMaxTTS": "voice_id",
    "MiniMaxCNTTS": "voice_id",
    "MistralTTS": "voice",
    "TypecastTTS": "voice_id",
    "MurfTTS": "voice_id",
    "SarvamTTS": "speaker",
    "SmallestAITTS": "voice_id",
    "XaiTTS": "voice_id",
    "GeminiTTS": "voice",
    "OpenAIRealtime": "voice",
    "AzureOpenAIRealtime": "voice",
    "OpenAIGPTLive": "voice",
    "XaiGrok": "voice",
    "GeminiLive": "voice",
    "VertexAI": "voice",
    "QwenOmni": "voice",
    "BytedanceDuplexTTS": "speaker",
    "BytedanceTTS": "voice_type",
    "CosyVoiceTTS": "voice",
    "StepFunTTS": "voice_id",
    "TencentTTS": "voice_type",
    "GenericTTS": "voice",
}
_MANAGED_LLM_MODELS = frozenset({"gpt-4o-mini", "gpt-4.1-mini", "gpt-5-nano", "gpt-5-mini"})
_MANAGED_DEEPGRAM = frozenset({"nova-2", "nova-3"})
_ALIASES = {("mllm", "openai_realtime"): "openai", ("mllm", "azure_openai_realtime"): "azure"}


@functools.cache
def catalog() -> dict[str, dict[str, Any]]:
    """The SDK vendor classes (:mod:`._catalog`), loaded on first use: it is large."""
    from convoai_mcp.profiles._catalog import CATALOG

    return CATALOG


class StageError(Exception):
    """A stage table is wrong: ``key`` (a parameter name, or "" for the table) and the reason."""

    def __init__(self, key: str, message: str) -> None:
        self.key = key
        self.message = message
        super().__init__(f"{key}: {message}" if key else message)


def vendor_names(stage: str, area: str = "global") -> list[str]:
    """The vendor names a stage accepts in ``area`` (global or cn), sorted."""
    return sorted(
        {
            name
            for entry in catalog().values()
            if entry["stage"] == stage and entry["area"] == area
            for name in entry["names"]
        }
    )


def find_class(stage: str, vendor: str, area: str = "global") -> str:
    """The SDK class (its catalog key) for ``vendor`` in ``stage``; StageError if there is none."""
    vendor = _ALIASES.get((stage, vendor), vendor)
    for key, entry in catalog().items():
        if entry["stage"] == stage and entry["area"] == area and vendor in entry["names"]:
            return key
    names = vendor_names(stage, area)
    near = difflib.get_close_matches(vendor, names, n=1)
    hint = f"did you mean {near[0]!r}? " if near else ""
    raise StageError(
        "vendor", f"unknown {stage} vendor {vendor!r}; {hint}known: {', '.join(names)}"
    )


def _check_type(name: str, spec: Mapping[str, Any], value: Any) -> Any:
    kind = spec["type"]
    if kind == "str":
        if not isinstance(value, str):
            raise StageError(name, f"must be a string, not {type(value).__name__}")
        if len(value) < spec.get("min_length", 0):
            raise StageError(name, "must not be empty")
    elif kind == "bool":
        if not isinstance(value, bool):
            raise StageError(name, "must be true or false")
    elif kind in ("int", "float"):
        if isinstance(value, bool) or not isinstance(value, int | float):
            raise StageError(name, f"must be a number, not {type(value).__name__}")
        if kind == "int" and not isinstance(value, int):
            raise StageError(name, "must be a whole number")
        if isinstance(value, float) and not math.isfinite(value):
            raise StageError(name, "must be a finite number")
        value = float(value) if kind == "float" else value
        for bound, sign in (("ge", ">="), ("gt", ">"), ("le", "<="), ("lt", "<")):
            if bound not in spec:
                continue
            limit = spec[bound]
            ok = {"ge": value >= limit, "gt": value > limit, "le": value <= limit}.get(
                bound, value < limit
            )
            if not ok:
                raise StageError(name, f"must be {sign} {limit}, not {value}")
    elif kind == "choice":
        if value not in spec["choices"] or isinstance(value, bool):
            choices = ", ".join(repr(c) for c in spec["choices"])
            raise StageError(name, f"must be one of {choices}, not {value!r}")
    elif kind == "list":
        if not isinstance(value, list):
            raise StageError(name, "must be a list")
        item = {"int": int, "str": str, "dict": dict}[spec["items"]]
        for index, element in enumerate(value):
            if not isinstance(element, item) or isinstance(element, bool):
                raise StageError(f"{name}[{index}]", f"must be a {spec['items']}")
    elif kind == "dict" and not isinstance(value, dict):
        raise StageError(name, "must be a table")
    return value


# Cross-parameter rules of the SDK's validators: class -> check(args) -> a problem or None.
def _openai_style(label: str) -> Callable[[dict[str, Any]], StageError | None]:
    def check(a: dict[str, Any]) -> StageError | None:
        if a.get("api_key") is not None and a.get("base_url") is None:
            return StageError("base_url", f"{label} requires base_url when api_key is set")
        if a.get("api_key") is None and a.get("base_url") is not None:
            return StageError("base_url", f"{label} base_url is only valid when api_key is set")
        if a.get("api_key") is None and str(a["model"]).strip().lower() not in _MANAGED_LLM_MODELS:
            managed = ", ".join(sorted(_MANAGED_LLM_MODELS))
            return StageError(
                "api_key", f"{label} requires api_key unless model is Agora-managed ({managed})"
            )
        if a.get("api_key") is None and a.get("vendor") is not None:
            return StageError("vendor", f"{label} Agora-managed mode does not allow vendor")
        return None

    return check


def _openai_tts(a: dict[str, Any]) -> StageError | None:
    if a.get("api_key") is not None:
        missing = [n for n in ("model", "base_url") if not a.get(n)]
        if missing:
            return StageError(missing[0], f"OpenAITTS requires {', '.join(missing)} with api_key")
    elif a.get("model") is not None and a["model"].strip().lower() != "tts-1":
        return StageError("api_key", "OpenAITTS requires api_key unless model is tts-1")
    elif a.get("base_url") is not None:
        return StageError("base_url", "OpenAITTS base_url is only valid when api_key is set")
    return None


def _deepgram_stt(a: dict[str, Any]) -> StageError | None:
    model = a.get("model")
    if a.get("api_key") is None and (
        model is None or model.strip().lower() not in _MANAGED_DEEPGRAM
    ):
        return StageError(
            "api_key", "DeepgramSTT requires api_key unless model is nova-2 or nova-3"
        )
    return None


def _rime(a: dict[str, Any]) -> StageError | None:
    need = (
        ("base_url", "model_id")
        if a.get("credential_mode") == "managed"
        else ("key", "speaker", "model_id")
    )
    missing = [n for n in need if not a.get(n)]
    if missing:
        return StageError(missing[0], f"RimeTTS requires {', '.join(missing)}")
    return None


_MINIMAX_PRESET_MODELS = frozenset(
    {"speech-2.6-turbo", "speech_2_6_turbo", "speech-2.8-turbo", "speech_2_8_turbo"}
)


def _minimax_cn(a: dict[str, Any]) -> StageError | None:
    if (a.get("voice_id") is None) == (a.get("timber_weights") is None):
        return StageError(
            "voice_id", "MiniMaxTTS requires exactly one of voice_id or timber_weights"
        )
    return None


def _minimax(a: dict[str, Any]) -> StageError | None:
    problem = _minimax_cn(a)
    if problem is not None:
        return problem
    if a.get("key") is not None and a.get("group_id") is None:
        return StageError("group_id", "MiniMaxTTS requires group_id when key is set")
    if (
        a.get("key") is None
        and str(a.get("model", "")).strip().lower() not in _MINIMAX_PRESET_MODELS
    ):
        presets = ", ".join(sorted(_MINIMAX_PRESET_MODELS))
        return StageError(
            "key", f"MiniMaxTTS requires key unless model is Agora-managed ({presets})"
        )
    return None


def _speechmatics(a: dict[str, Any]) -> StageError | None:
    return (
        None
        if a.get("key") or a.get("api_key")
        else StageError("key", "SpeechmaticsSTT requires key")
    )


def _openai_stt(a: dict[str, Any]) -> StageError | None:
    transcription = a.get("input_audio_transcription") or {}
    for name in ("prompt", "language"):
        if not a.get(name) and not transcription.get(name):
            return StageError(name, f"OpenAISTT requires {name}")
    return None


def _url_http(a: dict[str, Any]) -> StageError | None:
    url = str(a.get("url", ""))
    if not url.startswith(("http://", "https://")):
        return StageError("url", "GenericTTS url must be a valid HTTP(S) endpoint")
    return None


def _quality(a: dict[str, Any]) -> StageError | None:
    if a.get("quality") is not None and a["quality"] not in ("low", "medium", "high"):
        return StageError("quality", "must be one of low, medium, high")
    return None


def _gemini_stt(a: dict[str, Any]) -> StageError | None:
    word_timestamp = a.get("word_timestamp") is True
    if a.get("custom_vocabulary") and word_timestamp:
        return StageError("custom_vocabulary", "cannot be used with word_timestamp = true")
    mode = a.get("mode") or "VERBATIM"
    if mode not in ("SMART", "VERBATIM"):
        return StageError("mode", "GeminiSTT mode must be SMART or VERBATIM")
    if mode == "SMART" and word_timestamp:
        return StageError("mode", "GeminiSTT mode SMART cannot be used with word_timestamp = true")
    if mode == "SMART" and a.get("diarization") is True:
        return StageError("mode", "GeminiSTT mode SMART cannot be used with diarization = true")
    return None


def _gpt_live(a: dict[str, Any]) -> StageError | None:
    if a.get("input_audio_transcription") is not None:
        return StageError("input_audio_transcription", "GPT Live v3 does not support it")
    url = a.get("url") or a.get("base_url")
    if url is not None and not str(url).startswith(("ws://", "wss://")):
        return StageError("url", "GPT Live url must be a full ws:// or wss:// endpoint")
    return None


_RULES: dict[str, Callable[[dict[str, Any]], StageError | None]] = {
    "OpenAI": _openai_style("OpenAI"),
    "AliyunLLM": _openai_style("AliyunLLM"),
    "BytedanceLLM": _openai_style("BytedanceLLM"),
    "DeepSeekLLM": _openai_style("DeepSeekLLM"),
    "TencentLLM": _openai_style("TencentLLM"),
    "OpenAITTS": _openai_tts,
    "DeepgramSTT": _deepgram_stt,
    "RimeTTS": _rime,
    "MiniMaxTTS": _minimax,
    "MiniMaxCNTTS": _minimax_cn,
    "SpeechmaticsSTT": _speechmatics,
    "OpenAISTT": _openai_stt,
    "GenericTTS": _url_http,
    "HeyGenAvatar": _quality,
    "LiveAvatarAvatar": _quality,
    "GeminiSTT": _gemini_stt,
    "OpenAIGPTLive": _gpt_live,
}


def check_args(key: str, args: Mapping[str, Any]) -> dict[str, Any]:
    """``args`` checked against class ``key``, with the SDK's defaults filled in."""
    entry = catalog()[key]
    fields: dict[str, Any] = entry["fields"]
    out: dict[str, Any] = {}
    for name, value in args.items():
        if name not in fields:
            near = difflib.get_close_matches(name, list(fields), n=1)
            hint = f"did you mean {near[0]!r}? " if near else ""
            raise StageError(
                name, f"{key} has no parameter {name!r}; {hint}it takes: {', '.join(fields)}"
            )
        out[name] = _check_type(name, fields[name], value)
    for name, spec in fields.items():
        if name not in out:
            if spec["required"]:
                raise StageError(name, f"{key} requires {name!r}")
            if "default" in spec:
                out[name] = copy.deepcopy(spec["default"])
    if key == "SpeechmaticsSTT" and out.get("key") is None and out.get("api_key") is not None:
        out["key"] = out["api_key"]  # the SDK's deprecated alias
    rule = _RULES.get(key)
    problem = rule(out) if rule else None
    if problem is not None:
        raise problem
    return out


def _render(node: Any, args: Mapping[str, Any]) -> Any:
    if isinstance(node, list):
        return [_render(item, args) for item in node]
    if not isinstance(node, dict):
        return node
    if "$" in node:
        value = args.get(node["$"])
        return _OMIT if value is None else copy.deepcopy(value)
    if "$fmt" in node:
        return node["$fmt"].format_map({k: "None" if v is None else v for k, v in args.items()})
    if "$boolstr" in node:
        flag = args.get(node["$boolstr"])
        return _OMIT if flag is None else ("true" if flag else "false")
    if "$mcp" in node:
        servers = args.get(node["$mcp"])
        if servers is None:
            return _OMIT
        return [dict(s, transport=s.get("transport") or "streamable_http") for s in servers]
    if "$const" in node:
        return copy.deepcopy(node["$const"])
    out: dict[str, Any] = {}
    for merged in node.get("$merge", []):
        out.update(copy.deepcopy(args.get(merged) or {}))
    for k, v in node.items():
        if k == "$merge":
            continue
        value = _render(v, args)
        if value is not _OMIT:
            out[k] = value
    return out


def _put(tree: dict[str, Any], path: list[str], value: Any) -> None:
    for key in path[:-1]:
        tree = tree.setdefault(key, {})
    last = path[-1]
    if isinstance(value, dict) and isinstance(tree.get(last), dict):
        tree[last].update(value)
    else:
        tree[last] = value


def render_stage(key: str, args: Mapping[str, Any]) -> dict[str, Any]:
    """The stage JSON of class ``key`` for checked ``args`` (see :func:`check_args`)."""
    entry = catalog()[key]
    mode = entry
    for candidate in entry.get("modes", ()):
        condition = candidate["if"]
        if "absent" in condition and all(args.get(n) is None for n in condition["absent"]):
            mode = candidate
            break
        if "field" in condition and args.get(condition["field"]) in condition["in"]:
            mode = candidate
            break
    config = _render(mode["template"], args)
    merges: list[tuple[list[str], str]] = []
    order: list[str] = entry.get("order", [])
    names = sorted(mode["when"], key=lambda n: order.index(n) if n in order else -1)
    for name in names:
        ops = mode["when"][name]
        if args.get(name) is None:
            continue
        for op in ops:
            if "merge" in op:
                merges.append((op["path"], op["merge"]))
                continue
            value = _render(op["value"], args)
            if value is not _OMIT:
                _put(config, op["path"], value)
    for path, name in merges:
        target = config
        for part in path:
            target = target.setdefault(part, {})
        for k, v in copy.deepcopy(args[name]).items():
            target.setdefault(k, v)
    assert isinstance(config, dict)
    if key == "SpeechmaticsSTT":
        config["params"].pop("api_key", None)
    if key == "OpenAIGPTLive" and args.get("url") is None:
        config["url"] = _gpt_live_url(config["params"])
    return config


def _gpt_live_url(params: Mapping[str, Any]) -> str:
    """The SDK's GPT Live endpoint from ``base_url`` and ``path`` (``/v1/live`` on OpenAI's
    host is completed to ``/v1/live/sessions``)."""
    base = str(params.get("base_url", "wss://api.openai.com")).rstrip("/")
    url = base + "/" + str(params.get("path", "/v1/live/sessions")).lstrip("/")
    scheme, _, rest = url.partition("://")
    host, _, path = rest.partition("/")
    if host == "api.openai.com" and "/" + path.split("?", 1)[0] == "/v1/live":
        url = f"{scheme}://{host}/v1/live/sessions" + (url[len(f"{scheme}://{host}/v1/live") :])
    return url


def _rate(key: str, args: Mapping[str, Any]) -> int | None:
    rate = catalog()[key].get("sample_rate")
    if isinstance(rate, dict):
        rate = args.get(rate["$"])
    return rate if isinstance(rate, int) and not isinstance(rate, bool) and rate else None


def stage_sample_rate(key: str, args: Mapping[str, Any]) -> int | None:
    """The TTS sample rate the SDK checks an avatar against (None: not set)."""
    return _rate(key, args)


def required_sample_rate(key: str, args: Mapping[str, Any]) -> int | None:
    """The TTS sample rate avatar class ``key`` needs (None: any)."""
    return _rate(key, args)
