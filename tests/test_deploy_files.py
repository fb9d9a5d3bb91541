"""The container files of a team deployment (issue 15): ``Dockerfile``, ``compose.yaml``,
``deploy/nginx.conf``, ``deploy/env.example`` and ``.dockerignore``, checked by their content.

Docker cannot run here, so the image is never built in the tests; what they hold to is what the
README promises: a small non-root image serving streamable HTTP with our CLI as entry point, a
health check on ``/healthz`` without curl, two replicas with the same settings (one PostgreSQL
15 database, stateless HTTP, one request-state key) behind a load balancer without affinity,
secrets only from an uncommitted ``.env``, and no ``CONVOAI_*`` name that the server does not
read (a typo there would stop every replica at start-up).
"""

from __future__ import annotations

import json
import re
import shlex
import subprocess
from pathlib import Path
from typing import Any

import pytest

from convoai_mcp.config import VARIABLES, Settings
from convoai_mcp.server.transports.health import probes  # noqa: F401 - the probes exist

ROOT = Path(__file__).resolve().parent.parent
DOCKERFILE = (ROOT / "Dockerfile").read_text()
COMPOSE_TEXT = (ROOT / "compose.yaml").read_text()
NGINX = (ROOT / "deploy" / "nginx.conf").read_text()
ENV_EXAMPLE = (ROOT / "deploy" / "env.example").read_text()
DOCKERIGNORE = (ROOT / ".dockerignore").read_text()
REPLICAS = ("convoai-1", "convoai-2")


# -- a small YAML reader: the block subset compose.yaml is written in ---------------------------


def _scalar(text: str) -> Any:
    text = text.strip()
    if text.startswith("["):
        return json.loads(text)  # flow lists are written as JSON
    if len(text) >= 2 and text[0] == text[-1] and text[0] in "\"'":
        return text[1:-1]
    return text


def _lines(text: str) -> list[tuple[int, str]]:
    out = []
    for raw in text.splitlines():
        stripped = raw.strip()
        if not stripped or stripped.startswith("#"):
            continue
        assert "\t" not in raw, "compose.yaml is indented with spaces"
        out.append((len(raw) - len(raw.lstrip(" ")), raw.strip()))
    return out


def _block(lines: list[tuple[int, str]], start: int, indent: int) -> tuple[Any, int]:
    """The mapping or list whose lines start at ``start`` with ``indent``; (value, next line)."""
    if lines[start][1].startswith("- "):
        items: list[Any] = []
        i = start
        while i < len(lines) and lines[i][0] == indent and lines[i][1].startswith("- "):
            items.append(_scalar(lines[i][1][2:]))
            i += 1
        return items, i
    mapping: dict[str, Any] = {}
    i = start
    while i < len(lines) and lines[i][0] == indent:
        key, sep, rest = lines[i][1].partition(":")
        assert sep, f"not a 'key: value' line: {lines[i][1]!r}"
        assert key not in mapping, f"{key} twice"
        if rest.strip():
            mapping[key] = _scalar(rest)
            i += 1
        elif i + 1 < len(lines) and lines[i + 1][0] > indent:
            mapping[key], i = _block(lines, i + 1, lines[i + 1][0])
        else:
            mapping[key] = None
            i += 1
    return mapping, i


def load_compose(text: str) -> dict[str, Any]:
    lines = _lines(text)
    value, end = _block(lines, 0, 0)
    assert end == len(lines), f"compose.yaml: unexpected line {lines[end][1]!r}"
    assert isinstance(value, dict)
    return value


COMPOSE = load_compose(COMPOSE_TEXT)


def test_the_yaml_reader_reads_what_it_is_given() -> None:
    text = 'a:\n  b: 1\n  c:\n    - x\n    - "y"\n  d: ["p", "q"]\n# note\ne:\n'
    assert load_compose(text) == {"a": {"b": "1", "c": ["x", "y"], "d": ["p", "q"]}, "e": None}


# -- the Dockerfile --------------------------------------------------------------------------


def _instructions(text: str) -> list[tuple[str, str]]:
    """(INSTRUCTION, arguments) with continuation lines joined and comments dropped."""
    joined = re.sub(r"\\\n\s*", " ", text)
    out = []
    for line in joined.splitlines():
        line = line.strip()
        if line and not line.startswith("#"):
            word, _, rest = line.partition(" ")
            out.append((word.upper(), rest.strip()))
    return out


INSTRUCTIONS = _instructions(DOCKERFILE)


def _last(name: str) -> str:
    found = [rest for word, rest in INSTRUCTIONS if word == name]
    assert found, f"no {name} in the Dockerfile"
    return found[-1]


def _exec_form(value: str) -> list[str]:
    words = json.loads(value)
    assert isinstance(words, list) and all(isinstance(w, str) for w in words), value
    return words


def test_the_image_is_a_small_python_base_built_in_two_stages() -> None:
    bases = [rest for word, rest in INSTRUCTIONS if word == "FROM"]
    assert len(bases) == 2
    assert all(re.match(r"python:\$\{PYTHON_VERSION\}-slim\b", base) for base in bases)
    assert re.search(r"ARG PYTHON_VERSION=3\.1[1-3]\b", DOCKERFILE)
    runs = " ".join(rest for word, rest in INSTRUCTIONS if word == "RUN")
    assert "pip wheel --no-cache-dir" in runs
    extras = "convoai-mcp[postgres,oauth]"
    assert f'pip install --no-cache-dir --no-index --find-links=/wheels "{extras}"' in runs
    assert 'pip wheel --no-cache-dir --wheel-dir /wheels ".[postgres,oauth]"' in runs
    assert "apt-get" not in runs  # nothing compiled, no system packages


def test_the_image_runs_as_a_non_root_user() -> None:
    user = _last("USER")
    assert user not in ("root", "0") and not user.startswith(("root:", "0:"))
    assert f"useradd --system --uid 10001 --create-home --home-dir /home/{user} {user}" in (
        " ".join(rest for word, rest in INSTRUCTIONS if word == "RUN")
    )
    # USER comes after every RUN: nothing later runs as root
    last_user = max(i for i, (word, _) in enumerate(INSTRUCTIONS) if word == "USER")
    assert all(word != "RUN" for word, _ in INSTRUCTIONS[last_user:])


def test_the_entrypoint_is_our_cli_serving_streamable_http_on_the_exposed_port() -> None:
    assert _exec_form(_last("ENTRYPOINT")) == ["convoai-mcp"]
    command = _exec_form(_last("CMD"))
    assert command == ["--transport", "streamable-http", "--host", "0.0.0.0", "--port", "8000"]
    assert _last("EXPOSE") == "8000"
    from convoai_mcp.cli import build_parser

    ns = build_parser().parse_args(command)  # the CLI takes exactly these arguments
    assert (ns.transport, ns.host, ns.port) == ("streamable-http", "0.0.0.0", 8000)


def test_the_health_check_asks_healthz_with_python_not_curl() -> None:
    check = _last("HEALTHCHECK")
    options, _, command = check.partition("CMD ")
    assert "--interval=" in options and "--timeout=" in options
    words = _exec_form(command)
    assert words[:2] == ["python", "-c"]
    assert "http://127.0.0.1:8000/healthz" in words[2]
    assert "curl" not in DOCKERFILE.lower().replace("no curl", "")
    compile(words[2], "<healthcheck>", "exec")  # the one-liner is valid Python


def test_the_health_path_is_the_one_the_server_serves() -> None:
    from convoai_mcp.server.transports.health import Readiness

    del Readiness
    source = (ROOT / "convoai_mcp" / "server" / "transports" / "health.py").read_text()
    assert '"/healthz"' in source


def test_no_secret_or_setting_is_baked_into_the_image() -> None:
    envs = " ".join(rest for word, rest in INSTRUCTIONS if word in ("ENV", "ARG"))
    for name, variable in VARIABLES.items():
        if variable.secret:
            assert name not in envs, name
    assert "COPY . " not in DOCKERFILE and "ADD " not in DOCKERFILE


def test_the_build_context_holds_only_what_the_image_needs() -> None:
    lines = [line.strip() for line in DOCKERIGNORE.splitlines()]
    assert lines[lines.index("*")] == "*"  # everything is excluded first...
    kept = {line[1:] for line in lines if line.startswith("!")}
    assert kept == {"pyproject.toml", "README.md", "LICENSE", "convoai_mcp"}
    copied = [
        rest.split()[:-1] for word, rest in INSTRUCTIONS if word == "COPY" and "--from" not in rest
    ]
    assert {name for sources in copied for name in sources} == kept
    assert ".env" in lines


# -- compose.yaml ----------------------------------------------------------------------------


def _environment(service: str) -> dict[str, str]:
    env = COMPOSE["services"][service]["environment"]
    assert isinstance(env, dict)
    return env


def test_compose_runs_two_replicas_of_the_image_with_the_same_settings() -> None:
    services = COMPOSE["services"]
    assert set(services) == {"postgres", *REPLICAS, "nginx"}
    first, second = (services[name] for name in REPLICAS)
    assert first == second  # the same build, image, env file, environment and start order...
    assert first["build"] == "." and first["env_file"] == ".env"


def test_the_replicas_share_one_postgresql_15_database() -> None:
    postgres = COMPOSE["services"]["postgres"]
    assert postgres["image"] == "postgres:15"
    urls = {_environment(name)["CONVOAI_DATABASE_URL"] for name in REPLICAS}
    [url] = urls
    user, db = postgres["environment"]["POSTGRES_USER"], postgres["environment"]["POSTGRES_DB"]
    assert re.fullmatch(
        rf"postgresql://{user}:\$\{{POSTGRES_PASSWORD:\?[^}}]+\}}@postgres:5432/{db}", url
    )
    assert postgres["environment"]["POSTGRES_PASSWORD"].startswith("${POSTGRES_PASSWORD:?")
    for name in REPLICAS:
        assert COMPOSE["services"][name]["depends_on"]["postgres"] == {
            "condition": "service_healthy"
        }
    assert "pg_isready" in " ".join(postgres["healthcheck"]["test"])


def test_the_replicas_are_stateless_and_share_the_request_state_key() -> None:
    keys = {_environment(name)["CONVOAI_REQUEST_STATE_KEY"] for name in REPLICAS}
    assert keys == {"${CONVOAI_REQUEST_STATE_KEY:?set CONVOAI_REQUEST_STATE_KEY in .env}"}
    for name in REPLICAS:
        env = {k: v for k, v in _environment(name).items() if "${" not in v}
        assert Settings.from_env(
            {**env, "AGORA_APP_ID": "0" * 32, "AGORA_APP_CERTIFICATE": "f" * 32}
        ).http_stateless


def test_secrets_come_only_from_the_uncommitted_env_file() -> None:
    for name in REPLICAS:
        for key, value in _environment(name).items():
            if key in VARIABLES and VARIABLES[key].secret:
                # the secret part is interpolated from .env (the database URL's password)
                assert re.search(r"\$\{[A-Z_]+:\?", value), f"{key} is written into compose.yaml"
    assert ".env" in (ROOT / ".gitignore").read_text().splitlines()
    tracked = subprocess.run(
        ["git", "ls-files", ".env", "deploy/.env"], cwd=ROOT, capture_output=True, text=True
    )
    assert tracked.returncode != 0 or tracked.stdout == ""
    for line in ENV_EXAMPLE.splitlines():  # the template holds no value for a secret
        name, sep, value = line.partition("=")
        if sep and not line.startswith("#") and name in VARIABLES and VARIABLES[name].secret:
            assert value == "", name
        if sep and not line.startswith("#") and name == "POSTGRES_PASSWORD":
            assert value == ""


def test_every_convoai_name_used_is_a_variable_the_server_reads() -> None:
    used = set()
    for text in (COMPOSE_TEXT, ENV_EXAMPLE, DOCKERFILE):
        used |= set(re.findall(r"\bCONVOAI_[A-Z_]+[A-Z]\b", text))
        used |= set(re.findall(r"\bAGORA_[A-Z_]+[A-Z]\b", text))
    assert used, "no variable found"
    assert used <= set(VARIABLES), sorted(used - set(VARIABLES))
    assert {"CONVOAI_DATABASE_URL", "CONVOAI_REQUEST_STATE_KEY", "CONVOAI_HTTP_TOKEN"} <= used


def test_the_env_template_is_valid_for_the_server_once_filled_in() -> None:
    env: dict[str, str] = {}
    for line in ENV_EXAMPLE.splitlines():
        if line.strip() and not line.startswith("#"):
            [word] = shlex.split(line)
            name, _, value = word.partition("=")
            env[name] = value
    filled = {
        **env,
        "AGORA_APP_ID": "0123456789abcdef0123456789abcdef",
        "AGORA_APP_CERTIFICATE": "fedcba9876543210fedcba9876543210",
        "CONVOAI_HTTP_TOKEN": "t" * 32,
        "CONVOAI_REQUEST_STATE_KEY": "k" * 64,
        "CONVOAI_DATABASE_URL": "postgresql://convoai:pw@postgres:5432/convoai",
        "CONVOAI_HTTP_STATELESS": "on",
    }
    settings = Settings.from_env(filled)
    assert settings.http_allowed_hosts == ("localhost:8080",)
    assert settings.max_agents == 10


# -- the load balancer -------------------------------------------------------------------------


def test_the_load_balancer_spreads_over_both_replicas_without_affinity() -> None:
    upstream = re.search(r"upstream convoai \{(.*?)\}", NGINX, re.DOTALL)
    assert upstream is not None
    servers = re.findall(r"^\s*server (\S+)", upstream.group(1), re.MULTILINE)
    assert servers == [f"{name}:8000" for name in REPLICAS]
    for affinity in ("ip_hash", "hash ", "sticky"):
        assert affinity not in upstream.group(1)
    assert "proxy_buffering off;" in NGINX  # server-sent events pass through as they come
    assert "proxy_set_header Host $http_host;" in NGINX
    nginx = COMPOSE["services"]["nginx"]
    assert "./deploy/nginx.conf:/etc/nginx/conf.d/default.conf:ro" in nginx["volumes"]
    assert nginx["ports"] == ["8080:8080"]
    assert re.search(r"^\s*listen 8080;", NGINX, re.MULTILINE)


@pytest.mark.parametrize("name", ["Dockerfile", "compose.yaml", "deploy/nginx.conf"])
def test_the_readme_shows_the_deployment_files(name: str) -> None:
    readme = (ROOT / "README.md").read_text()
    section = readme.split("## Deploying for a team", 1)[1].split("\n## ", 1)[0]
    assert name in section
    assert "cannot be built" in section or "not built" in section
