"""A human's approval, given on a page the model cannot fill in: the store and the page.

**The store** (:class:`ApprovalStore`) holds pending approvals. Each has one unguessable
single-use token (32 random bytes, URL-safe), a short expiry (default :data:`APPROVAL_TTL`, five
minutes, on an injected monotonic clock) and is bound to a *fingerprint* of the exact request
(:meth:`ApprovalStore.fingerprint`: a keyed hash of the tool name and its canonical JSON
arguments), so a different request needs a new approval. States::

    pending ──approve──▶ approved ──consume──▶ used
       │  └───deny────▶ denied
       └──(ttl)───────▶ expired   (an approved one also expires if not used within the ttl)

**The page** (:func:`approval_app` / :func:`approval_routes`): ``GET /approve/{token}`` shows
exactly what will happen (the number, its country and local time, the caller id, the agent's
configuration, the LLM endpoint when it is not the configured one, a cost warning) with Approve
and Deny buttons. Only ``POST /approve/{token}`` changes state, and only when the request comes
from the page's own origin: ``Host`` must be a loopback name (or one of ``allowed_hosts``; this
defeats DNS rebinding) and ``Origin`` (or, without it, ``Referer``) must be that same origin.
The form also carries the fingerprint, so a page for one request cannot approve another.
Replayed, expired, altered or cross-origin requests get a clear page and change nothing. Every
shown value is HTML-escaped and passed through a :class:`~convoai_mcp.redact.Redactor`, the page
has no scripts and no remote assets, and its headers forbid framing, caching and cross-origin
referrers.

**Serving**: :func:`serve_approvals` runs the page on loopback on an ephemeral port (uvicorn);
``approval_routes(store)`` can instead be added to an existing Starlette app's routes. The
approval link is :meth:`ApprovalStore.link`.
"""

from __future__ import annotations

import contextlib
import hashlib
import hmac
import html
import json
import secrets
import time
from collections.abc import AsyncIterator, Callable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime, timedelta
from typing import Any, Literal
from urllib.parse import parse_qs, urlsplit
from zoneinfo import ZoneInfo

import anyio
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import HTMLResponse, Response
from starlette.routing import Route

from convoai_mcp.phone import PhoneNumber, country_name
from convoai_mcp.redact import Redactor
from convoai_mcp.server._net import is_loopback

__all__ = [
    "APPROVAL_TTL",
    "DEFAULT_COST_WARNING",
    "Approval",
    "ApprovalDetails",
    "ApprovalRefused",
    "ApprovalState",
    "ApprovalStore",
    "approval_app",
    "approval_routes",
    "serve_approvals",
]

APPROVAL_TTL = 300.0
"""Seconds a link stays valid, and an approval stays usable once given."""

DEFAULT_COST_WARNING = (
    "A real phone will ring and a real person may answer an AI voice agent. The call is billed "
    "per minute (telephony, speech recognition, the language model and speech synthesis) until "
    "it is hung up."
)

ApprovalState = Literal["pending", "approved", "denied", "expired", "used"]

_MAX_KEPT = 256
_MAX_FORM_BYTES = 4096


class ApprovalRefused(Exception):
    """A decision or use the store refuses; ``status`` is the HTTP status the page answers."""

    def __init__(self, message: str, *, status: int) -> None:
        self.message = message
        self.status = status
        super().__init__(message)


@dataclass(frozen=True)
class ApprovalDetails:
    """What the page shows: exactly what will happen if the human approves."""

    title: str
    """One line: "Place a phone call", "Start a voice agent"."""
    to_number: str | None = None
    to_country: str | None = None
    time_zones: tuple[str, ...] = ()
    """The callee's zones (the page shows the local time in each, at the moment it is shown)."""
    caller_id: str | None = None
    agent_summary: tuple[tuple[str, str], ...] = ()
    """Label / value pairs: the profile or the agent configuration (never a key)."""
    llm_endpoint: str | None = None
    """Only when the request uses an LLM endpoint other than the configured one."""
    cost_warning: str = DEFAULT_COST_WARNING

    @classmethod
    def for_call(
        cls,
        number: PhoneNumber,
        *,
        caller_id: str,
        agent_summary: Mapping[str, str] | Sequence[tuple[str, str]] = (),
        llm_endpoint: str | None = None,
        cost_warning: str = DEFAULT_COST_WARNING,
    ) -> ApprovalDetails:
        """The details of an outbound call to a parsed number."""
        pairs = agent_summary.items() if isinstance(agent_summary, Mapping) else agent_summary
        return cls(
            title="Place a phone call",
            to_number=number.international or number.e164,
            to_country=country_name(number.region),
            time_zones=number.time_zones,
            caller_id=caller_id,
            agent_summary=tuple((str(k), str(v)) for k, v in pairs),
            llm_endpoint=llm_endpoint,
            cost_warning=cost_warning,
        )


@dataclass(frozen=True)
class Approval:
    """One approval request and where it stands."""

    token: str = field(repr=False)
    fingerprint: str
    details: ApprovalDetails
    created_at: float
    expires_at: float
    state: ApprovalState = "pending"
    decided_at: float | None = None
    channel: str = "url"
    """How the decision was made, for the audit trail: ``url`` (this page)."""


def _key(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


class ApprovalStore:
    """Pending approvals, their tokens and states (in memory, for one server process)."""

    def __init__(
        self,
        *,
        ttl: float = APPROVAL_TTL,
        clock: Callable[[], float] = time.monotonic,
        max_kept: int = _MAX_KEPT,
    ) -> None:
        if ttl <= 0:
            raise ValueError(f"the approval ttl must be positive, got {ttl}")
        self.ttl = ttl
        self._clock = clock
        self._max_kept = max_kept
        self._hash_key = secrets.token_bytes(32)
        self._by_key: dict[str, Approval] = {}
        self._changed: dict[str, anyio.Event] = {}

    @property
    def clock(self) -> Callable[[], float]:
        """The store's monotonic clock (expiry times are on it)."""
        return self._clock

    # --- requests ----------------------------------------------------------------------------

    def fingerprint(self, tool: str, arguments: Mapping[str, Any]) -> str:
        """A keyed hash of the exact request: the tool name and its arguments as canonical JSON
        (the key is per store, so a fingerprint reveals nothing about secret arguments)."""
        canonical = json.dumps(
            {"tool": tool, "arguments": arguments},
            sort_keys=True,
            separators=(",", ":"),
            ensure_ascii=False,
            default=str,
        )
        return hmac.new(self._hash_key, canonical.encode(), hashlib.sha256).hexdigest()

    def open(self, fingerprint: str, details: ApprovalDetails) -> Approval:
        """A pending approval for this request: the one already pending (same link), or new."""
        self._expire()
        for approval in self._by_key.values():
            if approval.fingerprint == fingerprint and approval.state == "pending":
                return approval
        now = self._clock()
        token = secrets.token_urlsafe(32)
        approval = Approval(
            token=token,
            fingerprint=fingerprint,
            details=details,
            created_at=now,
            expires_at=now + self.ttl,
        )
        self._by_key[_key(token)] = approval
        self._prune()
        return approval

    @staticmethod
    def link(base_url: str, approval: Approval, *, prefix: str = "/approve") -> str:
        """The URL of the approval's page under ``base_url`` (``http://127.0.0.1:PORT``)."""
        return f"{base_url.rstrip('/')}{prefix}/{approval.token}"

    # --- reading -----------------------------------------------------------------------------

    def get(self, token: str) -> Approval | None:
        """The approval a token names (its state up to date), or None."""
        self._expire()
        return self._by_key.get(_key(token))

    def status(self, fingerprint: str) -> Approval | None:
        """The latest approval opened for this request, or None."""
        self._expire()
        found = [a for a in self._by_key.values() if a.fingerprint == fingerprint]
        return max(found, key=lambda a: a.created_at) if found else None

    # --- changing ----------------------------------------------------------------------------

    def decide(self, token: str, *, approve: bool, fingerprint: str) -> Approval:
        """Record the human's decision; ``fingerprint`` is what the page's form carried.

        Raises :class:`ApprovalRefused` for an unknown token (404), a fingerprint that is not the
        request's (409, altered), or an approval that is not pending any more (409 decided,
        410 expired or used).
        """
        self._expire()
        key = _key(token)
        approval = self._by_key.get(key)
        if approval is None:
            raise ApprovalRefused("This approval link is not valid.", status=404)
        if not hmac.compare_digest(approval.fingerprint, fingerprint):
            raise ApprovalRefused(
                "The request on this form does not match the request waiting for approval. "
                "Nothing was changed.",
                status=409,
            )
        if approval.state != "pending":
            raise _not_pending(approval)
        now = self._clock()
        decided = replace(
            approval,
            state="approved" if approve else "denied",
            decided_at=now,
            expires_at=now + self.ttl if approve else approval.expires_at,
        )
        self._by_key[key] = decided
        event = self._changed.pop(key, None)
        if event is not None:
            event.set()
        return decided

    async def changed(self, token: str) -> None:
        """Wait until the approval ``token`` names is decided (the caller bounds the wait)."""
        event = self._changed.setdefault(_key(token), anyio.Event())
        await event.wait()

    def consume(self, fingerprint: str) -> Approval | None:
        """Use the approval given for exactly this request, once: the approved, unexpired one
        becomes ``used`` and is returned; None when there is none (pending, denied, expired,
        used, or never asked)."""
        self._expire()
        for key, approval in self._by_key.items():
            if approval.fingerprint == fingerprint and approval.state == "approved":
                used = replace(approval, state="used")
                self._by_key[key] = used
                return used
        return None

    def _expire(self) -> None:
        now = self._clock()
        for key, approval in list(self._by_key.items()):
            if approval.state in ("pending", "approved") and now >= approval.expires_at:
                self._by_key[key] = replace(approval, state="expired")

    def _prune(self) -> None:
        """Forget the oldest settled approvals beyond ``max_kept`` (pending ones stay)."""
        if len(self._by_key) <= self._max_kept:
            return
        settled = sorted((a.created_at, k) for k, a in self._by_key.items() if a.state != "pending")
        for _, key in settled[: len(self._by_key) - self._max_kept]:
            del self._by_key[key]


def _not_pending(approval: Approval) -> ApprovalRefused:
    if approval.state == "expired":
        return ApprovalRefused(
            "This approval link has expired. Nothing was sent. Ask the assistant to try again "
            "for a new link.",
            status=410,
        )
    if approval.state == "used":
        return ApprovalRefused(
            "This approval was already used. A link approves one request once; ask the "
            "assistant to try again for a new link.",
            status=410,
        )
    return ApprovalRefused(
        f"This request was already {approval.state}. A decision cannot be changed; ask the "
        "assistant to try again for a new link.",
        status=409,
    )


# --- the page ------------------------------------------------------------------------------------

_CSS = """
:root { color-scheme: light; }
body { font: 17px/1.5 system-ui, -apple-system, "Segoe UI", Roboto, sans-serif; margin: 0;
  background: #f4f4f5; color: #111; }
main { max-width: 40rem; margin: 2rem auto; padding: 1.5rem 2rem; background: #fff;
  border: 1px solid #c8c8cc; border-radius: 8px; }
h1 { font-size: 1.5rem; margin: 0 0 1rem; }
dl { display: grid; grid-template-columns: max-content 1fr; gap: .4rem 1rem; margin: 0 0 1rem; }
dt { font-weight: 600; }
dd { margin: 0; overflow-wrap: anywhere; }
.big { font-size: 1.35rem; font-weight: 700; }
.warn { background: #fff4d6; border-left: 5px solid #8a5a00; padding: .75rem 1rem;
  margin: 1rem 0; color: #3d2800; }
.actions { display: flex; gap: 1rem; margin-top: 1.25rem; }
button { font: inherit; font-weight: 700; padding: .7rem 1.6rem; border-radius: 6px;
  border: 2px solid transparent; cursor: pointer; }
button.approve { background: #0b6e30; color: #fff; }
button.deny { background: #fff; color: #8b1116; border-color: #8b1116; }
button:focus-visible { outline: 3px solid #1a4fd6; outline-offset: 3px; }
.state { font-size: 1.2rem; font-weight: 700; }
.note { color: #3a3a40; }
"""

_HEADERS = {
    "Content-Security-Policy": (
        "default-src 'none'; style-src 'unsafe-inline'; form-action 'self'; "
        "frame-ancestors 'none'; base-uri 'none'"
    ),
    "X-Frame-Options": "DENY",
    "X-Content-Type-Options": "nosniff",
    # same-origin, not no-referrer: the token (in the URL) never leaves as a Referer, and the
    # browser still sends Origin on the form POST (with no-referrer it sends "Origin: null").
    "Referrer-Policy": "same-origin",
    "Cache-Control": "no-store",
}


def _page(title: str, body: str, *, status: int = 200) -> HTMLResponse:
    document = (
        '<!doctype html>\n<html lang="en"><head><meta charset="utf-8">'
        '<meta name="viewport" content="width=device-width, initial-scale=1">'
        '<meta name="referrer" content="same-origin">'
        f"<title>{html.escape(title)} · convoai-mcp</title><style>{_CSS}</style></head>"
        f"<body><main>{body}</main></body></html>"
    )
    return HTMLResponse(document, status_code=status, headers=_HEADERS)


def _message_page(title: str, message: str, *, status: int, state: str) -> HTMLResponse:
    return _page(
        title,
        f'<h1>{html.escape(title)}</h1><p class="state" id="state" data-state="{state}" '
        f'role="status">{html.escape(message)}</p>',
        status=status,
    )


def _local_times(zones: Sequence[str], now: datetime) -> str:
    if not zones:
        return "unknown"
    times = []
    for name in zones:
        try:
            local = now.astimezone(ZoneInfo(name))
        except (KeyError, ValueError):
            continue
        offset = local.utcoffset() or timedelta(0)
        times.append((offset, f"{local:%H:%M} ({local:%a}) in {name}"))
    if not times:
        return "unknown"
    if len(times) <= 4:
        return "; ".join(text for _, text in times)
    times.sort(key=lambda item: item[0])
    return f"this number may ring in {len(times)} time zones: from {times[0][1]} to {times[-1][1]}"


def _row(label: str, value: str, ident: str, *, big: bool = False) -> str:
    cls = ' class="big"' if big else ""
    return (
        f'<dt id="{ident}-label">{html.escape(label)}</dt>'
        f'<dd id="{ident}" aria-labelledby="{ident}-label"{cls}>{html.escape(value)}</dd>'
    )


def _approval_page(approval: Approval, redactor: Redactor, now: datetime) -> HTMLResponse:
    d = approval.details
    clean = redactor.text
    rows = []
    if d.to_number:
        rows.append(_row("Number to call", clean(d.to_number), "number", big=True))
    if d.to_country:
        rows.append(_row("Country", clean(d.to_country), "country"))
    if d.to_number:
        rows.append(_row("Local time there", _local_times(d.time_zones, now), "local-time"))
    if d.caller_id:
        rows.append(_row("Caller ID shown", clean(d.caller_id), "caller-id"))
    for i, (label, value) in enumerate(d.agent_summary):
        rows.append(_row(clean(label), clean(value), f"agent-{i}"))
    if d.llm_endpoint:
        rows.append(
            _row("LLM endpoint (not the configured one)", clean(d.llm_endpoint), "llm-endpoint")
        )
    minutes = max(1, round((approval.expires_at - approval.created_at) / 60))
    body = (
        f"<h1>Approve: {html.escape(clean(d.title))}?</h1>"
        '<p class="note">An AI assistant asked to do this. It happens only if you approve '
        "here.</p>"
        f"<dl>{''.join(rows)}</dl>"
        f'<p class="warn" id="cost-warning"><strong>Cost:</strong> '
        f"{html.escape(clean(d.cost_warning))}</p>"
        '<form method="post" action="" aria-describedby="cost-warning">'
        f'<input type="hidden" name="fingerprint" value="{html.escape(approval.fingerprint)}">'
        '<div class="actions">'
        '<button type="submit" name="decision" value="approve" class="approve" id="approve">'
        "Approve</button>"
        '<button type="submit" name="decision" value="deny" class="deny" id="deny">'
        "Deny</button></div></form>"
        f'<p class="note">This link works once and expires {minutes} minute(s) after it was '
        "made. Nothing is sent unless you approve.</p>"
    )
    return _page(f"Approve: {d.title}", body)


def _host_allowed(host: str, allowed_hosts: frozenset[str] | None) -> bool:
    if allowed_hosts is not None:
        return host.lower() in allowed_hosts
    bracketed = host.startswith("[")  # [::1]:port
    return is_loopback(host[: host.find("]") + 1] if bracketed else host.rsplit(":", 1)[0])


def _cross_origin(request: Request, allowed_hosts: frozenset[str] | None) -> str | None:
    """Why a POST is not from the page's own origin, or None when it is."""
    host = request.headers.get("host", "")
    if not host or not _host_allowed(host, allowed_hosts):
        return f"the Host header {host[:80]!r} is not this approval server"
    origin = f"{request.url.scheme}://{host}".lower()
    site = request.headers.get("sec-fetch-site")
    if site is not None and site not in ("same-origin", "none"):
        return f"the browser says this request comes from another site ({site[:20]})"
    sent = request.headers.get("origin")
    if sent is None or sent == "null":
        referer = request.headers.get("referer")
        if not referer:
            return "the request carries neither Origin nor Referer"
        parts = urlsplit(referer)
        sent = f"{parts.scheme}://{parts.netloc}"
    if sent.lower() != origin:
        return f"it comes from {sent[:80]!r}, not from this page ({origin})"
    return None


def approval_routes(
    store: ApprovalStore,
    *,
    redactor: Redactor | None = None,
    allowed_hosts: Sequence[str] | None = None,
    wall_clock: Callable[[], datetime] = lambda: datetime.now(UTC),
    prefix: str = "/approve",
) -> list[Route]:
    """The page's routes, to serve alone (:func:`approval_app`) or add to another Starlette app.

    ``allowed_hosts`` (``host:port`` values) replaces the loopback-only Host check when the page
    is served under another name (e.g. behind the HTTP transport).
    """
    redact = redactor or Redactor()
    hosts = frozenset(h.lower() for h in allowed_hosts) if allowed_hosts is not None else None

    async def show(request: Request) -> Response:
        approval = store.get(request.path_params["token"])
        if approval is None:
            return _message_page(
                "Link not valid",
                "This approval link is not valid. Check that it was copied whole, or ask the "
                "assistant to try again for a new link.",
                status=404,
                state="unknown",
            )
        if approval.state == "pending":
            return _approval_page(approval, redact, wall_clock())
        if approval.state == "approved":
            return _message_page(
                "Already approved",
                "This request was approved. Go back to the assistant and ask it to try again.",
                status=200,
                state="approved",
            )
        refused = _not_pending(approval)
        return _message_page(
            "Link no longer valid", refused.message, status=refused.status, state=approval.state
        )

    async def decide(request: Request) -> Response:
        reason = _cross_origin(request, hosts)
        if reason is not None:
            return _message_page(
                "Refused",
                f"Refused: {reason}. Open the approval link itself and use its buttons. "
                "Nothing was changed.",
                status=403,
                state="refused",
            )
        if request.headers.get("content-type", "").split(";")[0].strip() != (
            "application/x-www-form-urlencoded"
        ):
            return _message_page(
                "Refused",
                "Refused: this is not the approval form. Nothing was changed.",
                status=415,
                state="refused",
            )
        raw = b""
        async for chunk in request.stream():
            raw += chunk
            if len(raw) > _MAX_FORM_BYTES:
                return _message_page(
                    "Refused", "Refused: the form is too large.", status=413, state="refused"
                )
        form = parse_qs(raw.decode("utf-8", "replace"), max_num_fields=8)
        decision = form.get("decision", [""])[0]
        fingerprint = form.get("fingerprint", [""])[0]
        if decision not in ("approve", "deny"):
            return _message_page(
                "Refused",
                "Refused: choose Approve or Deny on the page.",
                status=400,
                state="refused",
            )
        try:
            approval = store.decide(
                request.path_params["token"],
                approve=decision == "approve",
                fingerprint=fingerprint,
            )
        except ApprovalRefused as exc:
            return _message_page("Refused", exc.message, status=exc.status, state="refused")
        if approval.state == "approved":
            return _message_page(
                "Approved",
                "Approved. Go back to the assistant and ask it to try again; the approval "
                "holds for this exact request only, once.",
                status=200,
                state="approved",
            )
        return _message_page(
            "Denied",
            "Denied. Nothing will be sent. You can close this page.",
            status=200,
            state="denied",
        )

    path = f"{prefix.rstrip('/')}/{{token}}"
    return [
        Route(path, show, methods=["GET"]),
        Route(path, decide, methods=["POST"]),
    ]


def approval_app(store: ApprovalStore, **options: Any) -> Starlette:
    """A Starlette app serving only the approval page (options as :func:`approval_routes`)."""
    return Starlette(routes=approval_routes(store, **options))


@contextlib.asynccontextmanager
async def serve_approvals(
    store: ApprovalStore, *, host: str = "127.0.0.1", port: int = 0, **options: Any
) -> AsyncIterator[str]:
    """Serve the approval page on loopback until the block exits; yields the base URL
    (``http://127.0.0.1:PORT``; links are :meth:`ApprovalStore.link` of it)."""
    from convoai_mcp.sandbox.runner import serve

    if not is_loopback(host):
        raise ValueError(
            f"the approval page is served on loopback only, not on {host!r}; use 127.0.0.1, "
            "or mount approval_routes on the HTTP transport (behind its auth)"
        )
    async with serve(approval_app(store, **options), host=host, port=port) as base_url:
        yield base_url
