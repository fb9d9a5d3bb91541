"""The human gate: a call (or an agent) that costs money goes ahead only on a human's approval.

The model sets a tool's ``confirm`` argument itself, so by default it does not count: a prompt
injection could set it too. :meth:`Gate.approve` asks a human through the best channel the MCP
client has, in this order:

1. **form elicitation** (the client shows a yes / no form), on both protocol eras: an
   ``elicitation/create`` request in the middle of the call (<= 2025-11-25), or an
   ``InputRequiredResult`` the tool returns and the client answers by calling again
   (2026-07-28+; :class:`~convoai_mcp.server.guard.ConfirmationRequired`), whose
   ``requestState`` the SDK seals, so any replica sharing ``CONVOAI_REQUEST_STATE_KEY`` takes
   the answer (on stateless HTTP a 2025-era client's capabilities are not known past
   ``initialize``, so it gets the link);
2. **URL elicitation** (``mode: "url"``, a client that declared ``elicitation.url`` only): the
   server opens a pending approval (:class:`~convoai_mcp.server.approval.ApprovalStore`) and sends
   its one-time link; once the user agreed to open it, the call waits for the decision on the page
   (until the link expires);
3. **a link in the error**: a client with neither gets an error whose text carries the link
   ("open this link to approve the call, then ask me to try again").

Whatever the channel, a call whose exact request (the store's fingerprint of its arguments,
without ``confirm`` and the waiting options) was approved on the page goes through once: the
approval is consumed, a replay or a different request needs a new one.

The approval page is the server's own: on the HTTP transports it is mounted on the transport's
app (:meth:`Gate.mount`; ``/approve/<token>``, the token in the path being the credential); else
it is served on loopback on an ephemeral port, started on first need and closed by
:meth:`Gate.aclose` (at process exit, through ``Runtime.aclose``).

For headless use an operator opts out explicitly: ``CONVOAI_CONFIRM_BY_ARGUMENT=true`` makes the
model's ``confirm=true`` count as approval, and ``CONVOAI_PREAPPROVED_NUMBERS`` lists destinations
(numbers or prefixes, like the allow-list) that need no per-call approval.
"""

from __future__ import annotations

import contextlib
import hashlib
import logging
from collections.abc import Callable, Mapping, Sequence
from typing import TYPE_CHECKING, Any, Literal

import anyio
from mcp.server.elicitation import AcceptedElicitation, render_elicitation_schema
from mcp_types import (
    ElicitRequest,
    ElicitRequestFormParams,
    ElicitRequestURLParams,
    ElicitResult,
    InputRequiredResult,
)
from mcp_types.version import is_version_at_least
from pydantic import BaseModel, Field

from convoai_mcp.policy import PolicyError
from convoai_mcp.redact import Redactor
from convoai_mcp.server.approval import (
    Approval,
    ApprovalDetails,
    ApprovalStore,
    approval_app,
    serve_approvals,
)

if TYPE_CHECKING:
    from mcp.server.mcpserver import Context
    from starlette.types import ASGIApp

    from convoai_mcp.config import Settings

__all__ = ["Channel", "ConfirmationRequired", "Gate", "request_of"]

logger = logging.getLogger(__name__)

Channel = Literal["form", "url", "link", "preapproved", "argument"]
"""How a request was approved (for the audit trail): form elicitation, URL elicitation, the link
in an earlier error, a pre-approved number, or the model's ``confirm`` (opted in)."""

_INPUT_REQUIRED_VERSION = "2026-07-28"
_PREFIX = "/approve"
_NOT_THE_REQUEST = frozenset(
    {"ctx", "confirm", "wait_until_running", "wait_until_answered", "timeout_seconds"}
)
"""Arguments that are not part of what an approval approves."""


def request_of(arguments: Mapping[str, Any]) -> dict[str, Any]:
    """What an approval binds to: the tool's arguments without ``confirm``, the context and the
    waiting options (they change how the tool waits, not what happens)."""
    return {k: v for k, v in arguments.items() if k not in _NOT_THE_REQUEST}


class Confirmation(BaseModel):
    """The form shown to the user."""

    confirm: bool = Field(description="Yes, go ahead")


class ConfirmationRequired(PolicyError):
    """The user must answer first (2026-07-28+ connection): the tool returns ``.result``.

    If a tool does not catch it, it still reads as a refusal (a :class:`PolicyError`): safe,
    nothing was sent.
    """

    def __init__(self, question: str, result: InputRequiredResult) -> None:
        self.result = result
        super().__init__(
            f"the user must confirm first: {question}",
            hint="the client asks the user through MCP elicitation and repeats the call with "
            "their answer; nothing was sent",
        )


def _elicitation(ctx: Context[Any, Any]) -> tuple[bool, bool]:
    """(form, url): the elicitation modes the client declared."""
    try:
        caps = ctx.client_capabilities
    except ValueError:  # no request context (e.g. called outside a request)
        return False, False
    elicitation = caps.elicitation if caps is not None else None
    if elicitation is None:
        return False, False
    # A bare `elicitation: {}` (before modes existed) means form support; url-only does not.
    form = elicitation.form is not None or elicitation.url is None
    return form, elicitation.url is not None


def _uses_input_required(ctx: Context[Any, Any]) -> bool:
    version = ctx.protocol_version
    return version is not None and is_version_at_least(version, _INPUT_REQUIRED_VERSION)


def _matches(number: str, entries: Sequence[str]) -> bool:
    return any(number.startswith(entry) for entry in entries)


def _elicitation_id(approval: Approval) -> str:
    """A public id for the approval (the client sees it; it is not the token)."""
    return "convoai-" + hashlib.sha256(approval.token.encode()).hexdigest()[:24]


class Gate:
    """Asks a human before a costly request, through the best channel the client has."""

    def __init__(
        self,
        *,
        store: ApprovalStore | None = None,
        confirm_by_argument: bool = False,
        preapproved_numbers: Sequence[str] = (),
        redactor: Redactor | None = None,
        sandbox: bool = False,
    ) -> None:
        self.store = store if store is not None else ApprovalStore()
        self.confirm_by_argument = confirm_by_argument
        self.preapproved_numbers = tuple(preapproved_numbers)
        self.redactor = redactor if redactor is not None else Redactor()
        self.sandbox = sandbox
        self._base_url: str | None = None
        self._served: contextlib.AsyncExitStack | None = None
        self._lock = anyio.Lock()

    @classmethod
    def from_settings(cls, settings: Settings, *, redactor: Redactor | None = None) -> Gate:
        """The gate ``CONVOAI_APPROVAL_TTL``, ``CONVOAI_CONFIRM_BY_ARGUMENT`` and
        ``CONVOAI_PREAPPROVED_NUMBERS`` configure."""
        return cls(
            store=ApprovalStore(ttl=float(settings.approval_ttl)),
            confirm_by_argument=settings.confirm_by_argument,
            preapproved_numbers=settings.preapproved_numbers,
            redactor=redactor,
            sandbox=settings.sandbox,
        )

    # -- the page -----------------------------------------------------------------------------

    def mount(self, base_url: str, *, allowed_hosts: Sequence[str] | None = None) -> ASGIApp:
        """The approval page as an app for the HTTP transport to serve under ``/approve/``;
        links then point at ``base_url`` (the transport's own ``http://host:port``)."""
        self._base_url = base_url.rstrip("/")
        return approval_app(
            self.store,
            redactor=self.redactor,
            allowed_hosts=allowed_hosts,
            prefix=_PREFIX,
        )

    async def base_url(self) -> str:
        """Where the page is served; on first need (no HTTP transport) a loopback server on an
        ephemeral port is started."""
        async with self._lock:
            if self._base_url is None:
                stack = contextlib.AsyncExitStack()
                self._base_url = await stack.enter_async_context(
                    serve_approvals(self.store, redactor=self.redactor)
                )
                self._served = stack
            return self._base_url

    async def link(self, approval: Approval) -> str:
        """The one-time link of ``approval``."""
        return ApprovalStore.link(await self.base_url(), approval, prefix=_PREFIX)

    async def aclose(self) -> None:
        """Stop the loopback page server (if one was started)."""
        served, self._served = self._served, None
        if served is not None:
            self._base_url = None
            await served.aclose()

    # -- asking -------------------------------------------------------------------------------

    def preapproved(self, to_number: str | None) -> bool:
        """True when ``to_number`` is on ``CONVOAI_PREAPPROVED_NUMBERS``."""
        return to_number is not None and _matches(to_number, self.preapproved_numbers)

    async def approve(
        self,
        ctx: Context[Any, Any],
        *,
        tool: str,
        question: str,
        confirm: bool,
        request: Mapping[str, Any],
        details: Callable[[], ApprovalDetails],
        to_number: str | None = None,
    ) -> Channel:
        """Return how a human approved ``request`` (see the module docstring), or raise
        :class:`PolicyError` (refused, or the link to approve it) or
        :class:`ConfirmationRequired` (2026-07-28+: the tool returns its result). ``details``
        builds what the page shows, only when a page is needed."""
        fingerprint = self.store.fingerprint(tool, request_of(request))
        if self.store.consume(fingerprint) is not None:
            return "link"  # approved on the page for exactly this request
        if self.preapproved(to_number):
            return "preapproved"
        if confirm and self.confirm_by_argument:
            return "argument"
        form, url = _elicitation(ctx)
        if form:
            await self._ask_form(ctx, tool, question)
            return "form"
        if url:
            await self._ask_url(ctx, tool, question, fingerprint, details)
            return "url"
        link = await self.link(self.store.open(fingerprint, details()))
        what = "the call" if tool == "call" else f"this {tool}"
        if self.confirm_by_argument:  # a headless orchestrator: its confirm=true counts
            raise PolicyError(
                f"{tool} needs the user's confirmation: {question}",
                hint="ask the user exactly this; only if they agree, call again with "
                f"confirm=true (or they approve on {link}, then call again)",
            )
        raise PolicyError(
            f"{tool} needs a human's approval, and this client cannot ask: {question} Open this "
            f"link to approve {what}, then ask me to try again: {link}",
            hint=f"give the user this link ({link}); once they approved on that page, call "
            f"{tool} again with exactly the same arguments (the approval is for this request "
            f"only, once, and the link expires in {round(self.store.ttl / 60)} minute(s)); "
            "nothing was sent",
        )

    async def _ask_form(self, ctx: Context[Any, Any], tool: str, question: str) -> None:
        if _uses_input_required(ctx):
            key, request = _form_request(question)
            answer = _answer(ctx, key)
            if answer is None:
                raise ConfirmationRequired(
                    question,
                    InputRequiredResult(input_requests={key: request}, request_state=_state(key)),
                )
            accepted = (
                answer.action == "accept"
                and isinstance(answer.content, Mapping)
                and answer.content.get("confirm") is True
            )
            action = answer.action
        else:
            try:
                result = await ctx.elicit(question, Confirmation)
            except Exception as exc:
                logger.info("could not ask the user to confirm %s: %s", tool, type(exc).__name__)
                raise PolicyError(
                    f"{tool} was not sent: the user could not be asked to confirm",
                    hint="ask the user in the conversation and try again",
                ) from None
            action = result.action
            accepted = isinstance(result, AcceptedElicitation) and result.data.confirm is True
        if not accepted:
            _refuse_answer(tool, action)

    async def _ask_url(
        self,
        ctx: Context[Any, Any],
        tool: str,
        question: str,
        fingerprint: str,
        details: Callable[[], ApprovalDetails],
    ) -> None:
        message = f"Approve or deny on this page: {question}"
        if _uses_input_required(ctx):
            key = f"convoai_approve_{fingerprint[:16]}"
            answer = _answer(ctx, key)
            # the client's answer is about the link it was sent: the latest for this request
            latest = self.store.status(fingerprint) if answer is not None else None
            approval = latest if latest is not None else self.store.open(fingerprint, details())
            link = await self.link(approval)
            ident = _elicitation_id(approval)
            if answer is None or latest is None:
                # 2026-07-28 has no elicitation id: the key of the input request names it
                request = ElicitRequest(params=ElicitRequestURLParams(message=message, url=link))
                raise ConfirmationRequired(
                    question,
                    InputRequiredResult(input_requests={key: request}, request_state=_state(key)),
                )
            action = answer.action
        else:
            approval = self.store.open(fingerprint, details())
            link = await self.link(approval)
            ident = _elicitation_id(approval)
            try:
                result = await ctx.elicit_url(message, link, ident)
            except Exception as exc:
                logger.info("could not send the approval link: %s", type(exc).__name__)
                raise PolicyError(
                    f"{tool} was not sent: the approval link could not be shown; open it "
                    f"yourself to approve, then ask me to try again: {link}",
                    hint=f"give the user this link ({link}) and call {tool} again with the "
                    "same arguments once they approved",
                ) from None
            action = result.action
        if action != "accept":
            _refuse_answer(tool, action)
        decided = await self._decision(approval)
        if decided.state == "approved" and self.store.consume(approval.fingerprint) is not None:
            if not _uses_input_required(ctx):
                with contextlib.suppress(Exception):  # best effort: tell the client it is done
                    await ctx.session.send_elicit_complete(ident)
            return
        if decided.state == "denied":
            raise PolicyError(
                f"{tool} was denied on the approval page; nothing was sent",
                hint="do not retry unless the user asks for it again",
            )
        raise PolicyError(
            f"{tool} was not approved in time (the approval link is {decided.state}); nothing "
            "was sent",
            hint=f"call {tool} again for a new link if the user still wants it",
        )

    async def _decision(self, approval: Approval) -> Approval:
        """Wait until the page decided ``approval`` (or it expired)."""
        while True:
            current = self.store.get(approval.token)
            if current is None:
                return approval
            if current.state != "pending":
                return current
            remaining = current.expires_at - self.store.clock()
            if remaining <= 0:
                continue  # the store marks it expired on the next read
            with anyio.move_on_after(min(remaining, 1.0)):
                await self.store.changed(approval.token)


def _refuse_answer(tool: str, action: str) -> None:
    how = {
        "accept": "answered without ticking the confirm box",
        "decline": "declined",
        "cancel": "dismissed the question",
    }.get(action, f"answered {action!r}")
    raise PolicyError(
        f"{tool} was not confirmed by the user (they {how}); nothing was sent",
        hint="do not retry unless the user asks for it again",
    )


def _form_request(question: str) -> tuple[str, ElicitRequest]:
    digest = hashlib.sha256(question.encode()).hexdigest()[:16]
    request = ElicitRequest(
        params=ElicitRequestFormParams(
            message=question, requested_schema=render_elicitation_schema(Confirmation)
        )
    )
    return f"convoai_confirm_{digest}", request


def _state(key: str) -> str:
    """The ``requestState`` of the question ``key``: the SDK seals it (CONVOAI_REQUEST_STATE_KEY,
    the server name as audience, this tool and arguments, a 10-minute expiry), so an answer
    that echoes it is known to answer a question this deployment asked."""
    return f"convoai-gate:v1:{key}"


def _answer(ctx: Context[Any, Any], key: str) -> ElicitResult | None:
    """The client's answer to the question ``key``; ``None`` if there is none, or if the
    echoed (already unsealed) ``requestState`` belongs to another question."""
    state = ctx.request_state
    if state is not None and state != _state(key):
        return None
    responses = ctx.input_responses or {}
    answer = responses.get(key)
    return answer if isinstance(answer, ElicitResult) else None
