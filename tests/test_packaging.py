"""Packaging: the wheel (licence, metadata, long description), the README's install and test
instructions, and the MCP bundle (.mcpb) validated against the format's published schema.

The bundle schema is vendored in ``tests/mcpb-manifest-v0.4.schema.json`` from
github.com/modelcontextprotocol/mcpb (``schemas/mcpb-manifest-v0.4.schema.json``, commit
bec493b7; its ``$comment`` says so); the rules of MANIFEST.md that a schema cannot express
(variables substituted in ``mcp_config``, ``sensitive`` for secrets) are checked here too.
"""

from __future__ import annotations

import json
import re
import shlex
import subprocess
import sys
import tomllib
import zipfile
from pathlib import Path
from typing import Any

import jsonschema
import pytest
from _server_helpers import subprocess_env

from convoai_mcp import __version__
from convoai_mcp.config import VARIABLES
from convoai_mcp.server.tools import TOOL_NAMES

ROOT = Path(__file__).resolve().parent.parent
PROJECT: dict[str, Any] = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
REPO_URL = json.loads((ROOT / "server.json").read_text())["repository"]["url"]
README = (ROOT / "README.md").read_text()
MCPB_SCHEMA = json.loads((Path(__file__).parent / "mcpb-manifest-v0.4.schema.json").read_text())


# ------------------------------------------------------------------- wheel and metadata


@pytest.fixture(scope="module")
def wheel(tmp_path_factory: pytest.TempPathFactory) -> zipfile.ZipFile:
    """The wheel, built offline with the project's own build backend."""
    from hatchling.builders.wheel import WheelBuilder

    out = tmp_path_factory.mktemp("wheel")
    [path] = list(WheelBuilder(str(ROOT)).build(directory=str(out), versions=["standard"]))
    return zipfile.ZipFile(path)


def metadata(wheel: zipfile.ZipFile) -> str:
    [name] = [n for n in wheel.namelist() if n.endswith(".dist-info/METADATA")]
    return wheel.read(name).decode()


def test_the_licence_is_mit_in_the_repo_and_in_the_wheel(wheel: zipfile.ZipFile) -> None:
    licence = (ROOT / "LICENSE").read_text()
    assert licence.startswith("MIT License")
    assert PROJECT["license"] == "MIT"
    [name] = [n for n in wheel.namelist() if n.endswith(".dist-info/licenses/LICENSE")]
    assert wheel.read(name).decode() == licence
    assert "License-Expression: MIT" in metadata(wheel)


def test_the_project_urls_point_at_the_repository_server_json_declares(
    wheel: zipfile.ZipFile,
) -> None:
    urls = PROJECT["urls"]
    assert urls["Repository"] == urls["Homepage"] == REPO_URL
    assert urls["Issues"] == f"{REPO_URL}/issues"
    assert f"Project-URL: Repository, {REPO_URL}" in metadata(wheel)


def test_the_console_page_is_in_the_wheel(wheel: zipfile.ZipFile) -> None:
    page = wheel.read("convoai_mcp/console_page/console.html").decode()
    assert page.startswith("<!doctype html>")
    # the browser tests' vendored axe-core (tests/vendor/) is not shipped
    assert not [n for n in wheel.namelist() if "axe" in n or "/vendor/" in n]


def test_python_3_13_is_declared(wheel: zipfile.ZipFile) -> None:
    assert "Classifier: Programming Language :: Python :: 3.13" in metadata(wheel)


def test_every_link_in_the_long_description_is_absolute(wheel: zipfile.ZipFile) -> None:
    """PyPI renders the README without the repository around it: a relative link (a file or
    an in-page anchor) is broken there, so every link is a full URL, into the repository where
    it points at ours."""
    description = metadata(wheel).split("\n\n", 1)[1]
    assert "## Configuration" in description  # it is the README
    links = re.findall(r"\]\(([^)\s]+)\)", description)
    assert links
    relative = [link for link in links if not link.startswith(("https://", "http://"))]
    assert relative == [], "make these absolute (" + REPO_URL + "/blob/main/... or #anchor)"
    for link in links:
        if "github.com/convoai-mcp" in link:
            assert link.startswith(REPO_URL), link


# ------------------------------------------------------------------- the README


def test_the_readme_says_how_to_run_it_today_and_once_published() -> None:
    assert f"uvx --from git+{REPO_URL} convoai-mcp" in README
    assert '"command": "uvx"' in README
    assert "`uvx convoai-mcp`" in README
    assert "works only once it is published" in README


def test_the_inspector_recipe_uses_one_http_server() -> None:
    section = README.split("**Try it with the MCP Inspector.**", 1)[1].split("\n## ", 1)[0]
    assert "convoai-mcp --sandbox --transport streamable-http --port 8000 &" in section
    assert "--cli http://127.0.0.1:8000/mcp --transport http --method tools/list" in section
    assert "--tool-name start_agent --tool-arg channel=lobby" in section


def ci_step(pattern: str) -> str:
    script = (ROOT / ".ci" / "run").read_text()
    match = re.search(pattern, script, re.MULTILINE)
    assert match is not None, pattern
    return match.group(1)


def test_the_readme_test_command_is_what_ci_runs_and_says_how_long() -> None:
    block = README.split("**Run the tests**", 1)[1].split("```", 2)
    intro, command = block[0], block[1].removeprefix("sh\n").strip()
    assert "about 10 minutes" in intro  # 1,854 tests in 626 s on 2 quiet cores
    assert "ruff" in intro and "mypy" in intro and ".ci/run" in intro  # said, not promised
    steps = command.split(" && ")
    ci_install = ci_step(r"^python -m pip install --quiet (-e .+)$")
    ci_pytest = ci_step(r"^(python -m pytest.*)$")
    [install] = [s for s in steps if "pip install" in s]
    [pytest_step] = [s for s in steps if "pytest" in s]
    assert shlex.split(install)[-2:] == shlex.split(ci_install)
    assert pytest_step.removeprefix(".venv/bin/") == ci_pytest


# ------------------------------------------------------------------- the MCP bundle


@pytest.fixture(scope="module")
def bundle(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("mcpb") / "convoai-mcp.mcpb"
    proc = subprocess.run(
        [sys.executable, str(ROOT / "scripts" / "build_mcpb.py"), "--out", str(out)],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
        env=subprocess_env(),
    )
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.strip() == str(out)
    return out


def bundle_manifest(path: Path) -> dict[str, Any]:
    data: dict[str, Any] = json.loads(zipfile.ZipFile(path).read("manifest.json"))
    return data


def validator() -> jsonschema.Draft7Validator:
    jsonschema.Draft7Validator.check_schema(MCPB_SCHEMA)
    return jsonschema.Draft7Validator(
        MCPB_SCHEMA, format_checker=jsonschema.Draft7Validator.FORMAT_CHECKER
    )


def test_the_bundle_manifest_is_valid_against_the_published_schema(bundle: Path) -> None:
    errors = [e.message for e in validator().iter_errors(bundle_manifest(bundle))]
    assert errors == []


@pytest.mark.parametrize(
    "breakage",
    [
        lambda m: m.pop("author"),
        lambda m: m["user_config"]["agora_app_id"].pop("title"),
        lambda m: m["user_config"]["agora_app_id"].update(sensitive="yes"),
        lambda m: m["server"].update(type="ruby"),
        lambda m: m.update(manifest_version="9.9"),
    ],
)
def test_the_validator_would_catch_a_broken_manifest(bundle: Path, breakage: Any) -> None:
    broken = bundle_manifest(bundle)
    breakage(broken)
    assert list(validator().iter_errors(broken))


def test_the_bundle_describes_this_package(bundle: Path) -> None:
    manifest = bundle_manifest(bundle)
    assert manifest["name"] == PROJECT["name"]
    assert manifest["version"] == PROJECT["version"] == __version__
    assert manifest["license"] == "MIT"
    assert manifest["repository"]["url"] == REPO_URL
    assert [t["name"] for t in manifest["tools"]] == list(TOOL_NAMES)
    assert all(t["description"] for t in manifest["tools"])
    assert manifest["compatibility"]["runtimes"]["python"] == PROJECT["requires-python"]


def test_user_config_fields_are_variables_and_secrets_are_sensitive(bundle: Path) -> None:
    manifest = bundle_manifest(bundle)
    fields = manifest["user_config"]
    env = manifest["server"]["mcp_config"]["env"]
    placeholders = [re.fullmatch(r"\$\{user_config\.([a-z0-9_]+)\}", v) for v in env.values()]
    assert all(placeholders), env
    used = {m.group(1) for m in placeholders if m}
    assert used == set(fields), "every field is passed on, and only fields are"
    for name, value in env.items():
        var = VARIABLES[name]  # a variable the server reads
        field = fields[value[len("${user_config.") : -1]]
        assert field["description"] == var.help
        assert field.get("sensitive", False) == var.secret, name
        assert field["required"] == var.required, name
    assert fields["agora_app_id"]["required"] is True
    for secret in ("AGORA_APP_CERTIFICATE", "AGORA_CUSTOMER_SECRET", "CONVOAI_LLM_API_KEY"):
        assert fields[secret.lower()]["sensitive"] is True


def test_the_bundle_holds_the_source_and_what_uv_needs(bundle: Path) -> None:
    names = zipfile.ZipFile(bundle).namelist()
    for needed in (
        "manifest.json",
        "pyproject.toml",
        "README.md",
        "LICENSE",
        "server/main.py",
        "convoai_mcp/__init__.py",
        "convoai_mcp/cli.py",
        "convoai_mcp/py.typed",
    ):
        assert needed in names
    assert not [n for n in names if "__pycache__" in n or n.endswith(".pyc")]
    assert not [n for n in names if n.startswith(("tests/", ".venv", "server/lib", "server/venv"))]
    assert zipfile.ZipFile(bundle).read("pyproject.toml") == (ROOT / "pyproject.toml").read_bytes()


def test_the_bundle_is_reproducible(bundle: Path, tmp_path: Path) -> None:
    again = tmp_path / "again.mcpb"
    subprocess.run(
        [sys.executable, str(ROOT / "scripts" / "build_mcpb.py"), "--out", str(again)],
        capture_output=True,
        timeout=120,
        check=True,
        env=subprocess_env(),
    )
    assert again.read_bytes() == bundle.read_bytes()


def test_the_bundled_server_starts_as_the_host_would_run_it(bundle: Path, tmp_path: Path) -> None:
    """Unpacked, with the env block substituted as a host does: the fields the user filled
    get values, the others stay as the literal placeholder (or empty), which the server treats
    as unset. uv would install the bundled project; PYTHONPATH stands in for that here."""
    zipfile.ZipFile(bundle).extractall(tmp_path)
    manifest = bundle_manifest(bundle)
    config = manifest["server"]["mcp_config"]
    filled = {
        "agora_app_id": "0123456789abcdef0123456789abcdef",
        "agora_app_certificate": "fedcba9876543210fedcba9876543210",
        "convoai_read_only": "true",
        "convoai_max_agents": "",
    }
    env = {
        name: filled.get(value[len("${user_config.") : -1], value)
        for name, value in config["env"].items()
    }
    args = [a.replace("${__dirname}", str(tmp_path)) for a in config["args"]]
    assert args[:3] == ["run", "--directory", str(tmp_path)]
    script = tmp_path / args[3]
    proc = subprocess.run(
        [sys.executable, str(script)],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
        stdin=subprocess.DEVNULL,
        env={**subprocess_env(**env), "PYTHONPATH": str(tmp_path)},
    )
    assert proc.returncode == 0, proc.stderr
    assert "read-only: on" in proc.stderr
    assert "serving MCP over stdio" in proc.stderr
    where = subprocess.run(
        [sys.executable, "-c", "import convoai_mcp; print(convoai_mcp.__file__)"],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=60,
        check=True,
        env={**subprocess_env(), "PYTHONPATH": str(tmp_path)},
    )
    assert Path(where.stdout.strip()).is_relative_to(tmp_path)  # the bundled copy ran
