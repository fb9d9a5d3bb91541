"""The emulator's notification callbacks (sandbox/webhooks.py) against an independent receiver on
loopback: what is sent and in which order, signed like the service (checked here with hmac, not
with the server's code), JSON like the spec's examples, each with its own noticeId, retried on
the emulator's clock at most three times; and ``convoai-mcp sandbox --webhook-url``."""

from __future__ import annotations

import asyncio
import base64
import hashlib
import hmac
import json
import os
import signal
import sys
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

import anyio
import httpx
import pytest

from convoai_mcp.sandbox import DEMO_CREDENTIALS, Sandbox
from convoai_mcp.sandbox.cli import main
from convoai_mcp.sandbox.runner import serve
from convoai_mcp.sandbox.validation import AgentConfig
from convoai_mcp.tokens import mint_convoai_token

SECRET = "sandbox_hook-42"
CREDS = DEMO_CREDENTIALS
P = f"/v2/projects/{CREDS.app_id}"
AUTH = {
    "Authorization": "Basic "
    + base64.b64encode(f"{CREDS.customer_id}:{CREDS.customer_secret}".encode()).decode()
}
REPO = Path(__file__).resolve().parents[1]
INBOUND = "+14155550101"


class Receiver:
    """Records every POST; answers the statuses in ``answers`` first, then 200."""

    def __init__(self, answers: list[int] | None = None) -> None:
        self.answers = list(answers or [])
        self.received: list[tuple[dict[str, str], bytes]] = []
        self.arrived = anyio.Event()

    async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
        assert scope["type"] == "http"
        body = b""
        while True:
            message = await receive()
            body += message.get("body", b"")
            if not message.get("more_body"):
                break
        headers = {k.decode().lower(): v.decode() for k, v in scope["headers"]}
        self.received.append((headers, body))
        self.arrived.set()
        status = self.answers.pop(0) if self.answers else 200
        await send({"type": "http.response.start", "status": status, "headers": []})
        await send({"type": "http.response.body", "body": b""})

    def notices(self) -> list[dict[str, Any]]:
        out = []
        for headers, body in self.received:
            key = SECRET.encode()
            assert headers["agora-signature"] == hmac.new(key, body, hashlib.sha1).hexdigest()
            v2 = hmac.new(key, body, hashlib.sha256).hexdigest()
            assert headers["agora-signature-v2"] == v2
            assert headers["content-type"] == "application/json"
            notice = json.loads(body)
            out.append(notice)
        return out


@asynccontextmanager
async def receiving(answers: list[int] | None = None) -> AsyncIterator[tuple[Receiver, str]]:
    receiver = Receiver(answers)
    async with serve(receiver) as root:
        yield receiver, root + "/hooks"


def start_body(name: str) -> dict[str, object]:
    return {
        "name": name,
        "preset": "openai_gpt_4o_mini,openai_tts_1",
        "properties": {
            "channel": "hooked",
            "token": mint_convoai_token(CREDS.app_id, CREDS.app_certificate, "hooked", 1001),
            "agent_rtc_uid": "1001",
            "remote_rtc_uids": ["*"],
            "llm": {"greeting_message": "hello"},
            "labels": {"crm": "42"},
        },
    }


async def test_a_session_is_reported_in_order_signed_and_shaped_like_the_spec() -> None:
    sandbox = Sandbox(CREDS)
    async with receiving() as (receiver, url), sandbox.serve() as base_url:
        sender = sandbox.deliver_webhooks(url, SECRET)
        async with httpx.AsyncClient(base_url=base_url, headers=AUTH) as api:
            started = await api.post(f"{P}/join", json=start_body("hooked"))
            assert started.status_code == 200, started.text
            agent_id = started.json()["agent_id"]
            sandbox.state.advance(30)  # the greeting is over
            assert (await api.post(f"{P}/agents/{agent_id}/leave")).status_code == 200
        await sender.flush()
        notices = receiver.notices()
    assert [n["eventType"] for n in notices] == [101, 112, 111, 102, 103]
    for notice in notices:
        assert set(notice) == {"noticeId", "productId", "eventType", "notifyMs", "payload"}
        assert notice["productId"] == 17
        assert isinstance(notice["notifyMs"], int)
        payload = notice["payload"]
        assert payload["agent_id"] == agent_id and payload["channel"] == "hooked"
        assert payload["labels"] == {"crm": "42"}
        assert isinstance(payload["ts"], int)
    assert len({n["noticeId"] for n in notices}) == len(notices)
    joined, turns, metrics, left, history = (n["payload"] for n in notices)
    assert joined["status"] == "RUNNING"
    assert [t["start"]["type"] for t in turns["turns"]] == ["greeting"]
    assert metrics["metrics"][0]["turn_id"] == 1
    assert (left["status"], left["message"]) == ("STOPPED", "stopped by a leave request")
    assert [e["content"] for e in history["contents"]] == ["hello"]
    assert [p["ts"] for p in (joined, left)] == sorted(p["ts"] for p in (joined, left))


async def test_calls_report_their_state_answered_then_hangup() -> None:
    sandbox = Sandbox(CREDS)
    async with receiving() as (receiver, url):
        sender = sandbox.deliver_webhooks(url, SECRET)
        call_id = sandbox.state.inbound_call("+14155550123", INBOUND)["agent_id"]
        await sender.flush()
        sandbox.state.hangup(call_id)
        await sender.flush()
        notices = receiver.notices()
    states = [
        (n["payload"]["state"], n["payload"].get("reason"))
        for n in notices
        if n["eventType"] == 201
    ]
    assert states == [("answered", None), ("hangup", "request")]
    numbers = {
        (n["payload"]["from_number"], n["payload"]["to_number"])
        for n in notices
        if n["eventType"] == 201
    }
    assert numbers == {("+14155550123", INBOUND)}
    types = [n["eventType"] for n in notices]
    assert types.index(101) < types.index(102) < types.index(103)


async def test_a_refused_delivery_is_retried_three_times_on_the_clock_then_dropped() -> None:
    sandbox = Sandbox(CREDS)
    async with receiving([503, 500, 502, 503]) as (receiver, url):
        sender = sandbox.deliver_webhooks(url, SECRET)
        config = AgentConfig(name="x", channel="room", agent_uid="1", remote_uids=["2"], token="")
        sandbox.state.start_agent(config)
        attempts: list[int] = []
        for step in (0, 4.9, 0.1, 19.9, 0.1, 60, 3600):  # retries after 5, 20 and 60 s
            sandbox.state.advance(step)
            await sender.flush()
            attempts.append(len(receiver.received))
        notices = receiver.notices()
    assert attempts == [1, 1, 2, 2, 3, 4, 4]
    assert {n["noticeId"] for n in notices} == {notices[0]["noticeId"]}  # the same notice
    stamps = [n["notifyMs"] for n in notices]
    assert stamps == sorted(stamps) and len(set(stamps)) == 4  # a new notifyMs on each retry
    assert not sender.pending and not sender.delivered
    assert [d.attempts for d in sender.failed] == [4]


async def test_an_unreachable_url_is_retried_like_a_refusal() -> None:
    sandbox = Sandbox(CREDS)
    async with receiving() as (receiver, url):
        sender = sandbox.deliver_webhooks("http://127.0.0.1:9/closed", SECRET)
        sender.timeout = 5
        sandbox.state.start_agent(
            AgentConfig(name="y", channel="room", agent_uid="1", remote_uids=["2"], token="")
        )
        await sender.flush()
        assert [d.attempts for d in sender.pending] == [1]
        sender.url = url  # reachable again
        sandbox.state.advance(5)
        await sender.flush()
    assert [d.attempts for d in sender.delivered] == [2]
    assert len(receiver.received) == 1


# ------------------------------------------------------------------------------ command line


@pytest.mark.parametrize(
    ("argv", "problem"),
    [
        (["--webhook-url", "ftp://127.0.0.1/h", "--webhook-secret", "abcdefgh"], "http://"),
        (["--webhook-url", "http://127.0.0.1:9/h"], "needs --webhook-secret"),
        (["--webhook-url", "http://127.0.0.1:9/h", "--webhook-secret", "short"], "7..32"),
        (["--webhook-url", "http://127.0.0.1:9/h", "--webhook-secret", "has spaces!"], "7..32"),
    ],
)
def test_the_command_line_refuses_bad_webhook_options(
    argv: list[str],
    problem: str,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    monkeypatch.delenv("CONVOAI_WEBHOOK_SECRET", raising=False)
    with pytest.raises(SystemExit) as info:
        main(["--port", "0", *argv])
    assert info.value.code == 2
    err = capsys.readouterr().err
    assert problem in err
    assert argv[-1] not in err  # neither the secret nor the URL is echoed


@pytest.mark.slow
async def test_the_command_line_delivers_to_the_url_it_was_given() -> None:
    """``convoai-mcp sandbox --webhook-url`` (the secret from CONVOAI_WEBHOOK_SECRET): an inbound
    call through the admin endpoint is reported to the receiver, signed."""
    async with receiving() as (receiver, url):
        env = {k: v for k, v in os.environ.items() if not k.startswith(("AGORA_", "CONVOAI_"))}
        env.update({"PYTHONPATH": str(REPO), "CONVOAI_WEBHOOK_SECRET": SECRET})
        proc = await asyncio.create_subprocess_exec(
            sys.executable,
            "-m",
            "convoai_mcp.sandbox",
            "--port",
            "0",
            "--admin",
            "--webhook-url",
            url,
            stdout=asyncio.subprocess.PIPE,
            stderr=asyncio.subprocess.PIPE,
            env=env,
        )
        assert proc.stdout is not None
        lines: list[str] = []
        try:
            with anyio.fail_after(30):
                while not any(line.startswith("# (emulated") for line in lines):
                    raw = await proc.stdout.readline()
                    assert raw, lines
                    lines.append(raw.decode().rstrip("\n"))
                base_url = next(
                    line.split("=", 1)[1]
                    for line in lines
                    if line.startswith("export CONVOAI_BASE_URL=")
                )
                root = base_url.split("/api/", 1)[0]
                async with httpx.AsyncClient() as http:
                    answer = await http.post(
                        f"{root}/_sandbox/calls/inbound",
                        json={"from_number": "+14155550123", "to_number": INBOUND},
                    )
                    assert answer.status_code == 201
                while True:
                    arrived = receiver.arrived = anyio.Event()
                    if any(n["eventType"] == 201 for n in receiver.notices()):
                        break
                    await arrived.wait()
        finally:
            proc.send_signal(signal.SIGTERM)
            code = await asyncio.wait_for(proc.wait(), timeout=30)
    assert code == 0
    assert any(
        line.startswith(f"# webhooks: signed notification callbacks POSTed to {url}")
        for line in lines
    )
    assert not any(SECRET in line for line in lines)
