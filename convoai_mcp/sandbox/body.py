"""Reading request bodies with a size limit, without reading past it."""

from __future__ import annotations

from starlette.requests import Request

from .errors import SandboxError

__all__ = ["MAX_BODY", "read_body"]

MAX_BODY = 1_000_000
"""The largest request body the emulator reads, in bytes."""

_BODY_KEY = "convoai_sandbox_body"


async def read_body(request: Request, limit: int = MAX_BODY) -> bytes:
    """The request body, read chunk by chunk and no further than ``limit`` bytes: a larger body
    (declared, or streamed chunked) is a 413 as soon as the limit is passed, and the rest is
    never read into memory. The outcome is kept, so a second call gives the same answer."""
    kept: bytes | SandboxError | None = request.scope.get(_BODY_KEY)
    if kept is None:
        kept = await _read_limited(request, limit)
        request.scope[_BODY_KEY] = kept
    if isinstance(kept, SandboxError):
        raise kept
    return kept


async def _read_limited(request: Request, limit: int) -> bytes | SandboxError:
    too_large = SandboxError(413, "InvalidRequestBody", f"the body exceeds {limit} bytes")
    declared = request.headers.get("content-length", "")
    if declared.isdigit() and int(declared) > limit:
        return too_large  # refused without reading it
    chunks: list[bytes] = []
    size = 0
    async for chunk in request.stream():
        size += len(chunk)
        if size > limit:
            return too_large
        chunks.append(chunk)
    return b"".join(chunks)
