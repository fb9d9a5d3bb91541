"""Serving: shared state across instances (regions), bounded memory, the command line."""

from __future__ import annotations

import asyncio
import base64
import os
import signal
import sys
from pathlib import Path

import httpx
import pytest

from convoai_mcp.sandbox import DEMO_CREDENTIALS, Fault, Sandbox, SandboxState
from convoai_mcp.sandbox.cli import main
from convoai_mcp.sandbox.runner import is_loopback
from convoai_mcp.tokens import mint_convoai_token

CREDS = DEMO_CREDENTIALS
P = f"/v2/projects/{CREDS.app_id}"
AUTH = {
    "Authorization": "Basic "
    + base64.b64encode(f"{CREDS.customer_id}:{CREDS.customer_secret}".encode()).decode()
}
REPO = Path(__file__).resolve().parents[1]


def start_body(name: str) -> dict[str, object]:
    return {
        "name": name,
        "preset": "openai_gpt_4o_mini,openai_tts_1",
        "properties": {
            "channel": "shared",
            "token": mint_convoai_token(CREDS.app_id, CREDS.app_certificate, "shared", 1001),
            "agent_rtc_uid": "1001",
            "remote_rtc_uids": ["*"],
            "llm": {"greeting_message": "hello"},
        },
    }


async def test_two_instances_share_one_state() -> None:
    state = SandboxState(seed=3)
    us_west, us_east = Sandbox(CREDS, state=state), Sandbox(CREDS, state=state)
    async with us_west.serve() as west, us_east.serve() as east:
        assert west != east
        async with httpx.AsyncClient(headers=AUTH) as c:
            r = await c.post(f"{west}{P}/join", json=start_body("roaming"))
            agent_id = r.json()["agent_id"]
            got = await c.get(f"{east}{P}/agents/{agent_id}")
            assert got.status_code == 200
            assert got.json()["agent_id"] == agent_id
            dup = await c.post(f"{east}{P}/join", json=start_body("roaming"))
            assert dup.status_code == 409  # one project, whichever region is asked
            us_west.faults.add(Fault(route="*", kind="status", status=503))
            assert (await c.get(f"{west}{P}/agents")).status_code == 503
            assert (await c.get(f"{east}{P}/agents")).json()["meta"]["total"] == 1
            assert (await c.post(f"{east}{P}/agents/{agent_id}/leave")).status_code == 200


def _current(sb: Sandbox) -> str | None:
    return sb.base_url


async def test_serve_twice_in_a_row_and_base_url() -> None:
    sb = Sandbox(CREDS)
    for _ in range(2):
        async with sb.serve("127.0.0.1", 0) as url:
            assert url.startswith("http://127.0.0.1:")
            assert url.endswith("/api/conversational-ai-agent")
            assert sb.base_url == url
            async with httpx.AsyncClient() as c:
                assert (await c.get(f"{url}/v2/phone-numbers", headers=AUTH)).status_code == 200
        assert _current(sb) is None
        with pytest.raises(httpx.ConnectError):
            async with httpx.AsyncClient() as c:
                await c.get(f"{url}/v2/phone-numbers", headers=AUTH)


async def test_port_in_use_raises_oserror() -> None:
    first = Sandbox(CREDS)
    async with first.serve() as url:
        port = int(url.split(":")[2].split("/")[0])
        with pytest.raises(OSError):
            async with Sandbox(CREDS).serve(port=port):
                pass


def test_state_is_bounded() -> None:
    clock = [1_800_000_000.0]
    state = SandboxState(clock=lambda: clock[0], max_agents=5, max_active=3)
    sb = Sandbox(CREDS, state=state)
    from convoai_mcp.sandbox.validation import validate_join_body

    def config(name: str) -> object:
        body = start_body(name)
        return validate_join_body(body)

    for i in range(20):
        agent = state.start_agent(config(f"a{i}"))  # type: ignore[arg-type]
        clock[0] += 1
        state.stop_agent(agent["agent_id"])
    assert len(state.agents) <= 5
    for i in range(3):
        state.start_agent(config(f"live{i}"))  # type: ignore[arg-type]
    with pytest.raises(Exception, match="at most 3 agents") as info:
        state.start_agent(config("one-too-many"))  # type: ignore[arg-type]
    assert getattr(info.value, "status", None) == 429
    assert sb.state is state


def test_turns_expire_after_seven_days() -> None:
    state = SandboxState(clock=lambda: 1_800_000_000.0)
    from convoai_mcp.sandbox.validation import validate_join_body

    agent_id = state.start_agent(validate_join_body(start_body("old")))["agent_id"]
    state.stop_agent(agent_id)
    assert state.turns(agent_id)["total_turn_count"] == 1
    state.advance(8 * 86400)
    state.start_agent(validate_join_body(start_body("new")))  # eviction runs on writes
    with pytest.raises(Exception, match="not found"):
        state.turns(agent_id)


@pytest.mark.parametrize(
    ("host", "expected"),
    [("127.0.0.1", True), ("127.0.0.2", True), ("::1", True), ("[::1]", True), ("localhost", True),
     ("0.0.0.0", False), ("192.168.1.2", False), ("example.com", False)],
)  # fmt: skip
def test_is_loopback(host: str, expected: bool) -> None:
    assert is_loopback(host) is expected


def test_cli_refuses_public_host_without_flag(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["--host", "0.0.0.0", "--port", "0"]) == 2
    assert "--allow-remote" in capsys.readouterr().err


async def _run_cli(
    extra_env: dict[str, str], *args: str, auth: dict[str, str] = AUTH
) -> tuple[list[str], int]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("AGORA_")}
    env.update(extra_env)
    env["PYTHONPATH"] = str(REPO)
    proc = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "convoai_mcp.sandbox",
        "--port",
        "0",
        *args,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
        env=env,
    )
    assert proc.stdout is not None
    lines: list[str] = []
    try:
        while not any(line.startswith("# (emulated") for line in lines):
            raw = await asyncio.wait_for(proc.stdout.readline(), timeout=30)
            if not raw:
                break
            lines.append(raw.decode().rstrip("\n"))
        settings = dict(
            line.removeprefix("export ").split("=", 1)
            for line in lines
            if line.startswith("export ")
        )
        base_url = settings["CONVOAI_BASE_URL"]
        async with httpx.AsyncClient() as c:
            r = await c.get(f"{base_url}{P}/agents", headers=auth)
            lines.append(f"probe={r.status_code}")
    finally:
        proc.send_signal(signal.SIGTERM)
        code = await asyncio.wait_for(proc.wait(), timeout=30)
    return lines, code


@pytest.mark.slow
async def test_cli_prints_base_url_and_demo_credentials_and_serves() -> None:
    lines, code = await _run_cli({}, "--admin")
    assert code == 0
    assert lines[0].startswith("# convoai-mcp sandbox listening")
    exports = [line for line in lines if line.startswith("export ")]
    assert exports[0].startswith("export CONVOAI_BASE_URL=http://127.0.0.1:")
    assert exports[0].endswith("/api/conversational-ai-agent")
    assert f"export AGORA_APP_ID={CREDS.app_id}" in lines
    assert f"export AGORA_APP_CERTIFICATE={CREDS.app_certificate}" in lines
    assert f"export AGORA_CUSTOMER_ID={CREDS.customer_id}" in lines
    assert f"export AGORA_CUSTOMER_SECRET={CREDS.customer_secret}" in lines
    assert any(line.startswith("# admin endpoint: http://127.0.0.1:") for line in lines)
    assert all(line.startswith(("export ", "# ")) or line == "probe=200" for line in lines)
    assert "probe=200" in lines


@pytest.mark.slow
async def test_cli_takes_credentials_from_env_and_masks_secrets() -> None:
    secret = "a-very-private-secret"
    auth = "Basic " + base64.b64encode(f"me:{secret}".encode()).decode()
    lines, code = await _run_cli(
        {"AGORA_CUSTOMER_ID": "me", "AGORA_CUSTOMER_SECRET": secret},
        auth={"Authorization": auth},
    )
    assert code == 0
    assert not any(secret in line for line in lines)
    assert any(line.startswith("# AGORA_CUSTOMER_SECRET=a-ve…") for line in lines)
    assert not any(line.startswith("export AGORA_CUSTOMER_SECRET") for line in lines)
    assert "probe=200" in lines  # the same id and secret are accepted


def test_cli_refuses_malformed_env_credentials(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("AGORA_APP_ID", "not-an-app-id")
    assert main(["--port", "0"]) == 2
    assert "AGORA_APP_ID" in capsys.readouterr().err
    monkeypatch.setenv("AGORA_APP_ID", CREDS.app_id)
    monkeypatch.setenv("AGORA_APP_CERTIFICATE", "x" * 31)
    assert main(["--port", "0"]) == 2
    err = capsys.readouterr().err
    assert "31 characters" in err
    assert "x" * 31 not in err


@pytest.mark.parametrize("argv", [["--port", "70000"], ["--start-delay", "-1"]])
def test_cli_rejects_bad_options(argv: list[str]) -> None:
    with pytest.raises(SystemExit) as info:
        main(argv)
    assert info.value.code == 2
