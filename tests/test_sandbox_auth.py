"""The sandbox checks Basic credentials and AccessToken2 tokens for real."""

from __future__ import annotations

import base64
import zlib
from collections.abc import AsyncIterator

import httpx
import pytest

from convoai_mcp.sandbox import DEMO_CREDENTIALS, Sandbox, SandboxCredentials
from convoai_mcp.tokens import mint_convoai_token, mint_rtc_token

CREDS = SandboxCredentials(
    app_id="970CA35de60c44645bbae8a215061b33",
    app_certificate="5CFd2fd1755d40ecb72977518be15d3b",
    customer_id="cust-123",
    customer_secret="s3cret-value",
)
APP = CREDS.app_id
P = f"/v2/projects/{APP}"
T0 = 1_800_000_000.0


def basic(customer_id: str = CREDS.customer_id, secret: str = CREDS.customer_secret) -> str:
    return "Basic " + base64.b64encode(f"{customer_id}:{secret}".encode()).decode()


def token(
    channel: str = "room-1",
    uid: int | str = 1001,
    *,
    app_id: str = CREDS.app_id,
    certificate: str = CREDS.app_certificate,
    issue_ts: int = int(T0),
    lifetime: int = 3600,
) -> str:
    return mint_convoai_token(
        app_id, certificate, channel, uid, issue_ts=issue_ts, lifetime=lifetime
    )


def start_body(channel: str = "room-1", uid: str = "1001") -> dict[str, object]:
    return {
        "name": f"agent-{channel}-{uid}",
        "preset": "deepgram_nova_3,openai_gpt_4o_mini,openai_tts_1",
        "properties": {
            "channel": channel,
            "token": token(channel, uid),
            "agent_rtc_uid": uid,
            "remote_rtc_uids": ["*"],
        },
    }


@pytest.fixture
async def base_url() -> AsyncIterator[str]:
    sb = Sandbox(CREDS, clock=lambda: T0 + 60)
    async with sb.serve() as url:
        yield url


async def call(base_url: str, headers: dict[str, str], path: str = f"{P}/agents") -> httpx.Response:
    async with httpx.AsyncClient(base_url=base_url) as c:
        return await c.get(path, headers=headers)


def tampered(value: str) -> str:
    """Flip one byte of the signed content and re-compress, keeping the token well-formed."""
    raw = bytearray(zlib.decompress(base64.b64decode(value[3:])))
    raw[-1] ^= 0x01
    return "007" + base64.b64encode(zlib.compress(bytes(raw))).decode()


async def test_basic_and_token_are_accepted(base_url: str) -> None:
    for auth in (basic(), f"agora token={token()}", f"agora token={token('stop', 0)}"):
        r = await call(base_url, {"Authorization": auth})
        assert r.status_code == 200, (auth[:12], r.text)


@pytest.mark.parametrize(
    ("headers", "reason"),
    [
        ({}, "MissingAuthorization"),
        ({"Authorization": ""}, "MissingAuthorization"),
        ({"Authorization": "Bearer abc"}, "InvalidAuthorization"),
        ({"Authorization": "Basic !!!notbase64"}, "InvalidAuthorization"),
        (
            {"Authorization": "Basic " + base64.b64encode(b"no-colon").decode()},
            "InvalidAuthorization",
        ),
        ({"Authorization": basic(secret="wrong")}, "InvalidCredentials"),
        ({"Authorization": basic(customer_id="other")}, "InvalidCredentials"),
        ({"Authorization": "agora token="}, "InvalidToken"),
    ],
)
async def test_rejections_are_401_with_reason(
    base_url: str, headers: dict[str, str], reason: str
) -> None:
    """The reason is InvalidPermission (the SDK declares no 401 reason of its own); what was
    wrong is in ``auth_error``."""
    r = await call(base_url, headers)
    assert r.status_code == 401
    body = r.json()
    assert (body["reason"], body["auth_error"]) == ("InvalidPermission", reason)
    assert body["detail"]
    assert CREDS.customer_secret not in r.text
    assert r.headers["x-request-id"]


@pytest.mark.parametrize(
    ("value", "token_error"),
    [
        (tampered(token()), "bad_signature"),
        (token(certificate="0" * 32), "bad_signature"),
        (token(app_id=DEMO_CREDENTIALS.app_id), "wrong_app_id"),
        (token(issue_ts=int(T0) - 7200, lifetime=600), "expired"),
        ("006abcdef", "bad_version"),
        ("007%%%%", "bad_base64"),
        ("007" + base64.b64encode(b"not zlib").decode(), "bad_zlib"),
    ],
)
async def test_bad_tokens_are_401_with_token_error(
    base_url: str, value: str, token_error: str
) -> None:
    r = await call(base_url, {"Authorization": f"agora token={value}"})
    assert r.status_code == 401
    assert (r.json()["reason"], r.json()["auth_error"]) == ("InvalidPermission", "InvalidToken")
    assert r.json()["token_error"] == token_error


async def test_telephony_routes_reject_in_their_error_shape(base_url: str) -> None:
    r = await call(base_url, {}, f"{P}/call")
    assert r.status_code == 401
    assert r.json()["error_type"] == "InvalidPermission"
    assert r.json()["auth_error"] == "MissingAuthorization"
    assert r.json()["description"]
    r = await call(base_url, {"Authorization": ""}, "/v2/phone-numbers")
    assert r.status_code == 401
    assert set(r.json()) >= {"error_type", "description"}


async def test_join_token_must_match_body_channel_and_uid(base_url: str) -> None:
    async with httpx.AsyncClient(base_url=base_url) as c:
        ok = await c.post(
            f"{P}/join", json=start_body(), headers={"Authorization": f"agora token={token()}"}
        )
        assert ok.status_code == 200, ok.text
        other_channel = await c.post(
            f"{P}/join",
            json=start_body("room-2"),
            headers={"Authorization": f"agora token={token('room-1')}"},
        )
        assert other_channel.status_code == 401
        assert other_channel.json()["token_error"] == "wrong_channel"
        other_uid = await c.post(
            f"{P}/join",
            json=start_body("room-3", "1001"),
            headers={"Authorization": f"agora token={token('room-3', 2002)}"},
        )
        assert other_uid.status_code == 401
        assert other_uid.json()["token_error"] == "wrong_uid"
        rtc_any = mint_rtc_token(APP, CREDS.app_certificate, "room-4", 0, issue_ts=int(T0))
        any_uid = await c.post(
            f"{P}/join",
            json=start_body("room-4", "1001"),
            headers={"Authorization": f"agora token={rtc_any}"},
        )
        assert any_uid.status_code == 200  # uid 0 (account "") may join as anyone


async def test_body_join_token_is_verified(base_url: str) -> None:
    body = start_body()
    body["properties"]["token"] = token("elsewhere")  # type: ignore[index]
    async with httpx.AsyncClient(base_url=base_url, headers={"Authorization": basic()}) as c:
        r = await c.post(f"{P}/join", json=body)
    assert r.status_code == 400
    assert r.json()["reason"] == "InvalidFieldValue"
    assert "properties.token" in r.json()["detail"]
    assert "wrong_channel" in r.json()["detail"]


async def test_path_app_id_must_be_the_project(base_url: str) -> None:
    other = f"/v2/projects/{DEMO_CREDENTIALS.app_id}/agents"
    r = await call(base_url, {"Authorization": basic()}, other)
    assert r.status_code == 403
    assert r.json()["reason"] == "InvalidPermission"
    unauthenticated = await call(base_url, {}, other)
    assert unauthenticated.status_code == 401  # authentication is checked first


def test_credentials_from_env_fall_back_to_demo() -> None:
    env = {"AGORA_APP_ID": CREDS.app_id, "AGORA_CUSTOMER_SECRET": "  "}
    creds = SandboxCredentials.from_env(env)
    assert creds.app_id == CREDS.app_id
    assert creds.app_certificate == DEMO_CREDENTIALS.app_certificate
    assert creds.customer_secret == DEMO_CREDENTIALS.customer_secret
    assert SandboxCredentials.from_env({}) == DEMO_CREDENTIALS
    assert SandboxCredentials.from_env({}).is_demo


def test_secrets_stay_out_of_repr_and_describe() -> None:
    assert CREDS.app_certificate not in repr(CREDS)
    assert CREDS.customer_secret not in repr(CREDS)
    shown = CREDS.describe()
    assert shown["AGORA_APP_ID"] == CREDS.app_id
    assert CREDS.app_certificate not in shown["AGORA_APP_CERTIFICATE"]
    assert CREDS.customer_secret not in shown["AGORA_CUSTOMER_SECRET"]
    demo = DEMO_CREDENTIALS.describe()
    assert demo["AGORA_APP_CERTIFICATE"] == DEMO_CREDENTIALS.app_certificate
    for value in (DEMO_CREDENTIALS.app_id, DEMO_CREDENTIALS.app_certificate):
        assert len(value) == 32
        int(value, 16)
