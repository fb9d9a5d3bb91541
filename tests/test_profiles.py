"""Agent profiles without the SDK: the file, its errors, secrets, overrides and the summary.

Every start-up error is checked with its message (the file, the profile and the key named, and a
"did you mean" where a name is close); files are real files in ``tmp_path`` where the mode
matters. What the profiles produce is compared with the official SDK in ``test_profiles_sdk.py``.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from convoai_mcp.errors import ConfigError
from convoai_mcp.profiles import (
    VOICE_FIELDS,
    Overrides,
    Profiles,
    build_call,
    build_join,
    load_profiles,
    parse_profiles,
    summarize,
)
from convoai_mcp.profiles._vendors import catalog

ENV = {
    "ANTHROPIC_API_KEY": "sk-ant-test-0001",
    "ELEVENLABS_API_KEY": "el-test-0002",
    "DEEPGRAM_API_KEY": "dg-test-0003",
    "OPENAI_API_KEY": "sk-openai-test-0004",
}

SUPPORT = """
default = "support"

[profiles.support]
description = "English support line"
instructions = "You are a concise support agent."
greeting = "Hi, how can I help?"
turn_detection = { language = "en-US" }
template_variables = { company = "Acme" }
tools = true

[profiles.support.llm]
vendor = "anthropic"
api_key = "${ANTHROPIC_API_KEY}"
model = "claude-sonnet-4-5"
url = "https://api.anthropic.com/v1/messages"
max_tokens = 1024
headers = { anthropic-version = "2023-06-01" }
mcp_servers = [{ name = "crm", endpoint = "https://bot:pw-secret@crm.example/mcp?token=abc" }]

[profiles.support.tts]
vendor = "elevenlabs"
key = "${ELEVENLABS_API_KEY}"
model_id = "eleven_flash_v2_5"
voice_id = "21m00Tcm4TlvDq8ikWAM"
base_url = "wss://api.elevenlabs.io/v1"

[profiles.support.asr]
vendor = "deepgram"
api_key = "${DEEPGRAM_API_KEY}"
model = "nova-3"

[profiles.hosted]
description = "Hosted presets only"
presets = ["deepgram_nova_3", "openai_gpt_4o_mini", "minimax_speech_2_6_turbo"]

[profiles.azure]
[profiles.azure.llm]
vendor = "azure"
api_key = "${OPENAI_API_KEY}"
model = "gpt-4o"
endpoint = "https://acme.openai.azure.com"
deployment_name = "gpt-4o"
[profiles.azure.tts]
vendor = "microsoft"
key = "${ELEVENLABS_API_KEY}"
region = "eastus"
voice_name = "en-US-AndrewNeural"

[profiles.realtime]
[profiles.realtime.mllm]
vendor = "openai_realtime"
api_key = "${OPENAI_API_KEY}"
model = "gpt-realtime"
voice = "marin"
"""


def _load(
    text: str = SUPPORT, env: dict[str, str] | None = None, private: bool = False
) -> Profiles:
    return parse_profiles(
        text, source="p.toml", environ=ENV if env is None else env, private=private
    )


def _error(text: str, env: dict[str, str] | None = None, private: bool = False) -> str:
    with pytest.raises(ConfigError) as caught:
        _load(text, env, private)
    return str(caught.value)


# -- the happy path ------------------------------------------------------------------------------


def test_a_profile_file_loads_with_its_default_and_stages() -> None:
    profiles = _load()
    assert profiles.names() == ["support", "hosted", "azure", "realtime"]
    support = profiles.get()
    assert support.name == "support"
    assert support.stages["llm"].sdk_class == "Anthropic"
    assert support.stages["tts"].config["params"]["key"] == "el-test-0002"
    assert support.stages["asr"].config == {
        "vendor": "deepgram",
        "params": {"key": "dg-test-0003", "model": "nova-3"},
    }
    assert profiles.get("realtime").stages["mllm"].sdk_class == "OpenAIRealtime"
    assert profiles.get("azure").stages["llm"].config["url"] == (
        "https://acme.openai.azure.com/openai/deployments/gpt-4o/chat/completions"
        "?api-version=2024-08-01-preview"
    )


def test_the_join_carries_the_whole_profile() -> None:
    join = build_join(
        _load().get("support"), channel="c", token="t", agent_uid="1", remote_uids=["2"]
    )
    props = join.properties
    assert join.preset is None
    assert props["llm"]["system_messages"] == [
        {"role": "system", "content": "You are a concise support agent."}
    ]
    assert props["llm"]["greeting_message"] == "Hi, how can I help?"
    assert props["llm"]["template_variables"] == {"company": "Acme"}
    assert props["llm"]["mcp_servers"][0]["transport"] == "streamable_http"
    assert props["advanced_features"] == {"enable_tools": True}
    assert props["asr"]["language"] == "en-US"
    assert props["parameters"] == {"audio_scenario": "default"}
    assert (props["channel"], props["token"], props["agent_rtc_uid"]) == ("c", "t", "1")


def test_a_presets_only_profile_sends_the_preset_list() -> None:
    join = build_join(_load().get("hosted"))
    assert join.preset == "deepgram_nova_3,openai_gpt_4o_mini,minimax_speech_2_6_turbo"
    assert (join.properties["llm"], join.properties["tts"], join.properties["asr"]) == (None,) * 3


def test_a_profile_without_a_default_must_be_named() -> None:
    profiles = _load(SUPPORT.replace('default = "support"', ""))
    with pytest.raises(ConfigError, match="sets no default"):
        profiles.get()
    with pytest.raises(ConfigError, match="did you mean 'support'"):
        profiles.get("suport")


# -- start-up errors ------------------------------------------------------------------------------

MINIMAL = """
[profiles.p]
presets = ["openai_gpt_4o_mini", "openai_tts_1"]
"""

ERRORS: list[tuple[str, str, list[str]]] = [
    ("toml syntax", '[profiles.p]\nvendor = "x\n', ["p.toml: not valid TOML", "line 2"]),
    ("no profiles", 'default = "x"\n', ["key 'profiles': no profiles"]),
    ("empty", "", ["p.toml, key 'profiles': no profiles"]),
    ("unknown top-level", "defualt = 'p'\n" + MINIMAL, ["key 'defualt'", "did you mean 'default'"]),
    ("default names none", 'default = "q"\n' + MINIMAL, ["names no profile: 'q'"]),
    (
        "unknown profile key",
        MINIMAL.replace("[profiles.p]", "[profiles.p]\ninstruction = 'hi'"),
        ["profile 'p', key 'instruction'", "did you mean 'instructions'"],
    ),
    (
        "wrong type",
        MINIMAL.replace("[profiles.p]", "[profiles.p]\nmax_history = 'ten'"),
        ["key 'max_history': must be a whole number"],
    ),
    (
        "unknown preset",
        MINIMAL.replace("openai_tts_1", "openai_tts1"),
        ["key 'presets[1]'", "unknown preset 'openai_tts1'", "did you mean 'openai_tts_1'"],
    ),
    (
        "missing vendor",
        MINIMAL + "[profiles.p.asr]\nmodel = 'nova-3'\n",
        ["key 'asr.vendor': is missing", "deepgram"],
    ),
    (
        "unknown vendor",
        MINIMAL + "[profiles.p.asr]\nvendor = 'deepgrm'\n",
        ["key 'asr.vendor'", "unknown asr vendor 'deepgrm'", "did you mean 'deepgram'"],
    ),
    (
        "cn vendor in the global area",
        MINIMAL + "[profiles.p.asr]\nvendor = 'xfyun'\n",
        ["unknown asr vendor 'xfyun'"],
    ),
    (
        "unknown parameter",
        MINIMAL + "[profiles.p.asr]\nvendor = 'deepgram'\nmodel = 'nova-3'\nlanguge = 'en'\n",
        ["key 'asr.languge'", "did you mean 'language'"],
    ),
    (
        "missing parameter",
        "[profiles.p]\npresets = ['openai_gpt_4o_mini']\n[profiles.p.tts]\n"
        "vendor = 'elevenlabs'\nkey = '${E}'\nmodel_id = 'm'\nbase_url = 'wss://x'\n",
        ["key 'tts.voice_id'", "ElevenLabsTTS requires 'voice_id'"],
    ),
    (
        "sample rate the vendor lacks",
        "[profiles.p]\npresets = ['openai_gpt_4o_mini']\n[profiles.p.tts]\nvendor = 'elevenlabs'\n"
        "key = '${E}'\nmodel_id = 'm'\nvoice_id = 'v'\nbase_url = 'wss://x'\nsample_rate = 48000\n",
        ["key 'tts.sample_rate': must be one of 16000, 22050, 24000, 44100, not 48000"],
    ),
    (
        "out of bounds",
        "[profiles.p]\npresets = ['openai_gpt_4o_mini']\n[profiles.p.tts]\nvendor = 'elevenlabs'\n"
        "key = '${E}'\nmodel_id = 'm'\nvoice_id = 'v'\nbase_url = 'wss://x'\nstability = 1.5\n",
        ["key 'tts.stability': must be <= 1.0, not 1.5"],
    ),
    (
        "a key without its url (the SDK's OpenAI rule)",
        "[profiles.p]\npresets = ['openai_tts_1']\n[profiles.p.llm]\nvendor = 'openai'\n"
        "api_key = '${E}'\nmodel = 'gpt-4o'\n",
        ["key 'llm.base_url'", "OpenAI requires base_url when api_key is set"],
    ),
    (
        "no key for a model that is not managed",
        "[profiles.p]\npresets = ['openai_tts_1']\n[profiles.p.llm]\nvendor = 'openai'\n"
        "model = 'gpt-4o'\n",
        ["key 'llm.api_key'", "unless model is Agora-managed"],
    ),
    (
        "no llm",
        "[profiles.p]\npresets = ['openai_tts_1']\n",
        ["key 'llm': no llm stage", "openai_gpt_4o_mini"],
    ),
    ("no tts", "[profiles.p]\npresets = ['openai_gpt_4o_mini']\n", ["key 'tts': no tts stage"]),
    (
        "mllm with a tts",
        "[profiles.p]\n[profiles.p.mllm]\nvendor = 'openai'\napi_key = '${E}'\n"
        "[profiles.p.tts]\nvendor = 'openai'\nvoice = 'alloy'\n",
        ["key 'tts': an MLLM agent takes no tts stage"],
    ),
    (
        "mllm with a preset",
        "[profiles.p]\npresets = ['deepgram_nova_3']\n[profiles.p.mllm]\nvendor = 'openai'\n"
        "api_key = '${E}'\n",
        ["key 'presets': an MLLM agent takes no asr stage"],
    ),
    (
        "mllm with an avatar",
        "[profiles.p]\n[profiles.p.mllm]\nvendor = 'openai'\napi_key = '${E}'\n"
        "[profiles.p.avatar]\nvendor = 'akool'\napi_key = '${E}'\n",
        ["key 'avatar': avatars are only supported with the cascading"],
    ),
    (
        "avatar sample rate",
        "[profiles.p]\npresets = ['openai_gpt_4o_mini']\n[profiles.p.tts]\nvendor = 'elevenlabs'\n"
        "key = '${E}'\nmodel_id = 'm'\nvoice_id = 'v'\nbase_url = 'wss://x'\nsample_rate = 16000\n"
        "[profiles.p.avatar]\nvendor = 'heygen'\napi_key = '${E}'\nquality = 'high'\n"
        "agora_uid = '9'\n",
        ["key 'tts.sample_rate'", "heygen avatar needs TTS at 24000 Hz", "set to 16000 Hz"],
    ),
    (
        "avatar without a sample rate",
        "[profiles.p]\npresets = ['openai_gpt_4o_mini']\n[profiles.p.tts]\nvendor = 'elevenlabs'\n"
        "key = '${E}'\nmodel_id = 'm'\nvoice_id = 'v'\nbase_url = 'wss://x'\n"
        "[profiles.p.avatar]\nvendor = 'akool'\napi_key = '${E}'\n",
        ["akool avatar needs TTS at 16000 Hz and the TTS sets no rate"],
    ),
    (
        "avatar quality",
        "[profiles.p]\npresets = ['openai_gpt_4o_mini', 'openai_tts_1']\n[profiles.p.avatar]\n"
        "vendor = 'heygen'\napi_key = '${E}'\nquality = 'ultra'\nagora_uid = '9'\n",
        ["key 'avatar.quality': must be one of low, medium, high"],
    ),
    (
        "turn detection language",
        MINIMAL.replace("[profiles.p]", "[profiles.p]\nturn_detection = { language = 'en-us' }"),
        ["key 'turn_detection.language'", "did you mean 'en-US'"],
    ),
    (
        "area",
        MINIMAL.replace("[profiles.p]", "[profiles.p]\narea = 'eu'"),
        ["key 'area': must be 'global' or 'cn'"],
    ),
    (
        "vendor_param on a class without one",
        "[profiles.p]\npresets = ['openai_gpt_4o_mini']\n[profiles.p.tts]\nvendor = 'openai'\n"
        "voice = 'alloy'\nvendor_param = 'x'\n",
        ["key 'tts.vendor_param'", "OpenAITTS has no vendor parameter"],
    ),
    (
        "profile name",
        "[profiles.'a b']\npresets = ['openai_gpt_4o_mini', 'openai_tts_1']\n",
        ["profile 'a b'", "letters, digits"],
    ),
]


@pytest.mark.parametrize(
    ("text", "expected"), [(t, e) for _, t, e in ERRORS], ids=[i for i, _, _ in ERRORS]
)
def test_each_start_up_error_names_the_file_the_profile_and_the_key(
    text: str, expected: list[str]
) -> None:
    message = _error(text, env={"E": "secret-value-e"})
    assert message.startswith("p.toml")
    for part in expected:
        assert part in message, message
    assert "secret-value-e" not in message


# -- secrets --------------------------------------------------------------------------------------


def test_an_env_reference_is_read_at_load() -> None:
    profile = _load().get("support")
    assert profile.stages["llm"].config["api_key"] == "sk-ant-test-0001"


def test_a_missing_variable_names_the_file_the_profile_the_key_and_the_variable() -> None:
    env = {k: v for k, v in ENV.items() if k != "ELEVENLABS_API_KEY"}
    message = _error(SUPPORT, env=env)
    assert "p.toml: profile 'support', key 'tts.key'" in message
    assert "ELEVENLABS_API_KEY is not set" in message


def test_env_references_work_inside_strings_and_in_agent_settings() -> None:
    text = MINIMAL.replace("[profiles.p]", '[profiles.p]\ngreeting = "Hello from ${TEAM}!"')
    profile = _load(text, env={"TEAM": "Acme"}).get("p")
    assert profile.agent["greeting"] == "Hello from Acme!"
    assert profile.secrets == ()


def test_secret_values_are_every_secret_for_the_redactor() -> None:
    profiles = _load()
    values = profiles.secret_values()
    assert set(values) == set(ENV.values())
    assert "claude-sonnet-4-5" not in values
    assert "https://bot:pw-secret@crm.example/mcp?token=abc" not in values


def test_a_secret_inside_a_header_table_is_a_secret() -> None:
    text = MINIMAL.replace("openai_gpt_4o_mini", "deepgram_nova_3") + (
        "[profiles.p.llm]\nvendor = 'anthropic'\napi_key = '${K}'\nmodel = 'c'\nurl = 'https://a'\n"
        "max_tokens = 10\nheaders = { x-api-key = '${H}', anthropic-version = '2023-06-01' }\n"
    )
    profiles = _load(text, env={"K": "key-value-1", "H": "header-secret-1"})
    assert set(profiles.secret_values()) == {"key-value-1", "header-secret-1"}


INLINE = MINIMAL.replace("openai_gpt_4o_mini", "deepgram_nova_3") + (
    "[profiles.p.llm]\nvendor = 'anthropic'\napi_key = 'sk-inline-secret'\nmodel = 'c'\n"
    "url = 'https://a'\nmax_tokens = 10\nheaders = { anthropic-version = '2023-06-01' }\n"
)


def test_an_inline_secret_in_a_readable_file_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "profiles.toml"
    path.write_text(INLINE, encoding="utf-8")
    path.chmod(0o644)
    with pytest.raises(ConfigError) as caught:
        load_profiles(path)
    message = str(caught.value)
    assert f"{path}: profile 'p', key 'llm.api_key'" in message
    assert "a secret is written inline" in message
    assert f"chmod 600 {path}" in message
    assert "sk-inline-secret" not in message


def test_an_inline_secret_in_a_0600_file_is_accepted_and_known(tmp_path: Path) -> None:
    path = tmp_path / "profiles.toml"
    path.write_text(INLINE, encoding="utf-8")
    path.chmod(0o600)
    profiles = load_profiles(path)
    assert profiles.get("p").stages["llm"].config["api_key"] == "sk-inline-secret"
    assert profiles.secret_values() == ["sk-inline-secret"]


def test_env_references_need_no_private_file(tmp_path: Path) -> None:
    path = tmp_path / "profiles.toml"
    path.write_text(SUPPORT, encoding="utf-8")
    path.chmod(0o644)
    assert load_profiles(path, environ=ENV).names()[0] == "support"


def test_a_missing_file_says_so(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="does not exist"):
        load_profiles(tmp_path / "nope.toml")


def test_a_file_that_does_not_parse_names_the_line(tmp_path: Path) -> None:
    path = tmp_path / "profiles.toml"
    path.write_text('[profiles.p]\npresets = ["openai_tts_1"\ngreeting = "x"\n', encoding="utf-8")
    with pytest.raises(ConfigError) as caught:
        load_profiles(path)
    assert str(path) in str(caught.value)
    assert "line 3" in str(caught.value)


def test_no_secret_reaches_repr_or_the_summary() -> None:
    profiles = _load()
    text = repr(profiles) + json.dumps(profiles.summaries())
    for secret in ENV.values():
        assert secret not in text
    assert "token=abc" not in text
    assert "pw-secret" not in text


# -- overrides ------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("profile", "stage", "path"),
    [
        ("support", "tts", ("params", "voice_id")),
        ("azure", "tts", ("params", "voice_name")),
        ("realtime", "mllm", ("params", "voice")),
    ],
)
def test_voice_goes_into_the_field_the_vendor_uses(
    profile: str, stage: str, path: tuple[str, ...]
) -> None:
    join = build_join(_load().get(profile), Overrides(voice="the-voice"))
    value: Any = join.properties[stage]
    for key in path:
        value = value[key]
    assert value == "the-voice"


def test_voice_for_an_openai_tts_stage_is_its_voice() -> None:
    text = MINIMAL.replace('"openai_tts_1"', '"deepgram_nova_3"') + (
        "[profiles.p.tts]\nvendor = 'openai'\nvoice = 'alloy'\n"
    )
    join = build_join(_load(text).get("p"), Overrides(voice="nova"))
    # Keyless OpenAI TTS is the openai_tts_1 preset (as the SDK infers it), voice kept.
    assert join.properties["tts"] == {"vendor": "openai", "params": {"voice": "nova"}}
    assert join.preset == "openai_gpt_4o_mini,deepgram_nova_3,openai_tts_1"


def test_voice_is_refused_where_a_preset_speaks() -> None:
    with pytest.raises(ConfigError) as caught:
        build_join(_load().get("hosted"), Overrides(voice="x"))
    assert "cannot take a voice" in str(caught.value)
    assert "minimax_speech_2_6_turbo" in str(caught.value)


def test_every_voice_field_is_a_parameter_of_its_class() -> None:
    classes = catalog()
    for key, name in VOICE_FIELDS.items():
        assert name in classes[key]["fields"], key
    speaking = [k for k, e in classes.items() if e["stage"] in ("tts", "mllm")]
    assert [k for k in speaking if k not in VOICE_FIELDS] == []


def test_language_sets_turn_detection_and_asr_together() -> None:
    join = build_join(_load().get("support"), Overrides(language="de-DE"))
    assert join.properties["turn_detection"]["language"] == "de-DE"
    assert join.properties["asr"]["language"] == "de-DE"
    with pytest.raises(ConfigError, match="did you mean 'de-DE'"):
        build_join(_load().get("support"), Overrides(language="de-de"))


def test_system_prompt_and_greeting_replace_the_profiles() -> None:
    join = build_join(_load().get("support"), Overrides(system_prompt="Be funny.", greeting="Yo"))
    assert join.properties["llm"]["system_messages"] == [{"role": "system", "content": "Be funny."}]
    assert join.properties["llm"]["greeting_message"] == "Yo"
    realtime = build_join(
        _load().get("realtime"), Overrides(system_prompt="Pirate.", greeting="Ahoy")
    )
    assert realtime.properties["mllm"]["params"]["instructions"] == "Pirate."
    assert realtime.properties["mllm"]["greeting_message"] == "Ahoy"


def test_template_variables_merge_over_the_profiles() -> None:
    join = build_join(_load().get("support"), Overrides(template_variables={"name": "Ann"}))
    assert join.properties["llm"]["template_variables"] == {"company": "Acme", "name": "Ann"}
    with pytest.raises(ConfigError, match="template variables need an llm stage"):
        build_join(_load().get("hosted"), Overrides(template_variables={"a": "b"}))


def test_an_override_never_changes_the_loaded_profile() -> None:
    profiles = _load()
    before = json.dumps(build_join(profiles.get("support")).properties, sort_keys=True)
    build_join(profiles.get("support"), Overrides(voice="v2", system_prompt="x", language="fr-FR"))
    assert json.dumps(build_join(profiles.get("support")).properties, sort_keys=True) == before


# -- calls --------------------------------------------------------------------------------------


def test_a_call_uses_the_profiles_own_stages_and_no_preset() -> None:
    join = build_call(
        _load().get("support"), channel="c", token="t", agent_uid="1", remote_uids=["2"]
    )
    assert join.preset is None
    assert join.properties["llm"]["api_key"] == "sk-ant-test-0001"
    assert join.properties["tts"]["vendor"] == "elevenlabs"
    assert join.properties["remote_rtc_uids"] == ["2"]


@pytest.mark.parametrize(
    ("name", "problem"),
    [
        (
            "hosted",
            "it uses presets (deepgram_nova_3, openai_gpt_4o_mini, minimax_speech_2_6_turbo)",
        ),
        ("realtime", "it is an MLLM agent"),
    ],
)
def test_a_call_refuses_what_the_call_endpoint_cannot_take(name: str, problem: str) -> None:
    with pytest.raises(ConfigError) as caught:
        build_call(_load().get(name))
    message = str(caught.value)
    assert f"profile {name!r} cannot place calls: {problem}" in message
    assert f"[profiles.{name}.llm]" in message


def test_a_call_refuses_a_keyless_stage_that_would_be_a_preset() -> None:
    text = MINIMAL.replace('presets = ["openai_gpt_4o_mini", "openai_tts_1"]', "") + (
        "[profiles.p.llm]\nvendor = 'openai'\nmodel = 'gpt-4o-mini'\n"
        "[profiles.p.tts]\nvendor = 'openai'\nvoice = 'alloy'\n"
    )
    with pytest.raises(ConfigError, match="keyless llm stage is the openai_gpt_4o_mini preset"):
        build_call(_load(text).get("p"))
    assert summarize(_load(text).get("p"))["callable"] is False


# -- the summary ----------------------------------------------------------------------------------


def test_the_summary_shows_what_a_model_needs() -> None:
    summaries = {s["name"]: s for s in _load().summaries()}
    support = summaries["support"]
    assert support["default"] is True
    assert support["description"] == "English support line"
    assert support["stages"] == {"llm": "anthropic", "tts": "elevenlabs", "asr": "deepgram"}
    assert (support["voice"], support["voice_field"]) == ("21m00Tcm4TlvDq8ikWAM", "voice_id")
    assert support["language"] == "en-US"
    assert support["tools"] == {
        "enabled": True,
        "mcp_servers": [
            {"name": "crm", "endpoint": "https://crm.example/mcp", "transport": "streamable_http"}
        ],
        "functions": 0,
    }
    assert support["callable"] is True
    hosted = summaries["hosted"]
    assert hosted["stages"] == {
        "asr": "preset deepgram_nova_3",
        "llm": "preset openai_gpt_4o_mini",
        "tts": "preset minimax_speech_2_6_turbo",
    }
    assert hosted["voice"] is None
    assert hosted["callable"] is False
    assert summaries["realtime"]["kind"] == "mllm"
    assert summarize(_load().get("azure"))["voice"] == "en-US-AndrewNeural"


def test_importing_profiles_loads_neither_the_mcp_sdk_nor_pydantic() -> None:
    code = (
        "import sys, convoai_mcp.profiles\n"
        "heavy = [m for m in ('mcp', 'pydantic', 'httpx', 'convoai_mcp.profiles._catalog')"
        " if m in sys.modules]\n"
        "print(heavy)"
    )
    out = subprocess.run(
        [sys.executable, "-c", code],
        capture_output=True,
        text=True,
        check=True,
        env=dict(os.environ),
    )
    assert out.stdout.strip() == "[]"


# -- the README ---------------------------------------------------------------------------------

README = Path(__file__).resolve().parent.parent / "README.md"


def _readme_section() -> str:
    text = README.read_text(encoding="utf-8")
    start = text.index("## Agent profiles")
    return text[start : text.index("\n## ", start + 1)]


def test_the_readme_examples_load_and_build() -> None:
    """The four README examples are complete profiles: they load, join, and the phone one
    places calls."""
    blocks = _readme_section().split("```toml\n")[1:]
    texts = [block.split("```", 1)[0] for block in blocks]
    assert len(texts) == 4
    env = {
        name: f"{name.lower()}-value"
        for name in (
            "ANTHROPIC_API_KEY",
            "ELEVENLABS_API_KEY",
            "DEEPGRAM_API_KEY",
            "OPENAI_API_KEY",
            "AZURE_SPEECH_KEY",
            "HEYGEN_API_KEY",
        )
    }
    loaded = [parse_profiles(t, source="README.md", environ=env) for t in texts]
    hosted, phone, realtime, avatar = (p.get(p.names()[0]) for p in loaded)
    assert (
        build_join(hosted).preset == "deepgram_nova_3,openai_gpt_4o_mini,minimax_speech_2_6_turbo"
    )
    assert build_call(phone).properties["llm"]["style"] == "anthropic"
    assert build_join(realtime).properties["mllm"]["enable"] is True
    join = build_join(avatar, channel="c", avatar_token=lambda uid: f"token-for-{uid}")
    assert join.properties["avatar"]["params"]["agora_token"] == "token-for-3003"
    assert join.properties["tts"]["params"]["sample_rate"] == 24000
    assert join.preset == "deepgram_nova_3"


def test_the_readme_vendor_table_is_the_catalog() -> None:
    rows = [
        [cell.strip() for cell in line.strip("|").split("|")]
        for line in _readme_section().splitlines()
        if line.startswith("| ") and not line.startswith("| stage")
    ]
    table = {row[2].strip("`"): row for row in rows}
    classes = catalog()
    assert sorted(table) == sorted(classes)
    for key, (stage, names, _cls, voice, area) in table.items():
        entry = classes[key]
        assert (stage, area) == (entry["stage"], entry["area"]), key
        for name in entry["names"]:
            assert f"`{name}`" in names, key
        assert voice == (f"`{VOICE_FIELDS[key]}`" if key in VOICE_FIELDS else "—"), key
