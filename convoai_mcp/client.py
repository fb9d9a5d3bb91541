"""The async client for the Conversational AI REST API.

::

    async with ConvoAIClient(app_id, BasicAuth(customer_id, secret), area="US") as client:
        started = await client.agents.launch(AgentSpec(channel="room", presets=[...]))
        await client.agents.speak(started.agent_id, "Hello!")
        await client.agents.stop(started.agent_id)

One pooled ``httpx.AsyncClient`` (connect timeout short, read longer) serves every request.
Each request runs within one overall deadline (:class:`~convoai_mcp._retry.RetryPolicy`):

- idempotent requests (GET, stop, update, hangup, phone numbers) are retried on network errors
  and on 408 / 429 / 5xx with capped exponential backoff and full jitter, or after the service's
  ``Retry-After``;
- speak / interrupt / think are retried only when they certainly did not run (connection refused,
  408, 429, 503), so an agent never says a sentence twice;
- start (join) and call are retried like idempotent requests because the agent ``name`` makes
  them safe: when an earlier attempt's answer was lost, the retry meets 409 ``TaskConflict``, and
  the client then finds the agent it created (the 409 body's ``agent_id``, else by listing the
  channel's agents and reading each one's name from its turns) and returns it;
- a connection error, a timeout or a 5xx moves the request to the next endpoint of the area;
  the endpoint that answered is tried first next time.

In app-credentials mode each request carries a ConvoAI token minted (and cached) for the agent's
channel and uid, known from the start or call that created the agent. Requests not tied to a known
agent (lists, phone numbers, agents started elsewhere) use a token for channel
:data:`GENERIC_TOKEN_CHANNEL` and uid ``"0"``, as the official SDK does for stop.
"""

from __future__ import annotations

import builtins
import json
import logging
import time
from collections import OrderedDict
from collections.abc import AsyncIterator, Awaitable, Callable, Mapping, Sequence
from dataclasses import dataclass, field
from functools import cached_property
from typing import Any, Literal, TypeVar
from urllib.parse import quote

import anyio
import httpx
import pydantic

from convoai_mcp import __version__, tokens
from convoai_mcp._retry import (
    DEFAULT_RETRY,
    Deadline,
    RetryPolicy,
    is_retryable_status,
    parse_retry_after,
    retry_delay,
)
from convoai_mcp.builders import (
    AgentSpec,
    build_call_request,
    build_start_request,
    validate_e164,
    validate_speak_text,
)
from convoai_mcp.errors import (
    ConfigError,
    ConflictError,
    ConvoAIError,
    NotFoundError,
    TransportError,
    ValidationError,
    error_from_response,
)
from convoai_mcp.models import (
    ActionResponse,
    AddPhoneNumberRequest,
    AgentInfo,
    AgentStatus,
    AgentSummary,
    CallInfo,
    CallRequest,
    CallResponse,
    History,
    ListResponse,
    Page,
    PhoneNumber,
    SpeakRequest,
    StartAgentRequest,
    StartAgentResponse,
    ThinkRequest,
    Turns,
    UpdateAgentRequest,
    UpdateAgentResponse,
    UpdatePhoneNumberRequest,
    WireModel,
)
from convoai_mcp.regions import Area, Resolver, Router

__all__ = [
    "DEFAULT_TIMEOUT",
    "GENERIC_TOKEN_CHANNEL",
    "USER_AGENT",
    "AppCredentialsAuth",
    "Auth",
    "BasicAuth",
    "ConvoAIClient",
    "MalformedResponseError",
    "TokenAuth",
    "encode_path_segment",
]

log = logging.getLogger("convoai_mcp.client")

DEFAULT_TIMEOUT = httpx.Timeout(connect=3.0, read=15.0, write=10.0, pool=5.0)
USER_AGENT = f"convoai-mcp/{__version__}"
GENERIC_TOKEN_CHANNEL = "convoai-mcp"  # noqa: S105 (a channel name, not a secret)
"""Channel of the token minted for requests not tied to a known agent (app-credentials mode)."""

M = TypeVar("M", bound=WireModel)
R = TypeVar("R")
Sleep = Callable[[float], Awaitable[None]]
Mode = Literal["idempotent", "once", "create"]


class MalformedResponseError(TransportError):
    """A 2xx answer whose body is not the JSON the spec describes."""


# --------------------------------------------------------------------------- auth


def _require(value: str, name: str, env: str) -> str:
    if not isinstance(value, str) or not value.strip():
        raise ConfigError(f"{name} is empty", hint=f"set {env}")
    if value != value.strip():
        raise ConfigError(f"{name} has leading or trailing whitespace", hint=f"check {env}")
    return value


class BasicAuth:
    """RESTful API credentials: ``Authorization: Basic base64(customer_id:customer_secret)``."""

    def __init__(self, customer_id: str, customer_secret: str) -> None:
        import base64

        _require(customer_id, "customer ID", "AGORA_CUSTOMER_ID")
        _require(customer_secret, "customer secret", "AGORA_CUSTOMER_SECRET")
        self.customer_id = customer_id
        raw = f"{customer_id}:{customer_secret}".encode()
        self._header = "Basic " + base64.b64encode(raw).decode("ascii")

    def header(self, channel: str, uid: str) -> str:
        """The Authorization value (the same for every request)."""
        return self._header

    def __repr__(self) -> str:
        return f"BasicAuth(customer_id={self.customer_id!r}, customer_secret='***')"


class TokenAuth:
    """A fixed token: ``Authorization: agora token=<token>``."""

    def __init__(self, token: str) -> None:
        self._header = "agora token=" + _require(token, "token", "AGORA_AUTH_TOKEN")

    def header(self, channel: str, uid: str) -> str:
        """The Authorization value (the same for every request)."""
        return self._header

    def __repr__(self) -> str:
        return "TokenAuth(token='***')"


class AppCredentialsAuth:
    """App ID + App Certificate: a ConvoAI token minted per (channel, uid), cached until near
    expiry, sent as ``agora token=<token>``."""

    def __init__(
        self, app_id: str, app_certificate: str, *, clock: Callable[[], float] = time.time
    ) -> None:
        try:
            tokens.validate_app_id(app_id)
            tokens.validate_app_certificate(app_certificate)
        except ValueError as exc:
            raise ConfigError(str(exc)) from None
        self.app_id = app_id
        self._certificate = app_certificate
        self._cache = tokens.TokenCache(app_id, app_certificate, clock=clock)

    @property
    def app_certificate(self) -> str:
        """The certificate (for minting join tokens); never shown in repr."""
        return self._certificate

    def header(self, channel: str, uid: str) -> str:
        """``agora token=`` + a ConvoAI token for (channel, uid)."""
        return "agora token=" + self._cache.convoai_token(channel, uid)

    def __repr__(self) -> str:
        return f"AppCredentialsAuth(app_id={self.app_id!r}, app_certificate='***')"


Auth = BasicAuth | TokenAuth | AppCredentialsAuth


# --------------------------------------------------------------------------- paths


def encode_path_segment(value: str, *, what: str = "path value") -> str:
    """Percent-encode one path segment (``+`` -> ``%2B``, ``/`` -> ``%2F``); refuse empty
    values and the dot segments ``.`` / ``..`` with :class:`ValidationError`."""
    if not isinstance(value, str) or not value:
        raise ValidationError(f"{what} is empty", hint=f"give a {what}")
    if value in (".", ".."):
        raise ValidationError(f"{what} {value!r} is not allowed", hint=f"give a real {what}")
    return quote(value, safe="")


# --------------------------------------------------------------------------- transport core


@dataclass
class _Attempts:
    """What happened to the attempts of one call."""

    count: int = 0
    ambiguous: bool = False  # an attempt may have been performed although its answer was lost
    tried: set[str] = field(default_factory=set)


@dataclass(frozen=True)
class _AgentRef:
    channel: str
    uid: str
    mllm: bool = False


_NOT_SENT = (httpx.ConnectError, httpx.ConnectTimeout, httpx.PoolTimeout)
_AMBIGUOUS = (
    httpx.ReadTimeout,
    httpx.WriteTimeout,
    httpx.ReadError,
    httpx.WriteError,
    httpx.RemoteProtocolError,
    httpx.CloseError,
)
_ONCE_RETRY_STATUSES = frozenset({408, 429, 503})
_STATE_NUMBERS = {status.value: n for n, status in enumerate(AgentStatus)}


def _cap_timeout(timeout: httpx.Timeout, remaining: float) -> httpx.Timeout:
    def cap(value: float | None) -> float:
        return remaining if value is None else min(value, remaining)

    return httpx.Timeout(
        connect=cap(timeout.connect),
        read=cap(timeout.read),
        write=cap(timeout.write),
        pool=cap(timeout.pool),
    )


def _clean(params: Mapping[str, Any]) -> dict[str, str | int]:
    return {k: v for k, v in params.items() if v is not None}


class ConvoAIClient:
    """Async client for every endpoint of the Conversational AI REST API (see module doc)."""

    def __init__(
        self,
        app_id: str,
        auth: Auth,
        *,
        area: Area | str = Area.GLOBAL,
        base_url: str | None = None,
        endpoints: Sequence[str] | None = None,
        resolver: Resolver | None = None,
        app_certificate: str | None = None,
        timeout: httpx.Timeout = DEFAULT_TIMEOUT,
        retry: RetryPolicy = DEFAULT_RETRY,
        http_client: httpx.AsyncClient | None = None,
        sleep: Sleep | None = None,
        clock: Callable[[], float] = time.monotonic,
        max_known_agents: int = 4096,
    ) -> None:
        try:
            self.app_id = tokens.validate_app_id(app_id)
        except ValueError as exc:
            raise ConfigError(str(exc)) from None
        if not isinstance(auth, BasicAuth | TokenAuth | AppCredentialsAuth):
            raise ConfigError("auth must be BasicAuth, TokenAuth or AppCredentialsAuth")
        if isinstance(auth, AppCredentialsAuth):
            if auth.app_id != app_id:
                raise ConfigError("AppCredentialsAuth is for another App ID than the client")
            app_certificate = app_certificate or auth.app_certificate
        if app_certificate is not None:
            try:
                tokens.validate_app_certificate(app_certificate)
            except ValueError as exc:
                raise ConfigError(str(exc)) from None
        self.auth = auth
        self._certificate = app_certificate
        self.router = Router(area, base_url=base_url, endpoints=endpoints, resolver=resolver)
        self._timeout = timeout
        self.retry = retry
        self._sleep: Sleep = sleep or anyio.sleep
        self._clock = clock
        self._owns_http = http_client is None
        self._http = http_client or httpx.AsyncClient(
            timeout=timeout,
            headers={"User-Agent": USER_AGENT, "Accept": "application/json"},
            limits=httpx.Limits(max_connections=20, max_keepalive_connections=10),
            follow_redirects=False,
        )
        self._known: OrderedDict[str, _AgentRef] = OrderedDict()
        self._max_known = max_known_agents

    # ------------------------------------------------------------------ lifecycle

    async def __aenter__(self) -> ConvoAIClient:
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.aclose()

    async def aclose(self) -> None:
        """Close the connection pool (unless it was passed in by the caller)."""
        if self._owns_http:
            await self._http.aclose()

    def __repr__(self) -> str:
        return f"ConvoAIClient(app_id={self.app_id!r}, auth={self.auth!r}, router={self.router!r})"

    @cached_property
    def agents(self) -> Agents:
        """Agent operations: start / launch / stop / get / list / history / turns / update ..."""
        return Agents(self)

    @cached_property
    def calls(self) -> Calls:
        """Telephony: outbound call, hang up, get, list."""
        return Calls(self)

    @cached_property
    def phone_numbers(self) -> PhoneNumbers:
        """Phone numbers of the account: list, add, get, update, delete."""
        return PhoneNumbers(self)

    @property
    def app_certificate_configured(self) -> bool:
        """True when join tokens can be minted locally."""
        return self._certificate is not None

    # ------------------------------------------------------------------ agent memory

    def remember_agent(self, agent_id: str, channel: str, uid: str, *, mllm: bool = False) -> None:
        """Record an agent's channel and uid (used to mint its request tokens)."""
        self._known[agent_id] = _AgentRef(channel, uid, mllm)
        self._known.move_to_end(agent_id)
        while len(self._known) > self._max_known:
            self._known.popitem(last=False)

    def _scope(self, agent_id: str | None = None) -> tuple[str, str]:
        ref = self._known.get(agent_id) if agent_id else None
        return (ref.channel, ref.uid) if ref else (GENERIC_TOKEN_CHANNEL, "0")

    def _project(self, *segments: str) -> str:
        path = "/v2/projects/" + encode_path_segment(self.app_id, what="App ID")
        for segment in segments:
            path += "/" + segment
        return path

    # ------------------------------------------------------------------ the request loop

    async def _request(
        self,
        method: str,
        path: str,
        parse: Callable[[httpx.Response], R],
        *,
        mode: Mode = "idempotent",
        scope: tuple[str, str] | None = None,
        body: WireModel | Mapping[str, Any] | None = None,
        params: Mapping[str, Any] | None = None,
        attempts: _Attempts | None = None,
    ) -> R:
        """Send one logical request with retries and failover; parse a 2xx with ``parse``."""
        state = attempts if attempts is not None else _Attempts()
        deadline = Deadline(self.retry.deadline, clock=self._clock)
        candidates = await self.router.candidates()
        channel, uid = scope or self._scope()
        headers = {"Authorization": self.auth.header(channel, uid)}
        if not self._owns_http:
            headers["User-Agent"] = USER_AGENT
        payload = body.to_wire() if isinstance(body, WireModel) else body
        query = _clean(params or {})
        index = 0
        while True:
            base = candidates[index % len(candidates)]
            state.count += 1
            state.tried.add(base)
            failure: ConvoAIError
            retry_after: float | None = None
            failover = True
            try:
                with anyio.fail_after(max(deadline.remaining(), 0.001)):
                    response = await self._http.request(
                        method,
                        base + path,
                        json=payload,
                        params=query or None,
                        headers=headers,
                        timeout=_cap_timeout(self._timeout, deadline.remaining()),
                    )
            except _NOT_SENT as exc:
                failure = TransportError(
                    f"cannot connect to {base} ({type(exc).__name__})",
                    hint="check the network, CONVOAI_BASE_URL or AGORA_AREA",
                    attempts=state.count,
                )
                retryable = True
            except (*_AMBIGUOUS, TimeoutError) as exc:
                state.ambiguous = True
                failure = TransportError(
                    f"{method} {path} to {base} failed after sending ({type(exc).__name__})",
                    hint="the service may be slow or unreachable; try again",
                    attempts=state.count,
                )
                retryable = mode != "once"
            except httpx.HTTPError as exc:  # unsupported protocol, invalid URL ...
                raise TransportError(
                    f"{method} {path} to {base} failed ({type(exc).__name__})",
                    hint="check CONVOAI_BASE_URL",
                    attempts=state.count,
                ) from None
            else:
                outcome = self._outcome(response, method, path, parse, mode, state)
                if not isinstance(outcome, _Failure):
                    self.router.mark_ok(base)
                    return outcome
                failure, retryable, retry_after = outcome.error, outcome.retry, outcome.after
                failover = outcome.failover
                if not retryable:
                    self.router.mark_ok(base)  # it answered; the answer is final
            log.debug(
                "attempt %d of %s %s on %s failed: %s", state.count, method, path, base, failure
            )
            if not retryable:
                raise failure
            if failover:
                index += 1
            next_base = candidates[index % len(candidates)]
            if failover and retry_after is None and next_base not in state.tried:
                delay: float | None = 0.0 if state.count < self.retry.max_attempts else None
                if delay is not None and deadline.remaining() <= 0:
                    delay = None
            else:
                delay = retry_delay(
                    state.count - 1,
                    self.retry,
                    retry_after=retry_after,
                    remaining=deadline.remaining(),
                )
            if delay is None:
                if isinstance(failure, TransportError):
                    failure.attempts = state.count
                raise failure
            if delay > 0:
                await self._sleep(delay)

    def _outcome(
        self,
        response: httpx.Response,
        method: str,
        path: str,
        parse: Callable[[httpx.Response], R],
        mode: Mode,
        state: _Attempts,
    ) -> R | _Failure:
        status = response.status_code
        if 200 <= status < 300:
            try:
                return parse(response)
            except (ValueError, pydantic.ValidationError) as exc:
                state.ambiguous = True
                malformed = MalformedResponseError(
                    f"{method} {path} answered {status} with a body that is not the expected "
                    f"JSON ({type(exc).__name__})",
                    hint="the service or a proxy returned something unexpected; try again",
                    attempts=state.count,
                )
                return _Failure(malformed, retry=mode != "once", after=None, failover=True)
        retry_after = parse_retry_after(response.headers.get("retry-after"))
        error = error_from_response(
            status,
            response.content,
            response.headers,
            method=method,
            path=path,
            retry_after=retry_after,
        )
        if mode == "once":
            retry = status in _ONCE_RETRY_STATUSES
        else:
            retry = is_retryable_status(status)
            if retry and status >= 500 and status != 503:
                state.ambiguous = True
        return _Failure(error, retry=retry, after=retry_after, failover=status != 429)

    # ------------------------------------------------------------------ parse helpers

    @staticmethod
    def _json(response: httpx.Response) -> Any:
        return json.loads(response.content) if response.content else {}

    @classmethod
    def _model(cls, model: type[M]) -> Callable[[httpx.Response], M]:
        def parse(response: httpx.Response) -> M:
            return model.model_validate(cls._json(response))

        return parse

    @staticmethod
    def _ignore(response: httpx.Response) -> None:
        return None


@dataclass
class _Failure:
    error: ConvoAIError
    retry: bool
    after: float | None
    failover: bool


# --------------------------------------------------------------------------- resources


def _state_param(state: AgentStatus | str | int | None) -> int | None:
    if state is None or isinstance(state, int):
        return state
    number = _STATE_NUMBERS.get(str(state).upper())
    if number is None:
        raise ValidationError(
            f"state {state!r} is not an agent state",
            hint="use IDLE, STARTING, RUNNING, STOPPING, STOPPED, RECOVERING or FAILED",
        )
    return number


class Agents:
    """``client.agents``: every agent operation."""

    def __init__(self, client: ConvoAIClient) -> None:
        self._c = client

    def _path(self, agent_id: str, action: str | None = None) -> str:
        segments = ["agents", encode_path_segment(agent_id, what="agent_id")]
        if action:
            segments.append(action)
        return self._c._project(*segments)

    async def launch(
        self, spec: AgentSpec, *, token: str | None = None, token_lifetime: int = 86400
    ) -> StartAgentResponse:
        """Validate ``spec``, mint the join token, start the agent (see :meth:`start`)."""
        request = build_start_request(
            spec,
            app_id=self._c.app_id,
            app_certificate=self._c._certificate,
            token=token,
            token_lifetime=token_lifetime,
        )
        return await self.start(request)

    async def start(
        self, request: StartAgentRequest, *, adopt_existing: bool = False
    ) -> StartAgentResponse:
        """Start (join) an agent. Never creates two: if an attempt's answer was lost and the
        retry meets 409 TaskConflict, the agent with this name is found and returned. With
        ``adopt_existing`` a running agent of the same name is returned on any 409."""
        props = request.properties
        scope = (props.channel, props.agent_rtc_uid)
        state = _Attempts()
        try:
            result = await self._c._request(
                "POST",
                self._c._project("join"),
                self._c._model(StartAgentResponse),
                mode="create",
                scope=scope,
                body=request,
                attempts=state,
            )
        except ConflictError as conflict:
            if not (state.ambiguous or adopt_existing):
                raise
            result = await self._recover(request, conflict)
        mllm = props.mllm is not None and props.mllm.enable is not False
        self._c.remember_agent(result.agent_id, props.channel, props.agent_rtc_uid, mllm=mllm)
        return result

    async def _recover(
        self, request: StartAgentRequest, conflict: ConflictError
    ) -> StartAgentResponse:
        channel = request.properties.channel
        named = conflict.extra.get("agent_id")
        if isinstance(named, str) and named:
            info = await self.get(named)
            return StartAgentResponse(
                agent_id=named, create_ts=info.start_ts, status=info.status or None
            )
        async for summary in self.list(channel=channel):
            if summary.status in (AgentStatus.STOPPED, AgentStatus.FAILED):
                continue
            name = (summary.model_extra or {}).get("name")
            if name is None:
                try:
                    name = (await self.turns(summary.agent_id, page_size=1, all_pages=False)).name
                except NotFoundError:
                    continue
            if name == request.name:
                return StartAgentResponse(
                    agent_id=summary.agent_id, create_ts=summary.start_ts, status=summary.status
                )
        raise conflict

    async def stop(self, agent_id: str) -> None:
        """Stop (leave) an agent. An agent that is already gone (404) counts as stopped."""
        try:
            await self._c._request(
                "POST",
                self._path(agent_id, "leave"),
                self._c._ignore,
                scope=self._c._scope(agent_id),
            )
        except NotFoundError:
            log.debug("stop %s: already gone", agent_id)

    async def get(self, agent_id: str) -> AgentInfo:
        """The agent's status, start and stop time."""
        return await self._c._request(
            "GET", self._path(agent_id), self._c._model(AgentInfo), scope=self._c._scope(agent_id)
        )

    async def list_page(
        self,
        *,
        channel: str | None = None,
        state: AgentStatus | str | int | None = None,
        from_time: int | None = None,
        to_time: int | None = None,
        limit: int | None = None,
        cursor: str | None = None,
    ) -> Page[AgentSummary]:
        """One page of agents (default: the last 2 hours); ``cursor`` asks for the next."""
        params = {
            "channel": channel,
            "state": _state_param(state),
            "from_time": from_time,
            "to_time": to_time,
            "limit": limit,
            "cursor": cursor,
        }
        scope = (channel, "0") if channel else self._c._scope()
        body = await self._c._request(
            "GET",
            self._c._project("agents"),
            self._c._model(ListResponse[AgentSummary]),
            scope=scope,
            params=params,
        )
        meta = body.meta
        next_cursor = meta.cursor if meta and meta.cursor and body.data.items else None
        return Page(items=body.data.items, cursor=next_cursor, total=meta.total if meta else None)

    async def list(
        self,
        *,
        channel: str | None = None,
        state: AgentStatus | str | int | None = None,
        from_time: int | None = None,
        to_time: int | None = None,
        limit: int | None = None,
    ) -> AsyncIterator[AgentSummary]:
        """Every agent matching the filters, page after page (``limit`` is the page size)."""
        cursor: str | None = None
        seen: set[str] = set()
        while True:
            page = await self.list_page(
                channel=channel,
                state=state,
                from_time=from_time,
                to_time=to_time,
                limit=limit,
                cursor=cursor,
            )
            for item in page.items:
                yield item
            if page.cursor is None or page.cursor in seen:
                return
            seen.add(page.cursor)
            cursor = page.cursor

    async def history(self, agent_id: str) -> History:
        """The conversation so far (only while the agent runs)."""
        return await self._c._request(
            "GET",
            self._path(agent_id, "history"),
            self._c._model(History),
            scope=self._c._scope(agent_id),
        )

    async def turns(
        self, agent_id: str, *, page_size: int = 50, all_pages: bool = True, max_pages: int = 200
    ) -> Turns:
        """Turns with latency metrics; all pages merged into one :class:`Turns` by default."""
        if not 1 <= page_size <= 1000:
            raise ValidationError("page_size must be 1..1000")
        merged: Turns | None = None
        for page_index in range(1, max_pages + 1):
            page = await self._c._request(
                "GET",
                self._path(agent_id, "turns"),
                self._c._model(Turns),
                scope=self._c._scope(agent_id),
                params={"page_index": page_index, "page_size": page_size},
            )
            if merged is None:
                merged = page
            else:
                merged.turns.extend(page.turns)
                merged.pagination = page.pagination
            info = page.pagination
            last = (
                not all_pages
                or not page.turns
                or info is None
                or bool(info.is_last_page)
                or (info.total_pages is not None and page_index >= info.total_pages)
            )
            if last:
                break
        assert merged is not None
        return merged

    async def update(self, agent_id: str, request: UpdateAgentRequest) -> UpdateAgentResponse:
        """Change the token, LLM messages / params or MLLM params of a running agent."""
        return await self._c._request(
            "POST",
            self._path(agent_id, "update"),
            self._c._model(UpdateAgentResponse),
            scope=self._c._scope(agent_id),
            body=request,
        )

    def _refuse_mllm(self, agent_id: str, action: str) -> None:
        ref = self._c._known.get(agent_id)
        if ref is not None and ref.mllm:
            raise ValidationError(
                f"{action} is not supported for MLLM (realtime) agents",
                hint="use update to change its instructions instead",
            )

    async def speak(
        self,
        agent_id: str,
        text: str,
        *,
        priority: Literal["INTERRUPT", "APPEND", "IGNORE"] | None = None,
        interruptable: bool | None = None,
    ) -> ActionResponse:
        """Make the agent say ``text`` (at most 512 UTF-8 bytes). Never sent twice."""
        validate_speak_text(text)
        self._refuse_mllm(agent_id, "speak")
        body = SpeakRequest(text=text, priority=priority, interruptable=interruptable)
        return await self._action(agent_id, "speak", body)

    async def interrupt(self, agent_id: str) -> ActionResponse:
        """Stop the agent's current speech."""
        return await self._action(agent_id, "interrupt", None)

    async def think(
        self,
        agent_id: str,
        text: str,
        *,
        on_listening_action: Literal["inject", "interrupt", "ignore", "append"] | None = None,
        on_thinking_action: Literal["interrupt", "ignore", "append"] | None = None,
        on_speaking_action: Literal["interrupt", "ignore", "append"] | None = None,
        interruptable: bool | None = None,
        metadata: dict[str, str] | None = None,
    ) -> ActionResponse:
        """Give the agent's LLM ``text`` to respond to. Never sent twice."""
        if not text.strip():
            raise ValidationError("think text is empty")
        self._refuse_mllm(agent_id, "think")
        body = ThinkRequest(
            text=text,
            on_listening_action=on_listening_action,
            on_thinking_action=on_thinking_action,
            on_speaking_action=on_speaking_action,
            interruptable=interruptable,
            metadata=metadata,
        )
        return await self._action(agent_id, "think", body)

    async def _action(self, agent_id: str, action: str, body: WireModel | None) -> ActionResponse:
        return await self._c._request(
            "POST",
            self._path(agent_id, action),
            self._c._model(ActionResponse),
            mode="once",
            scope=self._c._scope(agent_id),
            body=body,
        )


class Calls:
    """``client.calls``: outbound calls over SIP."""

    def __init__(self, client: ConvoAIClient) -> None:
        self._c = client

    def _path(self, agent_id: str, action: str | None = None) -> str:
        segments = ["calls", encode_path_segment(agent_id, what="agent_id")]
        if action:
            segments.append(action)
        return self._c._project(*segments)

    async def dial(
        self,
        spec: AgentSpec,
        *,
        to_number: str,
        from_number: str,
        sip_uid: str = "1002",
        token_lifetime: int = 86400,
    ) -> CallResponse:
        """Validate and place an outbound call with an agent described by ``spec``."""
        request = build_call_request(
            spec,
            to_number=to_number,
            from_number=from_number,
            app_id=self._c.app_id,
            app_certificate=self._c._certificate,
            sip_uid=sip_uid,
            token_lifetime=token_lifetime,
        )
        return await self.create(request)

    async def create(self, request: CallRequest) -> CallResponse:
        """Place an outbound call. Never dials twice: after a lost answer, a 409 on retry is
        resolved by finding the call in this channel to this number."""
        validate_e164(request.sip.to_number)
        validate_e164(request.sip.from_number)
        props = request.properties
        state = _Attempts()
        try:
            result = await self._c._request(
                "POST",
                self._c._project("call"),
                self._c._model(CallResponse),
                mode="create",
                scope=(props.channel, props.agent_rtc_uid),
                body=request,
                attempts=state,
            )
        except ConflictError as conflict:
            if not state.ambiguous:
                raise
            result = await self._recover(request, conflict)
        self._c.remember_agent(result.agent_id, props.channel, props.agent_rtc_uid)
        return result

    async def _recover(self, request: CallRequest, conflict: ConflictError) -> CallResponse:
        named = conflict.extra.get("agent_id")
        if isinstance(named, str) and named:
            return CallResponse(agent_id=named)
        matches = [
            call
            async for call in self.list(number=request.sip.to_number, type="outbound")
            if call.channel == request.properties.channel and call.agent_id
        ]
        if not matches:
            raise conflict
        newest = max(matches, key=lambda call: call.create_ts or 0)
        assert newest.agent_id is not None
        return CallResponse(agent_id=newest.agent_id)

    async def hangup(self, agent_id: str) -> None:
        """Hang up a call. A 404 after an attempt whose answer was lost counts as done."""
        state = _Attempts()
        try:
            await self._c._request(
                "POST",
                self._path(agent_id, "hangup"),
                self._c._ignore,
                scope=self._c._scope(agent_id),
                attempts=state,
            )
        except NotFoundError:
            if not state.ambiguous:
                raise

    async def get(self, agent_id: str) -> CallInfo:
        """A call's numbers, state and end reason."""
        return await self._c._request(
            "GET", self._path(agent_id), self._c._model(CallInfo), scope=self._c._scope(agent_id)
        )

    async def list_page(
        self,
        *,
        number: str | None = None,
        from_time: int | None = None,
        to_time: int | None = None,
        type: Literal["inbound", "outbound"] | None = None,
        limit: int | None = None,
        cursor: str | None = None,
    ) -> Page[CallInfo]:
        """One page of calls (default: the last 60 days)."""
        params = {
            "number": number,
            "from_time": from_time,
            "to_time": to_time,
            "type": type,
            "limit": limit,
            "cursor": cursor,
        }
        body = await self._c._request(
            "GET",
            self._c._project("call"),
            self._c._model(ListResponse[CallInfo]),
            params=params,
        )
        meta = body.meta
        next_cursor = meta.cursor if meta and meta.cursor and body.data.items else None
        return Page(items=body.data.items, cursor=next_cursor, total=meta.total if meta else None)

    async def list(
        self,
        *,
        number: str | None = None,
        from_time: int | None = None,
        to_time: int | None = None,
        type: Literal["inbound", "outbound"] | None = None,
        limit: int | None = None,
    ) -> AsyncIterator[CallInfo]:
        """Every call matching the filters, page after page."""
        cursor: str | None = None
        seen: set[str] = set()
        while True:
            page = await self.list_page(
                number=number,
                from_time=from_time,
                to_time=to_time,
                type=type,
                limit=limit,
                cursor=cursor,
            )
            for item in page.items:
                yield item
            if page.cursor is None or page.cursor in seen:
                return
            seen.add(page.cursor)
            cursor = page.cursor


class PhoneNumbers:
    """``client.phone_numbers``: the account's numbers (not tied to an App ID)."""

    def __init__(self, client: ConvoAIClient) -> None:
        self._c = client

    @staticmethod
    def _path(number: str | None = None) -> str:
        if number is None:
            return "/v2/phone-numbers"
        validate_e164(number)
        return "/v2/phone-numbers/" + encode_path_segment(number, what="phone number")

    async def list(self) -> builtins.list[PhoneNumber]:
        """Every phone number of the account."""

        def parse(response: httpx.Response) -> builtins.list[PhoneNumber]:
            data = ConvoAIClient._json(response)
            if isinstance(data, dict):  # tolerate a {data: {list: [...]}} envelope
                data = (data.get("data") or {}).get("list", [])
            if not isinstance(data, list):
                raise ValueError("expected a JSON array")
            return [PhoneNumber.model_validate(item) for item in data]

        return await self._c._request("GET", self._path(), parse)

    async def add(self, request: AddPhoneNumberRequest) -> PhoneNumber:
        """Add (import) a number."""
        validate_e164(request.phone_number)
        state = _Attempts()
        try:
            return await self._c._request(
                "POST",
                self._path(),
                self._c._model(PhoneNumber),
                mode="create",
                body=request,
                attempts=state,
            )
        except ConflictError:
            if not state.ambiguous:
                raise
            return await self.get(request.phone_number)

    async def get(self, number: str) -> PhoneNumber:
        """One number and its configuration."""
        return await self._c._request("GET", self._path(number), self._c._model(PhoneNumber))

    async def update(self, number: str, request: UpdatePhoneNumberRequest) -> PhoneNumber:
        """Attach (or, with ``None``, detach) inbound / outbound pipelines."""
        return await self._c._request(
            "PATCH", self._path(number), self._c._model(PhoneNumber), body=request
        )

    async def delete(self, number: str) -> None:
        """Remove a number. A 404 after an attempt whose answer was lost counts as done."""
        state = _Attempts()
        try:
            await self._c._request("DELETE", self._path(number), self._c._ignore, attempts=state)
        except NotFoundError:
            if not state.ambiguous:
                raise
