"""Shared by the contract tests: the official SDK (``agora-agents`` 2.12.0) as the oracle.

:func:`import_sdk` imports it or skips the calling module with a visible reason -- except under
CI (``CI`` set, as ``.ci/run`` is run), where a missing SDK fails the run: the contract must
never silently stop being checked. :func:`conforms` checks a JSON answer against an SDK
response model more strictly than the SDK itself parses it: the model must validate it, every
primitive must have the declared type, and every value of an open enum (``Literal[...] | Any``,
which accepts anything) must be one the SDK declares.
"""

from __future__ import annotations

import importlib
import os
import re
import types
import typing
import warnings
from typing import Any

import pydantic
import pytest

__all__ = [
    "AGENT_ERROR",
    "SDK_VERSION",
    "SUCCESS",
    "TELEPHONY_ERROR",
    "answer_problems",
    "conforms",
    "import_sdk",
    "operation_of",
    "sdk_model",
]

SDK_VERSION = "2.12.0"


def import_sdk() -> Any:
    """The ``agora_agent`` package, or a module-level skip (a failure under CI)."""
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # its pydantic v1-style config warns on import
            sdk = importlib.import_module("agora_agent")
            version = importlib.import_module("agora_agent.version").__version__
    except ImportError as exc:
        reason = (
            f"the official SDK agora-agents=={SDK_VERSION} is not installed ({exc}); "
            "install it with: pip install -e '.[contract]'"
        )
        if os.environ.get("CI"):
            pytest.fail(f"contract tests cannot run under CI: {reason}", pytrace=False)
        pytest.skip(reason, allow_module_level=True)
    if version != SDK_VERSION:
        pytest.fail(f"the contract is agora-agents=={SDK_VERSION}, found {version}", pytrace=False)
    return sdk


def sdk_model(module: str, name: str) -> type[pydantic.BaseModel]:
    """An SDK model by module (below ``agora_agent``) and class name."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        found = getattr(importlib.import_module(f"agora_agent.{module}"), name)
    assert isinstance(found, type) and issubclass(found, pydantic.BaseModel), name
    return found


_A = "agents.types"
_T = "telephony.types"
_N = "phone_numbers.types"
SUCCESS: dict[str, tuple[str, str] | None] = {
    "agents.start": (f"{_A}.start_agents_response", "StartAgentsResponse"),
    "agents.list": (f"{_A}.list_agents_response", "ListAgentsResponse"),
    "agents.get": (f"{_A}.get_agents_response", "GetAgentsResponse"),
    "agents.history": (f"{_A}.get_history_agents_response", "GetHistoryAgentsResponse"),
    "agents.turns": (f"{_A}.get_turns_agents_response", "GetTurnsAgentsResponse"),
    "agents.stop": None,  # any 2xx; the SDK reads no body
    "agents.update": (f"{_A}.update_agents_response", "UpdateAgentsResponse"),
    "agents.speak": (f"{_A}.speak_agents_response", "SpeakAgentsResponse"),
    "agents.interrupt": (f"{_A}.interrupt_agents_response", "InterruptAgentsResponse"),
    "agents.think": (
        "agent_management.types.agent_think_agent_management_response",
        "AgentThinkAgentManagementResponse",
    ),
    "calls.create": (f"{_T}.call_telephony_response", "CallTelephonyResponse"),
    "calls.list": (f"{_T}.list_telephony_response", "ListTelephonyResponse"),
    "calls.get": (f"{_T}.get_telephony_response", "GetTelephonyResponse"),
    "calls.hangup": (f"{_T}.hangup_telephony_response", "HangupTelephonyResponse"),
    "numbers.list": (f"{_N}.list_phone_numbers_response_item", "ListPhoneNumbersResponseItem"),
    "numbers.add": (f"{_N}.add_phone_numbers_response", "AddPhoneNumbersResponse"),
    "numbers.get": (f"{_N}.get_phone_numbers_response", "GetPhoneNumbersResponse"),
    "numbers.update": (f"{_N}.update_phone_numbers_response", "UpdatePhoneNumbersResponse"),
    "numbers.delete": None,
}
AGENT_ERROR = ("types.agent_error_response", "AgentErrorResponse")
TELEPHONY_ERROR = ("types.telephony_error_response", "TelephonyErrorResponse")


_ROUTES: tuple[tuple[str, re.Pattern[str], str], ...] = tuple(
    (method, re.compile(pattern + "$"), operation)
    for method, pattern, operation in (
        ("POST", r"/v2/projects/[^/]+/join", "agents.start"),
        ("GET", r"/v2/projects/[^/]+/agents", "agents.list"),
        ("GET", r"/v2/projects/[^/]+/agents/[^/]+", "agents.get"),
        ("GET", r"/v2/projects/[^/]+/agents/[^/]+/history", "agents.history"),
        ("GET", r"/v2/projects/[^/]+/agents/[^/]+/turns", "agents.turns"),
        ("POST", r"/v2/projects/[^/]+/agents/[^/]+/leave", "agents.stop"),
        ("POST", r"/v2/projects/[^/]+/agents/[^/]+/update", "agents.update"),
        ("POST", r"/v2/projects/[^/]+/agents/[^/]+/speak", "agents.speak"),
        ("POST", r"/v2/projects/[^/]+/agents/[^/]+/interrupt", "agents.interrupt"),
        ("POST", r"/v2/projects/[^/]+/agents/[^/]+/think", "agents.think"),
        ("POST", r"/v2/projects/[^/]+/call", "calls.create"),
        ("GET", r"/v2/projects/[^/]+/call", "calls.list"),
        ("GET", r"/v2/projects/[^/]+/calls/[^/]+", "calls.get"),
        ("POST", r"/v2/projects/[^/]+/calls/[^/]+/hangup", "calls.hangup"),
        ("GET", r"/v2/phone-numbers", "numbers.list"),
        ("POST", r"/v2/phone-numbers", "numbers.add"),
        ("GET", r"/v2/phone-numbers/[^/]+", "numbers.get"),
        ("PATCH", r"/v2/phone-numbers/[^/]+", "numbers.update"),
        ("DELETE", r"/v2/phone-numbers/[^/]+", "numbers.delete"),
    )
)


def operation_of(method: str, path: str) -> str:
    """The operation id (``agents.start`` ...) of a request, from its method and URL path."""
    for route_method, pattern, operation in _ROUTES:
        if method.upper() == route_method and pattern.search(path):
            return operation
    raise AssertionError(f"not an API route: {method} {path}")


_NUMBER_OPTIONALS = ("associated_pipeline", "inbound_config", "outbound_config")


def _dialect(operation: str, status: int, body: Any, where: str) -> list[str]:
    """What the SDK documents beyond its types: list answers always carry ``meta.cursor``
    (``""`` on the last page); turn times are integer Unix milliseconds; numbers leave unset
    pipelines / configs out (no nulls); deleting a number answers 200."""
    problems: list[str] = []
    if operation in ("agents.list", "calls.list") and "cursor" not in (body.get("meta") or {}):
        problems.append(f'{where}: meta.cursor is missing (the SDKs expect "" at the end)')
    if operation == "agents.turns":
        for index, turn in enumerate(body.get("turns") or []):
            for part, key in (("start", "start_at"), ("end", "end_at")):
                value = (turn.get(part) or {}).get(key)
                if value is not None and not (isinstance(value, int) and value > 10**12):
                    problems.append(f"{where}.turns[{index}].{part}.{key}: {value!r} is not ms")
    if operation.startswith("numbers.") and operation != "numbers.delete":
        for item in body if isinstance(body, list) else [body]:
            nulls = [k for k in _NUMBER_OPTIONALS if k in item and item[k] is None]
            if nulls:
                problems.append(f"{where}: {nulls} are null (leave them out)")
    if operation == "numbers.delete" and status != 200:
        problems.append(f"{where}: delete answers 200 (the SDKs' fixtures), got {status}")
    return problems


def answer_problems(operation: str, status: int, body: Any) -> list[str]:
    """What in one answer (operation id, HTTP status, JSON body) the SDK's model for it
    rejects (:data:`SUCCESS` for 2xx, the agent or telephony error body otherwise), and where
    it departs from what the SDK documents (:func:`_dialect`)."""
    where = f"{operation} {status}"
    if status >= 400:
        family = AGENT_ERROR if operation.startswith("agents.") else TELEPHONY_ERROR
        return conforms(sdk_model(*family), body, where)
    target = SUCCESS[operation]
    problems = _dialect(operation, status, body, where)
    if target is None:
        return problems + ([] if body in (None, {}) else [f"{where}: unexpected body {body!r}"])
    model = sdk_model(*target)
    if operation == "numbers.list":
        assert isinstance(body, list)
        return problems + [
            p for i, item in enumerate(body) for p in conforms(model, item, f"{where}[{i}]")
        ]
    return problems + conforms(model, body, where)


_PRIMITIVES: dict[type, tuple[type, ...]] = {
    str: (str,),
    bool: (bool,),
    int: (int,),
    float: (int, float),
}


def _check(annotation: Any, value: Any, path: str, problems: list[str]) -> None:
    origin = typing.get_origin(annotation)
    args = typing.get_args(annotation)
    if annotation is Any:
        return
    if origin is typing.Annotated:
        _check(args[0], value, path, problems)
        return
    if origin is typing.Union or origin is types.UnionType:
        if value is None and type(None) in args:
            return
        options = [a for a in args if a is not type(None)]
        literals = [a for a in options if typing.get_origin(a) is typing.Literal]
        others = [a for a in options if typing.get_origin(a) is not typing.Literal]
        if literals and all(a is Any for a in others):  # an open enum: Literal[...] | Any
            allowed = {v for lit in literals for v in typing.get_args(lit)}
            if value not in allowed:
                problems.append(f"{path}: {value!r} is not one of {sorted(map(str, allowed))}")
            return
        if len(options) == 1:
            _check(options[0], value, path, problems)
        return  # a real union (vendor configs): the model's own validation judges it
    if origin is typing.Literal:
        if value not in args:
            problems.append(f"{path}: {value!r} is not one of {list(args)}")
        return
    if value is None:
        problems.append(f"{path}: null where {annotation} is declared")
        return
    if origin is list:
        if not isinstance(value, list):
            problems.append(f"{path}: {type(value).__name__} where a list is declared")
            return
        for index, item in enumerate(value):
            _check(args[0], item, f"{path}[{index}]", problems)
        return
    if origin is dict:
        if not isinstance(value, dict):
            problems.append(f"{path}: {type(value).__name__} where an object is declared")
            return
        for key, item in value.items():
            _check(args[1], item, f"{path}.{key}", problems)
        return
    if isinstance(annotation, type) and issubclass(annotation, pydantic.BaseModel):
        if not isinstance(value, dict):
            problems.append(f"{path}: {type(value).__name__} where {annotation.__name__} is due")
            return
        for name, field in annotation.model_fields.items():
            key = field.alias or name
            if key in value:
                _check(field.annotation, value[key], f"{path}.{key}", problems)
        return
    allowed_types = _PRIMITIVES.get(annotation) if isinstance(annotation, type) else None
    if allowed_types is not None and (
        not isinstance(value, allowed_types) or (annotation is not bool and isinstance(value, bool))
    ):
        problems.append(f"{path}: {value!r} is not a {annotation.__name__}")


def conforms(model: type[pydantic.BaseModel], data: Any, where: str = "$") -> list[str]:
    """What in ``data`` the SDK's ``model`` rejects or does not declare (empty: it conforms).

    The model validates ``data`` (pydantic, as declared: no construct-without-validation), and
    the walk checks primitives exactly and open enums against their declared values."""
    problems: list[str] = []
    try:
        model.model_validate(data)
    except pydantic.ValidationError as exc:
        problems += [
            f"{where}.{'.'.join(map(str, err['loc']))}: {err['msg']}"
            for err in exc.errors(include_url=False)
        ]
    if isinstance(data, list):
        problems.append(f"{where}: a list where {model.__name__} is due")
    else:
        _check(model, data, where, problems)
    return problems
