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
  429, 503; not 408, which the service sends when the operation timed out inside it and may have
  run), so an agent never says a sentence twice;
- start (join) and call are retried like idempotent requests because the agent ``name`` makes
  them safe: when an earlier attempt's answer was lost, the retry meets 409 ``TaskConflict``, and
  the client then finds the agent it created (the 409 body's ``agent_id``, else by listing the
  channel's agents and reading each one's name from its turns) and returns it;
- a connection error, a timeout or a 5xx moves the request to the next endpoint of the area;
  the endpoint that answered is tried first next time;
- when the request fails for good after an attempt that may have been performed (its answer
  lost or broken, or a 408 / 500 / 502 / 504), the error's ``maybe_performed`` is set, and for a
  create or a speak / interrupt / think its hint says what to check before repeating it.

In app-credentials mode each request carries a ConvoAI token minted (and cached) for the agent's
channel and uid, known from the start or call that created the agent. Requests not tied to a known
agent (lists, phone numbers, agents started elsewhere) use a token for channel
:data:`GENERIC_TOKEN_CHANNEL` and uid ``"0"``, as the official SDK does for stop.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Awaitable, Callable, Mapping, Sequence
from dataclasses import dataclass
from functools import cached_property
from typing import Any, Literal, TypeVar

import anyio
import httpx
import pydantic

from convoai_mcp._auth import AppCredentialsAuth, Auth, BasicAuth, TokenAuth, encode_path_segment
from convoai_mcp._resources import Agents, Calls, PhoneNumbers, Requester
from convoai_mcp._retry import (
    DEFAULT_RETRY,
    Attempts,
    Deadline,
    Mode,
    RetryPolicy,
    is_retryable_status,
    parse_retry_after,
    retry_delay,
)
from convoai_mcp._secrets import longest_first, secret_values
from convoai_mcp._version import __version__
from convoai_mcp.errors import (
    ConfigError,
    ConvoAIError,
    MalformedResponseError,
    TransportError,
    error_from_response,
)
from convoai_mcp.models import WireModel
from convoai_mcp.regions import Area, Resolver, Router
from convoai_mcp.started import MAX_ENTRIES, StartedAgent, StartedAgents
from convoai_mcp.tokens import validate_app_certificate, validate_app_id

__all__ = [
    "DEFAULT_TIMEOUT",
    "GENERIC_TOKEN_CHANNEL",
    "USER_AGENT",
    "Agents",
    "AppCredentialsAuth",
    "Auth",
    "BasicAuth",
    "Calls",
    "ConvoAIClient",
    "MalformedResponseError",
    "Mode",
    "PhoneNumbers",
    "StartedAgent",
    "StartedAgents",
    "TokenAuth",
    "encode_path_segment",
]

log = logging.getLogger("convoai_mcp.client")

DEFAULT_TIMEOUT = httpx.Timeout(connect=3.0, read=15.0, write=10.0, pool=5.0)
USER_AGENT = f"convoai-mcp/{__version__}"
GENERIC_TOKEN_CHANNEL = "convoai-mcp"  # noqa: S105 (a channel name, not a secret)
"""Channel of the token minted for requests not tied to a known agent (app-credentials mode)."""

R = TypeVar("R")
Sleep = Callable[[float], Awaitable[None]]


# --------------------------------------------------------------------------- transport core


_NOT_SENT = (httpx.ConnectError, httpx.ConnectTimeout, httpx.PoolTimeout)
"""Nothing reached the service: always safe to try again."""
_ANSWER_LOST = (
    TimeoutError,  # the overall deadline (anyio.fail_after)
    httpx.ReadTimeout,
    httpx.WriteTimeout,
    httpx.ReadError,
    httpx.WriteError,
    httpx.RemoteProtocolError,
    httpx.CloseError,
)
"""The request may have reached the service, but no answer came back."""
_ONCE_RETRY_STATUSES = frozenset({429, 503})
"""Statuses that say a speak / interrupt / think certainly did not run. Not 408: the service
answers it as TaskOperationTimeout, the operation timed out inside the service and may have
run (a sentence would be said twice)."""
_MAYBE_PERFORMED_STATUSES = frozenset({408, 500, 502, 504})
"""Statuses after which the operation may have been performed anyway: 408 (timed out inside
the service) and server failures."""
_TRY_AGAIN = "the service may be slow or unreachable; try again"
_CHECK_FIRST: dict[Mode, str] = {
    "once": "it may have been performed anyway: check (e.g. the agent's history) before "
    "repeating it",
    "create": "it may have been created anyway: list the agents or calls before trying again",
}
"""What to do after a create or a once-only action that may have been performed."""


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
        max_known_agents: int = MAX_ENTRIES,
        started: StartedAgents | None = None,
    ) -> None:
        try:
            self.app_id = validate_app_id(app_id)
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
                validate_app_certificate(app_certificate)
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
        self.started = started if started is not None else StartedAgents()
        """The record of agents and calls started through this client (shared with the MCP
        server's runtime); it also keeps each one's channel and uid for its request tokens."""
        if started is None:
            self.started.max_entries = max_known_agents
        self._requester: Requester = _Requester(self)

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
        return Agents(self._requester)

    @cached_property
    def calls(self) -> Calls:
        """Telephony: outbound call, hang up, get, list."""
        return Calls(self._requester)

    @cached_property
    def phone_numbers(self) -> PhoneNumbers:
        """Phone numbers of the account: list, add, get, update, delete."""
        return PhoneNumbers(self._requester)

    @property
    def app_certificate_configured(self) -> bool:
        """True when join tokens can be minted locally."""
        return self._certificate is not None

    # ------------------------------------------------------------------ agent memory

    def remember_agent(self, agent_id: str, channel: str, uid: str, *, mllm: bool = False) -> None:
        """Record an agent started elsewhere (its channel and uid mint its request tokens)."""
        self.started.record(
            StartedAgent(
                agent_id=agent_id,
                kind="agent",
                name="",
                channel=channel,
                agent_uid=uid,
                user_uid="",
                mllm=mllm,
            )
        )

    def _scope(self, agent_id: str | None = None) -> tuple[str, str]:
        ref = self.started.get(agent_id)
        return (ref.channel, ref.agent_uid) if ref else (GENERIC_TOKEN_CHANNEL, "0")

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
        attempts: Attempts | None = None,
    ) -> R:
        """Send one logical request with retries and failover; parse a 2xx with ``parse``.

        Each attempt goes to the next candidate endpoint after a failure that may be the
        endpoint's (all but 429); ``attempts`` (if given) tells the caller what happened.
        """
        state = attempts if attempts is not None else Attempts()
        deadline = Deadline(self.retry.deadline, clock=self._clock)
        candidates = await self.router.candidates()
        request = self._prepare(method, path, scope=scope, body=body, params=params)
        index = 0
        while True:
            base = candidates[index % len(candidates)]
            state.count += 1
            state.tried.add(base)
            outcome = await self._attempt(base, request, parse, deadline)
            if not isinstance(outcome, _Failure):
                self.router.mark_ok(base)
                return outcome
            log.debug(
                "attempt %d of %s %s on %s failed: %s",
                state.count,
                method,
                path,
                base,
                outcome.error,
            )
            state.ambiguous = state.ambiguous or outcome.maybe_performed
            retry = self._should_retry(outcome, mode)
            if outcome.answered and not retry:
                self.router.mark_ok(base)  # it answered; the answer is final
            if outcome.failover:
                index += 1
            fresh = candidates[index % len(candidates)] not in state.tried
            delay = self._retry_delay(outcome, fresh, state, deadline) if retry else None
            if delay is None:
                raise self._final_error(outcome.error, mode, state)
            if delay > 0:
                await self._sleep(delay)

    def _prepare(
        self,
        method: str,
        path: str,
        *,
        scope: tuple[str, str] | None,
        body: WireModel | Mapping[str, Any] | None,
        params: Mapping[str, Any] | None,
    ) -> _Prepared:
        """The parts of the request that stay the same across attempts."""
        channel, uid = scope or self._scope()
        headers = {"Authorization": self.auth.header(channel, uid)}
        if not self._owns_http:
            headers["User-Agent"] = USER_AGENT
        return _Prepared(
            method=method,
            path=path,
            headers=headers,
            payload=body.to_wire() if isinstance(body, WireModel) else body,
            query=_clean(params or {}) or None,
        )

    async def _attempt(
        self,
        base: str,
        request: _Prepared,
        parse: Callable[[httpx.Response], R],
        deadline: Deadline,
    ) -> R | _Failure:
        """One HTTP exchange with ``base``; a :class:`_Failure` says what went wrong."""
        where = f"{request.method} {request.path} to {base}"
        try:
            with anyio.fail_after(max(deadline.remaining(), 0.001)):
                response = await self._http.request(
                    request.method,
                    base + request.path,
                    json=request.payload,
                    params=request.query,
                    headers=request.headers,
                    timeout=_cap_timeout(self._timeout, deadline.remaining()),
                )
        except _NOT_SENT as exc:
            error = TransportError(
                f"cannot connect to {base} ({type(exc).__name__})",
                hint="check the network, CONVOAI_BASE_URL or AGORA_AREA",
                method=request.method,
                path=request.path,
                endpoint=base,
            )
            return _Failure(error, "unreachable")
        except _ANSWER_LOST as exc:
            if isinstance(exc, TimeoutError):
                message = f"{where}: no answer within the {self.retry.deadline:g} s deadline"
            else:
                message = f"{where} failed after sending ({type(exc).__name__})"
            error = TransportError(
                message,
                hint=_TRY_AGAIN,
                sent=True,
                method=request.method,
                path=request.path,
                endpoint=base,
            )
            return _Failure(error, "unanswered")
        except httpx.HTTPError as exc:  # unsupported protocol, invalid URL ...
            error = TransportError(
                f"{where} failed ({type(exc).__name__})",
                hint="check CONVOAI_BASE_URL",
                method=request.method,
                path=request.path,
                endpoint=base,
            )
            return _Failure(error, "unusable")
        return self._read(response, request, parse, base)

    def _read(
        self,
        response: httpx.Response,
        request: _Prepared,
        parse: Callable[[httpx.Response], R],
        base: str = "",
    ) -> R | _Failure:
        """``parse`` a 2xx answer; any other status becomes its typed error."""
        status = response.status_code
        if 200 <= status < 300:
            try:
                return parse(response)
            except (ValueError, pydantic.ValidationError) as exc:
                malformed = MalformedResponseError(
                    f"{request.method} {request.path} answered {status} with a body that is not "
                    f"the expected JSON ({type(exc).__name__})",
                    hint="the service or a proxy returned something unexpected; try again",
                    sent=True,
                    method=request.method,
                    path=request.path,
                    endpoint=base,
                )
                return _Failure(malformed, "malformed")
        retry_after = parse_retry_after(response.headers.get("retry-after"))
        error = error_from_response(
            status,
            response.content,
            response.headers,
            method=request.method,
            path=request.path,
            retry_after=retry_after,
            known=self._secrets_of(request),
        )
        return _Failure(error, "status", status=status, retry_after=retry_after)

    def _secrets_of(self, request: _Prepared) -> tuple[str, ...]:
        """Secret values an error about ``request`` must not echo: the configured credentials,
        the request's own token, and every secret-named value of its body (vendor keys ...)."""
        token = request.headers.get("Authorization", "").rpartition("=")[2]
        return longest_first(
            [*self.auth.secrets(), self._certificate, token, *secret_values(request.payload)]
        )

    @staticmethod
    def _should_retry(failure: _Failure, mode: Mode) -> bool:
        """Whether another attempt is safe and may succeed.

        Idempotent requests and creates (made safe by the agent name) are retried on network
        errors and on 408 / 429 / 5xx; a once-only action (speak, interrupt, think) only when
        it certainly did not run: nothing was sent, or 429 / 503.
        """
        if failure.kind == "unreachable":
            return True
        if failure.kind == "unusable":
            return False
        if failure.status is None:  # sent, but the answer was lost or broken
            return mode != "once"
        if mode == "once":
            return failure.status in _ONCE_RETRY_STATUSES
        return is_retryable_status(failure.status)

    def _retry_delay(
        self, failure: _Failure, fresh: bool, state: Attempts, deadline: Deadline
    ) -> float | None:
        """Seconds to wait before the next attempt, or None to give up: attempts or time are
        spent, or the service's Retry-After is beyond the policy's limit. A ``fresh`` (untried)
        endpoint after a failover is tried at once."""
        if failure.failover and failure.retry_after is None and fresh:
            if state.count >= self.retry.max_attempts or deadline.expired:
                return None
            return 0.0
        return retry_delay(
            state.count - 1,
            self.retry,
            retry_after=failure.retry_after,
            remaining=deadline.remaining(),
        )

    @staticmethod
    def _final_error(error: ConvoAIError, mode: Mode, state: Attempts) -> ConvoAIError:
        """The error to raise after the last attempt. When any attempt may have been performed
        (its answer lost, broken, or a 408 / 500 / 502 / 504), the error says so: a create or a
        once-only action then tells how to check before repeating it."""
        if isinstance(error, TransportError):
            error.attempts = state.count
        if state.ambiguous:
            error.mark_maybe_performed(_CHECK_FIRST.get(mode))
        return error


class _Requester:
    """What the resource groups see of a :class:`ConvoAIClient` (implements
    :class:`~convoai_mcp._resources.Requester`): the request loop, paths, token scopes and the
    record of started agents."""

    def __init__(self, client: ConvoAIClient) -> None:
        self._client = client

    @property
    def app_id(self) -> str:
        return self._client.app_id

    @property
    def app_certificate(self) -> str | None:
        return self._client._certificate

    @property
    def started(self) -> StartedAgents:
        return self._client.started

    @property
    def cn(self) -> bool:
        return self._client.router.area is Area.CN

    async def request(
        self,
        method: str,
        path: str,
        parse: Callable[[httpx.Response], R],
        *,
        mode: Mode = "idempotent",
        scope: tuple[str, str] | None = None,
        body: WireModel | Mapping[str, Any] | None = None,
        params: Mapping[str, Any] | None = None,
        attempts: Attempts | None = None,
    ) -> R:
        return await self._client._request(
            method,
            path,
            parse,
            mode=mode,
            scope=scope,
            body=body,
            params=params,
            attempts=attempts,
        )

    def project_path(self, *segments: str) -> str:
        return self._client._project(*segments)

    def scope(self, agent_id: str | None = None) -> tuple[str, str]:
        return self._client._scope(agent_id)


_FailureKind = Literal["unreachable", "unanswered", "malformed", "status", "unusable"]


@dataclass(frozen=True)
class _Failure:
    """Why an attempt did not produce a result.

    ``kind``: nothing reached the service (``unreachable``), it was sent but no answer came
    back (``unanswered``), the 2xx answer was not the expected JSON (``malformed``), the service
    answered another ``status``, or the request cannot be sent at all (``unusable``).
    """

    error: ConvoAIError
    kind: _FailureKind
    status: int | None = None
    retry_after: float | None = None  # seconds, from the Retry-After header

    @property
    def answered(self) -> bool:
        """The endpoint answered: it is alive."""
        return self.kind in ("malformed", "status")

    @property
    def maybe_performed(self) -> bool:
        """The operation may have taken effect although this attempt failed."""
        return self.kind in ("unanswered", "malformed") or self.status in _MAYBE_PERFORMED_STATUSES

    @property
    def failover(self) -> bool:
        """Move on to the next endpoint: a 429 is about the account, not the endpoint."""
        return self.status != 429


@dataclass
class _Prepared:
    """The parts of a request that stay the same across attempts."""

    method: str
    path: str
    headers: dict[str, str]
    payload: Any
    query: dict[str, str | int] | None
