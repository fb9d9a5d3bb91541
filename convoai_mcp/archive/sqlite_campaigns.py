"""The SQLite side of the campaign store (:class:`~convoai_mcp.archive.campaigns.CampaignStore`),
mixed into :class:`~convoai_mcp.archive.sqlite.SQLiteArchive`: each method is one transaction
(claims under ``BEGIN IMMEDIATE``, so processes sharing the file never take the same number)."""

from __future__ import annotations

import sqlite3
from collections.abc import Callable, Collection, Mapping, Sequence
from contextlib import AbstractContextManager
from functools import partial
from typing import Any, TypeVar

from convoai_mcp.archive import campaigns as c

__all__ = ["SQLiteCampaigns"]

_R = TypeVar("_R")


class SQLiteCampaigns:
    """Campaign methods over the archive's connection (see the module docstring)."""

    # provided by SQLiteArchive
    _locked: Callable[[], AbstractContextManager[sqlite3.Connection]]
    _clock: Callable[[], float]
    _txn: Callable[[sqlite3.Connection], AbstractContextManager[None]]

    async def _run_campaign(self, func: Callable[[], _R]) -> _R:
        import anyio.to_thread

        return await anyio.to_thread.run_sync(func)

    # -- sync -------------------------------------------------------------------------------

    def create_campaign_sync(
        self, campaign: Mapping[str, Any], destinations: Sequence[Mapping[str, Any]]
    ) -> None:
        """Store a campaign and its destinations in one transaction."""
        with self._locked() as conn, self._txn(conn):
            conn.execute(c.INSERT_CAMPAIGN, c.campaign_row(campaign))
            conn.executemany(c.INSERT_DESTINATION, [c.destination_row(d) for d in destinations])

    def get_campaign_sync(self, campaign_id: str) -> dict[str, Any] | None:
        with self._locked() as conn:
            row = conn.execute(c.SELECT_CAMPAIGN + " WHERE id = ?", (campaign_id,)).fetchone()
        return None if row is None else c.decode(c.CAMPAIGN_COLUMNS, row)

    def list_campaigns_sync(
        self, *, status: str | None = None, limit: int = 50
    ) -> list[dict[str, Any]]:
        where, params = ("WHERE status = ? ", [status]) if status else ("", [])
        with self._locked() as conn:
            rows = conn.execute(
                f"{c.SELECT_CAMPAIGN} {where}ORDER BY created_at DESC, id LIMIT ?",
                (*params, limit),
            ).fetchall()
        return [c.decode(c.CAMPAIGN_COLUMNS, r) for r in rows]

    def set_campaign_status_sync(
        self,
        campaign_id: str,
        status: str,
        *,
        expect: Collection[str] | None = None,
        stop_mode: str | None = None,
    ) -> bool:
        params = [status, stop_mode, self._clock(), campaign_id, *(expect or ())]
        with self._locked() as conn, self._txn(conn):
            cur = conn.execute(c.status_sql(expect), params)
        return cur.rowcount > 0

    def list_destinations_sync(self, campaign_id: str) -> list[dict[str, Any]]:
        with self._locked() as conn:
            rows = conn.execute(
                c.SELECT_DESTINATIONS + " WHERE campaign_id = ? ORDER BY idx", (campaign_id,)
            ).fetchall()
        return [c.decode(c.DESTINATION_COLUMNS, r) for r in rows]

    def destination_counts_sync(self, campaign_id: str) -> dict[str, int]:
        with self._locked() as conn:
            rows = conn.execute(c.COUNT_STATES, (campaign_id,)).fetchall()
        return {state: int(n) for state, n in rows}

    def claim_due_sync(
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
        """See :meth:`CampaignStore.claim_due`."""
        scope = "AND campaign_id = ?" if campaign_id is not None else ""
        extra = (campaign_id,) if campaign_id is not None else ()
        with self._locked() as conn, self._txn(conn):
            orphans = conn.execute(c.ORPHANS.format(campaign=scope), (now, *extra)).fetchall()
            room = limit
            if campaign_id is not None:
                in_flight = conn.execute(c.IN_FLIGHT, (campaign_id, now)).fetchone()[0]
                recent = conn.execute(c.RECENT_DIALS, (campaign_id, now - 60.0, now)).fetchone()[0]
                room = c.budget(limit, int(in_flight), int(recent), max_in_flight, per_minute)
            due = []
            if room > 0:
                due = conn.execute(
                    c.DUE.format(campaign=scope), (now, now, *extra, room)
                ).fetchall()
            claimed = [c.decode(c.DESTINATION_COLUMNS, r) for r in (*orphans, *due)]
            conn.executemany(
                c.CLAIM,
                [(owner, now + lease, now, d["campaign_id"], d["idx"]) for d in claimed],
            )
        for d in claimed:
            d["claim_owner"], d["claim_until"] = owner, now + lease
        return claimed

    def renew_claims_sync(self, owner: str, now: float, lease: float) -> int:
        with self._locked() as conn, self._txn(conn):
            cur = conn.execute(c.RENEW, (now + lease, owner))
        return cur.rowcount

    def update_destination_sync(
        self, campaign_id: str, idx: int, owner: str | None, fields: Mapping[str, Any]
    ) -> bool:
        changes = {**fields, "updated_at": self._clock()}
        sql, params = c.update_sql(changes, fenced=owner is not None)
        params += [campaign_id, idx] + ([owner] if owner is not None else [])
        with self._locked() as conn, self._txn(conn):
            cur = conn.execute(sql, params)
        return cur.rowcount > 0

    def cancel_queued_sync(self, campaign_id: str, reason: str, now: float) -> int:
        with self._locked() as conn, self._txn(conn):
            cur = conn.execute(c.CANCEL_QUEUED, (reason, now, campaign_id))
        return cur.rowcount

    # -- async ------------------------------------------------------------------------------

    async def create_campaign(
        self, campaign: Mapping[str, Any], destinations: Sequence[Mapping[str, Any]]
    ) -> None:
        await self._run_campaign(
            partial(self.create_campaign_sync, dict(campaign), [dict(d) for d in destinations])
        )

    async def get_campaign(self, campaign_id: str) -> dict[str, Any] | None:
        return await self._run_campaign(partial(self.get_campaign_sync, campaign_id))

    async def list_campaigns(
        self, *, status: str | None = None, limit: int = 50
    ) -> list[dict[str, Any]]:
        return await self._run_campaign(
            partial(self.list_campaigns_sync, status=status, limit=limit)
        )

    async def set_campaign_status(
        self,
        campaign_id: str,
        status: str,
        *,
        expect: Collection[str] | None = None,
        stop_mode: str | None = None,
    ) -> bool:
        return await self._run_campaign(
            partial(
                self.set_campaign_status_sync,
                campaign_id,
                status,
                expect=tuple(expect) if expect else None,
                stop_mode=stop_mode,
            )
        )

    async def list_destinations(self, campaign_id: str) -> list[dict[str, Any]]:
        return await self._run_campaign(partial(self.list_destinations_sync, campaign_id))

    async def destination_counts(self, campaign_id: str) -> dict[str, int]:
        return await self._run_campaign(partial(self.destination_counts_sync, campaign_id))

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
        return await self._run_campaign(
            partial(
                self.claim_due_sync,
                owner,
                now,
                limit,
                lease,
                campaign_id=campaign_id,
                max_in_flight=max_in_flight,
                per_minute=per_minute,
            )
        )

    async def renew_claims(self, owner: str, now: float, lease: float) -> int:
        return await self._run_campaign(partial(self.renew_claims_sync, owner, now, lease))

    async def update_destination(
        self, campaign_id: str, idx: int, owner: str | None, fields: Mapping[str, Any]
    ) -> bool:
        return await self._run_campaign(
            partial(self.update_destination_sync, campaign_id, idx, owner, dict(fields))
        )

    async def cancel_queued(self, campaign_id: str, reason: str, now: float) -> int:
        return await self._run_campaign(partial(self.cancel_queued_sync, campaign_id, reason, now))
