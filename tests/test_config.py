"""Settings.from_env: every variable read, validated with a message naming it, secrets hidden."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st
from pydantic import SecretStr
from pydantic import ValidationError as PydanticValidationError

from convoai_mcp.config import ENV_VARS, LLM_STYLES, SECRET_ENV_VARS, VARIABLES, Settings
from convoai_mcp.errors import ConfigError
from convoai_mcp.policy import Policy
from convoai_mcp.regions import Area

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
    assert s.transcript_max_chars == 8000
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
        "CONVOAI_PROFILES": "none",
        "CONVOAI_LOG_LEVEL": "debug",
        "CONVOAI_LOG_FORMAT": "JSON",
        "CONVOAI_LOG_HTTP": "on",
        "CONVOAI_CALL_ALLOWLIST": "+14155550100,+4420",
        "CONVOAI_CALL_HOURS": "09:00-17:30",
        "CONVOAI_CALLS_PER_NUMBER_PER_DAY": "5",
        "CONVOAI_CALL_ALLOW_TYPES": "shared_cost",
        "CONVOAI_DEFAULT_REGION": "us",
        "CONVOAI_EMULATOR": "on",
        "CONVOAI_MAX_AGENTS": "3",
        "CONVOAI_MAX_CALLS": "1",
        "CONVOAI_RATE_PER_MINUTE": "4",
        "CONVOAI_CONFIRM": "call,start_agent",
        "CONVOAI_CONFIRM_BY_ARGUMENT": "true",
        "CONVOAI_PREAPPROVED_NUMBERS": "+14155550100",
        "CONVOAI_APPROVAL_TTL": "120",
        "CONVOAI_READ_ONLY": "true",
        "CONVOAI_TOOLS_ALLOW": "get_agent,list_agents",
        "CONVOAI_TOOLS_DENY": "mint_token",
        "CONVOAI_TOKEN_MAX_LIFETIME": "600",
        "CONVOAI_WAIT_MAX_SECONDS": "30",
        "CONVOAI_CAMPAIGN_LEASE_SECONDS": "5",
        "CONVOAI_HTTP_TOKEN": "a-long-random-bearer-token",
        "CONVOAI_MAX_BODY_BYTES": "65536",
        "CONVOAI_HTTP_ALLOWED_HOSTS": "MCP.example.com, mcp.example.com:8443",
        "CONVOAI_HTTP_STATELESS": "on",
        "CONVOAI_REQUEST_STATE_KEY": "k" * 32 + ", " + "n" * 40,
        "CONVOAI_ARCHIVE": "off",
        "CONVOAI_ARCHIVE_PATH": "/tmp/x/archive.sqlite3",
        "CONVOAI_ARCHIVE_RETENTION_DAYS": "7",
        "CONVOAI_TRANSCRIPT_MAX_CHARS": "2000",
        "CONVOAI_DATABASE_URL": "postgresql://u:pw@db.example:5432/convoai",
        "CONVOAI_WEBHOOK_SECRET": "webhook-secret_1",
        "CONVOAI_OAUTH_ISSUER": "https://login.example.com/realms/team",
        "CONVOAI_OAUTH_RESOURCE": "https://mcp.example.com/mcp",
        "CONVOAI_OAUTH_AUDIENCE": "api://convoai",
        "CONVOAI_OAUTH_JWKS_URL": "https://login.example.com/realms/team/certs",
        "CONVOAI_OAUTH_SCOPES": "read=mcp.read",
    }
    assert set(env) == set(ENV_VARS), "the test covers exactly the documented variables"
    # OAuth replaces the static HTTP token (they are refused together): read OAuth on its own.
    oauth = {k: env.pop(k) for k in list(env) if k.startswith("CONVOAI_OAUTH_")}
    o = Settings.from_env({**BASE, **oauth})
    assert (o.oauth_issuer, o.oauth_resource) == (
        oauth["CONVOAI_OAUTH_ISSUER"],
        oauth["CONVOAI_OAUTH_RESOURCE"],
    )
    assert (o.oauth_audience, o.oauth_jwks_url) == (
        "api://convoai",
        oauth["CONVOAI_OAUTH_JWKS_URL"],
    )
    assert o.oauth_scopes["read"] == "mcp.read" and o.oauth_scopes["admin"] == "convoai:admin"
    # A token and customer credentials are refused together (X20): read each on its own.
    assert Settings.from_env({**BASE, "AGORA_AUTH_TOKEN": "tok"}).auth_token is not None
    del env["AGORA_AUTH_TOKEN"]
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
    assert s.wait_max_seconds == 30
    assert s.campaign_lease_seconds == 5
    assert s.tts_params["voice_name"] == "en-US-AndrewNeural"
    assert s.asr_params == {"key": "asr-key"}
    assert (s.agent_uid, s.user_uid, s.idle_timeout) == ("7", "8", 120)
    assert s.profiles is None
    assert s.log_level == "DEBUG"
    assert (s.log_format, s.log_http) == ("json", True)
    assert s.call_allowlist == ("+14155550100", "+4420")
    assert (s.max_agents, s.max_calls, s.rate_per_minute) == (3, 1, 4)
    assert s.confirm == ("call", "start_agent")
    assert s.confirm_by_argument is True and s.approval_ttl == 120
    assert s.preapproved_numbers == ("+14155550100",)
    assert s.read_only is True
    assert s.tools_allow == ("get_agent", "list_agents")
    assert s.tools_deny == ("mint_token",)
    assert s.max_body_bytes == 65536
    assert s.http_allowed_hosts == ("mcp.example.com", "mcp.example.com:8443")
    assert s.http_stateless is True
    assert s.request_state_keys() == ["k" * 32, "n" * 40]
    assert s.archive is False
    assert s.archive_path == Path("/tmp/x/archive.sqlite3")
    assert s.archive_retention_days == 7
    assert s.transcript_max_chars == 2000
    rules = s.calling_rules()
    assert str(rules.hours) == "09:00-17:30" and rules.daily_cap == 5
    assert rules.allowed_types == {"shared_cost"} and rules.default_region == "US"
    assert s.emulator is True and rules.sandbox is True  # explicit hours and cap still apply
    assert s.database_url is not None
    assert s.database_url.get_secret_value() == "postgresql://u:pw@db.example:5432/convoai"
    assert any("CONVOAI_ARCHIVE_PATH is ignored" in w for w in s.warnings)
    assert s.webhook_secret is not None
    assert s.webhook_secret.get_secret_value() == "webhook-secret_1"


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
        ({**BASE, "CONVOAI_TRANSCRIPT_MAX_CHARS": "10"}, "CONVOAI_TRANSCRIPT_MAX_CHARS"),
        ({**BASE, "CONVOAI_CALL_HOURS": "9-5"}, "CONVOAI_CALL_HOURS"),
        ({**BASE, "CONVOAI_CALLS_PER_NUMBER_PER_DAY": "many"}, "CONVOAI_CALLS_PER_NUMBER_PER_DAY"),
        ({**BASE, "CONVOAI_CALL_ALLOW_TYPES": "premium"}, "CONVOAI_CALL_ALLOW_TYPES"),
        ({**BASE, "CONVOAI_DEFAULT_REGION": "XX"}, "CONVOAI_DEFAULT_REGION"),
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


def test_auth_modes() -> None:
    assert settings(AGORA_AUTH_TOKEN="t").auth_mode == "token"
    assert settings(AGORA_CUSTOMER_ID="c", AGORA_CUSTOMER_SECRET="s").auth_mode == "basic"
    assert settings().auth_mode == "app_credentials"
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


# ---------------------------------------------------------------- start-up validation (D12)

DEEP = "[" * 2000 + "]" * 2000
DEEP_OBJECT = '{"a": ' * 2000 + "1" + "}" * 2000


@pytest.mark.parametrize(
    ("extra", "named", "says"),
    [
        ({"CONVOAI_TTS_PARAMS": DEEP_OBJECT}, "CONVOAI_TTS_PARAMS", "levels deep"),
        ({"CONVOAI_ASR_PARAMS": '{"a": ' + DEEP + "}"}, "CONVOAI_ASR_PARAMS", "levels deep"),
        ({"CONVOAI_TTS_PARAMS": '{"a": ' * 40 + "1" + "}" * 40}, "CONVOAI_TTS_PARAMS", "deep"),
        ({"CONVOAI_LLM_STYLE": "bogus"}, "CONVOAI_LLM_STYLE", "bedrock"),
        ({"CONVOAI_LLM_URL": "ftp://llm.example/v1"}, "CONVOAI_LLM_URL", "http(s)"),
        ({"CONVOAI_LLM_URL": "https:///v1"}, "CONVOAI_LLM_URL", "http(s)"),
        ({"CONVOAI_LLM_URL": "llm.example/v1"}, "CONVOAI_LLM_URL", "http(s)"),
        (
            {"AGORA_CUSTOMER_ID": "cu:st", "AGORA_CUSTOMER_SECRET": "s3cr3t"},
            "AGORA_CUSTOMER_ID",
            "':'",
        ),
        (
            {"AGORA_CUSTOMER_ID": "cust", "AGORA_CUSTOMER_SECRET": "s3cr\u00e9t-value"},
            "AGORA_CUSTOMER_SECRET",
            "printable ASCII",
        ),
        ({"AGORA_AUTH_TOKEN": "tok\u2019en-value"}, "AGORA_AUTH_TOKEN", "printable ASCII"),
        ({"CONVOAI_LLM_API_KEY": "sk-\u00fcber-key"}, "CONVOAI_LLM_API_KEY", "printable ASCII"),
        ({"CONVOAI_HTTP_TOKEN": "t\u00f6ken-0123456789ab"}, "CONVOAI_HTTP_TOKEN", "ASCII"),
        ({"CONVOAI_BASE_URL": "https://u:pw@api.example"}, "CONVOAI_BASE_URL", "credentials"),
    ],
)
def test_values_that_would_fail_every_call_are_refused_at_start_up(
    extra: dict[str, str], named: str, says: str
) -> None:
    with pytest.raises(ConfigError) as info:
        settings(**extra)
    message = str(info.value)
    assert named in message and says in message
    assert "\n" not in message
    for name, value in extra.items():  # neither a secret nor a 2,000-deep value is echoed
        if name in SECRET_ENV_VARS:
            assert value not in message


def test_a_malformed_secret_names_the_position_not_the_value() -> None:
    with pytest.raises(ConfigError) as info:
        settings(CONVOAI_LLM_API_KEY="sk-canary\u00e9value")
    assert "position 10" in str(info.value)
    assert "canary" not in str(info.value)


def test_url_credentials_are_not_echoed() -> None:
    with pytest.raises(ConfigError) as info:
        settings(CONVOAI_LLM_URL="https://user:canarypw@llm.example/v1")
    assert "canarypw" not in str(info.value)


# ---------------------------------------------------------------- typos pass start-up


@pytest.mark.parametrize(
    ("extra", "suggestion"),
    [
        ({"CONVOAI_PRESETS": "deepgram_nova3,openai_gpt_4o_mini"}, "deepgram_nova_3"),
        ({"CONVOAI_PRESETS": "deepgram_nova_3,gpt4o"}, "openai_gpt_4o_mini"),
        ({"CONVOAI_LLM_STYLE": "antropic"}, "anthropic"),
        ({"CONVOAI_LLM_STYLE": "bedrok"}, "bedrock"),
        ({"AGORA_AREA": "EUR"}, "EU"),
        ({"CONVOAI_LOG_LEVEL": "WARN"}, "WARNING"),
        ({"CONVOAI_LOG_FORMAT": "jsn"}, "json"),
        ({"CONVOAI_CONFIRM": "cal"}, "call"),
        ({"CONVOAI_READONLY": "true"}, "CONVOAI_READ_ONLY"),
        ({"CONVOAI_CALL_ALLOW_LIST": "+1415"}, "CONVOAI_CALL_ALLOWLIST"),
        ({"CONVOAI_PRESET": "deepgram_nova_3"}, "CONVOAI_PRESETS"),
    ],
)
def test_typos_are_start_up_errors_with_a_did_you_mean(
    extra: dict[str, str], suggestion: str
) -> None:
    with pytest.raises(ConfigError) as info:
        settings(**extra)
    message = str(info.value)
    assert next(iter(extra)) in message
    assert f"did you mean {suggestion}?" in message


def test_an_unknown_preset_lists_the_valid_ones() -> None:
    with pytest.raises(ConfigError) as info:
        settings(CONVOAI_PRESETS="deepgram_nova_3,gpt4o")
    message = str(info.value)
    assert "'gpt4o' is not a preset" in message
    for name in ("deepgram_nova_2", "openai_gpt_5_nano", "openai_tts_1"):
        assert name in message


def test_names_are_matched_case_insensitively_and_returned_canonical() -> None:
    s = settings(CONVOAI_PRESETS="Deepgram_Nova_3", CONVOAI_LLM_STYLE="Bedrock", AGORA_AREA="ap")
    assert s.presets == ("deepgram_nova_3",)
    assert s.llm_style == "bedrock"
    assert s.area == "AP"


def test_every_llm_style_of_the_official_sdk_is_accepted_and_documented() -> None:
    """agora-agents 2.12.0, agora_agent/types/llm_style.py: openai, gemini, anthropic, dify,
    bedrock (X17)."""
    assert LLM_STYLES == ("openai", "gemini", "anthropic", "dify", "bedrock")
    readme = (Path(__file__).resolve().parents[1] / "README.md").read_text()
    [row] = [line for line in readme.splitlines() if line.startswith("| `CONVOAI_LLM_STYLE`")]
    for style in LLM_STYLES:
        assert settings(CONVOAI_LLM_STYLE=style).llm_style == style
        assert style in ENV_VARS["CONVOAI_LLM_STYLE"]
        assert f"`{style}`" in row


def test_an_unknown_agora_name_is_only_a_warning() -> None:
    s = settings(AGORA_APP_CERT="x", AGORA_TOKEN_SERVER="https://tokens.example")
    assert len(s.warnings) == 2
    assert "AGORA_APP_CERT is not read by convoai-mcp" in s.warnings[0]
    assert "did you mean AGORA_APP_CERTIFICATE?" in s.warnings[0]
    assert settings().warnings == ()


def test_the_test_suites_own_knob_is_not_an_unknown_name() -> None:
    assert settings(CONVOAI_FUZZ_EXAMPLES="5").warnings == ()


def test_area_is_the_regions_area() -> None:
    """One home of the area list: regions.Area (config has no copy)."""
    assert settings(AGORA_AREA="cn").area is Area.CN
    with pytest.raises(ConfigError) as info:
        settings(AGORA_AREA="MARS")
    for area in Area:
        assert area.value in str(info.value)


def test_the_variable_table_is_the_one_home_of_names_help_and_secrecy() -> None:
    assert {name: var.help for name, var in VARIABLES.items()} == ENV_VARS
    assert {n for n, v in VARIABLES.items() if v.secret} == SECRET_ENV_VARS
    assert [n for n, v in VARIABLES.items() if v.required] == ["AGORA_APP_ID"]
    for name in VARIABLES:
        assert name.startswith(("AGORA_", "CONVOAI_")), name
        if name not in BASE:
            assert settings(**{name: ""}).warnings == ()  # every listed name is known


def test_every_variable_has_a_readme_row() -> None:
    readme = (Path(__file__).resolve().parents[1] / "README.md").read_text()
    rows = {m.group(1) for m in re.finditer(r"^\| `([A-Z_]+)` \|", readme, re.MULTILINE)}
    assert set(VARIABLES) <= rows, sorted(set(VARIABLES) - rows)
    for name in SECRET_ENV_VARS:
        [row] = [line for line in readme.splitlines() if line.startswith(f"| `{name}` |")]
        assert row.split("|")[2].strip() == "yes", name


# ---------------------------------------------------------------- several credentials (X20)


def test_a_token_together_with_customer_credentials_is_refused() -> None:
    """The official SDK raises "auth_token and customer_id/customer_secret are mutually
    exclusive" (agora_agent/pool_client.py); we used to prefer Basic silently."""
    with pytest.raises(ConfigError) as info:
        settings(AGORA_AUTH_TOKEN="t0ken", AGORA_CUSTOMER_ID="c", AGORA_CUSTOMER_SECRET="s3cret")
    message = str(info.value)
    assert "AGORA_AUTH_TOKEN" in message and "AGORA_CUSTOMER_ID" in message
    assert "t0ken" not in message and "s3cret" not in message


def test_the_certificate_combines_with_either_credential() -> None:
    """The certificate also mints join tokens, so it is no conflicting credential."""
    assert settings(AGORA_AUTH_TOKEN="t").app_certificate is not None
    assert settings(AGORA_CUSTOMER_ID="c", AGORA_CUSTOMER_SECRET="s").auth_mode == "basic"


def test_an_unfilled_bundle_placeholder_counts_as_unset() -> None:
    """An MCP bundle host may pass a field the user left empty as ``${user_config.x}``."""
    s = settings(
        CONVOAI_MAX_AGENTS="${user_config.convoai_max_agents}",
        CONVOAI_CALL_ALLOWLIST=" ${user_config.convoai_call_allowlist} ",
    )
    assert s.max_agents is None
    assert s.call_allowlist == ()


def test_llm_styles_match_the_official_sdk_when_it_is_installed() -> None:
    """With the contract extra (agora-agents), the styles are read from the SDK itself."""
    import importlib
    import typing
    import warnings

    try:
        with warnings.catch_warnings():  # the SDK's pydantic v1-style config warns on import
            warnings.simplefilter("ignore")
            module = importlib.import_module("agora_agent.types.llm_style")
    except ImportError:
        pytest.skip("agora-agents is not installed (the contract extra)")
    [literal] = [arg for arg in typing.get_args(module.LlmStyle) if typing.get_args(arg)]
    assert set(typing.get_args(literal)) == set(LLM_STYLES)
