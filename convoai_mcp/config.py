"""Server configuration, read from environment variables only (never from command-line secrets).

:data:`VARIABLES` is the one table of the environment variables the server reads: name,
one-line help and whether the value is secret. Everything else is derived from it (the
``ENV_VARS`` / ``SECRET_ENV_VARS`` views, the unknown-name check, ``server.json``'s and the MCP
bundle's variable lists, checked by the tests), so a new variable is one line there plus the
line in :meth:`Settings.from_env` that reads it.

:meth:`Settings.from_env` validates every variable at start-up and raises
:class:`~convoai_mcp.errors.ConfigError` naming the variable that is missing or malformed, with
the valid values and a "did you mean" where one is close; a secret's value is never part of a
message or a ``repr``. An unknown ``CONVOAI_*`` name is an error (a typo such as
``CONVOAI_READONLY`` would otherwise silently leave the default in force); an unknown ``AGORA_*``
name is only a warning (:attr:`Settings.warnings`), since other Agora tools use that prefix too.
:class:`Settings` is frozen, and every secret is a :class:`pydantic.SecretStr`.

Empty values count as unset, and so does an MCP bundle's unfilled ``${user_config.NAME}``
placeholder (scripts/build_mcpb.py maps the bundle's settings form onto these variables).

Credentials: ``AGORA_APP_ID`` is required. The REST API is authenticated with exactly one of
``AGORA_CUSTOMER_ID`` + ``AGORA_CUSTOMER_SECRET`` (Basic), ``AGORA_AUTH_TOKEN`` (a prebuilt
token), or ``AGORA_APP_CERTIFICATE`` alone (tokens minted per request); customer credentials
together with a token are refused, as the official SDK refuses them. The certificate is also
what lets the server mint channel-join tokens for agents and users.
"""

from __future__ import annotations

import difflib
import json
import os
import re
import sys
from collections.abc import Callable, Collection, Mapping
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal
from urllib.parse import urlsplit

from pydantic import BaseModel, ConfigDict, Field, SecretStr, SkipValidation

from convoai_mcp.errors import ConfigError
from convoai_mcp.presets import PRESET_NAMES
from convoai_mcp.profiles import Profiles, load_profiles
from convoai_mcp.regions import AREA_NAMES, Area

if TYPE_CHECKING:
    from convoai_mcp.calling_rules import CallingRules

__all__ = [
    "ENV_VARS",
    "LLM_STYLES",
    "LOG_FORMATS",
    "LOG_LEVELS",
    "OAUTH_SCOPE_ROLES",
    "SECRET_ENV_VARS",
    "VARIABLES",
    "AuthMode",
    "Settings",
    "Variable",
    "default_profiles_path",
    "did_you_mean",
]

AuthMode = Literal["basic", "token", "app_credentials"]

OAUTH_SCOPE_ROLES = ("read", "agents", "calls", "admin")
"""What an OAuth access token may let a caller do (``CONVOAI_OAUTH_SCOPES`` renames them; the
server's tool table, :mod:`convoai_mcp.server.scopes`, says which role each tool needs)."""
OAUTH_DEFAULT_SCOPE_PREFIX = "convoai:"
"""A role's scope name unless ``CONVOAI_OAUTH_SCOPES`` says otherwise: ``convoai:read``, ..."""
_OAUTH_OPTIONAL = (
    "CONVOAI_OAUTH_RESOURCE",
    "CONVOAI_OAUTH_AUDIENCE",
    "CONVOAI_OAUTH_JWKS_URL",
    "CONVOAI_OAUTH_SCOPES",
)


@dataclass(frozen=True)
class Variable:
    """One environment variable: its one-line help, and whether its value is (or may hold) a
    secret, which is then never shown and is masked wherever it could appear."""

    help: str
    secret: bool = False
    required: bool = False


VARIABLES: dict[str, Variable] = {
    "AGORA_APP_ID": Variable(
        "App ID of the Agora project (32 hex characters). Required.", required=True
    ),
    "AGORA_APP_CERTIFICATE": Variable(
        "App Certificate of the project (32 hex characters); used to mint channel-join tokens, "
        "and to authenticate when no customer ID / secret or token is set.",
        secret=True,
    ),
    "AGORA_CUSTOMER_ID": Variable(
        "RESTful API customer ID (Basic auth, with AGORA_CUSTOMER_SECRET)."
    ),
    "AGORA_CUSTOMER_SECRET": Variable(
        "RESTful API customer secret (Basic auth, with AGORA_CUSTOMER_ID).", secret=True
    ),
    "AGORA_AUTH_TOKEN": Variable(
        "A prebuilt token sent as 'agora token=...' instead of Basic auth (not together with "
        "AGORA_CUSTOMER_ID / AGORA_CUSTOMER_SECRET).",
        secret=True,
    ),
    "AGORA_AREA": Variable(
        "Where the REST API is served from: GLOBAL (default), US, EU, AP or CN."
    ),
    "CONVOAI_BASE_URL": Variable(
        "Override the REST API base URL (replaces region routing), e.g. a local emulator."
    ),
    "CONVOAI_PRESETS": Variable(
        "Comma list of default presets, e.g. "
        "deepgram_nova_3,openai_gpt_4o_mini,minimax_speech_2_6_turbo."
    ),
    "CONVOAI_PIPELINE_ID": Variable(
        "Default pipeline ID (an agent configured in the Agora console)."
    ),
    "CONVOAI_LLM_URL": Variable("Default LLM endpoint (OpenAI-compatible chat completions URL)."),
    "CONVOAI_LLM_API_KEY": Variable("API key for the default LLM.", secret=True),
    "CONVOAI_LLM_MODEL": Variable("Default LLM model name, e.g. gpt-4o-mini."),
    "CONVOAI_LLM_URLS_ALLOWED": Variable(
        "Comma list of LLM URLs the model may pick with llm_url besides CONVOAI_LLM_URL (exact "
        "URLs, or *: any); they are called without CONVOAI_LLM_API_KEY. Default: none."
    ),
    "CONVOAI_LLM_MODELS_ALLOWED": Variable(
        "Comma list of models the model may pick with llm_model on the configured LLM and its "
        "key, besides CONVOAI_LLM_MODEL (or *: any). Default: none."
    ),
    "CONVOAI_LLM_STYLE": Variable(
        "LLM request style: openai (default), gemini, anthropic, dify or bedrock."
    ),
    "CONVOAI_TTS_VENDOR": Variable("Default TTS vendor, e.g. microsoft, elevenlabs, minimax."),
    "CONVOAI_TTS_PARAMS": Variable(
        "Default TTS parameters as a JSON object (may contain the vendor key).", secret=True
    ),
    "CONVOAI_ASR_VENDOR": Variable("Default ASR vendor, e.g. ares, deepgram, microsoft."),
    "CONVOAI_ASR_LANGUAGE": Variable("Default ASR language, e.g. en-US."),
    "CONVOAI_ASR_PARAMS": Variable(
        "Default ASR parameters as a JSON object (may contain the vendor key).", secret=True
    ),
    "CONVOAI_AGENT_UID": Variable("RTC uid the agent joins with (default 1001)."),
    "CONVOAI_USER_UID": Variable(
        "RTC uid of the human participant a join token is minted for (default 1002)."
    ),
    "CONVOAI_IDLE_TIMEOUT": Variable(
        "Seconds an agent stays in an empty channel before leaving (service default 30)."
    ),
    "CONVOAI_PROFILES": Variable(
        "Path of the agent profile file (TOML; README: Agent profiles). Default: profiles.toml "
        "in the per-user config directory, if it exists; none: no profiles."
    ),
    "CONVOAI_LOG_LEVEL": Variable("Log level on stderr: DEBUG, INFO, WARNING (default), ERROR."),
    "CONVOAI_LOG_FORMAT": Variable(
        "Log format on stderr: text (default) or json (one JSON object per line)."
    ),
    "CONVOAI_LOG_HTTP": Variable(
        "on: also log the libraries' internals at CONVOAI_LOG_LEVEL (httpx, httpcore, the MCP "
        "SDK's DEBUG lines); default off: only this server's lines in such detail."
    ),
    "CONVOAI_CALL_ALLOWLIST": Variable(
        "Comma list of E.164 numbers or prefixes (+1415) the call tool may dial; empty means no "
        "outbound calls."
    ),
    "CONVOAI_CALL_HOURS": Variable(
        "Calling window in the callee's local time, HH:MM-HH:MM (default 08:00-21:00; in sandbox "
        "mode default off), or off."
    ),
    "CONVOAI_CALLS_PER_NUMBER_PER_DAY": Variable(
        "Calls to one number in any 24 hours (default 3; in sandbox mode default off; 0 forbids "
        "calls), or off; counted across restarts from the archive."
    ),
    "CONVOAI_CALL_ALLOW_TYPES": Variable(
        "Comma list of costly number types to allow (premium_rate, shared_cost, "
        "personal_number, uan, pager, voicemail, or all); refused by default."
    ),
    "CONVOAI_DEFAULT_REGION": Variable(
        "ISO 3166-1 region (e.g. US) for numbers written in national format; unset, every "
        "number needs its +country code."
    ),
    "CONVOAI_EMULATOR": Variable(
        "on when CONVOAI_BASE_URL is the local emulator (convoai-mcp sandbox prints it): its "
        "fictional 555-01xx numbers may be dialled, quiet hours and the per-number cap default "
        "off. Default off."
    ),
    "CONVOAI_MAX_AGENTS": Variable(
        "Maximum concurrent agents started by this server (default 5; 0 forbids)."
    ),
    "CONVOAI_MAX_CALLS": Variable(
        "Maximum concurrent calls placed by this server (default 2; 0 forbids)."
    ),
    "CONVOAI_RATE_PER_MINUTE": Variable(
        "Maximum start_agent + call requests per minute (default 10)."
    ),
    "CONVOAI_CONFIRM": Variable(
        "Comma list of tools that need the user's confirmation: call, start_agent (default: "
        "call). A non-empty value replaces the default, so list call too to keep it; none: "
        "nothing needs confirmation."
    ),
    "CONVOAI_CONFIRM_BY_ARGUMENT": Variable(
        "true lets the model's confirm=true stand for a human's approval (headless "
        "orchestrators only: a prompt injection can set it too). Default false: a human approves "
        "through elicitation or the approval page."
    ),
    "CONVOAI_PREAPPROVED_NUMBERS": Variable(
        "Comma list of E.164 numbers or prefixes that need no per-call approval (they must also "
        "be on CONVOAI_CALL_ALLOWLIST)."
    ),
    "CONVOAI_APPROVAL_TTL": Variable(
        "Seconds an approval link stays valid, and an approval usable (default 300)."
    ),
    "CONVOAI_READ_ONLY": Variable(
        "true exposes only the read-only tools: get_agent, get_history, get_turns, list_agents, "
        "list_profiles, get_call, list_calls, list_numbers, wait, get_campaign and list_campaigns."
    ),
    "CONVOAI_TOOLS_ALLOW": Variable(
        "Comma list of tool names or tool sets to expose: default (every tool but the admin "
        "ones; what is exposed when unset), admin (add_number, get_number, update_number, "
        "delete_number); e.g. default,admin."
    ),
    "CONVOAI_TOOLS_DENY": Variable("Comma list of tool names (or tool sets) to hide."),
    "CONVOAI_TOKEN_MAX_LIFETIME": Variable(
        "Longest lifetime of a token from mint_token, in seconds (default 3600)."
    ),
    "CONVOAI_WAIT_MAX_SECONDS": Variable(
        "Longest a single wait tool call blocks, in seconds (default 120; 1 to 3600)."
    ),
    "CONVOAI_CAMPAIGN_LEASE_SECONDS": Variable(
        "Seconds a server's claim on a campaign call lasts without renewal; a dead server's "
        "calls are taken over after it (default 30; 1 to 3600)."
    ),
    "CONVOAI_HTTP_TOKEN": Variable(
        "Bearer token HTTP clients must send; required to bind the HTTP transports to a "
        "non-loopback address.",
        secret=True,
    ),
    "CONVOAI_OAUTH_ISSUER": Variable(
        "OAuth 2.1 authorization server (issuer URL) whose JWT access tokens the HTTP "
        "transports accept instead of CONVOAI_HTTP_TOKEN (needs the oauth extra)."
    ),
    "CONVOAI_OAUTH_RESOURCE": Variable(
        "This server's public MCP URL (e.g. https://mcp.example.com/mcp): the resource of the "
        "protected-resource metadata and the audience tokens must carry. Required with "
        "CONVOAI_OAUTH_ISSUER."
    ),
    "CONVOAI_OAUTH_AUDIENCE": Variable(
        "The audience (aud) access tokens must carry when the issuer does not use the resource "
        "URL (e.g. an API identifier); default CONVOAI_OAUTH_RESOURCE."
    ),
    "CONVOAI_OAUTH_JWKS_URL": Variable(
        "URL of the issuer's signing keys (JWKS); default: jwks_uri from the issuer's metadata "
        "(/.well-known/oauth-authorization-server, then openid-configuration)."
    ),
    "CONVOAI_OAUTH_SCOPES": Variable(
        "The issuer's names for the scopes, as role=name pairs (roles: read, agents, calls, "
        "admin), e.g. read=mcp.read,admin=mcp.admin; default convoai:read, convoai:agents, ..."
    ),
    "CONVOAI_MAX_BODY_BYTES": Variable(
        "Maximum HTTP request body size in bytes (default 1048576)."
    ),
    "CONVOAI_HTTP_ALLOWED_HOSTS": Variable(
        "Comma list of host names (or host:port) clients reach the HTTP transports by, "
        "accepted in Host / Origin besides loopback and this machine's names, e.g. "
        "mcp.example.com behind a load balancer."
    ),
    "CONVOAI_HTTP_STATELESS": Variable(
        "on: streamable HTTP without sessions (--stateless), for replicas behind a load "
        "balancer without session affinity. Default off."
    ),
    "CONVOAI_REQUEST_STATE_KEY": Variable(
        "Key (32+ characters) sealing the state of multi-round-trip requests (confirmations); "
        "the same on every replica. A comma list while rotating: the first seals, all open. "
        "Unset: a per-process key.",
        secret=True,
    ),
    "CONVOAI_ARCHIVE": Variable("on (default) or off: keep a local transcript archive."),
    "CONVOAI_ARCHIVE_PATH": Variable(
        "Path of the SQLite transcript archive (default: per-user data directory)."
    ),
    "CONVOAI_ARCHIVE_RETENTION_DAYS": Variable("Days archived transcripts are kept (default 30)."),
    "CONVOAI_TRANSCRIPT_MAX_CHARS": Variable(
        "Characters of spoken text in one page of a transcript (get_history, the history "
        "resource; default 8000); get_history hands out a cursor for the rest."
    ),
    "CONVOAI_WEBHOOK_SECRET": Variable(
        "Secret of the project's notification callbacks (Agora console): the HTTP transports "
        "then accept signed deliveries at POST /webhooks/agora.",
        secret=True,
    ),
    "CONVOAI_DATABASE_URL": Variable(
        "postgresql://user:password@host:port/dbname: keep the archive in PostgreSQL, shared by "
        "replicas with the limits, the rate and the events (needs the postgres extra); unset: "
        "the SQLite archive.",
        secret=True,
    ),
}
"""Every environment variable the server reads: the one home of their names, help and secrecy.
Add a variable here (one line) and read it in :meth:`Settings.from_env`."""

ENV_VARS: dict[str, str] = {name: var.help for name, var in VARIABLES.items()}
"""Every environment variable the server reads, with its one-line description (a view of
:data:`VARIABLES`)."""

SECRET_ENV_VARS: frozenset[str] = frozenset(n for n, v in VARIABLES.items() if v.secret)
"""Variables whose value is secret (or may contain a secret); a view of :data:`VARIABLES`."""

_CALLING_RULES = {
    "CONVOAI_CALL_HOURS": "call_hours",
    "CONVOAI_CALLS_PER_NUMBER_PER_DAY": "calls_per_number_per_day",
    "CONVOAI_CALL_ALLOW_TYPES": "call_allow_types",
    "CONVOAI_DEFAULT_REGION": "default_region",
}
"""The calling rules' variables (read by :mod:`convoai_mcp.calling_rules`) -> Settings fields."""

_NOT_OURS: frozenset[str] = frozenset({"CONVOAI_FUZZ_EXAMPLES", "CONVOAI_TEST_DATABASE_URL"})
"""``CONVOAI_*`` names read by the test suite, not the server: tolerated, never an error."""

LLM_STYLES: tuple[str, ...] = ("openai", "gemini", "anthropic", "dify", "bedrock")
"""The LLM request styles the service accepts (``llm.style``), as the official SDK declares
them (``agora_agent.types.LlmStyle`` in agora-agents 2.12.0)."""

LOG_LEVELS: tuple[str, ...] = ("DEBUG", "INFO", "WARNING", "ERROR", "CRITICAL")
LOG_FORMATS: tuple[str, ...] = ("text", "json")

_CONFIRMABLE: tuple[str, ...] = ("call", "start_agent")
"""The tools that can ask the user to confirm (CONVOAI_CONFIRM)."""

_UID = re.compile(r"0|[1-9][0-9]{0,9}")
_NUMBER_OR_PREFIX = re.compile(r"\+[0-9]{1,15}")
_TRUE = frozenset({"1", "true", "yes", "on"})
_FALSE = frozenset({"0", "false", "no", "off"})
_UNFILLED = re.compile(r"\$\{user_config\.[A-Za-z0-9_]+\}")
"""An MCP bundle's placeholder for a field the user left empty (``${user_config.x}``), which a
host may pass on as it is: the same as unset."""
_MAX_JSON_DEPTH = 32
"""How deeply CONVOAI_TTS_PARAMS / CONVOAI_ASR_PARAMS may nest (vendor configs need 3 or 4)."""


def did_you_mean(value: str, choices: Collection[str]) -> str:
    """``"; did you mean X?"`` for the choice closest to ``value``, or ``""`` if none is close."""
    lowered = {choice.lower(): choice for choice in choices}
    close = difflib.get_close_matches(value.lower(), list(lowered), n=1, cutoff=0.6)
    if not close:  # e.g. "gpt4o" for "openai_gpt_4o_mini": compare without separators
        squeezed = {re.sub(r"[^a-z0-9]", "", c): c for c in lowered}
        target = re.sub(r"[^a-z0-9]", "", value.lower())
        close = [squeezed[s] for s in squeezed if target and target in s][:1]
    return f"; did you mean {lowered[close[0]]}?" if close else ""


def _choice(name: str, value: str, choices: Collection[str], *, what: str) -> str:
    """``value`` matched case-insensitively against ``choices`` (returned in their spelling);
    a :class:`ConfigError` listing them otherwise."""
    for choice in choices:
        if value.lower() == choice.lower():
            return choice
    raise ConfigError(
        f"{name}={value!r} is not {what}{did_you_mean(value, choices)}",
        hint=f"use one of {', '.join(choices)}",
    )


def _check_names(environ: Mapping[str, str]) -> list[str]:
    """Refuse unknown ``CONVOAI_*`` names; warnings for unknown ``AGORA_*`` names."""
    warnings: list[str] = []
    for name in sorted(environ):
        upper = name.upper()
        if name in VARIABLES or name in _NOT_OURS:
            continue
        if upper.startswith("CONVOAI_"):
            raise ConfigError(
                f"{name} is not a configuration variable{did_you_mean(name, VARIABLES)}",
                hint="unset it or fix its name; the variables are listed in the README "
                "(Configuration)",
            )
        if upper.startswith("AGORA_"):
            agora = [n for n in VARIABLES if n.startswith("AGORA_")]
            warnings.append(
                f"{name} is not read by convoai-mcp and is ignored{did_you_mean(name, agora)}"
            )
    return warnings


class Settings(BaseModel):
    """Validated, immutable server configuration. Build it with :meth:`from_env`."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    # credentials
    app_id: str
    app_certificate: SecretStr | None = None
    customer_id: str | None = None
    customer_secret: SecretStr | None = None
    auth_token: SecretStr | None = None
    area: Area = Area.GLOBAL
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
    profiles: SkipValidation[Profiles | None] = Field(default=None, repr=False, exclude=True)
    """The agent profiles (``CONVOAI_PROFILES``), loaded and checked at start-up; None: none."""
    log_level: Literal["DEBUG", "INFO", "WARNING", "ERROR", "CRITICAL"] = "WARNING"
    log_format: Literal["text", "json"] = "text"
    log_http: bool = False
    # safety
    call_allowlist: tuple[str, ...] = ()
    call_hours: str | None = None
    """``CONVOAI_CALL_HOURS`` as given (validated); None: the default."""
    calls_per_number_per_day: str | None = None
    call_allow_types: str | None = None
    default_region: str | None = None
    emulator: bool = False
    """``CONVOAI_EMULATOR``: the configured service is the local emulator (as in sandbox mode)."""
    max_agents: int | None = None
    max_calls: int | None = None
    rate_per_minute: int | None = None
    confirm: tuple[str, ...] = ("call",)
    confirm_by_argument: bool = False
    preapproved_numbers: tuple[str, ...] = ()
    approval_ttl: int = 300
    read_only: bool = False
    tools_allow: tuple[str, ...] | None = None
    tools_deny: tuple[str, ...] = ()
    token_max_lifetime: int = 3600
    wait_max_seconds: int = 120
    campaign_lease_seconds: int = 30
    http_token: SecretStr | None = None
    oauth_issuer: str | None = None
    """``CONVOAI_OAUTH_ISSUER``: the HTTP transports accept this issuer's JWT access tokens."""
    oauth_resource: str | None = None
    oauth_audience: str | None = None
    oauth_jwks_url: str | None = None
    oauth_scopes: dict[str, str] = Field(default_factory=dict)
    """The issuer's scope name for each role of :data:`OAUTH_SCOPE_ROLES` (all of them)."""
    max_body_bytes: int | None = None
    http_allowed_hosts: tuple[str, ...] = ()
    http_stateless: bool = False
    request_state_key: SecretStr | None = None
    archive: bool = True
    archive_path: Path | None = None
    archive_retention_days: int = 30
    transcript_max_chars: int = 8000
    database_url: SecretStr | None = None
    webhook_secret: SecretStr | None = None
    # provenance
    sandbox: bool = False
    warnings: tuple[str, ...] = Field(default=(), repr=False)
    """What start-up should warn about (unknown ``AGORA_*`` names); nothing secret."""

    @property
    def auth_mode(self) -> AuthMode:
        """How REST requests are authenticated: basic, token or app_credentials."""
        if self.customer_id and self.customer_secret:
            return "basic"
        if self.auth_token:
            return "token"
        return "app_credentials"

    def calling_rules(self, clock: Callable[[], datetime] | None = None) -> CallingRules:
        """The calling rules in effect (:mod:`convoai_mcp.calling_rules`). In sandbox mode the
        quiet hours and the per-number cap default to off (its fictional numbers ring no one);
        set explicitly, they apply there too. ``CONVOAI_EMULATOR=on`` (a server pointed at a
        standalone emulator) counts as sandbox mode here."""
        from convoai_mcp.calling_rules import CAP_SETTING, HOURS_SETTING, CallingRules

        env = {
            name: value
            for name, key in _CALLING_RULES.items()
            if (value := getattr(self, key)) is not None
        }
        sandbox = self.sandbox or self.emulator
        if sandbox:
            env.setdefault(HOURS_SETTING, "off")
            env.setdefault(CAP_SETTING, "off")
        if clock is None:
            return CallingRules.from_env(env, sandbox=sandbox)
        return CallingRules.from_env(env, sandbox=sandbox, clock=clock)

    def request_state_keys(self) -> list[str]:
        """The keys of ``CONVOAI_REQUEST_STATE_KEY`` (the first seals); empty when unset."""
        if self.request_state_key is None:
            return []
        return _split_keys(self.request_state_key)

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
        source = os.environ if environ is None else environ
        env = _Env(source)
        values: dict[str, Any] = {"warnings": tuple(_check_names(source))}

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
            customer_secret = env.secret("AGORA_CUSTOMER_SECRET")
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
            if customer_id is not None:
                values["customer_id"] = _check_customer_id(customer_id)
            values["customer_secret"] = customer_secret
            token = env.secret("AGORA_AUTH_TOKEN")
            if token is not None and customer_id is not None:
                raise ConfigError(
                    "AGORA_AUTH_TOKEN and AGORA_CUSTOMER_ID / AGORA_CUSTOMER_SECRET are both "
                    "set; set only one way to authenticate",
                    hint="keep the customer ID / secret (Basic) and unset AGORA_AUTH_TOKEN, or "
                    "the other way round (the official SDK refuses this combination too)",
                )
            values["auth_token"] = token
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
            values["area"] = Area(_choice("AGORA_AREA", area, AREA_NAMES, what="an area"))
        base_url = env.text("CONVOAI_BASE_URL")
        if base_url is not None:
            values["base_url"] = _check_url(
                "CONVOAI_BASE_URL",
                base_url,
                "e.g. https://api.agora.io/api/conversational-ai-agent",
            ).rstrip("/")

        presets = env.csv("CONVOAI_PRESETS")
        values["presets"] = tuple(
            _choice("CONVOAI_PRESETS", p, PRESET_NAMES, what="a preset") for p in presets
        )
        values["pipeline_id"] = env.text("CONVOAI_PIPELINE_ID")
        llm_url = env.text("CONVOAI_LLM_URL")
        if llm_url is not None:
            values["llm_url"] = _check_url(
                "CONVOAI_LLM_URL", llm_url, "e.g. https://api.openai.com/v1/chat/completions"
            )
        values["llm_api_key"] = env.secret("CONVOAI_LLM_API_KEY")
        values["llm_model"] = env.text("CONVOAI_LLM_MODEL")
        style = env.text("CONVOAI_LLM_STYLE")
        if style is not None:
            values["llm_style"] = _choice(
                "CONVOAI_LLM_STYLE", style, LLM_STYLES, what="an LLM style"
            )
        urls = env.csv("CONVOAI_LLM_URLS_ALLOWED")
        values["llm_urls_allowed"] = tuple(
            url
            if url == "*"
            else _check_url(
                "CONVOAI_LLM_URLS_ALLOWED", url, "list exact chat-completions URLs, or * for any"
            )
            for url in urls
        )
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
        values["profiles"] = _profiles(env, source)
        level = env.text("CONVOAI_LOG_LEVEL")
        if level is not None:
            values["log_level"] = _choice(
                "CONVOAI_LOG_LEVEL", level, LOG_LEVELS, what="a log level"
            )
        log_format = env.text("CONVOAI_LOG_FORMAT")
        if log_format is not None:
            values["log_format"] = _choice(
                "CONVOAI_LOG_FORMAT", log_format, LOG_FORMATS, what="a log format"
            )
        values["log_http"] = env.boolean("CONVOAI_LOG_HTTP", default=False)

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
            unknown = [t for t in confirm if t not in _CONFIRMABLE]
            if unknown:  # a typo would silently turn confirmation off
                hints = "".join(did_you_mean(t, _CONFIRMABLE) for t in unknown)
                raise ConfigError(
                    f"CONVOAI_CONFIRM names tools that cannot ask for confirmation: "
                    f"{', '.join(sorted(unknown))}{hints}",
                    hint="use call and / or start_agent (comma-separated), or none",
                )
            values["confirm"] = confirm
        values["confirm_by_argument"] = env.boolean("CONVOAI_CONFIRM_BY_ARGUMENT", default=False)
        preapproved = env.csv("CONVOAI_PREAPPROVED_NUMBERS")
        for entry in preapproved:
            if not _NUMBER_OR_PREFIX.fullmatch(entry):
                raise ConfigError(
                    f"CONVOAI_PREAPPROVED_NUMBERS entry {entry!r} is not an E.164 number or prefix",
                    hint="use '+' and digits only, e.g. +14155550100 or +1415",
                )
        values["preapproved_numbers"] = preapproved
        ttl = env.integer("CONVOAI_APPROVAL_TTL", minimum=10, maximum=86400)
        if ttl is not None:
            values["approval_ttl"] = ttl
        values["read_only"] = env.boolean("CONVOAI_READ_ONLY", default=False)
        allow_tools = env.raw("CONVOAI_TOOLS_ALLOW")
        values["tools_allow"] = env.csv("CONVOAI_TOOLS_ALLOW") if allow_tools is not None else None
        values["tools_deny"] = env.csv("CONVOAI_TOOLS_DENY")
        lifetime = env.integer("CONVOAI_TOKEN_MAX_LIFETIME", minimum=60, maximum=86400)
        if lifetime is not None:
            values["token_max_lifetime"] = lifetime
        wait_max = env.integer("CONVOAI_WAIT_MAX_SECONDS", minimum=1, maximum=3600)
        if wait_max is not None:
            values["wait_max_seconds"] = wait_max
        lease = env.integer("CONVOAI_CAMPAIGN_LEASE_SECONDS", minimum=1, maximum=3600)
        if lease is not None:
            values["campaign_lease_seconds"] = lease
        http_token = env.secret("CONVOAI_HTTP_TOKEN")
        if http_token is not None:
            if len(http_token.get_secret_value()) < 16:
                raise ConfigError(
                    "CONVOAI_HTTP_TOKEN is too short (fewer than 16 characters)",
                    hint="use a long random value, e.g. `python -c 'import secrets; "
                    "print(secrets.token_urlsafe(32))'`",
                )
            values["http_token"] = http_token
        values.update(_oauth(env, http_token is not None))
        values["max_body_bytes"] = env.integer("CONVOAI_MAX_BODY_BYTES", minimum=1024)
        values["http_allowed_hosts"] = _check_hosts(env.csv("CONVOAI_HTTP_ALLOWED_HOSTS"))
        values["http_stateless"] = env.boolean("CONVOAI_HTTP_STATELESS", default=False)
        state_key = env.secret("CONVOAI_REQUEST_STATE_KEY")
        if state_key is not None:
            _check_request_state_keys(state_key)
        values["request_state_key"] = state_key
        values["archive"] = env.boolean("CONVOAI_ARCHIVE", default=True)
        values["emulator"] = env.boolean("CONVOAI_EMULATOR", default=False)
        archive_path = env.text("CONVOAI_ARCHIVE_PATH")
        try:
            values["archive_path"] = Path(archive_path).expanduser() if archive_path else None
        except RuntimeError:  # ~nosuchuser/...
            raise ConfigError(
                f"CONVOAI_ARCHIVE_PATH={archive_path!r}: the home directory in it cannot be found",
                hint="write an absolute path, or ~/... for your own home directory",
            ) from None
        retention = env.integer("CONVOAI_ARCHIVE_RETENTION_DAYS", minimum=1)
        if retention is not None:
            values["archive_retention_days"] = retention
        rules: dict[str, str] = {}
        for name, key in _CALLING_RULES.items():
            text = env.text(name)
            if text is not None:
                rules[name] = text
                values[key] = text
        from convoai_mcp.calling_rules import CallingRules

        CallingRules.from_env(rules)  # ConfigError naming the variable that is malformed
        transcript = env.integer("CONVOAI_TRANSCRIPT_MAX_CHARS", minimum=100)
        if transcript is not None:
            values["transcript_max_chars"] = transcript
        database_url = env.secret("CONVOAI_DATABASE_URL")
        if database_url is not None:
            scheme = database_url.get_secret_value().split("://", 1)[0].lower()
            if scheme not in ("postgresql", "postgres"):
                raise ConfigError(
                    "CONVOAI_DATABASE_URL is not a postgresql:// URL",
                    hint="write postgresql://user:password@host:5432/dbname, or unset it to use "
                    "the SQLite archive",
                )
            if archive_path:
                values["warnings"] += (
                    "CONVOAI_ARCHIVE_PATH is ignored: CONVOAI_DATABASE_URL puts the archive in "
                    "PostgreSQL",
                )
            values["database_url"] = database_url
        webhook_secret = env.secret("CONVOAI_WEBHOOK_SECRET")
        if webhook_secret is not None and len(webhook_secret.get_secret_value()) < 7:
            raise ConfigError(
                "CONVOAI_WEBHOOK_SECRET is too short (fewer than 7 characters)",
                hint="use the secret configured for the project's notifications in the Agora "
                "console (7 to 32 letters, digits, _ or -)",
            )
        values["webhook_secret"] = webhook_secret
        return cls(**values)


_HOST = re.compile(r"(\[[0-9a-fA-F:.]+\]|[A-Za-z0-9.-]+)(:[0-9]{1,5})?")


def _check_hosts(hosts: tuple[str, ...]) -> tuple[str, ...]:
    """Host names (or ``host:port``), not URLs."""
    for host in hosts:
        if not _HOST.fullmatch(host):
            raise ConfigError(
                f"CONVOAI_HTTP_ALLOWED_HOSTS: {host!r} is not a host name or host:port",
                hint="write the names clients connect to, without scheme or path, e.g. "
                "mcp.example.com,mcp.example.com:8443",
            )
    return tuple(host.lower() for host in hosts)


_MIN_STATE_KEY = 32
"""The SDK's minimum for a request-state key (``AESGCMRequestStateCodec``)."""


def _split_keys(value: SecretStr) -> list[str]:
    return [part.strip() for part in value.get_secret_value().split(",") if part.strip()]


def _check_request_state_keys(value: SecretStr) -> None:
    """Each key long enough, none twice (the message never shows a key)."""
    keys = _split_keys(value)
    for number, key in enumerate(keys, 1):
        if len(key) < _MIN_STATE_KEY:
            which = f"key {number} of {len(keys)}" if len(keys) > 1 else "the key"
            raise ConfigError(
                f"CONVOAI_REQUEST_STATE_KEY: {which} is too short ({len(key)} characters, "
                f"fewer than {_MIN_STATE_KEY})",
                hint="use a long random value, the same on every replica, e.g. `python -c "
                "'import secrets; print(secrets.token_hex(32))'`",
            )
    if len(set(keys)) != len(keys):
        raise ConfigError(
            "CONVOAI_REQUEST_STATE_KEY lists the same key twice",
            hint="while rotating list the new and the old key once each: new,old",
        )


def _is_loopback_url(value: str) -> bool:
    host = (urlsplit(value).hostname or "").lower()
    return host == "localhost" or host == "::1" or host.startswith("127.")


def _check_oauth_url(name: str, value: str, example: str) -> str:
    """An https URL (http only on loopback, for tests and local issuers), without a fragment."""
    _check_url(name, value, example)
    parts = urlsplit(value)
    if parts.scheme.lower() != "https" and not _is_loopback_url(value):
        raise ConfigError(f"{name} must be an https:// URL (http only on loopback)", hint=example)
    if parts.fragment or parts.query:
        raise ConfigError(f"{name} must not carry a query or a fragment", hint=example)
    return value


def _oauth(env: _Env, http_token: bool) -> dict[str, Any]:
    """The ``CONVOAI_OAUTH_*`` settings, checked (raises :class:`ConfigError` naming one)."""
    issuer = env.text("CONVOAI_OAUTH_ISSUER")
    if issuer is None:
        stray = next((name for name in _OAUTH_OPTIONAL if env.text(name) is not None), None)
        if stray is not None:
            raise ConfigError(
                f"{stray} is set but CONVOAI_OAUTH_ISSUER is not",
                hint="set CONVOAI_OAUTH_ISSUER to the authorization server's issuer URL, or "
                f"unset {stray}",
            )
        return {}
    if http_token:
        raise ConfigError(
            "CONVOAI_HTTP_TOKEN and CONVOAI_OAUTH_ISSUER are both set; the HTTP transports "
            "take one kind of credential",
            hint="unset CONVOAI_HTTP_TOKEN (OAuth access tokens replace it), or unset "
            "CONVOAI_OAUTH_* to keep the one static token",
        )
    values: dict[str, Any] = {
        "oauth_issuer": _check_oauth_url(
            "CONVOAI_OAUTH_ISSUER", issuer, "e.g. https://login.example.com/realms/team"
        )
    }
    resource = env.text("CONVOAI_OAUTH_RESOURCE")
    if resource is None:
        raise ConfigError(
            "CONVOAI_OAUTH_ISSUER is set but CONVOAI_OAUTH_RESOURCE is not",
            hint="set CONVOAI_OAUTH_RESOURCE to the URL clients reach this server's MCP "
            "endpoint at, e.g. https://mcp.example.com/mcp",
        )
    values["oauth_resource"] = _check_oauth_url(
        "CONVOAI_OAUTH_RESOURCE", resource, "e.g. https://mcp.example.com/mcp"
    )
    audience = env.text("CONVOAI_OAUTH_AUDIENCE")
    if audience is not None and (" " in audience or _first_unprintable(audience) is not None):
        raise ConfigError(
            "CONVOAI_OAUTH_AUDIENCE contains spaces, control or non-ASCII characters",
            hint="write the one audience value the issuer puts into aud",
        )
    values["oauth_audience"] = audience
    jwks = env.text("CONVOAI_OAUTH_JWKS_URL")
    if jwks is not None:
        values["oauth_jwks_url"] = _check_oauth_url(
            "CONVOAI_OAUTH_JWKS_URL", jwks, "e.g. https://login.example.com/.well-known/jwks.json"
        )
    names = {role: OAUTH_DEFAULT_SCOPE_PREFIX + role for role in OAUTH_SCOPE_ROLES}
    for pair in env.csv("CONVOAI_OAUTH_SCOPES"):
        role, sep, name = (part.strip() for part in pair.partition("="))
        if role not in OAUTH_SCOPE_ROLES:
            raise ConfigError(
                f"CONVOAI_OAUTH_SCOPES names an unknown role {role!r}"
                + did_you_mean(role, OAUTH_SCOPE_ROLES),
                hint="write role=scope pairs with the roles " + ", ".join(OAUTH_SCOPE_ROLES),
            )
        if not sep or not name or " " in name or _first_unprintable(name) is not None:
            raise ConfigError(
                f"CONVOAI_OAUTH_SCOPES gives no valid scope name for {role}",
                hint="write role=scope pairs, e.g. read=mcp.read,admin=mcp.admin",
            )
        names[role] = name
    if len(set(names.values())) != len(names):
        raise ConfigError(
            "CONVOAI_OAUTH_SCOPES gives two roles the same scope name",
            hint="each of " + ", ".join(OAUTH_SCOPE_ROLES) + " needs a scope of its own",
        )
    values["oauth_scopes"] = names
    return values


def _check_hex32(value: str, *, secret: bool) -> str:
    from convoai_mcp.tokens import validate_app_certificate, validate_app_id

    try:
        return validate_app_certificate(value) if secret else validate_app_id(value)
    except ValueError as exc:
        raise ConfigError(str(exc)) from None


def _check_customer_id(value: str) -> str:
    """The customer ID goes into ``Basic base64(id:secret)``: a ':' would split it wrongly."""
    bad = _first_unprintable(value)
    if bad is not None:
        raise ConfigError(
            f"AGORA_CUSTOMER_ID has a character that cannot be sent (position {bad + 1}: "
            "only printable ASCII)",
            hint="copy the customer ID again from Agora console > RESTful API",
        )
    if ":" in value:
        raise ConfigError(
            "AGORA_CUSTOMER_ID contains ':', which Basic auth cannot carry in a customer ID",
            hint="copy the customer ID again from Agora console > RESTful API; it has no ':'",
        )
    return value


def _check_url(name: str, value: str, example: str) -> str:
    """An http(s) URL with a host and no credentials; the message never echoes a URL that may
    carry a password."""
    parts = urlsplit(value)
    if "@" in parts.netloc:
        raise ConfigError(
            f"{name} carries credentials (user:password@host)",
            hint="remove them from the URL; keys go into their own variables",
        )
    if parts.scheme.lower() not in ("http", "https") or not parts.hostname:
        raise ConfigError(f"{name}={value!r} is not an http(s) URL", hint=example)
    if _first_unprintable(value) is not None or " " in value:
        raise ConfigError(
            f"{name} contains spaces, control or non-ASCII characters",
            hint=f"percent-encode them, {example}",
        )
    return value


def _first_unprintable(value: str) -> int | None:
    """The index of the first character outside printable ASCII, if any."""
    for index, char in enumerate(value):
        if not (32 <= ord(char) < 127):
            return index
    return None


def _depth(value: Any) -> int:
    """How deeply ``value`` nests (iteratively: no recursion limit to hit)."""
    deepest, stack = 0, [(value, 1)]
    while stack:
        item, level = stack.pop()
        if isinstance(item, dict | list):
            deepest = max(deepest, level)
            children = item.values() if isinstance(item, dict) else item
            stack.extend((child, level + 1) for child in children)
    return deepest


_APP_DIR = "convoai-mcp"
PROFILES_FILENAME = "profiles.toml"


def default_profiles_path(environ: Mapping[str, str] | None = None) -> Path:
    """The per-user profile file: ``$XDG_CONFIG_HOME/convoai-mcp/profiles.toml`` (default
    ``~/.config``) on Linux, ``~/Library/Application Support/convoai-mcp/`` on macOS,
    ``%APPDATA%\\convoai-mcp\\`` on Windows (the archive's per-user logic, for configuration)."""
    env = os.environ if environ is None else environ
    home = Path(env.get("HOME") or Path.home())
    if sys.platform == "win32":
        base = Path(env.get("APPDATA") or home / "AppData" / "Roaming")
    elif sys.platform == "darwin":
        base = home / "Library" / "Application Support"
    else:
        base = Path(env.get("XDG_CONFIG_HOME") or home / ".config")
    return base / _APP_DIR / PROFILES_FILENAME


def _profiles(env: _Env, environ: Mapping[str, str]) -> Profiles | None:
    """The profiles of ``CONVOAI_PROFILES`` (or of the per-user file, if there is one), with
    their ``${NAME}`` secrets read from ``environ``; None when there is no file."""
    value = env.text("CONVOAI_PROFILES")
    if value is not None and value.lower() == "none":
        return None
    if value is None:
        path = default_profiles_path(environ)
        if not path.is_file():
            return None
    else:
        try:
            path = Path(value).expanduser()
        except RuntimeError:  # ~nosuchuser/...
            raise ConfigError(
                f"CONVOAI_PROFILES={value!r}: the home directory in it cannot be found",
                hint="write an absolute path, or ~/... for your own home directory",
            ) from None
    return load_profiles(path, environ=environ)


class _Env:
    """Typed accessors over an environment mapping; empty values count as unset."""

    def __init__(self, environ: Mapping[str, str]) -> None:
        self._env = environ

    def raw(self, name: str) -> str | None:
        value = self._env.get(name)
        if value is None or not value.strip() or _UNFILLED.fullmatch(value.strip()):
            return None
        return value

    def text(self, name: str) -> str | None:
        value = self.raw(name)
        return value.strip() if value is not None else None

    def secret(self, name: str) -> SecretStr | None:
        """A secret string: printable ASCII (it travels in HTTP headers), never echoed."""
        value = self.text(name)
        if value is None:
            return None
        bad = _first_unprintable(value)
        if bad is not None:
            raise ConfigError(
                f"{name} has a character that cannot be sent (position {bad + 1} of "
                f"{len(value)}: only printable ASCII)",
                hint="copy the value again; a pasted non-ASCII quote or a line break is typical",
            )
        return SecretStr(value)

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
        except RecursionError:
            data = None  # nested beyond the parser's limit: reported as too deep below
            depth_error = True
        except ValueError as exc:
            # The value may hold a vendor key: report the position, never the text.
            raise ConfigError(
                f"{name} is not valid JSON (line {getattr(exc, 'lineno', '?')}, column "
                f"{getattr(exc, 'colno', '?')})",
                hint='it must be a JSON object, e.g. {"voice_name": "en-US-AndrewNeural"}',
            ) from None
        else:
            depth_error = _depth(data) > _MAX_JSON_DEPTH
        if depth_error:
            raise ConfigError(
                f"{name} nests more than {_MAX_JSON_DEPTH} levels deep",
                hint="vendor parameters are a flat JSON object, or nest a few levels at most",
            )
        if not isinstance(data, dict):
            raise ConfigError(
                f"{name} must be a JSON object, not {type(data).__name__}",
                hint='e.g. {"voice_name": "en-US-AndrewNeural"}',
            )
        return data
