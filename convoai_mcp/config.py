"""Server configuration, read from environment variables only (never from command-line secrets).

:meth:`Settings.from_env` validates every variable at start-up and raises
:class:`~convoai_mcp.errors.ConfigError` naming the variable that is missing or malformed; a
secret's value is never part of a message or a ``repr``. :class:`Settings` is frozen, and every
secret is a :class:`pydantic.SecretStr`.

Credentials: ``AGORA_APP_ID`` is required. The REST API is authenticated with, in order of
preference, ``AGORA_CUSTOMER_ID`` + ``AGORA_CUSTOMER_SECRET`` (Basic), ``AGORA_AUTH_TOKEN``
(a prebuilt token), or ``AGORA_APP_CERTIFICATE`` (tokens minted per request). The certificate is
also what lets the server mint channel-join tokens for agents and users.
"""

from __future__ import annotations

import json
import os
import re
from collections.abc import Mapping
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, SecretStr

from convoai_mcp.errors import ConfigError

__all__ = [
    "ENV_VARS",
    "SECRET_ENV_VARS",
    "AuthMode",
    "Settings",
]

AuthMode = Literal["basic", "token", "app_credentials"]

ENV_VARS: dict[str, str] = {
    "AGORA_APP_ID": "App ID of the Agora project (32 hex characters). Required.",
    "AGORA_APP_CERTIFICATE": "App Certificate of the project (32 hex characters); used to mint "
    "channel-join tokens, and to authenticate when no customer ID / secret or token is set.",
    "AGORA_CUSTOMER_ID": "RESTful API customer ID (Basic auth, with AGORA_CUSTOMER_SECRET).",
    "AGORA_CUSTOMER_SECRET": "RESTful API customer secret (Basic auth, with AGORA_CUSTOMER_ID).",
    "AGORA_AUTH_TOKEN": "A prebuilt token sent as 'agora token=...' instead of Basic auth.",
    "AGORA_AREA": "Where the REST API is served from: GLOBAL (default), US, EU, AP or CN.",
    "CONVOAI_BASE_URL": "Override the REST API base URL (replaces region routing), e.g. a local "
    "emulator.",
    "CONVOAI_PRESETS": "Comma list of default presets, e.g. "
    "deepgram_nova_3,openai_gpt_4o_mini,minimax_speech_2_6_turbo.",
    "CONVOAI_PIPELINE_ID": "Default pipeline ID (an agent configured in the Agora console).",
    "CONVOAI_LLM_URL": "Default LLM endpoint (OpenAI-compatible chat completions URL).",
    "CONVOAI_LLM_API_KEY": "API key for the default LLM.",
    "CONVOAI_LLM_MODEL": "Default LLM model name, e.g. gpt-4o-mini.",
    "CONVOAI_LLM_URLS_ALLOWED": "Comma list of LLM URLs the model may pick with llm_url "
    "besides CONVOAI_LLM_URL (exact URLs, or *: any); they are called without "
    "CONVOAI_LLM_API_KEY. Default: none.",
    "CONVOAI_LLM_MODELS_ALLOWED": "Comma list of models the model may pick with llm_model on "
    "the configured LLM and its key, besides CONVOAI_LLM_MODEL (or *: any). Default: none.",
    "CONVOAI_LLM_STYLE": "LLM request style: openai (default), gemini, anthropic or dify.",
    "CONVOAI_TTS_VENDOR": "Default TTS vendor, e.g. microsoft, elevenlabs, minimax.",
    "CONVOAI_TTS_PARAMS": "Default TTS parameters as a JSON object (may contain the vendor key).",
    "CONVOAI_ASR_VENDOR": "Default ASR vendor, e.g. ares, deepgram, microsoft.",
    "CONVOAI_ASR_LANGUAGE": "Default ASR language, e.g. en-US.",
    "CONVOAI_ASR_PARAMS": "Default ASR parameters as a JSON object (may contain the vendor key).",
    "CONVOAI_AGENT_UID": "RTC uid the agent joins with (default 1001).",
    "CONVOAI_USER_UID": "RTC uid of the human participant a join token is minted for "
    "(default 1002).",
    "CONVOAI_IDLE_TIMEOUT": "Seconds an agent stays in an empty channel before leaving "
    "(service default 30).",
    "CONVOAI_LOG_LEVEL": "Log level on stderr: DEBUG, INFO, WARNING (default), ERROR.",
    "CONVOAI_CALL_ALLOWLIST": "Comma list of E.164 numbers or prefixes (+1415) the call tool may "
    "dial; empty means no outbound calls.",
    "CONVOAI_MAX_AGENTS": "Maximum concurrent agents started by this server (default 5; 0 "
    "forbids).",
    "CONVOAI_MAX_CALLS": "Maximum concurrent calls placed by this server (default 2; 0 forbids).",
    "CONVOAI_RATE_PER_MINUTE": "Maximum start_agent + call requests per minute (default 10).",
    "CONVOAI_CONFIRM": "Comma list of tools that need the user's confirmation: call, "
    "start_agent (default: call). A non-empty value replaces the default, so list call too to "
    "keep it; none: nothing needs confirmation.",
    "CONVOAI_READ_ONLY": "true exposes only get_agent, list_agents, get_call, list_calls and "
    "list_numbers.",
    "CONVOAI_TOOLS_ALLOW": "Comma list of tool names to expose (default: all).",
    "CONVOAI_TOOLS_DENY": "Comma list of tool names to hide.",
    "CONVOAI_TOKEN_MAX_LIFETIME": "Longest lifetime of a token from mint_token, in seconds "
    "(default 3600).",
    "CONVOAI_HTTP_TOKEN": "Bearer token HTTP clients must send; required to bind the HTTP "
    "transports to a non-loopback address.",
    "CONVOAI_MAX_BODY_BYTES": "Maximum HTTP request body size in bytes (default 1048576).",
    "CONVOAI_ARCHIVE": "on (default) or off: keep a local transcript archive.",
    "CONVOAI_ARCHIVE_PATH": "Path of the SQLite transcript archive (default: per-user data "
    "directory).",
    "CONVOAI_ARCHIVE_RETENTION_DAYS": "Days archived transcripts are kept (default 30).",
}
"""Every environment variable the server reads, with a one-line description."""

SECRET_ENV_VARS: frozenset[str] = frozenset(
    {
        "AGORA_APP_CERTIFICATE",
        "AGORA_CUSTOMER_SECRET",
        "AGORA_AUTH_TOKEN",
        "CONVOAI_LLM_API_KEY",
        "CONVOAI_TTS_PARAMS",
        "CONVOAI_ASR_PARAMS",
        "CONVOAI_HTTP_TOKEN",
    }
)
"""Variables whose value is secret (or may contain a secret)."""

_AREAS = ("GLOBAL", "US", "EU", "AP", "CN")
_LOG_LEVELS = ("DEBUG", "INFO", "WARNING", "ERROR", "CRITICAL")
_UID = re.compile(r"[0-9]{1,10}")
_NUMBER_OR_PREFIX = re.compile(r"\+[0-9]{1,15}")
_TRUE = frozenset({"1", "true", "yes", "on"})
_FALSE = frozenset({"0", "false", "no", "off"})
_CONFIRMABLE = frozenset({"call", "start_agent"})
"""The tools that can ask the user to confirm (CONVOAI_CONFIRM)."""


class Settings(BaseModel):
    """Validated, immutable server configuration. Build it with :meth:`from_env`."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    # credentials
    app_id: str
    app_certificate: SecretStr | None = None
    customer_id: str | None = None
    customer_secret: SecretStr | None = None
    auth_token: SecretStr | None = None
    area: Literal["GLOBAL", "US", "EU", "AP", "CN"] = "GLOBAL"
    base_url: str | None = None
    # agent defaults
    presets: tuple[str, ...] = ()
    pipeline_id: str | None = None
    llm_url: str | None = None
    llm_api_key: SecretStr | None = None
    llm_model: str | None = None
    llm_style: str | None = None
    llm_urls_allowed: tuple[str, ...] = ()
    llm_models_allowed: tuple[str, ...] = ()
    tts_vendor: str | None = None
    tts_params: dict[str, Any] = Field(default_factory=dict, repr=False)
    asr_vendor: str | None = None
    asr_language: str | None = None
    asr_params: dict[str, Any] = Field(default_factory=dict, repr=False)
    agent_uid: str = "1001"
    user_uid: str = "1002"
    idle_timeout: int | None = None
    log_level: Literal["DEBUG", "INFO", "WARNING", "ERROR", "CRITICAL"] = "WARNING"
    # safety
    call_allowlist: tuple[str, ...] = ()
    max_agents: int | None = None
    max_calls: int | None = None
    rate_per_minute: int | None = None
    confirm: tuple[str, ...] = ("call",)
    read_only: bool = False
    tools_allow: tuple[str, ...] | None = None
    tools_deny: tuple[str, ...] = ()
    token_max_lifetime: int = 3600
    http_token: SecretStr | None = None
    max_body_bytes: int | None = None
    archive: bool = True
    archive_path: Path | None = None
    archive_retention_days: int = 30
    # provenance
    sandbox: bool = False

    @property
    def auth_mode(self) -> AuthMode:
        """How REST requests are authenticated: basic, token or app_credentials."""
        if self.customer_id and self.customer_secret:
            return "basic"
        if self.auth_token:
            return "token"
        return "app_credentials"

    def describe(self) -> str:
        """A one-line, secret-free summary for the start-up banner."""
        where = self.base_url or f"area {self.area}"
        cert = "set" if self.app_certificate else "not set"
        return f"app {self.app_id[:4]}… via {where}, auth {self.auth_mode}, certificate {cert}"

    @classmethod
    def from_env(
        cls, environ: Mapping[str, str] | None = None, *, require_credentials: bool = True
    ) -> Settings:
        """Read and validate the configuration from ``environ`` (default: ``os.environ``).

        With ``require_credentials=False`` (the sandbox) the ``AGORA_*`` credentials may be
        missing; the caller supplies them. Raises :class:`ConfigError` naming the variable.
        """
        env = _Env(os.environ if environ is None else environ)
        values: dict[str, Any] = {}

        app_id = env.text("AGORA_APP_ID")
        cert = env.raw("AGORA_APP_CERTIFICATE")
        if require_credentials:
            if app_id is None:
                raise ConfigError(
                    "AGORA_APP_ID is not set",
                    hint="set it to your project's App ID (32 hex characters, Agora console > "
                    "Projects), or run with --sandbox to try the server without an account",
                )
            values["app_id"] = _check_hex32(app_id, secret=False)
            if cert is not None:
                values["app_certificate"] = SecretStr(_check_hex32(cert, secret=True))
            customer_id = env.text("AGORA_CUSTOMER_ID")
            customer_secret = env.raw("AGORA_CUSTOMER_SECRET")
            if (customer_id is None) != (customer_secret is None):
                present, missing = (
                    ("AGORA_CUSTOMER_ID", "AGORA_CUSTOMER_SECRET")
                    if customer_id
                    else ("AGORA_CUSTOMER_SECRET", "AGORA_CUSTOMER_ID")
                )
                raise ConfigError(
                    f"{present} is set but {missing} is not",
                    hint="set both (Agora console > RESTful API), or neither to authenticate "
                    "with AGORA_APP_CERTIFICATE",
                )
            values["customer_id"] = customer_id
            if customer_secret is not None:
                values["customer_secret"] = SecretStr(customer_secret.strip())
            token = env.raw("AGORA_AUTH_TOKEN")
            if token is not None:
                values["auth_token"] = SecretStr(token.strip())
            if customer_id is None and token is None and cert is None:
                raise ConfigError(
                    "no credentials for the REST API: set AGORA_CUSTOMER_ID and "
                    "AGORA_CUSTOMER_SECRET, or AGORA_AUTH_TOKEN, or AGORA_APP_CERTIFICATE",
                    hint="the customer ID / secret are under Agora console > RESTful API; the "
                    "App Certificate is on the project page",
                )
        else:
            values["app_id"] = app_id or "0" * 32

        area = env.text("AGORA_AREA")
        if area is not None:
            if area.upper() not in _AREAS:
                raise ConfigError(
                    f"AGORA_AREA={area!r} is not an area", hint=f"use one of {', '.join(_AREAS)}"
                )
            values["area"] = area.upper()
        base_url = env.text("CONVOAI_BASE_URL")
        if base_url is not None:
            if not re.match(r"https?://[^\s/]+", base_url):
                raise ConfigError(
                    f"CONVOAI_BASE_URL={base_url!r} is not an http(s) URL",
                    hint="e.g. https://api.agora.io/api/conversational-ai-agent",
                )
            values["base_url"] = base_url.rstrip("/")

        values["presets"] = env.csv("CONVOAI_PRESETS")
        values["pipeline_id"] = env.text("CONVOAI_PIPELINE_ID")
        values["llm_url"] = env.text("CONVOAI_LLM_URL")
        llm_key = env.raw("CONVOAI_LLM_API_KEY")
        values["llm_api_key"] = SecretStr(llm_key.strip()) if llm_key is not None else None
        values["llm_model"] = env.text("CONVOAI_LLM_MODEL")
        values["llm_style"] = env.text("CONVOAI_LLM_STYLE")
        urls = env.csv("CONVOAI_LLM_URLS_ALLOWED")
        for url in urls:
            if url != "*" and not re.match(r"https?://[^\s/]+", url):
                raise ConfigError(
                    f"CONVOAI_LLM_URLS_ALLOWED entry {url!r} is not an http(s) URL",
                    hint="list exact chat-completions URLs, comma-separated, or * for any",
                )
        values["llm_urls_allowed"] = urls
        values["llm_models_allowed"] = env.csv("CONVOAI_LLM_MODELS_ALLOWED")
        values["tts_vendor"] = env.text("CONVOAI_TTS_VENDOR")
        values["tts_params"] = env.json_object("CONVOAI_TTS_PARAMS")
        values["asr_vendor"] = env.text("CONVOAI_ASR_VENDOR")
        values["asr_language"] = env.text("CONVOAI_ASR_LANGUAGE")
        values["asr_params"] = env.json_object("CONVOAI_ASR_PARAMS")
        values["agent_uid"] = env.uid("CONVOAI_AGENT_UID", "1001")
        values["user_uid"] = env.uid("CONVOAI_USER_UID", "1002")
        if values["agent_uid"] == values["user_uid"]:
            raise ConfigError(
                "CONVOAI_AGENT_UID and CONVOAI_USER_UID are both "
                f"{values['agent_uid']}; they must differ",
                hint="the agent and the human participant need distinct RTC uids",
            )
        values["idle_timeout"] = env.integer("CONVOAI_IDLE_TIMEOUT", minimum=0, maximum=86400)
        level = env.text("CONVOAI_LOG_LEVEL")
        if level is not None:
            if level.upper() not in _LOG_LEVELS:
                raise ConfigError(
                    f"CONVOAI_LOG_LEVEL={level!r} is not a log level",
                    hint=f"use one of {', '.join(_LOG_LEVELS)}",
                )
            values["log_level"] = level.upper()

        allow = env.csv("CONVOAI_CALL_ALLOWLIST")
        for entry in allow:
            if not _NUMBER_OR_PREFIX.fullmatch(entry):
                raise ConfigError(
                    f"CONVOAI_CALL_ALLOWLIST entry {entry!r} is not an E.164 number or prefix",
                    hint="use '+' and digits only, e.g. +14155550100 or +1415",
                )
        values["call_allowlist"] = allow
        values["max_agents"] = env.integer("CONVOAI_MAX_AGENTS", minimum=0)
        values["max_calls"] = env.integer("CONVOAI_MAX_CALLS", minimum=0)
        values["rate_per_minute"] = env.integer("CONVOAI_RATE_PER_MINUTE", minimum=0)
        if env.raw("CONVOAI_CONFIRM") is not None:  # replaces the default; "none": nothing
            confirm = tuple(t for t in env.csv("CONVOAI_CONFIRM") if t.lower() != "none")
            unknown = sorted(set(confirm) - _CONFIRMABLE)
            if unknown:  # a typo would silently turn confirmation off
                raise ConfigError(
                    f"CONVOAI_CONFIRM names tools that cannot ask for confirmation: "
                    f"{', '.join(unknown)}",
                    hint="use call and / or start_agent (comma-separated), or none",
                )
            values["confirm"] = confirm
        values["read_only"] = env.boolean("CONVOAI_READ_ONLY", default=False)
        allow_tools = env.raw("CONVOAI_TOOLS_ALLOW")
        values["tools_allow"] = env.csv("CONVOAI_TOOLS_ALLOW") if allow_tools is not None else None
        values["tools_deny"] = env.csv("CONVOAI_TOOLS_DENY")
        lifetime = env.integer("CONVOAI_TOKEN_MAX_LIFETIME", minimum=60, maximum=86400)
        if lifetime is not None:
            values["token_max_lifetime"] = lifetime
        http_token = env.raw("CONVOAI_HTTP_TOKEN")
        if http_token is not None:
            if len(http_token.strip()) < 16:
                raise ConfigError(
                    "CONVOAI_HTTP_TOKEN is too short (fewer than 16 characters)",
                    hint="use a long random value, e.g. `python -c 'import secrets; "
                    "print(secrets.token_urlsafe(32))'`",
                )
            values["http_token"] = SecretStr(http_token.strip())
        values["max_body_bytes"] = env.integer("CONVOAI_MAX_BODY_BYTES", minimum=1024)
        values["archive"] = env.boolean("CONVOAI_ARCHIVE", default=True)
        archive_path = env.text("CONVOAI_ARCHIVE_PATH")
        values["archive_path"] = Path(archive_path).expanduser() if archive_path else None
        retention = env.integer("CONVOAI_ARCHIVE_RETENTION_DAYS", minimum=1)
        if retention is not None:
            values["archive_retention_days"] = retention
        return cls(**values)


def _check_hex32(value: str, *, secret: bool) -> str:
    from convoai_mcp.tokens import validate_app_certificate, validate_app_id

    try:
        return validate_app_certificate(value) if secret else validate_app_id(value)
    except ValueError as exc:
        raise ConfigError(str(exc)) from None


class _Env:
    """Typed accessors over an environment mapping; empty values count as unset."""

    def __init__(self, environ: Mapping[str, str]) -> None:
        self._env = environ

    def raw(self, name: str) -> str | None:
        value = self._env.get(name)
        return value if value is not None and value.strip() else None

    def text(self, name: str) -> str | None:
        value = self.raw(name)
        return value.strip() if value is not None else None

    def csv(self, name: str) -> tuple[str, ...]:
        value = self.raw(name) or ""
        return tuple(part.strip() for part in value.split(",") if part.strip())

    def uid(self, name: str, default: str) -> str:
        value = self.text(name)
        if value is None:
            return default
        if not _UID.fullmatch(value) or int(value) > 2**32 - 1:
            raise ConfigError(
                f"{name}={value!r} is not an RTC uid",
                hint="use a positive integer below 4294967296, e.g. 1001",
            )
        return value

    def integer(self, name: str, *, minimum: int, maximum: int | None = None) -> int | None:
        value = self.text(name)
        if value is None:
            return None
        try:
            number = int(value)
        except ValueError:
            raise ConfigError(f"{name}={value!r} is not an integer") from None
        if number < minimum or (maximum is not None and number > maximum):
            bound = f"between {minimum} and {maximum}" if maximum is not None else f">= {minimum}"
            raise ConfigError(f"{name}={number} is out of range", hint=f"use a value {bound}")
        return number

    def boolean(self, name: str, *, default: bool) -> bool:
        value = self.text(name)
        if value is None:
            return default
        if value.lower() in _TRUE:
            return True
        if value.lower() in _FALSE:
            return False
        raise ConfigError(f"{name}={value!r} is not a boolean", hint="use on/off or true/false")

    def json_object(self, name: str) -> dict[str, Any]:
        value = self.raw(name)
        if value is None:
            return {}
        try:
            data = json.loads(value)
        except ValueError as exc:
            # The value may hold a vendor key: report the position, never the text.
            raise ConfigError(
                f"{name} is not valid JSON (line {getattr(exc, 'lineno', '?')}, column "
                f"{getattr(exc, 'colno', '?')})",
                hint='it must be a JSON object, e.g. {"voice_name": "en-US-AndrewNeural"}',
            ) from None
        if not isinstance(data, dict):
            raise ConfigError(
                f"{name} must be a JSON object, not {type(data).__name__}",
                hint='e.g. {"voice_name": "en-US-AndrewNeural"}',
            )
        return data
