"""The audit trail: every side effect recorded append-only in the archive, with its decision.

The demo's session, a refusal, masked secrets and the client's name through the MCP Client
against the emulator; ``convoai://audit`` and ``convoai-mcp audit`` read it back; the SQLite
table's paging, call counts, retention and read-only opening directly.
"""

from __future__ import annotations

import io
import json
import sqlite3
from pathlib import Path
from typing import Any

import pytest
from _server_helpers import CALLEE, error_text, read_json, rig
from mcp import Client

from convoai_mcp.archive.sqlite import SQLiteArchive
from convoai_mcp.cli import main
from convoai_mcp.demo import run_demo
from convoai_mcp.sandbox import DEMO_CREDENTIALS
from convoai_mcp.server.audit import format_entry

SIDE_EFFECTS = {
    "start_agent",
    "speak",
    "think",
    "call",
    "hangup",
    "stop_agent",
    "start_campaign",
    "campaign_call",  # each call the demo's campaign placed (issue 14)
}


def trail(path: Path) -> list[dict[str, Any]]:
    """Every entry of the archive at ``path``, oldest first (read-only)."""
    archive = SQLiteArchive(path, read_only=True)
    found: list[dict[str, Any]] = []
    cursor = None
    while True:
        page, cursor = archive.list_audit_sync(limit=3, cursor=cursor)
        found += page
        if cursor is None:
            archive.close()
            return found[::-1]


async def test_every_side_effect_of_the_demo_is_recorded_with_its_decision(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    status = await run_demo(io.StringIO(), archive_dir=tmp_path)
    assert status == 0
    path = tmp_path / "demo-archive.sqlite3"
    entries = trail(path)
    tools = [e["tool"] for e in entries]
    assert set(tools) == SIDE_EFFECTS  # the reads (history, turns, numbers) are not side effects
    assert [e["seq"] for e in entries] == sorted(e["seq"] for e in entries)
    by_tool = {e["tool"]: e for e in entries}
    assert all(e["outcome"] == "ok" and e["error"] is None for e in entries), entries
    assert by_tool["start_agent"]["decision"] == "allowed"  # no confirmation configured for it
    call = by_tool["call"]
    # the demo pre-approves its number (no human to approve it): recorded as such
    assert (call["decision"], call["channel"]) == ("approved", "pre_approval")
    assert call["arguments"]["to_number"] == CALLEE and call["placed_number"] == CALLEE
    assert by_tool["hangup"]["agent_id"] == call["agent_id"]
    assert by_tool["stop_agent"]["agent_id"] == by_tool["start_agent"]["agent_id"]
    assert {e["decision"] for e in entries if e["tool"] in ("speak", "think")} == {"allowed"}
    campaign = by_tool["start_campaign"]  # one approval for the whole campaign
    assert (campaign["decision"], campaign["channel"]) == ("approved", "pre_approval")
    dials = [e for e in entries if e["tool"] == "campaign_call"]
    assert len(dials) == 3 and {e["channel"] for e in dials} == {"campaign"}
    assert all(e["placed_number"] == e["arguments"]["to_number"] for e in dials)
    assert all(e["client"] for e in entries)  # the MCP client's name from initialize
    assert all(e["time"].startswith("20") for e in entries)

    capsys.readouterr()
    assert main(["audit", "--archive", str(path), "--json"]) == 0
    lines = [json.loads(line) for line in capsys.readouterr().out.splitlines()]
    assert [e["seq"] for e in lines] == [e["seq"] for e in entries]
    assert main(["audit", "--archive", str(path)]) == 0
    text = capsys.readouterr().out
    assert "call" in text and "approved via" in text and format_entry(entries[0]) in text
    assert main(["audit", "--archive", str(path), "--since", "2999-01-01", "--json"]) == 0
    assert capsys.readouterr().out == ""


async def test_a_refusal_is_recorded_with_its_rule_and_secrets_are_masked(
    tmp_path: Path,
) -> None:
    certificate = DEMO_CREDENTIALS.app_certificate
    async with rig(tmp_path, {"CONVOAI_CONFIRM": "none"}) as r, Client(r.server) as client:
        refused = await client.call_tool("call", {"to_number": "+14155550999"})
        assert "allow-list" in error_text(refused)
        agent_id = (await client.call_tool("start_agent", {"channel": "room"})).structured_content
        assert agent_id is not None
        spoke = await client.call_tool(
            "speak", {"agent_id": agent_id["agent_id"], "text": f"the key is {certificate}"}
        )
        assert not spoke.is_error
        await client.call_tool("get_agent", {"agent_id": agent_id["agent_id"]})
        latest = await read_json(client, "convoai://audit")
    entries = latest["entries"]
    assert [e["tool"] for e in entries] == ["speak", "start_agent", "call"]  # newest first
    call = entries[-1]
    assert (call["decision"], call["rule"], call["setting"]) == (
        "refused",
        "allow_list",
        "CONVOAI_CALL_ALLOWLIST",
    )
    assert call["outcome"] == "error" and "allow-list" in call["error"]
    assert call["placed_number"] is None
    raw = (tmp_path / "archive.sqlite3").read_bytes()
    assert certificate.encode() not in raw
    assert entries[0]["arguments"]["text"] == "the key is ***"
    assert latest["next_cursor"] is None


async def test_the_audit_resource_pages_back(tmp_path: Path) -> None:
    async with rig(tmp_path) as r, Client(r.server) as client:
        started = await client.call_tool("start_agent", {"channel": "room"})
        agent_id = (started.structured_content or {})["agent_id"]
        for i in range(55):
            await client.call_tool("interrupt", {"agent_id": agent_id})
            assert i >= 0
        first = await read_json(client, "convoai://audit")
        older = await read_json(client, first["next"])
        bad = None
        try:
            await client.read_resource("convoai://audit/zzz")
        except Exception as exc:  # the SDK raises the resource error
            bad = str(exc)
    assert len(first["entries"]) == 50 and first["next"].startswith("convoai://audit/a")
    assert [e["tool"] for e in older["entries"]] == ["interrupt"] * 5 + ["start_agent"]
    assert older["next_cursor"] is None
    assert bad is not None and "cursor" in bad


def test_the_sqlite_audit_table(tmp_path: Path) -> None:
    now = [1_000_000.0]
    archive = SQLiteArchive(tmp_path / "a.sqlite3", retention_days=1, clock=lambda: now[0])
    for i in range(5):
        archive.append_audit_sync(
            {"at": now[0] + i, "tool": "call", "placed_number": CALLEE if i % 2 else None}
        )
    assert archive.count_calls_sync(CALLEE, since=now[0]) == 2
    assert archive.count_calls_sync(CALLEE, since=now[0] + 2) == 1
    page, cursor = archive.list_audit_sync(limit=2)
    assert [e["at"] for e in page] == [now[0] + 4, now[0] + 3] and cursor is not None
    rest, end = archive.list_audit_sync(limit=10, cursor=cursor)
    assert len(rest) == 3 and end is None
    since, _ = archive.list_audit_sync(since=now[0] + 3)
    assert len(since) == 2
    with pytest.raises(ValueError, match="cursor"):
        archive.list_audit_sync(cursor="a12; DROP TABLE audit")
    now[0] += 2 * 86400  # past the retention: pruned with the agents
    archive.prune_sync()
    assert archive.list_audit_sync() == ([], None)
    archive.close()

    reader = SQLiteArchive(tmp_path / "a.sqlite3", read_only=True)
    with pytest.raises(sqlite3.OperationalError, match="readonly"):
        reader.append_audit_sync({"tool": "call"})
    reader.close()
    assert main(["audit", "--archive", str(tmp_path / "missing.sqlite3")]) == 2
    assert not (tmp_path / "missing.sqlite3").exists()


class Answer:
    """An elicitation callback that gives one answer."""

    def __init__(self, action: str) -> None:
        self.action = action

    async def __call__(self, context: Any, params: Any) -> Any:
        from mcp_types import ElicitResult

        content = {"confirm": True} if self.action == "accept" else None
        return ElicitResult(action=self.action, content=content)


@pytest.mark.parametrize("mode", ["legacy", "auto"])
async def test_a_form_approval_and_a_decline_are_recorded(tmp_path: Path, mode: str) -> None:
    async with rig(tmp_path) as r:
        async with Client(r.server, mode=mode, elicitation_callback=Answer("accept")) as client:
            placed = await client.call_tool("call", {"to_number": CALLEE})
            assert not placed.is_error, error_text(placed)
        async with Client(r.server, mode=mode, elicitation_callback=Answer("decline")) as client:
            declined = await client.call_tool("call", {"to_number": CALLEE})
            assert declined.is_error
            latest = await read_json(client, "convoai://audit")
    entries = latest["entries"][::-1]  # oldest first
    decisions = [(e["decision"], e["channel"], e["rule"]) for e in entries]
    approved = ("approved", "form", None)
    refused = ("refused", None, "confirmation")
    if mode == "legacy":  # elicitation/create in the middle of the call: one entry each
        assert decisions == [approved, refused]
    else:  # input-required rounds: the first answer of each is 'pending'
        pending = ("pending", None, None)
        assert decisions == [pending, approved, pending, refused]
    assert [e["placed_number"] for e in entries if e["outcome"] == "ok"] == [CALLEE]


def test_an_approval_channel_that_noted_itself_stays_on_record() -> None:
    from convoai_mcp.server import audit

    with audit.tracking() as decision:
        audit.note("approved", channel="url")  # e.g. the approval page, inside the admission
        audit.note("approved", channel="form", unless_noted=True)  # the guard's inference
    assert (decision.decision, decision.channel) == ("approved", "url")
    with audit.tracking() as decision:
        audit.note("allowed", unless_noted=True)
    assert decision.decision == "allowed"
    audit.note("allowed")  # outside a tool call: nothing to record, no error
