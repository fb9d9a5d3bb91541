"""The calling rules in the call tool's admission, through the MCP Client against the emulator:
every refusal happens before anything is sent and names its rule and setting.

Quiet hours with an injected clock; the per-number cap across a restart (a new server on the
same archive); libphonenumber's validity, fiction outside the sandbox, and costly number types.
"""

from __future__ import annotations

import dataclasses
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from _server_helpers import CALLEE, Rig, error_text, read_json, rig
from mcp import Client

from convoai_mcp.config import Settings

NO_CONFIRM = {"CONVOAI_CONFIRM": "none"}


def calls_sent(r: Rig) -> int:
    with r.sandbox.state.lock:
        return len(r.sandbox.state.calls)


def at(hour: int, minute: int = 0) -> datetime:
    return datetime(2026, 6, 1, hour, minute, tzinfo=UTC)


def set_clock(r: Rig, now: list[datetime]) -> None:
    guard = r.server.runtime.guard
    assert guard.rules is not None
    guard.rules = dataclasses.replace(guard.rules, clock=lambda: now[0])


async def place(client: Client, number: str = CALLEE) -> Any:
    return await client.call_tool("call", {"to_number": number})


async def test_quiet_hours_in_the_callees_local_time(tmp_path: Path) -> None:
    env = {**NO_CONFIRM, "CONVOAI_CALL_HOURS": "08:00-21:00"}
    now = [at(5, 30)]  # 22:30 the evening before in San Francisco (PDT, UTC-7)
    async with rig(tmp_path, env) as r, Client(r.server) as client:
        set_clock(r, now)
        refused = await place(client)
        sent_while_quiet = calls_sent(r)
        now[0] = at(18)  # 11:00 in San Francisco
        placed = await place(client)
        audit = await read_json(client, "convoai://audit")
        sent = calls_sent(r)
    text = error_text(refused)
    assert "quiet hours" in text and "22:30 in America/Los_Angeles" in text
    assert "CONVOAI_CALL_HOURS" in text and "window opens at 2026-06-01 15:00 UTC" in text
    assert sent_while_quiet == 0
    assert not placed.is_error, error_text(placed)
    assert sent == 1
    refusal = audit["entries"][-1]
    assert (refusal["decision"], refusal["rule"], refusal["setting"]) == (
        "refused",
        "quiet_hours",
        "CONVOAI_CALL_HOURS",
    )


async def test_the_daily_cap_counts_across_a_restart(tmp_path: Path) -> None:
    env = {
        **NO_CONFIRM,
        "CONVOAI_CALLS_PER_NUMBER_PER_DAY": "2",
        "CONVOAI_CALL_ALLOWLIST": "+1415555",
    }
    async with rig(tmp_path, env) as r, Client(r.server) as client:
        for _ in range(2):
            placed = await place(client)
            assert not placed.is_error, error_text(placed)
            agent_id = (placed.structured_content or {})["agent_id"]
            assert not (await client.call_tool("hangup", {"agent_id": agent_id})).is_error
    # A new server (and a fresh emulator) on the same archive.
    async with rig(tmp_path, env) as r, Client(r.server) as client:
        refused = await place(client)
        other = await place(client, "+14155550124")  # another number has its own count
        sent = calls_sent(r)
    text = error_text(refused)
    assert "called 2 time(s) in the last 24 hours; the cap is 2" in text
    assert "CONVOAI_CALLS_PER_NUMBER_PER_DAY" in text
    assert not other.is_error, error_text(other)
    assert sent == 1  # only the other number's call


async def test_in_sandbox_mode_hours_and_cap_default_off(tmp_path: Path) -> None:
    settings = Settings.from_env({"AGORA_APP_ID": "0" * 32, "AGORA_APP_CERTIFICATE": "f" * 32})
    live = settings.calling_rules()
    assert live.hours is not None and str(live.hours) == "08:00-21:00"
    assert live.daily_cap == 3 and live.sandbox is False
    sandboxed = settings.model_copy(update={"sandbox": True}).calling_rules()
    assert sandboxed.hours is None and sandboxed.daily_cap is None and sandboxed.sandbox
    async with rig(tmp_path, NO_CONFIRM) as r, Client(r.server) as client:
        for _ in range(4):  # more than the live default cap, at any hour
            placed = await place(client)
            assert not placed.is_error, error_text(placed)
            agent_id = (placed.structured_content or {})["agent_id"]
            await client.call_tool("hangup", {"agent_id": agent_id})


async def test_invalid_fictional_and_costly_numbers_are_refused_before_sending(
    tmp_path: Path,
) -> None:
    env = {**NO_CONFIRM, "CONVOAI_CALL_ALLOWLIST": f"{CALLEE},+1555,+1900"}
    async with rig(tmp_path, env) as r, Client(r.server) as client:
        invalid = await place(client, "+15550001111")  # well shaped, no such range
        premium = await place(client, "+19005550123")
        live_rules = r.settings.model_copy(update={"sandbox": False}).calling_rules()
        r.server.runtime.guard.rules = dataclasses.replace(live_rules, hours=None)
        fiction = await place(client, CALLEE)  # outside the sandbox it reaches no one
        audit = await read_json(client, "convoai://audit")
        sent = calls_sent(r)
    assert "not a valid one" in error_text(invalid)
    text = error_text(premium)
    assert "premium-rate" in text and "CONVOAI_CALL_ALLOW_TYPES=premium_rate" in text
    assert "reserved for fiction" in error_text(fiction)
    assert sent == 0
    rules = [(e["rule"], e["setting"]) for e in audit["entries"]]
    assert rules == [
        ("number_validity", "CONVOAI_DEFAULT_REGION"),
        ("number_type", "CONVOAI_CALL_ALLOW_TYPES"),
        ("number_validity", "CONVOAI_DEFAULT_REGION"),
    ]


async def test_the_allow_list_compares_normalised_numbers(tmp_path: Path) -> None:
    env = {**NO_CONFIRM, "CONVOAI_CALL_ALLOWLIST": "+1415555"}
    async with rig(tmp_path, env) as r, Client(r.server) as client:
        placed = await place(client)
        refused = await place(client, "+442071838750")
    assert not placed.is_error, error_text(placed)
    assert "allow-list" in error_text(refused)


def test_the_banner_names_the_calling_rules() -> None:
    from convoai_mcp.cli import safety_summary
    from convoai_mcp.server.tools import TOOL_NAMES

    base = {"AGORA_APP_ID": "0" * 32, "AGORA_APP_CERTIFICATE": "f" * 32}
    live = Settings.from_env({**base, "CONVOAI_CALL_ALLOWLIST": "+1415"})
    line = safety_summary(live, TOOL_NAMES, TOOL_NAMES)
    assert line.endswith("; call rules: 08:00-21:00 callee's time, 3 per number per day")
    sandboxed = live.model_copy(update={"sandbox": True})
    line = safety_summary(sandboxed, TOOL_NAMES, TOOL_NAMES)
    assert line.endswith("; call rules: any hour, no cap")
    off = safety_summary(Settings.from_env(base), TOOL_NAMES, TOOL_NAMES)
    assert "call rules" not in off  # no calls, no rules to show
