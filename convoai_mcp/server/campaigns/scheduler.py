"""The campaign scheduler: one per server process, a loop that claims due destinations from the
store and works each through (:mod:`.dialer`) in a task of its own while its call lasts.

Each round (every ``tick`` seconds, or at once when woken: a call ended, a campaign started or
resumed) the scheduler, for every running campaign:

* expires it once its end time passed (queued destinations are cancelled; calls in progress
  finish);
* claims the destinations due now within its pacing (``max_concurrent`` calls in progress, also
  bounded by the server's call limit, and ``calls_per_minute``), and the calls in progress of
  any dead owner (their lease ran out): this is what resumes a campaign after a restart;
* marks it completed when nothing is queued or in progress any more.

It renews the leases of what it holds every round. Memory stays flat: a task exists only while
its call is placed and followed, and nothing per destination is kept once it is done.

The clock is injected (``clock``: Unix seconds; tests pass the emulator's), so pacing, retry
delays and end times follow it.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import secrets
import socket
import time
from collections.abc import Awaitable, Callable
from typing import TYPE_CHECKING, Any

from convoai_mcp.errors import ConvoAIError
from convoai_mcp.server.campaigns import dialer

if TYPE_CHECKING:
    from convoai_mcp.archive.campaigns import CampaignStore
    from convoai_mcp.models import CallRequest
    from convoai_mcp.server.runtime import Runtime

__all__ = ["Scheduler", "campaign_uri"]

logger = logging.getLogger(__name__)

DEFAULT_TICK = 1.0
DEFAULT_LEASE = 30.0


def campaign_uri(campaign_id: str) -> str:
    """The campaign's resource URI."""
    return f"convoai://campaigns/{campaign_id}"


class Scheduler:
    """Runs the campaigns of one server process; see the module docstring."""

    def __init__(
        self,
        rt: Runtime,
        store: CampaignStore,
        *,
        clock: Callable[[], float] = time.time,
        tick: float = DEFAULT_TICK,
        lease: float = DEFAULT_LEASE,
        owner: str | None = None,
    ) -> None:
        self.rt = rt
        self.store = store
        self.clock = clock
        self.tick = tick
        self.lease = lease
        self.owner = owner or f"{socket.gethostname()}:{os.getpid()}:{secrets.token_hex(4)}"
        self.publish: Callable[[str], Awaitable[None]] | None = None
        """Sends ``notifications/resources/updated`` for a campaign URI (set by the server)."""
        self.version = 0
        """Incremented on every change of a campaign this scheduler made (tests wait on it)."""
        self._wake = asyncio.Event()
        self._changed = asyncio.Event()
        self._task: asyncio.Task[None] | None = None
        self._work: dict[tuple[str, int], asyncio.Task[None]] = {}
        self._agents: dict[tuple[str, int], str] = {}
        self._hang_up: set[str] = set()
        self._hung_up: set[str] = set()

    # -- running ----------------------------------------------------------------------------

    @property
    def running(self) -> bool:
        return self._task is not None and not self._task.done()

    def start(self) -> None:
        """Start the loop (idempotent): resumes whatever the store holds."""
        if not self.running:
            self._task = self.rt.spawn(self._loop(), "convoai-campaigns")

    def wake(self) -> None:
        """Run a round now."""
        self._wake.set()

    @property
    def in_flight(self) -> int:
        """Destinations this process is working on now."""
        return len(self._work)

    async def _loop(self) -> None:
        while True:
            try:
                await self.round()
            except Exception as exc:  # a database hiccup: try again next round
                logger.warning("campaign round failed: %s: %s", type(exc).__name__, exc)
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._wake.wait(), self.tick)
            self._wake.clear()

    async def round(self) -> None:
        """One round (see the module docstring)."""
        now = self.clock()
        if self._work:
            await self.store.renew_claims(self.owner, now, self.lease)
        # calls in progress of a dead owner, whatever their campaign's status
        for row in await self.store.claim_due(self.owner, now, 0, self.lease):
            await self._launch(row)
        for campaign in await self.store.list_campaigns(status="running", limit=1000):
            await self._advance(campaign, now)

    async def _advance(self, campaign: dict[str, Any], now: float) -> None:
        cid, spec = campaign["id"], campaign["spec"]
        ends_at = spec.get("ends_at")
        if ends_at is not None and now >= float(ends_at):
            if await self.store.set_campaign_status(cid, "expired", expect=("running",)):
                await self.store.cancel_queued(cid, "the campaign's end time passed", now)
                await self.changed(cid)
            return
        pacing = spec.get("pacing") or {}
        concurrent = int(pacing.get("max_concurrent", 2))
        limit = self.rt.guard.policy.call_limit
        if limit is not None:
            concurrent = min(concurrent, limit)
        claimed = await self.store.claim_due(
            self.owner,
            now,
            concurrent,
            self.lease,
            campaign_id=cid,
            max_in_flight=concurrent,
            per_minute=int(pacing.get("calls_per_minute", 10)),
        )
        for row in claimed:
            await self._launch(row, campaign)
        if not claimed and not any(key[0] == cid for key in self._work):
            counts = await self.store.destination_counts(cid)
            active = any(counts.get(s, 0) for s in ("queued", "dialing", "ringing", "answered"))
            if not active and await self.store.set_campaign_status(
                cid, "completed", expect=("running",)
            ):
                await self.changed(cid)

    async def _launch(self, row: dict[str, Any], campaign: dict[str, Any] | None = None) -> None:
        key = (row["campaign_id"], row["idx"])
        if key in self._work:
            return
        if campaign is None:
            campaign = await self.store.get_campaign(row["campaign_id"])
            if campaign is None:
                return
        task = self.rt.spawn(dialer.run(self, campaign, row), f"convoai-campaign-{key[0]}-{key[1]}")
        self._work[key] = task

    # -- what the dialer calls ----------------------------------------------------------------

    def done(self, campaign_id: str, idx: int) -> None:
        """The dialer is done with a destination."""
        self._work.pop((campaign_id, idx), None)
        agent_id = self._agents.pop((campaign_id, idx), None)
        if agent_id is not None:
            self._hung_up.discard(agent_id)
        self.wake()

    def following(self, campaign_id: str, idx: int, agent_id: str) -> None:
        self._agents[(campaign_id, idx)] = agent_id

    async def finish(self, campaign_id: str, idx: int, fields: dict[str, Any]) -> None:
        """Store a final state and give up the claim."""
        done = {**fields, "next_at": None, "claim_owner": None, "claim_until": None}
        if await self.store.update_destination(campaign_id, idx, self.owner, done):
            await self.changed(campaign_id)

    async def changed(self, campaign_id: str) -> None:
        """A campaign changed: notify its subscribers."""
        self.version += 1
        self._changed.set()
        if self.publish is not None:
            try:
                await self.publish(campaign_uri(campaign_id))
            except Exception:  # best effort: a gone subscriber
                logger.debug("could not notify about campaign %s", campaign_id)

    async def wait_changed(self, within: float) -> bool:
        """Wait until a campaign changes (or ``within`` seconds); True if one did."""
        self._changed.clear()
        try:
            await asyncio.wait_for(self._changed.wait(), within)
        except TimeoutError:
            return False
        return True

    async def status(self, campaign_id: str) -> str | None:
        campaign = await self.store.get_campaign(campaign_id)
        return None if campaign is None else str(campaign["status"])

    def call_request(
        self,
        spec: dict[str, Any],
        row: dict[str, Any],
        *,
        name: str,
        channel: str,
        from_number: str,
    ) -> CallRequest:
        """The create body of one attempt (the campaign's profile or the default agent)."""
        from convoai_mcp.server import defaults, profiled

        settings = self.rt.settings
        arguments: dict[str, Any] = {
            "profile": spec.get("profile"),
            "system_prompt": spec.get("system_prompt"),
            "greeting": spec.get("greeting"),
            "template_variables": row.get("variables") or None,
            **dict.fromkeys(
                ("presets", "pipeline_id", "llm_url", "llm_model", "tts_vendor", "tts_voice")
            ),
            "asr_language": None,
        }
        chosen = profiled.chosen(settings, arguments)
        if chosen is not None:
            return profiled.call_request(
                settings,
                chosen,
                arguments,
                name=name,
                channel=channel,
                agent_uid=settings.agent_uid,
                sip_uid=settings.user_uid,
                to_number=row["number"],
                from_number=from_number,
            )
        agent = defaults.agent_spec(
            settings,
            channel=channel,
            name=name,
            agent_uid=settings.agent_uid,
            remote_uids=[settings.user_uid],
            system_prompt=arguments["system_prompt"],
            greeting=arguments["greeting"],
            presets=None,
            pipeline_id=None,
            llm_url=None,
            llm_model=None,
            tts_vendor=None,
            tts_voice=None,
            asr_language=None,
            idle_timeout=None,
            for_call=True,
        )
        return defaults.call_request(
            settings,
            agent,
            to_number=row["number"],
            from_number=from_number,
            sip_uid=settings.user_uid,
        )

    async def record_dial(
        self,
        campaign_id: str,
        idx: int,
        number: str,
        agent_id: str | None,
        error: str | None,
        *,
        client: str | None = None,
    ) -> None:
        """The audit entry of a placed (or failed) call: what the per-number daily cap counts."""
        from convoai_mcp.server import audit

        item = audit.entry(
            tool="campaign_call",
            arguments={"campaign_id": campaign_id, "index": idx, "to_number": number},
            decision=audit.Decision(decision="approved", channel="campaign"),
            outcome="error" if error else "ok",
            agent_id=agent_id,
            error=error,
            ctx=None,
            redactor=self.rt.guard.redactor,
            placed_number=number if agent_id else None,
            at=time.time(),
        )
        item["client"] = client  # the MCP client that started the campaign
        await audit.record(self.rt.guard.archive, item)

    # -- cancelling ---------------------------------------------------------------------------

    def hang_up_requested(self, campaign_id: str) -> bool:
        return campaign_id in self._hang_up

    def hung_up(self, agent_id: str) -> bool:
        return agent_id in self._hung_up

    async def hang_up(self, agent_id: str) -> None:
        """Hang up one call of a cancelled campaign (its dialer sees it end)."""
        self._hung_up.add(agent_id)
        try:
            await self.rt.client.calls.hangup(agent_id)
        except ConvoAIError as exc:
            logger.info("could not hang up %s: %s", agent_id, exc.message)

    async def cancel(self, campaign_id: str, *, hang_up: bool) -> None:
        """Stop dialing ``campaign_id``; with ``hang_up`` end its calls in progress here."""
        await self.store.cancel_queued(campaign_id, "the campaign was cancelled", self.clock())
        if hang_up:
            self._hang_up.add(campaign_id)
            for (cid, _idx), agent_id in list(self._agents.items()):
                if cid == campaign_id:
                    await self.hang_up(agent_id)
        await self.changed(campaign_id)
        self.wake()
