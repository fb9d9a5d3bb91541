"""State that replicas share through PostgreSQL: limits, watcher leases, events.

Several server processes (replicas behind a load balancer) on one ``CONVOAI_DATABASE_URL``
(``postgresql://…``) act as one server:

* :class:`PostgresLimits` (the :class:`~convoai_mcp.policy.SharedLimits` of the guard): the
  concurrency limits (agents, calls) and the per-minute rate are booked in the tables
  ``limit_slots`` and ``limit_starts``, each booking one transaction under a transaction-level
  advisory lock (:data:`LIMITS_LOCK`): count and insert happen under the lock, never a
  read-then-write race, so N replicas together never start more than allowed. A slot is
  reserved at admission (it expires after ``reservation_ttl`` if the start never reports back),
  bound to the agent id once started, and freed when the agent ended. The replica renews the
  slots of its running agents every ``lease / 3`` seconds; the slots of a replica that died stop
  being renewed and become *orphans* after ``lease`` seconds, which another replica adopts (it
  then watches the agent and frees the slot when it ended).
* :class:`WatchLeases`: one transcript watcher per agent in the whole deployment. A watcher
  polls only while it holds the agent's row in ``watch_leases`` (renewed on every poll, taken
  over once expired); the others follow (:mod:`convoai_mcp.server.watchers`).
* :class:`PostgresBus`: the MCP SDK's ``SubscriptionBus`` over ``LISTEN`` / ``NOTIFY`` on the
  channel :data:`CHANNEL`: an event published on one replica (a transcript changed) reaches the
  listen streams and resource subscribers of every replica.
* :class:`SharedRecords`: the record of started agents (:mod:`convoai_mcp.started`) in the table
  ``started_agents``: what one replica records (started, ended and why) is copied into every
  other replica's record at once (``NOTIFY`` on :data:`RECORDS_CHANNEL`), so any replica lists
  the agent, knows its channel and uid (its request tokens), whether it is an MLLM agent and how
  it ended. The record stays an in-memory copy per replica (the client reads it synchronously).

What stays per replica: the MCP sessions, the approval page's pending approvals, its watcher
tasks, the webhook deduplication.

Clocks: leases compare epoch seconds from each replica's injected clock (``time.time``); keep
replicas' clocks in sync (NTP) well within the lease. psycopg is imported on first use only.
"""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import json
import logging
import os
import socket
import time
import uuid
from collections.abc import Awaitable, Callable
from typing import TYPE_CHECKING, Any

import anyio
import anyio.lowlevel

from convoai_mcp.policy import (
    Kind,
    Policy,
    PolicyError,
    Reservation,
    limit_reached,
    rate_reached,
)
from convoai_mcp.started import END_ON_ITS_OWN, StartedAgent, StartedAgents

if TYPE_CHECKING:
    from mcp.shared.subscriptions import ServerEvent
    from psycopg import AsyncConnection
    from psycopg_pool import AsyncConnectionPool

    from convoai_mcp.config import Settings

__all__ = [
    "CHANNEL",
    "LIMITS_LOCK",
    "RECORDS_CHANNEL",
    "Database",
    "PostgresBus",
    "PostgresLimits",
    "Replicas",
    "SharedRecords",
    "WatchLeases",
    "bus_from_settings",
    "database_from_settings",
    "replica_id",
]

logger = logging.getLogger(__name__)

CHANNEL = "convoai_events"
"""The ``LISTEN`` / ``NOTIFY`` channel of :class:`PostgresBus`."""
RECORDS_CHANNEL = "convoai_started"
"""The ``NOTIFY`` channel of :class:`SharedRecords` (payload: origin and agent id)."""
LIMITS_LOCK = 0x636F6E766F6C6D  # the advisory lock every booking of a slot or a start holds
_BY = "this deployment (every replica)"
_RATE_WINDOW = 60.0
_STALE = 3600.0  # a lease expired this long ago is deleted


def replica_id() -> str:
    """A name for this process, unique in the deployment: host, pid and a random part."""
    return f"{socket.gethostname()[:40]}-{os.getpid()}-{uuid.uuid4().hex[:8]}"


def _database_url(settings: Settings) -> str | None:
    url = settings.database_url
    return url.get_secret_value() if url is not None else None


class Database:
    """A small connection pool on the shared database, migrated on first use."""

    def __init__(
        self,
        url: str,
        *,
        replica: str | None = None,
        clock: Callable[[], float] = time.time,
        max_size: int = 4,
        connect_timeout: float = 10.0,
    ) -> None:
        self._url = url
        self.replica = replica if replica is not None else replica_id()
        """This replica's name in the shared tables."""
        self.clock = clock
        self._max_size = max_size
        self._connect_timeout = connect_timeout
        self._pool: AsyncConnectionPool[Any] | None = None
        self._opening = anyio.Lock()

    @property
    def url(self) -> str:
        """The connection URL (may carry a password: never put it in a message)."""
        return self._url

    @property
    def where(self) -> str:
        """``host:port/dbname``, for messages."""
        from convoai_mcp.archive.postgres import describe_url

        return describe_url(self._url)

    async def pool(self) -> AsyncConnectionPool[Any]:
        """The pool, opened (and the schema migrated) on first use."""
        if self._pool is not None:
            return self._pool
        async with self._opening:
            if self._pool is None:
                import psycopg
                from psycopg_pool import AsyncConnectionPool

                from convoai_mcp.archive.postgres import migrate

                async with await psycopg.AsyncConnection.connect(
                    self._url, connect_timeout=max(1, round(self._connect_timeout))
                ) as conn:
                    await migrate(conn)
                pool: AsyncConnectionPool[Any] = AsyncConnectionPool(
                    self._url,
                    min_size=1,
                    max_size=self._max_size,
                    kwargs={"autocommit": True},
                    timeout=self._connect_timeout,
                    open=False,
                    name="convoai-replicas",
                )
                await pool.open(wait=True, timeout=self._connect_timeout)
                self._pool = pool
        return self._pool

    async def aclose(self) -> None:
        """Close the pool (reopened on the next use)."""
        pool, self._pool = self._pool, None
        if pool is not None:
            await pool.close()


class _Writer:
    """Writes queued by synchronous callers, one at a time, in order (a free written after
    the bind it follows)."""

    def __init__(self, name: str) -> None:
        self._name = name
        self._queue: asyncio.Queue[Callable[[], Awaitable[None]]] = asyncio.Queue()
        self._task: asyncio.Task[None] | None = None

    def put(self, work: Callable[[], Awaitable[None]]) -> None:
        self._queue.put_nowait(work)
        if self._task is None or self._task.done():
            self._task = asyncio.get_running_loop().create_task(self._run(), name=self._name)

    async def _run(self) -> None:
        while not self._queue.empty():
            work = self._queue.get_nowait()
            for attempt in range(2):
                try:
                    await work()
                    break
                except Exception as exc:  # the database went away: the lease heals it later
                    logger.warning("%s: a write failed: %s", self._name, type(exc).__name__)
                    if attempt == 0:
                        await anyio.sleep(0.2)
            self._queue.task_done()

    async def flush(self) -> None:
        """Return once everything queued so far is written (or has failed)."""
        if self._task is not None and not self._task.done():
            await asyncio.shield(self._task)


class PostgresLimits:
    """Concurrency slots and the per-minute rate of a deployment, in the database (see the
    module docstring); implements :class:`~convoai_mcp.policy.SharedLimits`."""

    def __init__(
        self,
        db: Database,
        policy: Policy,
        *,
        reservation_ttl: float = 300.0,
        lease: float = 60.0,
    ) -> None:
        self.db = db
        self.policy = policy
        self.reservation_ttl = reservation_ttl
        self.lease = lease
        """Seconds a bound slot stays this replica's without renewal."""
        self._mine: dict[str, Kind] = {}  # the agents whose slots this replica renews
        self._writer = _Writer("convoai-limits")
        self._heartbeat: asyncio.Task[None] | None = None

    def _now(self) -> float:
        return self.db.clock()

    async def _locked(self, work: Callable[[AsyncConnection[Any], float], Awaitable[Any]]) -> Any:
        """Run ``work(conn, now)`` in one transaction holding :data:`LIMITS_LOCK`."""
        pool = await self.db.pool()
        async with pool.connection() as conn, conn.transaction():
            await conn.execute("SELECT pg_advisory_xact_lock(%s)", (LIMITS_LOCK,))
            return await work(conn, self._now())

    async def _refuse(self, conn: AsyncConnection[Any], kind: Kind, now: float) -> None:
        """Raise :class:`PolicyError` when a start of ``kind`` is over a limit now. One round
        trip: expired reservations and starts older than the rate window are deleted, and the
        counts leave them out (a data-modifying ``WITH`` is not seen by its own query)."""
        window = now - _RATE_WINDOW
        cur = await conn.execute(
            "WITH expired AS (DELETE FROM limit_slots WHERE agent_id IS NULL AND expires <= %s),"
            " old AS (DELETE FROM limit_starts WHERE at <= %s) "
            "SELECT (SELECT count(*) FROM limit_slots WHERE kind = %s"
            " AND NOT (agent_id IS NULL AND expires <= %s)),"
            " (SELECT count(*) FROM limit_starts WHERE at > %s),"
            " (SELECT min(at) FROM limit_starts WHERE at > %s)",
            (now, window, kind, now, window, window),
        )
        row = await cur.fetchone()
        active = int(row[0]) if row is not None else 0
        limit = self.policy.limit(kind)
        if active >= limit:
            raise limit_reached(kind, active, limit, by=_BY)
        rate = self.policy.rate_limit
        if row is not None and int(row[1]) >= rate:
            oldest = float(row[2]) if row[2] is not None else now
            raise rate_reached(rate, oldest + _RATE_WINDOW - now)

    async def _guarded(self, work: Callable[[AsyncConnection[Any], float], Awaitable[Any]]) -> Any:
        """:meth:`_locked`, with a database failure refused as a :class:`PolicyError` (nothing
        starts that the shared limits did not book)."""
        try:
            return await self._locked(work)
        except PolicyError:
            raise
        except Exception as exc:
            raise PolicyError(
                f"the shared limits in the database {self.db.where} could not be booked "
                f"({type(exc).__name__}): nothing was started",
                hint="check that PostgreSQL (CONVOAI_DATABASE_URL) is up, then try again",
            ) from None

    async def check(self, kind: Kind) -> None:
        """Raise :class:`PolicyError` if a reservation of ``kind`` would be refused now."""
        await self._guarded(lambda conn, now: self._refuse(conn, kind, now))

    async def reserve(self, reservation: Reservation) -> None:
        """Book a slot and a rate token for ``reservation`` or raise :class:`PolicyError`."""
        slot_id = uuid.uuid4().hex

        async def book(conn: AsyncConnection[Any], now: float) -> None:
            await self._refuse(conn, reservation.kind, now)
            await conn.execute(  # the slot and the rate token, in one round trip
                "WITH slot AS (INSERT INTO limit_slots (slot_id, kind, agent_id, replica, "
                "created, expires) VALUES (%s, %s, NULL, %s, %s, %s)) "
                "INSERT INTO limit_starts (at) VALUES (%s)",
                (slot_id, reservation.kind, self.db.replica, now, now + self.reservation_ttl, now),
            )

        await self._guarded(book)
        reservation.slot_id = slot_id

    def bind(self, agent_id: str, reservation: Reservation | None, *, kind: Kind) -> None:
        """``agent_id`` started: its reserved slot (or, when that expired, a new one) is bound
        to it and renewed by this replica while it runs."""
        self._mine[agent_id] = kind
        slot_id = reservation.slot_id if reservation is not None else None

        async def write() -> None:
            async def bind(conn: AsyncConnection[Any], now: float) -> None:
                expires = now + self.lease
                cur = await conn.execute(
                    "UPDATE limit_slots SET replica = %s, expires = %s WHERE agent_id = %s "
                    "RETURNING slot_id",
                    (self.db.replica, expires, agent_id),
                )
                if await cur.fetchone() is not None:  # booked already: the reservation goes back
                    await conn.execute(
                        "DELETE FROM limit_slots WHERE slot_id = %s AND agent_id IS NULL",
                        (slot_id,),
                    )
                    return
                cur = await conn.execute(
                    "UPDATE limit_slots SET agent_id = %s, kind = %s, replica = %s, expires = %s "
                    "WHERE slot_id = %s AND agent_id IS NULL RETURNING slot_id",
                    (agent_id, kind, self.db.replica, expires, slot_id),
                )
                if await cur.fetchone() is None:  # the reservation had expired: it counts anyway
                    await conn.execute(
                        "INSERT INTO limit_slots (slot_id, kind, agent_id, replica, created, "
                        "expires) VALUES (%s, %s, %s, %s, %s, %s)",
                        (uuid.uuid4().hex, kind, agent_id, self.db.replica, now, expires),
                    )

            await self._locked(bind)

        self._writer.put(write)
        self._beat()

    def release(self, reservation: Reservation) -> None:
        """Give back a reservation whose start did not happen (idempotent)."""
        slot_id = reservation.slot_id
        if slot_id is None:
            return

        async def write() -> None:
            pool = await self.db.pool()
            async with pool.connection() as conn:
                await conn.execute(
                    "DELETE FROM limit_slots WHERE slot_id = %s AND agent_id IS NULL", (slot_id,)
                )

        self._writer.put(write)

    def ended(self, agent_id: str) -> None:
        """Free ``agent_id``'s slot (whichever replica booked it)."""
        self._mine.pop(agent_id, None)

        async def write() -> None:
            pool = await self.db.pool()
            async with pool.connection() as conn:
                await conn.execute("DELETE FROM limit_slots WHERE agent_id = %s", (agent_id,))

        self._writer.put(write)

    async def orphans(self, kind: Kind) -> list[str]:
        """Agents of ``kind`` whose slots no replica renewed for ``lease`` seconds."""
        pool = await self.db.pool()
        async with pool.connection() as conn:
            cur = await conn.execute(
                "SELECT agent_id FROM limit_slots WHERE kind = %s AND agent_id IS NOT NULL "
                "AND expires <= %s ORDER BY created",
                (kind, self._now()),
            )
            return [str(row[0]) for row in await cur.fetchall()]

    async def adopt(self, agent_id: str) -> bool:
        """Take over an orphan's slot; False when it is not an orphan (any more)."""
        now = self._now()
        pool = await self.db.pool()
        async with pool.connection() as conn:
            cur = await conn.execute(
                "UPDATE limit_slots SET replica = %s, expires = %s "
                "WHERE agent_id = %s AND expires <= %s RETURNING kind",
                (self.db.replica, now + self.lease, agent_id, now),
            )
            row = await cur.fetchone()
        if row is None:
            return False
        self._mine[agent_id] = "call" if row[0] == "call" else "agent"
        self._beat()
        return True

    async def renew(self) -> None:
        """Extend the lease of every slot this replica's running agents hold."""
        if not self._mine:
            return
        pool = await self.db.pool()
        async with pool.connection() as conn:
            await conn.execute(
                "UPDATE limit_slots SET expires = %s WHERE agent_id = ANY(%s) AND replica = %s",
                (self._now() + self.lease, list(self._mine), self.db.replica),
            )

    def _beat(self) -> None:
        if self._heartbeat is None or self._heartbeat.done():
            self._heartbeat = asyncio.get_running_loop().create_task(
                self._renewing(), name="convoai-limits-heartbeat"
            )

    async def _renewing(self) -> None:
        while self._mine:
            await anyio.sleep(self.lease / 3)
            try:
                await self.renew()
            except Exception as exc:  # a lost lease is adopted (and checked) by another replica
                logger.warning("could not renew the shared limit slots: %s", type(exc).__name__)

    async def flush(self) -> None:
        """Return once every queued bind / release / end is written."""
        await self._writer.flush()

    async def aclose(self) -> None:
        """Write what is queued and stop renewing (the slots of running agents stay booked:
        they become orphans that another replica adopts)."""
        with anyio.move_on_after(10):
            await self.flush()
        if self._heartbeat is not None:
            self._heartbeat.cancel()
            with contextlib.suppress(BaseException):
                await self._heartbeat
            self._heartbeat = None


class WatchLeases:
    """Who watches which agent in the deployment: a row per agent in ``watch_leases``."""

    def __init__(self, db: Database, *, ttl: float = 15.0) -> None:
        self.db = db
        self.ttl = ttl
        """Seconds a lease lasts without renewal (then another replica takes it over)."""

    async def hold(self, agent_id: str) -> bool:
        """Take or renew the lease on ``agent_id``; False while another replica holds it."""
        now = self.db.clock()
        pool = await self.db.pool()
        async with pool.connection() as conn:
            cur = await conn.execute(
                "INSERT INTO watch_leases (agent_id, owner, expires) VALUES (%s, %s, %s) "
                "ON CONFLICT (agent_id) DO UPDATE SET owner = excluded.owner, "
                "expires = excluded.expires "
                "WHERE watch_leases.owner = excluded.owner OR watch_leases.expires <= %s "
                "RETURNING owner",
                (agent_id, self.db.replica, now + self.ttl, now),
            )
            return await cur.fetchone() is not None

    async def owner(self, agent_id: str) -> str | None:
        """The replica holding a live lease on ``agent_id``, or None."""
        pool = await self.db.pool()
        async with pool.connection() as conn:
            cur = await conn.execute(
                "SELECT owner FROM watch_leases WHERE agent_id = %s AND expires > %s",
                (agent_id, self.db.clock()),
            )
            row = await cur.fetchone()
        return str(row[0]) if row is not None else None

    async def drop(self, agent_id: str) -> None:
        """Let go of the lease on ``agent_id`` (if this replica holds it)."""
        pool = await self.db.pool()
        async with pool.connection() as conn:
            await conn.execute(  # and the leases dead replicas left behind long ago
                "DELETE FROM watch_leases WHERE (agent_id = %s AND owner = %s) OR expires < %s",
                (agent_id, self.db.replica, self.db.clock() - _STALE),
            )


def _encode(event: ServerEvent, origin: str) -> str:
    from mcp.shared.subscriptions import ResourceUpdated

    if isinstance(event, ResourceUpdated):
        return json.dumps({"o": origin, "k": "resource", "uri": event.uri})
    return json.dumps({"o": origin, "k": type(event).__name__})


def _decode(payload: str) -> tuple[str, ServerEvent] | None:
    from mcp.shared.subscriptions import (
        PromptsListChanged,
        ResourcesListChanged,
        ResourceUpdated,
        ToolsListChanged,
    )

    try:
        data = json.loads(payload)
        origin, kind = str(data["o"]), str(data["k"])
    except (ValueError, KeyError, TypeError):
        return None
    if kind == "resource" and isinstance(data.get("uri"), str):
        return origin, ResourceUpdated(uri=data["uri"])
    simple: dict[str, ServerEvent] = {
        "ToolsListChanged": ToolsListChanged(),
        "PromptsListChanged": PromptsListChanged(),
        "ResourcesListChanged": ResourcesListChanged(),
    }
    event = simple.get(kind)
    return (origin, event) if event is not None else None


class PostgresBus:
    """The SDK's ``SubscriptionBus`` over PostgreSQL ``LISTEN`` / ``NOTIFY``.

    :meth:`publish` delivers to this replica's listeners at once and sends a ``NOTIFY`` on
    :data:`CHANNEL`; one connection per replica ``LISTEN`` s and delivers the events of the
    other replicas (its own are recognised by their origin and skipped). :meth:`start` returns
    once the listening connection is up (it reconnects when the connection drops). Listeners
    are synchronous and called on the event loop, as the SDK requires.
    """

    def __init__(self, url: str, *, origin: str | None = None) -> None:
        self._url = url
        self.origin = origin if origin is not None else replica_id()
        self._listeners: dict[object, Callable[[ServerEvent], None]] = {}
        self._listening: asyncio.Event | None = None
        self._task: asyncio.Task[None] | None = None
        self._sender: AsyncConnection[Any] | None = None
        self._sending = anyio.Lock()
        self.received = 0
        """Events received from other replicas (for tests and diagnostics)."""

    def subscribe(self, listener: Callable[[ServerEvent], None]) -> Callable[[], None]:
        """Register ``listener`` (and start listening); returns the idempotent unsubscribe."""
        token = object()
        self._listeners[token] = listener
        with contextlib.suppress(RuntimeError):  # no running loop: started on the next use
            self._ensure_task()

        def unsubscribe() -> None:
            self._listeners.pop(token, None)

        return unsubscribe

    def _deliver(self, event: ServerEvent) -> None:
        for listener in list(self._listeners.values()):
            try:
                listener(event)
            except Exception:  # fan-out boundary: one listener must not starve the others
                logger.exception("subscription listener raised; continuing")

    async def publish(self, event: ServerEvent) -> None:
        """Deliver ``event`` here and to every other replica (a failed ``NOTIFY`` is logged:
        the local listeners have it already)."""
        self._deliver(event)
        payload = _encode(event, self.origin)
        try:
            async with self._sending:
                if self._sender is None or self._sender.closed:
                    import psycopg

                    self._sender = await psycopg.AsyncConnection.connect(
                        self._url, autocommit=True, connect_timeout=10
                    )
                await self._sender.execute("SELECT pg_notify(%s, %s)", (CHANNEL, payload))
        except Exception as exc:
            logger.warning("could not publish an event to the other replicas: %s", exc)
            self._sender = None
        await anyio.lowlevel.checkpoint()

    def _ensure_task(self) -> asyncio.Event:
        loop = asyncio.get_running_loop()
        if self._listening is None:
            self._listening = asyncio.Event()
        if self._task is None or self._task.done():
            self._task = loop.create_task(self._listen(), name="convoai-bus-listen")
        return self._listening

    async def start(self) -> None:
        """Return once this replica listens (at most 10 s; then events of other replicas
        arrive once the connection is made)."""
        listening = self._ensure_task()
        with anyio.move_on_after(10):
            await listening.wait()

    async def _listen(self) -> None:
        import psycopg

        delay = 0.2
        while True:
            try:
                async with await psycopg.AsyncConnection.connect(
                    self._url, autocommit=True, connect_timeout=10
                ) as conn:
                    await conn.execute(f"LISTEN {CHANNEL}")
                    assert self._listening is not None
                    self._listening.set()
                    delay = 0.2
                    async for notice in conn.notifies():
                        decoded = _decode(notice.payload)
                        if decoded is None or decoded[0] == self.origin:
                            continue
                        self.received += 1
                        self._deliver(decoded[1])
            except asyncio.CancelledError:
                raise
            except Exception as exc:
                logger.warning("listening for other replicas' events failed: %s", exc)
            if self._listening is not None:
                self._listening.clear()
            await anyio.sleep(delay)
            delay = min(delay * 2, 5.0)

    async def aclose(self) -> None:
        """Stop listening and close the connections."""
        task, self._task = self._task, None
        if task is not None:
            task.cancel()
            with contextlib.suppress(BaseException):
                await task
        sender, self._sender = self._sender, None
        if sender is not None:
            with contextlib.suppress(Exception):
                await sender.close()


_FIELDS = frozenset(f.name for f in dataclasses.fields(StartedAgent))
_KEEP_ENDED = 86400.0  # ended agents another replica loads at start-up: those of the last day
_FORGET_ENDED = 30 * 86400.0  # ended agents' rows are deleted after 30 days


def _only_seen(reason: str | None) -> bool:
    """True for an end a replica only saw (or that says nothing), not one it made."""
    return reason is None or reason.startswith(END_ON_ITS_OWN)


class SharedRecords:
    """The record of started agents shared by replicas (see the module docstring).

    :meth:`put` (the runtime calls it when it records an agent or marks it ended) queues the
    write; :meth:`start` loads what the other replicas recorded and then copies their changes
    as they are notified. A replica's own rows are never copied back (its record is the richer
    one: what is written is passed through ``redact`` first). An agent ended stays ended, and
    its first end is kept, except that an end a replica made (stopped, hung up) says more than
    one a replica only saw (:data:`~convoai_mcp.started.END_ON_ITS_OWN`: its watcher saw the
    agent gone, maybe before the other replica's stop was recorded), so it replaces that one.
    """

    def __init__(
        self,
        db: Database,
        started: StartedAgents,
        *,
        redact: Callable[[dict[str, Any]], dict[str, Any]] | None = None,
    ) -> None:
        self.db = db
        self.started = started
        self._redact = redact
        self._writer = _Writer("convoai-records")
        self._task: asyncio.Task[None] | None = None
        self._ready: asyncio.Event | None = None
        self.copied = 0
        """Records copied from other replicas so far."""

    def put(self, agent_id: str) -> None:
        """Write this replica's record of ``agent_id`` for the others (queued)."""
        agent = self.started.get(agent_id)
        if agent is None:
            return
        data = dataclasses.asdict(agent)
        if self._redact is not None:
            data = self._redact(data)
        payload, ended = json.dumps(data, ensure_ascii=False, default=str), agent.ended
        reason = agent.end_reason if ended else None
        notice = json.dumps({"o": self.db.replica, "a": agent_id})

        async def write() -> None:
            origin, now = self.db.replica, self.db.clock()
            pool = await self.db.pool()
            async with pool.connection() as conn, conn.transaction():
                await conn.execute(
                    "INSERT INTO started_agents (agent_id, origin, ended, end_reason, data, "
                    "updated) VALUES (%s, %s, %s, %s, %s, %s) ON CONFLICT (agent_id) DO UPDATE "
                    "SET origin = excluded.origin, ended = excluded.ended, "
                    "end_reason = excluded.end_reason, data = excluded.data, "
                    "updated = excluded.updated "
                    "WHERE NOT started_agents.ended OR (excluded.ended AND "
                    "(started_agents.end_reason IS NULL OR started_agents.end_reason LIKE %s))",
                    (agent_id, origin, ended, reason, payload, now, END_ON_ITS_OWN + "%"),
                )
                await conn.execute("SELECT pg_notify(%s, %s)", (RECORDS_CHANNEL, notice))

        self._writer.put(write)

    def _copy(self, origin: str, ended: bool, data: str) -> None:
        """Copy another replica's row into this replica's record."""
        if origin == self.db.replica:
            return
        try:
            fields = {k: v for k, v in json.loads(data).items() if k in _FIELDS}
            agent = StartedAgent(**fields)
        except (ValueError, TypeError) as exc:
            logger.info("skipping a shared record that does not read: %s", exc)
            return
        local = self.started.get(agent.agent_id)
        if local is not None and local.ended and ended and _only_seen(local.end_reason):
            local.end_reason = agent.end_reason  # how it was ended says more than "it ended"
            self.copied += 1
            return
        if local is not None and (local.ended or not ended):
            return  # ours says as much already (or more)
        if local is None:
            self.started.record(agent)
        if ended:
            self.started.mark_ended(agent.agent_id, agent.end_reason)
        self.copied += 1

    async def _load(self, agent_id: str | None = None) -> None:
        pool = await self.db.pool()
        async with pool.connection() as conn:
            if agent_id is None:  # at start-up: forget the long ended, load the others
                await conn.execute(
                    "DELETE FROM started_agents WHERE ended AND updated < %s",
                    (self.db.clock() - _FORGET_ENDED,),
                )
                cur = await conn.execute(
                    "SELECT origin, ended, data FROM started_agents "
                    "WHERE NOT ended OR updated > %s ORDER BY updated LIMIT 4096",
                    (self.db.clock() - _KEEP_ENDED,),
                )
            else:
                cur = await conn.execute(
                    "SELECT origin, ended, data FROM started_agents WHERE agent_id = %s",
                    (agent_id,),
                )
            rows = await cur.fetchall()
        for origin, ended, data in rows:
            self._copy(str(origin), bool(ended), str(data))

    async def start(self) -> None:
        """Load the other replicas' records and copy their changes from now on (the first call
        returns once listening, at most 10 s; idempotent)."""
        first = self._ready is None
        if self._ready is None:
            self._ready = asyncio.Event()
        if self._task is None or self._task.done():
            self._task = asyncio.get_running_loop().create_task(
                self._listen(), name="convoai-records-listen"
            )
        if first:  # later sessions do not wait for a database that is down
            with anyio.move_on_after(10):
                await self._ready.wait()

    async def _listen(self) -> None:
        import psycopg

        delay = 0.2
        while True:
            try:
                async with await psycopg.AsyncConnection.connect(
                    self.db.url, autocommit=True, connect_timeout=10
                ) as conn:
                    await conn.execute(f"LISTEN {RECORDS_CHANNEL}")
                    await self._load()  # after LISTEN: nothing falls between the two
                    assert self._ready is not None
                    self._ready.set()
                    delay = 0.2
                    async for notice in conn.notifies():
                        try:
                            told = json.loads(notice.payload)
                            origin, agent_id = str(told["o"]), str(told["a"])
                        except (ValueError, KeyError, TypeError):
                            continue
                        if origin != self.db.replica:
                            await self._load(agent_id)
            except asyncio.CancelledError:
                raise
            except Exception as exc:
                logger.warning("copying other replicas' records failed: %s", exc)
            await anyio.sleep(delay)
            delay = min(delay * 2, 5.0)

    async def flush(self) -> None:
        """Return once every queued write is written."""
        await self._writer.flush()

    async def aclose(self) -> None:
        """Write what is queued and stop copying."""
        with anyio.move_on_after(10):
            await self.flush()
        task, self._task = self._task, None
        if task is not None:
            task.cancel()
            with contextlib.suppress(BaseException):
                await task


class Replicas:
    """What one replica shares with the others: the database, its limits and watcher leases."""

    def __init__(self, db: Database, policy: Policy, *, owns_db: bool = True) -> None:
        self.db = db
        self.limits = PostgresLimits(db, policy)
        self.leases = WatchLeases(db)
        self._owns_db = owns_db

    @classmethod
    def from_settings(
        cls, settings: Settings, policy: Policy, *, db: Database | None = None
    ) -> Replicas | None:
        """The shared state of ``CONVOAI_DATABASE_URL`` (PostgreSQL), or None without one;
        on ``db`` when given (the runtime's, which it closes)."""
        if db is not None:
            return cls(db, policy, owns_db=False)
        url = _database_url(settings)
        if url is None:
            return None
        return cls(Database(url), policy)

    async def aclose(self) -> None:
        """Write what is queued and close the pool (if it is ours)."""
        await self.limits.aclose()
        if self._owns_db:
            await self.db.aclose()


def database_from_settings(settings: Settings) -> Database | None:
    """The shared database of ``CONVOAI_DATABASE_URL`` (PostgreSQL), or None."""
    url = _database_url(settings)
    return Database(url) if url is not None else None


def bus_from_settings(settings: Settings) -> PostgresBus | None:
    """The event bus replicas share (``CONVOAI_DATABASE_URL``), or None (the SDK's in-memory
    bus then serves one process)."""
    url = _database_url(settings)
    return PostgresBus(url) if url is not None else None
