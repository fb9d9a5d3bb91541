"""The emulator validates the vendor stages it receives (issue 12), by its own table
(``convoai_mcp/sandbox/stages.py``), which must be the official SDK's rules.

* The table equals the rules derived afresh from the installed SDK (``agora-agents`` 2.12.0,
  through ``tests/_profile_catalog_gen.py``): for each stage and vendor, where the vendor class's
  required arguments land in its ``to_config()`` (in every credential mode), except the pinned,
  explained leniencies; the avatars' TTS sample rates and where each TTS vendor states its rate
  too.
* What the SDK produces passes: every vendor class, built with its required arguments (in each
  mode), as a stage of a join body.
* What lacks a required field is refused, naming the field and the vendor, with the service's
  error shape (400 ``{"detail", "reason": "MissingRequiredField"}``), also through the MCP server:
  a broken configuration fails against the emulator as it would on the service.
"""

from __future__ import annotations

import copy
import importlib
import os
import re
import warnings
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import _profile_catalog_gen as gen
import pytest
from _server_helpers import error_text, rig
from mcp import Client

from convoai_mcp.sandbox import stages
from convoai_mcp.sandbox.errors import SandboxError
from convoai_mcp.sandbox.validation import AVATAR_SAMPLE_RATES, validate_join_body


@pytest.fixture(scope="module")
def derived() -> dict[str, dict[str, Any]]:
    """The catalog of vendor classes as the installed SDK says it is."""
    try:
        importlib.import_module("agora_agent")
    except ImportError:
        reason = "the official SDK is not installed (pip install -e '.[contract]')"
        if os.environ.get("CI"):
            pytest.fail(reason + " (and CI is set, so this is a failure)")
        pytest.skip(reason)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        catalog: dict[str, dict[str, Any]] = gen.derive()
    return catalog


# -- the SDK's rules, derived ---------------------------------------------------------------


def _leaves(template: Any, prefix: tuple[str, ...] = ()) -> Iterator[tuple[tuple[str, ...], Any]]:
    if isinstance(template, dict) and not any(k.startswith("$") for k in template):
        for key, value in template.items():
            yield from _leaves(value, (*prefix, key))
    else:
        yield prefix, template


def _required_paths(entry: dict[str, Any], template: dict[str, Any]) -> set[str]:
    """Where the class's required arguments land: a value, or a part of one (a URL)."""
    required = {name for name, spec in entry["fields"].items() if spec["required"]}
    paths = set()
    for path, leaf in _leaves(template):
        if not isinstance(leaf, dict):
            continue
        names = {leaf.get("$")} | set(re.findall(r"\{(\w+)\}", str(leaf.get("$fmt", ""))))
        if names & required:
            paths.add(".".join(path))
    return paths


def _always_sent(template: dict[str, Any]) -> set[str]:
    return {".".join(path) for path, leaf in _leaves(template) if leaf not in ("", None)}


def _key(entry: dict[str, Any]) -> str:
    template = entry["template"]
    if entry["stage"] == "llm":
        vendor = template.get("vendor")
        return vendor if isinstance(vendor, str) else str(template.get("style", "openai"))
    return str(template["vendor"])


def sdk_rules(catalog: dict[str, dict[str, Any]]) -> dict[str, dict[str, set[str]]]:
    """stage -> vendor -> the paths every configuration the SDK sends for it carries."""
    rules: dict[str, dict[str, set[str]]] = {}
    for entry in catalog.values():
        paths = _required_paths(entry, entry["template"])
        for mode in entry.get("modes") or []:  # e.g. a managed model without a key
            paths &= _always_sent(mode["template"])
        names = {_key(entry)} if entry["stage"] == "llm" else {_key(entry), *entry["names"]}
        for name in names:
            slot = rules.setdefault(entry["stage"], {})
            slot[name] = paths if name not in slot else slot[name] & paths  # global and CN
    return rules


def test_the_emulators_table_is_the_sdks_rules(derived: dict[str, dict[str, Any]]) -> None:
    theirs = sdk_rules(derived)
    ours = {kind: {v: set(p) for v, p in table.items()} for kind, table in stages.REQUIRED.items()}
    for (kind, vendor), reasons in stages.LENIENT.items():
        for path in reasons:  # compared without the pinned differences
            ours[kind].setdefault(vendor, set()).discard(path)
            theirs[kind].setdefault(vendor, set()).discard(path)
    theirs = {kind: {v: p for v, p in t.items() if p} for kind, t in theirs.items()}
    ours = {kind: {v: p for v, p in t.items() if p} for kind, t in ours.items()}
    assert ours == theirs


def test_every_leniency_is_a_real_difference(derived: dict[str, dict[str, Any]]) -> None:
    """A pinned leniency names a path the SDK requires and the table does not, or the reverse."""
    theirs = sdk_rules(derived)
    for (kind, vendor), reasons in stages.LENIENT.items():
        mine = set(stages.REQUIRED[kind].get(vendor, ()))
        sdks = theirs[kind].get(vendor, set())
        for path, why in reasons.items():
            assert (path in mine) != (path in sdks), (kind, vendor, path)
            assert len(why) > 40


def test_the_sample_rates_are_the_sdks(derived: dict[str, dict[str, Any]]) -> None:
    avatars = {
        entry["names"][0]: entry["sample_rate"]
        for entry in derived.values()
        if entry["stage"] == "avatar"
        and isinstance(entry.get("sample_rate"), int)
        and entry["sample_rate"]
    }
    assert avatars == AVATAR_SAMPLE_RATES
    fixed: dict[str, int] = {}
    paths: dict[str, str] = {}
    for entry in derived.values():
        rate = entry.get("sample_rate") if entry["stage"] == "tts" else None
        if isinstance(rate, int):
            fixed[entry["names"][0]] = rate
        elif isinstance(rate, dict):
            (placed,) = entry["when"][rate["$"]]
            inner = [p for p, leaf in _leaves(placed["value"]) if leaf == {"$": rate["$"]}]
            for name in entry["names"]:
                paths[name] = ".".join([*placed["path"], *(inner[0] if inner else ())])
    assert fixed == stages.TTS_FIXED_RATES
    assert paths == stages.TTS_RATE_PATHS


# -- what the SDK sends passes; what lacks a field is refused -------------------------------

_TOKEN = "007" + "x" * 40
_PRESETS = {
    "asr": "deepgram_nova_3",
    "llm": "openai_gpt_4o_mini",
    "tts": "minimax_speech_2_6_turbo",
}
_TTS: dict[str, Any] = {
    "vendor": "microsoft",
    "params": {"key": "k", "region": "eastus", "voice_name": "v"},
}


def _body(kind: str, stage: dict[str, Any]) -> dict[str, Any]:
    """A join body carrying ``stage`` as its ``kind`` stage, presets for the rest."""
    props: dict[str, Any] = {
        "channel": "room",
        "token": _TOKEN,
        "agent_rtc_uid": "1001",
        "remote_rtc_uids": ["1002"],
    }
    presets = dict(_PRESETS)
    if kind == "mllm":
        presets.clear()
        props["mllm"] = stage
        props["advanced_features"] = {"enable_mllm": True}
    elif kind == "avatar":
        needed = AVATAR_SAMPLE_RATES.get(str(stage.get("vendor")))
        tts = copy.deepcopy(_TTS)
        if needed:
            tts["params"]["sample_rate"] = needed
        props["tts"] = tts
        presets.pop("tts")
        props["avatar"] = {**stage, "enable": True}
    else:
        props[kind] = stage
        presets.pop(kind)
    return {"name": "a", "preset": ",".join(presets.values()), "properties": props}


def _sdk_stage(derived: dict[str, dict[str, Any]], key: str, args: dict[str, Any]) -> Any:
    """The stage the SDK's class sends for ``args`` (None: the SDK refuses these arguments)."""
    cls = next(c for c in gen.vendor_classes() if gen.class_key(c) == key)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        try:
            return gen._dump(cls(**args).to_config())
        except ValueError:
            return None


def _cases(derived: dict[str, dict[str, Any]], key: str) -> Iterator[dict[str, Any]]:
    """The class's required arguments (with the companions its validators need), then each
    credential mode's."""
    fields: dict[str, Any] = derived[key]["fields"]
    owner = next(c for c in gen.vendor_classes() if gen.class_key(c) == key).__name__
    names = list(fields)

    def marker(name: str) -> Any:
        value = gen._marker(name, fields[name], names.index(name), 1, owner)
        if name.endswith(("url", "endpoint")) and isinstance(value, str) and "//" not in value:
            return f"https://{name.replace('_', '-')}.example/v1"  # a URL, as the service wants
        return value

    given = gen.COMPANIONS.get(key, {})
    yield {n: marker(n) for n, s in fields.items() if s["required"] or n in given}
    for _condition, mode in gen.MODES.get(key, []):
        args = {n: marker(n) for n, s in fields.items() if s["required"]}
        for n, value in mode.items():
            if isinstance(value, tuple):
                args[n] = value[1]
            elif value is not None:
                args[n] = marker(n) if value == "*" else value
        yield args


def test_what_each_sdk_vendor_class_sends_passes(derived: dict[str, dict[str, Any]]) -> None:
    checked = 0
    for key, entry in derived.items():
        for args in _cases(derived, key):
            stage = _sdk_stage(derived, key, args)
            if not isinstance(stage, dict) or any(k.startswith("_") for k in stage):
                continue  # a managed model the SDK sends as a preset instead
            validate_join_body(_body(entry["stage"], stage))
            checked += 1
    assert checked >= 72


def _drop(stage: dict[str, Any], path: str) -> dict[str, Any]:
    copied = copy.deepcopy(stage)
    node = copied
    *parents, last = path.split(".")
    for part in parents:
        node = node[part]
    del node[last]
    if path == "params.language":
        copied.pop("language", None)
    return copied


def test_a_missing_required_field_is_refused_with_a_clear_reason(
    derived: dict[str, dict[str, Any]],
) -> None:
    refused = 0
    for key, entry in derived.items():
        stage = _sdk_stage(derived, key, next(_cases(derived, key)))
        kind = entry["stage"]
        vendor = stages.stage_key(kind, stage)
        for path in stages.REQUIRED[kind].get(vendor or "", ()):
            with pytest.raises(SandboxError) as caught:
                validate_join_body(_body(kind, _drop(stage, path)))
            error = caught.value
            assert (error.status, error.reason) == (400, "MissingRequiredField"), key
            assert error.detail.startswith(f"properties.{kind}.{path} is required"), key
            assert str(vendor) in error.detail or path == "url", key
            refused += 1
    assert refused >= 140  # every vendor class, each of its required fields


@pytest.mark.parametrize(
    ("kind", "stage"),
    [
        (
            "asr",
            {"vendor": "microsoft", "language": "en-US", "params": {"key": "k", "region": "r"}},
        ),
        ("tts", dict(_TTS)),
        (
            "llm",
            {
                "url": "https://x.example/v1",
                "params": {"model": "m"},
                "style": "dify",
                "api_key": "k",
            },
        ),
        ("mllm", {"vendor": "openai", "api_key": "k"}),
        (
            "avatar",
            {
                "vendor": "heygen",
                "params": {"api_key": "k", "quality": "high", "agora_uid": "3001"},
            },
        ),
    ],
)
def test_a_valid_stage_of_each_kind_passes(kind: str, stage: dict[str, Any]) -> None:
    validate_join_body(_body(kind, stage))


def test_an_avatar_needs_its_sample_rate_wherever_the_tts_vendor_states_it() -> None:
    avatar = {"vendor": "heygen", "params": {"api_key": "k", "quality": "high", "agora_uid": "1"}}
    body = _body("avatar", avatar)
    body["properties"]["tts"] = {
        "vendor": "minimax",
        "params": {"key": "k", "model": "m", "audio_setting": {"sample_rate": 16000}},
    }
    with pytest.raises(SandboxError, match="needs 24000 Hz TTS audio, got 16000 Hz"):
        validate_join_body(body)
    body["properties"]["tts"]["params"]["audio_setting"]["sample_rate"] = 24000
    validate_join_body(body)
    akool = _body("avatar", {"vendor": "akool", "params": {"api_key": "k"}})
    akool["properties"]["tts"] = {"vendor": "openai", "params": {"voice": "alloy"}}  # 24 kHz
    with pytest.raises(SandboxError, match="akool needs 16000 Hz"):
        validate_join_body(akool)


async def test_a_broken_tts_configuration_fails_through_the_server(tmp_path: Path) -> None:
    """ElevenLabs without a voice: the emulator answers 400 as the service would, and the
    tool's error names the field."""
    env = {
        "CONVOAI_PRESETS": "deepgram_nova_3,openai_gpt_4o_mini",
        "CONVOAI_TTS_VENDOR": "elevenlabs",
        "CONVOAI_TTS_PARAMS": '{"key": "el-key", "model_id": "eleven_flash_v2_5", '
        '"base_url": "wss://api.elevenlabs.io/v1"}',
    }
    async with rig(tmp_path, env) as r, Client(r.server) as client:
        refused = await client.call_tool("start_agent", {"channel": "broken"})
        text = error_text(refused)
        assert "HTTP 400 MissingRequiredField" in text
        assert "properties.tts.params.voice_id is required for the tts vendor elevenlabs" in text
        assert "el-key" not in text
        fixed = await client.call_tool(
            "start_agent", {"channel": "fixed", "tts_voice": "21m00Tcm4TlvDq8ikWAM"}
        )
        assert not fixed.is_error, error_text(fixed)
        assert r.sandbox.state.agents  # only the fixed one started
        assert len(r.sandbox.state.agents) == 1
