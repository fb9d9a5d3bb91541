"""The ``admin`` tool set (phone-number administration) through the MCP ``Client`` against the
emulator: hidden unless the operator turns it on, annotated truthfully, and the tools that change
or remove a number go ahead only on a human's approval (nothing reaches the emulator before),
each call recorded in the audit trail.

Whether a change was sent is read from the emulator itself: a zero-delay latency fault on the
route counts every request that reaches it (``hits``), and the project's numbers are its state.
"""

from __future__ import annotations

from pathlib import Path

import mcp_types as types
import pytest
from _server_helpers import BY_ARGUMENT, OUTBOUND, Rig, error_text, read_json, rig
from mcp import Client
from mcp.client.context import ClientRequestContext

from convoai_mcp.cli import safety_summary
from convoai_mcp.config import Settings
from convoai_mcp.errors import ConfigError
from convoai_mcp.policy import ADMIN_CONFIRMED, ADMIN_TOOLS, TOOL_SETS, Policy
from convoai_mcp.sandbox.faults import Fault
from convoai_mcp.server import registry
from convoai_mcp.server.tools import ALL_TOOLS, READ_ONLY_TOOLS, TOOL_NAMES

MODES = ["legacy", "auto"]
"""legacy: a 2025-11-25 handshake connection; auto: a 2026-07-28 connection."""

ADMIN = {"CONVOAI_TOOLS_ALLOW": "default,admin"}
NEW = "+14155550177"
INBOUND_LINE = "+14155550101"


class Elicitor:
    """A client with form elicitation whose user answers ``action``."""

    def __init__(self, action: str = "accept") -> None:
        self.action = action
        self.asked: list[str] = []

    async def __call__(
        self, context: ClientRequestContext, params: types.ElicitRequestParams
    ) -> types.ElicitResult:
        assert isinstance(params, types.ElicitRequestFormParams)
        self.asked.append(params.message)
        content = {"confirm": True} if self.action == "accept" else None
        return types.ElicitResult(action=self.action, content=content)


def witness(r: Rig, route: str) -> Fault:
    """A fault that changes nothing and counts the requests for ``route`` that reach it."""
    return r.sandbox.faults.add(Fault(route=route, kind="latency", delay=0.0))


async def listed(r: Rig) -> list[str]:
    async with Client(r.server) as client:
        return [t.name for t in (await client.list_tools()).tools]


# -- exposure -------------------------------------------------------------------------------


def test_the_admin_set_is_the_registrys_admin_tools() -> None:
    """One list of the admin tools (policy), each of them registered, none of them default."""
    assert TOOL_SETS["admin"] == frozenset(ADMIN_TOOLS)
    assert set(ADMIN_TOOLS) <= set(ALL_TOOLS)
    assert not set(ADMIN_TOOLS) & set(TOOL_NAMES)
    assert {"update_number", "delete_number"} == ADMIN_CONFIRMED
    assert [n for n in ALL_TOOLS if n not in ADMIN_TOOLS] == list(TOOL_NAMES)


def test_the_admin_tools_are_annotated_truthfully() -> None:
    hints = {
        s.name: (
            s.annotations.read_only_hint,
            s.annotations.destructive_hint,
            s.annotations.idempotent_hint,
        )
        for s in registry.specs()
    }
    assert hints["get_number"] == (True, False, True)
    assert hints["add_number"] == (False, False, False)  # a second add is refused (409)
    assert hints["update_number"] == (False, True, True)
    assert hints["delete_number"] == (False, True, True)
    assert "get_number" in READ_ONLY_TOOLS and "delete_number" not in READ_ONLY_TOOLS


async def test_the_admin_tools_are_hidden_by_default_and_cannot_be_called(
    tmp_path: Path,
) -> None:
    async with rig(tmp_path) as r:
        assert await listed(r) == list(TOOL_NAMES)
        hits = witness(r, "numbers.delete")
        async with Client(r.server) as client:
            refused = await client.call_tool("delete_number", {"phone_number": OUTBOUND})
        assert refused.is_error and "delete_number" in error_text(refused)
        assert hits.hits == 0 and OUTBOUND in r.sandbox.state.numbers


@pytest.mark.parametrize(
    ("env", "expected"),
    [
        (ADMIN, list(ALL_TOOLS)),
        ({"CONVOAI_TOOLS_ALLOW": "admin"}, list(ADMIN_TOOLS)),
        ({"CONVOAI_TOOLS_ALLOW": "list_numbers,get_number"}, ["list_numbers", "get_number"]),
        ({**ADMIN, "CONVOAI_TOOLS_DENY": "admin"}, list(TOOL_NAMES)),
        (
            {**ADMIN, "CONVOAI_TOOLS_DENY": "delete_number"},
            [n for n in ALL_TOOLS if n != "delete_number"],
        ),
        ({**ADMIN, "CONVOAI_READ_ONLY": "true"}, [n for n in ALL_TOOLS if n in READ_ONLY_TOOLS]),
    ],
)
async def test_the_operator_turns_the_admin_tools_on(
    tmp_path: Path, env: dict[str, str], expected: list[str]
) -> None:
    async with rig(tmp_path, env) as r:
        assert await listed(r) == expected


def test_a_misspelt_tool_set_stops_the_server() -> None:
    with pytest.raises(ConfigError, match="did you mean admin"):
        Policy(tools_allow=frozenset({"default", "admni"})).visible_tools(ALL_TOOLS)


def test_the_banner_counts_the_admin_tools_and_their_confirmation() -> None:
    settings = Settings.from_env({**ADMIN, "AGORA_APP_ID": "0" * 32}, require_credentials=False)
    line = safety_summary(settings, list(ALL_TOOLS), list(ALL_TOOLS))
    assert f"tools: all {len(ALL_TOOLS)} exposed" in line
    assert "confirmation: call, delete_number, update_number" in line


# -- delete ---------------------------------------------------------------------------------


@pytest.mark.parametrize("mode", MODES)
async def test_delete_without_approval_is_refused_and_sends_nothing(
    tmp_path: Path, mode: str
) -> None:
    """A client without elicitation: the refusal carries the approval link; the model's
    confirm=true does not count; no DELETE reaches the emulator."""
    async with rig(tmp_path, ADMIN) as r:
        hits = witness(r, "numbers.delete")
        async with Client(r.server, mode=mode) as client:
            refused = await client.call_tool(
                "delete_number", {"phone_number": OUTBOUND, "confirm": True}
            )
            text = error_text(refused)
            assert "needs a human's approval" in text and "/approve/" in text
            entries = (await read_json(client, "convoai://audit"))["entries"]
        assert hits.hits == 0 and OUTBOUND in r.sandbox.state.numbers
    assert entries[0]["tool"] == "delete_number"
    assert entries[0]["decision"] == "refused" and entries[0]["outcome"] == "error"


@pytest.mark.parametrize("mode", MODES)
async def test_delete_declined_by_the_user_sends_nothing(tmp_path: Path, mode: str) -> None:
    no = Elicitor("decline")
    async with rig(tmp_path, ADMIN) as r:
        hits = witness(r, "numbers.delete")
        async with Client(r.server, mode=mode, elicitation_callback=no) as client:
            refused = await client.call_tool("delete_number", {"phone_number": OUTBOUND})
        assert "not confirmed by the user" in error_text(refused)
        assert len(no.asked) == 1 and OUTBOUND in no.asked[0] and "Sandbox outbound" in no.asked[0]
        assert hits.hits == 0 and OUTBOUND in r.sandbox.state.numbers


@pytest.mark.parametrize("mode", MODES)
async def test_delete_with_approval_removes_the_number_and_is_audited(
    tmp_path: Path, mode: str
) -> None:
    yes = Elicitor("accept")
    async with rig(tmp_path, ADMIN) as r:
        async with Client(r.server, mode=mode, elicitation_callback=yes) as client:
            deleted = await client.call_tool("delete_number", {"phone_number": OUTBOUND})
            assert not deleted.is_error, deleted
            assert deleted.structured_content == {
                "phone_number": OUTBOUND,
                "deleted": True,
                "label": "Sandbox outbound line",
            }
            assert OUTBOUND not in r.sandbox.state.numbers
            again = await client.call_tool("delete_number", {"phone_number": OUTBOUND})
            assert "is not one of the account's phone numbers" in error_text(again)
            assert len(yes.asked) == 1  # the missing number was refused before asking
            entries = (await read_json(client, "convoai://audit"))["entries"]
    done = entries[1]
    assert (done["tool"], done["decision"], done["channel"], done["outcome"]) == (
        "delete_number",
        "approved",
        "form",
        "ok",
    )
    assert done["arguments"]["phone_number"] == OUTBOUND


async def test_a_headless_operator_may_let_confirm_count(tmp_path: Path) -> None:
    async with rig(tmp_path, {**ADMIN, **BY_ARGUMENT}) as r, Client(r.server) as client:
        asked = await client.call_tool("delete_number", {"phone_number": OUTBOUND})
        assert "confirm=true" in error_text(asked)
        assert OUTBOUND in r.sandbox.state.numbers
        done = await client.call_tool("delete_number", {"phone_number": OUTBOUND, "confirm": True})
        assert not done.is_error and OUTBOUND not in r.sandbox.state.numbers


# -- add, get, update -----------------------------------------------------------------------


async def test_add_get_update_and_clear_a_pipeline(tmp_path: Path) -> None:
    yes = Elicitor("accept")
    async with rig(tmp_path, ADMIN) as r, Client(r.server, elicitation_callback=yes) as client:
        added = await client.call_tool(
            "add_number",
            {
                "phone_number": NEW,
                "label": "Support line",
                "inbound": True,
                "allowed_addresses": ["112.126.15.64/27"],
            },
        )
        assert not added.is_error, added
        assert len(yes.asked) == 0  # adding changes nothing that exists: not gated
        stored = r.sandbox.state.numbers[NEW]
        assert stored["inbound_config"] == {"allowed_addresses": ["112.126.15.64/27"]}
        twice = await client.call_tool("add_number", {"phone_number": NEW, "label": "Again"})
        assert twice.is_error and "409" in error_text(twice)

        attached = await client.call_tool(
            "update_number", {"phone_number": NEW, "inbound_pipeline_id": "pl_support"}
        )
        assert not attached.is_error, attached
        assert attached.structured_content is not None
        assert attached.structured_content["inbound_pipeline_id"] == "pl_support"
        assert attached.structured_content["changed"] == ["inbound_pipeline"]
        assert "attach pl_support" in yes.asked[-1]
        got = await client.call_tool("get_number", {"phone_number": NEW})
        assert got.structured_content is not None
        assert got.structured_content["pipeline_id"] == "pl_support"

        cleared = await client.call_tool(
            "update_number", {"phone_number": NEW, "clear_inbound": True}
        )
        assert cleared.structured_content is not None
        assert cleared.structured_content["inbound_pipeline_id"] is None
        assert "pipeline_id" not in r.sandbox.state.numbers[NEW].get("inbound_config", {})
        assert len(yes.asked) == 2
        entries = (await read_json(client, "convoai://audit"))["entries"]
    # newest first; on this (2026-07-28) connection each change was first answered with the
    # question (pending), then approved
    assert [(e["tool"], e["decision"], e["outcome"]) for e in entries] == [
        ("update_number", "approved", "ok"),
        ("update_number", "pending", "input_required"),
        ("update_number", "approved", "ok"),
        ("update_number", "pending", "input_required"),
        ("add_number", "allowed", "error"),
        ("add_number", "allowed", "ok"),
    ]


async def test_update_declined_or_contradictory_sends_nothing(tmp_path: Path) -> None:
    no = Elicitor("decline")
    async with rig(tmp_path, ADMIN) as r, Client(r.server, elicitation_callback=no) as client:
        hits = witness(r, "numbers.update")
        refused = await client.call_tool(
            "update_number", {"phone_number": INBOUND_LINE, "inbound_pipeline_id": "pl_1"}
        )
        assert "not confirmed" in error_text(refused)
        both = await client.call_tool(
            "update_number",
            {"phone_number": INBOUND_LINE, "inbound_pipeline_id": "pl_1", "clear_inbound": True},
        )
        assert "contradict" in error_text(both)
        nothing = await client.call_tool("update_number", {"phone_number": INBOUND_LINE})
        assert "nothing to change" in error_text(nothing)
        missing = await client.call_tool(
            "update_number", {"phone_number": NEW, "clear_inbound": True}
        )
        assert "not one of the account's phone numbers" in error_text(missing)
        assert len(no.asked) == 1 and hits.hits == 0
        assert "associated_pipeline" not in r.sandbox.state.numbers[INBOUND_LINE]


async def test_a_sip_address_with_credentials_is_refused_before_sending(tmp_path: Path) -> None:
    async with rig(tmp_path, ADMIN) as r, Client(r.server) as client:
        hits = witness(r, "numbers.add")
        refused = await client.call_tool(
            "add_number",
            {"phone_number": NEW, "label": "L", "sip_address": "user:pw@sip.example.com"},
        )
        assert refused.is_error and "sip_address" in error_text(refused)
        assert hits.hits == 0 and NEW not in r.sandbox.state.numbers
