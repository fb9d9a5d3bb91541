"""The tool registry: one place per tool (function, annotations, order, read-only class)."""

from __future__ import annotations

import subprocess
import sys
import typing
from pathlib import Path

import pytest
from _server_helpers import rig, subprocess_env
from mcp import Client

from convoai_mcp.models import AgentStatus
from convoai_mcp.server import args, registry
from convoai_mcp.server.tools import ALL_TOOLS, ANNOTATIONS, READ_ONLY_TOOLS, TOOL_NAMES


def test_the_registry_is_the_only_list_of_tools() -> None:
    specs = registry.specs()
    assert tuple(s.name for s in specs) == ALL_TOOLS  # the admin tool set included
    assert [s.order for s in specs] == sorted({s.order for s in specs}), "unique, ascending"
    assert {s.name: s.annotations for s in specs} == ANNOTATIONS
    assert {s.name for s in specs if s.read_only} == READ_ONLY_TOOLS


def test_a_second_tool_with_a_taken_name_or_order_is_refused() -> None:
    first = registry.specs()[0]

    async def fresh() -> None:
        """Not a tool."""

    with pytest.raises(RuntimeError, match="already registered"):
        registry.tool(order=first.order, title="x", read_only=True)(fresh)
    fresh.__name__ = first.name
    with pytest.raises(RuntimeError, match="already registered"):
        registry.tool(order=10**9, title="x", read_only=True)(fresh)
    assert registry.specs()[0] == first and len(registry.specs()) == len(ALL_TOOLS)


async def test_read_only_mode_keeps_exactly_the_registrys_read_only_tools(tmp_path: Path) -> None:
    async with rig(tmp_path, {"CONVOAI_READ_ONLY": "true"}) as r, Client(r.server) as client:
        names = [t.name for t in (await client.list_tools()).tools]
    assert names == [n for n in TOOL_NAMES if n in READ_ONLY_TOOLS]
    assert "list_agents" in names and "start_agent" not in names


def test_the_agent_state_argument_spells_the_models_states() -> None:
    assert list(typing.get_args(args.AgentState)) == [s.value for s in AgentStatus]


def test_registering_the_tools_loads_no_client() -> None:
    proc = subprocess.run(
        [
            sys.executable,
            "-c",
            "import sys\n"
            "import convoai_mcp.server.tools\n"
            "heavy = [m for m in ('convoai_mcp.client', 'convoai_mcp.builders', "
            "'convoai_mcp.models', 'httpx') if m in sys.modules]\n"
            "print('HEAVY', heavy)\n",
        ],
        capture_output=True,
        text=True,
        env=subprocess_env(),
        timeout=60,
        check=True,
    )
    assert "HEAVY []" in proc.stdout, proc.stdout
