"""The sandbox's admin endpoint and its request bodies, over real loopback HTTP (issue 10 D13,
D14)."""

from __future__ import annotations

import asyncio
import base64
import math
from collections.abc import AsyncIterator
from urllib.parse import urlsplit

import anyio
import httpx
import pytest

from convoai_mcp.sandbox import DEMO_CREDENTIALS, PATH_PREFIX, Sandbox
from convoai_mcp.sandbox.body import MAX_BODY

CREDS = DEMO_CREDENTIALS
P = f"/v2/projects/{CREDS.app_id}"
AUTH = "Basic " + base64.b64encode(f"{CREDS.customer_id}:{CREDS.customer_secret}".encode()).decode()


@pytest.fixture
async def sandbox() -> AsyncIterator[Sandbox]:
    sb = Sandbox(CREDS, admin=True)
    async with sb.serve():
        yield sb


@pytest.fixture
async def admin(sandbox: Sandbox) -> AsyncIterator[httpx.AsyncClient]:
    assert sandbox.base_url is not None
    async with httpx.AsyncClient(base_url=sandbox.base_url.removesuffix(PATH_PREFIX)) as c:
        yield c


@pytest.mark.parametrize(
    "advance", ["NaN", "Infinity", "-Infinity", "-1", "1e400", '"nan"', "true", "null"]
)
async def test_a_time_advance_that_is_not_a_finite_non_negative_number_is_refused(
    admin: httpx.AsyncClient, sandbox: Sandbox, advance: str
) -> None:
    before = (await admin.get("/_sandbox/state")).json()["now"]
    refused = await admin.post(
        "/_sandbox/time",
        content=f'{{"advance": {advance}}}',
        headers={"content-type": "application/json"},
    )
    assert refused.status_code == 400
    assert "advance" in refused.json()["detail"]
    after = (await admin.get("/_sandbox/state")).json()["now"]
    assert math.isfinite(after) and after >= before
    assert math.isfinite(sandbox.state.offset)
    moved = await admin.post("/_sandbox/time", json={"advance": 60})
    assert moved.status_code == 200 and moved.json()["now"] >= before + 60


async def test_an_advance_past_the_year_9999_is_refused(admin: httpx.AsyncClient) -> None:
    refused = await admin.post("/_sandbox/time", json={"advance": 1e300})
    assert refused.status_code == 400
    assert "9999" in refused.json()["detail"]


async def test_reset_recovers_a_clock_that_is_no_longer_a_finite_time(
    admin: httpx.AsyncClient, sandbox: Sandbox
) -> None:
    sandbox.state.offset = math.nan  # however it got there
    assert (await admin.post("/_sandbox/reset")).status_code == 204
    now = (await admin.get("/_sandbox/state")).json()["now"]
    assert math.isfinite(now)
    assert (await admin.post("/_sandbox/time", json={"advance": 1})).status_code == 200


async def test_a_chunked_upload_is_answered_413_after_the_limit_without_reading_the_rest(
    sandbox: Sandbox,
) -> None:
    """A chunked body (no Content-Length) of up to 64 MiB: the emulator answers 413 once it has
    read about its 1 MB limit, while the client is still sending; the rest is never read into
    memory (it used to read the whole body first: 300 MiB took it from 30 to 645 MB)."""
    assert sandbox.base_url is not None
    url = urlsplit(sandbox.base_url)
    assert url.hostname is not None and url.port is not None
    reader, writer = await asyncio.open_connection(url.hostname, url.port)
    writer.write(
        (
            f"POST {PATH_PREFIX}{P}/join HTTP/1.1\r\nHost: {url.hostname}\r\n"
            f"Authorization: {AUTH}\r\nContent-Type: application/json\r\n"
            "Transfer-Encoding: chunked\r\n\r\n"
        ).encode()
    )
    answer = asyncio.ensure_future(reader.readuntil(b"\r\n\r\n"))
    chunk = b"x" * 65536
    framed = f"{len(chunk):x}\r\n".encode() + chunk + b"\r\n"
    sent = 0
    cap = 64 * 1024 * 1024
    try:
        with anyio.fail_after(60):
            while not answer.done() and sent < cap:
                writer.write(framed)
                await writer.drain()
                sent += len(chunk)
            head = await answer
    finally:
        writer.close()
    assert head.startswith(b"HTTP/1.1 413"), head
    assert MAX_BODY < sent < 16 * 1024 * 1024  # answered long before the client was done
