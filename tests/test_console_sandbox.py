"""``convoai-mcp sandbox --console``: the emulator's own view in the live console page, in a real
browser (Debian's Chromium under Playwright), and its JSON/SSE API over loopback.

The agents and calls are started through the emulator's REST API (raw httpx, as any client
would), so the page shows what the emulator holds, not what a server was told. The emulator
runs in a background thread's event loop; its clock is moved by the test (no sleeps).
``UPDATE_SCREENSHOTS=1`` rewrites ``docs/console-sandbox.png``.
"""

from __future__ import annotations

import asyncio
import contextlib
import io
import json
import re
import signal
import subprocess
import sys
import threading
from collections.abc import Coroutine, Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeVar

import httpx
import pytest
from _axe import axe_violations
from _server_helpers import subprocess_env
from test_approval_browser import chromium_context
from test_console_browser import _expect, _screenshot
from test_sandbox_agents import basic, cascading_body
from test_sandbox_telephony import call_body

from convoai_mcp.console_page import console_html
from convoai_mcp.sandbox import DEMO_CREDENTIALS, Sandbox
from convoai_mcp.sandbox.cli import _banner, build_parser
from convoai_mcp.sandbox.console import EmulatorConsole
from convoai_mcp.sandbox.validation import validate_join_body

if TYPE_CHECKING:
    from playwright.sync_api import BrowserContext, Page

T = TypeVar("T")
P = f"/v2/projects/{DEMO_CREDENTIALS.app_id}"
AUTH = {"authorization": basic()}
T0 = 1_800_000_000.0


class Clock:
    def __init__(self) -> None:
        self.now = T0

    def __call__(self) -> float:
        return self.now


class Emulator:
    """The emulator with its console, in a thread of its own."""

    def __init__(self) -> None:
        self.clock = Clock()
        self.sandbox = Sandbox(DEMO_CREDENTIALS, console=True, clock=self.clock, answer_delay=1.0)
        self._loop = asyncio.new_event_loop()
        self._thread = threading.Thread(target=self._loop.run_forever, daemon=True)
        self._stack = contextlib.AsyncExitStack()
        self.base_url = ""

    def run(self, work: Coroutine[Any, Any, T]) -> T:
        return asyncio.run_coroutine_threadsafe(work, self._loop).result(timeout=60)

    def __enter__(self) -> Emulator:
        self._thread.start()
        self.base_url = self.run(self._stack.enter_async_context(self.sandbox.serve()))
        return self

    def __exit__(self, *exc: object) -> None:
        self.run(self._stack.aclose())
        self._loop.call_soon_threadsafe(self._loop.stop)
        self._thread.join(timeout=30)
        self._loop.close()

    @property
    def root(self) -> str:
        return self.base_url.split("/api/", 1)[0]

    @property
    def console(self) -> str:
        return self.root + "/console"

    def rest(self, method: str, path: str, body: dict[str, Any] | None = None) -> Any:
        answer = httpx.request(method, self.base_url + path, headers=AUTH, json=body)
        assert answer.status_code == 200, answer.text
        return answer.json() if answer.content else None

    def user_says(self, agent_id: str, text: str) -> None:
        async def say() -> None:
            self.sandbox.state.user_says(agent_id, text)
            self.clock.now += 30

        self.run(say())

    def advance(self, seconds: float) -> None:
        async def move() -> None:
            self.clock.now += seconds

        self.run(move())

    def status(self, agent_id: str) -> str:
        async def read() -> str:
            return str(self.sandbox.state.get_agent(agent_id)["status"])

        return self.run(read())


@pytest.fixture(scope="module")
def emulator() -> Iterator[Emulator]:
    with Emulator() as running:
        yield running


@pytest.fixture(scope="module")
def browser(tmp_path_factory: pytest.TempPathFactory) -> Iterator[BrowserContext]:
    yield from chromium_context(tmp_path_factory, width=1100)


@pytest.fixture
def page(browser: BrowserContext) -> Iterator[Page]:
    tab = browser.new_page()
    yield tab
    tab.close()


def test_the_emulator_console_shows_what_the_emulator_holds_live(
    emulator: Emulator, page: Page, tmp_path: Path
) -> None:
    expect = _expect()
    started = emulator.rest("POST", P + "/join", cascading_body("desk", "sandbox-room"))
    agent_id = started["agent_id"]
    response = page.goto(emulator.console)
    assert response is not None and response.status == 200
    expect(page.locator("h1")).to_have_text("convoai-mcp console · emulator")
    expect(page.locator("#conn")).to_have_text("live")
    button = page.locator(f'#agents button[data-agent="{agent_id}"]')
    expect(button).to_contain_text("desk")
    button.click()
    expect(page.locator("#status")).to_contain_text("RUNNING")
    expect(page.locator("#timeline")).to_contain_text("running")

    # a call placed through the REST API appears without a reload (the event stream)
    body = call_body("ring", to="+15551230000")
    body["properties"]["tts"]["params"].update(key="tts-key", region="eastus")
    placed = emulator.rest("POST", P + "/call", body)
    call_id = placed["agent_id"]
    expect(page.locator(f'#agents button[data-agent="{call_id}"]')).to_contain_text(
        "Call to +15551230000"
    )

    # the user speaks: the line, the agent's answer and a latency bar appear, without a reload
    emulator.user_says(agent_id, "Do you deliver on Sundays?")
    line = page.locator("#transcript li.untrusted", has_text="Do you deliver on Sundays?")
    expect(line).to_have_count(1)
    expect(page.locator("#transcript li.assistant").last).to_contain_text("Sundays")
    detail = httpx.get(f"{emulator.root}/console/api/agents/{agent_id}").json()
    measured = [t for t in detail["turns"]["turns"] if t["e2e_latency_ms"] is not None]
    assert measured and all(set(t["stages_ms"]) >= {"asr_ttlw", "llm_ttft"} for t in measured[1:])
    expect(page.locator("#latency .bar")).to_have_count(len(measured))
    expect(page.locator("#median")).to_contain_text(" ms")
    _screenshot(page, "console-sandbox.png", tmp_path)
    violations = axe_violations(page)
    assert violations == [], json.dumps(violations, indent=1)

    # say a line through the console: the agent speaks it on the emulator
    page.get_by_label("Say a line").fill("We deliver every day.")
    page.keyboard.press("Enter")
    expect(page.locator("#action-status")).to_have_text("Said.")
    emulator.advance(5)
    said = page.locator("#transcript li.assistant", has_text="We deliver every day.")
    expect(said).to_have_count(1)

    # the other party speaks, from the console (the emulator's own action)
    page.get_by_label("The user says").fill("And on holidays?")
    page.get_by_role("button", name="Speak as the user").click()
    expect(page.locator("#action-status")).to_have_text("The user spoke.")
    expect(page.locator("#transcript li.untrusted", has_text="And on holidays?")).to_have_count(1)

    # Stop: the agent stops on the emulator
    page.get_by_role("button", name="Stop agent").click()
    expect(page.locator("#status")).to_contain_text("ended")
    assert emulator.status(agent_id) == "STOPPED"

    # the call: answered on the emulator's clock, then hung up from the console
    page.locator(f'#agents button[data-agent="{call_id}"]').click()
    expect(page.locator("#detail-h")).to_contain_text("Call to +15551230000")
    emulator.advance(2)
    expect(page.locator("#timeline")).to_contain_text("answered")
    page.get_by_role("button", name="Hang up").click()
    expect(page.locator("#timeline")).to_contain_text("hung up (request)")
    assert emulator.status(call_id) == "STOPPED"

    # nothing of an agent's configuration (its join token) reaches the page
    token = cascading_body("desk", "sandbox-room")["properties"]["token"][:40]
    assert token not in page.content()
    assert token not in httpx.get(f"{emulator.root}/console/api/agents/{agent_id}").text


def test_the_api_refuses_foreign_hosts_origins_and_forms(emulator: Emulator) -> None:
    api = f"{emulator.root}/console/api"
    assert httpx.get(f"{api}/agents").status_code == 200
    rebound = httpx.get(f"{api}/agents", headers={"host": "attacker.example"})
    assert rebound.status_code == 403 and "loopback" in rebound.json()["error"]
    foreign = httpx.post(
        f"{api}/agents/x/end", headers={"origin": "https://attacker.example"}, json={}
    )
    assert foreign.status_code == 403
    form = httpx.post(
        f"{api}/agents/x/end",
        headers={"content-type": "application/x-www-form-urlencoded"},
        content=b"a=b",
    )
    assert form.status_code == 415
    assert httpx.post(f"{api}/agents/nope/end", json={}).status_code == 404
    assert httpx.get(f"{api}/agents/nope").status_code == 404
    assert httpx.post(f"{api}/agents/x/dance", json={}).status_code == 404
    assert httpx.post(f"{api}/agents/nope/user-says", json={"text": "hi"}).status_code == 404
    page = httpx.get(emulator.console)
    assert page.text == console_html("/console/api")
    assert "frame-ancestors 'none'" in page.headers["content-security-policy"]


def test_the_console_is_off_unless_asked_for() -> None:
    assert all(
        getattr(route, "path", "") != "/console" for route in Sandbox(DEMO_CREDENTIALS).app.routes
    )
    assert build_parser().parse_args(["--console"]).console is True
    assert build_parser().parse_args([]).console is False


def test_the_banner_prints_the_console_url_as_a_comment() -> None:
    out = io.StringIO()
    sandbox = Sandbox(DEMO_CREDENTIALS, console=True)
    _banner(sandbox, "http://127.0.0.1:8787/api/conversational-ai-agent", out, [])
    assert "# console: http://127.0.0.1:8787/console\n" in out.getvalue()


def test_the_event_stream_announces_changes() -> None:
    """A change event at once, and another when the emulator's state changed. (In a thread of
    its own: Playwright's sync API holds this module's thread's event loop.)"""
    failures: list[BaseException] = []

    def run() -> None:
        try:
            asyncio.run(_stream_announces_changes())
        except BaseException as exc:  # reported in the test's thread
            failures.append(exc)

    thread = threading.Thread(target=run)
    thread.start()
    thread.join(timeout=60)
    if failures:
        raise failures[0]


async def _stream_announces_changes() -> None:
    clock = Clock()
    sandbox = Sandbox(DEMO_CREDENTIALS, clock=clock)
    console = EmulatorConsole(sandbox, tick=0.01)
    stream = console.events()
    assert await anext(stream) == "retry: 2000\n\n"
    first = await anext(stream)
    assert json.loads(first.split("data: ", 1)[1]) == {"agents": []}
    sandbox.state.start_agent(validate_join_body(cascading_body("evt", "evt-room")))
    second = await anext(stream)
    assert second.startswith("event: change\n")
    assert len(json.loads(second.split("data: ", 1)[1])["agents"]) == 1
    await stream.aclose()


@pytest.mark.slow
def test_sandbox_console_command_serves_the_page(tmp_path: Path) -> None:
    """``convoai-mcp sandbox --console --port 0`` in a real process: the banner's console URL
    serves the page and the emulator's API; Ctrl-C ends it cleanly."""
    proc = subprocess.Popen(
        [sys.executable, "-m", "convoai_mcp", "sandbox", "--console", "--port", "0"],
        stdin=subprocess.DEVNULL,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        env=subprocess_env(),
    )
    try:
        assert proc.stdout is not None
        seen = b""
        pattern = rb"# console: (http://127\.0\.0\.1:\d+/console)\n"
        while (match := re.search(pattern, seen)) is None:
            line = proc.stdout.readline()
            assert line, f"the sandbox ended before printing its console: {seen!r}"
            seen += line
        url = match.group(1).decode()
        page = httpx.get(url, timeout=30)
        assert page.status_code == 200 and 'data-api="/console/api"' in page.text
        listed = httpx.get(url + "/api/agents", timeout=30).json()
        assert listed["agents"] == [] and listed["source"] == "emulator"
        proc.send_signal(signal.SIGINT)
        _, err = proc.communicate(timeout=30)
        assert proc.returncode == 0, err
        assert b"Traceback" not in err
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
