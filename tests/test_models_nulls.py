"""The service's nulls are kept where the official SDK keeps them (issue 10: a turn still being
spoken has ``end: null``, and the turns resource dropped the key). The SDK (``agora-agents``
2.12.0) is the oracle: its models dump what the service sent, nulls included, and leave out
what it did not send."""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

import httpx
import pytest
from _server_helpers import CALLEE, read_json
from mcp import Client

from convoai_mcp.config import Settings
from convoai_mcp.models import Turns
from convoai_mcp.sandbox import DEMO_CREDENTIALS, Sandbox
from convoai_mcp.server.app import build_server
from convoai_mcp.server.sandbox_mode import sandbox_settings

sdk_turns = pytest.importorskip("agora_agent.agents.types.get_turns_agents_response")

ANSWER: dict[str, Any] = {
    "agent_id": "A1",
    "channel": "room",
    "total_turn_count": 2,
    "turns": [
        {
            "turn_id": 1,
            "start": {"start_at": 1700000000000, "type": "greeting"},
            "end": {"end_at": 1700000001000, "type": "ok"},
            "metrics": {"e2e_latency_ms": 800},
        },
        {"turn_id": 2, "start": {"start_at": 1700000002000, "type": "voice"}, "end": None},
    ],
}


def _sdk(answer: dict[str, Any]) -> dict[str, Any]:
    model = sdk_turns.GetTurnsAgentsResponse.model_validate(answer)
    data: dict[str, Any] = model.dict()
    return data


def _null_paths(value: Any, path: str = "") -> set[str]:
    if isinstance(value, dict):
        found = {f"{path}.{k}" for k, v in value.items() if v is None}
        for k, v in value.items():
            found |= _null_paths(v, f"{path}.{k}")
        return found
    if isinstance(value, list):
        return set().union(*(_null_paths(v, f"{path}[{i}]") for i, v in enumerate(value)))
    return set()


def test_a_turn_in_progress_keeps_end_null_as_the_sdk_does() -> None:
    ours = Turns.model_validate(ANSWER).as_received()
    assert ours["turns"][1]["end"] is None
    assert "metrics" not in ours["turns"][1]  # not sent: left out, as by the SDK
    assert _null_paths(ours) == _null_paths(_sdk(ANSWER)) == {".turns[1].end"}
    assert ours["turns"][0]["end"] == {"end_at": 1700000001000, "type": "ok"}


def test_request_bodies_still_carry_no_nulls() -> None:
    assert "end" not in Turns.model_validate(ANSWER).to_wire()["turns"][1]


async def test_the_turns_resource_shows_the_turn_being_spoken_with_end_null(
    tmp_path: Path,
) -> None:
    now = [time.time()]
    sandbox = Sandbox(DEMO_CREDENTIALS, answer_delay=0.0, clock=lambda: now[0])
    environ = {
        "CONVOAI_CALL_ALLOWLIST": CALLEE,
        "CONVOAI_ARCHIVE_PATH": str(tmp_path / "archive.sqlite3"),
    }
    async with sandbox.serve("127.0.0.1", 0) as base_url:
        settings = sandbox_settings(Settings.from_env(environ, require_credentials=False), base_url)
        server = build_server(settings, poll_interval=60)
        try:
            async with Client(server) as client:
                started = await client.call_tool("start_agent", {"channel": "nulls"})
                assert started.structured_content is not None
                agent_id = started.structured_content["agent_id"]
                said = await client.call_tool(
                    "speak", {"agent_id": agent_id, "text": "A sentence that takes a while."}
                )
                assert not said.is_error
                now[0] += 0.3  # the turn has begun; its sentence takes seconds to say
                turns = await read_json(client, f"convoai://agents/{agent_id}/turns")
                auth = server.runtime.client.auth.header("", "")
                async with httpx.AsyncClient() as http:
                    raw = (
                        await http.get(
                            f"{base_url}/v2/projects/{DEMO_CREDENTIALS.app_id}/agents/"
                            f"{agent_id}/turns",
                            headers={"Authorization": auth},
                        )
                    ).json()
        finally:
            await server.runtime.aclose()
    spoken = [t for t in turns["turns"] if "end" in t and t["end"] is None]
    assert spoken, turns  # the clock stood still: the sentence is still being spoken
    sdk_nulls = {p.split(".", 2)[-1] for p in _null_paths(_sdk(raw)) if p.startswith(".turns")}
    ours = {p.split(".", 2)[-1] for p in _null_paths(turns) if p.startswith(".turns")}
    assert ours == sdk_nulls
