"""The admin endpoint under ``/_sandbox/`` (off unless ``Sandbox(admin=True)`` / ``--admin``).

- ``GET /_sandbox/faults``: the active faults.
- ``POST /_sandbox/faults``: add one fault (a JSON object with ``route``, ``kind`` and the
  optional ``status``, ``retry_after``, ``reason``, ``delay``, ``times``) or a list of them.
- ``DELETE /_sandbox/faults[?route=agents.start]``: remove all faults (or one route's).
- ``POST /_sandbox/time`` ``{"advance": seconds}``: move the sandbox clock forward (a finite
  number >= 0; NaN, infinities and negative values are a 400).
- ``GET /_sandbox/state``: counts, the current time and the project's App ID / customer ID.
- ``POST /_sandbox/reset``: forget agents and calls, restore the seeded numbers, clear faults
  (and a clock that is no longer a finite time goes back to the real one).
- ``POST /_sandbox/calls/inbound`` ``{"from_number", "to_number"}``: simulate an inbound call.
- ``POST /_sandbox/agents/{agent_id}/say`` ``{"text"}``: simulate the user speaking.
- ``GET /_sandbox/callees``: the default callee behaviour and every number's own.
- ``PUT /_sandbox/callees/{number}`` (an E.164 number, or ``default``): how the person at that
  number behaves, e.g. ``{"outcome": "answer", "after": 3, "hang_up_after": 30, "says":
  [{"at": 5, "text": "Yes, Tuesday is fine."}]}``; ``outcome`` is ``answer``, ``no_answer``,
  ``busy`` or ``reject`` (see :mod:`.callees`).
- ``DELETE /_sandbox/callees/{number}``: back to the default; ``DELETE /_sandbox/callees``: all.
"""

from __future__ import annotations

import json
import math
from typing import TYPE_CHECKING, Any, Protocol

from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from .body import read_body
from .callees import Callee
from .errors import SandboxError
from .faults import Fault
from .validation import validate_e164

if TYPE_CHECKING:
    from .credentials import SandboxCredentials
    from .faults import FaultSet
    from .state import SandboxState

__all__ = ["admin_routes"]


def _bad(detail: str) -> JSONResponse:
    return JSONResponse({"detail": detail, "reason": "InvalidRequestBody"}, status_code=400)


def _error(err: SandboxError) -> JSONResponse:
    return JSONResponse({"detail": err.detail, "reason": err.reason}, status_code=err.status)


async def _json(request: Request) -> Any:
    raw = await read_body(request)
    return json.loads(raw) if raw.strip() else None


_LAST_DATE = 253402300799.0  # 9999-12-31T23:59:59Z: the clock must stay a date
_ADVANCE_HELP = 'send {"advance": <seconds: a finite number >= 0>}'


class _Emulator(Protocol):
    """What the admin routes act on: the :class:`~.app.Sandbox`'s state, faults and
    credentials (a protocol, so that this module does not import the app that mounts it)."""

    credentials: SandboxCredentials
    state: SandboxState
    faults: FaultSet


def admin_routes(sandbox: _Emulator) -> list[Route]:
    """The admin routes bound to ``sandbox`` (a :class:`~.app.Sandbox`)."""

    async def list_faults(request: Request) -> Response:
        return JSONResponse([f.to_dict() for f in sandbox.faults.list()])

    async def add_faults(request: Request) -> Response:
        try:
            body = await _json(request)
            items = body if isinstance(body, list) else [body]
            faults = [Fault.from_dict(item) for item in items if isinstance(item, dict)]
            if len(faults) != len(items) or not faults:
                return _bad("send a fault object or a list of them")
        except (ValueError, TypeError) as exc:
            return _bad(str(exc))
        for fault in faults:
            sandbox.faults.add(fault)
        return JSONResponse([f.to_dict() for f in faults], status_code=201)

    async def clear_faults(request: Request) -> Response:
        sandbox.faults.clear(request.query_params.get("route") or None)
        return Response(status_code=204)

    async def advance(request: Request) -> Response:
        try:
            body = await _json(request)
            value = body.get("advance") if isinstance(body, dict) else None
            if isinstance(value, bool) or not isinstance(value, int | float | str):
                return _bad(_ADVANCE_HELP)
            seconds = float(value)
        except (ValueError, TypeError, OverflowError):
            return _bad(_ADVANCE_HELP)
        except SandboxError as err:
            return _error(err)
        if not math.isfinite(seconds) or seconds < 0:
            return _bad(f"advance must be a finite number of seconds >= 0, got {value!r}")
        if sandbox.state.now() + seconds > _LAST_DATE:
            return _bad("advance would move the clock past the year 9999; use fewer seconds")
        return JSONResponse({"now": sandbox.state.advance(seconds)})

    async def state(request: Request) -> Response:
        counts = sandbox.state.summary()
        return JSONResponse(
            {
                "now": counts.pop("now"),
                "app_id": sandbox.credentials.app_id,
                "customer_id": sandbox.credentials.customer_id,
                **counts,
                "faults": len(sandbox.faults),
            }
        )

    async def reset(request: Request) -> Response:
        sandbox.state.reset()
        sandbox.faults.clear()
        return Response(status_code=204)

    async def inbound(request: Request) -> Response:
        try:
            body = await _json(request)
            if not isinstance(body, dict):
                return _bad('send {"from_number": "+1...", "to_number": "+1..."}')
            answer = sandbox.state.inbound_call(
                str(body.get("from_number") or ""), str(body.get("to_number") or "")
            )
        except ValueError:
            return _bad("the body is not valid JSON")
        except SandboxError as err:
            return _error(err)
        return JSONResponse(answer, status_code=201)

    async def say(request: Request) -> Response:
        try:
            body = await _json(request)
            text = body.get("text") if isinstance(body, dict) else None
            if not isinstance(text, str) or not text:
                return _bad('send {"text": "..."}')
            answer = sandbox.state.user_says(request.path_params["agent_id"], text)
        except ValueError:
            return _bad("the body is not valid JSON")
        except SandboxError as err:
            return _error(err)
        return JSONResponse(answer)

    async def list_callees(request: Request) -> Response:
        return JSONResponse(sandbox.state.callees.to_dict())

    def _callee_number(request: Request) -> str:
        number = str(request.path_params["number"])
        if number != "default":
            validate_e164(number, "number")
        return number

    async def set_callee(request: Request) -> Response:
        try:
            number = _callee_number(request)
            callee = Callee.from_dict(await _json(request))
            sandbox.state.callees.set(number, callee)
        except SandboxError as err:
            return _error(err)
        except (ValueError, TypeError) as exc:
            return _bad(str(exc))
        return JSONResponse({"number": number, **callee.to_dict()})

    async def remove_callee(request: Request) -> Response:
        try:
            sandbox.state.callees.remove(_callee_number(request))
        except SandboxError as err:
            return _error(err)
        return Response(status_code=204)

    async def clear_callees(request: Request) -> Response:
        sandbox.state.callees.clear()
        return Response(status_code=204)

    return [
        Route("/callees", list_callees, methods=["GET"]),
        Route("/callees", clear_callees, methods=["DELETE"]),
        Route("/callees/{number}", set_callee, methods=["PUT"]),
        Route("/callees/{number}", remove_callee, methods=["DELETE"]),
        Route("/calls/inbound", inbound, methods=["POST"]),
        Route("/agents/{agent_id}/say", say, methods=["POST"]),
        Route("/faults", list_faults, methods=["GET"]),
        Route("/faults", add_faults, methods=["POST"]),
        Route("/faults", clear_faults, methods=["DELETE"]),
        Route("/time", advance, methods=["POST"]),
        Route("/state", state, methods=["GET"]),
        Route("/reset", reset, methods=["POST"]),
    ]
