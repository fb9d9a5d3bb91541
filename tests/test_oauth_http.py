"""The OAuth resource server through the real HTTP transport (uvicorn, the security wrapper, the
MCP SDK's streamable HTTP client): a local issuer on loopback signs the tokens, the server on the
emulator checks them, serves its RFC 9728 metadata, refuses tools outside a token's scopes
before anything is sent, and writes the caller's identity into the audit trail."""

from __future__ import annotations

import logging
import time
from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

import anyio
import httpx
import httpx2
import pytest
from _issuer import Issuer, SigningKey, issuer, new_ec_key, new_rsa_key
from _server_helpers import CALLEE, Rig, error_text, read_json, rig
from mcp import Client
from mcp.client.streamable_http import streamable_http_client

from convoai_mcp.server.transports.http import http_socket, serve_http

ACCEPT = {"Accept": "application/json, text/event-stream"}
PING = {"jsonrpc": "2.0", "id": 1, "method": "ping"}


@pytest.fixture(scope="module")
def key() -> SigningKey:
    return new_rsa_key("k1")


@pytest.fixture
def local(key: SigningKey) -> Iterator[Issuer]:
    with issuer() as state:
        state.publish(key)
        yield state


@asynccontextmanager
async def served(
    tmp_path: Path, state: Issuer, env: dict[str, str] | None = None
) -> AsyncIterator[tuple[Rig, httpx.AsyncClient, str]]:
    """The server with OAuth on a free loopback port; yields the rig, an HTTP client for its
    base URL (no token) and the MCP URL. The issuer's audience is set to the resource URL."""
    sock = http_socket("127.0.0.1", 0)
    port = sock.getsockname()[1]
    url = f"http://127.0.0.1:{port}/mcp"
    state.audience = url
    oauth = {"CONVOAI_OAUTH_ISSUER": state.url, "CONVOAI_OAUTH_RESOURCE": url}
    ready = anyio.Event()
    stop = anyio.Event()

    def on_ready(_: str, required: bool) -> None:
        assert required
        ready.set()

    async with rig(tmp_path, {**oauth, **(env or {})}) as r, anyio.create_task_group() as group:
        group.start_soon(
            lambda: serve_http(
                r.server,
                r.settings,
                transport="streamable-http",
                host="127.0.0.1",
                port=port,
                on_ready=on_ready,
                stop=stop,
                sock=sock,
            )
        )
        with anyio.fail_after(30):
            await ready.wait()
        try:
            async with httpx.AsyncClient(base_url=url.removesuffix("/mcp"), timeout=30) as http:
                yield r, http, url
        finally:
            stop.set()


@asynccontextmanager
async def mcp_client(url: str, token: str) -> AsyncIterator[Client]:
    async with (
        httpx2.AsyncClient(headers={"Authorization": f"Bearer {token}"}) as http,
        Client(streamable_http_client(url, http_client=http)) as client,
    ):
        yield client


def challenge(response: httpx.Response) -> dict[str, str]:
    value = response.headers["www-authenticate"]
    assert value.startswith("Bearer ")
    out: dict[str, str] = {}
    for part in value.removeprefix("Bearer ").split('", '):
        name, _, quoted = part.partition("=")
        out[name.strip()] = quoted.strip('"')
    return out


async def test_without_a_token_401_points_at_the_protected_resource_metadata(
    tmp_path: Path, local: Issuer
) -> None:
    async with served(tmp_path, local) as (_, http, url):
        refused = await http.post("/mcp", json=PING, headers=ACCEPT)
        assert refused.status_code == 401
        params = challenge(refused)
        metadata_url = url.replace("/mcp", "/.well-known/oauth-protected-resource/mcp")
        assert params["resource_metadata"] == metadata_url
        assert params["error"] == "invalid_token"
        assert params["scope"].split() == [
            "convoai:read",
            "convoai:agents",
            "convoai:calls",
            "convoai:admin",
        ]
        for path in (
            "/.well-known/oauth-protected-resource/mcp",
            "/.well-known/oauth-protected-resource",
        ):
            document = (await http.get(path)).json()
            assert document["resource"] == url
            assert document["authorization_servers"] == [local.url]
            assert "convoai:calls" in document["scopes_supported"]
            assert document["bearer_methods_supported"] == ["header"]
        # The console's API is behind the same check; the probes are not.
        assert (await http.get("/console/api/agents")).status_code == 401
        assert (await http.get("/healthz")).status_code == 200


@pytest.mark.parametrize(
    ("claims", "why"),
    [
        ({"exp": int(time.time()) - 600}, "expired"),
        ({"aud": "http://127.0.0.1:1/mcp"}, "another resource"),
        ({"iss": "https://login.evil.example"}, "another issuer"),
    ],
)
async def test_refused_tokens_get_401_saying_why(
    tmp_path: Path, local: Issuer, key: SigningKey, claims: dict[str, Any], why: str
) -> None:
    async with served(tmp_path, local) as (_, http, _url):
        token = local.token(key, **claims)
        refused = await http.post(
            "/mcp", json=PING, headers={**ACCEPT, "Authorization": f"Bearer {token}"}
        )
        assert refused.status_code == 401
        assert why in challenge(refused)["error_description"]
        assert why in refused.json()["error_description"]
        assert token not in refused.text


async def test_an_unknown_key_and_a_static_token_are_refused(tmp_path: Path, local: Issuer) -> None:
    async with served(tmp_path, local) as (_, http, _url):
        for credential in (local.token(new_ec_key("other")), "canary-http-token-0123456789abcdef"):
            refused = await http.post(
                "/mcp", json=PING, headers={**ACCEPT, "Authorization": f"Bearer {credential}"}
            )
            assert refused.status_code == 401


async def test_a_token_with_none_of_the_servers_scopes_gets_403(
    tmp_path: Path, local: Issuer, key: SigningKey
) -> None:
    async with served(tmp_path, local) as (_, http, _url):
        token = local.token(key, scope="openid profile")
        refused = await http.post(
            "/mcp", json=PING, headers={**ACCEPT, "Authorization": f"Bearer {token}"}
        )
        assert refused.status_code == 403
        params = challenge(refused)
        assert (params["error"], params["scope"]) == ("insufficient_scope", "convoai:read")


async def test_a_read_token_reads_and_is_refused_what_changes_things(
    tmp_path: Path, local: Issuer, key: SigningKey
) -> None:
    async with served(tmp_path, local) as (r, _http, url):
        async with mcp_client(url, local.token(key, scope="convoai:read")) as client:
            names = {tool.name for tool in (await client.list_tools()).tools}
            assert {"list_agents", "get_history", "wait"} <= names
            assert not names & {"start_agent", "speak", "call", "hangup", "mint_token"}
            listed = await client.call_tool("list_agents", {})
            assert not listed.is_error
            started = await client.call_tool("start_agent", {"channel": "room"})
            text = error_text(started)
            assert "start_agent needs the OAuth scope convoai:agents" in text
            assert "nothing was sent" in text
            called = await client.call_tool("call", {"to_number": CALLEE})
            assert "convoai:calls" in error_text(called)
        with r.sandbox.state.lock:
            assert not r.sandbox.state.agents and not r.sandbox.state.calls


async def test_an_agents_token_starts_agents_and_its_identity_is_audited(
    tmp_path: Path, local: Issuer, key: SigningKey, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    async with served(tmp_path, local) as (_, _http, url):
        token = local.token(
            key, scope="convoai:agents", sub="user-alice", client_id="orchestrator-7"
        )
        async with mcp_client(url, token) as client:
            names = {tool.name for tool in (await client.list_tools()).tools}
            assert {"start_agent", "stop_agent", "list_agents"} <= names
            assert not names & {"call", "hangup"}
            started = await client.call_tool("start_agent", {"channel": "room"})
            assert not started.is_error, started
            agent_id = (started.structured_content or {})["agent_id"]
            hung = await client.call_tool("hangup", {"agent_id": agent_id})
            assert "convoai:calls" in error_text(hung)
            stopped = await client.call_tool("stop_agent", {"agent_id": agent_id})
            assert not stopped.is_error, stopped
            trail = await read_json(client, "convoai://audit")
    by_tool = {entry["tool"]: entry for entry in trail["entries"]}
    for name in ("start_agent", "stop_agent"):
        entry = by_tool[name]
        assert (entry["subject"], entry["client_id"]) == ("user-alice", "orchestrator-7")
        assert entry["http_user"] == "user-alice"
        assert entry["decision"] == "allowed"
    refusal = by_tool["hangup"]
    assert (refusal["decision"], refusal["rule"]) == ("refused", "oauth_scope")
    assert refusal["subject"] == "user-alice"
    for piece in token.split("."):
        assert piece not in caplog.text
        assert piece not in str(trail)


async def test_the_console_api_needs_the_scopes_of_its_actions(
    tmp_path: Path, local: Issuer, key: SigningKey
) -> None:
    async with served(tmp_path, local) as (_, http, _url):
        read = {"Authorization": f"Bearer {local.token(key, scope='convoai:read')}"}
        assert (await http.get("/console/api/agents", headers=read)).status_code == 200
        said = await http.post("/console/api/agents/a1/say", json={"text": "hi"}, headers=read)
        assert said.status_code == 403
        assert challenge(said)["scope"] == "convoai:agents"
        agents = {"Authorization": f"Bearer {local.token(key, scope='convoai:agents')}"}
        ended = await http.post("/console/api/agents/a1/end", headers=agents)
        assert ended.status_code == 403
        assert challenge(ended)["scope"] == "convoai:calls"
