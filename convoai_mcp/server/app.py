"""``build_server(settings)``: the MCP server wired from tools, resources, prompts and guard."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import TYPE_CHECKING, Any

from mcp.server.mcpserver import Context, MCPServer, RequestStateSecurity
from mcp.server.mcpserver.exceptions import ToolError, UnexpectedToolError
from mcp_types import CallToolResult, InputRequiredResult
from mcp_types import Resource as MCPResource
from mcp_types import Tool as MCPTool
from pydantic import ValidationError

from convoai_mcp import __version__
from convoai_mcp.server.runtime import Runtime

if TYPE_CHECKING:
    from convoai_mcp.client import ConvoAIClient
    from convoai_mcp.config import Settings
    from convoai_mcp.server.events import EventFeed
    from convoai_mcp.server.subscriptions import Subscriptions

__all__ = [
    "PROFILES_INSTRUCTIONS",
    "SERVER_INSTRUCTIONS",
    "SERVER_NAME",
    "ConvoAIServer",
    "build_server",
    "request_state_security",
]

SERVER_NAME = "convoai-mcp"
"""The server's name: also the audience sealed into multi-round-trip ``requestState``, so it is
the same on every replica (state sealed by another service with the same keys is refused)."""

SERVER_INSTRUCTIONS = """\
Voice agents (Agora Conversational AI): start_agent puts an AI voice agent into an RTC channel
and returns a join token for the human participant; speak / think / interrupt steer it;
stop_agent ends it. call places an outbound phone call handled by an agent; hangup ends it.
get_history reads the transcript (kept after the agent ends) and get_turns the per-turn latency
with a summary (also resources: convoai://agents/{agent_id}/history and /turns). To follow an
agent or a call, use wait (until running / answered / ended, or a new history entry or turn after
a cursor) rather than polling get_call or get_history: on a timeout it says "nothing yet", so
call it again with its next_cursor. Agents and calls cost money while they run: stop what you
start when the conversation is over."""

PROFILES_INSTRUCTIONS = """
The operator configured agent profiles: list_profiles shows them (vendors, voice, language);
pass one's name as profile to start_agent or call."""
"""Added to :data:`SERVER_INSTRUCTIONS` when a profile file is configured."""


class ConvoAIServer(MCPServer[Runtime]):
    """MCPServer with the agents this server started in ``resources/list`` and argument
    validation failures rewritten as instructions (field and problem, never the value)."""

    subscriptions: Subscriptions
    """Who subscribed to which history URI (set by :func:`build_server`)."""
    events: EventFeed | None = None
    """The service's event feed (webhooks), while an HTTP transport serves one."""

    def __init__(self, runtime: Runtime, **kwargs: Any) -> None:
        self.runtime = runtime
        super().__init__(**kwargs)

    async def list_resources(self) -> list[MCPResource]:
        """Static resources plus the URIs of the agents and calls started here (every running
        one and the most recently ended ones: :meth:`Runtime.listed`)."""
        resources = await super().list_resources()
        for agent in self.runtime.listed():
            what = "Call to " + (agent.to_number or "?") if agent.kind == "call" else "Agent"
            state = "ended" if agent.ended else "started here"
            base = f"convoai://agents/{agent.agent_id}"
            resources.append(
                MCPResource(
                    uri=base,
                    name=f"{agent.name} status",
                    description=f"{what} in channel {agent.channel} ({state}): status.",
                    mime_type="application/json",
                )
            )
            resources.append(
                MCPResource(
                    uri=f"{base}/history",
                    name=f"{agent.name} history",
                    description=f"{what} in channel {agent.channel} ({state}): transcript. "
                    "Subscribe to be notified of new entries.",
                    mime_type="application/json",
                )
            )
            resources.append(
                MCPResource(
                    uri=f"{base}/turns",
                    name=f"{agent.name} turns",
                    description=f"{what} in channel {agent.channel} ({state}): every turn with "
                    "its end-to-end and per-stage latency.",
                    mime_type="application/json",
                )
            )
            if agent.kind == "call":
                resources.append(
                    MCPResource(
                        uri=f"convoai://calls/{agent.agent_id}",
                        name=f"{agent.name} call record",
                        description=f"Call to {agent.to_number}: state and end reason.",
                        mime_type="application/json",
                    )
                )
        return resources

    async def list_tools(self) -> list[MCPTool]:
        """The tools, with the configured agent profiles as the ``profile`` argument's enum;
        for a caller with an OAuth access token only those its scopes allow (:mod:`.scopes`)."""
        from convoai_mcp.server.profiled import profile_schema
        from convoai_mcp.server.registry import specs
        from convoai_mcp.server.scopes import caller_roles

        settings = self.runtime.settings
        tools = await super().list_tools()
        roles = caller_roles(settings.oauth_scopes)
        if roles is not None:
            needs = {spec.name: spec.scope for spec in specs()}
            tools = [tool for tool in tools if needs.get(tool.name, "read") in roles]
        return [
            tool.model_copy(update={"input_schema": profile_schema(tool.input_schema, settings)})
            for tool in tools
        ]

    async def call_tool(
        self, name: str, arguments: dict[str, Any], context: Context[Runtime, Any] | None = None
    ) -> CallToolResult | InputRequiredResult:
        """Call a tool; an argument-validation failure names each bad field and the rule, and a
        tool's own error text is not prefixed a second time with the tool's name."""
        try:
            return await super().call_tool(name, arguments, context)
        except ToolError as exc:
            cause = exc.__cause__
            if isinstance(exc, UnexpectedToolError):
                raise
            if not isinstance(cause, ValidationError):
                # Our texts name the tool already ("speak failed: ..."): drop the SDK's prefix.
                text = str(exc).removeprefix(f"Error executing tool {name}: ")
                raise ToolError(text) from cause
            problems = "; ".join(
                f"{'.'.join(str(p) for p in err['loc']) or 'arguments'}: {err['msg']}"
                for err in cause.errors(include_url=False, include_input=False)
            )
            raise ToolError(
                f"Invalid arguments for {name}: {problems}. Nothing was sent; fix these "
                f"arguments (see the tool's input schema) and call {name} again."
            ) from cause


def request_state_security(settings: Settings) -> RequestStateSecurity | None:
    """The SDK's policy for sealing ``requestState`` under ``CONVOAI_REQUEST_STATE_KEY`` (shared
    by the replicas: a confirmation asked by one is answered on another); ``None`` (unset): the
    SDK's per-process key, which only the replica that sealed a state can open."""
    keys = settings.request_state_keys()
    if not keys:
        return None
    return RequestStateSecurity(keys=keys)  # the SDK's TTL: a question may be answered for 10 min


def build_server(
    settings: Settings,
    *,
    client: ConvoAIClient | None = None,
    poll_interval: float = 1.0,
) -> ConvoAIServer:
    """A fresh MCP server for ``settings``.

    ``client`` overrides the ConvoAI client (tests pass one pointed at the sandbox; it is then
    never closed by the server). ``poll_interval`` is the history subscription poll period.
    """
    from convoai_mcp.policy import Policy
    from convoai_mcp.server import console, profiled, prompts, resources, subscriptions, tools
    from convoai_mcp.server.campaigns import wiring as campaign_parts
    from convoai_mcp.server.replicas import bus_from_settings

    runtime = Runtime(settings, client, poll_interval=poll_interval)

    @asynccontextmanager
    async def lifespan(_: MCPServer[Runtime]) -> AsyncIterator[Runtime]:
        async with runtime.session() as rt:
            campaign_parts.start(rt)  # running campaigns resume (idempotent)
            yield rt

    server = ConvoAIServer(
        runtime,
        name=SERVER_NAME,
        title="Agora Conversational AI",
        version=__version__,
        instructions=SERVER_INSTRUCTIONS + (PROFILES_INSTRUCTIONS if settings.profiles else ""),
        website_url="https://github.com/convoai-mcp/convoai-mcp",
        lifespan=lifespan,
        log_level=settings.log_level,
        extensions=[console.apps_extension()],  # the console as an MCP App (ui://)
        subscriptions=bus_from_settings(settings),  # PostgreSQL: events reach every replica
        request_state_security=request_state_security(settings),
    )
    # The guard applies the same policy; it (and the client) are created on first use.
    policy = Policy.from_settings(settings, read_only_tools=tools.READ_ONLY_TOOLS)
    visible = policy.visible_tools(tools.ALL_TOOLS)
    tools.register(server, visible)
    resources.register(server)
    profiled.register(server, settings)
    prompts.register(server)
    server.subscriptions = subscriptions.register(server, runtime)
    campaign_parts.register(server, runtime, server.subscriptions)
    return server
