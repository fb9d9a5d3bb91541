"""The human gate through the MCP ``Client``, in both protocol eras (2025-11-25 handshake and
2026-07-28 input-required connections): a client with form elicitation, one with URL
elicitation only, one with neither. In each, nothing reaches the emulator without a human's
approval, and the model's ``confirm: true`` alone is refused unless the operator opted in
(``CONVOAI_CONFIRM_BY_ARGUMENT``). Approvals on the page are given as a browser would: a GET of
the link, then a POST of its form with the page's own Origin.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import httpx
import mcp_types as types
import pytest
from _server_helpers import CALLEE, Rig, error_text, rig
from mcp import Client
from mcp.client.context import ClientRequestContext
from mcp.client.session import ClientSession

from convoai_mcp.cli import safety_summary
from convoai_mcp.config import Settings
from convoai_mcp.errors import ConfigError
from convoai_mcp.server.tools import TOOL_NAMES

MODES = ["legacy", "auto"]
"""legacy: a 2025-11-25 handshake connection; auto: a 2026-07-28 connection."""

LINK = re.compile(r"http://127\.0\.0\.1:[0-9]+/approve/[A-Za-z0-9_-]+")
OTHER = "+14155550124"


async def calls_in_sandbox(r: Rig) -> int:
    """How many calls the emulator has seen (the ground truth for 'nothing was sent')."""
    return len([c async for c in r.server.runtime.client.calls.list()])


async def agents_in_sandbox(r: Rig) -> int:
    return len([a async for a in r.server.runtime.client.agents.list()])


async def decide(link: str, decision: str = "approve") -> httpx.Response:
    """What a human's browser does: open the link, press Approve (or Deny)."""
    origin = re.match(r"http://[^/]+", link)
    assert origin is not None
    async with httpx.AsyncClient() as http:
        page = await http.get(link)
        assert page.status_code == 200, page.text
        found = re.search(r'name="fingerprint" value="([0-9a-f]+)"', page.text)
        assert found is not None, page.text
        return await http.post(
            link,
            data={"decision": decision, "fingerprint": found.group(1)},
            headers={"Origin": origin.group(0)},
        )


def link_in(text: str) -> str:
    found = LINK.search(text)
    assert found is not None, text
    return found.group(0)


class FormElicitor:
    def __init__(self, action: str = "accept") -> None:
        self.action = action
        self.asked: list[str] = []

    async def __call__(
        self, context: ClientRequestContext, params: types.ElicitRequestParams
    ) -> types.ElicitResult:
        assert isinstance(params, types.ElicitRequestFormParams)
        self.asked.append(params.message)
        content = {"confirm": True} if self.action == "accept" else None
        return types.ElicitResult(action=self.action, content=content)


class UrlElicitor:
    """A client that can only show links: the "human" decides on the page before answering."""

    def __init__(self, r: Rig, decision: str | None = "approve", action: str = "accept") -> None:
        self.r = r
        self.decision = decision
        self.action = action
        self.urls: list[str] = []
        self.sent_before_decision: list[int] = []

    async def __call__(
        self, context: ClientRequestContext, params: types.ElicitRequestParams
    ) -> types.ElicitResult:
        assert isinstance(params, types.ElicitRequestURLParams), params
        # an id on 2025-11-25 (none on 2026-07-28): public, not the link's token
        assert params.elicitation_id is None or params.elicitation_id not in params.url
        self.urls.append(params.url)
        self.sent_before_decision.append(await calls_in_sandbox(self.r))
        if self.decision is not None:
            answer = await decide(params.url, self.decision)
            assert answer.status_code == 200, answer.text
        return types.ElicitResult(action=self.action)


@pytest.fixture
def url_only(monkeypatch: pytest.MonkeyPatch) -> None:
    """Make the SDK's client declare URL elicitation only (it declares both by default)."""
    original = ClientSession._build_capabilities

    def build(self: ClientSession, version: str) -> types.ClientCapabilities:
        caps = original(self, version)
        if caps.elicitation is None:
            return caps
        only_url = types.ElicitationCapability(url=types.UrlElicitationCapability())
        return caps.model_copy(update={"elicitation": only_url})

    monkeypatch.setattr(ClientSession, "_build_capabilities", build)


# -- form elicitation ---------------------------------------------------------------------


@pytest.mark.parametrize("mode", MODES)
async def test_form_client_the_user_decides_and_confirm_true_does_not_count(
    tmp_path: Path, mode: str
) -> None:
    no = FormElicitor("decline")
    async with rig(tmp_path) as r:
        async with Client(r.server, mode=mode, elicitation_callback=no) as client:
            refused = await client.call_tool("call", {"to_number": CALLEE, "confirm": True})
            assert "not confirmed by the user" in error_text(refused)
            assert len(no.asked) == 1 and await calls_in_sandbox(r) == 0
        yes = FormElicitor("accept")
        async with Client(r.server, mode=mode, elicitation_callback=yes) as client:
            placed = await client.call_tool("call", {"to_number": CALLEE})
            assert not placed.is_error, placed
            assert len(yes.asked) == 1 and await calls_in_sandbox(r) == 1


# -- URL elicitation ----------------------------------------------------------------------


@pytest.mark.parametrize("mode", MODES)
@pytest.mark.usefixtures("url_only")
async def test_url_client_approve_on_the_page_places_the_call(tmp_path: Path, mode: str) -> None:
    async with rig(tmp_path) as r:
        elicitor = UrlElicitor(r, "approve")
        async with Client(r.server, mode=mode, elicitation_callback=elicitor) as client:
            placed = await client.call_tool("call", {"to_number": CALLEE, "confirm": True})
            assert not placed.is_error, placed
        assert len(elicitor.urls) == 1 and LINK.fullmatch(elicitor.urls[0])
        assert elicitor.sent_before_decision == [0]  # nothing was sent before the approval
        assert await calls_in_sandbox(r) == 1
        # the link was used: it cannot approve anything again
        async with httpx.AsyncClient() as http:
            assert (await http.get(elicitor.urls[0])).status_code == 410


@pytest.mark.parametrize("mode", MODES)
@pytest.mark.parametrize(
    ("decision", "action", "said"),
    [
        ("deny", "accept", "denied on the approval page"),
        (None, "decline", "not confirmed by the user"),
        (None, "cancel", "not confirmed by the user"),
    ],
)
@pytest.mark.usefixtures("url_only")
async def test_url_client_deny_or_refusing_the_link_sends_nothing(
    tmp_path: Path, mode: str, decision: str | None, action: str, said: str
) -> None:
    async with rig(tmp_path) as r:
        elicitor = UrlElicitor(r, decision, action)
        async with Client(r.server, mode=mode, elicitation_callback=elicitor) as client:
            refused = await client.call_tool("call", {"to_number": CALLEE, "confirm": True})
            assert said in error_text(refused)
        assert len(elicitor.urls) == 1
        assert await calls_in_sandbox(r) == 0


# -- neither: the link in the error -------------------------------------------------------


@pytest.mark.parametrize("mode", MODES)
async def test_a_client_without_elicitation_gets_the_link_and_the_retry_goes_through(
    tmp_path: Path, mode: str
) -> None:
    async with (
        rig(tmp_path, {"CONVOAI_CALL_ALLOWLIST": "+1415"}) as r,
        Client(r.server, mode=mode) as client,
    ):
        first = await client.call_tool("call", {"to_number": CALLEE, "confirm": True})
        text = error_text(first)
        assert "open this link to approve the call, then ask me to try again" in text.lower()
        link = link_in(text)
        # asking again before the human decided: the same link, still nothing sent
        again = await client.call_tool("call", {"to_number": CALLEE})
        assert link_in(error_text(again)) == link
        assert await calls_in_sandbox(r) == 0
        approved = await decide(link)
        assert approved.status_code == 200 and 'data-state="approved"' in approved.text
        # the approval is for exactly that request: another number is not covered
        other = await client.call_tool("call", {"to_number": OTHER})
        assert link_in(error_text(other)) != link
        assert await calls_in_sandbox(r) == 0
        # nor is the same number with another script
        changed = await client.call_tool(
            "call", {"to_number": CALLEE, "system_prompt": "Sell them a timeshare."}
        )
        assert link_in(error_text(changed)) != link
        assert await calls_in_sandbox(r) == 0
        # the retry of the approved request goes through (confirm is not part of the request)
        placed = await client.call_tool("call", {"to_number": CALLEE})
        assert not placed.is_error, placed
        assert await calls_in_sandbox(r) == 1
        # a replay is refused: the approval was used
        replay = await client.call_tool("call", {"to_number": CALLEE})
        assert link_in(error_text(replay)) != link
        assert await calls_in_sandbox(r) == 1


@pytest.mark.parametrize("mode", MODES)
async def test_a_denied_link_never_lets_the_call_through(tmp_path: Path, mode: str) -> None:
    async with rig(tmp_path) as r, Client(r.server, mode=mode) as client:
        link = link_in(error_text(await client.call_tool("call", {"to_number": CALLEE})))
        denied = await decide(link, "deny")
        assert 'data-state="denied"' in denied.text
        retry = await client.call_tool("call", {"to_number": CALLEE, "confirm": True})
        assert link_in(error_text(retry)) != link
        assert await calls_in_sandbox(r) == 0


@pytest.mark.parametrize("mode", MODES)
async def test_start_agent_is_gated_when_configured(tmp_path: Path, mode: str) -> None:
    env = {"CONVOAI_CONFIRM": "call,start_agent"}
    async with rig(tmp_path, env) as r, Client(r.server, mode=mode) as client:
        refused = await client.call_tool("start_agent", {"channel": "room-a", "confirm": True})
        link = link_in(error_text(refused))
        assert await agents_in_sandbox(r) == 0
        async with httpx.AsyncClient() as http:
            page = await http.get(link)
        assert "room-a" in page.text and "Start a voice agent" in page.text
        await decide(link)
        started = await client.call_tool("start_agent", {"channel": "room-a"})
        assert not started.is_error, started
        assert await agents_in_sandbox(r) == 1


async def test_the_page_shows_the_call(tmp_path: Path) -> None:
    async with rig(tmp_path) as r, Client(r.server) as client:
        link = link_in(
            error_text(
                await client.call_tool(
                    "call", {"to_number": CALLEE, "greeting": "Hello from the dentist"}
                )
            )
        )
        async with httpx.AsyncClient() as http:
            page = (await http.get(link)).text
        assert "+1 415-555-0123" in page and "United States" in page
        assert "+14155550100" in page  # the caller id
        assert "Hello from the dentist" in page and "billed" in page


# -- what an operator opts into -----------------------------------------------------------


CLIENTS = ["form", "url", "none"]


def _client(r: Rig, kind: str, mode: str, asked: list[str]) -> Client:
    async def ask(context: ClientRequestContext, params: Any) -> types.ElicitResult:
        asked.append(params.message)
        return types.ElicitResult(action="decline")

    return Client(r.server, mode=mode, elicitation_callback=ask if kind != "none" else None)


@pytest.mark.parametrize("mode", MODES)
@pytest.mark.parametrize("kind", CLIENTS)
async def test_confirm_by_argument_is_an_explicit_opt_in(
    tmp_path: Path, mode: str, kind: str, request: pytest.FixtureRequest
) -> None:
    if kind == "url":
        request.getfixturevalue("url_only")
    asked: list[str] = []
    async with rig(tmp_path) as r, _client(r, kind, mode, asked) as client:
        refused = await client.call_tool("call", {"to_number": CALLEE, "confirm": True})
        assert refused.is_error
        assert await calls_in_sandbox(r) == 0
    asked.clear()
    env = {"CONVOAI_CONFIRM_BY_ARGUMENT": "true"}
    async with rig(tmp_path, env) as r, _client(r, kind, mode, asked) as client:
        placed = await client.call_tool("call", {"to_number": CALLEE, "confirm": True})
        assert not placed.is_error, placed
        assert asked == [] and await calls_in_sandbox(r) == 1
        # without confirm=true the human is still asked
        refused = await client.call_tool("call", {"to_number": CALLEE})
        assert refused.is_error
        assert await calls_in_sandbox(r) == 1


@pytest.mark.parametrize("mode", MODES)
async def test_preapproved_numbers_need_no_per_call_approval(tmp_path: Path, mode: str) -> None:
    env = {"CONVOAI_CALL_ALLOWLIST": "+1415", "CONVOAI_PREAPPROVED_NUMBERS": CALLEE}
    async with rig(tmp_path, env) as r, Client(r.server, mode=mode) as client:
        placed = await client.call_tool("call", {"to_number": CALLEE})
        assert not placed.is_error, placed
        other = await client.call_tool("call", {"to_number": OTHER})
        link_in(error_text(other))
        assert await calls_in_sandbox(r) == 1


async def test_preapproval_does_not_widen_the_allow_list(tmp_path: Path) -> None:
    env = {"CONVOAI_PREAPPROVED_NUMBERS": OTHER}
    async with rig(tmp_path, env) as r, Client(r.server) as client:
        refused = await client.call_tool("call", {"to_number": OTHER})
        assert "not on the call allow-list" in error_text(refused)
        assert await calls_in_sandbox(r) == 0


def test_the_gate_settings() -> None:
    env = {
        "CONVOAI_CONFIRM_BY_ARGUMENT": "true",
        "CONVOAI_PREAPPROVED_NUMBERS": "+14155550123,+4420",
        "CONVOAI_APPROVAL_TTL": "120",
    }
    s = Settings.from_env(env, require_credentials=False)
    assert s.confirm_by_argument and s.approval_ttl == 120
    assert s.preapproved_numbers == ("+14155550123", "+4420")
    default = Settings.from_env({}, require_credentials=False)
    assert not default.confirm_by_argument and default.approval_ttl == 300
    with pytest.raises(ConfigError, match="CONVOAI_PREAPPROVED_NUMBERS"):
        Settings.from_env({"CONVOAI_PREAPPROVED_NUMBERS": "415"}, require_credentials=False)
    with pytest.raises(ConfigError, match="CONVOAI_APPROVAL_TTL"):
        Settings.from_env({"CONVOAI_APPROVAL_TTL": "0"}, require_credentials=False)


def test_the_banner_says_loudly_when_the_model_may_confirm() -> None:
    quiet = Settings.from_env({"CONVOAI_CALL_ALLOWLIST": CALLEE}, require_credentials=False)
    assert "WARNING" not in safety_summary(quiet, TOOL_NAMES, TOOL_NAMES)
    loud = Settings.from_env(
        {"CONVOAI_CALL_ALLOWLIST": CALLEE, "CONVOAI_CONFIRM_BY_ARGUMENT": "true"},
        require_credentials=False,
    )
    line = safety_summary(loud, TOOL_NAMES, TOOL_NAMES)
    assert "WARNING: CONVOAI_CONFIRM_BY_ARGUMENT=true" in line and "no human" in line


async def test_an_expired_approval_link_is_refused_and_the_call_is_not_placed(
    tmp_path: Path,
) -> None:
    from convoai_mcp.server.approval import ApprovalStore

    now = [1000.0]
    async with rig(tmp_path) as r, Client(r.server) as client:
        r.server.runtime.gate.store = ApprovalStore(ttl=300, clock=lambda: now[0])
        link = link_in(error_text(await client.call_tool("call", {"to_number": CALLEE})))
        now[0] += 301
        async with httpx.AsyncClient() as http:
            assert (await http.get(link)).status_code == 410
        retry = await client.call_tool("call", {"to_number": CALLEE})
        assert link_in(error_text(retry)) != link
        assert await calls_in_sandbox(r) == 0


async def test_over_http_the_page_is_on_the_transports_port_without_the_bearer_token(
    tmp_path: Path,
) -> None:
    import anyio
    import httpx2
    from mcp.client.streamable_http import streamable_http_client

    from convoai_mcp.server.transports.http import serve_http

    token = "gate-http-token-0123456789abcdef"
    ready = anyio.Event()
    stop = anyio.Event()
    urls: list[str] = []

    def on_ready(url: str, token_required: bool) -> None:
        urls.append(url)
        ready.set()

    async with rig(tmp_path, {"CONVOAI_HTTP_TOKEN": token}) as r, anyio.create_task_group() as tg:
        tg.start_soon(
            lambda: serve_http(
                r.server,
                r.settings,
                transport="streamable-http",
                host="127.0.0.1",
                port=0,
                on_ready=on_ready,
                stop=stop,
            )
        )
        try:
            with anyio.fail_after(30):
                await ready.wait()
            base = urls[0].removesuffix("/mcp")
            async with (
                httpx2.AsyncClient(headers={"Authorization": f"Bearer {token}"}) as authed,
                Client(streamable_http_client(urls[0], http_client=authed)) as client,
            ):
                refused = await client.call_tool("call", {"to_number": CALLEE, "confirm": True})
                link = link_in(error_text(refused))
                assert link.startswith(base + "/approve/")  # the transport's own port
                assert await calls_in_sandbox(r) == 0
                async with httpx.AsyncClient() as browser:  # no bearer token
                    assert (await browser.get(base + "/mcp")).status_code == 401
                    hostile = await browser.post(
                        link,
                        data={"decision": "approve", "fingerprint": "x"},
                        headers={"Origin": "http://evil.example"},
                    )
                    assert hostile.status_code == 403
                approved = await decide(link)
                assert approved.status_code == 200, approved.text
                placed = await client.call_tool("call", {"to_number": CALLEE})
                assert not placed.is_error, placed
                assert await calls_in_sandbox(r) == 1
        finally:
            stop.set()


async def test_the_loopback_page_starts_on_first_need_and_closes_at_exit(tmp_path: Path) -> None:
    async with rig(tmp_path) as r, Client(r.server) as client:
        assert r.server.runtime.gate._served is None  # nothing listens before it is needed
        link = link_in(error_text(await client.call_tool("call", {"to_number": CALLEE})))
        async with httpx.AsyncClient() as http:
            assert (await http.get(link)).status_code == 200
    # the rig's exit ran Runtime.aclose: the page server is gone
    async with httpx.AsyncClient() as http:
        with pytest.raises(httpx.ConnectError):
            await http.get(link)


def _executable(path: str) -> bool:
    import os

    return os.path.exists(path) and os.access(path, os.X_OK)


@pytest.mark.usefixtures("url_only")
async def test_in_chromium_a_url_client_shows_the_page_and_the_human_approves(
    tmp_path: Path,
) -> None:
    """The whole way in a real browser (Debian's Chromium, Playwright's async API): the client
    gets the link, the human sees the number and its local time and clicks Approve; the call is
    placed only then."""
    from test_approval_browser import CHROMIUM, CHROMIUM_ARGS, _unavailable

    try:
        from playwright.async_api import Error, async_playwright
    except ImportError:
        _unavailable("Playwright for Python is not installed (pip install playwright)")
    if not _executable(CHROMIUM):
        _unavailable(f"Chromium is not installed at {CHROMIUM} (apt-get install chromium)")
    async with async_playwright() as playwright, rig(tmp_path) as r:
        try:
            browser = await playwright.chromium.launch_persistent_context(
                str(tmp_path / "profile"),
                executable_path=CHROMIUM,
                headless=True,
                args=CHROMIUM_ARGS,
            )
        except Error as exc:
            _unavailable(f"Chromium at {CHROMIUM} did not start: {exc.message.splitlines()[0]}")
        browser.set_default_timeout(15_000)
        seen: dict[str, Any] = {}

        async def human(
            context: ClientRequestContext, params: types.ElicitRequestParams
        ) -> types.ElicitResult:
            assert isinstance(params, types.ElicitRequestURLParams)
            page = await browser.new_page()
            await page.goto(params.url)
            seen["number"] = await page.text_content("#number")
            seen["local_time"] = await page.text_content("#local-time")
            seen["sent_before"] = await calls_in_sandbox(r)
            await page.click("#approve")
            seen["state"] = await page.get_attribute("#state", "data-state")
            await page.close()
            return types.ElicitResult(action="accept")

        try:
            async with Client(r.server, mode="legacy", elicitation_callback=human) as client:
                placed = await client.call_tool("call", {"to_number": CALLEE})
                assert not placed.is_error, placed
        finally:
            await browser.close()
        assert seen["number"] == "+1 415-555-0123"
        assert "America/Los_Angeles" in (seen["local_time"] or "")
        assert seen["sent_before"] == 0 and seen["state"] == "approved"
        assert await calls_in_sandbox(r) == 1
