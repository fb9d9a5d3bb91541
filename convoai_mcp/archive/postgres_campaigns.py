"""The PostgreSQL side of the campaign store
(:class:`~convoai_mcp.archive.campaigns.CampaignStore`), mixed into
:class:`~convoai_mcp.archive.postgres.PostgresArchive`.

A claim is one transaction: the campaign row is locked (``FOR UPDATE``: replicas claiming for
the same campaign take turns, so the in-flight and per-minute counts they read are exact), and
the destinations are taken with ``FOR UPDATE SKIP LOCKED``: two replicas never take the same
number, and neither waits on the other's rows."""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Collection, Mapping, Sequence
from typing import TYPE_CHECKING, Any

from convoai_mcp.archive import campaigns as c

if TYPE_CHECKING:
    from psycopg_pool import AsyncConnectionPool

__all__ = ["PostgresCampaigns"]


def _pg(sql: str) -> str:
    return sql.replace("?", "%s")


class PostgresCampaigns:
    """Campaign methods over the archive's pool (see the module docstring)."""

    # provided by PostgresArchive
    _connection_pool: Callable[[], Awaitable[AsyncConnectionPool[Any]]]
    _clock: Callable[[], float]

    async def create_campaign(
        self, campaign: Mapping[str, Any], destinations: Sequence[Mapping[str, Any]]
    ) -> None:
        pool = await self._connection_pool()
        async with pool.connection() as conn, conn.transaction():
            await conn.execute(_pg(c.INSERT_CAMPAIGN), c.campaign_row(campaign))
            if destinations:
                async with conn.cursor() as cur:
                    await cur.executemany(
                        _pg(c.INSERT_DESTINATION), [c.destination_row(d) for d in destinations]
                    )

    async def get_campaign(self, campaign_id: str) -> dict[str, Any] | None:
        pool = await self._connection_pool()
        async with pool.connection() as conn:
            cur = await conn.execute(_pg(c.SELECT_CAMPAIGN + " WHERE id = ?"), (campaign_id,))
            row = await cur.fetchone()
        return None if row is None else c.decode(c.CAMPAIGN_COLUMNS, row)

    async def list_campaigns(
        self, *, status: str | None = None, limit: int = 50
    ) -> list[dict[str, Any]]:
        where, params = ("WHERE status = ? ", [status]) if status else ("", [])
        pool = await self._connection_pool()
        async with pool.connection() as conn:
            cur = await conn.execute(
                _pg(f"{c.SELECT_CAMPAIGN} {where}ORDER BY created_at DESC, id LIMIT ?"),
                (*params, limit),
            )
            rows = await cur.fetchall()
        return [c.decode(c.CAMPAIGN_COLUMNS, r) for r in rows]

    async def set_campaign_status(
        self,
        campaign_id: str,
        status: str,
        *,
        expect: Collection[str] | None = None,
        stop_mode: str | None = None,
    ) -> bool:
        params = [status, stop_mode, self._clock(), campaign_id, *(expect or ())]
        pool = await self._connection_pool()
        async with pool.connection() as conn:
            cur = await conn.execute(_pg(c.status_sql(expect)), params)
            return bool(cur.rowcount > 0)

    async def list_destinations(self, campaign_id: str) -> list[dict[str, Any]]:
        pool = await self._connection_pool()
        async with pool.connection() as conn:
            cur = await conn.execute(
                _pg(c.SELECT_DESTINATIONS + " WHERE campaign_id = ? ORDER BY idx"), (campaign_id,)
            )
            rows = await cur.fetchall()
        return [c.decode(c.DESTINATION_COLUMNS, r) for r in rows]

    async def destination_counts(self, campaign_id: str) -> dict[str, int]:
        pool = await self._connection_pool()
        async with pool.connection() as conn:
            cur = await conn.execute(_pg(c.COUNT_STATES), (campaign_id,))
            rows = await cur.fetchall()
        return {state: int(n) for state, n in rows}

    async def claim_due(
        self,
        owner: str,
        now: float,
        limit: int,
        lease: float,
        *,
        campaign_id: str | None = None,
        max_in_flight: int | None = None,
        per_minute: int | None = None,
    ) -> list[dict[str, Any]]:
        """See :meth:`CampaignStore.claim_due` and the module docstring."""
        scope = "AND campaign_id = ?" if campaign_id is not None else ""
        extra = (campaign_id,) if campaign_id is not None else ()
        lock = " FOR UPDATE SKIP LOCKED"
        pool = await self._connection_pool()
        async with pool.connection() as conn, conn.transaction():
            room = limit
            if campaign_id is not None:
                await conn.execute("SELECT 1 FROM campaigns WHERE id = %s FOR UPDATE", extra)
                cur = await conn.execute(_pg(c.IN_FLIGHT), (campaign_id, now))
                in_flight = (await cur.fetchone() or (0,))[0]
                cur = await conn.execute(_pg(c.RECENT_DIALS), (campaign_id, now - 60.0, now))
                recent = (await cur.fetchone() or (0,))[0]
                room = c.budget(limit, int(in_flight), int(recent), max_in_flight, per_minute)
            cur = await conn.execute(_pg(c.ORPHANS.format(campaign=scope)) + lock, (now, *extra))
            rows = list(await cur.fetchall())
            if room > 0:
                cur = await conn.execute(
                    _pg(c.DUE.format(campaign=scope)) + lock, (now, now, *extra, room)
                )
                rows += await cur.fetchall()
            claimed = [c.decode(c.DESTINATION_COLUMNS, r) for r in rows]
            if claimed:
                async with conn.cursor() as cur:
                    await cur.executemany(
                        _pg(c.CLAIM),
                        [(owner, now + lease, now, d["campaign_id"], d["idx"]) for d in claimed],
                    )
        for d in claimed:
            d["claim_owner"], d["claim_until"] = owner, now + lease
        return claimed

    async def renew_claims(self, owner: str, now: float, lease: float) -> int:
        pool = await self._connection_pool()
        async with pool.connection() as conn:
            cur = await conn.execute(_pg(c.RENEW), (now + lease, owner))
            return int(cur.rowcount)

    async def update_destination(
        self, campaign_id: str, idx: int, owner: str | None, fields: Mapping[str, Any]
    ) -> bool:
        changes = {**fields, "updated_at": self._clock()}
        sql, params = c.update_sql(changes, fenced=owner is not None)
        params += [campaign_id, idx] + ([owner] if owner is not None else [])
        pool = await self._connection_pool()
        async with pool.connection() as conn:
            cur = await conn.execute(_pg(sql), params)
            return bool(cur.rowcount > 0)

    async def cancel_queued(self, campaign_id: str, reason: str, now: float) -> int:
        pool = await self._connection_pool()
        async with pool.connection() as conn:
            cur = await conn.execute(_pg(c.CANCEL_QUEUED), (reason, now, campaign_id))
            return int(cur.rowcount)
