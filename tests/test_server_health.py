"""``/healthz`` and ``/readyz`` on the HTTP transport, over real HTTP: outside the bearer token
and the Host check, revealing nothing, ready only when the archive and the service answer."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from _http_server import TOKEN, served
from _server_helpers import rig

from convoai_mcp.sandbox.faults import Fault
from convoai_mcp.server.transports.health import SERVICE_TTL, Readiness

OK = {"status": "ok"}
UNAVAILABLE = {"status": "unavailable"}


async def test_liveness_answers_without_the_token_and_auth_still_guards_mcp(
    tmp_path: Path,
) -> None:
    async with served(tmp_path) as (_, http):
        live = await http.get("/healthz")
        assert live.status_code == 200
        assert live.json() == OK
        assert live.headers["cache-control"] == "no-store"
        head = await http.head("/healthz")
        assert head.status_code == 200 and head.content == b""
        mcp = await http.post("/mcp", json={})
        assert mcp.status_code == 401  # everything else still needs the token
        other = await http.get("/healthz/extra")
        assert other.status_code == 401  # exact paths only


async def test_readiness_is_ok_when_the_archive_and_the_service_answer(tmp_path: Path) -> None:
    async with served(tmp_path) as (_, http):
        ready = await http.get("/readyz")
        assert ready.status_code == 200
        assert ready.json() == OK
        # an orchestrator probes by address: the Host check (DNS rebinding) does not apply
        by_address = await http.get("/readyz", headers={"Host": "10.1.2.3:8000"})
        assert by_address.status_code == 200


async def test_readiness_fails_while_the_service_refuses_and_says_nothing(
    tmp_path: Path,
) -> None:
    async with served(tmp_path) as (r, http):
        r.sandbox.faults.add(Fault(route="numbers.list", kind="status", status=401))
        refused = await http.get("/readyz")
        assert refused.status_code == 503
        assert refused.json() == UNAVAILABLE  # not which part, nor why
        assert json.loads(refused.text) == UNAVAILABLE
        live = await http.get("/healthz")
        assert live.status_code == 200  # alive all the same
        r.sandbox.faults.clear()
        assert (await http.get("/readyz")).status_code == 200  # a failure is not remembered


async def test_readiness_fails_while_the_database_is_gone(
    tmp_path: Path, postgres_url: str
) -> None:
    import psycopg

    async with served(tmp_path, {"CONVOAI_DATABASE_URL": postgres_url}) as (r, http):
        assert (await http.get("/readyz")).status_code == 200
        archive = r.server.runtime.guard.archive
        assert archive is not None and type(archive).__name__ == "PostgresArchive"
        dbname = postgres_url.rsplit("/", 1)[1]
        maintenance = postgres_url.rsplit("/", 1)[0] + "/postgres"
        with psycopg.connect(maintenance, autocommit=True) as conn:
            conn.execute(f'DROP DATABASE "{dbname}" WITH (FORCE)')
            gone = await http.get("/readyz")
            conn.execute(f'CREATE DATABASE "{dbname}"')  # the fixture drops it again
        assert gone.status_code == 503
        assert gone.json() == UNAVAILABLE
        assert dbname not in gone.text


async def test_readiness_with_the_archive_off_asks_only_the_service(tmp_path: Path) -> None:
    async with served(tmp_path, {"CONVOAI_ARCHIVE": "off"}) as (r, http):
        assert r.server.runtime.guard.archive is None
        assert (await http.get("/readyz")).status_code == 200


async def test_other_methods_are_not_allowed(tmp_path: Path) -> None:
    async with served(tmp_path) as (_, http):
        for path in ("/healthz", "/readyz"):
            answer = await http.post(path, content=b"{}")
            assert answer.status_code == 405
            assert answer.headers["allow"] == "GET, HEAD"


async def test_a_service_success_is_reused_for_a_while(tmp_path: Path) -> None:
    """Probes every few seconds from every replica do not each become a REST request."""
    now = [0.0]
    async with rig(tmp_path) as r:
        readiness = Readiness(r.server.runtime, clock=lambda: now[0])
        assert await readiness.ready()
        r.sandbox.faults.add(Fault(route="numbers.list", kind="status", status=401))
        now[0] += SERVICE_TTL - 1
        assert await readiness.ready()  # remembered
        now[0] += 2
        assert not await readiness.ready()  # asked again, and refused
        r.sandbox.faults.clear()
        assert await readiness.ready()


@pytest.mark.parametrize("path", ["/healthz", "/readyz"])
async def test_the_probes_reveal_nothing_about_the_configuration(tmp_path: Path, path: str) -> None:
    async with served(tmp_path) as (r, http):
        answer = await http.get(path)
    text = answer.text + json.dumps(dict(answer.headers))
    for secret in (TOKEN, r.settings.app_id, r.base_url, str(tmp_path), "sqlite", "convoai"):
        assert secret not in text
