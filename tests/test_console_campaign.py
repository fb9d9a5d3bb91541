"""The console's campaign view in a real browser (Debian's Chromium under Playwright): a
campaign started through the server's ``start_campaign`` tool on the emulator, three numbers
that answer, are busy and never answer; the overview lists it, the view shows progress and each
number's outcome as the calls go, and the MCP App shows it from a tool result, refreshed by the
campaign resource's updates through the host. ``UPDATE_SCREENSHOTS=1`` rewrites
``docs/console-campaign.png``."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest
from _axe import axe_violations
from test_approval_browser import chromium_context
from test_console_browser import Servers, _expect, _screenshot, host_page
from test_safety_canaries import leaks

from convoai_mcp.sandbox import Callee, Line
from convoai_mcp.server.campaigns import scheduler_of

if TYPE_CHECKING:
    from playwright.sync_api import BrowserContext, Page

ANSWERS, BUSY, SILENT = "+14155550123", "+14155550124", "+14155550125"
NUMBERS = (ANSWERS, BUSY, SILENT)


@pytest.fixture(scope="module")
def servers(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Servers]:
    env = {"CONVOAI_CALL_ALLOWLIST": ",".join(NUMBERS)}
    with Servers(tmp_path_factory.mktemp("campaign"), env) as running:
        assert running.server is not None
        scheduler = scheduler_of(running.server.runtime)
        assert scheduler is not None
        scheduler.clock = running.sandbox.state.now  # the campaign runs on the emulator's clock
        scheduler.tick = 0.02
        callees = running.sandbox.state.callees
        callees.set(
            ANSWERS,
            Callee(outcome="answer", after=1, hang_up_after=20, says=(Line(2, "Yes, I'll come."),)),
        )
        callees.set(BUSY, Callee(outcome="busy", after=1))
        callees.set(SILENT, Callee(outcome="no_answer"))
        yield running


@pytest.fixture(scope="module")
def browser(tmp_path_factory: pytest.TempPathFactory) -> Iterator[BrowserContext]:
    yield from chromium_context(tmp_path_factory, width=1100)


@pytest.fixture
def page(browser: BrowserContext) -> Iterator[Page]:
    tab = browser.new_page()
    yield tab
    tab.close()


def _start(servers: Servers, name: str) -> dict[str, Any]:
    return servers.raw_tool(
        "start_campaign",
        {
            "name": name,
            "destinations": [{"number": n} for n in NUMBERS],
            "system_prompt": "Confirm tomorrow's appointment.",
            "pacing": {"max_concurrent": 3, "calls_per_minute": 600},
            "confirm": True,
        },
    )


def test_the_campaign_view_follows_a_campaign(servers: Servers, page: Page, tmp_path: Path) -> None:
    expect = _expect()
    started = _start(servers, "Appointments")
    assert not started.get("isError"), started
    campaign_id = started["structuredContent"]["campaign_id"]
    page.goto(servers.console)
    button = page.locator(f'#campaigns button[data-campaign="{campaign_id}"]')
    expect(button).to_contain_text("Appointments")
    button.click()
    expect(page.locator("#campaign-h")).to_have_text("Campaign · Appointments")
    rows = page.locator("#c-destinations tbody tr")
    expect(rows).to_have_count(3)
    expect(page.locator("#c-status")).to_have_text("running")

    # the calls are placed, answered or not, and end: the view follows, without a reload
    for number in NUMBERS:
        expect(page.locator(f'tr[data-number="{number}"]')).not_to_have_attribute(
            "data-state", "queued"
        )
    servers.advance(5)  # answered, and the callee has spoken; the busy line gave up
    answered = page.locator(f'tr[data-number="{ANSWERS}"]')
    expect(answered).to_have_attribute("data-state", "answered")
    expect(page.locator(f'tr[data-number="{BUSY}"]')).to_have_attribute("data-state", "busy")

    # a number's call opens in the agent view, with its transcript
    page.get_by_role("button", name=f"Open the call to {ANSWERS}").click()
    expect(page.locator("#detail-h")).to_contain_text(f"Call to {ANSWERS}")
    expect(page.locator("#campaign")).to_be_hidden()
    expect(page.locator("#transcript li.untrusted", has_text="Yes, I'll come.")).to_have_count(1)
    button.click()
    expect(page.locator("#campaign-h")).to_have_text("Campaign · Appointments")

    servers.advance(90)  # past the ring timeout and the callee's hang-up
    expect(page.locator("#c-status")).to_have_text("completed", timeout=30_000)
    expect(answered).to_have_attribute("data-state", "ended")
    expect(page.locator(f'tr[data-number="{SILENT}"]')).to_have_attribute("data-state", "no_answer")
    expect(page.locator("#c-progress-text")).to_have_text("3 of 3 done")
    expect(page.locator("#c-progress")).to_have_attribute("value", "3")
    expect(page.locator("#c-needs")).to_have_text(f"{BUSY}, {SILENT}")
    expect(page.locator('#c-counts li[data-state="ended"]')).to_have_text("ended: 1")
    expect(button).to_contain_text("completed · 3 of 3 done")
    expect(button).to_have_attribute("aria-current", "true")
    expect(page.locator('#agents button[aria-current="true"]')).to_have_count(0)
    _screenshot(page, "console-campaign.png", tmp_path)
    violations = axe_violations(page)
    assert violations == [], json.dumps(violations, indent=1)
    assert leaks(page.content()) == []


def test_the_mcp_app_shows_a_campaign_from_a_tool_result(servers: Servers, page: Page) -> None:
    """The App gets start_campaign's result from the host, reads get_campaign through it, and
    refreshes on convoai://campaigns/{id} updates the host forwards."""
    expect = _expect()
    subscribed: list[str] = []

    def subscribe(uri: str) -> dict[str, Any]:
        subscribed.append(uri)
        return servers.subscribe(uri)

    page.expose_function("callTool", servers.raw_tool)
    page.expose_function("subscribe", subscribe)
    started = _start(servers, "Reminders")
    campaign_id = started["structuredContent"]["campaign_id"]
    page.set_content(host_page(resources=True))
    page.evaluate("(relay) => { window.relay = relay; }", servers.relay)
    page.evaluate("(result) => { window.toolResult = result; }", started)
    page.evaluate("(html) => { document.getElementById('app').srcdoc = html; }", servers.ui_page())
    app = page.frame_locator("#app")
    expect(app.locator("#campaign-h")).to_have_text("Campaign · Reminders")
    expect(app.locator("#conn")).to_have_attribute("data-refresh", "push")
    assert subscribed == [f"convoai://campaigns/{campaign_id}"]
    for number in NUMBERS:  # placed: the updates the host forwarded brought them in
        expect(app.locator(f'tr[data-number="{number}"]')).not_to_have_attribute(
            "data-state", "queued"
        )
    servers.advance(5)
    servers.advance(90)
    expect(app.locator("#c-status")).to_have_text("completed", timeout=30_000)
    expect(app.locator("#c-progress-text")).to_have_text("3 of 3 done")
    frame = next(f for f in page.frames if f != page.main_frame)
    violations = axe_violations(frame)
    assert violations == [], json.dumps(violations, indent=1)
