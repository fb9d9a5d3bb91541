"""Derive ``convoai_mcp/profiles/_catalog.py`` from the official SDK (``agora-agents``).

The catalog is data, not code: for every vendor class of the SDK it records the parameters (name,
type, required, default, bounds, choices) and the shape of the JSON its ``to_config()`` produces,
as a template whose leaves name the parameters. The shapes are found by probing: the class is
built with distinct marker values, and where each marker lands in the output is recorded
(``{"$": name}`` for a value, ``{"$fmt": "...{name}..."}`` for a value inside a string,
``{"$merge": name}`` for a dict spread into the surrounding object). Behaviour a template cannot
express is written by hand in ``convoai_mcp/profiles/_vendors.py`` and listed in ``CUSTOM``.

Run ``python tests/_profile_catalog_gen.py && ruff format convoai_mcp/profiles/_catalog.py``
(with the SDK installed) to rewrite the file; ``tests/test_profiles_sdk.py`` checks that the
committed data equals a fresh derivation, so an SDK upgrade that changes a class fails there.
"""

from __future__ import annotations

import importlib
import inspect
import pprint
import types
import typing
import warnings
from pathlib import Path
from typing import Any

STAGES = {"BaseLLM": "llm", "BaseTTS": "tts", "BaseSTT": "asr", "BaseMLLM": "mllm"}
STAGES["BaseAvatar"] = "avatar"
CATALOG_PATH = Path(__file__).resolve().parent.parent / "convoai_mcp" / "profiles" / "_catalog.py"

# Fields a minimal probe must set so that the SDK's own validators accept it.
# ("*": the field's own marker). These fields then count as given in the probe of the class's
# key mode; MANAGED lists the classes that also have an Agora-managed mode (no key), probed
# separately with the arguments given there.
COMPANIONS: dict[str, dict[str, Any]] = {
    "OpenAI": {"api_key": "*", "base_url": "*"},
    "OpenAITTS": {"api_key": "*", "model": "*", "base_url": "*"},
    "RimeTTS": {"key": "*", "speaker": "*", "model_id": "*"},
    "DeepgramSTT": {"api_key": "*"},
    "OpenAISTT": {"prompt": "*", "language": "*"},
    "SpeechmaticsSTT": {"key": "*"},
    "AliyunLLM": {"api_key": "*", "base_url": "*"},
    "BytedanceLLM": {"api_key": "*", "base_url": "*"},
    "DeepSeekLLM": {"api_key": "*", "base_url": "*"},
    "TencentLLM": {"api_key": "*", "base_url": "*"},
    "MiniMaxTTS": {"key": "*", "voice_id": "*", "group_id": "*"},
    "MiniMaxCNTTS": {"key": "*", "voice_id": "*"},
}
_LLM_MODELS = ("gpt-4o-mini", "gpt-5-nano")
_MINIMAX_MODELS = ("speech-2.6-turbo", "speech_2_8_turbo")
_MANAGED_LLM = ({"absent": ["api_key"]}, {"model": _LLM_MODELS, "vendor": None})
_GEMINI_38 = "models/gemini-3.8-live"
_GEMINI_38_THINKING = "models/gemini-3.8-live-extended-thinking"
MODES: dict[str, list[tuple[dict[str, Any], dict[str, Any]]]] = {
    "OpenAI": [({"absent": ["api_key"]}, {"model": _LLM_MODELS})],
    "OpenAITTS": [({"absent": ["api_key"]}, {})],  # model: only tts-1 is managed
    "DeepgramSTT": [({"absent": ["api_key"]}, {"model": ("nova-3", "nova-2")})],
    "AliyunLLM": [_MANAGED_LLM],
    "BytedanceLLM": [_MANAGED_LLM],
    "DeepSeekLLM": [_MANAGED_LLM],
    "TencentLLM": [_MANAGED_LLM],
    "MiniMaxTTS": [
        ({"absent": ["key", "voice_id"]}, {"model": _MINIMAX_MODELS, "timber_weights": "*"}),
        ({"absent": ["key"]}, {"model": _MINIMAX_MODELS, "voice_id": "*"}),
        ({"absent": ["voice_id"]}, {"key": "*", "group_id": "*", "timber_weights": "*"}),
    ],
    "MiniMaxCNTTS": [({"absent": ["voice_id"]}, {"key": "*", "timber_weights": "*"})],
    "RimeTTS": [
        (
            {"field": "credential_mode", "in": ["managed"]},
            {"credential_mode": "managed", "base_url": "*", "model_id": "*"},
        )
    ],
    "GeminiLive": [
        ({"field": "model", "in": [_GEMINI_38]}, {"model": _GEMINI_38}),
        ({"field": "model", "in": [_GEMINI_38_THINKING]}, {"model": _GEMINI_38_THINKING}),
    ],
}
# Marker pairs for parameters the SDK checks (a choice written as a plain string, a URL).
MARKERS: dict[str, tuple[Any, Any]] = {
    "quality": ("low", "high"),
    "mode": ("SMART", "VERBATIM"),
    "RimeTTS.credential_mode": ("byok", "byok"),
    "GenericTTS.url": ("https://a.example/tts", "https://b.example/tts"),
    "OpenAIGPTLive.url": ("wss://a.example/live", "wss://b.example/live"),
    "OpenAIGPTLive.base_url": ("wss://a.example", "wss://b.example"),
    "OpenAIGPTLive.headers": ('{"x-a": "1"}', '{"x-b": "2"}'),
}


def sdk() -> Any:
    """The SDK's vendor package (raises ImportError without it)."""
    return importlib.import_module("agora_agent.agentkit.vendors")


def vendor_classes() -> list[type[Any]]:
    """Every concrete vendor class of the SDK, found by walking the five base classes."""
    base = importlib.import_module("agora_agent.agentkit.vendors.base")
    importlib.import_module("agora_agent.agentkit.preview.gemini_tts")
    importlib.import_module("agora_agent.agentkit.vendors.cn")
    found: set[type[Any]] = set()

    def walk(cls: type[Any]) -> None:
        for sub in cls.__subclasses__():
            if not inspect.isabstract(sub):
                found.add(sub)
            walk(sub)

    for name in STAGES:
        walk(getattr(base, name))
    return sorted(found, key=lambda c: (stage_of(c), c.__module__, c.__name__))


def stage_of(cls: type[Any]) -> str:
    base = importlib.import_module("agora_agent.agentkit.vendors.base")
    for name, stage in STAGES.items():
        if issubclass(cls, getattr(base, name)):
            return stage
    raise TypeError(cls)


def area_of(cls: type[Any]) -> str:
    return "cn" if cls.__module__.endswith(".cn") else "global"


def class_key(cls: type[Any]) -> str:
    """The catalog key: the SDK's export name (the CN twins as exported, e.g. MicrosoftCNTTS)."""
    if area_of(cls) == "cn" and cls.__name__ in {"MicrosoftSTT", "MicrosoftTTS", "MiniMaxTTS"}:
        return cls.__name__.replace("Microsoft", "MicrosoftCN").replace("MiniMax", "MiniMaxCN")
    return cls.__name__


def _strip_optional(ann: Any) -> tuple[Any, bool]:
    origin = typing.get_origin(ann)
    if origin in (typing.Union, types.UnionType):
        args = [a for a in typing.get_args(ann) if a is not type(None)]
        if len(args) != len(typing.get_args(ann)):
            return (args[0] if len(args) == 1 else typing.Union[tuple(args)]), True  # noqa: UP007
    return ann, False


def field_spec(info: Any) -> dict[str, Any]:
    """A JSON-able description of one pydantic field."""
    ann, _ = _strip_optional(info.annotation)
    spec: dict[str, Any] = {}
    origin = typing.get_origin(ann)
    if ann is str:
        spec["type"] = "str"
    elif ann is bool:
        spec["type"] = "bool"
    elif ann is int:
        spec["type"] = "int"
    elif ann is float:
        spec["type"] = "float"
    elif origin is typing.Literal:
        spec["type"] = "choice"
        spec["choices"] = list(typing.get_args(ann))
    elif origin is list:
        (item,) = typing.get_args(ann)
        spec["type"] = "list"
        spec["items"] = {int: "int", str: "str"}.get(item, "dict")
    elif origin is dict:
        spec["type"] = "dict"
    elif origin is typing.Union:
        literals = [a for a in typing.get_args(ann) if typing.get_origin(a) is typing.Literal]
        spec["type"] = "any"
        if literals:
            spec["hint"] = list(typing.get_args(literals[0]))
    elif ann is Any:
        spec["type"] = "any"
    elif isinstance(ann, type) and hasattr(ann, "model_fields"):
        spec["type"] = "dict"
    else:
        raise TypeError(f"unsupported annotation {ann!r}")
    spec["required"] = bool(info.is_required())
    if not info.is_required() and info.default is not None:
        spec["default"] = info.default
    for meta in info.metadata:
        for bound in ("ge", "gt", "le", "lt", "min_length"):
            value = getattr(meta, bound, None)
            if value is not None:
                spec[bound] = value
    return spec


def _marker(name: str, spec: dict[str, Any], index: int, which: int, owner: str = "") -> Any:
    """A value for ``name`` that is unlikely to appear in the output by accident."""
    for key in (f"{owner}.{name}", name):
        if key in MARKERS:
            return MARKERS[key][which]
    kind = spec["type"]
    if kind == "str":
        return f"s_{name}_{'ab'[which]}"
    if kind == "choice":
        choices = spec["choices"]
        return choices[which % len(choices)] if which == 0 else choices[-1]
    if kind == "bool":
        return which == 0
    if kind in ("int", "float"):
        lo = spec.get("ge", spec.get("gt", 0))
        hi = spec.get("le", spec.get("lt"))
        if kind == "int":
            if hi is None:
                return 7_000_000 + 1000 * index + which + 1
            return int(lo) + (1 if "gt" in spec else 0) + which
        if hi is None:
            return 7000.25 + 10 * index + which
        return round(float(lo) + (float(hi) - float(lo)) * (0.3 + 0.2 * which) + index * 1e-4, 6)
    if kind == "list":
        item = spec["items"]
        if item == "int":
            return [8_000_000 + 10 * index + which]
        if item == "str":
            return [f"l_{name}_{'ab'[which]}"]
        if name == "mcp_servers":
            return [{"name": f"m_{name}_{'ab'[which]}", "endpoint": "https://m.example/mcp"}]
        return [{f"k_{name}": f"v_{name}_{'ab'[which]}"}]
    if kind == "dict":
        return {f"k_{name}": f"v_{name}_{'ab'[which]}"}
    return f"s_{name}_{'ab'[which]}"


class _Unresolved(Exception):
    pass


def _leaf(a: Any, b: Any, va: dict[str, Any], vb: dict[str, Any]) -> Any:
    if (a, b) == ("true", "false"):
        flags = [n for n in va if va[n] is True and vb.get(n) is False]
        if len(flags) == 1:
            return {"$boolstr": flags[0]}
    if a == b and type(a) is type(b):
        return {"$const": a} if isinstance(a, dict) and any(k.startswith("$") for k in a) else a
    for name in va:
        if va[name] == a and vb.get(name) == b and type(va[name]) is type(a):
            return {"$": name}
    if isinstance(a, str) and isinstance(b, str):
        fmt = a.replace("{", "{{").replace("}", "}}")
        used = []
        for name in sorted(va, key=lambda n: -len(str(va[n]))):
            if isinstance(va[name], str) and va[name] and va[name] in fmt:
                fmt = fmt.replace(va[name], "{" + name + "}")
                used.append(name)
        if used and fmt.format_map({n: vb[n] for n in used}) == b:
            return {"$fmt": fmt}
    if name_list := [n for n in va if n == "mcp_servers" and va[n] is not None]:
        for name in name_list:
            if (
                isinstance(a, list)
                and [dict(x, transport="streamable_http") for x in va[name]] == a
            ):
                return {"$mcp": name}
    if isinstance(a, dict) and isinstance(b, dict) and set(a) == set(b):
        return _tree(a, b, va, vb)
    if isinstance(a, list) and isinstance(b, list) and len(a) == len(b):
        return [_leaf(x, y, va, vb) for x, y in zip(a, b, strict=True)]
    raise _Unresolved(f"{a!r} / {b!r}")


def _tree(a: dict[str, Any], b: dict[str, Any], va: dict[str, Any], vb: dict[str, Any]) -> Any:
    out: dict[str, Any] = {}
    for key in a:
        merged = [n for n in va if isinstance(va[n], dict) and key == f"k_{n}"]
        if merged:
            out.setdefault("$merge", []).append(merged[0])
            continue
        out[key] = _leaf(a[key], b[key], va, vb)
    return out


def _dump(value: Any) -> Any:
    if hasattr(value, "model_dump"):
        return value.model_dump(exclude_none=True)
    if isinstance(value, list):
        return [_dump(v) for v in value]
    if isinstance(value, dict):
        return {k: _dump(v) for k, v in value.items()}
    return value


def _config(cls: type[Any], args: dict[str, Any]) -> Any:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return _dump(cls(**args).to_config())


def _diff(base: Any, new: Any, path: tuple[str, ...] = ()) -> list[tuple[str, ...]]:
    """Paths (the shallowest) where ``new`` differs from ``base``."""
    if isinstance(base, dict) and isinstance(new, dict):
        out: list[tuple[str, ...]] = []
        for key in new:
            if key not in base:
                out.append((*path, key))
            elif base[key] != new[key]:
                out.extend(_diff(base[key], new[key], (*path, key)))
        for key in base:
            if key not in new:
                raise _Unresolved(f"key {'.'.join((*path, key))} removed")
        return out
    return [path]


def _get(tree: Any, path: tuple[str, ...]) -> Any:
    for key in path:
        tree = tree[key]
    return tree


def _probe(
    cls: type[Any], fields: dict[str, Any], given: dict[str, Any], *, strict: bool = True
) -> dict[str, Any]:
    """Template and per-parameter overlays of ``cls`` with ``given`` fixed (markers for "*")."""
    owner = cls.__name__
    order = list(fields)
    fixed = [n for n, s in fields.items() if s["required"] or "default" in s]
    va: dict[str, Any] = {}
    vb: dict[str, Any] = {}
    for n in [*fixed, *given]:
        fixed_value = given.get(n, "*")
        i = order.index(n)
        if isinstance(fixed_value, tuple):  # two real values, so the probe sees it vary
            va[n], vb[n] = fixed_value
            continue
        va[n] = _marker(n, fields[n], i, 0, owner) if fixed_value == "*" else fixed_value
        vb[n] = _marker(n, fields[n], i, 1, owner) if fixed_value == "*" else fixed_value
    base_a = _config(cls, va)
    base_b = _config(cls, vb)
    entry: dict[str, Any] = {"template": _leaf(base_a, base_b, va, vb)}
    when: dict[str, Any] = {}
    problems: list[str] = []
    for i, name in enumerate(order):
        if name in va:
            continue
        xa = dict(va, **{name: _marker(name, fields[name], i, 0, owner)})
        xb = dict(va, **{name: _marker(name, fields[name], i, 1, owner)})
        try:
            out_a = _config(cls, xa)
            out_b = _config(cls, xb)
            overlay = []
            paths = _diff(base_a, out_a)
            paths += [p for p in _diff(base_a, out_b) if p not in paths]
            for path in paths:
                if not path:
                    raise _Unresolved("whole output changed")
                parent = _get(out_a, path[:-1])
                if isinstance(xa[name], dict) and path[-1] == f"k_{name}":
                    overlay.append({"path": list(path[:-1]), "merge": name})
                    continue
                value: Any
                if path[-1] not in parent:
                    value = _leaf(xa[name], _get(out_b, path), xa, xb)
                elif parent[path[-1]] == xa[name] and _get(out_b, path) == xb[name]:
                    value = {"$": name}
                else:
                    value = _leaf(parent[path[-1]], _get(out_b, path), xa, xb)
                overlay.append({"path": list(path), "value": value})
            when[name] = overlay
        except Exception as exc:
            problems.append(f"{name}: {type(exc).__name__}: {str(exc).splitlines()[-2:]}")
    entry["when"] = when
    order = _precedence(cls, va, when, fields)
    if order:
        entry["order"] = order
    if problems and strict:
        entry["unresolved"] = problems
    return entry


def _precedence(
    cls: type[Any], va: dict[str, Any], when: dict[str, Any], fields: dict[str, Any]
) -> list[str]:
    """Fields in the order they must be applied where two write the same place (last wins)."""
    writers: dict[tuple[str, ...], list[str]] = {}
    for name, ops in when.items():
        for op in ops:
            if "value" in op:
                writers.setdefault(tuple(op["path"]), []).append(name)
    order: list[str] = []
    order_names = list(fields)
    for path, names in writers.items():
        if len(names) < 2:
            continue
        args = dict(va)
        for n in names:
            args[n] = _marker(n, fields[n], order_names.index(n), 0, cls.__name__)
        try:
            out = _get(_config(cls, args), path)
        except Exception:
            continue
        winners = [n for n in names if args[n] == out] or [
            n for n in names if isinstance(out, str) and str(args[n]) in out
        ]
        losers = [n for n in names if n not in winners]
        for n in [*losers, *winners]:
            if n in order:
                order.remove(n)
            order.append(n)
    return order


def describe(cls: type[Any]) -> dict[str, Any]:
    """The catalog entry of one SDK vendor class."""
    fields = {name: field_spec(info) for name, info in cls.model_fields.items()}
    entry: dict[str, Any] = {"stage": stage_of(cls), "area": area_of(cls)}
    keyed = _probe(cls, fields, COMPANIONS.get(class_key(cls), {}))
    template = keyed["template"]
    names = [template["vendor"]] if isinstance(template.get("vendor"), str) else []
    catalog = importlib.import_module("agora_agent.agentkit.vendors.catalog")
    space = catalog.CN_VENDOR_NAMESPACE if area_of(cls) == "cn" else catalog.GLOBAL_VENDOR_NAMESPACE
    names += [k for k, v in getattr(space, stage_of(cls)).items() if v is cls and k not in names]
    entry["names"] = names
    entry["fields"] = fields
    entry.update(keyed)
    modes = [
        {"if": condition, **_probe(cls, fields, given, strict=False)}
        for condition, given in MODES.get(class_key(cls), [])
    ]
    if modes:
        entry["modes"] = modes
    if stage_of(cls) in ("avatar", "tts"):
        owner = cls.__name__
        given = COMPANIONS.get(class_key(cls), {})
        args = {
            n: _marker(n, s, i, 0, owner)
            for i, (n, s) in enumerate(fields.items())
            if s["required"] or n in given or n in ("sample_rate", "sample_rate_hertz")
        }
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            probe = cls(**args)
            rate = (
                probe.required_sample_rate
                if stage_of(cls) == "avatar"
                else probe.resolved_sample_rate
            )
        refs = [
            n for n, v in args.items() if rate is not None and v == rate and n.startswith("sample")
        ]
        entry["sample_rate"] = {"$": refs[0]} if refs else rate
    return entry


def derive() -> dict[str, Any]:
    """The whole catalog, keyed by the SDK's class name."""
    return {class_key(cls): describe(cls) for cls in vendor_classes()}


HEADER = '''# ruff: noqa: E501
"""Generated from agora-agents {version} by ``python tests/_profile_catalog_gen.py``.

For every vendor class of the official SDK: its stage, area, the vendor name it sends, its
parameters, and the shape of its ``to_config()`` JSON (see ``tests/_profile_catalog_gen.py``).
"""

from typing import Any

SDK_VERSION = "{version}"

CATALOG: dict[str, dict[str, Any]] = '''


def render(catalog: dict[str, Any]) -> str:
    """The text of ``_catalog.py`` for ``catalog``."""
    version = importlib.import_module("agora_agent.version").__version__
    return (
        HEADER.format(version=version) + pprint.pformat(catalog, width=99, sort_dicts=False) + "\n"
    )


if __name__ == "__main__":
    text = render(derive())
    CATALOG_PATH.write_text(text, encoding="utf-8")
    print(f"wrote {CATALOG_PATH}")
