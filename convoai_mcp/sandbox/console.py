"""The emulator's view in the live console (``convoai-mcp sandbox --console``): every agent and
call the emulator holds, live, in the same page the MCP server serves
(:mod:`convoai_mcp.console_page`), read from a JSON/SSE API of the emulator's own shaped like
the server's (:mod:`convoai_mcp.server.console`), which this package does not import:

* ``GET  /console`` — the page;
* ``GET  /console/api/agents`` — every agent and call the emulator holds, newest first;
* ``GET  /console/api/agents/{agent_id}`` — one: its record, status, call, transcript, turns
  (with the latency summary the ``get_turns`` tool gives) and timeline;
* ``GET  /console/api/events`` — Server-Sent Events, ``event: change`` on every change (the
  emulator's state is read every :data:`TICK_SECONDS`: it is in memory, and changes lazily);
* ``POST /console/api/agents/{agent_id}/say`` ``{"text"}``, ``.../interrupt``, ``.../end`` —
  the agent speaks, is interrupted, stops (or its call is hung up), as through the REST API;
  ``.../user-says`` ``{"text"}`` — the other party speaks (as the admin endpoint's ``say``).

What it shows is the emulator's truth, not what a server was told: agents started by any
client, inbound calls, the callee's scripted lines. Nothing of an agent's configuration (its
tokens, LLM keys) is shown. No credentials: like the rest of the emulator it is for loopback;
a request whose ``Host`` is not a loopback name (or the ``--host`` it listens on) is refused
(DNS rebinding), so is one from another ``Origin``, and an action must be
``application/json`` (a cross-site form cannot send that without a preflight).
"""

from __future__ import annotations

import asyncio
import json
import statistics
from collections.abc import AsyncGenerator, Callable
from typing import TYPE_CHECKING, Any, Protocol
from urllib.parse import urlsplit

from starlette.requests import Request
from starlette.responses import HTMLResponse, JSONResponse, Response, StreamingResponse
from starlette.routing import Route

from convoai_mcp.console_page import console_html

from .errors import SandboxError
from .runner import is_loopback

if TYPE_CHECKING:
    from .records import AgentRecord
    from .state import SandboxState

__all__ = ["CONSOLE_PATH", "TICK_SECONDS", "EmulatorConsole", "console_routes"]

CONSOLE_PATH = "/console"
"""Where the page is; its API is under ``/console/api``."""
TICK_SECONDS = 0.25
"""How often the event stream reads the emulator's state for changes."""
KEEPALIVE_SECONDS = 15.0
"""An SSE comment this often keeps a quiet stream open."""

_ACTIONS = ("say", "user-says", "interrupt", "end")
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


class _Emulator(Protocol):
    """What the console reads: the :class:`~.app.Sandbox`'s state (a protocol, so that this
    module does not import the app that mounts it)."""

    state: SandboxState


def _median(values: list[float]) -> float | None:
    return round(statistics.median(values), 1) if values else None


class EmulatorConsole:
    """The console's API on one emulator; see the module docstring."""

    def __init__(self, sandbox: _Emulator, *, tick: float = TICK_SECONDS) -> None:
        self.sandbox = sandbox
        self.tick = tick

    @property
    def state(self) -> SandboxState:
        return self.sandbox.state

    # -- what the API answers ---------------------------------------------------------------

    def _record(self, agent: AgentRecord, now: float) -> dict[str, Any]:
        call = self.state.calls.get(agent.agent_id) if agent.kind == "call" else None
        ended = agent.status(now) == "STOPPED"
        reason: str | None = None
        if ended:
            reason = agent.message or None
            if call is not None and call.stopped_at is not None:
                reason = call.reason
        return {
            "agent_id": agent.agent_id,
            "kind": agent.kind,
            "name": agent.config.name,
            "channel": agent.config.channel,
            "to_number": call.to_number if call is not None else None,
            "from_number": call.from_number if call is not None else None,
            "direction": call.type if call is not None else None,
            "status": agent.status(now),
            "started_at": agent.created_at,
            "ended": ended,
            "ended_at": agent.stopped_at if ended else None,
            "end_reason": reason,
        }

    def overview(self) -> dict[str, Any]:
        """Every agent and call the emulator holds, newest first (``campaigns`` are the
        server's: the emulator has none)."""
        state = self.state
        with state.lock:
            now = state.now()
            agents = sorted(state.agents.values(), key=lambda a: a.seq, reverse=True)
            for agent in agents:
                state.get_agent(agent.agent_id)  # applies what happened by now
            return {
                "agents": [self._record(a, now) for a in agents],
                "campaigns": [],
                "now": now,
                "source": "emulator",
            }

    def detail(self, agent_id: str) -> dict[str, Any] | None:
        """One agent or call, or None when the emulator does not hold it."""
        state = self.state
        with state.lock:
            agent = state.agents.get(agent_id)
            if agent is None:
                return None
            status = state.get_agent(agent_id)
            call = state.get_call(agent_id) if agent_id in state.calls else None
            now = state.now()
            wire = state.turns(agent_id, page_size=len(agent.turns) or 1)["turns"]
            turns = [self._turn(t) for t in wire]
            measured = [t["e2e_latency_ms"] for t in turns if t["e2e_latency_ms"] is not None]
            worst = max(measured, default=None)
            return {
                "agent": self._record(agent, now),
                "status": status,
                "call": call,
                "history": {"contents": [entry.to_wire() for entry in agent.history]},
                "turns": {
                    "turns": turns,
                    "total": len(turns),
                    "summary": {
                        "measured_turns": len(measured),
                        "median_e2e_ms": _median(measured),
                        "worst_e2e_ms": worst,
                    },
                },
                "timeline": self._timeline(agent, now),
            }

    @staticmethod
    def _turn(wire: dict[str, Any]) -> dict[str, Any]:
        metrics = wire.get("metrics") or {}
        end = wire.get("end") or {}
        return {
            "turn_id": wire.get("turn_id"),
            "start_type": (wire.get("start") or {}).get("type"),
            "end_type": end.get("type"),
            "e2e_latency_ms": metrics.get("e2e_latency_ms"),
            "stages_ms": {
                str(seg["name"]): seg["latency"]
                for seg in metrics.get("segmented_latency_ms") or []
                if seg.get("name") and seg.get("latency") is not None
            },
        }

    def _timeline(self, agent: AgentRecord, now: float) -> list[dict[str, Any]]:
        """starting → running → ended, or ringing → answered → hung up, with the emulator's
        times (it knows them: nothing has to be seen to be in the timeline)."""
        call = self.state.calls.get(agent.agent_id) if agent.kind == "call" else None
        if call is not None:
            steps = [{"label": "ringing", "at": call.created_at}]
            stopped = call.stopped_at is not None and call.stopped_at <= now
            if call.answered_at <= now and not (stopped and call.reason == "failed"):
                steps.append({"label": "answered", "at": call.answered_at})
            if stopped:
                ended = "failed" if call.reason == "failed" else "hung up"
                steps.append({"label": f"{ended} ({call.reason})", "at": call.stopped_at})
            return steps
        steps = [{"label": "starting", "at": agent.created_at}]
        stopped_at = agent.stopped_at if agent.status(now) == "STOPPED" else None
        if agent.running_at <= now and (stopped_at is None or stopped_at > agent.running_at):
            steps.append({"label": "running", "at": agent.running_at})
        if stopped_at is not None:
            why = f" ({agent.message})" if agent.message else ""
            steps.append({"label": "ended" + why, "at": stopped_at})
        return steps

    def act(self, agent_id: str, action: str, body: dict[str, Any]) -> tuple[int, Any]:
        """Do an action as the REST API would: (HTTP status, answer)."""
        state = self.state
        try:
            with state.lock:
                agent = state.agents.get(agent_id)
                if agent is None:
                    return 404, {"error": f"the emulator holds no agent {agent_id}"}
                if action in ("say", "user-says"):
                    text = body.get("text")
                    if not isinstance(text, str) or not text.strip():
                        return 400, {"error": 'send {"text": "what is said"}'}
                    if action == "say":
                        state.speak(agent_id, text)
                        done = "speak"
                    else:
                        state.user_says(agent_id, text)
                        done = "user_says"
                elif action == "interrupt":
                    state.interrupt(agent_id)
                    done = "interrupt"
                elif agent_id in state.calls:
                    state.hangup(agent_id)
                    done = "hangup"
                else:
                    state.stop_agent(agent_id)
                    done = "leave"
        except SandboxError as err:
            return 409, {"error": f"{err.reason}: {err.detail}", "ok": False}
        return 200, {"operation": done, "ok": True}

    # -- change notification ----------------------------------------------------------------

    def snapshot(self) -> list[tuple[str, str, str | None, int, int]]:
        """What the page shows, in brief: each agent's status, call state, transcript and
        turn counts (a change in any of them is an event)."""
        state = self.state
        with state.lock:
            now = state.now()
            out = []
            for agent in sorted(state.agents.values(), key=lambda a: a.seq, reverse=True):
                status = str(state.get_agent(agent.agent_id)["status"])
                call = state.calls.get(agent.agent_id)
                visible = sum(1 for t in agent.turns if t.start_at <= now)
                out.append(
                    (
                        agent.agent_id,
                        status,
                        call.state(now) if call is not None else None,
                        len(agent.history),
                        visible,
                    )
                )
            return out

    async def events(self) -> AsyncGenerator[str, None]:
        """The SSE stream: a ``change`` event at once and on every change."""
        yield "retry: 2000\n\n"
        last: list[tuple[str, str, str | None, int, int]] | None = None
        quiet = 0.0
        while True:
            snapshot = self.snapshot()
            if snapshot != last:
                last, quiet = snapshot, 0.0
                ids = [agent_id for agent_id, *_ in snapshot]
                yield f"event: change\ndata: {json.dumps({'agents': ids})}\n\n"
            elif quiet >= KEEPALIVE_SECONDS:
                quiet = 0.0
                yield ": keep-alive\n\n"
            await asyncio.sleep(self.tick)
            quiet += self.tick


def _json(value: Any, status: int = 200) -> Response:
    return JSONResponse(value, status_code=status, headers=_HEADERS)


def _same_site(request: Request, hosts: frozenset[str]) -> str | None:
    """Why the request is refused (a foreign Host or Origin), or None."""
    host = request.headers.get("host", "")
    name = urlsplit(f"//{host}").hostname or ""
    if not (is_loopback(name) or name in hosts):
        return f"the console answers on loopback names only, not Host {host!r}"
    origin = request.headers.get("origin")
    if origin is not None and urlsplit(origin).netloc != host:
        return f"requests from origin {origin!r} are refused"
    return None


def console_routes(sandbox: _Emulator, *, hosts: frozenset[str] = frozenset()) -> list[Route]:
    """The console's routes on ``sandbox`` (a :class:`~.app.Sandbox`); ``hosts`` are names
    besides loopback the page may be reached by (the ``--host`` it listens on)."""
    console = EmulatorConsole(sandbox)
    allowed = frozenset(h.strip("[]").lower() for h in hosts)

    def guarded(
        handler: Callable[[Request], Any],
    ) -> Callable[[Request], Any]:
        async def endpoint(request: Request) -> Response:
            refused = _same_site(request, allowed)
            if refused is not None:
                return _json({"error": refused}, 403)
            response: Response = await handler(request)
            return response

        return endpoint

    async def page(request: Request) -> Response:
        return HTMLResponse(console_html(CONSOLE_PATH + "/api"), headers=_PAGE_HEADERS)

    async def agents(request: Request) -> Response:
        return _json(console.overview())

    async def agent(request: Request) -> Response:
        answer = console.detail(request.path_params["agent_id"])
        if answer is None:
            return _json({"error": "the emulator holds no such agent"}, 404)
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
        status, answer = console.act(request.path_params["agent_id"], name, body)
        return _json(answer, status)

    async def events(request: Request) -> Response:
        return StreamingResponse(
            console.events(),
            media_type="text/event-stream",
            headers={"cache-control": "no-store", "x-accel-buffering": "no"},
        )

    api = CONSOLE_PATH + "/api"
    return [
        Route(CONSOLE_PATH, guarded(page), methods=["GET"]),
        Route(CONSOLE_PATH + "/", guarded(page), methods=["GET"]),
        Route(api + "/agents", guarded(agents), methods=["GET"]),
        Route(api + "/agents/{agent_id}", guarded(agent), methods=["GET"]),
        Route(api + "/agents/{agent_id}/{action}", guarded(action), methods=["POST"]),
        Route(api + "/events", guarded(events), methods=["GET"]),
    ]
