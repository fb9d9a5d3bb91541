"""``POST /webhooks/agora`` over real HTTP: signed deliveries (HMAC-SHA256 / HMAC-SHA1 of the raw
body) accepted, unsigned and mis-signed ones refused, repeats answered as duplicates, unknown
event types accepted, outside the bearer token."""

from __future__ import annotations

import hashlib
import hmac
import json
from pathlib import Path

import httpx
import pytest
from _http_server import served

from convoai_mcp.config import Settings
from convoai_mcp.errors import ConfigError
from convoai_mcp.server.transports.webhooks import WEBHOOK_PATH, AgoraWebhooks

SECRET = "whsec_canary-0123"
ENV = {"CONVOAI_WEBHOOK_SECRET": SECRET}


def notice(notice_id: str, event_type: int = 101, notify_ms: int = 1_700_000_000_000) -> bytes:
    body = {
        "noticeId": notice_id,
        "productId": 17,
        "eventType": event_type,
        "notifyMs": notify_ms,
        "payload": {"agent_id": "agent-1", "channel": "room", "labels": {"crm": "42"}},
    }
    return json.dumps(body, separators=(",", ":")).encode()


def signed(
    body: bytes, *, v2: bool = True, v1: bool = True, secret: str = SECRET
) -> dict[str, str]:
    headers = {"content-type": "application/json"}
    if v2:
        headers["Agora-Signature-V2"] = hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()
    if v1:
        headers["Agora-Signature"] = hmac.new(secret.encode(), body, hashlib.sha1).hexdigest()
    return headers


async def deliver(http: httpx.AsyncClient, body: bytes, headers: dict[str, str]) -> httpx.Response:
    return await http.post(WEBHOOK_PATH, content=body, headers=headers)


async def test_a_signed_delivery_is_accepted_without_the_bearer_token(tmp_path: Path) -> None:
    async with served(tmp_path, ENV) as (_, http):
        body = notice("n-1")
        answer = await deliver(http, body, signed(body))
        assert answer.status_code == 200
        assert answer.json() == {"status": "ok"}
        only_v1 = notice("n-2", 102)
        assert (await deliver(http, only_v1, signed(only_v1, v2=False))).json()["status"] == "ok"
        only_v2 = notice("n-3", 112)
        assert (await deliver(http, only_v2, signed(only_v2, v1=False))).json()["status"] == "ok"
        assert (await http.post("/mcp", json={})).status_code == 401  # the rest needs the token


async def test_unsigned_and_mis_signed_deliveries_are_refused(tmp_path: Path) -> None:
    async with served(tmp_path, ENV) as (_, http):
        body = notice("n-1")
        assert (await deliver(http, body, {"content-type": "application/json"})).status_code == 401
        wrong = signed(body, secret="another-secret")
        assert (await deliver(http, body, wrong)).status_code == 401
        tampered = notice("n-1", 102)  # signed for one body, sent with another
        assert (await deliver(http, tampered, signed(body))).status_code == 401
        bad_v2 = {**signed(body), "Agora-Signature-V2": "0" * 64}  # V2 wins over a valid V1
        refused = await deliver(http, body, bad_v2)
        assert refused.status_code == 401
        assert SECRET not in refused.text
        # none of them was taken: the genuine delivery is still new
        assert (await deliver(http, body, signed(body))).json() == {"status": "ok"}


async def test_a_replayed_notice_is_a_duplicate_and_order_does_not_matter(tmp_path: Path) -> None:
    async with served(tmp_path, ENV) as (_, http):
        later = notice("n-2", 102, notify_ms=1_700_000_005_000)
        earlier = notice("n-1", 101, notify_ms=1_700_000_000_000)
        assert (await deliver(http, later, signed(later))).json() == {"status": "ok"}
        assert (await deliver(http, earlier, signed(earlier))).json() == {"status": "ok"}
        for _ in range(3):  # the service's retries
            again = await deliver(http, later, signed(later))
            assert again.status_code == 200  # answered 200, or the service retries again
            assert again.json() == {"status": "duplicate"}


async def test_an_unknown_event_type_is_accepted_and_ignored(tmp_path: Path) -> None:
    async with served(tmp_path, ENV) as (_, http):
        body = notice("n-9", 1001)
        answer = await deliver(http, body, signed(body))
        assert answer.status_code == 200
        assert answer.json() == {"status": "ignored"}
        assert (await deliver(http, body, signed(body))).json() == {"status": "duplicate"}


async def test_a_signed_body_that_is_no_notification_is_a_bad_request(tmp_path: Path) -> None:
    async with served(tmp_path, ENV) as (_, http):
        for body in (b"not json", b"[1, 2]", b'{"eventType": 101}'):
            assert (await deliver(http, body, signed(body))).status_code == 400


async def test_only_post_and_bounded_bodies(tmp_path: Path) -> None:
    async with served(tmp_path, {**ENV, "CONVOAI_MAX_BODY_BYTES": "2048"}) as (_, http):
        got = await http.get(WEBHOOK_PATH)
        assert got.status_code == 405 and got.headers["allow"] == "POST"
        big = json.dumps({"noticeId": "n-big", "payload": {"x": "y" * 4096}}).encode()
        assert (await deliver(http, big, signed(big))).status_code == 413


async def test_without_a_secret_there_is_no_public_webhook_endpoint(tmp_path: Path) -> None:
    async with served(tmp_path) as (_, http):
        body = notice("n-1")
        assert (await deliver(http, body, signed(body))).status_code == 401  # the bearer token


def test_the_deduplication_memory_is_bounded(monkeypatch: pytest.MonkeyPatch) -> None:
    from convoai_mcp.server.transports import webhooks

    monkeypatch.setattr(webhooks, "REMEMBERED", 3)
    hooks = AgoraWebhooks(b"secret-x")
    for i in range(5):
        fresh, _ = hooks.accept({"noticeId": f"n-{i}", "eventType": 101})
        assert fresh
    assert len(hooks._seen) == 3
    assert not hooks.accept({"noticeId": "n-4"})[0]  # recent ones are still known


@pytest.mark.parametrize("value", ["q7Zp2", "x" * 6])
def test_a_short_webhook_secret_is_refused(value: str) -> None:
    with pytest.raises(ConfigError, match="CONVOAI_WEBHOOK_SECRET is too short") as info:
        Settings.from_env({"CONVOAI_WEBHOOK_SECRET": value}, require_credentials=False)
    assert value not in str(info.value)
