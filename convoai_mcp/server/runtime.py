"""The state a server shares across its connections: settings, the ConvoAI client, the guard, and
the agents and calls it started.

One :class:`Runtime` belongs to one :func:`~convoai_mcp.server.app.build_server` result and lives
as long as the server process, whatever the transport does with connections: every MCP
connection enters :meth:`Runtime.session` through the server's lifespan, and leaving it closes
nothing. The client and the guard (limits, rate window, transcript watchers) are created on first
use and closed only by :meth:`Runtime.aclose`, at process exit (the CLI calls it). The record of
started agents keeps every running agent and the :data:`MAX_ENDED` most recently ended ones (an
ended agent's transcript stays readable from the archive either way).
"""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections.abc import AsyncIterator, Coroutine
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Literal, TypeVar

if TYPE_CHECKING:
    from convoai_mcp.client import ConvoAIClient
    from convoai_mcp.config import Settings
    from convoai_mcp.server.guard import Guard

__all__ = ["LISTED_ENDED", "MAX_ENDED", "Pending", "Runtime", "StartedAgent", "make_client"]

T = TypeVar("T")

MAX_ENDED = 500
"""Ended agents kept in :attr:`Runtime.agents` (the oldest ended are dropped first)."""
LISTED_ENDED = 50
"""Ended agents shown in ``resources/list`` (the most recently ended)."""


@dataclass
class StartedAgent:
    """An agent or call started through this server (listed in ``resources/list``)."""

    agent_id: str
    kind: Literal["agent", "call"]
    name: str
    channel: str
    agent_uid: str
    user_uid: str
    to_number: str | None = None
    from_number: str | None = None
    started_at: float = field(default_factory=time.time)
    ended: bool = False


class Pending:
    """A start or call whose caller did not get the answer (cancelled, timed out, answer lost):
    the channel and name it used, and how it turned out once the server found out."""

    def __init__(self, channel: str, name: str) -> None:
        self.channel = channel
        self.name = name
        self._outcome: asyncio.Future[str | None] = asyncio.get_running_loop().create_future()

    @property
    def settled(self) -> bool:
        """True once the server knows whether the agent exists."""
        return self._outcome.done()

    def settle(self, agent_id: str | None) -> None:
        """The agent it created and the server booked, or None: none (or stopped again)."""
        if not self._outcome.done():
            self._outcome.set_result(agent_id)

    async def outcome(self, within: float) -> tuple[bool, str | None]:
        """(known, agent_id), waiting at most ``within`` seconds for the server to find out."""
        await asyncio.wait({self._outcome}, timeout=within)
        if not self._outcome.done():
            return False, None
        return True, self._outcome.result()


def make_client(settings: Settings) -> ConvoAIClient:
    """A :class:`ConvoAIClient` authenticated as ``settings`` say (basic, token or app creds)."""
    from convoai_mcp.client import AppCredentialsAuth, BasicAuth, ConvoAIClient, TokenAuth

    cert = settings.app_certificate.get_secret_value() if settings.app_certificate else None
    auth: BasicAuth | TokenAuth | AppCredentialsAuth
    if settings.auth_mode == "basic":
        assert settings.customer_id is not None
        assert settings.customer_secret is not None
        auth = BasicAuth(settings.customer_id, settings.customer_secret.get_secret_value())
    elif settings.auth_mode == "token":
        assert settings.auth_token is not None
        auth = TokenAuth(settings.auth_token.get_secret_value())
    else:
        auth = AppCredentialsAuth(settings.app_id, cert or "")
    return ConvoAIClient(
        settings.app_id,
        auth,
        area=settings.area,
        base_url=settings.base_url,
        app_certificate=cert,
    )


class Runtime:
    """Shared server state; tools reach it as ``ctx.request_context.lifespan_context``."""

    def __init__(
        self,
        settings: Settings,
        client: ConvoAIClient | None = None,
        *,
        poll_interval: float = 1.0,
        max_ended: int = MAX_ENDED,
        listed_ended: int = LISTED_ENDED,
    ) -> None:
        self.settings = settings
        self.poll_interval = poll_interval
        self.max_ended = max_ended
        self.listed_ended = listed_ended
        self.agents: dict[str, StartedAgent] = {}
        """Agents and calls started here, by id, oldest first (bounded: see :meth:`mark_ended`)."""
        self._ended: dict[str, None] = {}  # ids of the ended ones in .agents, oldest end first
        self.unanswered: dict[str, Pending] = {}
        """Starts and calls whose answer never reached their caller, by the request's
        fingerprint: the same request again gets the agent the first one created (the server
        finds out by name, and books or stops it), or reuses its channel and name."""
        self.settle_seconds = 60.0
        """How long the server keeps looking (by name) for an agent whose create had an
        unknown outcome, holding its slot meanwhile."""
        self._tasks: set[asyncio.Task[Any]] = set()
        self._given_client = client
        self._client: ConvoAIClient | None = client
        self._guard: Guard | None = None

    @property
    def client(self) -> ConvoAIClient:
        """The ConvoAI client (created on first use)."""
        if self._client is None:
            self._client = make_client(self.settings)
        return self._client

    @property
    def guard(self) -> Guard:
        """The safety guard (created on first use)."""
        if self._guard is None:
            from convoai_mcp.server.guard import Guard

            self._guard = Guard.from_settings(
                self.settings, self.client, subscribed_interval=self.poll_interval
            )
            self._guard.on_ended = self.mark_ended  # agents that end on their own
        return self._guard

    def record(self, agent: StartedAgent) -> None:
        """Remember an agent or call this server started."""
        self._ended.pop(agent.agent_id, None)
        self.agents[agent.agent_id] = agent

    def mark_ended(self, agent_id: str) -> None:
        """Note that an agent or call ended. It stays recorded (and listed) until
        :attr:`max_ended` agents ended after it; its transcript stays in the archive."""
        agent = self.agents.get(agent_id)
        if agent is None or agent.ended:
            return
        agent.ended = True
        self._ended[agent_id] = None
        while len(self._ended) > self.max_ended:
            oldest = next(iter(self._ended))
            del self._ended[oldest]
            del self.agents[oldest]

    def listed(self) -> list[StartedAgent]:
        """What ``resources/list`` shows, newest start first: every running agent and the
        :attr:`listed_ended` most recently ended ones."""
        recent = set(list(self._ended)[-self.listed_ended :]) if self.listed_ended > 0 else set()
        return [a for a in reversed(self.agents.values()) if not a.ended or a.agent_id in recent]

    def spawn(self, work: Coroutine[Any, Any, T], name: str) -> asyncio.Task[T]:
        """Run ``work`` in a task no request's cancellation reaches (creates and their booking);
        :meth:`aclose` ends the ones still running."""
        task = asyncio.get_running_loop().create_task(work, name=name)
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)
        return task

    async def settled(self) -> None:
        """Wait until every spawned task (create, booking, finding out) has finished."""
        while self._tasks:
            await asyncio.wait(set(self._tasks))

    @asynccontextmanager
    async def session(self) -> AsyncIterator[Runtime]:
        """Hold the runtime for one MCP connection. Leaving closes nothing: limits, the rate
        window, the record and the watchers outlive connections (D3: an SSE reconnect used to
        get fresh limits and lost the watchers of running agents)."""
        yield self

    async def aclose(self) -> None:
        """Stop the watchers, close the guard and (if this runtime made it) the client: at
        process exit only. A later use creates them again."""
        tasks = list(self._tasks)
        for task in tasks:
            task.cancel()
        for task in tasks:
            with contextlib.suppress(BaseException):
                await task
        guard, self._guard = self._guard, None
        try:
            if guard is not None:
                await guard.aclose()
        finally:
            if self._client is not None and self._client is not self._given_client:
                client, self._client = self._client, None
                await client.aclose()
