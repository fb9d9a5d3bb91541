"""``POST /webhooks/agora``: the service's notification callbacks (NCS), on the HTTP transports.

Served when ``CONVOAI_WEBHOOK_SECRET`` is set (the secret configured for the project's
notifications in the Agora console); register ``https://<this server>/webhooks/agora`` there. What
Agora sends (``../shared/spec/agora-webhooks.md``): a JSON body ``{noticeId, productId, eventType,
notifyMs, payload}``, signed with the secret over the **raw body**: ``Agora-Signature-V2`` =
hex HMAC-SHA256, ``Agora-Signature`` = hex HMAC-SHA1.

* **Signature**: V2 is checked when present, else V1; compared in constant time
  (:func:`hmac.compare_digest`). An unsigned or mis-signed delivery gets 401 and is not looked at
  further. The endpoint is outside the bearer token and the Host check (Agora has neither): the
  signature is its authentication.
* **Deduplication**: deliveries repeat (retries) and arrive out of order; one already accepted
  (same ``noticeId``) is answered 200 ``duplicate`` and not handled again. The last
  :data:`REMEMBERED` notice ids are remembered, per process.
* **Fast answers**: the delivery is checked, recorded and answered; a new event of a known type
  is handed to :attr:`AgoraWebhooks.on_event` first, which only queues it (the event feed,
  :mod:`convoai_mcp.server.events`, works in its own task), so nothing slow runs before the
  answer (Agora retries after 10 s).
* Unknown event types are accepted and recorded (``name`` ``None``), never an error: the service
  may add some. A body that is not a notification (not JSON, no ``noticeId``) gets 400.

Accepted events are kept in :attr:`AgoraWebhooks.events` (the last :data:`REMEMBERED`) and
logged (type and ids only); the feed applies them to the archive, the started-agent records, the
limit slots, the watchers and resource updates.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import logging
from collections import OrderedDict, deque
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from convoai_mcp.server.events import EVENT_NAMES, WebhookEvent

if TYPE_CHECKING:
    from starlette.types import Receive, Scope, Send

__all__ = ["EVENT_NAMES", "REMEMBERED", "WEBHOOK_PATH", "AgoraWebhooks", "WebhookEvent"]

WEBHOOK_PATH = "/webhooks/agora"
REMEMBERED = 10_000
"""How many notice ids (and events) are remembered for deduplication."""

logger = logging.getLogger("convoai_mcp.webhooks")


@dataclass
class AgoraWebhooks:
    """The ASGI app of :data:`WEBHOOK_PATH` (see the module docstring)."""

    secret: bytes
    max_body_bytes: int = 1024 * 1024
    on_event: Callable[[WebhookEvent], object] | None = None
    """Called with each new event of a known type, just before the answer: the event feed's
    :meth:`~convoai_mcp.server.events.EventFeed.submit`, which only queues it (never waits)."""
    events: deque[WebhookEvent] = field(default_factory=lambda: deque(maxlen=REMEMBERED))
    _seen: OrderedDict[str, None] = field(default_factory=OrderedDict)

    def verify(self, body: bytes, headers: dict[str, str]) -> bool:
        """True when the body carries a valid signature (V2 when present, else V1)."""
        v2 = headers.get("agora-signature-v2")
        if v2 is not None:
            expected = hmac.new(self.secret, body, hashlib.sha256).hexdigest()
            return hmac.compare_digest(v2.strip().lower().encode(), expected.encode())
        v1 = headers.get("agora-signature")
        if v1 is not None:
            expected = hmac.new(self.secret, body, hashlib.sha1).hexdigest()
            return hmac.compare_digest(v1.strip().lower().encode(), expected.encode())
        return False

    def accept(self, notice: dict[str, Any]) -> tuple[bool, WebhookEvent]:
        """Record ``notice``; ``(False, event)`` when its ``noticeId`` was accepted before."""
        notice_id = str(notice["noticeId"])
        raw_type = notice.get("eventType")
        event_type = (
            raw_type if isinstance(raw_type, int) and not isinstance(raw_type, bool) else None
        )
        notify = notice.get("notifyMs")
        payload = notice.get("payload")
        event = WebhookEvent(
            notice_id=notice_id,
            event_type=event_type,
            name=EVENT_NAMES.get(event_type) if event_type is not None else None,
            notify_ms=notify if isinstance(notify, int) and not isinstance(notify, bool) else None,
            payload=payload if isinstance(payload, dict) else {},
        )
        if notice_id in self._seen:
            self._seen.move_to_end(notice_id)
            return False, event
        self._seen[notice_id] = None
        while len(self._seen) > REMEMBERED:
            self._seen.popitem(last=False)
        self.events.append(event)
        return True, event

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope.get("method") != "POST":
            await _answer(send, 405, "method not allowed", allow=True)
            return
        body = await _read_body(receive, self.max_body_bytes)
        if body is None:
            await _answer(send, 413, "body too large")
            return
        headers = {
            key.decode("latin-1").lower(): value.decode("latin-1")
            for key, value in scope.get("headers", [])
        }
        if not self.verify(body, headers):
            logger.warning("webhook refused: missing or invalid signature")
            await _answer(send, 401, "invalid signature")
            return
        try:
            notice = json.loads(body)
        except ValueError:
            notice = None
        if not isinstance(notice, dict) or not isinstance(notice.get("noticeId"), str | int):
            await _answer(send, 400, "not a notification (JSON with a noticeId)")
            return
        fresh, event = self.accept(notice)
        if not fresh:
            await _answer(send, 200, "duplicate")
            return
        logger.info(
            "webhook %s (%s) for agent %s",
            event.event_type,
            event.name or "unknown type",
            event.agent_id or "-",
        )
        if event.name is not None and self.on_event is not None:
            self.on_event(event)  # only queued: the feed works in its own task, after the answer
        await _answer(send, 200, "ok" if event.name is not None else "ignored")


async def _read_body(receive: Receive, limit: int) -> bytes | None:
    """The whole request body, or ``None`` once it exceeds ``limit`` bytes."""
    chunks: list[bytes] = []
    size = 0
    while True:
        message = await receive()
        if message["type"] == "http.disconnect":
            break
        chunk = message.get("body", b"")
        size += len(chunk)
        if size > limit:
            return None
        chunks.append(chunk)
        if not message.get("more_body", False):
            break
    return b"".join(chunks)


async def _answer(send: Send, status: int, word: str, *, allow: bool = False) -> None:
    body = json.dumps({"status": word}).encode()
    headers = [
        (b"content-type", b"application/json"),
        (b"content-length", str(len(body)).encode()),
    ]
    if allow:
        headers.append((b"allow", b"POST"))
    await send({"type": "http.response.start", "status": status, "headers": headers})
    await send({"type": "http.response.body", "body": body})
