"""The console as an MCP App, through the SDK's ``Client``: the ``ui://`` resource reads as
``text/html;profile=mcp-app``, ``tools/list`` carries the reference on start_agent, call,
get_agent, get_call and the campaign tools (and only there), the server advertises the
extension, and the tools' results are the same for a host with Apps and one without."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

from _server_helpers import BY_ARGUMENT, CALLEE, error_text, rig
from mcp import Client
from mcp.client.extension import ClientExtension
from mcp.server.apps import APP_MIME_TYPE, EXTENSION_ID

from convoai_mcp.server.console import UI_URI, console_html
from convoai_mcp.server.results import AgentResult, CallResult, CallStarted, StartAgentResult

KEYLESS_TTS = {"CONVOAI_TTS_VENDOR": "openai", "CONVOAI_TTS_PARAMS": '{"voice": "alloy"}'}
"""A TTS for the call that the emulator's stage validation takes without a vendor key."""
UI_TOOLS = (
    {"start_agent", "call", "get_agent", "get_call"}
    | {f"{verb}_campaign" for verb in ("start", "get", "pause", "resume", "cancel")}
    | {"list_campaigns"}
)


class AppsHost(ClientExtension):
    """What a host that renders MCP Apps advertises."""

    identifier = EXTENSION_ID

    def settings(self) -> dict[str, Any]:
        return {"mimeTypes": [APP_MIME_TYPE]}


async def test_the_ui_resource_reads_as_an_app(tmp_path: Path) -> None:
    async with rig(tmp_path) as r, Client(r.server) as client:
        listed = {str(res.uri): res for res in (await client.list_resources()).resources}
        assert listed[UI_URI].mime_type == APP_MIME_TYPE
        result = await client.read_resource(UI_URI)
    (content,) = result.contents
    assert content.mime_type == APP_MIME_TYPE
    page = getattr(content, "text", "")
    assert page == console_html()
    assert 'data-api=""' in page  # no API of its own: it talks to the host
    # self-contained: nothing is loaded from elsewhere (hosts' CSP forbids it)
    assert not re.search(r"<(script|link|img|iframe)[^>]+(src|href)=", page)
    assert "@import" not in page and "url(" not in page
    assert len(page.encode()) < 40_000


async def test_tools_list_carries_the_ui_reference(tmp_path: Path) -> None:
    async with rig(tmp_path) as r, Client(r.server) as client:
        tools = (await client.list_tools()).tools
        capabilities = client.server_capabilities
    with_ui = {t.name for t in tools if (t.meta or {}).get("ui", {}).get("resourceUri") == UI_URI}
    assert with_ui == UI_TOOLS
    assert all(not (t.meta or {}).get("ui") for t in tools if t.name not in UI_TOOLS)
    assert capabilities.extensions is not None and EXTENSION_ID in capabilities.extensions


async def test_results_are_the_same_with_and_without_apps(tmp_path: Path) -> None:
    async with (
        rig(tmp_path, {**BY_ARGUMENT, **KEYLESS_TTS}) as r,
        Client(r.server) as plain,
        Client(r.server, extensions=[AppsHost()]) as host,
    ):
        # both wait for a state that stays, so the two reads below see the same one
        started = await plain.call_tool(
            "start_agent", {"channel": "app-room", "wait_until_running": True}
        )
        assert not started.is_error, error_text(started)
        assert started.structured_content is not None
        assert set(started.structured_content) <= set(StartAgentResult.model_fields)
        agent_id = started.structured_content["agent_id"]
        placed = await host.call_tool(
            "call", {"to_number": CALLEE, "confirm": True, "wait_until_answered": True}
        )
        assert not placed.is_error, error_text(placed)
        assert placed.structured_content is not None
        assert set(placed.structured_content) <= set(CallStarted.model_fields)
        call_id = placed.structured_content["agent_id"]
        for name, args, model in (
            ("get_agent", {"agent_id": agent_id}, AgentResult),
            ("get_call", {"agent_id": call_id}, CallResult),
        ):
            without = await plain.call_tool(name, args)
            with_apps = await host.call_tool(name, args)
            assert not without.is_error, error_text(without)
            assert without.structured_content == with_apps.structured_content
            assert without.content == with_apps.content
            assert without.structured_content is not None
            model.model_validate(without.structured_content)
