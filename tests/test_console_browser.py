"""The live console in a real browser: Debian's Chromium, driven by Playwright for Python, against
the MCP server served over streamable HTTP (the console at ``/console``) on the emulator.

The emulator, the server and an in-memory MCP client (which starts the agents, as a model would)
run in a background thread's event loop; Playwright's sync API keeps the test's thread. The
server has canary secrets configured (tests/test_safety_canaries.py), including the HTTP bearer
token, which the page gets in its URL fragment. Without Chromium or Playwright these tests skip,
saying why; under ``CI=true`` that is a failure. ``UPDATE_SCREENSHOTS=1`` rewrites
``docs/console-*.png``.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import shutil
import threading
import warnings
from collections.abc import Coroutine, Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeVar

import anyio
import httpx
import pytest
from _axe import axe_violations
from _server_helpers import BY_ARGUMENT
from mcp import Client
from mcp.shared.exceptions import MCPDeprecationWarning
from mcp_types import ResourceUpdatedNotification
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.responses import Response as HttpResponse
from starlette.routing import Route
from test_approval_browser import chromium_context
from test_safety_canaries import CALLEE, CREDENTIALS, HTTP_TOKEN, canary_env, leaks

from convoai_mcp.config import Settings
from convoai_mcp.sandbox import Sandbox
from convoai_mcp.sandbox.runner import serve
from convoai_mcp.server.app import ConvoAIServer, build_server
from convoai_mcp.server.console import UI_URI
from convoai_mcp.server.transports.http import http_socket, serve_http

if TYPE_CHECKING:
    from playwright.sync_api import BrowserContext, Page, Response

T = TypeVar("T")
DOCS = Path(__file__).resolve().parent.parent / "docs"


class Servers:
    """Emulator + MCP server over HTTP + an MCP client, in a thread of their own."""

    def __init__(self, tmp: Path, env: dict[str, str] | None = None) -> None:
        self.tmp = tmp
        self.env = dict(env or {})
        self._loop = asyncio.new_event_loop()
        self._thread = threading.Thread(target=self._loop.run_forever, daemon=True)
        self._stack = contextlib.AsyncExitStack()
        self.sandbox = Sandbox(CREDENTIALS, answer_delay=0.0)
        self.server: ConvoAIServer | None = None
        self.client: Client | None = None
        self.host: Client | None = None
        self.updates: list[dict[str, Any]] = []
        """notifications/resources/updated the host's session received, as JSON-RPC."""
        self._arrived = asyncio.Condition()
        self.relay = ""
        self.base = ""

    async def _start(self) -> None:
        base_url = await self._stack.enter_async_context(self.sandbox.serve("127.0.0.1", 0))
        env = {
            **canary_env("basic"),
            "CONVOAI_BASE_URL": base_url,
            "CONVOAI_ARCHIVE_PATH": str(self.tmp / "archive.sqlite3"),
            "CONVOAI_LOG_LEVEL": "INFO",
            **BY_ARGUMENT,  # the model's confirm=true places the test's call (no human here)
            **self.env,
        }
        settings = Settings.from_env(env)
        server = self.server = build_server(settings, poll_interval=0.05)
        self._stack.push_async_callback(server.runtime.aclose)
        sock = http_socket("127.0.0.1", 0)
        stop = anyio.Event()
        ready = asyncio.Event()
        urls: list[str] = []

        def on_ready(url: str, token_required: bool) -> None:
            assert token_required
            urls.append(url)
            ready.set()

        serving = self._loop.create_task(
            serve_http(
                server,
                settings,
                transport="streamable-http",
                host="127.0.0.1",
                port=0,
                on_ready=on_ready,
                stop=stop,
                sock=sock,
            )
        )

        async def _stop_serving() -> None:
            stop.set()
            await serving

        self._stack.push_async_callback(_stop_serving)
        await ready.wait()
        self.base = urls[0].removesuffix("/mcp")
        # The client's task group must be left in the task that entered it: a task of its own.
        opened, closing = asyncio.Event(), asyncio.Event()

        async def hold_client() -> None:
            async with Client(server) as client:
                self.client = client
                opened.set()
                await closing.wait()

        async def on_message(message: object) -> None:
            if isinstance(message, ResourceUpdatedNotification):
                async with self._arrived:
                    dumped = message.model_dump(mode="json", by_alias=True, exclude_none=True)
                    self.updates.append({"jsonrpc": "2.0", **dumped})
                    self._arrived.notify_all()

        self.relay = await self._stack.enter_async_context(serve(self._relay_app()))

        async def hold_host() -> None:
            """The App host's own session (legacy subscriptions: it forwards their updates)."""
            async with Client(server, mode="legacy", message_handler=on_message) as host:
                self.host = host
                opened_host.set()
                await closing.wait()

        opened_host = asyncio.Event()
        holders = [self._loop.create_task(hold_client()), self._loop.create_task(hold_host())]

        async def _close_client() -> None:
            closing.set()
            await asyncio.gather(*holders)

        self._stack.push_async_callback(_close_client)
        await opened.wait()
        await opened_host.wait()

    def run(self, work: Coroutine[Any, Any, T]) -> T:
        return asyncio.run_coroutine_threadsafe(work, self._loop).result(timeout=60)

    def __enter__(self) -> Servers:
        self._thread.start()
        self.run(self._start())
        return self

    def __exit__(self, *exc: object) -> None:
        self.run(self._stack.aclose())
        self._loop.call_soon_threadsafe(self._loop.stop)
        self._thread.join(timeout=30)
        self._loop.close()

    def tool(self, name: str, arguments: dict[str, Any]) -> dict[str, Any]:
        async def call() -> dict[str, Any]:
            assert self.client is not None
            result = await self.client.call_tool(name, arguments)
            assert not result.is_error, result
            return dict(result.structured_content or {})

        return self.run(call())

    def raw_tool(self, name: str, arguments: dict[str, Any]) -> dict[str, Any]:
        """A tool's result as a host passes it on (the JSON of CallToolResult)."""

        async def call() -> dict[str, Any]:
            assert self.client is not None
            result = await self.client.call_tool(name, arguments)
            return result.model_dump(mode="json", by_alias=True, exclude_none=True)

        return self.run(call())

    def _relay_app(self) -> Starlette:
        """``GET /updates?after=N``: the updates after the first N, waiting for one (the
        host page's way to hear its session's notifications: a long poll, answered at once
        when there is news)."""

        async def updates(request: Request) -> HttpResponse:
            after = int(request.query_params.get("after", "0"))
            async with self._arrived:
                await self._arrived.wait_for(lambda: len(self.updates) > after)
                news = self.updates[after:]
            return JSONResponse(news, headers={"access-control-allow-origin": "*"})

        return Starlette(routes=[Route("/updates", updates)])

    def subscribe(self, uri: str) -> dict[str, Any]:
        """resources/subscribe through the host's session (as a host does for its App)."""

        async def subscribe() -> dict[str, Any]:
            assert self.host is not None
            with warnings.catch_warnings():
                warnings.simplefilter("ignore", MCPDeprecationWarning)
                await self.host.subscribe_resource(uri)
            return {}

        return self.run(subscribe())

    def ui_page(self) -> str:
        async def read() -> str:
            assert self.client is not None
            result = await self.client.read_resource(UI_URI)
            return str(getattr(result.contents[0], "text", ""))

        return self.run(read())

    def user_says(self, agent_id: str, text: str) -> None:
        """The emulated user speaks, and the emulator's clock moves past the agent's answer."""

        async def say() -> None:
            self.sandbox.state.user_says(agent_id, text)
            self.sandbox.state.advance(30)

        self.run(say())

    def advance(self, seconds: float) -> None:
        """Move the emulator's clock (calls are answered, ring out, hang up)."""

        async def move() -> None:
            self.sandbox.state.advance(seconds)

        self.run(move())

    def emulator_status(self, agent_id: str) -> str:
        async def status() -> str:
            state = self.sandbox.state
            return str(state.agents[agent_id].status(state.now()))

        return self.run(status())

    @property
    def console(self) -> str:
        return f"{self.base}/console#token={HTTP_TOKEN}"


@pytest.fixture(scope="module")
def servers(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Servers]:
    with Servers(tmp_path_factory.mktemp("console")) as running:
        yield running


@pytest.fixture(scope="module")
def browser(tmp_path_factory: pytest.TempPathFactory) -> Iterator[BrowserContext]:
    yield from chromium_context(tmp_path_factory, width=1100)


class Seen:
    """The API answers the page received (the SSE stream never ends, so it is left out)."""

    def __init__(self, page: Page) -> None:
        self.bodies: list[str] = []
        page.on("response", self._add)

    def _add(self, response: Response) -> None:
        if "/console/api/" in response.url and not response.url.endswith("/events"):
            with contextlib.suppress(Exception):  # a response of a page already closed
                self.bodies.append(response.text())


@pytest.fixture
def page(browser: BrowserContext) -> Iterator[Page]:
    tab = browser.new_page()
    yield tab
    tab.close()


def _expect() -> Any:
    from playwright.sync_api import expect

    return expect


def _screenshot(page: Page, name: str, tmp_path: Path) -> None:
    shot = tmp_path / name
    page.screenshot(path=str(shot), full_page=True)
    assert shot.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    if os.environ.get("UPDATE_SCREENSHOTS") == "1":
        DOCS.mkdir(exist_ok=True)
        shutil.copyfile(shot, DOCS / name)


def test_the_console_follows_an_agent_and_stops_it(
    servers: Servers, page: Page, tmp_path: Path
) -> None:
    expect = _expect()
    seen = Seen(page)
    started = servers.tool("start_agent", {"channel": "console-room", "greeting": "Hello there!"})
    agent_id = started["agent_id"]
    response = page.goto(servers.console)
    assert response is not None and response.status == 200
    button = page.locator(f'#agents button[data-agent="{agent_id}"]')
    expect(button).to_be_visible()
    button.click()
    expect(page.locator("#detail-h")).to_contain_text(started["name"])
    expect(page.locator("#status")).to_contain_text("RUNNING")
    expect(page.locator("#conn")).to_have_text("live")
    expect(page.locator("#user-form")).to_be_hidden()  # only the emulator makes the user speak

    # the user speaks: their line and the agent's answer appear, without a reload
    servers.user_says(agent_id, "What are your opening hours?")
    user_line = page.locator("#transcript li.untrusted", has_text="What are your opening hours?")
    expect(user_line).to_have_count(1)
    expect(user_line.locator(".untrusted-tag")).to_have_text("untrusted")
    answer_line = page.locator(
        '#transcript li.untrusted:has-text("What are your opening hours?") + li.assistant'
    )
    expect(answer_line).to_have_count(1)
    expect(answer_line.locator(".who")).to_have_text("Agent")
    # the greeting was cut off by the user: marked
    greeting = page.locator("#transcript li.assistant", has_text="Hello there!")
    expect(greeting.locator(".cut")).to_have_text("interrupted")
    expect(page.locator("#latency .bar .seg.llm")).to_have_count(1)
    turns = servers.tool("get_turns", {"agent_id": agent_id})
    finished = [t for t in turns["turns"] if t.get("e2e_latency_ms") is not None]
    assert finished, turns
    expect(page.locator("#latency .bar")).to_have_count(len(finished))
    expect(page.locator("#median")).to_contain_text(" ms")
    expect(page.locator("#timeline li").first).to_contain_text("starting")
    _screenshot(page, "console-agent.png", tmp_path)

    # say a line through the console (the speak tool)
    page.get_by_label("Say a line").fill("We open at nine.")
    page.keyboard.press("Enter")
    expect(page.locator("#action-status")).to_have_text("Said.")

    # Stop: the agent ends on the emulator
    with page.expect_response(lambda r: r.url.endswith("/end")) as answer:
        page.get_by_role("button", name="Stop agent").click()
    assert answer.value.status == 200
    expect(page.locator("#status")).to_contain_text("ended")
    assert servers.emulator_status(agent_id) == "STOPPED"
    expect(page.get_by_role("button", name="Stop agent")).to_be_disabled()

    # nothing secret in the page or in what the API answered
    assert seen.bodies, "the page made no API request"
    problems = leaks(page.content()) + [p for body in seen.bodies for p in leaks(body)]
    assert problems == []


def test_hang_up_a_call_from_the_console(servers: Servers, page: Page, tmp_path: Path) -> None:
    expect = _expect()
    placed = servers.tool(
        "call", {"to_number": CALLEE, "system_prompt": "Book a table.", "confirm": True}
    )
    agent_id = placed["agent_id"]
    page.goto(servers.console)
    page.locator(f'#agents button[data-agent="{agent_id}"]').click()
    expect(page.locator("#detail-h")).to_contain_text("Call to")
    servers.user_says(agent_id, "Hello, who is this?")
    callee = page.locator("#transcript li.untrusted", has_text="Hello, who is this?")
    expect(callee.locator(".who")).to_have_text("Callee")
    expect(page.locator("#timeline")).to_contain_text("answered")
    _screenshot(page, "console-call.png", tmp_path)
    page.get_by_role("button", name="Hang up").focus()
    with page.expect_response(lambda r: r.url.endswith("/end")) as answer:
        page.keyboard.press("Enter")
    assert answer.value.status == 200
    expect(page.locator("#timeline")).to_contain_text("hung up")
    assert servers.emulator_status(agent_id) == "STOPPED"


def test_the_api_needs_the_token_and_json(servers: Servers) -> None:
    """The page is static; the API is behind the transport's bearer token, and an action must be
    JSON (a cross-site form cannot send that without a preflight this server does not answer)."""
    page = httpx.get(f"{servers.base}/console")
    assert page.status_code == 200
    assert page.headers["content-type"].startswith("text/html")
    assert "frame-ancestors 'none'" in page.headers["content-security-policy"]
    assert leaks(page.text) == []
    assert httpx.get(f"{servers.base}/console/api/agents").status_code == 401
    auth = {"authorization": f"Bearer {HTTP_TOKEN}"}
    listed = httpx.get(f"{servers.base}/console/api/agents", headers=auth)
    assert listed.status_code == 200 and isinstance(listed.json()["agents"], list)
    form = httpx.post(
        f"{servers.base}/console/api/agents/x/end",
        headers={**auth, "content-type": "application/x-www-form-urlencoded"},
        content=b"a=b",
    )
    assert form.status_code == 415
    unknown = httpx.get(f"{servers.base}/console/api/agents/nope", headers=auth)
    assert unknown.status_code == 404
    hostile = httpx.get(
        f"{servers.base}/console/api/agents", headers={**auth, "origin": "https://evil.example"}
    )
    assert hostile.status_code == 403


def host_page(*, resources: bool) -> str:
    """A test host: the host side of the MCP Apps bridge (JSON-RPC over postMessage), tools/call
    forwarded to the server; with ``resources`` it also proxies the server's resources: it
    subscribes for its App (resources/subscribe) and forwards to it every
    notifications/resources/updated its session receives (``window.relay``: their source)."""
    caps = "{serverTools: {}, serverResources: {}}" if resources else "{serverTools: {}}"
    return """<!doctype html><html lang="en"><title>test host</title>
<iframe id="app" title="console" sandbox="allow-scripts"
 style="width:1060px;height:1100px;border:0">
</iframe>
<script>
const frame = document.getElementById("app");
window.toolResult = null;
async function forward(relay) {  // the host's session's notifications, to the app
  for (let seen = 0;;) {
    const news = await (await fetch(relay + "/updates?after=" + seen)).json();
    seen += news.length;
    for (const n of news) frame.contentWindow.postMessage(n, "*");
  }
}
window.addEventListener("message", async (ev) => {
  if (ev.source !== frame.contentWindow) return;
  const m = ev.data, reply = (result) => frame.contentWindow.postMessage(
    {jsonrpc: "2.0", id: m.id, result}, "*");
  if (m.method === "ui/initialize") {
    reply({protocolVersion: "2026-01-26", hostInfo: {name: "test-host", version: "1"},
      hostCapabilities: CAPS, hostContext: {theme: "light"}});
  } else if (m.method === "ui/notifications/initialized") {
    frame.contentWindow.postMessage({jsonrpc: "2.0", method: "ui/notifications/tool-result",
      params: window.toolResult}, "*");
  } else if (m.method === "tools/call") {
    reply(await window.callTool(m.params.name, m.params.arguments));
  } else if (m.method === "resources/subscribe" && RESOURCES) {
    reply(await window.subscribe(m.params.uri));
    if (!window.forwarding) { window.forwarding = true; forward(window.relay); }
  }
});
</script></html>""".replace("CAPS", caps).replace("RESOURCES", "true" if resources else "false")


HOST_PAGE = host_page(resources=False)


def test_the_mcp_app_in_a_host(servers: Servers, page: Page, tmp_path: Path) -> None:
    """A host page that implements the MCP Apps bridge loads the ui:// resource in a sandboxed
    frame, hands it start_agent's result, and forwards its tool calls to the server."""
    expect = _expect()
    calls: list[str] = []

    def call_tool(name: str, arguments: dict[str, Any]) -> dict[str, Any]:
        calls.append(name)
        return servers.raw_tool(name, arguments)

    page.expose_function("callTool", call_tool)
    started = servers.raw_tool("start_agent", {"channel": "app-room", "greeting": "Hi!"})
    agent_id = started["structuredContent"]["agent_id"]
    page.set_content(HOST_PAGE)
    page.evaluate("(result) => { window.toolResult = result; }", started)
    page.evaluate("(html) => { document.getElementById('app').srcdoc = html; }", servers.ui_page())
    app = page.frame_locator("#app")
    expect(app.locator("#detail-h")).to_contain_text(started["structuredContent"]["name"])
    expect(app.locator("#status")).to_contain_text("RUNNING")
    expect(app.locator("#conn")).to_have_text("in the chat")
    # this host forwards no resource updates: the app polls (until the agent ends)
    expect(app.locator("#conn")).to_have_attribute("data-refresh", "poll")
    servers.user_says(agent_id, "Can you hear me?")
    expect(app.locator("#transcript li.untrusted", has_text="Can you hear me?")).to_have_count(1)
    turns = servers.tool("get_turns", {"agent_id": agent_id})
    finished = [t for t in turns["turns"] if t.get("e2e_latency_ms") is not None]
    expect(app.locator("#latency .bar")).to_have_count(len(finished))
    _screenshot(page, "console-app.png", tmp_path)
    frame = next(f for f in page.frames if f != page.main_frame)
    violations = axe_violations(frame)
    assert violations == [], json.dumps(violations, indent=1)
    app.get_by_role("button", name="Stop agent").click()
    expect(app.locator("#action-status")).to_have_text("Ended.")
    assert servers.emulator_status(agent_id) == "STOPPED"
    assert {"get_agent", "get_history", "get_turns", "stop_agent"} <= set(calls)
    assert leaks(page.content()) == []
    expect(app.locator("#conn")).to_have_attribute("data-refresh", "stopped")  # bounded


def test_the_mcp_app_refreshes_on_resource_updates_from_the_host(
    servers: Servers, page: Page
) -> None:
    """A host that proxies resources: the app subscribes to the agent's history through it and
    refreshes on each notifications/resources/updated it forwards, without polling."""
    expect = _expect()
    subscribed: list[str] = []

    def subscribe(uri: str) -> dict[str, Any]:
        subscribed.append(uri)
        return servers.subscribe(uri)

    page.expose_function("callTool", servers.raw_tool)
    page.expose_function("subscribe", subscribe)
    started = servers.raw_tool("start_agent", {"channel": "push-room", "greeting": "Hi!"})
    agent_id = started["structuredContent"]["agent_id"]
    uri = f"convoai://agents/{agent_id}/history"
    page.set_content(host_page(resources=True))
    page.evaluate("(relay) => { window.relay = relay; }", servers.relay)
    page.evaluate("(result) => { window.toolResult = result; }", started)
    page.evaluate("(html) => { document.getElementById('app').srcdoc = html; }", servers.ui_page())
    app = page.frame_locator("#app")
    expect(app.locator("#status")).to_contain_text("RUNNING")
    expect(app.locator("#conn")).to_have_attribute("data-refresh", "push")
    assert subscribed == [uri]
    servers.user_says(agent_id, "Is anyone there?")
    expect(app.locator("#transcript li.untrusted", has_text="Is anyone there?")).to_have_count(1)
    assert servers.updates, "the line came without a resource update"
    assert {(u["method"], u["params"]["uri"]) for u in servers.updates} == {
        ("notifications/resources/updated", uri)
    }
    expect(app.locator("#conn")).to_have_attribute("data-refresh", "push")  # never polled
    servers.tool("stop_agent", {"agent_id": agent_id})


def test_the_page_is_accessible_and_works_from_the_keyboard(servers: Servers, page: Page) -> None:
    """axe-core's rules (WCAG 2 A/AA: labels, roles, names, contrast; best practices) on the
    rendered page, a transcript and latency chart in it; an agent is opened and a line said
    with the keyboard alone."""
    expect = _expect()
    started = servers.tool("start_agent", {"channel": "keyboard-room", "greeting": "Hello!"})
    agent_id = started["agent_id"]
    page.goto(servers.console)
    button = page.locator(f'#agents button[data-agent="{agent_id}"]')
    expect(button).to_be_visible()
    button.focus()
    page.keyboard.press("Enter")
    expect(button).to_have_attribute("aria-current", "true")
    expect(page.locator("#detail-h")).to_contain_text(started["name"])
    expect(page.locator("#transcript")).to_have_attribute("role", "log")
    expect(page.locator("#transcript")).to_have_attribute("aria-live", "polite")
    servers.user_says(agent_id, "Can I book for Friday?")
    expect(page.locator("#transcript li.untrusted")).to_have_count(1)
    expect(page.locator("#latency .bar").first).to_be_visible()
    violations = axe_violations(page)
    assert violations == [], json.dumps(violations, indent=1)
    page.get_by_label("Say a line").focus()
    page.keyboard.type("Thanks for calling.")
    page.keyboard.press("Tab")
    expect(page.locator("#say")).to_be_focused()
    page.keyboard.press("Enter")
    expect(page.locator("#action-status")).to_have_text("Said.")
    servers.tool("stop_agent", {"agent_id": agent_id})


def test_the_accessibility_check_finds_problems(page: Page) -> None:
    """The check is no rubber stamp: axe (the pinned version) flags a page with faint text, an
    unlabelled input, an unnamed button and an unnamed chart."""
    page.set_content(
        '<!doctype html><html lang="en"><title>bad</title><main>'
        '<p style="color:#bbb;background:#fff">faint</p><input id="bare"><button></button>'
        "<svg role='img'><rect width='1' height='1'/></svg></main></html>"
    )
    found = {v["id"] for v in axe_violations(page)}
    assert {"color-contrast", "label", "button-name", "svg-img-alt"} <= found, found


def test_the_browser_console_refreshes_from_the_event_stream_not_a_timer(
    servers: Servers, page: Page
) -> None:
    """Ten minutes of the page's timers (a fake clock) bring no API reads: the page reads
    when the event stream says something changed (and after its own actions), never on a
    timer; a change then arrives through the stream."""
    expect = _expect()
    started = servers.tool("start_agent", {"channel": "quiet-room"})
    agent_id = started["agent_id"]
    reads: list[str] = []
    page.on(
        "request",
        lambda r: reads.append(r.url) if "/console/api/agents" in r.url else None,
    )
    page.clock.install()
    page.goto(servers.console)
    page.locator(f'#agents button[data-agent="{agent_id}"]').click()
    expect(page.locator("#status")).to_contain_text("RUNNING")
    expect(page.locator("#conn")).to_have_text("live")
    before = len(reads)
    page.clock.run_for(10 * 60_000)
    assert len(reads) - before < 5, reads[before:]  # a 2 s poll would have made 300
    servers.user_says(agent_id, "Still there?")
    expect(page.locator("#transcript li.untrusted", has_text="Still there?")).to_have_count(1)
    servers.tool("stop_agent", {"agent_id": agent_id})


def test_the_mcp_app_poll_is_bounded(servers: Servers, page: Page) -> None:
    """Without resource updates from the host the App polls every 2 s, and stops after 30
    minutes even while the agent runs (a fake clock drives the page's timers)."""
    expect = _expect()
    page.expose_function("callTool", servers.raw_tool)
    page.clock.install()
    started = servers.raw_tool("start_agent", {"channel": "poll-room"})
    agent_id = started["structuredContent"]["agent_id"]
    page.set_content(HOST_PAGE)
    page.evaluate("(result) => { window.toolResult = result; }", started)
    page.evaluate("(html) => { document.getElementById('app').srcdoc = html; }", servers.ui_page())
    app = page.frame_locator("#app")
    expect(app.locator("#status")).to_contain_text("RUNNING")
    expect(app.locator("#conn")).to_have_attribute("data-refresh", "poll")
    conn = app.locator("#conn")
    before = conn.get_attribute("data-reads")
    page.clock.run_for(2_100)
    expect(conn).not_to_have_attribute("data-reads", str(before))  # a poll read it again
    page.clock.run_for(31 * 60_000)
    expect(conn).to_have_attribute("data-refresh", "stopped")
    settled = int(conn.get_attribute("data-reads") or 0)
    page.clock.run_for(10 * 60_000)
    expect(conn).to_have_attribute("data-refresh", "stopped")
    assert int(conn.get_attribute("data-reads") or 0) - settled <= 1  # one in flight at most
    servers.tool("stop_agent", {"agent_id": agent_id})
