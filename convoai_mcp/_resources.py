"""The resource groups of :class:`~convoai_mcp.client.ConvoAIClient`: ``agents``, ``calls`` and
``phone_numbers``. Each method builds the path and body, picks the retry mode and the token scope,
and lets the client's request loop do the rest.

The groups see the client only through :class:`Requester`, a small interface: ``request`` (the
request loop), ``project_path`` and ``scope`` (paths and token scopes), ``app_id`` /
``app_certificate`` (to build join requests) and ``started`` (the record of agents started
through the client, :class:`~convoai_mcp.started.StartedAgents`). Responses are parsed by the
plain functions :func:`parse_json`, :func:`parse_model` and :func:`parse_nothing`. This module
imports nothing of ``client.py``; the client hands each group an object that implements
:class:`Requester`."""

from __future__ import annotations

import builtins
import functools
import json
import logging
from collections.abc import AsyncIterator, Awaitable, Callable, Mapping, Sequence
from typing import Any, Literal, Protocol, TypeVar

import httpx

from convoai_mcp._auth import encode_path_segment
from convoai_mcp._retry import Attempts, Mode
from convoai_mcp.builders import (
    AgentSpec,
    build_call_request,
    build_start_request,
    validate_e164,
    validate_speak_text,
)
from convoai_mcp.errors import ConflictError, ConvoAIError, NotFoundError, ValidationError
from convoai_mcp.models import (
    STATE_NUMBERS,
    TERMINAL_STATES,
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
from convoai_mcp.started import StartedAgent, StartedAgents

__all__ = [
    "Agents",
    "Calls",
    "PhoneNumbers",
    "Requester",
    "parse_json",
    "parse_model",
    "parse_nothing",
]

log = logging.getLogger("convoai_mcp.client")

T = TypeVar("T")
R = TypeVar("R")
M = TypeVar("M", bound=WireModel)


class Requester(Protocol):
    """What a resource group needs from its client (and all it may use)."""

    @property
    def app_id(self) -> str:
        """The project's App ID."""
        ...

    @property
    def app_certificate(self) -> str | None:
        """The App Certificate, when join tokens can be minted locally."""
        ...

    @property
    def started(self) -> StartedAgents:
        """The record of agents started through this client."""
        ...

    @property
    def cn(self) -> bool:
        """True when the client talks to the CN area (whose defaults differ)."""
        ...

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
        """Send one logical request with retries and failover; parse a 2xx with ``parse``."""
        ...

    def project_path(self, *segments: str) -> str:
        """``/v2/projects/{app_id}/segment/...`` (segments already encoded)."""
        ...

    def scope(self, agent_id: str | None = None) -> tuple[str, str]:
        """The (channel, uid) of ``agent_id``'s request token (a generic one if unknown)."""
        ...


def parse_json(response: httpx.Response) -> Any:
    """The body as JSON (``{}`` when empty)."""
    return json.loads(response.content) if response.content else {}


def parse_model(model: type[M]) -> Callable[[httpx.Response], M]:
    """A parser validating the JSON body as ``model``."""

    def parse(response: httpx.Response) -> M:
        return model.model_validate(parse_json(response))

    return parse


def parse_nothing(response: httpx.Response) -> None:
    """A parser for answers whose body does not matter."""
    return None


_STATE_BY_NAME = {status.value: n for status, n in STATE_NUMBERS.items()}


def _state_number(state: AgentStatus | str | int) -> int:
    text = str(state).strip()
    if isinstance(state, int) or (text.isascii() and text.isdigit()):
        return int(text)
    number = _STATE_BY_NAME.get(text.upper())
    if number is None:
        raise ValidationError(
            f"state {state!r} is not an agent state",
            hint="use one of " + ", ".join(_STATE_BY_NAME) + " (or its number)",
        )
    return number


_StateFilter = AgentStatus | str | int | Sequence[AgentStatus | str | int]
"""The ``state`` filter of the agent list: one state (name or number; a comma list of names is
several), or several."""


def _state_param(state: _StateFilter | None) -> str | None:
    """The ``state`` query value the official SDK documents: the state numbers, comma-separated
    in one parameter (``state=1,2``), in the order given, without repeats."""
    if state is None:
        return None
    if isinstance(state, int):
        return str(state)
    if isinstance(state, str):  # also "RUNNING,STARTING"
        parts: Sequence[AgentStatus | str | int] = [p for p in state.split(",") if p.strip()]
    else:
        parts = state
    numbers = list(dict.fromkeys(_state_number(part) for part in parts))
    if not numbers:
        raise ValidationError("state is empty", hint="name at least one agent state, or omit it")
    return ",".join(map(str, numbers))


class _Resource:
    """A resource group: holds the client whose request loop does the work."""

    def __init__(self, requester: Requester) -> None:
        self._c = requester


class _AgentResource(_Resource):
    """A group whose items are agents addressed by id below ``collection`` (agents, calls)."""

    collection: str

    def _path(self, agent_id: str, action: str | None = None) -> str:
        segments = [self.collection, encode_path_segment(agent_id, what="agent_id")]
        if action:
            segments.append(action)
        return self._c.project_path(*segments)


async def _create_once(
    client: Requester,
    path: str,
    parse: Callable[[httpx.Response], R],
    body: WireModel,
    *,
    recover: Callable[[ConflictError], Awaitable[R]],
    scope: tuple[str, str] | None = None,
    adopt_existing: bool = False,
) -> R:
    """POST a create (join, call, add a number) that never creates two.

    Retried like an idempotent request: when an earlier attempt's answer was lost, the retry
    meets 409 and ``recover`` finds what that attempt created. With ``adopt_existing`` any 409
    is recovered that way; otherwise a 409 is the caller's conflict.
    """
    attempts = Attempts()
    try:
        return await client.request(
            "POST", path, parse, mode="create", scope=scope, body=body, attempts=attempts
        )
    except ConflictError as conflict:
        if not (attempts.ambiguous or adopt_existing):
            raise
        return await recover(conflict)


async def _remove(
    client: Requester,
    method: str,
    path: str,
    *,
    scope: tuple[str, str] | None = None,
    body: Mapping[str, Any] | None = None,
) -> None:
    """An idempotent removal (hang up, delete a number). A 404 after an attempt whose answer
    was lost means that attempt did it: success. Any other 404 is the caller's error."""
    attempts = Attempts()
    try:
        await client.request(method, path, parse_nothing, scope=scope, body=body, attempts=attempts)
    except NotFoundError:
        if not attempts.ambiguous:
            raise


def _conflicting_agent(conflict: ConflictError) -> str | None:
    """The id of the agent a 409 names (the service sends it for TaskConflict), if any."""
    named = conflict.extra.get("agent_id")
    return named if isinstance(named, str) and named else None


def _page(body: ListResponse[T]) -> Page[T]:
    """A list answer as a :class:`Page`: no next cursor once a page comes back empty."""
    meta = body.meta
    items = body.data.items
    cursor = meta.cursor if meta and meta.cursor and items else None
    return Page(items=items, cursor=cursor, total=meta.total if meta else None)


class _PageFetcher(Protocol[T]):
    def __call__(self, *, cursor: str | None) -> Awaitable[Page[T]]: ...


async def _every_item(fetch: _PageFetcher[T]) -> AsyncIterator[T]:
    """The items of page after page (``fetch(cursor=...)``) until the cursor ends or repeats."""
    cursor: str | None = None
    seen: set[str] = set()
    while True:
        page = await fetch(cursor=cursor)
        for item in page.items:
            yield item
        if page.cursor is None or page.cursor in seen:
            return
        seen.add(page.cursor)
        cursor = page.cursor


class Agents(_AgentResource):
    """``client.agents``: every agent operation."""

    collection = "agents"

    async def launch(
        self,
        spec: AgentSpec,
        *,
        token: str | None = None,
        token_lifetime: int = 86400,
        adopt_existing: bool = False,
    ) -> StartAgentResponse:
        """Validate ``spec``, mint the join token, start the agent (see :meth:`start`)."""
        request = build_start_request(
            spec,
            app_id=self._c.app_id,
            app_certificate=self._c.app_certificate,
            token=token,
            token_lifetime=token_lifetime,
            cn=self._c.cn,
        )
        return await self.start(request, adopt_existing=adopt_existing)

    async def start(
        self, request: StartAgentRequest, *, adopt_existing: bool = False
    ) -> StartAgentResponse:
        """Start (join) an agent. Never creates two: if an attempt's answer was lost and the
        retry meets 409 TaskConflict, the agent with this name is found and returned. With
        ``adopt_existing`` a running agent of the same name is returned on any 409."""
        props = request.properties
        result = await _create_once(
            self._c,
            self._c.project_path("join"),
            parse_model(StartAgentResponse),
            request,
            recover=functools.partial(self._recover, request),
            scope=(props.channel, props.agent_rtc_uid),
            adopt_existing=adopt_existing,
        )
        self._c.started.record(
            StartedAgent(
                agent_id=result.agent_id,
                kind="agent",
                name=request.name,
                channel=props.channel,
                agent_uid=props.agent_rtc_uid,
                user_uid=props.remote_rtc_uids[0] if props.remote_rtc_uids else "",
                mllm=props.mllm is not None and props.mllm.enable is not False,
                llm_params=dict(props.llm.params) if props.llm and props.llm.params else None,
            )
        )
        return result

    async def _recover(
        self, request: StartAgentRequest, conflict: ConflictError
    ) -> StartAgentResponse:
        """The running agent named ``request.name``: the one the 409 names, else found by
        listing the channel's agents and reading each one's name (from its turns if needed)."""
        named = _conflicting_agent(conflict)
        if named is not None:
            try:
                info = await self.get(named)
            except ConvoAIError:  # the id is what matters; status is a courtesy
                return StartAgentResponse(agent_id=named)
            return StartAgentResponse(
                agent_id=named, create_ts=info.start_ts, status=info.status or None
            )
        async for summary in self.list(channel=request.properties.channel):
            if summary.status in TERMINAL_STATES:
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
            await self._c.request(
                "POST",
                self._path(agent_id, "leave"),
                parse_nothing,
                scope=self._c.scope(agent_id),
            )
        except NotFoundError:
            log.debug("stop %s: already gone", agent_id)

    async def get(self, agent_id: str) -> AgentInfo:
        """The agent's status, start and stop time."""
        return await self._c.request(
            "GET", self._path(agent_id), parse_model(AgentInfo), scope=self._c.scope(agent_id)
        )

    async def list_page(
        self,
        *,
        channel: str | None = None,
        state: _StateFilter | None = None,
        from_time: int | None = None,
        to_time: int | None = None,
        limit: int | None = None,
        cursor: str | None = None,
    ) -> Page[AgentSummary]:
        """One page of agents (default: the last 2 hours); ``cursor`` asks for the next.
        ``state``: one state or several (sent as the SDK sends them: ``state=1,2``)."""
        params = {
            "channel": channel,
            "state": _state_param(state),
            "from_time": from_time,
            "to_time": to_time,
            "limit": limit,
            "cursor": cursor,
        }
        scope = (channel, "0") if channel else self._c.scope()
        body = await self._c.request(
            "GET",
            self._c.project_path("agents"),
            parse_model(ListResponse[AgentSummary]),
            scope=scope,
            params=params,
        )
        return _page(body)

    def list(
        self,
        *,
        channel: str | None = None,
        state: _StateFilter | None = None,
        from_time: int | None = None,
        to_time: int | None = None,
        limit: int | None = None,
    ) -> AsyncIterator[AgentSummary]:
        """Every agent matching the filters, page after page (``limit`` is the page size)."""
        return _every_item(
            functools.partial(
                self.list_page,
                channel=channel,
                state=state,
                from_time=from_time,
                to_time=to_time,
                limit=limit,
            )
        )

    async def history(self, agent_id: str) -> History:
        """The conversation so far (only while the agent runs)."""
        return await self._c.request(
            "GET",
            self._path(agent_id, "history"),
            parse_model(History),
            scope=self._c.scope(agent_id),
        )

    async def turns(
        self, agent_id: str, *, page_size: int = 50, all_pages: bool = True, max_pages: int = 200
    ) -> Turns:
        """Turns with latency metrics; all pages merged into one :class:`Turns` by default."""
        if page_size < 1:  # no maximum: the official SDK documents none (nor does the emulator)
            raise ValidationError("page_size must be at least 1")
        merged: Turns | None = None
        for page_index in range(1, max_pages + 1):
            page = await self._c.request(
                "GET",
                self._path(agent_id, "turns"),
                parse_model(Turns),
                scope=self._c.scope(agent_id),
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
        return await self._c.request(
            "POST",
            self._path(agent_id, "update"),
            parse_model(UpdateAgentResponse),
            scope=self._c.scope(agent_id),
            body=request,
        )

    def _refuse_mllm(self, agent_id: str, action: str) -> None:
        ref = self._c.started.get(agent_id)
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
        """Stop the agent's current speech. The body is ``{}``, as all three official SDKs send
        it (the TypeScript SDK's tests reject an empty body)."""
        return await self._action(agent_id, "interrupt", {})

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
        """Give the agent's LLM ``text`` to respond to (MLLM agents too: only speak is
        restricted for them). Never sent twice."""
        if not text.strip():
            raise ValidationError(
                "think text is empty", hint="give the text the agent should respond to"
            )
        body = ThinkRequest(
            text=text,
            on_listening_action=on_listening_action,
            on_thinking_action=on_thinking_action,
            on_speaking_action=on_speaking_action,
            interruptable=interruptable,
            metadata=metadata,
        )
        return await self._action(agent_id, "think", body)

    async def _action(
        self, agent_id: str, action: str, body: WireModel | Mapping[str, Any]
    ) -> ActionResponse:
        return await self._c.request(
            "POST",
            self._path(agent_id, action),
            parse_model(ActionResponse),
            mode="once",
            scope=self._c.scope(agent_id),
            body=body,
        )


class Calls(_AgentResource):
    """``client.calls``: outbound calls over SIP."""

    collection = "calls"

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
            app_certificate=self._c.app_certificate,
            sip_uid=sip_uid,
            token_lifetime=token_lifetime,
            cn=self._c.cn,
        )
        return await self.create(request)

    async def create(self, request: CallRequest, *, adopt_existing: bool = False) -> CallResponse:
        """Place an outbound call. Never dials twice: after a lost answer, a 409 on retry is
        resolved by finding the call in this channel to this number. With ``adopt_existing``
        a live call of the same agent name is returned on any 409."""
        validate_e164(request.sip.to_number)
        validate_e164(request.sip.from_number)
        props = request.properties
        result = await _create_once(
            self._c,
            self._c.project_path("call"),
            parse_model(CallResponse),
            request,
            recover=functools.partial(self._recover, request),
            scope=(props.channel, props.agent_rtc_uid),
            adopt_existing=adopt_existing,
        )
        self._c.started.record(
            StartedAgent(
                agent_id=result.agent_id,
                kind="call",
                name=request.name,
                channel=props.channel,
                agent_uid=props.agent_rtc_uid,
                user_uid=request.sip.rtc_uid,
                to_number=request.sip.to_number,
                from_number=request.sip.from_number,
                mllm=props.mllm is not None and props.mllm.enable is not False,
                llm_params=dict(props.llm.params) if props.llm and props.llm.params else None,
            )
        )
        return result

    async def _recover(self, request: CallRequest, conflict: ConflictError) -> CallResponse:
        """The call the 409 names, else the newest outbound call to this number in this
        channel."""
        named = _conflicting_agent(conflict)
        if named is not None:
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
        """Hang up a call (body ``{}``, as the official SDKs send it). A 404 after an attempt
        whose answer was lost counts as done."""
        await _remove(
            self._c,
            "POST",
            self._path(agent_id, "hangup"),
            scope=self._c.scope(agent_id),
            body={},
        )

    async def get(self, agent_id: str) -> CallInfo:
        """A call's numbers, state and end reason."""
        return await self._c.request(
            "GET", self._path(agent_id), parse_model(CallInfo), scope=self._c.scope(agent_id)
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
        body = await self._c.request(
            "GET",
            self._c.project_path("call"),
            parse_model(ListResponse[CallInfo]),
            params=params,
        )
        return _page(body)

    def list(
        self,
        *,
        number: str | None = None,
        from_time: int | None = None,
        to_time: int | None = None,
        type: Literal["inbound", "outbound"] | None = None,
        limit: int | None = None,
    ) -> AsyncIterator[CallInfo]:
        """Every call matching the filters, page after page."""
        return _every_item(
            functools.partial(
                self.list_page,
                number=number,
                from_time=from_time,
                to_time=to_time,
                type=type,
                limit=limit,
            )
        )


class PhoneNumbers(_Resource):
    """``client.phone_numbers``: the account's numbers (not tied to an App ID)."""

    @staticmethod
    def _path(number: str | None = None) -> str:
        if number is None:
            return "/v2/phone-numbers"
        validate_e164(number)
        return "/v2/phone-numbers/" + encode_path_segment(number, what="phone number")

    async def list(self) -> builtins.list[PhoneNumber]:
        """Every phone number of the account."""

        def parse(response: httpx.Response) -> builtins.list[PhoneNumber]:
            data = parse_json(response)
            if isinstance(data, dict):  # tolerate a {data: {list: [...]}} envelope
                data = (data.get("data") or {}).get("list", [])
            if not isinstance(data, list):
                raise ValueError("expected a JSON array")
            return [PhoneNumber.model_validate(item) for item in data]

        return await self._c.request("GET", self._path(), parse)

    async def add(self, request: AddPhoneNumberRequest) -> PhoneNumber:
        """Add (import) a number."""
        validate_e164(request.phone_number)

        async def added(conflict: ConflictError) -> PhoneNumber:
            return await self.get(request.phone_number)

        return await _create_once(
            self._c, self._path(), parse_model(PhoneNumber), request, recover=added
        )

    async def get(self, number: str) -> PhoneNumber:
        """One number and its configuration."""
        return await self._c.request("GET", self._path(number), parse_model(PhoneNumber))

    async def update(self, number: str, request: UpdatePhoneNumberRequest) -> PhoneNumber:
        """Attach (or, with ``None``, detach) inbound / outbound pipelines."""
        return await self._c.request(
            "PATCH", self._path(number), parse_model(PhoneNumber), body=request
        )

    async def delete(self, number: str) -> None:
        """Remove a number. A 404 after an attempt whose answer was lost counts as done."""
        await _remove(self._c, "DELETE", self._path(number))
