"""The approval store and page, over real HTTP on loopback (the browser tests are separate)."""

from __future__ import annotations

import re
from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import UTC, datetime

import httpx
import pytest

from convoai_mcp.phone import parse_phone
from convoai_mcp.redact import Redactor
from convoai_mcp.server.approval import (
    APPROVAL_TTL,
    ApprovalDetails,
    ApprovalRefused,
    ApprovalStore,
    approval_app,
    approval_routes,
    serve_approvals,
)

SECRET = "sk-test-0123456789abcdef0123456789abcdef"
CALL = {"to_number": "+14152345678", "system_prompt": "Book a table for two", "greeting": "Hi"}


class Clock:
    """A monotonic clock the test moves."""

    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def details() -> ApprovalDetails:
    return ApprovalDetails.for_call(
        parse_phone("+14152345678"),
        caller_id="+14155550100",
        agent_summary={"Goal": "Book a table for two", "Voice": "en-US, female"},
    )


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture
def store(clock: Clock) -> ApprovalStore:
    return ApprovalStore(clock=clock)


# --- the store ---------------------------------------------------------------------------------


def test_the_fingerprint_binds_the_exact_request(store: ApprovalStore) -> None:
    fp = store.fingerprint("call", CALL)
    assert fp == store.fingerprint("call", dict(reversed(CALL.items())))  # key order is no change
    assert fp != store.fingerprint("call", {**CALL, "to_number": "+14152345679"})
    assert fp != store.fingerprint("start_agent", CALL)
    assert fp != ApprovalStore().fingerprint("call", CALL)  # keyed per store
    assert "Book" not in fp and len(fp) == 64


def test_one_unguessable_token_per_pending_request(store: ApprovalStore) -> None:
    first = store.open(store.fingerprint("call", CALL), details())
    again = store.open(store.fingerprint("call", CALL), details())
    other = store.open(store.fingerprint("call", {**CALL, "greeting": "Hello"}), details())
    assert again.token == first.token  # asking again while pending gives the same link
    assert other.token != first.token
    assert len(first.token) >= 43 and re.fullmatch(r"[A-Za-z0-9_-]+", first.token)
    assert first.token not in repr(first)
    assert first.expires_at - first.created_at == APPROVAL_TTL
    assert store.get(first.token) == first
    assert store.get(first.token + "x") is None


def test_approve_then_use_once(store: ApprovalStore) -> None:
    fp = store.fingerprint("call", CALL)
    pending = store.open(fp, details())
    assert store.consume(fp) is None  # pending is not approved
    approved = store.decide(pending.token, approve=True, fingerprint=fp)
    assert approved.state == "approved"
    assert approved.channel == "url"
    used = store.consume(fp)
    assert used is not None and used.state == "used"
    assert store.consume(fp) is None  # single use
    assert store.status(fp) is not None and store.status(fp).state == "used"  # type: ignore[union-attr]
    with pytest.raises(ApprovalRefused) as info:
        store.decide(pending.token, approve=True, fingerprint=fp)
    assert info.value.status == 410


def test_an_approval_is_for_its_request_only(store: ApprovalStore) -> None:
    fp = store.fingerprint("call", CALL)
    store.decide(store.open(fp, details()).token, approve=True, fingerprint=fp)
    assert store.consume(store.fingerprint("call", {**CALL, "to_number": "+12122345678"})) is None
    assert store.consume(fp) is not None


def test_deny(store: ApprovalStore) -> None:
    fp = store.fingerprint("call", CALL)
    token = store.open(fp, details()).token
    assert store.decide(token, approve=False, fingerprint=fp).state == "denied"
    assert store.consume(fp) is None
    with pytest.raises(ApprovalRefused) as info:
        store.decide(token, approve=True, fingerprint=fp)
    assert info.value.status == 409
    assert "already denied" in info.value.message
    # the same request again opens a new link
    assert store.open(fp, details()).token != token


def test_a_link_expires(store: ApprovalStore, clock: Clock) -> None:
    fp = store.fingerprint("call", CALL)
    token = store.open(fp, details()).token
    clock.now += APPROVAL_TTL
    assert store.get(token).state == "expired"  # type: ignore[union-attr]
    with pytest.raises(ApprovalRefused) as info:
        store.decide(token, approve=True, fingerprint=fp)
    assert info.value.status == 410
    assert "expired" in info.value.message


def test_an_approval_not_used_in_time_expires(store: ApprovalStore, clock: Clock) -> None:
    fp = store.fingerprint("call", CALL)
    token = store.open(fp, details()).token
    clock.now += APPROVAL_TTL - 1
    store.decide(token, approve=True, fingerprint=fp)
    clock.now += APPROVAL_TTL - 1  # still usable: the window restarts at the approval
    assert store.get(token).state == "approved"  # type: ignore[union-attr]
    clock.now += 1
    assert store.consume(fp) is None


def test_an_altered_decision_is_refused(store: ApprovalStore) -> None:
    fp = store.fingerprint("call", CALL)
    token = store.open(fp, details()).token
    other = store.fingerprint("call", {**CALL, "to_number": "+19002345678"})
    with pytest.raises(ApprovalRefused) as info:
        store.decide(token, approve=True, fingerprint=other)
    assert info.value.status == 409
    assert store.get(token).state == "pending"  # type: ignore[union-attr]
    with pytest.raises(ApprovalRefused) as unknown:
        store.decide("not-a-token", approve=True, fingerprint=fp)
    assert unknown.value.status == 404


def test_the_store_forgets_old_settled_approvals_but_not_pending_ones(clock: Clock) -> None:
    store = ApprovalStore(clock=clock, max_kept=3)
    tokens = []
    for i in range(5):
        fp = store.fingerprint("call", {"n": i})
        tokens.append(store.open(fp, details()).token)
        if i < 3:
            store.decide(tokens[-1], approve=False, fingerprint=fp)
        clock.now += 1
    assert store.get(tokens[0]) is None
    assert store.get(tokens[3]) is not None and store.get(tokens[4]) is not None


def test_ttl_must_be_positive() -> None:
    with pytest.raises(ValueError, match="positive"):
        ApprovalStore(ttl=0)


# --- the page over HTTP --------------------------------------------------------------------------


@dataclass
class Served:
    base: str
    http: httpx.AsyncClient
    store: ApprovalStore
    clock: Clock


@pytest.fixture
async def served(store: ApprovalStore, clock: Clock) -> AsyncIterator[Served]:
    redactor = Redactor([SECRET])
    wall = datetime(2026, 1, 15, 20, 0, tzinfo=UTC)  # 12:00 in Los Angeles
    async with (
        serve_approvals(store, redactor=redactor, wall_clock=lambda: wall) as base,
        httpx.AsyncClient(base_url=base) as http,
    ):
        yield Served(base, http, store, clock)


def _open(s: Served, arguments: dict[str, str] | None = None) -> tuple[str, str, str]:
    fp = s.store.fingerprint("call", arguments or CALL)
    approval = s.store.open(fp, details())
    link = s.store.link(s.base, approval)
    return link, approval.token, fp


async def post(s: Served, link: str, decision: str, fp: str, **headers: str) -> httpx.Response:
    sent = {"origin": s.base, **{k.replace("_", "-"): v for k, v in headers.items()}}
    return await s.http.post(link, data={"decision": decision, "fingerprint": fp}, headers=sent)


async def test_the_page_shows_what_will_happen(served: Served) -> None:
    link, token, fp = _open(served)
    assert link == f"{served.base}/approve/{token}"
    page = await served.http.get(link)
    assert page.status_code == 200
    text = page.text
    assert "+1 415-234-5678" in text
    assert "United States" in text
    assert "12:00 (Thu) in America/Los_Angeles" in text
    assert "+14155550100" in text
    assert "Book a table for two" in text
    assert "billed per minute" in text
    assert 'value="approve"' in text and 'value="deny"' in text
    assert f'value="{fp}"' in text
    assert "<script" not in text and "http" not in text.split("<main>")[1]
    headers = page.headers
    assert "frame-ancestors 'none'" in headers["content-security-policy"]
    assert headers["x-frame-options"] == "DENY"
    assert headers["cache-control"] == "no-store"
    assert headers["referrer-policy"] == "same-origin"
    # looking changes nothing
    assert served.store.get(token).state == "pending"  # type: ignore[union-attr]


async def test_approve_and_deny_by_post(served: Served) -> None:
    link, token, fp = _open(served)
    answer = await post(served, link, "approve", fp)
    assert answer.status_code == 200 and 'data-state="approved"' in answer.text
    assert served.store.get(token).state == "approved"  # type: ignore[union-attr]
    assert 'data-state="approved"' in (await served.http.get(link)).text
    link2, token2, fp2 = _open(served, {**CALL, "greeting": "Bonjour"})
    answer = await post(served, link2, "deny", fp2)
    assert 'data-state="denied"' in answer.text
    assert served.store.get(token2).state == "denied"  # type: ignore[union-attr]


async def test_a_replayed_post_is_refused(served: Served) -> None:
    link, token, fp = _open(served)
    await post(served, link, "deny", fp)
    replay = await post(served, link, "approve", fp)
    assert replay.status_code == 409
    assert served.store.get(token).state == "denied"  # type: ignore[union-attr]
    served.store.consume(fp)
    link2, _, fp2 = _open(served, {**CALL, "greeting": "x"})
    await post(served, link2, "approve", fp2)
    assert served.store.consume(fp2) is not None
    used = await post(served, link2, "approve", fp2)
    assert used.status_code == 410 and "already used" in used.text
    assert (await served.http.get(link2)).status_code == 410


async def test_an_expired_link_is_refused(served: Served) -> None:
    link, token, fp = _open(served)
    served.clock.now += APPROVAL_TTL + 1
    page = await served.http.get(link)
    assert page.status_code == 410 and "expired" in page.text
    assert 'id="approve"' not in page.text
    answer = await post(served, link, "approve", fp)
    assert answer.status_code == 410
    assert served.store.get(token).state == "expired"  # type: ignore[union-attr]


async def test_an_unknown_or_altered_link_is_refused(served: Served) -> None:
    link, token, fp = _open(served)
    page = await served.http.get(link[:-2] + "xx")
    assert page.status_code == 404 and "not valid" in page.text
    other = served.store.fingerprint("call", {**CALL, "to_number": "+19002345678"})
    answer = await post(served, link, "approve", other)
    assert answer.status_code == 409 and "does not match" in answer.text
    bad = await post(served, link, "yes please", fp)
    assert bad.status_code == 400
    assert served.store.get(token).state == "pending"  # type: ignore[union-attr]


@pytest.mark.parametrize(
    "headers",
    [
        {"origin": "http://evil.example"},
        {"origin": "null"},
        {"origin": ""},
        {"sec_fetch_site": "cross-site"},
        {"host": "evil.example"},  # DNS rebinding: a foreign name resolving to loopback
        {"host": "127.0.0.1.evil.example"},
        {"host": "localhost.evil.example"},
    ],
)
async def test_a_cross_origin_post_is_refused(served: Served, headers: dict[str, str]) -> None:
    link, token, fp = _open(served)
    if "host" in headers:  # the origin matches the (foreign) host: only the Host check stops it
        name = f"{headers['host']}:{served.base.rsplit(':', 1)[1]}"
        headers = {"host": name, "origin": f"http://{name}"}
    answer = await post(served, link, "approve", fp, **headers)
    assert answer.status_code == 403
    assert "Nothing was changed" in answer.text
    assert served.store.get(token).state == "pending"  # type: ignore[union-attr]


@pytest.mark.parametrize("name", ["localhost", "[::1]", "127.0.0.2"])
async def test_every_loopback_name_is_its_own_origin(served: Served, name: str) -> None:
    link, token, fp = _open(served)
    host = f"{name}:{served.base.rsplit(':', 1)[1]}"
    answer = await post(served, link, "approve", fp, host=host, origin=f"http://{host}")
    assert answer.status_code == 200
    assert served.store.get(token).state == "approved"  # type: ignore[union-attr]


async def test_a_post_without_origin_falls_back_to_referer(served: Served) -> None:
    link, token, fp = _open(served)
    data = {"decision": "approve", "fingerprint": fp}
    bare = await served.http.post(link, data=data)
    assert bare.status_code == 403 and "neither Origin nor Referer" in bare.text
    ok = await served.http.post(link, data=data, headers={"referer": link})
    assert ok.status_code == 200
    assert served.store.get(token).state == "approved"  # type: ignore[union-attr]


async def test_only_the_form_is_accepted(served: Served) -> None:
    link, token, fp = _open(served)
    as_json = await served.http.post(
        link, json={"decision": "approve", "fingerprint": fp}, headers={"origin": served.base}
    )
    assert as_json.status_code == 415
    huge = await served.http.post(
        link,
        content=b"decision=approve&x=" + b"a" * 10_000,
        headers={"origin": served.base, "content-type": "application/x-www-form-urlencoded"},
    )
    assert huge.status_code == 413
    assert served.store.get(token).state == "pending"  # type: ignore[union-attr]


async def test_get_never_changes_state(served: Served) -> None:
    link, token, _ = _open(served)
    for _ in range(3):
        await served.http.get(link, params={"decision": "approve"})
    assert served.store.get(token).state == "pending"  # type: ignore[union-attr]


async def test_secrets_never_appear_in_the_page(served: Served) -> None:
    d = ApprovalDetails(
        title="Start a voice agent",
        agent_summary=(("LLM key", SECRET), ("Prompt", f"use key {SECRET} please")),
        llm_endpoint=f"https://llm.example/v1?api_key={SECRET}",
    )
    approval = served.store.open(served.store.fingerprint("start_agent", {"k": 1}), d)
    page = await served.http.get(served.store.link(served.base, approval))
    assert SECRET not in page.text
    assert "LLM endpoint (not the configured one)" in page.text
    assert "https://llm.example/v1" in page.text


async def test_spoken_html_is_escaped(served: Served) -> None:
    d = ApprovalDetails(title="Call", agent_summary=(("Goal", "<script>alert(1)</script>"),))
    approval = served.store.open(served.store.fingerprint("call", {"x": 2}), d)
    page = await served.http.get(served.store.link(served.base, approval))
    assert "<script>" not in page.text and "&lt;script&gt;" in page.text


async def test_a_number_in_many_zones_shows_the_spread(served: Served) -> None:
    d = ApprovalDetails.for_call(parse_phone("+18002345678"), caller_id="+14155550100")
    approval = served.store.open(served.store.fingerprint("call", {"x": 3}), d)
    page = await served.http.get(served.store.link(served.base, approval))
    assert "this number may ring in" in page.text
    assert "from 09:00 (Thu) in Pacific/Pago_Pago to 06:00 (Fri) in Pacific/Saipan" in page.text


async def test_mounted_on_another_app_with_its_own_host(store: ApprovalStore) -> None:
    from starlette.applications import Starlette
    from starlette.responses import PlainTextResponse
    from starlette.routing import Mount, Route

    from convoai_mcp.sandbox.runner import serve

    async def home(_: object) -> PlainTextResponse:
        return PlainTextResponse("the other app")

    routes = approval_routes(store, prefix="/gate/approve", allowed_hosts=["mcp.local:8443"])
    app = Starlette(routes=[Route("/", home), Mount("/", routes=routes)])
    fp = store.fingerprint("call", CALL)
    approval = store.open(fp, details())
    async with serve(app) as base, httpx.AsyncClient(base_url=base) as http:
        assert (await http.get("/")).text == "the other app"
        link = store.link(base, approval, prefix="/gate/approve")
        assert "Approve" in (await http.get(link)).text
        data = {"decision": "approve", "fingerprint": fp}
        loopback = await http.post(link, data=data, headers={"origin": base})
        assert loopback.status_code == 403  # only the configured host is accepted now
        named = await http.post(
            link,
            data=data,
            headers={"host": "mcp.local:8443", "origin": "http://mcp.local:8443"},
        )
        assert named.status_code == 200
    assert store.consume(fp) is not None


async def test_served_on_loopback_only(store: ApprovalStore) -> None:
    with pytest.raises(ValueError, match="loopback only"):
        async with serve_approvals(store, host="0.0.0.0"):
            pass
    assert approval_app(store).routes
