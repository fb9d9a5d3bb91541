"""Auth modes on the wire, User-Agent, connection reuse, configuration errors."""

from __future__ import annotations

import base64
from collections.abc import Callable

import pytest
from _client_helpers import CREDS, SECRETS, cascading_spec, rig

from convoai_mcp import __version__
from convoai_mcp.client import (
    GENERIC_TOKEN_CHANNEL,
    AppCredentialsAuth,
    BasicAuth,
    ConvoAIClient,
    TokenAuth,
)
from convoai_mcp.errors import AuthenticationError, ConfigError
from convoai_mcp.tokens import mint_convoai_token, parse_token, verify_token


async def test_basic_auth_header() -> None:
    async with rig("basic") as r:
        await r.client.agents.list_page()
        expected = base64.b64encode(f"{CREDS.customer_id}:{CREDS.customer_secret}".encode())
        assert r.seen[-1].headers["authorization"] == "Basic " + expected.decode()


async def test_user_agent_names_package_and_version() -> None:
    async with rig() as r:
        await r.client.agents.list_page()
        assert r.seen[-1].headers["user-agent"] == f"convoai-mcp/{__version__}"


async def test_app_credentials_mint_a_token_for_the_agents_channel_and_uid() -> None:
    async with rig("app") as r:
        started = await r.client.agents.launch(cascading_spec(channel="chan-7", agent_uid="4242"))
        await r.client.agents.get(started.agent_id)
        await r.client.agents.speak(started.agent_id, "hi")
        await r.client.agents.list_page(channel="chan-7")
        await r.client.phone_numbers.list()
        headers = [s.headers["authorization"] for s in r.seen]
        assert all(h.startswith("agora token=007") for h in headers)
        tokens = [h.removeprefix("agora token=") for h in headers]
        for token in tokens:
            verify_token(token, CREDS.app_certificate, app_id=CREDS.app_id)
        join, get, speak, listing, numbers = (parse_token(t) for t in tokens)
        for parsed in (join, get, speak):
            assert parsed.rtc is not None
            assert (parsed.rtc.channel, parsed.rtc.uid) == ("chan-7", "4242")
        assert listing.rtc is not None and (listing.rtc.channel, listing.rtc.uid) == ("chan-7", "0")
        assert numbers.rtc is not None and numbers.rtc.channel == GENERIC_TOKEN_CHANNEL
        # minted once per (channel, uid) and reused, not per request
        assert tokens[0] == tokens[1] == tokens[2]


async def test_fixed_token_mode() -> None:
    async with rig("token") as r:
        page = await r.client.agents.list_page()
        assert page.items == []
        header = r.seen[-1].headers["authorization"]
        assert header.startswith("agora token=007")


async def test_wrong_secret_is_authentication_error_without_the_secret() -> None:
    async with rig() as r:
        bad = ConvoAIClient(
            CREDS.app_id,
            BasicAuth(CREDS.customer_id, "wrong-secret-value"),
            base_url=r.base_url,
        )
        async with bad:
            with pytest.raises(AuthenticationError) as info:
                await bad.agents.list_page()
        err = info.value
        assert err.status == 401
        assert "credentials" in err.hint
        for text in (str(err), repr(err), repr(bad)):
            assert "wrong-secret-value" not in text
            for secret in SECRETS:
                assert secret not in text


async def test_one_connection_is_reused() -> None:
    async with rig() as r:
        for _ in range(5):
            await r.client.agents.list_page()
        ports = {s.client_port for s in r.seen}
        assert len(ports) == 1


SECRET = "s3cr3t-Value-987"


@pytest.mark.parametrize(
    ("make", "secret"),
    [
        (lambda: BasicAuth("", SECRET), SECRET),
        (lambda: BasicAuth("id", ""), None),
        (lambda: BasicAuth("id ", SECRET), SECRET),
        (lambda: BasicAuth("id:x", SECRET), SECRET),
        (lambda: BasicAuth("id", SECRET + " "), SECRET),
        (lambda: BasicAuth("id", "sécret-" + SECRET), SECRET),
        (lambda: TokenAuth(""), None),
        (lambda: TokenAuth("   "), None),
        (lambda: TokenAuth(SECRET + "\r\nX-Injected: 1"), SECRET),
        (lambda: AppCredentialsAuth(CREDS.app_id, ""), None),
        (lambda: AppCredentialsAuth("short", CREDS.app_certificate), CREDS.app_certificate),
        (lambda: AppCredentialsAuth(CREDS.app_id, CREDS.app_certificate[:-1]), "fedcba98765"),
    ],
)
def test_empty_or_malformed_credentials_are_config_errors(
    make: Callable[[], object], secret: str | None
) -> None:
    """Each is refused up front, and the message never echoes the secret it refused."""
    with pytest.raises(ConfigError) as info:
        make()
    if secret is not None:
        assert secret not in str(info.value)
        assert secret not in repr(info.value)


def test_client_refuses_bad_app_id_and_mismatched_auth() -> None:
    with pytest.raises(ConfigError, match="App ID"):
        ConvoAIClient("not-an-app-id", TokenAuth("t"), base_url="http://127.0.0.1:1")
    other = AppCredentialsAuth("f" * 32, CREDS.app_certificate)
    with pytest.raises(ConfigError, match="another App ID"):
        ConvoAIClient(CREDS.app_id, other, base_url="http://127.0.0.1:1")
    with pytest.raises(ConfigError):
        ConvoAIClient(CREDS.app_id, TokenAuth("t"), app_certificate="x" * 31)


def test_reprs_hide_secrets() -> None:
    token = mint_convoai_token(CREDS.app_id, CREDS.app_certificate, "c", 0)
    client = ConvoAIClient(
        CREDS.app_id,
        AppCredentialsAuth(CREDS.app_id, CREDS.app_certificate),
        base_url="http://127.0.0.1:1",
    )
    for text in (
        repr(client),
        repr(BasicAuth("id", CREDS.customer_secret)),
        repr(TokenAuth(token)),
        repr(client.auth),
    ):
        assert CREDS.app_certificate not in text
        assert CREDS.customer_secret not in text
        assert token not in text


async def test_launch_without_certificate_needs_a_token() -> None:
    async with rig() as r:
        client = ConvoAIClient(
            CREDS.app_id, BasicAuth(CREDS.customer_id, CREDS.customer_secret), base_url=r.base_url
        )
        async with client:
            assert not client.app_certificate_configured
            from convoai_mcp.errors import ValidationError

            with pytest.raises(ValidationError, match="join token"):
                await client.agents.launch(cascading_spec())
            join = mint_convoai_token(CREDS.app_id, CREDS.app_certificate, "room-1", "1001")
            started = await client.agents.launch(cascading_spec(), token=join)
            assert started.agent_id


def test_default_timeouts_connect_short_read_longer() -> None:
    from convoai_mcp.client import DEFAULT_TIMEOUT

    assert DEFAULT_TIMEOUT.connect is not None and DEFAULT_TIMEOUT.read is not None
    assert DEFAULT_TIMEOUT.connect <= 5.0 < DEFAULT_TIMEOUT.read


async def test_owned_pool_is_closed_but_a_borrowed_one_is_not() -> None:
    import httpx

    owned = ConvoAIClient(CREDS.app_id, TokenAuth("t"), base_url="http://127.0.0.1:1")
    async with owned:
        pass
    assert owned._http.is_closed
    borrowed = httpx.AsyncClient()
    async with ConvoAIClient(
        CREDS.app_id, TokenAuth("t"), base_url="http://127.0.0.1:1", http_client=borrowed
    ):
        pass
    assert not borrowed.is_closed
    await borrowed.aclose()


async def test_borrowed_pool_still_sends_user_agent() -> None:
    import httpx

    async with rig() as r, httpx.AsyncClient() as http:
        client = ConvoAIClient(CREDS.app_id, r.client.auth, base_url=r.base_url, http_client=http)
        await client.agents.list_page()
        assert r.seen[-1].headers["user-agent"] == f"convoai-mcp/{__version__}"
