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
import types
import typing
import warnings
from typing import Any

import pydantic
import pytest

__all__ = ["SDK_VERSION", "conforms", "import_sdk", "sdk_model"]

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
