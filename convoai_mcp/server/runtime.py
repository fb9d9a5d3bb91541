"""The state a server shares across its connections: settings, the ConvoAI client, the guard, and
the agents and calls it started.

One :class:`Runtime` belongs to one :func:`~convoai_mcp.server.app.build_server` result and lives
as long as the server process, whatever the transport does with connections: every MCP
connection enters :meth:`Runtime.session` through the server's lifespan, and leaving it closes
nothing. The client and the guard (limits, rate window, transcript watchers) are created on first
use and closed only by :meth:`Runtime.aclose`, at process exit (the CLI calls it). The record of
started agents is the client layer's :class:`~convoai_mcp.started.StartedAgents` (one record,
shared with the client, which records each agent it starts; the server adds how it ended). It
keeps every running agent and the :data:`MAX_ENDED` most recently ended ones (an ended agent's
transcript stays readable from the archive either way). With a PostgreSQL
``CONVOAI_DATABASE_URL`` the record is shared with the other replicas
(:class:`~convoai_mcp.server.replicas.SharedRecords`: what one records, every one knows).
"""

from __future__ import annotations

import asyncio
import contextlib
import functools
from collections.abc import AsyncIterator, Awaitable, Callable, Coroutine, Mapping
from contextlib import asynccontextmanager
from typing import TYPE_CHECKING, Any, TypeVar

from convoai_mcp.started import (
    END_HUNG_UP,
    END_ON_ITS_OWN,
    END_STOPPED,
    MAX_ENDED,
    StartedAgent,
    StartedAgents,
)

if TYPE_CHECKING:
    from convoai_mcp.client import ConvoAIClient
    from convoai_mcp.config import Settings
    from convoai_mcp.server.gate import Gate
    from convoai_mcp.server.guard import Guard
    from convoai_mcp.server.replicas import Database

__all__ = [
    "END_HUNG_UP",
    "END_ON_ITS_OWN",
    "END_STOPPED",
    "LISTED_ENDED",
    "MAX_ENDED",
    "Pending",
    "Runtime",
    "StartedAgent",
    "make_client",
]

T = TypeVar("T")

LISTED_ENDED = 50
"""Ended agents shown in ``resources/list`` (the most recently ended)."""


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


def make_client(settings: Settings, started: StartedAgents | None = None) -> ConvoAIClient:
    """A :class:`ConvoAIClient` authenticated as ``settings`` say (basic, token or app creds),
    recording the agents it starts in ``started`` (default: a record of its own)."""
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
        started=started,
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
        self.listed_ended = listed_ended
        self.started: StartedAgents = (
            client.started if client is not None else StartedAgents(max_ended=max_ended)
        )
        """The record of agents and calls started here (the client's, shared)."""
        self.max_ended = max_ended
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
        self._gate: Gate | None = None
        self.on_guard: list[Callable[[Guard], None]] = []
        """Called with the guard once it is created (the subscriptions wire its watchers to the
        server's event bus)."""
        self.closers: list[Callable[[], Awaitable[None]]] = []
        """Awaited by :meth:`aclose` (e.g. the shared event bus's connections)."""
        from convoai_mcp.server.replicas import SharedRecords, database_from_settings

        self.database: Database | None = database_from_settings(settings)
        """The database replicas share (PostgreSQL), or None for one process."""
        self.records: SharedRecords | None = None
        """The record of started agents as the replicas share it, or None."""
        if self.database is not None:
            from convoai_mcp.redact import settings_redactor

            self.records = SharedRecords(
                self.database, self.started, redact=settings_redactor(settings).value
            )

    @property
    def client(self) -> ConvoAIClient:
        """The ConvoAI client (created on first use)."""
        if self._client is None:
            self._client = make_client(self.settings, self.started)
        return self._client

    @property
    def gate(self) -> Gate:
        """The human gate and its approval page (created on first use; the HTTP transport
        mounts the page on its own app)."""
        if self._gate is None:
            from convoai_mcp.redact import settings_redactor
            from convoai_mcp.server.gate import Gate

            self._gate = Gate.from_settings(
                self.settings, redactor=settings_redactor(self.settings)
            )
        return self._gate

    @property
    def guard(self) -> Guard:
        """The safety guard (created on first use)."""
        if self._guard is None:
            from convoai_mcp.server.guard import Guard

            self._guard = Guard.from_settings(
                self.settings,
                self.client,
                subscribed_interval=self.poll_interval,
                gate=self.gate,
                database=self.database,
            )
            # agents that end on their own
            self._guard.on_ended = functools.partial(self.mark_ended, reason=END_ON_ITS_OWN)
            for hook in self.on_guard:
                hook(self._guard)
        return self._guard

    @property
    def max_ended(self) -> int:
        """Ended agents kept in the record (the oldest ended are dropped first)."""
        return self.started.max_ended

    @max_ended.setter
    def max_ended(self, value: int) -> None:
        self.started.max_ended = value

    @property
    def agents(self) -> Mapping[str, StartedAgent]:
        """Agents and calls started here, by id, oldest first (bounded: see :meth:`mark_ended`);
        a read-only view of :attr:`started`."""
        return self.started.agents

    def record(self, agent: StartedAgent) -> None:
        """Remember an agent or call this server started (what the client recorded about it,
        such as its LLM params, is kept)."""
        self.started.record(agent)
        if self.records is not None:
            self.records.put(agent.agent_id)

    def mark_ended(self, agent_id: str, reason: str | None = None) -> None:
        """Note that an agent or call ended, and why (:data:`END_STOPPED`, :data:`END_HUNG_UP`,
        :data:`END_ON_ITS_OWN`). It stays recorded (and listed) until :attr:`max_ended` agents
        ended after it; its transcript stays in the archive. The first end is kept."""
        if self.started.mark_ended(agent_id, reason) and self.records is not None:
            self.records.put(agent_id)

    def listed(self) -> list[StartedAgent]:
        """What ``resources/list`` shows, newest start first: every running agent and the
        :attr:`listed_ended` most recently ended ones."""
        return self.started.listed(self.listed_ended)

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
        get fresh limits and lost the watchers of running agents). With shared records, the
        first one waits until the other replicas' records are loaded."""
        if self.records is not None:
            await self.records.start()
        yield self

    async def aclose(self) -> None:
        """Stop the watchers, close the guard and the approval page and (if this runtime made
        it) the client: at process exit only. A later use creates them again."""
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
            if self._gate is not None:
                await self._gate.aclose()  # the loopback approval page, if it was started
            for close in self.closers:
                await close()
            if self.records is not None:
                await self.records.aclose()
            if self.database is not None:
                await self.database.aclose()
        finally:
            if self._client is not None and self._client is not self._given_client:
                client, self._client = self._client, None
                await client.aclose()
