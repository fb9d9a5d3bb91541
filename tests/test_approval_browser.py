"""The approval page in a real browser: Debian's Chromium, driven by Playwright for Python.

One browser for the module (a fresh profile in a temporary directory), one page per test. The
approval server and a second, hostile origin run on loopback in a background thread, because
Playwright's sync API wants the test's own thread free of an event loop.

Without Chromium (``/usr/bin/chromium``) or Playwright these tests skip, saying why; under
``CI=true`` that is a failure instead (``.ci/run`` installs Chromium). Set
``UPDATE_SCREENSHOTS=1`` to rewrite ``docs/approval-page.png``.
"""

from __future__ import annotations

import asyncio
import contextlib
import html
import os
import shutil
import threading
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any, NoReturn

import pytest
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import HTMLResponse
from starlette.routing import Route

from convoai_mcp.phone import parse_phone
from convoai_mcp.redact import Redactor
from convoai_mcp.sandbox.runner import serve
from convoai_mcp.server.approval import (
    APPROVAL_TTL,
    ApprovalDetails,
    ApprovalStore,
    serve_approvals,
)

if TYPE_CHECKING:
    from playwright.sync_api import BrowserContext, Page

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
SCREENSHOT = Path(__file__).resolve().parent.parent / "docs" / "approval-page.png"
SECRET = "sk-live-secret-0123456789abcdef0123456789"
WALL = datetime(2026, 1, 15, 20, 5, tzinfo=UTC)  # 12:05 in Los Angeles


def _unavailable(reason: str) -> NoReturn:
    if os.environ.get("CI", "").lower() == "true":
        pytest.fail(f"browser tests cannot run under CI: {reason}")
    pytest.skip(reason)


class Clock:
    def __init__(self) -> None:
        self.now = 5000.0

    def __call__(self) -> float:
        return self.now


async def _hostile(request: Request) -> HTMLResponse:
    """Another origin's page that knows a link and its fingerprint and posts to it."""
    target = html.escape(request.query_params["target"])
    fp = html.escape(request.query_params["fp"])
    return HTMLResponse(
        f'<!doctype html><title>win a prize</title><form method="post" action="{target}">'
        f'<input type="hidden" name="fingerprint" value="{fp}">'
        '<button id="go" name="decision" value="approve">Claim</button></form>'
    )


class Servers:
    """The approval server and a hostile origin, on loopback in a thread of their own."""

    def __init__(self) -> None:
        self.clock = Clock()
        self.store = ApprovalStore(clock=self.clock)
        self._loop = asyncio.new_event_loop()
        self._thread = threading.Thread(target=self._loop.run_forever, daemon=True)
        self._stack = contextlib.AsyncExitStack()
        self.base = ""
        self.hostile = ""

    async def _start(self) -> None:
        self.base = await self._stack.enter_async_context(
            serve_approvals(self.store, redactor=Redactor([SECRET]), wall_clock=lambda: WALL)
        )
        hostile_app = Starlette(routes=[Route("/", _hostile)])
        self.hostile = await self._stack.enter_async_context(serve(hostile_app))

    def __enter__(self) -> Servers:
        self._thread.start()
        asyncio.run_coroutine_threadsafe(self._start(), self._loop).result(timeout=30)
        return self

    def __exit__(self, *exc: object) -> None:
        asyncio.run_coroutine_threadsafe(self._stack.aclose(), self._loop).result(timeout=30)
        self._loop.call_soon_threadsafe(self._loop.stop)
        self._thread.join(timeout=30)
        self._loop.close()

    def open(self, **arguments: Any) -> tuple[str, str, str]:
        """A pending call approval: (link, token, fingerprint)."""
        fp = self.store.fingerprint("call", {"to_number": "+14152345678", **arguments})
        details = ApprovalDetails.for_call(
            parse_phone("+14152345678"),
            caller_id="+14155550100",
            agent_summary={
                "Goal": "Book a table for two at 7 pm on Friday",
                "Greeting": "Hello, I'm calling on behalf of Alex to book a table.",
                "Voice": "English (US), ElevenLabs",
                "LLM key": SECRET,
            },
            llm_endpoint="https://llm.internal.example/v1/chat/completions",
        )
        approval = self.store.open(fp, details)
        return self.store.link(self.base, approval), approval.token, fp

    def state(self, token: str) -> str:
        approval = self.store.get(token)
        assert approval is not None
        return approval.state


@pytest.fixture(scope="module")
def servers() -> Iterator[Servers]:
    with Servers() as running:
        yield running


def chromium_context(
    tmp_path_factory: pytest.TempPathFactory, *, width: int
) -> Iterator[BrowserContext]:
    """Debian's Chromium under Playwright with a fresh profile (skipped with the reason where
    either is missing; a failure under CI): the one launch of every browser test."""
    try:
        from playwright.sync_api import Error, sync_playwright
    except ImportError:
        _unavailable("Playwright for Python is not installed (pip install playwright)")
    if not (os.path.exists(CHROMIUM) and os.access(CHROMIUM, os.X_OK)):
        _unavailable(f"Chromium is not installed at {CHROMIUM} (apt-get install chromium)")
    profile = tmp_path_factory.mktemp("chromium-profile")
    with sync_playwright() as playwright:
        try:
            context = playwright.chromium.launch_persistent_context(
                str(profile),
                executable_path=CHROMIUM,
                headless=True,
                args=CHROMIUM_ARGS,
                viewport={"width": width, "height": 900},
            )
        except Error as exc:
            _unavailable(f"Chromium at {CHROMIUM} did not start: {exc.message.splitlines()[0]}")
        context.set_default_timeout(15_000)
        yield context
        context.close()


@pytest.fixture(scope="module")
def browser(tmp_path_factory: pytest.TempPathFactory) -> Iterator[BrowserContext]:
    yield from chromium_context(tmp_path_factory, width=800)


@pytest.fixture
def page(browser: BrowserContext) -> Iterator[Page]:
    tab = browser.new_page()
    yield tab
    tab.close()


def _expect() -> Any:
    from playwright.sync_api import expect

    return expect


def test_open_the_link_see_the_call_and_approve(servers: Servers, page: Page) -> None:
    expect = _expect()
    link, token, fp = servers.open()
    response = page.goto(link)
    assert response is not None and response.status == 200
    expect(page.locator("#number")).to_have_text("+1 415-234-5678")
    expect(page.locator("#country")).to_have_text("United States")
    expect(page.locator("#local-time")).to_have_text("12:05 (Thu) in America/Los_Angeles")
    expect(page.locator("#caller-id")).to_have_text("+14155550100")
    expect(page.locator("#cost-warning")).to_contain_text("billed per minute")
    assert SECRET not in page.content()
    with page.expect_response(lambda r: r.request.method == "POST") as answer:
        page.get_by_role("button", name="Approve").click()
    assert answer.value.status == 200
    expect(page.locator("#state")).to_have_attribute("data-state", "approved")
    assert servers.state(token) == "approved"
    used = servers.store.consume(fp)
    assert used is not None and used.fingerprint == fp


def test_deny_with_the_keyboard(servers: Servers, page: Page) -> None:
    expect = _expect()
    link, token, fp = servers.open(greeting="deny me")
    page.goto(link)
    page.keyboard.press("Tab")
    expect(page.locator("#approve")).to_be_focused()
    page.keyboard.press("Tab")
    expect(page.locator("#deny")).to_be_focused()
    page.keyboard.press("Enter")
    expect(page.locator("#state")).to_have_attribute("data-state", "denied")
    assert servers.state(token) == "denied"
    assert servers.store.consume(fp) is None


def test_a_replayed_form_is_refused(servers: Servers, browser: BrowserContext) -> None:
    """Two tabs on the same link: the second decision is refused, the first one stands."""
    expect = _expect()
    link, token, _ = servers.open(greeting="two tabs")
    first, second = browser.new_page(), browser.new_page()
    try:
        first.goto(link)
        second.goto(link)
        first.get_by_role("button", name="Deny").click()
        expect(first.locator("#state")).to_have_attribute("data-state", "denied")
        with second.expect_response(lambda r: r.request.method == "POST") as answer:
            second.get_by_role("button", name="Approve").click()
        assert answer.value.status == 409
        expect(second.locator("#state")).to_contain_text("already denied")
        assert servers.state(token) == "denied"
        # opening the link again shows that it is spent, with no buttons
        again = browser.new_page()
        again.goto(link)
        expect(again.locator("#approve")).to_have_count(0)
        again.close()
    finally:
        first.close()
        second.close()


def test_an_expired_link_is_refused(servers: Servers, page: Page) -> None:
    expect = _expect()
    link, token, fp = servers.open(greeting="too late")
    page.goto(link)
    servers.clock.now += APPROVAL_TTL + 1
    with page.expect_response(lambda r: r.request.method == "POST") as answer:
        page.get_by_role("button", name="Approve").click()
    assert answer.value.status == 410
    expect(page.locator("#state")).to_contain_text("expired")
    assert servers.state(token) == "expired"
    assert servers.store.consume(fp) is None
    response = page.goto(link)
    assert response is not None and response.status == 410


def test_a_cross_origin_post_is_refused(servers: Servers, page: Page) -> None:
    expect = _expect()
    link, token, fp = servers.open(greeting="phishing")
    page.goto(f"{servers.hostile}/?target={link}&fp={fp}")
    with page.expect_response(lambda r: r.request.method == "POST") as answer:
        page.locator("#go").click()
    assert answer.value.status == 403
    expect(page.locator("#state")).to_contain_text("Nothing was changed")
    assert servers.state(token) == "pending"


def test_screenshot(servers: Servers, page: Page, tmp_path: Path) -> None:
    link, _, _ = servers.open(greeting="screenshot")
    page.goto(link)
    shot = tmp_path / "approval-page.png"
    page.screenshot(path=str(shot), full_page=True)
    assert shot.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    if os.environ.get("UPDATE_SCREENSHOTS") == "1":
        SCREENSHOT.parent.mkdir(exist_ok=True)
        shutil.copyfile(shot, SCREENSHOT)
