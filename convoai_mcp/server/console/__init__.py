"""The live console: one self-contained HTML page (:mod:`convoai_mcp.console_page`, which the
emulator's console serves too) and the small JSON + SSE endpoint it reads in a browser.

* ``GET  /console`` — the page (inline CSS and JavaScript; nothing from elsewhere).
* ``GET  /console/api/agents`` — every agent and call this server knows (its runtime record,
  :meth:`~convoai_mcp.server.runtime.Runtime.listed`), newest first, and its campaigns (what
  ``list_campaigns`` answers; none where the server keeps no campaigns).
* ``GET  /console/api/agents/{agent_id}`` — one of them: its record, get_agent (and get_call),
  get_history and get_turns as the tools answer them, and the timeline of states seen.
* ``GET  /console/api/campaigns/{campaign_id}`` — one campaign as ``get_campaign`` answers it:
  per-number state and outcome, attempts, the summary.
* ``GET  /console/api/events`` — Server-Sent Events: ``event: change`` whenever an agent was
  started or ended or a transcript changed (the transcript watchers', :mod:`..watchers`), or a
  campaign changed (its scheduler's updates of ``convoai://campaigns/{id}``; the list is read
  again at least every :data:`CAMPAIGN_SECONDS`).
* ``POST /console/api/agents/{agent_id}/say`` ``{"text"}``, ``.../interrupt``, ``.../end`` —
  speak, interrupt, and stop_agent or hangup.

Everything the API shows or does goes through the server's own tools, called over an in-memory
MCP session with the server (``mcp.Client(server)``): the same validation, guard, confirmation,
audit and redaction as for any MCP client. The record is masked with the guard's redactor.

Where it is served: the HTTP transports mount it at ``/console`` (:func:`with_console`; the
API behind the same Host / Origin checks and bearer token as ``/mcp``, the page itself is
static and holds nothing). A page opened as ``/console#token=...`` sends that token; the
fragment never reaches a server. ``convoai-mcp console`` serves MCP and the console on loopback;
:func:`convoai_mcp.server.transports.console.serve_console` serves only the console (the demo).
The same page is the MCP App resource :data:`UI_URI`, where it talks to the host instead.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from typing import TYPE_CHECKING, Any

import anyio
from starlette.requests import Request
from starlette.responses import HTMLResponse, JSONResponse, Response, StreamingResponse
from starlette.routing import Route, Router

from convoai_mcp.console_page import console_html
from convoai_mcp.server.registry import CONSOLE_UI

if TYPE_CHECKING:
    from mcp import Client
    from mcp.server.apps import Apps
    from mcp.server.mcpserver import MCPServer
    from starlette.types import ASGIApp, Receive, Scope, Send

    from convoai_mcp.server.runtime import Runtime
    from convoai_mcp.started import StartedAgent

__all__ = [
    "CONSOLE_PATH",
    "UI_URI",
    "Console",
    "apps_extension",
    "console_html",
    "with_console",
]

CONSOLE_PATH = "/console"
"""Where the HTTP transports serve the page; its API is under ``/console/api``."""
UI_URI = CONSOLE_UI
"""The page as an MCP App resource (``start_agent``, ``call``, ``get_agent`` and ``get_call``
point at it)."""
KEEPALIVE_SECONDS = 15.0
"""An SSE comment this often keeps proxies from closing a quiet stream."""
CAMPAIGN_SECONDS = 5.0
"""The event stream reads the campaign list at least this often (new campaigns, a status
changed without a call starting or ending); a campaign it knows wakes it at once."""

_ACTIONS = ("say", "interrupt", "end")


def apps_extension() -> Apps:
    """The MCP Apps extension with the console page as :data:`UI_URI` (``text/html;
    profile=mcp-app``). In a host with Apps the page gets the agent from the tool's result and
    reads and acts through ``tools/call`` via the host; hosts without Apps see the tools'
    results as before (the reference is only ``_meta``)."""
    from mcp.server.apps import Apps

    apps = Apps()
    apps.add_html_resource(
        UI_URI,
        console_html(),
        name="console",
        title="Voice agent console",
        description="Live view of an agent or call: status, transcript, per-turn latency; "
        "say a line, interrupt, hang up.",
        prefers_border=True,
    )
    return apps


class Console:
    """The console's API for one server; see the module docstring."""

    def __init__(self, server: MCPServer[Any], runtime: Runtime, *, tick: float = 1.0) -> None:
        self.server = server
        self.runtime = runtime
        self.tick = tick
        """Seconds between checks for agents started or ended (transcripts wake it at once)."""
        self._client: Client | None = None
        self._task: asyncio.Task[None] | None = None
        self._ready = asyncio.Event()
        self._closing = asyncio.Event()
        self._lock = asyncio.Lock()
        self._failure: BaseException | None = None
        self._timelines: dict[str, list[dict[str, Any]]] = {}
        self._tools: frozenset[str] | None = None

    # -- the in-memory MCP session the console calls tools through ---------------------------

    async def _hold(self) -> None:
        from mcp import Client

        try:
            async with Client(self.server) as client:
                self._client = client
                self._ready.set()
                await self._closing.wait()
        except BaseException as exc:
            self._failure = exc
            raise
        finally:
            self._client = None
            self._ready.set()

    async def _session(self) -> Client:
        async with self._lock:
            if self._task is None or self._task.done():
                self._ready.clear()
                self._task = asyncio.get_running_loop().create_task(
                    self._hold(), name="convoai-console-session"
                )
            await self._ready.wait()
        if self._client is None:
            raise RuntimeError(f"the console's MCP session did not start: {self._failure!r}")
        return self._client

    async def aclose(self) -> None:
        """End the console's MCP session."""
        self._closing.set()
        if self._task is not None:
            with contextlib.suppress(BaseException):
                await self._task

    async def call(self, name: str, arguments: dict[str, Any]) -> tuple[bool, dict[str, Any]]:
        """Call one of the server's tools as an MCP client would: (ok, its structured result,
        or ``{"error": text}``)."""
        client = await self._session()
        result = await client.call_tool(name, arguments)
        if result.is_error:
            text = " ".join(getattr(block, "text", "") for block in result.content).strip()
            return False, {"error": text or f"{name} failed"}
        return True, dict(result.structured_content or {})

    # -- what the API answers ---------------------------------------------------------------

    def _masked(self, value: Any) -> Any:
        masked: Any = self.runtime.guard.redactor.value(value)
        return masked

    @staticmethod
    def _record(agent: StartedAgent) -> dict[str, Any]:
        return {
            "agent_id": agent.agent_id,
            "kind": agent.kind,
            "name": agent.name,
            "channel": agent.channel,
            "to_number": agent.to_number,
            "from_number": agent.from_number,
            "started_at": agent.started_at,
            "ended": agent.ended,
            "ended_at": agent.ended_at,
            "end_reason": agent.end_reason,
        }

    async def campaigns(self) -> list[dict[str, Any]]:
        """The campaigns (newest first, as ``list_campaigns`` lists them), or none when the
        server keeps none (no campaign tools, no archive)."""
        if not await self._has_tool("list_campaigns"):
            return []
        ok, listed = await self.call("list_campaigns", {"limit": 50})
        found = listed.get("campaigns") if ok else None
        return list(found) if isinstance(found, list) else []

    async def _has_tool(self, name: str) -> bool:
        """Whether the server offers ``name`` (its tools are listed once)."""
        if self._tools is None:
            client = await self._session()
            self._tools = frozenset(t.name for t in (await client.list_tools()).tools)
        return name in self._tools

    async def overview(self) -> dict[str, Any]:
        """Every agent and call the server knows (running ones and the latest ended), and
        its campaigns."""
        agents = [self._record(a) for a in self.runtime.listed()]
        answer = {"agents": agents, "campaigns": await self.campaigns()}
        masked: dict[str, Any] = self._masked(answer)
        return masked

    async def campaign(self, campaign_id: str) -> tuple[int, dict[str, Any]]:
        """One campaign as ``get_campaign`` answers: (HTTP status, answer)."""
        if not await self._has_tool("get_campaign"):
            return 404, {"error": "this server keeps no campaigns"}
        ok, answer = await self.call("get_campaign", {"campaign_id": campaign_id})
        return (200 if ok else 404), self._masked(answer)

    async def detail(self, agent_id: str) -> dict[str, Any] | None:
        """One agent or call, or None when the server does not know it."""
        record = self.runtime.agents.get(agent_id)
        if record is None:
            return None
        args = {"agent_id": agent_id}
        _, status = await self.call("get_agent", args)
        call: dict[str, Any] | None = None
        if record.kind == "call":
            _, call = await self.call("get_call", args)
        _, history = await self.call("get_history", args)
        _, turns = await self.call("get_turns", args)
        answer = {
            "agent": self._record(record),
            "status": status,
            "call": call,
            "history": history,
            "turns": turns,
            "timeline": self._timeline(record, status, call),
        }
        masked: dict[str, Any] = self._masked(answer)
        return masked

    def _timeline(
        self, record: StartedAgent, status: dict[str, Any], call: dict[str, Any] | None
    ) -> list[dict[str, Any]]:
        """States in the order this console saw them: starting → running → ended, or
        ringing → answered → hung up."""
        if len(self._timelines) > len(self.runtime.agents) + 64:  # forget forgotten agents
            for gone in [k for k in self._timelines if k not in self.runtime.agents]:
                del self._timelines[gone]
        first = "ringing" if record.kind == "call" else "starting"
        steps = self._timelines.setdefault(
            record.agent_id, [{"label": first, "at": record.started_at}]
        )
        state = str(status.get("status") or "")
        if record.kind == "call":
            answered = (call or {}).get("state") == "answered" or state == "RUNNING"
            label = "answered" if answered else None
            ended = "hung up"
        else:
            label = "running" if state == "RUNNING" else None
            ended = "ended"
        if label is not None and all(s["label"] != label for s in steps):
            steps.append({"label": label, "at": time.time()})
        if record.ended and all(not s["label"].startswith(ended) for s in steps):
            why = f" ({record.end_reason})" if record.end_reason else ""
            steps.append({"label": ended + why, "at": record.ended_at or time.time()})
        return list(steps)

    async def act(self, agent_id: str, action: str, body: dict[str, Any]) -> tuple[int, Any]:
        """Run an action through its tool: (HTTP status, answer)."""
        record = self.runtime.agents.get(agent_id)
        if record is None:
            return 404, {"error": f"agent {agent_id} was not started through this server"}
        args: dict[str, Any] = {"agent_id": agent_id}
        if action == "say":
            text = body.get("text")
            if not isinstance(text, str) or not text.strip():
                return 400, {"error": 'send {"text": "what the agent says"}'}
            name, args["text"] = "speak", text
        elif action == "interrupt":
            name = "interrupt"
        else:
            name = "hangup" if record.kind == "call" else "stop_agent"
        ok, answer = await self.call(name, args)
        return (200 if ok else 409), self._masked({"tool": name, "ok": ok, **answer})

    # -- change notification ----------------------------------------------------------------

    def _snapshot(self) -> list[tuple[str, bool, int]]:
        runtime = self.runtime
        watchers = runtime.guard.watchers
        out = []
        for agent in runtime.listed():
            watcher = watchers.get(agent.agent_id)
            out.append((agent.agent_id, agent.ended, watcher.version if watcher else -1))
        return out

    async def _campaign_digest(self) -> list[tuple[str, str, str]]:
        """Each campaign's id, status and counts: what the overview shows of it."""
        return [
            (
                str(c.get("campaign_id")),
                str(c.get("status")),
                json.dumps(c.get("summary"), sort_keys=True),
            )
            for c in await self.campaigns()
        ]

    def _campaign_uris(self, digest: list[tuple[str, str, str]]) -> list[str]:
        return [f"convoai://campaigns/{campaign_id}" for campaign_id, _, _ in digest]

    async def _changed(self, within: float, campaigns: list[str]) -> bool:
        """Return when a transcript or one of ``campaigns`` (resource URIs) changed, or after
        ``within`` seconds; True when a campaign changed."""
        woke = asyncio.Event()
        campaign_changed = False

        async def wake(_: object) -> None:
            woke.set()

        async def campaign_wake(_: object) -> None:
            nonlocal campaign_changed
            campaign_changed = True
            woke.set()

        runtime = self.runtime
        leave: list[Callable[[], None]] = []
        for agent in runtime.listed():
            watcher = runtime.guard.watchers.get(agent.agent_id)
            if watcher is not None and not agent.ended:
                leave.append(watcher.subscribe(wake))
        subscriptions = getattr(self.server, "subscriptions", None)
        key = object()
        if subscriptions is not None:
            for uri in campaigns:
                await subscriptions.add(uri, key, campaign_wake)
        try:
            with anyio.move_on_after(within):
                await woke.wait()
        finally:
            for unsubscribe in leave:
                unsubscribe()
            if subscriptions is not None and campaigns:
                subscriptions.remove_all(key)
        return campaign_changed

    async def events(self) -> AsyncIterator[str]:
        """The SSE stream: a ``change`` event at once and on every change."""
        yield "retry: 2000\n\n"
        last: tuple[list[tuple[str, bool, int]], list[tuple[str, str, str]]] | None = None
        digest: list[tuple[str, str, str]] = []
        quiet = since_listed = 0.0
        while True:
            agents = self._snapshot()
            if last is None or agents != last[0] or since_listed >= CAMPAIGN_SECONDS:
                digest, since_listed = await self._campaign_digest(), 0.0
            snapshot = (agents, digest)
            if snapshot != last:
                last, quiet = snapshot, 0.0
                ids = [agent_id for agent_id, _, _ in agents]
                campaign_ids = [campaign_id for campaign_id, _, _ in digest]
                data = json.dumps({"agents": ids, "campaigns": campaign_ids})
                yield f"event: change\ndata: {data}\n\n"
            elif quiet >= KEEPALIVE_SECONDS:
                quiet = 0.0
                yield ": keep-alive\n\n"
            if await self._changed(self.tick, self._campaign_uris(digest)):
                since_listed = CAMPAIGN_SECONDS  # a campaign changed: read the list now
            quiet += self.tick
            since_listed += self.tick

    # -- HTTP ----------------------------------------------------------------------------

    def api_app(self) -> ASGIApp:
        """The API's routes (relative to ``/console/api``)."""

        async def agents(request: Request) -> Response:
            return _json(await self.overview())

        async def campaign(request: Request) -> Response:
            status, answer = await self.campaign(request.path_params["campaign_id"])
            return _json(answer, status)

        async def agent(request: Request) -> Response:
            answer = await self.detail(request.path_params["agent_id"])
            if answer is None:
                return _json({"error": "no such agent was started through this server"}, 404)
            return _json(answer)

        async def action(request: Request) -> Response:
            name = request.path_params["action"]
            if name not in _ACTIONS:
                return _json({"error": f"unknown action {name!r}; use one of {_ACTIONS}"}, 404)
            if request.headers.get("content-type", "").split(";")[0].strip() != "application/json":
                return _json({"error": "send the action as application/json"}, 415)
            try:
                body = json.loads(await request.body() or b"{}")
            except ValueError:
                return _json({"error": "the body is not valid JSON"}, 400)
            if not isinstance(body, dict):
                return _json({"error": "send a JSON object"}, 400)
            status, answer = await self.act(request.path_params["agent_id"], name, body)
            return _json(answer, status)

        async def events(request: Request) -> Response:
            return StreamingResponse(
                self.events(),
                media_type="text/event-stream",
                headers={"cache-control": "no-store", "x-accel-buffering": "no"},
            )

        return Router(
            routes=[
                Route("/agents", agents, methods=["GET"]),
                Route("/agents/{agent_id}", agent, methods=["GET"]),
                Route("/agents/{agent_id}/{action}", action, methods=["POST"]),
                Route("/campaigns/{campaign_id}", campaign, methods=["GET"]),
                Route("/events", events, methods=["GET"]),
            ]
        )


_HEADERS = {
    "cache-control": "no-store",
    "x-content-type-options": "nosniff",
    "referrer-policy": "no-referrer",
}
_PAGE_HEADERS = {
    **_HEADERS,
    "content-security-policy": "default-src 'none'; style-src 'unsafe-inline'; "
    "script-src 'unsafe-inline'; connect-src 'self'; img-src 'self' data:; "
    "frame-ancestors 'none'; base-uri 'none'; form-action 'none'",
    "x-frame-options": "DENY",
}


def _json(value: Any, status: int = 200) -> Response:
    return JSONResponse(value, status_code=status, headers=_HEADERS)


def with_console(
    app: ASGIApp, console: Console, secure: Callable[[ASGIApp], ASGIApp] | None = None
) -> Callable[[Scope, Receive, Send], Awaitable[None]]:
    """``app`` with the console at :data:`CONSOLE_PATH`: the page as is, the API wrapped by
    ``secure`` (the transport's Host / Origin checks, bearer token and body limit:
    ``lambda api: secure_asgi_app(api, security)``), anything else (and the lifespan) to
    ``app``."""
    page = HTMLResponse(console_html(CONSOLE_PATH + "/api"), headers=_PAGE_HEADERS)
    api = console.api_app()
    guarded = secure(api) if secure is not None else api
    prefix = CONSOLE_PATH + "/api"

    async def dispatch(scope: Scope, receive: Receive, send: Send) -> None:
        path = scope.get("path", "") if scope["type"] == "http" else ""
        if path in (CONSOLE_PATH, CONSOLE_PATH + "/"):
            if scope.get("method") not in ("GET", "HEAD"):
                await _json({"error": "the console page is read with GET"}, 405)(
                    scope, receive, send
                )
                return
            await page(scope, receive, send)
            return
        if path.startswith(prefix + "/"):
            await guarded({**scope, "root_path": prefix}, receive, send)
            return
        await app(scope, receive, send)

    return dispatch
