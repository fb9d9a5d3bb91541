"""server.json (MCP registry manifest) is valid, complete and consistent with the package."""

from __future__ import annotations

import json
import re
import tomllib
from pathlib import Path
from typing import Any

import jsonschema

from convoai_mcp import __version__
from convoai_mcp.config import ENV_VARS, SECRET_ENV_VARS

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
