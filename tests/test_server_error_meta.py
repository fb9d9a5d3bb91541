"""A failed tool call gives its service error as structured data too (issue 10: request ids and
REST paths belong in structured data): the result's ``_meta`` under ``convoai-mcp/error``, as
the client of the official MCP SDK receives it, with the same text as before."""

from __future__ import annotations

from pathlib import Path

from _server_helpers import error_text, rig
from mcp import Client

from convoai_mcp.sandbox import DEMO_CREDENTIALS, Fault
from convoai_mcp.server.failures import ERROR_META_KEY


async def test_a_service_error_carries_status_reason_request_id_and_path(tmp_path: Path) -> None:
    async with rig(tmp_path) as r, Client(r.server) as client:
        r.sandbox.faults.add(
            Fault(route="agents.start", kind="status", status=403, reason="ServiceNotEnabled")
        )
        result = await client.call_tool("start_agent", {"channel": "room-x"})
    assert result.is_error
    text = error_text(result)
    assert text.startswith("start_agent failed: HTTP 403 ServiceNotEnabled")
    assert result.meta is not None
    data = result.meta[ERROR_META_KEY]
    assert str(data["type"]).endswith("Error")
    assert (data["status"], data["reason"], data["method"]) == (403, "ServiceNotEnabled", "POST")
    assert data["path"] == f"/v2/projects/{DEMO_CREDENTIALS.app_id}/join"
    assert data["request_id"] and f"request id {data['request_id']}" in text
    assert data["maybe_performed"] is False
    assert result.structured_content is None


async def test_a_not_found_agent_is_structured_too(tmp_path: Path) -> None:
    async with rig(tmp_path) as r, Client(r.server) as client:
        result = await client.call_tool("get_agent", {"agent_id": "NOSUCHAGENT"})
    assert result.is_error and result.meta is not None
    data = result.meta[ERROR_META_KEY]
    assert data["status"] == 404
    assert data["method"] == "GET" and "NOSUCHAGENT" in str(data["path"])


async def test_an_argument_error_has_no_service_data(tmp_path: Path) -> None:
    async with rig(tmp_path) as r, Client(r.server) as client:
        result = await client.call_tool("speak", {"agent_id": "A1", "text": ""})
    assert result.is_error
    assert "Invalid arguments for speak" in error_text(result)
    assert not (result.meta or {}).get(ERROR_META_KEY)
