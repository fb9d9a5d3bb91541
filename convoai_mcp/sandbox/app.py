"""The Starlette application: the REST routes of the service, auth, error bodies, faults, admin.

Agent routes answer errors as ``{"detail", "reason"}``; telephony and phone-number routes as
``{"error_type", "description"}``. Every response carries an ``X-Request-ID`` header.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import socket
import time
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Literal, TypedDict

from starlette.applications import Starlette
from starlette.datastructures import MutableHeaders
from starlette.exceptions import HTTPException
from starlette.middleware import Middleware
from starlette.requests import ClientDisconnect, Request
from starlette.responses import JSONResponse, Response
from starlette.routing import BaseRoute, Mount, Route
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from .auth import AuthResult, authenticate, check_join_token, check_token_binding
from .body import read_body
from .credentials import SandboxCredentials
from .errors import SandboxError, bad_request
from .faults import Fault, FaultSet
from .numbers import validate_number_changes, validate_number_record
from .state import SandboxState
from .validation import (
    validate_call_body,
    validate_e164,
    validate_join_body,
    validate_speak_body,
    validate_think_body,
    validate_update_body,
)

if TYPE_CHECKING:
    from .webhooks import WebhookSender

__all__ = ["ADMIN_PREFIX", "PATH_PREFIX", "Sandbox"]

_log = logging.getLogger("convoai_mcp.sandbox")

PATH_PREFIX = "/api/conversational-ai-agent"
"""Where the v2 API lives below the host (the CN prefix ``/cn`` + this is served too)."""
ADMIN_PREFIX = "/_sandbox"
"""The admin endpoint's reserved prefix (only with ``admin=True``)."""


_DEFAULT_REASONS = {
    400: "InvalidRequestBody",
    401: "InvalidPermission",
    403: "InvalidPermission",
    404: "TaskNotFound",
    408: "TaskOperationTimeout",
    409: "TaskConflict",
    429: "ResourceQuotaLimitExceeded",
    501: "NotImplemented",
    502: "ServiceUnavailable",
    503: "ServiceUnavailable",
    504: "TaskOperationTimeout",
}

Family = Literal["agents", "telephony"]
Result = tuple[int, Any]


class _ListWindow(TypedDict):
    from_time: float | None
    to_time: float | None
    limit: int
    cursor: str | None


@dataclass
class _Ctx:
    """What one operation handler gets."""

    sandbox: Sandbox
    request: Request
    auth: AuthResult
    now: float

    def param(self, name: str) -> str:
        return str(self.request.path_params[name])

    async def json(self) -> Any:
        raw = await read_body(self.request)
        if not raw.strip():
            raise SandboxError(
                400, "InvalidRequestBody", "the request body is empty; send a JSON object"
            )
        try:
            return json.loads(raw)
        except (ValueError, UnicodeDecodeError):
            raise SandboxError(
                400, "InvalidRequestBody", "the request body is not valid JSON"
            ) from None

    def query_int(self, name: str, *, low: int, high: int) -> int | None:
        value = self.request.query_params.get(name)
        if value is None or value == "":
            return None
        try:
            number = int(value)
        except ValueError:
            raise bad_request(name, f"must be an integer, got {value!r}") from None
        if not low <= number <= high:
            raise bad_request(name, f"must be between {low} and {high}, got {number}")
        return number

    def query_float(self, name: str, *, low: float, high: float) -> float | None:
        """A number (the SDK types the list time range as float: ``1700000000.5`` is fine)."""
        value = self.request.query_params.get(name)
        if value is None or value == "":
            return None
        try:
            number = float(value)
        except ValueError:
            raise bad_request(name, f"must be a number, got {value!r}") from None
        if not low <= number <= high:  # also refuses nan
            raise bad_request(name, f"must be between {low:g} and {high:g}, got {value}")
        return number

    def query_states(self, name: str) -> set[int] | None:
        """One agent state number or a comma-separated list of them (``0,1,2``)."""
        value = self.request.query_params.get(name)
        if value is None or value.strip() == "":
            return None
        states: set[int] = set()
        for part in value.split(","):
            text = part.strip()
            if not (text.isascii() and text.isdigit()) or not 0 <= int(text) <= 6:
                raise bad_request(
                    name, f"must be agent state numbers 0..6, comma-separated, got {value!r}"
                )
            states.add(int(text))
        return states

    def query_str(self, name: str) -> str | None:
        value = self.request.query_params.get(name)
        return value or None

    def list_window(self) -> _ListWindow:
        """The query parameters both list operations take: time range and paging."""
        return {
            "from_time": self.query_float("from_time", low=0, high=2**40),
            "to_time": self.query_float("to_time", low=0, high=2**40),
            "limit": self.query_int("limit", low=1, high=100) or 20,
            "cursor": self.query_str("cursor"),
        }


Handler = Callable[[_Ctx], Awaitable[Result]]


def _error_body(family: Family, err: SandboxError) -> dict[str, Any]:
    if family == "telephony":
        body: dict[str, Any] = {"error_type": err.reason, "description": err.detail}
    else:
        body = {"detail": err.detail, "reason": err.reason}
    body.update(err.extra)
    return body


def _error_response(family: Family, err: SandboxError) -> JSONResponse:
    return JSONResponse(_error_body(family, err), status_code=err.status, headers=err.headers)


def _format_retry_after(seconds: float) -> str:
    return str(int(seconds)) if float(seconds).is_integer() else f"{seconds:g}"


def _fault_error(fault: Fault) -> SandboxError:
    reason = (
        fault.reason
        or _DEFAULT_REASONS.get(fault.status)
        or ("InternalError" if fault.status >= 500 else "InvalidRequestBody")
    )
    headers = {}
    if fault.retry_after is not None:
        headers["Retry-After"] = _format_retry_after(fault.retry_after)
    return SandboxError(
        fault.status, reason, f"injected fault: HTTP {fault.status}", headers=headers
    )


class _Truncated(Response):
    """Starts an answer and never finishes it; the server then closes the connection."""

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        await send(
            {
                "type": "http.response.start",
                "status": 200,
                "headers": [(b"content-type", b"application/json"), (b"content-length", b"1024")],
            }
        )
        await send({"type": "http.response.body", "body": b"{", "more_body": True})


async def _drop(request: Request) -> Response:
    """Close the client's connection without an answer (the client sees a protocol error).

    Under uvicorn the connection's transport is reached through ``receive.__self__`` and closed
    before anything is written. Behind middleware that hides it, the answer is cut off after
    its first byte instead (uvicorn closes a connection whose response is left incomplete)."""
    owner = getattr(request.receive, "__self__", None)
    transport = getattr(owner, "transport", None)
    if transport is None or not hasattr(transport, "close"):
        _log.debug("drop fault: transport not reachable, truncating the answer instead")
        return _Truncated()
    transport.close()
    for _ in range(3):  # let uvicorn see connection_lost, so nothing is written afterwards
        await asyncio.sleep(0)
    return Response(status_code=500)


async def _read_ahead(request: Request) -> None:
    """Read (and cache) the body now, so that an operation made slow by a latency fault is
    still performed after its client gave up, as on the real service."""
    with contextlib.suppress(ClientDisconnect, SandboxError):  # a 413 is answered later
        await read_body(request)


def _malformed(payload: Any) -> Response:
    text = "{}" if payload is None else json.dumps(payload)
    broken = text[: max(1, len(text) // 2)]
    return Response(broken.encode(), status_code=200, media_type="application/json")


def _render(status: int, payload: Any) -> Response:
    if status == 204 or payload is None:
        return Response(status_code=status)
    return JSONResponse(payload, status_code=status)


class _RequestIdMiddleware:
    """Adds an ``X-Request-ID`` header to every response; ``answered`` is called after each."""

    def __init__(self, app: ASGIApp, answered: Callable[[], None] | None = None) -> None:
        self.app = app
        self.answered = answered

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        request_id = uuid.uuid4().hex

        async def send_with_id(message: Message) -> None:
            if message["type"] == "http.response.start":
                MutableHeaders(scope=message).append("X-Request-ID", request_id)
            await send(message)

        try:
            await self.app(scope, receive, send_with_id)
        finally:
            if self.answered is not None:
                self.answered()


class Sandbox:
    """A local emulator of the Conversational AI REST API for one project.

    ``credentials`` default to :meth:`SandboxCredentials.from_env` (demo values where unset).
    ``state`` may be shared by several instances (then ``seed``, delays and ``clock`` of this
    instance are not used). ``admin=True`` enables the ``/_sandbox/`` admin endpoint;
    ``console=True`` the live console at ``/console`` (:mod:`.console`; ``console_hosts``: names
    besides loopback it answers to).
    """

    def __init__(
        self,
        credentials: SandboxCredentials | None = None,
        *,
        state: SandboxState | None = None,
        seed: int = 0,
        answer_delay: float = 0.2,
        start_delay: float = 0.0,
        admin: bool = False,
        console: bool = False,
        console_hosts: frozenset[str] = frozenset(),
        clock: Callable[[], float] = time.time,
    ) -> None:
        self.credentials = credentials if credentials is not None else SandboxCredentials.from_env()
        self.state = (
            state
            if state is not None
            else SandboxState(
                seed=seed, clock=clock, start_delay=start_delay, answer_delay=answer_delay
            )
        )
        self.faults = FaultSet()
        self.admin = admin
        self.console = console
        self.console_hosts = console_hosts
        self.base_url: str | None = None
        self.webhooks: WebhookSender | None = None
        """The notification callbacks' delivery (:meth:`deliver_webhooks`), if configured."""
        self.app: Starlette = self._build_app()

    def __repr__(self) -> str:
        return (
            f"Sandbox(app_id={self.credentials.app_id!r}, base_url={self.base_url!r}, "
            f"admin={self.admin})"
        )

    def serve(
        self, host: str = "127.0.0.1", port: int = 0, *, sock: socket.socket | None = None
    ) -> contextlib.AbstractAsyncContextManager[str]:
        """Serve on ``host:port`` (0 = a free port), or on ``sock`` already bound there; yields
        the base URL ending in ``/api/conversational-ai-agent``. Webhooks are delivered while it
        serves."""
        from .runner import serve

        @contextlib.asynccontextmanager
        async def _serve() -> AsyncIterator[str]:
            async with serve(self.app, host=host, port=port, sock=sock) as root:
                self.base_url = root + PATH_PREFIX
                if self.webhooks is not None:
                    self.webhooks.start()
                try:
                    yield self.base_url
                finally:
                    self.base_url = None
                    if self.webhooks is not None:
                        await self.webhooks.aclose()

        return _serve()

    def deliver_webhooks(
        self, url: str, secret: str, *, tick: float | None = None
    ) -> WebhookSender:
        """POST the emulator's notification callbacks to ``url``, signed with ``secret``
        (:mod:`.webhooks`; ``tick``: also look every that many seconds of real time). Delivery
        runs while the sandbox serves (from now on, if it does)."""
        from .webhooks import WebhookSender

        if self.webhooks is not None:
            self.webhooks.stop()  # replaced
        self.webhooks = WebhookSender(self.state, url, secret, tick=tick)
        if self.base_url is not None:
            self.webhooks.start()
        return self.webhooks

    # ----- plumbing ---------------------------------------------------------------------

    def _endpoint(
        self, operation: str, family: Family, handler: Handler, *, project: bool
    ) -> Callable[[Request], Awaitable[Response]]:
        async def endpoint(request: Request) -> Response:
            plan = self.faults.take(operation)
            if plan.delay:
                await _read_ahead(request)  # a slow service still has the whole request
                await asyncio.sleep(plan.delay)
            fault = plan.fault
            if fault is not None and fault.kind == "status":
                return _error_response(family, _fault_error(fault))
            if fault is not None and fault.kind == "drop":
                return await _drop(request)
            try:
                now = self.state.now()
                auth = authenticate(request.headers.get("authorization"), self.credentials, now=now)
                if project and request.path_params.get("appid") != self.credentials.app_id:
                    raise SandboxError(
                        403,
                        "InvalidPermission",
                        "the App ID in the path is not a project of these credentials",
                    )
                status, payload = await handler(_Ctx(self, request, auth, now))
                response = _render(status, payload)
            except SandboxError as err:
                payload = None
                response = _error_response(family, err)
            except ClientDisconnect:  # the client gave up before its body arrived: not a bug
                return Response(status_code=400)
            except Exception as exc:  # never let a bug become a plain-text 500
                _log.exception("sandbox bug while handling %s", operation)
                payload = None
                response = _error_response(
                    family, SandboxError(500, "InternalError", f"sandbox bug: {type(exc).__name__}")
                )
            if fault is not None and fault.kind == "lost_response":
                return await _drop(request)
            if fault is not None and fault.kind == "malformed":
                return _malformed(payload)
            return response

        return endpoint

    def _build_app(self) -> Starlette:
        api = [
            self._route(method, path, operation, handler, family)
            for method, path, operation, handler, family in _API
        ]
        routes: list[BaseRoute] = [
            Mount(PATH_PREFIX, routes=api),
            Mount("/cn" + PATH_PREFIX, routes=api),
        ]
        if self.admin:
            from .admin import admin_routes

            routes.insert(0, Mount(ADMIN_PREFIX, routes=admin_routes(self)))
        if self.console:
            from .console import console_routes

            routes[:0] = console_routes(self, hosts=self.console_hosts)

        async def http_error(request: Request, exc: Exception) -> Response:
            assert isinstance(exc, HTTPException)
            # no such API (404) or method (405): NotImplemented, the SDK's reason that fits
            reason = "NotImplemented" if exc.status_code in (404, 405) else "InvalidRequestBody"
            detail = f"no such API: {request.method} {request.url.path}"
            return JSONResponse({"detail": detail, "reason": reason}, status_code=exc.status_code)

        return Starlette(
            routes=routes,
            middleware=[Middleware(_RequestIdMiddleware, answered=self.state.changed)],
            exception_handlers={HTTPException: http_error},
        )

    def _route(
        self, method: str, path: str, operation: str, handler: Handler, family: Family
    ) -> Route:
        project = "{appid}" in path
        return Route(
            path,
            self._endpoint(operation, family, handler, project=project),
            methods=[method],
            name=operation,
        )


# ----- agent operations ---------------------------------------------------------------------


async def _start(ctx: _Ctx) -> Result:
    config = validate_join_body(await ctx.json())
    check_token_binding(ctx.auth, channel=config.channel, uid=config.agent_uid)
    check_join_token(
        config.token,
        ctx.sandbox.credentials,
        now=ctx.now,
        channel=config.channel,
        uid=config.agent_uid,
        path="properties.token",
    )
    return 200, ctx.sandbox.state.start_agent(config)


async def _list_agents(ctx: _Ctx) -> Result:
    return 200, ctx.sandbox.state.list_agents(
        channel=ctx.query_str("channel"),
        state=ctx.query_states("state"),
        **ctx.list_window(),
    )


async def _get_agent(ctx: _Ctx) -> Result:
    return 200, ctx.sandbox.state.get_agent(ctx.param("agent_id"))


async def _history(ctx: _Ctx) -> Result:
    return 200, ctx.sandbox.state.history(ctx.param("agent_id"))


async def _turns(ctx: _Ctx) -> Result:
    return 200, ctx.sandbox.state.turns(
        ctx.param("agent_id"),
        page_index=ctx.query_int("page_index", low=1, high=1_000_000) or 1,
        # no maximum: the official SDK documents none (a page holds at most every kept turn)
        page_size=ctx.query_int("page_size", low=1, high=2**31) or 10,
    )


async def _stop(ctx: _Ctx) -> Result:
    ctx.sandbox.state.stop_agent(ctx.param("agent_id"))
    return 200, {}


async def _update(ctx: _Ctx) -> Result:
    props = validate_update_body(await ctx.json())
    agent_id = ctx.param("agent_id")
    token = props.get("token")
    if isinstance(token, str):
        agent = ctx.sandbox.state.agents.get(agent_id)
        if agent is not None:
            check_join_token(
                token,
                ctx.sandbox.credentials,
                now=ctx.now,
                channel=agent.config.channel,
                uid=agent.config.agent_uid,
                path="properties.token",
            )
    return 200, ctx.sandbox.state.update_agent(agent_id, props)


async def _speak(ctx: _Ctx) -> Result:
    text, priority, interruptable = validate_speak_body(await ctx.json())
    return 200, ctx.sandbox.state.speak(ctx.param("agent_id"), text, priority, interruptable)


async def _empty_object(ctx: _Ctx) -> None:
    """The body of interrupt / hangup: ``{}`` (what the TypeScript and Go SDKs send) or none at
    all (what the Python SDK puts on the wire: its HTTP layer drops an empty JSON body); any
    other body is refused."""
    if not (await ctx.request.body()).strip():
        return
    if not isinstance(await ctx.json(), dict):
        raise SandboxError(400, "InvalidRequestBody", "the request body must be a JSON object")


async def _interrupt(ctx: _Ctx) -> Result:
    await _empty_object(ctx)
    return 200, ctx.sandbox.state.interrupt(ctx.param("agent_id"))


async def _think(ctx: _Ctx) -> Result:
    body = await ctx.json()
    text, listening, metadata = validate_think_body(body)
    speaking = body.get("on_speaking_action") if isinstance(body, dict) else None
    return 200, ctx.sandbox.state.think(
        ctx.param("agent_id"), text, listening, metadata, speaking_action=speaking
    )


# ----- telephony ----------------------------------------------------------------------------


async def _create_call(ctx: _Ctx) -> Result:
    call = validate_call_body(await ctx.json())
    creds = ctx.sandbox.credentials
    check_join_token(
        call.agent.token,
        creds,
        now=ctx.now,
        channel=call.agent.channel,
        uid=call.agent.agent_uid,
        path="properties.token",
    )
    check_join_token(
        call.sip_token,
        creds,
        now=ctx.now,
        channel=call.agent.channel,
        uid=call.sip_uid,
        path="sip.rtc_token",
    )
    return 200, ctx.sandbox.state.create_call(call)


async def _list_calls(ctx: _Ctx) -> Result:
    kind = ctx.query_str("type")
    if kind is not None and kind not in ("inbound", "outbound"):
        raise bad_request("type", "must be 'inbound' or 'outbound'")
    return 200, ctx.sandbox.state.list_calls(
        number=ctx.query_str("number"),
        type=kind,
        **ctx.list_window(),
    )


async def _get_call(ctx: _Ctx) -> Result:
    return 200, ctx.sandbox.state.get_call(ctx.param("agent_id"))


async def _hangup(ctx: _Ctx) -> Result:
    await _empty_object(ctx)
    ctx.sandbox.state.hangup(ctx.param("agent_id"))
    return 200, {}


# ----- phone numbers ------------------------------------------------------------------------


def _path_number(ctx: _Ctx) -> str:
    """The ``{phone_number}`` segment. In a path ``+`` is a plus (only query strings read it
    as a space), and the official SDK sends it unencoded; ``%2B`` means the same."""
    return validate_e164(ctx.param("phone_number"), "phone_number")


async def _list_numbers(ctx: _Ctx) -> Result:
    return 200, ctx.sandbox.state.list_numbers()


async def _add_number(ctx: _Ctx) -> Result:
    record = validate_number_record(await ctx.json())
    return 200, ctx.sandbox.state.add_number(record)


async def _get_number(ctx: _Ctx) -> Result:
    return 200, ctx.sandbox.state.get_number(_path_number(ctx))


async def _update_number(ctx: _Ctx) -> Result:
    number = _path_number(ctx)
    changes = validate_number_changes(await ctx.json())
    return 200, ctx.sandbox.state.update_number(number, changes)


async def _delete_number(ctx: _Ctx) -> Result:
    ctx.sandbox.state.delete_number(_path_number(ctx))
    return 200, {}  # 200, as the official SDKs' fixtures answer (not 204)


# ----- the route table ----------------------------------------------------------------------

_PROJECT = "/v2/projects/{appid}"
_AGENT = _PROJECT + "/agents/{agent_id}"
_NUMBER = "/v2/phone-numbers/{phone_number}"

_API: tuple[tuple[str, str, str, Handler, Family], ...] = (
    # method, path, operation id (the fault route), handler, error body family
    ("POST", _PROJECT + "/join", "agents.start", _start, "agents"),
    ("GET", _PROJECT + "/agents", "agents.list", _list_agents, "agents"),
    ("GET", _AGENT, "agents.get", _get_agent, "agents"),
    ("GET", _AGENT + "/history", "agents.history", _history, "agents"),
    ("GET", _AGENT + "/turns", "agents.turns", _turns, "agents"),
    ("POST", _AGENT + "/leave", "agents.stop", _stop, "agents"),
    ("POST", _AGENT + "/update", "agents.update", _update, "agents"),
    ("POST", _AGENT + "/speak", "agents.speak", _speak, "agents"),
    ("POST", _AGENT + "/interrupt", "agents.interrupt", _interrupt, "agents"),
    ("POST", _AGENT + "/think", "agents.think", _think, "agents"),
    ("POST", _PROJECT + "/call", "calls.create", _create_call, "telephony"),
    ("GET", _PROJECT + "/call", "calls.list", _list_calls, "telephony"),
    ("GET", _PROJECT + "/calls/{agent_id}", "calls.get", _get_call, "telephony"),
    ("POST", _PROJECT + "/calls/{agent_id}/hangup", "calls.hangup", _hangup, "telephony"),
    ("GET", "/v2/phone-numbers", "numbers.list", _list_numbers, "telephony"),
    ("POST", "/v2/phone-numbers", "numbers.add", _add_number, "telephony"),
    ("GET", _NUMBER, "numbers.get", _get_number, "telephony"),
    ("PATCH", _NUMBER, "numbers.update", _update_number, "telephony"),
    ("DELETE", _NUMBER, "numbers.delete", _delete_number, "telephony"),
)
