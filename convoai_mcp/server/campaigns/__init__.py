"""Campaigns: many calls, paced, retried, durable across restarts, with a report.

* :mod:`.models`: what the campaign tools take and return;
* :mod:`.service`: what the tools do (vet the list, one approval, store, view, pause / resume /
  cancel);
* :mod:`.scheduler`: the loop that claims due destinations and paces them;
* :mod:`.dialer`: one try at one destination, exactly once;
* storage: the archive (:mod:`convoai_mcp.archive.campaigns`), both backends.

:func:`scheduler_of` gives a runtime's one scheduler (made on first use, started by the server's
lifespan: running campaigns resume at start-up).
"""

from __future__ import annotations

import weakref
from collections.abc import Awaitable, Callable
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from convoai_mcp.server.campaigns.scheduler import Scheduler
    from convoai_mcp.server.runtime import Runtime

__all__ = ["ensure_started", "scheduler_of", "set_publisher"]

Publish = Callable[[str], Awaitable[None]]

_SCHEDULERS: weakref.WeakKeyDictionary[Runtime, Scheduler] = weakref.WeakKeyDictionary()
_PUBLISHERS: weakref.WeakKeyDictionary[Runtime, Publish] = weakref.WeakKeyDictionary()


def set_publisher(rt: Runtime, publish: Publish) -> None:
    """How the runtime's scheduler notifies subscribers of a campaign URI."""
    _PUBLISHERS[rt] = publish
    found = _SCHEDULERS.get(rt)
    if found is not None:
        found.publish = publish


def scheduler_of(rt: Runtime) -> Scheduler | None:
    """The runtime's scheduler, or None when there is no archive to keep campaigns in
    (``CONVOAI_ARCHIVE=off``)."""
    found = _SCHEDULERS.get(rt)
    if found is not None:
        return found
    from convoai_mcp.archive.campaigns import CampaignStore
    from convoai_mcp.server.campaigns.scheduler import Scheduler

    store: object = rt.guard.archive
    if not isinstance(store, CampaignStore):
        return None
    settings = rt.settings
    made = Scheduler(rt, store, lease=float(settings.campaign_lease_seconds))
    made.publish = _PUBLISHERS.get(rt)
    _SCHEDULERS[rt] = made
    return made


def ensure_started(rt: Runtime) -> None:
    """Start the runtime's scheduler if campaigns can be kept (idempotent)."""
    scheduler = scheduler_of(rt)
    if scheduler is not None:
        scheduler.start()
