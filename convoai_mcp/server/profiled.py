"""Agent profiles in the MCP server: choosing one, building its request, showing it to a model.

``start_agent`` and ``call`` take ``profile`` (issue 12). A profile (named, else the file's
``default``) replaces the ``CONVOAI_*`` agent defaults: its request is what
:func:`convoai_mcp.profiles.build_join` / :func:`~convoai_mcp.profiles.build_call` return, with
the small per-call overrides (``system_prompt``, ``greeting``, ``tts_voice`` as the voice,
``asr_language`` as the language, ``template_variables``). The arguments that pick vendors,
endpoints or models (:data:`STAGE_ARGUMENTS`) are refused together with a profile: the keys of a
profile travel only with the stages that name them (issue 10, D1). Without a profile file, or
with neither a named profile nor a default, the tools behave as before (the implicit default
profile is the ``CONVOAI_*`` configuration).

:func:`profile_schema` writes the configured names (and their descriptions) into the
``profile`` argument's schema in ``tools/list``; :func:`listing` is what ``list_profiles`` and
the ``convoai://profiles`` resource show (never a secret).

This module imports neither the client nor the MCP SDK's server at import time.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from convoai_mcp.errors import ConfigError, ValidationError

if TYPE_CHECKING:
    from mcp.server.mcpserver import MCPServer

    from convoai_mcp.config import Settings
    from convoai_mcp.models import CallRequest, StartAgentRequest
    from convoai_mcp.profiles import JoinConfig, Overrides, Profile

__all__ = [
    "PROFILE_ARGUMENT",
    "STAGE_ARGUMENTS",
    "call_request",
    "chosen",
    "listing",
    "overrides",
    "profile_schema",
    "register",
    "start_request",
]

PROFILE_ARGUMENT = "profile"
STAGE_ARGUMENTS: tuple[str, ...] = ("presets", "pipeline_id", "llm_url", "llm_model", "tts_vendor")
"""Tool arguments that choose vendors, endpoints or models: never together with a profile."""
_NEEDS_PROFILE: tuple[str, ...] = ("template_variables",)


def chosen(settings: Settings, arguments: Mapping[str, Any]) -> Profile | None:
    """The profile a start or call uses (``arguments["profile"]``, else the file's default), or
    None for the ``CONVOAI_*`` defaults. Raises :class:`ValidationError` (nothing sent) for an
    unknown name, for vendor arguments next to a profile, and for profile-only arguments
    without one."""
    name = arguments.get(PROFILE_ARGUMENT)
    profiles = settings.profiles
    if profiles is None and name is not None:
        raise ValidationError(
            f"no profile called {name!r}: this server has no agent profiles",
            hint="omit profile (the server's configured defaults apply); the operator adds "
            "profiles with CONVOAI_PROFILES (see README, Agent profiles)",
        )
    if profiles is None or (name is None and profiles.default is None):
        needy = [key for key in _NEEDS_PROFILE if arguments.get(key)]
        if needy:
            where = "this server has no agent profiles" if profiles is None else "none was named"
            raise ValidationError(
                f"{', '.join(needy)} needs a profile, and {where}",
                hint="omit it"
                + (", or pass profile (see list_profiles)" if profiles is not None else ""),
            )
        return None
    try:
        profile = profiles.get(name)
    except ConfigError as exc:
        raise ValidationError(exc.message, hint="choose one with list_profiles") from None
    clashing = [key for key in STAGE_ARGUMENTS if arguments.get(key)]
    if clashing:
        which = f"profile {profile.name!r}" + (" (the default)" if name is None else "")
        raise ValidationError(
            f"{', '.join(clashing)} cannot be combined with a profile: {which} configures the "
            "agent's vendors, and its keys go only to them",
            hint=f"omit {', '.join(clashing)}; to use other vendors, choose another profile "
            "(list_profiles)",
        )
    return profile


def overrides(arguments: Mapping[str, Any]) -> Overrides:
    """The per-call overrides a tool's arguments ask for."""
    from convoai_mcp.profiles import Overrides

    return Overrides(
        system_prompt=arguments.get("system_prompt"),
        greeting=arguments.get("greeting"),
        voice=arguments.get("tts_voice"),
        language=arguments.get("asr_language"),
        template_variables=arguments.get("template_variables"),
    )


def _certificate(settings: Settings) -> str | None:
    return settings.app_certificate.get_secret_value() if settings.app_certificate else None


def _token_minter(settings: Settings, channel: str) -> Any:
    """Mints a channel-join token for a uid in ``channel`` (None without a certificate)."""
    from convoai_mcp.server import defaults

    if _certificate(settings) is None:
        return None
    return lambda uid: defaults.agent_token(settings, channel, uid)


def _join(
    settings: Settings,
    profile: Profile,
    arguments: Mapping[str, Any],
    *,
    call: bool,
    channel: str,
    token: str,
    agent_uid: str,
    remote_uid: str,
) -> JoinConfig:
    from convoai_mcp.profiles import build_call, build_join

    build = build_call if call else build_join
    try:
        return build(
            profile,
            overrides(arguments),
            channel=channel,
            token=token,
            agent_uid=agent_uid,
            remote_uids=[remote_uid],
            app_id=settings.app_id,
            avatar_token=_token_minter(settings, channel),
        )
    except ConfigError as exc:
        raise ValidationError(f"{exc.message} (nothing was sent)", hint=exc.hint) from None


def _properties(join: JoinConfig, settings: Settings, idle_timeout: int | None) -> dict[str, Any]:
    """``join.properties`` as sent: the stages a profile leaves out (null) are omitted, and the
    idle timeout asked for (else the profile's, else ``CONVOAI_IDLE_TIMEOUT``) applies."""
    props = {key: value for key, value in join.properties.items() if value is not None}
    if idle_timeout is not None:
        props["idle_timeout"] = idle_timeout
    elif "idle_timeout" not in props and settings.idle_timeout is not None:
        props["idle_timeout"] = settings.idle_timeout
    return props


def _checked(model: Any, data: dict[str, Any]) -> Any:
    """``model.model_validate(data)``; a failure names the fields, never their values."""
    import pydantic

    try:
        return model.model_validate(data)
    except pydantic.ValidationError as exc:
        problems = "; ".join(
            f"{'.'.join(str(p) for p in err['loc'])}: {err['msg']}"
            for err in exc.errors(include_url=False, include_input=False)
        )
        raise ValidationError(
            f"the profile's request is not valid: {problems} (nothing was sent)",
            hint="fix the profile file",
        ) from None


def start_request(
    settings: Settings,
    profile: Profile,
    arguments: Mapping[str, Any],
    *,
    name: str,
    channel: str,
    agent_uid: str,
    user_uid: str,
    idle_timeout: int | None,
) -> StartAgentRequest:
    """The join request for ``profile`` with the overrides in ``arguments`` (the agent's join
    token minted with the App Certificate). Raises :class:`ValidationError`, nothing sent."""
    from convoai_mcp.models import StartAgentRequest
    from convoai_mcp.server import defaults

    join = _join(
        settings,
        profile,
        arguments,
        call=False,
        channel=channel,
        token=defaults.agent_token(settings, channel, agent_uid),
        agent_uid=agent_uid,
        remote_uid=user_uid,
    )
    request: StartAgentRequest = _checked(
        StartAgentRequest,
        {
            "name": name,
            "properties": _properties(join, settings, idle_timeout),
            "preset": join.preset,
            "pipeline_id": join.pipeline_id,
        },
    )
    return request


def call_request(
    settings: Settings,
    profile: Profile,
    arguments: Mapping[str, Any],
    *,
    name: str,
    channel: str,
    agent_uid: str,
    sip_uid: str,
    to_number: str,
    from_number: str,
) -> CallRequest:
    """The outbound call request for ``profile`` (a profile with presets is refused: the call
    endpoint takes none). Both join tokens are minted with the App Certificate (empty without
    one, as for calls without a profile). Raises :class:`ValidationError`, nothing sent."""
    from convoai_mcp.models import CallRequest
    from convoai_mcp.server import defaults

    def token(uid: str) -> str:
        if _certificate(settings) is None:
            return ""
        return defaults.agent_token(settings, channel, uid)

    join = _join(
        settings,
        profile,
        arguments,
        call=True,
        channel=channel,
        token=token(agent_uid),
        agent_uid=agent_uid,
        remote_uid=sip_uid,
    )
    request: CallRequest = _checked(
        CallRequest,
        {
            "name": name,
            "sip": {
                "to_number": to_number,
                "from_number": from_number,
                "rtc_uid": sip_uid,
                "rtc_token": token(sip_uid),
            },
            "properties": _properties(join, settings, None),
            "pipeline_id": join.pipeline_id,
        },
    )
    return request


def listing(settings: Settings) -> dict[str, Any]:
    """What ``list_profiles`` and ``convoai://profiles`` show: every profile's summary (name,
    description, stages and vendors, voice, language, tools given to the agent; never a
    secret) and the default."""
    profiles = settings.profiles
    if profiles is None:
        return {
            "profiles": [],
            "default": None,
            "note": "no profile file is configured: start_agent and call use the server's "
            "configured defaults (CONVOAI_*); the operator adds profiles with CONVOAI_PROFILES",
        }
    note = (
        f"start_agent and call use profile {profiles.default!r} unless another is named"
        if profiles.default is not None
        else "start_agent and call use the server's configured defaults unless a profile is named"
    )
    return {"profiles": profiles.summaries(), "default": profiles.default, "note": note}


def profile_schema(schema: dict[str, Any], settings: Settings) -> dict[str, Any]:
    """A tool's input ``schema`` with the ``profile`` property as the server has it: an enum
    of the configured names, each described with its description; removed when there are no
    profiles (``template_variables`` too, which needs one)."""
    properties = schema.get("properties")
    if not isinstance(properties, dict) or PROFILE_ARGUMENT not in properties:
        return schema
    profiles = settings.profiles
    properties = dict(properties)
    if profiles is None:
        for key in (PROFILE_ARGUMENT, *_NEEDS_PROFILE):
            properties.pop(key, None)
        return {**schema, "properties": properties}
    entry = dict(properties[PROFILE_ARGUMENT])
    entry.pop("anyOf", None)
    names = profiles.names()
    lines = "; ".join(
        f"{name}{' (default)' if name == profiles.default else ''}: "
        + (profiles.profiles[name].description or "no description")
        for name in names
    )
    omitted = (
        f"omit for {profiles.default}" if profiles.default else "omit for the server's defaults"
    )
    entry.update(
        {
            "type": ["string", "null"],
            "enum": [*names, None],
            "description": f"Agent profile to use ({omitted}). {lines}. Not together with "
            "presets, pipeline_id, llm_url, llm_model or tts_vendor.",
        }
    )
    for key in ("pattern", "minLength", "maxLength"):
        entry.pop(key, None)
    properties[PROFILE_ARGUMENT] = entry
    return {**schema, "properties": properties}


def register(server: MCPServer[Any], settings: Settings) -> None:
    """Add the ``convoai://profiles`` resource (:func:`listing` as JSON) to ``server`` when
    there are profiles (without, ``list_profiles`` says so)."""
    import json

    if settings.profiles is None:
        return

    from convoai_mcp.redact import settings_redactor

    redactor = settings_redactor(settings)  # the listing holds no secret; masked all the same

    def profiles() -> str:
        """The agent profiles start_agent and call take by name (never a secret)."""
        return redactor.mask_known(json.dumps(listing(settings), indent=2, ensure_ascii=False))

    server.resource(
        "convoai://profiles",
        name="profiles",
        title="Agent profiles",
        description="The agent profiles the operator configured (name, description, stages "
        "and vendors, voice, language, the agent's tools; no keys): pass a name as profile to "
        "start_agent or call.",
        mime_type="application/json",
    )(profiles)
