"""Agent profiles: named, complete agent configurations from a TOML file (issue 12).

The operator writes the profiles once; a model picks one by name. A profile file::

    default = "support"

    [profiles.support]
    description = "English support line: ElevenLabs voice, Deepgram ears, Claude brain"
    instructions = "You are a concise support agent."
    greeting = "Hi, how can I help?"
    turn_detection = { language = "en-US" }

    [profiles.support.llm]
    vendor = "anthropic"                      # the service's vendor name
    api_key = "${ANTHROPIC_API_KEY}"          # read from the environment at load
    model = "claude-sonnet-4-5"
    url = "https://api.anthropic.com/v1/messages"
    max_tokens = 1024
    headers = { anthropic-version = "2023-06-01" }

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

Each stage (``llm``, ``tts``, ``asr``, ``mllm``, ``avatar``) takes ``vendor`` and the parameters
of the official SDK's vendor class for that vendor (``agora-agents`` 2.12.0: ``Anthropic``,
``ElevenLabsTTS``, ``DeepgramSTT`` ...), under the same names, and produces exactly the JSON
that class's ``to_config()`` produces. ``area = "cn"`` picks the SDK's CN vendor classes.
The LLM classes' own ``vendor`` parameter (the ``llm.vendor`` field) is written
``vendor_param``, since ``vendor`` picks the class.
Besides the stages a profile takes what the SDK's ``Agent`` takes (``instructions``,
``greeting``, ``failure_message``, ``max_history``, ``turn_detection``, ``interruption``,
``sal``, ``advanced_features``, ``parameters``, ``geofence``, ``labels``, ``rtc``,
``filler_words``, ``greeting_configs``), ``presets`` and ``pipeline_id`` as in the SDK,
``template_variables`` (for the LLM), ``tools = true`` (the SDK's ``with_tools()``:
``advanced_features.enable_tools``, for the LLM's ``mcp_servers``), and the session's
``idle_timeout`` and ``enable_string_uid``.

Secrets: a value ``"${NAME}"`` is read from the environment when the file is loaded (missing:
an error naming the file, the profile, the key and the variable). A secret written inline (any
parameter whose name marks a secret: ``api_key``, ``key``, ``secret_key``, ``token`` ...) is
refused unless the file is private (no group or other permission bits: ``chmod 600``).
:meth:`Profiles.secret_values` hands every secret to the redactor.

Entry points: :func:`load_profiles` (at start-up; every error is a
:class:`~convoai_mcp.errors.ConfigError` naming the file, profile and key),
:func:`build_join` (a profile plus :class:`Overrides` to the join ``properties``, preset and
pipeline_id), :func:`build_call` (the same for an outbound call, which takes no presets),
:func:`summarize` / :meth:`Profiles.summaries` (for ``list_profiles``). Overrides never touch a
URL, a key or a vendor: a configured key travels only with the stage that names it.
Importing this package loads neither the MCP SDK nor pydantic nor the vendor catalog.
"""

from convoai_mcp.profiles._profiles import (
    AGENT_KEYS,
    DEFAULT_TURN_DETECTION_LANGUAGE,
    PROFILE_KEYS,
    TURN_DETECTION_LANGUAGES,
    JoinConfig,
    Overrides,
    Profile,
    Profiles,
    Stage,
    build_call,
    build_join,
    load_profiles,
    parse_profiles,
    summarize,
)
from convoai_mcp.profiles._vendors import STAGES, VOICE_FIELDS, vendor_names

__all__ = [
    "AGENT_KEYS",
    "DEFAULT_TURN_DETECTION_LANGUAGE",
    "PROFILE_KEYS",
    "STAGES",
    "TURN_DETECTION_LANGUAGES",
    "VOICE_FIELDS",
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
    "vendor_names",
]
