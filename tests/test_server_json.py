"""server.json (MCP registry manifest) is valid, complete and consistent with the package."""

from __future__ import annotations

import json
import re
import subprocess
import sys
import tomllib
from pathlib import Path
from typing import Any

import jsonschema

from convoai_mcp import __version__
from convoai_mcp.config import ENV_VARS, LLM_STYLES, LOG_FORMATS, LOG_LEVELS, SECRET_ENV_VARS
from convoai_mcp.regions import Area

ROOT = Path(__file__).resolve().parent.parent
SCHEMA = json.loads((Path(__file__).parent / "registry-server.schema.json").read_text())


def manifest() -> dict[str, Any]:
    data: dict[str, Any] = json.loads((ROOT / "server.json").read_text())
    return data


def package() -> dict[str, Any]:
    packages = manifest()["packages"]
    assert len(packages) == 1
    pkg: dict[str, Any] = packages[0]
    return pkg


def test_server_json_is_valid_against_the_registry_schema() -> None:
    jsonschema.Draft7Validator.check_schema(SCHEMA)
    errors = list(jsonschema.Draft7Validator(SCHEMA).iter_errors(manifest()))
    assert errors == [], [e.message for e in errors]


def test_the_validator_would_catch_a_broken_manifest() -> None:
    broken = {**manifest(), "name": "no-slash-here"}
    assert list(jsonschema.Draft7Validator(SCHEMA).iter_errors(broken))


def test_versions_and_package_match_pyproject() -> None:
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    pkg = package()
    assert manifest()["version"] == pkg["version"] == project["version"] == __version__
    assert pkg["registryType"] == "pypi"
    assert pkg["identifier"] == project["name"]
    assert pkg["transport"] == {"type": "stdio"}


def test_every_environment_variable_is_described_and_secrets_are_marked() -> None:
    variables = {v["name"]: v for v in package()["environmentVariables"]}
    assert set(variables) == set(ENV_VARS)
    for name, spec in variables.items():
        assert spec["description"] == ENV_VARS[name], f"{name}: server.json is out of date"
        assert spec.get("isSecret", False) == (name in SECRET_ENV_VARS), name
    assert variables["AGORA_APP_ID"].get("isRequired") is True


def test_readme_carries_the_mcp_name_marker() -> None:
    readme = (ROOT / "README.md").read_text()
    match = re.search(r"mcp-name:\s*(\S+)", readme)
    assert match is not None, "README.md needs an 'mcp-name: <name>' marker for the registry"
    assert match.group(1) == manifest()["name"]


def test_server_json_is_in_sync_with_the_variable_table() -> None:
    """A new variable is one line in config.VARIABLES; scripts/sync_server_json.py copies it."""
    proc = subprocess.run(
        [sys.executable, str(ROOT / "scripts" / "sync_server_json.py"), "--check"],
        capture_output=True,
        text=True,
        check=False,
        timeout=60,
    )
    assert proc.returncode == 0, proc.stdout + proc.stderr


def test_choices_match_what_the_configuration_accepts() -> None:
    variables = {v["name"]: v for v in package()["environmentVariables"]}
    assert variables["AGORA_AREA"]["choices"] == [a.value for a in Area]
    assert variables["CONVOAI_LLM_STYLE"]["choices"] == list(LLM_STYLES)
    assert variables["CONVOAI_LOG_FORMAT"]["choices"] == list(LOG_FORMATS)
    assert variables["CONVOAI_LOG_LEVEL"]["choices"] == list(LOG_LEVELS)
