"""Profiles against the official SDK (``agora-agents`` 2.12.0, the ``[contract]`` test extra).

Every vendor class the SDK has (found by walking its base classes, so a class the catalog lacks
fails here) is given the same arguments as a profile stage: the stage JSON equals the SDK's
``to_config()``, and a profile the SDK refuses is refused too. Whole profiles are compared with
the join body the SDK's ``Agent`` / ``AgentSession`` sends (captured from its HTTP client, with
the same token). Without the SDK these tests are skipped with the reason; under ``CI=true`` that
skip is a failure, so the oracle cannot silently go missing.
"""

from __future__ import annotations

import importlib
import json
import os
import random
import warnings
from collections.abc import Iterator
from typing import Any

import _profile_catalog_gen as gen
import httpx
import pytest

from convoai_mcp.errors import ConfigError
from convoai_mcp.profiles import build_join, parse_profiles
from convoai_mcp.profiles._catalog import CATALOG, SDK_VERSION


def _sdk_or_skip() -> Any:
    try:
        return importlib.import_module("agora_agent")
    except ImportError:
        reason = (
            f"the official SDK is not installed (pip install agora-agents=={SDK_VERSION}, "
            "the [contract] extra): the SDK-oracle tests of profiles cannot run"
        )
        if os.environ.get("CI", "").lower() in ("1", "true", "yes"):
            pytest.fail(reason + " (and CI is set, so this is a failure)")
        pytest.skip(reason)


def _classes() -> list[str]:
    try:
        return [gen.class_key(cls) for cls in gen.vendor_classes()]
    except ImportError:
        return ["(sdk missing)"]


@pytest.fixture(scope="module")
def sdk() -> Any:
    module = _sdk_or_skip()
    assert module.__version__ if hasattr(module, "__version__") else True
    return module


def _sdk_class(key: str) -> type[Any]:
    for cls in gen.vendor_classes():
        if gen.class_key(cls) == key:
            return cls
    raise KeyError(key)


# -- TOML writing (the profile goes through the real loader) --------------------------------------


def _toml_value(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int | float):
        return repr(value)
    if isinstance(value, str):
        return json.dumps(value)
    if isinstance(value, list):
        return "[" + ", ".join(_toml_value(v) for v in value) + "]"
    if isinstance(value, dict):
        return (
            "{ " + ", ".join(f"{json.dumps(k)} = {_toml_value(v)}" for k, v in value.items()) + " }"
        )
    raise TypeError(value)


def _table(header: str, values: dict[str, Any]) -> str:
    lines = [f"[{header}]"]
    lines += [f"{json.dumps(k)} = {_toml_value(v)}" for k, v in values.items()]
    return "\n".join(lines) + "\n"


def _stage_profile(key: str, args: dict[str, Any]) -> str:
    entry = CATALOG[key]
    head: dict[str, Any] = {"area": entry["area"]}
    if entry["stage"] != "mllm":
        head["pipeline_id"] = "pl-1"
    vendor = entry["names"][0]
    table = {("vendor_param" if k == "vendor" else k): v for k, v in args.items()}
    return _table("profiles.p", head) + _table(
        f"profiles.p.{entry['stage']}", {"vendor": vendor, **table}
    )


def _stage_via_profile(key: str, args: dict[str, Any]) -> dict[str, Any]:
    profiles = parse_profiles(
        _stage_profile(key, args), source="oracle.toml", environ={}, private=True
    )
    stage = profiles.get("p").stages[CATALOG[key]["stage"]]
    assert stage.sdk_class == key
    return dict(stage.config)


def _sdk_config(key: str, args: dict[str, Any]) -> dict[str, Any]:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        config = gen._dump(_sdk_class(key)(**args).to_config())
    assert isinstance(config, dict)
    return config


def _cases(key: str) -> Iterator[tuple[str, dict[str, Any]]]:
    """Argument sets: the required ones (in each credential mode), all of them, and 30 seeded
    random subsets with random marker values."""
    fields: dict[str, Any] = CATALOG[key]["fields"]
    owner = _sdk_class(key).__name__
    names = list(fields)

    def marker(name: str, which: int) -> Any:
        return gen._marker(name, fields[name], names.index(name), which, owner)

    given = gen.COMPANIONS.get(key, {})
    base = {n: marker(n, 1) for n, s in fields.items() if s["required"] or n in given}
    yield "required", base
    for index, (_condition, mode_given) in enumerate(gen.MODES.get(key, [])):
        args = {n: marker(n, 1) for n, s in fields.items() if s["required"]}
        for n, value in mode_given.items():
            if isinstance(value, tuple):
                args[n] = value[1]
            elif value is not None:
                args[n] = marker(n, 1) if value == "*" else value
        yield f"mode{index}", args
    rng = random.Random(key)
    for index in range(30):
        args = {
            n: marker(n, rng.randint(0, 1))
            for n, s in fields.items()
            if s["required"] or rng.random() < 0.5
        }
        yield f"random{index}", args


def test_the_catalog_is_derived_from_the_installed_sdk(sdk: Any) -> None:
    """The committed catalog equals a fresh derivation: an SDK class added, removed or changed
    (parameters or to_config shape) shows here; regenerate with ``python
    tests/_profile_catalog_gen.py``."""
    assert importlib.import_module("agora_agent.version").__version__ == SDK_VERSION
    assert gen.derive() == CATALOG


def test_the_sdk_has_72_vendor_classes_by_stage(sdk: Any) -> None:
    """13 LLM, 27 TTS, 18 STT, 7 MLLM and 7 avatar classes, all in the catalog."""
    counts: dict[str, int] = {}
    for cls in gen.vendor_classes():
        counts[gen.stage_of(cls)] = counts.get(gen.stage_of(cls), 0) + 1
    assert counts == {"llm": 13, "tts": 27, "asr": 18, "mllm": 7, "avatar": 7}
    assert sorted(CATALOG) == sorted(_classes())


@pytest.mark.parametrize("key", _classes())
def test_a_stage_produces_what_the_sdk_class_produces(sdk: Any, key: str) -> None:
    """For every SDK vendor class: the same arguments in a profile stage give the same JSON as
    ``to_config()``, and arguments the SDK refuses are refused at load."""
    assert key in CATALOG, f"the SDK class {key} is missing from the profiles catalog"
    compared = 0
    for case, args in _cases(key):
        try:
            expected: dict[str, Any] | None = _sdk_config(key, args)
        except Exception:
            expected = None
        if expected is None:
            with pytest.raises(ConfigError):
                _stage_via_profile(key, args)
            continue
        try:
            got = _stage_via_profile(key, args)
        except ConfigError as exc:
            pytest.fail(f"{key} {case}: refused what the SDK accepts ({exc}); args {args}")
        assert got == expected, f"{key} {case}: args {args}"
        compared += 1
    assert compared >= 2


# -- whole profiles against the SDK's join body ---------------------------------------------------

APP_ID = "0123456789abcdef0123456789abcdef"
APP_CERT = "fedcba9876543210fedcba9876543210"
ENV = {"LLM_KEY": "llm-secret-1", "TTS_KEY": "tts-secret-1", "ASR_KEY": "asr-secret-1"}


def _sdk_join(
    sdk: Any, profile_args: dict[str, Any], stages: dict[str, tuple[str, dict[str, Any]]],
    *, area: str = "US", preset: list[str] | None = None, pipeline_id: str | None = None,
    idle_timeout: int | None = None, tools: bool | None = None,
) -> dict[str, Any]:  # fmt: skip
    """The body the SDK's AgentSession.start() posts for the same agent and session."""
    agentkit = importlib.import_module("agora_agent.agentkit")
    captured: dict[str, Any] = {}

    def handler(request: httpx.Request) -> httpx.Response:
        captured["body"] = json.loads(request.content)
        return httpx.Response(200, json={"agent_id": "a1", "create_ts": 1, "status": "RUNNING"})

    client = sdk.Agora(
        area=getattr(sdk.Area, area),
        app_id=APP_ID,
        app_certificate=APP_CERT,
        customer_id="cust",
        customer_secret="cust-secret",
        httpx_client=httpx.Client(transport=httpx.MockTransport(handler)),
    )
    agent = agentkit.Agent(client=client, pipeline_id=pipeline_id, **profile_args)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        for stage, (key, args) in stages.items():
            vendor = _sdk_class(key)(**args)
            method = {"asr": "with_stt"}.get(stage, f"with_{stage}")
            agent = getattr(agent, method)(vendor)
        if tools is not None:
            agent = agent.with_tools(tools)
        session = agent.create_session(
            channel="room-1",
            agent_uid="1001",
            remote_uids=["2002"],
            name="agent-x",
            token="the-token",
            preset=preset,
            idle_timeout=idle_timeout,
        )
        session.start()
    body = captured["body"]
    assert isinstance(body, dict)
    return body


def _ours(text: str) -> dict[str, Any]:
    profiles = parse_profiles(text, source="join.toml", environ=ENV, private=True)
    join = build_join(
        profiles.get("p"), channel="room-1", token="the-token", agent_uid="1001",
        remote_uids=["2002"], app_id=APP_ID,
    )  # fmt: skip
    return {"preset": join.preset, "pipeline_id": join.pipeline_id, "properties": join.properties}


def _differences(ours: Any, theirs: Any, path: str = "") -> list[str]:
    """Where two JSON values differ, as readable paths (for the assertion message)."""
    if isinstance(ours, dict) and isinstance(theirs, dict):
        out: list[str] = []
        for key in sorted(set(ours) | set(theirs)):
            if key not in theirs:
                out.append(f"{path}.{key}: only ours ({ours[key]!r})")
            elif key not in ours:
                out.append(f"{path}.{key}: only the SDK's ({theirs[key]!r})")
            else:
                out += _differences(ours[key], theirs[key], f"{path}.{key}")
        return out
    return [] if ours == theirs else [f"{path}: ours {ours!r}, the SDK's {theirs!r}"]


def _assert_same(ours: dict[str, Any], theirs: dict[str, Any]) -> None:
    differences = _differences(ours, theirs)
    assert not differences, "\n".join(differences)


def _theirs(body: dict[str, Any]) -> dict[str, Any]:
    return {k: body[k] for k in ("preset", "pipeline_id", "properties")}


ANTHROPIC = {
    "api_key": "llm-secret-1",
    "model": "claude-sonnet-4-5",
    "url": "https://api.anthropic.com/v1/messages",
    "max_tokens": 512,
    "headers": {"anthropic-version": "2023-06-01"},
    "template_variables": {"company": "Acme"},
    "mcp_servers": [{"name": "crm", "endpoint": "https://crm.example/mcp"}],
}
ELEVENLABS = {
    "key": "tts-secret-1",
    "model_id": "eleven_flash_v2_5",
    "voice_id": "21m00Tcm4TlvDq8ikWAM",
    "base_url": "wss://api.elevenlabs.io/v1",
    "sample_rate": 24000,
    "stability": 0.5,
}
DEEPGRAM = {"api_key": "asr-secret-1", "model": "nova-3", "language": "en"}
AGENT_SETTINGS: dict[str, Any] = {
    "instructions": "You are brief.",
    "greeting": "Hello!",
    "failure_message": "Sorry, say that again?",
    "max_history": 12,
    "turn_detection": {"language": "de-DE", "type": "agora_vad"},
    "interruption": {"mode": "adaptive"},
    "sal": {"sal_mode": "locking"},
    "advanced_features": {"enable_rtm": True},
    "parameters": {"silence_config": {"timeout_ms": 8000, "action": "speak", "content": "Hi?"}},
    "geofence": {"area": "NORTH_AMERICA"},
    "labels": {"team": "support"},
    "rtc": {"encryption_mode": 1, "encryption_key": "rtc-secret-key-1"},
    "filler_words": {"enable": True},
    "greeting_configs": {"mode": "single_every"},
}


def _secretless(args: dict[str, Any]) -> dict[str, Any]:
    """``args`` as TOML values: the secrets as ``${ENV}`` references."""
    back = {v: k for k, v in ENV.items()}
    return {
        k: ("${" + back[v] + "}" if isinstance(v, str) and v in back else v)
        for k, v in args.items()
    }


def test_a_cascading_profile_joins_like_the_sdk(sdk: Any) -> None:
    """Anthropic + ElevenLabs + Deepgram with every Agent setting, tools on: the same body."""
    text = (
        _table("profiles.p", {**AGENT_SETTINGS, "tools": True, "idle_timeout": 90})
        + _table("profiles.p.llm", {"vendor": "anthropic", **_secretless(ANTHROPIC)})
        + _table("profiles.p.tts", {"vendor": "elevenlabs", **_secretless(ELEVENLABS)})
        + _table("profiles.p.asr", {"vendor": "deepgram", **_secretless(DEEPGRAM)})
    )
    theirs = _sdk_join(
        sdk,
        AGENT_SETTINGS,
        {
            "llm": ("Anthropic", ANTHROPIC),
            "tts": ("ElevenLabsTTS", ELEVENLABS),
            "asr": ("DeepgramSTT", DEEPGRAM),
        },
        idle_timeout=90,
        tools=True,
    )
    _assert_same(_ours(text), _theirs(theirs))


def test_a_presets_only_profile_joins_like_the_sdk(sdk: Any) -> None:
    """Hosted presets only: no stage objects, the preset list as the SDK sends it."""
    presets = ["deepgram_nova_3", "openai_gpt_4o_mini", "minimax_speech_2_6_turbo"]
    text = _table("profiles.p", {"presets": presets, "instructions": "Hi there."})
    theirs = _sdk_join(sdk, {"instructions": "Hi there."}, {}, preset=presets)
    _assert_same(_ours(text), _theirs(theirs))


def test_managed_vendor_settings_become_presets_like_the_sdk(sdk: Any) -> None:
    """OpenAI / OpenAI TTS / Deepgram without keys: the SDK infers the presets and strips the
    stages; so does the profile."""
    text = (
        _table("profiles.p", {"greeting": "Yo"})
        + _table("profiles.p.llm", {"vendor": "openai", "model": "gpt-4o-mini", "max_tokens": 99})
        + _table("profiles.p.tts", {"vendor": "openai", "voice": "alloy"})
        + _table("profiles.p.asr", {"vendor": "deepgram", "model": "nova-2"})
    )
    theirs = _sdk_join(
        sdk,
        {"greeting": "Yo"},
        {
            "llm": ("OpenAI", {"model": "gpt-4o-mini", "max_tokens": 99}),
            "tts": ("OpenAITTS", {"voice": "alloy"}),
            "asr": ("DeepgramSTT", {"model": "nova-2"}),
        },
    )
    _assert_same(_ours(text), _theirs(theirs))


def test_an_mllm_profile_joins_like_the_sdk(sdk: Any) -> None:
    """OpenAI Realtime: mllm enabled, the greeting and failure message moved into it, no asr /
    llm / tts, enable_mllm dropped from advanced_features as with_mllm() does."""
    realtime = {
        "api_key": "llm-secret-1",
        "model": "gpt-realtime",
        "voice": "marin",
        "instructions": "Talk like a pirate.",
    }
    settings = {
        "greeting": "Ahoy",
        "failure_message": "Arr?",
        "advanced_features": {"enable_mllm": True, "enable_rtm": True},
        "turn_detection": {"language": "en-US"},
    }
    text = _table("profiles.p", settings) + _table(
        "profiles.p.mllm", {"vendor": "openai", **_secretless(realtime)}
    )
    theirs = _sdk_join(sdk, settings, {"mllm": ("OpenAIRealtime", realtime)})
    _assert_same(_ours(text), _theirs(theirs))


def test_gpt_live_drops_turn_detection_like_the_sdk(sdk: Any) -> None:
    live = {"api_key": "llm-secret-1", "voice": "cedar"}
    settings = {"turn_detection": {"language": "en-US"}}
    text = _table("profiles.p", settings) + _table(
        "profiles.p.mllm", {"vendor": "openai_gpt_live", **_secretless(live)}
    )
    theirs = _sdk_join(sdk, settings, {"mllm": ("OpenAIGPTLive", live)})
    _assert_same(_ours(text), _theirs(theirs))
    assert "turn_detection" not in _ours(text)["properties"]


def test_an_avatar_profile_joins_like_the_sdk(sdk: Any) -> None:
    """A HeyGen avatar with its 24 kHz TTS (token given, tokens aside) and a generic avatar,
    which the session fills with the App ID and channel."""
    heygen = {
        "api_key": "tts-secret-1",
        "quality": "medium",
        "agora_uid": "3003",
        "agora_token": "avatar-token",
        "avatar_id": "Wayne_20240711",
    }
    llm = {"model": "gpt-4o-mini"}
    text = (
        _table("profiles.p", {})
        + _table("profiles.p.llm", {"vendor": "openai", **llm})
        + _table("profiles.p.tts", {"vendor": "elevenlabs", **_secretless(ELEVENLABS)})
        + _table("profiles.p.avatar", {"vendor": "heygen", **_secretless(heygen)})
    )
    theirs = _sdk_join(
        sdk,
        {},
        {
            "llm": ("OpenAI", llm),
            "tts": ("ElevenLabsTTS", ELEVENLABS),
            "avatar": ("HeyGenAvatar", heygen),
        },
    )
    _assert_same(_ours(text), _theirs(theirs))
    generic = {
        "api_key": "tts-secret-1",
        "api_base_url": "https://avatar.example",
        "avatar_id": "a1",
        "agora_uid": "3003",
        "agora_token": "avatar-token",
    }
    text = text.replace("[profiles.p.avatar]", "[profiles.x]\n[profiles.p.avatar]")
    text = text.split("[profiles.x]")[0] + _table(
        "profiles.p.avatar", {"vendor": "generic", **_secretless(generic)}
    )
    theirs = _sdk_join(
        sdk,
        {},
        {
            "llm": ("OpenAI", llm),
            "tts": ("ElevenLabsTTS", ELEVENLABS),
            "avatar": ("GenericAvatar", generic),
        },
    )
    _assert_same(_ours(text), _theirs(theirs))


def test_a_pipeline_profile_joins_like_the_sdk(sdk: Any) -> None:
    text = _table("profiles.p", {"pipeline_id": "studio-1", "greeting": "Hi"})
    theirs = _sdk_join(sdk, {"greeting": "Hi"}, {}, pipeline_id="studio-1")
    _assert_same(_ours(text), _theirs(theirs))


def test_a_cn_profile_joins_like_the_sdk(sdk: Any) -> None:
    """The CN area: CN vendor classes, and the default ASR is fengming, not ares."""
    aliyun = {
        "api_key": "llm-secret-1",
        "base_url": "https://dashscope.example/v1",
        "model": "qwen-plus",
    }
    cosy = {"key": "tts-secret-1", "region": "chinaeast2", "voice_name": "zh-CN-XiaoxiaoNeural"}
    text = (
        _table("profiles.p", {"area": "cn", "turn_detection": {"language": "zh-CN"}})
        + _table("profiles.p.llm", {"vendor": "aliyun", **_secretless(aliyun)})
        + _table("profiles.p.tts", {"vendor": "microsoft", **_secretless(cosy)})
    )
    theirs = _sdk_join(
        sdk,
        {"turn_detection": {"language": "zh-CN"}},
        {"llm": ("AliyunLLM", aliyun), "tts": ("MicrosoftCNTTS", cosy)},
        area="CN",
    )
    _assert_same(_ours(text), _theirs(theirs))
    assert _ours(text)["properties"]["asr"] == {"vendor": "fengming", "language": "zh-CN"}
