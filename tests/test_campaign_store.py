"""The campaign store, against both archive backends (SQLite always; PostgreSQL through the
shared fixture): campaigns and destinations round-trip, claims respect pacing, two owners never
take the same destination, an expired lease is taken over, writes are fenced by the claim."""

from __future__ import annotations

import sqlite3
from collections.abc import AsyncIterator, Callable
from pathlib import Path
from typing import Any

import anyio
import pytest

from convoai_mcp.archive import open_archive
from convoai_mcp.archive.campaigns import CampaignStore


class Clock:
    def __init__(self) -> None:
        self.now = 1_000_000.0

    def __call__(self) -> float:
        return self.now


Opener = Callable[[], Any]


@pytest.fixture(params=["sqlite", "postgres"])
async def opener(request: pytest.FixtureRequest, tmp_path: Path) -> AsyncIterator[Opener]:
    if request.param == "sqlite":
        location = str(tmp_path / "a.sqlite3")
    else:
        location = request.getfixturevalue("postgres_url")
    opened: list[Any] = []

    def open_one() -> Any:
        archive = open_archive(location, clock=Clock())
        opened.append(archive)
        return archive

    try:
        yield open_one
    finally:
        for archive in opened:
            await archive.aclose()


def destinations(n: int, **extra: Any) -> list[dict[str, Any]]:
    return [
        {
            "idx": i,
            "campaign_id": "c1",
            "number": f"+1415555{i:04d}",
            "variables": {"name": f"P{i}"},
            "state": "queued",
            "updated_at": 0.0,
            **extra,
        }
        for i in range(n)
    ]


CAMPAIGN = {
    "id": "c1",
    "name": "Reminders",
    "status": "running",
    "spec": {"pacing": {"max_concurrent": 2}},
    "created_at": 1.0,
    "created_by": "test",
    "updated_at": 1.0,
}


async def test_a_campaign_and_its_destinations_round_trip(opener: Opener) -> None:
    store = opener()
    assert isinstance(store, CampaignStore)
    rows = destinations(3)
    rows[2].update(state="skipped", rule="call_hours", reason="outside the calling window")
    await store.create_campaign(CAMPAIGN, rows)
    campaign = await store.get_campaign("c1")
    assert campaign is not None
    assert (campaign["name"], campaign["status"], campaign["spec"]) == (
        "Reminders",
        "running",
        {"pacing": {"max_concurrent": 2}},
    )
    listed = await store.list_destinations("c1")
    assert [d["number"] for d in listed] == ["+14155550000", "+14155550001", "+14155550002"]
    assert listed[0]["variables"] == {"name": "P0"} and listed[0]["attempts"] == []
    assert listed[2]["rule"] == "call_hours"
    assert await store.destination_counts("c1") == {"queued": 2, "skipped": 1}
    assert [c["id"] for c in await store.list_campaigns()] == ["c1"]
    assert await store.list_campaigns(status="paused") == []
    assert await store.get_campaign("nope") is None
    # a second archive on the same storage (a restart) sees it
    assert (await opener().get_campaign("c1"))["name"] == "Reminders"


async def test_claims_respect_concurrency_and_rate(opener: Opener) -> None:
    store = opener()
    await store.create_campaign(CAMPAIGN, destinations(5))
    first = await store.claim_due(
        "a", 100.0, 10, 30.0, campaign_id="c1", max_in_flight=2, per_minute=3
    )
    assert [d["idx"] for d in first] == [0, 1]
    # claimed, not dialled yet: they count against the pacing already (a second round in a
    # row must not take the same budget again)
    assert await store.claim_due("a", 100.5, 10, 30.0, campaign_id="c1", max_in_flight=2) == []
    for d in first:  # dialled: in flight, counted against the pacing
        assert await store.update_destination(
            "c1", d["idx"], "a", {"state": "dialing", "dialed_at": 100.0}
        )
    none = await store.claim_due("a", 101.0, 10, 30.0, campaign_id="c1", max_in_flight=2)
    assert none == []
    await store.update_destination("c1", 0, "a", {"state": "ended", "claim_owner": None})
    # one slot free, but the per-minute budget allows one more only
    more = await store.claim_due(
        "a", 102.0, 10, 30.0, campaign_id="c1", max_in_flight=3, per_minute=3
    )
    assert [d["idx"] for d in more] == [2]
    # a paused campaign gives nothing new
    assert await store.set_campaign_status("c1", "paused", expect=("running",))
    assert await store.claim_due("a", 120.0, 10, 30.0, campaign_id="c1") == []
    assert not await store.set_campaign_status("c1", "paused", expect=("running",))


async def test_not_due_yet_is_not_claimed(opener: Opener) -> None:
    store = opener()
    rows = destinations(2)
    rows[0]["next_at"] = 500.0
    await store.create_campaign(CAMPAIGN, rows)
    assert [d["idx"] for d in await store.claim_due("a", 100.0, 10, 1000.0)] == [1]
    assert [d["idx"] for d in await store.claim_due("a", 600.0, 10, 30.0)] == [0]


async def test_two_owners_at_once_never_take_the_same_destination(opener: Opener) -> None:
    await opener().create_campaign(CAMPAIGN, destinations(40))
    stores = [opener(), opener()]
    taken: dict[str, list[int]] = {"a": [], "b": []}

    async def claim(owner: str, store: Any) -> None:
        for _ in range(10):
            got = await store.claim_due(owner, 100.0, 3, 30.0, campaign_id="c1")
            taken[owner] += [d["idx"] for d in got]

    async with anyio.create_task_group() as tg:
        tg.start_soon(claim, "a", stores[0])
        tg.start_soon(claim, "b", stores[1])
    both = taken["a"] + taken["b"]
    assert sorted(both) == list(range(40))  # every destination once, none twice


async def test_an_expired_lease_is_taken_over_and_the_old_owner_is_fenced_out(
    opener: Opener,
) -> None:
    store = opener()
    await store.create_campaign(CAMPAIGN, destinations(1))
    [mine] = await store.claim_due("dead", 100.0, 1, 30.0)
    await store.update_destination("c1", 0, "dead", {"state": "dialing", "dialed_at": 100.0})
    assert await store.claim_due("alive", 120.0, 1, 30.0) == []  # the lease still holds
    [taken] = await store.claim_due("alive", 131.0, 1, 30.0)  # expired: taken over
    assert (taken["idx"], taken["state"], taken["claim_owner"]) == (0, "dialing", "alive")
    assert not await store.update_destination("c1", 0, "dead", {"state": "failed"})
    assert await store.update_destination("c1", 0, "alive", {"state": "ringing"})
    assert (await store.list_destinations("c1"))[0]["state"] == "ringing"
    # renewing keeps it
    assert await store.renew_claims("alive", 160.0, 30.0) == 1
    assert await store.claim_due("other", 170.0, 1, 30.0) == []
    assert mine["number"] == "+14155550000"


async def test_cancelling_marks_only_the_queued(opener: Opener) -> None:
    store = opener()
    await store.create_campaign(CAMPAIGN, destinations(3))
    await store.claim_due("a", 100.0, 1, 30.0)
    await store.update_destination("c1", 0, "a", {"state": "ringing"})
    assert await store.cancel_queued("c1", "cancelled by the user", 101.0) == 2
    assert await store.destination_counts("c1") == {"ringing": 1, "cancelled": 2}
    assert await store.set_campaign_status("c1", "cancelled", stop_mode="finish")
    assert (await store.get_campaign("c1"))["stop_mode"] == "finish"


def test_sqlite_schema_is_created_alongside_the_archive(tmp_path: Path) -> None:
    from convoai_mcp.archive.sqlite import SQLiteArchive

    archive = SQLiteArchive(tmp_path / "x.sqlite3")
    archive.check_sync()
    archive.close()
    with sqlite3.connect(tmp_path / "x.sqlite3") as conn:
        names = {r[0] for r in conn.execute("SELECT name FROM sqlite_master WHERE type='table'")}
    assert {"campaigns", "campaign_destinations"} <= names
