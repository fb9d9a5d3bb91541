"""Settings.from_env: every variable read, validated with a message naming it, secrets hidden."""

from __future__ import annotations

from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st
from pydantic import SecretStr
from pydantic import ValidationError as PydanticValidationError

from convoai_mcp.config import ENV_VARS, SECRET_ENV_VARS, Settings
from convoai_mcp.errors import ConfigError
from convoai_mcp.policy import Policy

APP_ID = "0123456789abcdef0123456789abcdef"
CERT = "fedcba9876543210fedcba9876543210"
BASE = {"AGORA_APP_ID": APP_ID, "AGORA_APP_CERTIFICATE": CERT}


def settings(**extra: str) -> Settings:
    return Settings.from_env({**BASE, **extra})


def test_minimal_configuration_has_safe_defaults() -> None:
    s = settings()
    assert s.app_id == APP_ID
    assert s.app_certificate is not None
    assert s.app_certificate.get_secret_value() == CERT
    assert s.auth_mode == "app_credentials"
    assert (s.area, s.agent_uid, s.user_uid, s.log_level) == ("GLOBAL", "1001", "1002", "WARNING")
    assert s.call_allowlist == ()
    assert s.confirm == ("call",)
    assert s.archive is True
    assert s.archive_retention_days == 30
    assert s.read_only is False
    assert s.tools_allow is None


def test_every_variable_is_read() -> None:
    env = {
        **BASE,
        "AGORA_CUSTOMER_ID": "cust",
        "AGORA_CUSTOMER_SECRET": "custsecret",
        "AGORA_AUTH_TOKEN": "tok",
        "AGORA_AREA": "eu",
        "CONVOAI_BASE_URL": "http://127.0.0.1:9/api/conversational-ai-agent/",
        "CONVOAI_PRESETS": "deepgram_nova_3, openai_gpt_4o_mini",
        "CONVOAI_PIPELINE_ID": "pipe-1",
        "CONVOAI_LLM_URL": "https://llm.example/v1/chat/completions",
        "CONVOAI_LLM_API_KEY": "sk-llm",
        "CONVOAI_LLM_MODEL": "gpt-4o-mini",
        "CONVOAI_LLM_STYLE": "openai",
        "CONVOAI_LLM_URLS_ALLOWED": "https://other.example/v1/chat/completions, *",
        "CONVOAI_LLM_MODELS_ALLOWED": "gpt-4o, gpt-4.1-mini",
        "CONVOAI_TTS_VENDOR": "microsoft",
        "CONVOAI_TTS_PARAMS": '{"key": "tts-key", "voice_name": "en-US-AndrewNeural"}',
        "CONVOAI_ASR_VENDOR": "deepgram",
        "CONVOAI_ASR_LANGUAGE": "en-US",
        "CONVOAI_ASR_PARAMS": '{"key": "asr-key"}',
        "CONVOAI_AGENT_UID": "7",
        "CONVOAI_USER_UID": "8",
        "CONVOAI_IDLE_TIMEOUT": "120",
        "CONVOAI_LOG_LEVEL": "debug",
        "CONVOAI_CALL_ALLOWLIST": "+14155550100,+4420",
        "CONVOAI_MAX_AGENTS": "3",
        "CONVOAI_MAX_CALLS": "1",
        "CONVOAI_RATE_PER_MINUTE": "4",
        "CONVOAI_CONFIRM": "call,start_agent",
        "CONVOAI_READ_ONLY": "true",
        "CONVOAI_TOOLS_ALLOW": "get_agent,list_agents",
        "CONVOAI_TOOLS_DENY": "mint_token",
        "CONVOAI_TOKEN_MAX_LIFETIME": "600",
        "CONVOAI_HTTP_TOKEN": "a-long-random-bearer-token",
        "CONVOAI_MAX_BODY_BYTES": "65536",
        "CONVOAI_ARCHIVE": "off",
        "CONVOAI_ARCHIVE_PATH": "/tmp/x/archive.sqlite3",
        "CONVOAI_ARCHIVE_RETENTION_DAYS": "7",
    }
    assert set(env) == set(ENV_VARS), "the test covers exactly the documented variables"
    s = Settings.from_env(env)
    assert s.auth_mode == "basic"
    assert s.area == "EU"
    assert s.base_url == "http://127.0.0.1:9/api/conversational-ai-agent"
    assert s.presets == ("deepgram_nova_3", "openai_gpt_4o_mini")
    assert s.pipeline_id == "pipe-1"
    assert s.llm_model == "gpt-4o-mini"
    assert s.llm_urls_allowed == ("https://other.example/v1/chat/completions", "*")
    assert s.llm_models_allowed == ("gpt-4o", "gpt-4.1-mini")
    assert s.token_max_lifetime == 600
    assert s.tts_params["voice_name"] == "en-US-AndrewNeural"
    assert s.asr_params == {"key": "asr-key"}
    assert (s.agent_uid, s.user_uid, s.idle_timeout) == ("7", "8", 120)
    assert s.log_level == "DEBUG"
    assert s.call_allowlist == ("+14155550100", "+4420")
    assert (s.max_agents, s.max_calls, s.rate_per_minute) == (3, 1, 4)
    assert s.confirm == ("call", "start_agent")
    assert s.read_only is True
    assert s.tools_allow == ("get_agent", "list_agents")
    assert s.tools_deny == ("mint_token",)
    assert s.max_body_bytes == 65536
    assert s.archive is False
    assert s.archive_path == Path("/tmp/x/archive.sqlite3")
    assert s.archive_retention_days == 7


def test_secrets_never_appear_in_repr_or_str() -> None:
    s = settings(
        AGORA_CUSTOMER_ID="cust",
        AGORA_CUSTOMER_SECRET="canary-customer-secret",
        CONVOAI_LLM_API_KEY="canary-llm-key",
        CONVOAI_TTS_PARAMS='{"key": "canary-tts-key"}',
        CONVOAI_ASR_PARAMS='{"key": "canary-asr-key"}',
        CONVOAI_HTTP_TOKEN="canary-http-token-0123456789",
    )
    shown = repr(s) + str(s) + s.describe()
    for canary in ("canary", CERT):
        assert canary not in shown


def test_settings_are_frozen() -> None:
    s = settings()
    with pytest.raises(PydanticValidationError):
        s.app_id = "x"  # type: ignore[misc]


@pytest.mark.parametrize(
    ("env", "named"),
    [
        ({}, "AGORA_APP_ID"),
        ({"AGORA_APP_ID": "short"}, "AGORA_APP_ID"),
        ({"AGORA_APP_ID": APP_ID}, "AGORA_CUSTOMER_ID"),
        ({**BASE, "AGORA_APP_CERTIFICATE": CERT[:-1]}, "AGORA_APP_CERTIFICATE"),
        ({**BASE, "AGORA_CUSTOMER_ID": "cust"}, "AGORA_CUSTOMER_SECRET"),
        ({**BASE, "AGORA_CUSTOMER_SECRET": "s"}, "AGORA_CUSTOMER_ID"),
        ({**BASE, "AGORA_AREA": "MARS"}, "AGORA_AREA"),
        ({**BASE, "CONVOAI_BASE_URL": "ftp://x"}, "CONVOAI_BASE_URL"),
        ({**BASE, "CONVOAI_TTS_PARAMS": "{not json"}, "CONVOAI_TTS_PARAMS"),
        ({**BASE, "CONVOAI_ASR_PARAMS": "[1, 2]"}, "CONVOAI_ASR_PARAMS"),
        ({**BASE, "CONVOAI_AGENT_UID": "abc"}, "CONVOAI_AGENT_UID"),
        ({**BASE, "CONVOAI_USER_UID": "1001"}, "CONVOAI_USER_UID"),
        ({**BASE, "CONVOAI_IDLE_TIMEOUT": "-1"}, "CONVOAI_IDLE_TIMEOUT"),
        ({**BASE, "CONVOAI_LOG_LEVEL": "LOUD"}, "CONVOAI_LOG_LEVEL"),
        ({**BASE, "CONVOAI_CALL_ALLOWLIST": "+1415,1212"}, "CONVOAI_CALL_ALLOWLIST"),
        ({**BASE, "CONVOAI_MAX_AGENTS": "many"}, "CONVOAI_MAX_AGENTS"),
        ({**BASE, "CONVOAI_READ_ONLY": "perhaps"}, "CONVOAI_READ_ONLY"),
        ({**BASE, "CONVOAI_HTTP_TOKEN": "short"}, "CONVOAI_HTTP_TOKEN"),
        ({**BASE, "CONVOAI_ARCHIVE_RETENTION_DAYS": "0"}, "CONVOAI_ARCHIVE_RETENTION_DAYS"),
    ],
)
def test_bad_configuration_names_the_variable(env: dict[str, str], named: str) -> None:
    with pytest.raises(ConfigError) as info:
        Settings.from_env(env)
    assert named in str(info.value)


def test_malformed_secret_json_is_not_echoed() -> None:
    with pytest.raises(ConfigError) as info:
        settings(CONVOAI_TTS_PARAMS='{"key": "canary-value", broken')
    assert "canary-value" not in str(info.value)
    assert "CONVOAI_TTS_PARAMS" in str(info.value)


def test_malformed_certificate_is_not_echoed() -> None:
    bad = "zz" + CERT[2:]
    with pytest.raises(ConfigError) as info:
        settings(AGORA_APP_CERTIFICATE=bad)
    assert bad not in str(info.value)


def test_auth_modes_in_order_of_preference() -> None:
    assert settings(AGORA_AUTH_TOKEN="t").auth_mode == "token"
    both = settings(AGORA_AUTH_TOKEN="t", AGORA_CUSTOMER_ID="c", AGORA_CUSTOMER_SECRET="s")
    assert both.auth_mode == "basic"
    no_cert = Settings.from_env({"AGORA_APP_ID": APP_ID, "AGORA_AUTH_TOKEN": "t"})
    assert no_cert.app_certificate is None


def test_empty_values_count_as_unset() -> None:
    s = settings(CONVOAI_PRESETS="", CONVOAI_LLM_URL="  ", CONVOAI_MAX_AGENTS="")
    assert s.presets == ()
    assert s.llm_url is None
    assert s.max_agents is None


def test_sandbox_mode_needs_no_credentials() -> None:
    s = Settings.from_env({"CONVOAI_CALL_ALLOWLIST": "+1415"}, require_credentials=False)
    assert s.call_allowlist == ("+1415",)


def test_secret_variables_are_documented() -> None:
    assert set(ENV_VARS) >= SECRET_ENV_VARS
    assert isinstance(settings(CONVOAI_LLM_API_KEY="k").llm_api_key, SecretStr)


@given(st.lists(st.from_regex(r"\+[0-9]{1,15}", fullmatch=True), min_size=1, max_size=5))
def test_allowlist_round_trips(entries: list[str]) -> None:
    s = Settings.from_env({**BASE, "CONVOAI_CALL_ALLOWLIST": " , ".join(entries)})
    assert s.call_allowlist == tuple(entries)


@pytest.mark.parametrize(
    ("value", "confirm"),
    [
        ("", ("call",)),  # empty: the default
        ("start_agent", ("start_agent",)),  # replaces the default: call no longer confirmed
        ("call, start_agent", ("call", "start_agent")),
        ("none", ()),
        ("NONE", ()),
    ],
)
def test_confirm_replaces_the_default_and_none_turns_it_off(
    value: str, confirm: tuple[str, ...]
) -> None:
    s = settings(CONVOAI_CONFIRM=value)
    assert s.confirm == confirm
    assert Policy.from_settings(s).needs_confirmation("call") == ("call" in confirm)


@pytest.mark.parametrize("value", ["start-agent", "Call", "call,stop_agent"])
def test_confirm_refuses_names_that_would_silently_confirm_nothing(value: str) -> None:
    with pytest.raises(ConfigError) as info:
        settings(CONVOAI_CONFIRM=value)
    assert "CONVOAI_CONFIRM" in str(info.value)
    assert "start_agent" in str(info.value)  # the hint says what is allowed


def test_confirm_is_documented_as_it_behaves() -> None:
    """Its description (also server.json's, tested there) and the README say both rules."""
    described = ENV_VARS["CONVOAI_CONFIRM"]
    assert "replaces the default" in described and "none" in described
    readme = (Path(__file__).resolve().parents[1] / "README.md").read_text()
    [row] = [line for line in readme.splitlines() if line.startswith("| `CONVOAI_CONFIRM`")]
    assert "replaces the default" in row and "`none`" in row


@pytest.mark.parametrize(
    ("name", "value"),
    [
        ("CONVOAI_LLM_URLS_ALLOWED", "llm.example/v1"),
        ("CONVOAI_TOKEN_MAX_LIFETIME", "30"),
        ("CONVOAI_TOKEN_MAX_LIFETIME", "100000"),
    ],
)
def test_llm_allow_lists_and_token_lifetime_are_checked(name: str, value: str) -> None:
    with pytest.raises(ConfigError, match=name):
        Settings.from_env({**BASE, name: value})
