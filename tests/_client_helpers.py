"""Shared rig for the client's end-to-end tests: the real emulator on 127.0.0.1:0, wrapped in a
recorder that notes what arrived on the wire (headers, raw path, client port)."""

from __future__ import annotations

import contextlib
import socket
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from typing import Any, Literal

from convoai_mcp._retry import RetryPolicy
from convoai_mcp.builders import AgentSpec
from convoai_mcp.client import AppCredentialsAuth, Auth, BasicAuth, ConvoAIClient, TokenAuth
from convoai_mcp.models import LlmConfig, TtsConfig
from convoai_mcp.sandbox import PATH_PREFIX, Sandbox, SandboxCredentials, SandboxState
from convoai_mcp.sandbox.runner import serve
from convoai_mcp.tokens import mint_convoai_token

__all__ = [
    "CREDS",
    "SECRETS",
    "Rig",
    "Seen",
    "SleepRecorder",
    "cascading_spec",
    "closed_port_url",
    "make_auth",
    "rig",
    "serve_recorded",
]

CREDS = SandboxCredentials(
    app_id="0123456789abcdef0123456789abcdef",
    app_certificate="fedcba9876543210fedcba9876543210",
    customer_id="customer-1234",
    customer_secret="customer-secret-do-not-leak",
)
LLM_KEY = "sk-llm-key-do-not-leak"
TTS_KEY = "tts-key-do-not-leak"
SECRETS = (CREDS.app_certificate, CREDS.customer_secret, LLM_KEY, TTS_KEY)

AuthMode = Literal["basic", "token", "app"]


@dataclass
class Seen:
    """One request as it arrived at the server."""

    method: str
    path: str
    raw_path: bytes
    headers: dict[str, str]
    client_port: int | None
    body: bytes = b""


class _Recorder:
    """ASGI middleware noting every request before the emulator handles it."""

    def __init__(self, app: Any, seen: list[Seen]) -> None:
        self.app = app
        self.seen = seen

    async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        headers = {k.decode("latin-1"): v.decode("latin-1") for k, v in scope["headers"]}
        client = scope.get("client")
        record = Seen(
            scope["method"],
            scope["path"],
            scope.get("raw_path") or b"",
            headers,
            client[1] if client else None,
        )
        self.seen.append(record)
        await self.app(scope, _BodyTap(receive, record).receive, send)


class _BodyTap:
    """Wraps ``receive`` to copy the request body. It keeps the server protocol's ``transport``
    reachable as ``receive.__self__.transport``, which the emulator's "drop" faults use."""

    def __init__(self, receive: Any, record: Seen) -> None:
        self._receive = receive
        self._record = record
        self.transport = getattr(getattr(receive, "__self__", None), "transport", None)

    async def receive(self) -> Any:
        message = await self._receive()
        if message.get("type") == "http.request":
            self._record.body += message.get("body", b"")
        return message


@contextlib.asynccontextmanager
async def serve_recorded(sb: Sandbox, seen: list[Seen]) -> AsyncIterator[str]:
    """Serve ``sb`` behind the recorder; yields the base URL (with the API path prefix)."""
    async with serve(_Recorder(sb.app, seen)) as root:
        yield root + PATH_PREFIX


def closed_port_url() -> str:
    """A loopback base URL on which nothing listens (connection refused)."""
    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    port = sock.getsockname()[1]
    sock.close()
    return f"http://127.0.0.1:{port}{PATH_PREFIX}"


class SleepRecorder:
    """An injectable ``sleep`` that records the delays and returns at once."""

    def __init__(self) -> None:
        self.delays: list[float] = []

    async def __call__(self, seconds: float) -> None:
        self.delays.append(seconds)


def make_auth(mode: AuthMode) -> Auth:
    """Credentials of the emulated project in one of the three modes."""
    if mode == "basic":
        return BasicAuth(CREDS.customer_id, CREDS.customer_secret)
    if mode == "app":
        return AppCredentialsAuth(CREDS.app_id, CREDS.app_certificate)
    # a fixed token works for every request except join (bound to channel / uid there)
    return TokenAuth(mint_convoai_token(CREDS.app_id, CREDS.app_certificate, "any", 0))


def cascading_spec(**fields: Any) -> AgentSpec:
    """A valid ASR -> LLM -> TTS agent spec carrying secrets that must never leak."""
    base: dict[str, Any] = {
        "channel": "room-1",
        "llm": LlmConfig(
            url="https://llm.example/v1/chat/completions",
            api_key=LLM_KEY,
            params={"model": "gpt-4o-mini"},
        ),
        "tts": TtsConfig(
            vendor="microsoft", params={"key": TTS_KEY, "region": "eastus", "voice_name": "v"}
        ),
        "system_prompt": "You are a test agent.",
        "greeting": "Hello from the test.",
    }
    base.update(fields)
    return AgentSpec(**base)


@dataclass
class Rig:
    """A running emulator, a client pointed at it, and what the server saw."""

    sb: Sandbox
    client: ConvoAIClient
    base_url: str
    sleeps: SleepRecorder
    seen: list[Seen] = field(default_factory=list)


@contextlib.asynccontextmanager
async def rig(
    mode: AuthMode = "basic",
    *,
    retry: RetryPolicy | None = None,
    endpoints_before: list[str] | None = None,
    state: SandboxState | None = None,
    **client_kwargs: Any,
) -> AsyncIterator[Rig]:
    """Emulator + client (app certificate configured, so join tokens are minted locally)."""
    sb = Sandbox(CREDS, state=state, answer_delay=0.0)
    seen: list[Seen] = []
    sleeps = SleepRecorder()
    async with serve_recorded(sb, seen) as base_url:
        client = ConvoAIClient(
            CREDS.app_id,
            make_auth(mode),
            endpoints=[*(endpoints_before or []), base_url],
            app_certificate=CREDS.app_certificate,
            retry=retry or RetryPolicy(max_attempts=4, deadline=10.0),
            sleep=sleeps,
            **client_kwargs,
        )
        async with client:
            yield Rig(sb, client, base_url, sleeps, seen)
