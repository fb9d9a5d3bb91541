"""The OAuth resource server's token check (convoai_mcp.server.transports.oauth) against a
local issuer on loopback (tests/_issuer.py): its metadata and JWKS are really fetched, the
tokens really signed (RSA and EC). The configuration's refusals and the scope table too."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import logging
import time
from collections.abc import Iterator
from typing import Any

import jwt
import pytest
from _issuer import Issuer, SigningKey, issuer, new_ec_key, new_rsa_key
from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat
from mcp.server.auth.provider import AccessToken

from convoai_mcp.config import Settings
from convoai_mcp.errors import ConfigError
from convoai_mcp.server import scopes
from convoai_mcp.server.registry import specs
from convoai_mcp.server.transports.oauth import (
    REFRESH_MIN_INTERVAL,
    JWKSCache,
    JWTVerifier,
    OAuthConfig,
    TokenRefused,
    console_needs,
)

RESOURCE = "https://mcp.example.com/mcp"
BASE = {
    "AGORA_APP_ID": "0123456789abcdef0123456789abcdef",
    "AGORA_APP_CERTIFICATE": "fedcba9876543210fedcba9876543210",
}


@pytest.fixture(scope="module")
def rsa_key() -> SigningKey:
    return new_rsa_key("rsa-1")


@pytest.fixture(scope="module")
def rsa_key_2() -> SigningKey:
    return new_rsa_key("rsa-2", alg="PS256")


@pytest.fixture(scope="module")
def ec_key() -> SigningKey:
    return new_ec_key("ec-1")


@pytest.fixture
def local(rsa_key: SigningKey, ec_key: SigningKey) -> Iterator[Issuer]:
    with issuer(audience=RESOURCE) as state:
        state.publish(rsa_key, ec_key)
        yield state


class Clock:
    """Monotonic seconds the test moves."""

    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def verifier_for(
    state: Issuer, clock: Clock | None = None, *, jwks: bool = True, audience: str = RESOURCE
) -> JWTVerifier:
    config = OAuthConfig(
        issuer=state.url,
        resource=RESOURCE,
        audience=audience,
        jwks_url=state.jwks_url if jwks else None,
    )
    keys = JWKSCache(config, clock=clock or Clock())
    return JWTVerifier(config, keys)


async def refused(verifier: JWTVerifier, token: str) -> str:
    with pytest.raises(TokenRefused) as info:
        await verifier.verify(token)
    assert await verifier.verify_token(token) is None  # the SDK's TokenVerifier face
    return str(info.value)


# ------------------------------------------------------------------------ valid tokens


@pytest.mark.parametrize("which", ["rsa", "ec"])
async def test_a_valid_token_gives_its_identity_and_scopes(
    local: Issuer, rsa_key: SigningKey, ec_key: SigningKey, which: str
) -> None:
    verifier = verifier_for(local)
    key = rsa_key if which == "rsa" else ec_key
    token = local.token(key, scope="convoai:read convoai:agents")
    info = await verifier.verify(token)
    assert isinstance(info, AccessToken)
    assert info.subject == "user-alice"
    assert info.client_id == "client-app-1"
    assert info.scopes == ["convoai:read", "convoai:agents"]
    assert info.resource == RESOURCE
    assert info.claims == {"iss": local.url}
    assert await verifier.verify_token(token) == info
    await verifier.keys.aclose()


async def test_scp_lists_azp_and_an_audience_list_are_understood(
    local: Issuer, rsa_key: SigningKey
) -> None:
    verifier = verifier_for(local)
    token = local.token(
        rsa_key,
        scope=None,
        scp=["convoai:calls"],
        client_id=None,
        azp="spa-client",
        aud=["https://other.example", RESOURCE + "/"],
    )
    info = await verifier.verify(token)
    assert (info.scopes, info.client_id, info.resource) == (
        ["convoai:calls"],
        "spa-client",
        RESOURCE + "/",
    )


async def test_keys_come_from_the_issuers_metadata_when_no_jwks_url_is_set(
    local: Issuer, rsa_key: SigningKey
) -> None:
    verifier = verifier_for(local, jwks=False)
    assert (await verifier.verify(local.token(rsa_key))).subject == "user-alice"
    assert local.requests["/.well-known/oauth-authorization-server"] == 1
    assert local.requests["/jwks.json"] == 1


async def test_metadata_naming_another_issuer_is_not_trusted(
    local: Issuer, rsa_key: SigningKey
) -> None:
    local.metadata_issuer = "https://evil.example"
    verifier = verifier_for(local, jwks=False)
    assert "could not be fetched" in await refused(verifier, local.token(rsa_key))
    assert local.requests["/jwks.json"] == 0


# ------------------------------------------------------------------------ refused tokens


async def test_expired_and_not_yet_valid_tokens_are_refused(
    local: Issuer, rsa_key: SigningKey
) -> None:
    verifier = verifier_for(local)
    now = int(time.time())
    assert "expired" in await refused(verifier, local.token(rsa_key, exp=now - 120))
    assert "not valid yet" in await refused(verifier, local.token(rsa_key, nbf=now + 600))
    assert "no exp claim" in await refused(verifier, local.token(rsa_key, exp=None))
    # Within the leeway (30 s) a token just past its expiry still counts.
    assert await verifier.verify(local.token(rsa_key, exp=now - 5))


async def test_a_token_for_another_resource_or_issuer_is_refused(
    local: Issuer, rsa_key: SigningKey
) -> None:
    verifier = verifier_for(local)
    assert "another resource" in await refused(
        verifier, local.token(rsa_key, aud="https://other.example/mcp")
    )
    assert "no aud claim" in await refused(verifier, local.token(rsa_key, aud=None))
    assert "another issuer" in await refused(
        verifier, local.token(rsa_key, iss="https://login.evil.example")
    )


async def test_a_configured_audience_replaces_the_resource_url(
    local: Issuer, rsa_key: SigningKey
) -> None:
    verifier = verifier_for(local, audience="api://convoai")
    assert await verifier.verify(local.token(rsa_key, aud="api://convoai"))
    assert "another resource" in await refused(verifier, local.token(rsa_key))


async def test_a_bad_signature_and_an_unknown_key_are_refused(
    local: Issuer, rsa_key: SigningKey
) -> None:
    verifier = verifier_for(local)
    stranger = new_ec_key("ec-1")  # the published kid, another key
    assert "does not verify" in await refused(verifier, local.token(stranger))
    unknown = new_ec_key("nobody")
    assert "does not publish" in await refused(verifier, local.token(unknown))
    assert "not a JWT" in await refused(verifier, "not-a-token")


def _unsigned(claims: dict[str, Any], header: dict[str, Any]) -> str:
    def part(value: dict[str, Any]) -> str:
        return base64.urlsafe_b64encode(json.dumps(value).encode()).rstrip(b"=").decode()

    return f"{part(header)}.{part(claims)}."


async def test_alg_none_and_hs256_with_the_public_key_are_refused(
    local: Issuer, rsa_key: SigningKey
) -> None:
    verifier = verifier_for(local)
    claims = jwt.decode(local.token(rsa_key), options={"verify_signature": False})
    none = _unsigned(claims, {"alg": "none", "kid": "rsa-1"})
    assert "algorithm 'none' is not accepted" in await refused(verifier, none)
    # The classic confusion: an HMAC keyed with the published public key.
    public_pem = rsa_key.private.public_key().public_bytes(
        encoding=Encoding.PEM, format=PublicFormat.SubjectPublicKeyInfo
    )
    header = base64.urlsafe_b64encode(b'{"alg":"HS256","kid":"rsa-1","typ":"JWT"}').rstrip(b"=")
    body = base64.urlsafe_b64encode(json.dumps(claims).encode()).rstrip(b"=")
    mac = hmac.new(public_pem, header + b"." + body, hashlib.sha256).digest()
    forged = (header + b"." + body + b"." + base64.urlsafe_b64encode(mac).rstrip(b"=")).decode()
    assert "HS256" in await refused(verifier, forged)


async def test_the_algorithm_must_fit_the_key(
    local: Issuer, rsa_key: SigningKey, ec_key: SigningKey
) -> None:
    verifier = verifier_for(local)
    # An EC-signed token whose header names the RSA key.
    forged = jwt.encode(
        {"iss": local.url, "aud": RESOURCE, "exp": int(time.time()) + 60},
        ec_key.private,
        algorithm="ES256",
        headers={"kid": "rsa-1"},
    )
    assert "not a key for ES256" in await refused(verifier, forged)
    # RSA key published for RS256, token signed PS256 with the same key.
    ps = jwt.encode(
        {"iss": local.url, "aud": RESOURCE, "exp": int(time.time()) + 60},
        rsa_key.private,
        algorithm="PS256",
        headers={"kid": "rsa-1"},
    )
    assert "not the one its key is for" in await refused(verifier, ps)


async def test_symmetric_and_encryption_keys_in_the_set_are_ignored(
    local: Issuer, rsa_key: SigningKey
) -> None:
    secret = base64.urlsafe_b64encode(b"s" * 32).rstrip(b"=").decode()
    local.keys = [
        {"kty": "oct", "kid": "hmac", "k": secret, "alg": "HS256"},
        {**rsa_key.jwk, "use": "enc"},
    ]
    verifier = verifier_for(local)
    hs = jwt.encode(
        {"iss": local.url, "aud": RESOURCE, "exp": int(time.time()) + 60},
        b"s" * 32,
        algorithm="HS256",
        headers={"kid": "hmac"},
    )
    assert "does not publish" in await refused(verifier, hs)
    assert "does not publish" in await refused(verifier, local.token(rsa_key))


# ------------------------------------------------------------------------ key rotation


async def test_a_new_kid_is_fetched_at_once_then_not_again_for_a_while(
    local: Issuer, rsa_key: SigningKey, rsa_key_2: SigningKey
) -> None:
    clock = Clock()
    verifier = verifier_for(local, clock)
    assert await verifier.verify(local.token(rsa_key))
    assert local.requests["/jwks.json"] == 1
    # Unknown key ids right after a fetch do not make the server fetch again (rate limit) ...
    for _ in range(5):
        await refused(verifier, local.token(new_ec_key("made-up")))
    assert local.requests["/jwks.json"] == 1
    # ... and the issuer rotates a new key in: once the interval passed, it is fetched at once.
    local.publish(rsa_key, rsa_key_2)
    clock.now += REFRESH_MIN_INTERVAL
    info = await verifier.verify(local.token(rsa_key_2, sub="user-bob"))
    assert info.subject == "user-bob"
    assert local.requests["/jwks.json"] == 2
    assert await verifier.verify(local.token(rsa_key))  # known keys need no fetch
    assert local.requests["/jwks.json"] == 2


async def test_a_key_removed_by_the_issuer_is_refused_after_the_next_fetch(
    local: Issuer, rsa_key: SigningKey, rsa_key_2: SigningKey
) -> None:
    clock = Clock()
    verifier = verifier_for(local, clock)
    old = local.token(rsa_key)
    assert await verifier.verify(old)
    local.publish(rsa_key_2)  # rsa-1 retired
    clock.now += 3600  # the keys' maximum age: fetched again on the next request
    assert "does not publish" in await refused(verifier, old)
    assert await verifier.verify(local.token(rsa_key_2))
    assert local.requests["/jwks.json"] == 2


async def test_an_unreachable_issuer_keeps_the_keys_it_had(
    rsa_key: SigningKey,
) -> None:
    clock = Clock()
    with issuer(audience=RESOURCE) as state:
        state.publish(rsa_key)
        verifier = verifier_for(state, clock)
        token = state.token(rsa_key)
        assert await verifier.verify(token)
    clock.now += 3600  # stale, and the issuer is gone
    assert await verifier.verify(token)
    await verifier.keys.aclose()


async def test_no_key_set_at_all_says_so(rsa_key: SigningKey) -> None:
    with issuer(audience=RESOURCE) as state:
        url = state.url
        token = state.token(rsa_key)
    config = OAuthConfig(issuer=url, resource=RESOURCE, audience=RESOURCE, jwks_url=url + "/j")
    verifier = JWTVerifier(config, JWKSCache(config, clock=Clock()))
    assert "could not be fetched" in await refused(verifier, token)


async def test_refusals_never_log_the_token(
    local: Issuer, rsa_key: SigningKey, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    verifier = verifier_for(local)
    tokens = [
        local.token(rsa_key, exp=int(time.time()) - 600),
        local.token(rsa_key, aud="https://x.example"),
        local.token(new_ec_key("zz")),
        local.token(rsa_key),
    ]
    for token in tokens:
        await verifier.verify_token(token)
    assert "access token refused" in caplog.text
    for token in tokens:
        for piece in token.split("."):
            assert piece not in caplog.text


# ------------------------------------------------------------------------ configuration


@pytest.mark.parametrize(
    ("env", "named"),
    [
        ({"CONVOAI_OAUTH_RESOURCE": RESOURCE}, "CONVOAI_OAUTH_ISSUER"),
        ({"CONVOAI_OAUTH_ISSUER": "https://login.example.com"}, "CONVOAI_OAUTH_RESOURCE"),
        (
            {
                "CONVOAI_OAUTH_ISSUER": "http://login.example.com",
                "CONVOAI_OAUTH_RESOURCE": RESOURCE,
            },
            "CONVOAI_OAUTH_ISSUER",
        ),
        (
            {"CONVOAI_OAUTH_ISSUER": "https://l.example", "CONVOAI_OAUTH_RESOURCE": "ftp://x"},
            "CONVOAI_OAUTH_RESOURCE",
        ),
        (
            {
                "CONVOAI_OAUTH_ISSUER": "https://l.example",
                "CONVOAI_OAUTH_RESOURCE": RESOURCE,
                "CONVOAI_OAUTH_JWKS_URL": "http://keys.example/jwks",
            },
            "CONVOAI_OAUTH_JWKS_URL",
        ),
        (
            {
                "CONVOAI_OAUTH_ISSUER": "https://l.example",
                "CONVOAI_OAUTH_RESOURCE": RESOURCE,
                "CONVOAI_OAUTH_SCOPES": "reed=mcp.read",
            },
            "CONVOAI_OAUTH_SCOPES",
        ),
        (
            {
                "CONVOAI_OAUTH_ISSUER": "https://l.example",
                "CONVOAI_OAUTH_RESOURCE": RESOURCE,
                "CONVOAI_OAUTH_SCOPES": "read=x,admin=x",
            },
            "CONVOAI_OAUTH_SCOPES",
        ),
        (
            {
                "CONVOAI_OAUTH_ISSUER": "https://l.example",
                "CONVOAI_OAUTH_RESOURCE": RESOURCE,
                "CONVOAI_HTTP_TOKEN": "a-long-random-bearer-token",
            },
            "CONVOAI_HTTP_TOKEN",
        ),
    ],
)
def test_misconfiguration_names_the_variable(env: dict[str, str], named: str) -> None:
    with pytest.raises(ConfigError) as info:
        Settings.from_env({**BASE, **env})
    assert named in str(info.value)
    assert "\n" not in str(info.value)


def test_a_misconfigured_oauth_server_exits_2_with_one_line(tmp_path: Any) -> None:
    import subprocess
    import sys

    from _server_helpers import subprocess_env

    env = subprocess_env(CONVOAI_OAUTH_ISSUER="https://login.example.com", CONVOAI_ARCHIVE="off")
    done = subprocess.run(
        [sys.executable, "-m", "convoai_mcp", "--sandbox", "--transport", "streamable-http"],
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert done.returncode == 2, done.stderr
    lines = [line for line in done.stderr.splitlines() if line.strip()]
    assert len(lines) == 1 and "CONVOAI_OAUTH_RESOURCE" in lines[0], done.stderr


def test_the_scopes_mapping_renames_the_roles() -> None:
    s = Settings.from_env(
        {
            **BASE,
            "CONVOAI_OAUTH_ISSUER": "http://127.0.0.1:9/realms/x",
            "CONVOAI_OAUTH_RESOURCE": "http://127.0.0.1:8000/mcp",
            "CONVOAI_OAUTH_SCOPES": "read=mcp.read, admin = mcp.admin",
        }
    )
    assert s.oauth_scopes == {
        "read": "mcp.read",
        "agents": "convoai:agents",
        "calls": "convoai:calls",
        "admin": "mcp.admin",
    }
    config = OAuthConfig.from_settings(s)
    assert config is not None
    assert config.audience == "http://127.0.0.1:8000/mcp"
    assert config.metadata_url == "http://127.0.0.1:8000/.well-known/oauth-protected-resource/mcp"
    assert config.discovery_urls() == [
        "http://127.0.0.1:9/.well-known/oauth-authorization-server/realms/x",
        "http://127.0.0.1:9/.well-known/openid-configuration/realms/x",
        "http://127.0.0.1:9/realms/x/.well-known/openid-configuration",
    ]


# ------------------------------------------------------------------------ the scope table


def test_every_tool_needs_one_role_and_the_table_is_as_documented() -> None:
    from convoai_mcp.server import tools  # noqa: F401 - registers the tools

    by_tool = {spec.name: spec.scope for spec in specs()}
    for spec in specs():
        assert (spec.scope == "read") is spec.read_only, spec.name
    assert by_tool["call"] == by_tool["hangup"] == "calls"
    for name in ("start_agent", "speak", "think", "interrupt", "stop_agent", "update_agent"):
        assert by_tool[name] == "agents", name
    assert by_tool["mint_token"] == "agents"


def test_every_role_includes_read_and_none_another() -> None:
    names = scopes.scope_names()
    assert scopes.roles_of(["convoai:agents"], names) == {"agents", "read"}
    assert scopes.roles_of(["convoai:admin", "openid"], names) == {"admin", "read"}
    assert scopes.roles_of(["openid", "profile"], names) == frozenset()


@pytest.mark.parametrize(
    ("method", "path", "needs"),
    [
        ("GET", "/console/api/agents", ["read"]),
        ("GET", "/console/api/events", ["read"]),
        ("POST", "/console/api/agents/a1/say", ["agents"]),
        ("POST", "/console/api/agents/a1/interrupt", ["agents"]),
        ("POST", "/console/api/agents/a1/end", ["agents", "calls"]),
    ],
)
def test_the_console_api_needs_the_roles_of_the_tools_it_calls(
    method: str, path: str, needs: list[str]
) -> None:
    assert console_needs({"type": "http", "method": method, "path": path}) == needs


# ------------------------------------------------------------------------ HTTP wiring


def oauth_settings(**extra: str) -> Settings:
    return Settings.from_env(
        {
            **BASE,
            "CONVOAI_OAUTH_ISSUER": "https://login.example.com",
            "CONVOAI_OAUTH_RESOURCE": RESOURCE,
            **extra,
        }
    )


def test_oauth_alone_allows_a_non_loopback_bind() -> None:
    from convoai_mcp.server.transports import check_transport

    check_transport("streamable-http", "0.0.0.0", 8000, oauth_settings())
    with pytest.raises(ConfigError, match="CONVOAI_OAUTH_ISSUER"):
        check_transport("streamable-http", "0.0.0.0", 8000, Settings.from_env(BASE))


async def test_the_resource_urls_host_passes_the_host_check() -> None:
    """Behind a proxy clients send ``Host: mcp.example.com``: with OAuth that name (the
    resource URL's) is allowed, so the answer is the token's 401, not the Host check's."""
    import httpx

    from convoai_mcp.server.transports.security import HttpSecurity, secure_asgi_app

    async def app(scope: Any, receive: Any, send: Any) -> None:
        raise AssertionError("not reached without a token")

    for settings, status in ((Settings.from_env(BASE), 421), (oauth_settings(), 401)):
        security = HttpSecurity.from_settings(settings, host="127.0.0.1", port=8000)
        transport = httpx.ASGITransport(app=secure_asgi_app(app, security))
        async with httpx.AsyncClient(transport=transport, base_url="https://mcp.example.com") as c:
            answer = await c.post("/mcp", json={})
            assert answer.status_code == status, (settings.oauth_issuer, answer.text)
            metadata = await c.get("/.well-known/oauth-protected-resource/mcp")
            assert metadata.status_code == (200 if settings.oauth_issuer else status)
        if security.oauth is not None:
            await security.oauth.aclose()


async def test_a_header_with_a_line_break_in_alg_is_refused_without_echoing_it(
    local: Issuer, rsa_key: SigningKey
) -> None:
    verifier = verifier_for(local)
    claims = jwt.decode(local.token(rsa_key), options={"verify_signature": False})
    token = _unsigned(claims, {"alg": "RS256\r\nX-Injected: 1", "kid": "rsa-1"})
    why = await refused(verifier, token)
    assert "'?'" in why and "\n" not in why and "Injected" not in why
