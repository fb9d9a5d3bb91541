"""The safety seam between the MCP tools and the safety layer (stub; full implementation follows).

The server calls these methods at fixed points: ``visible_tools`` when registering tools,
``admit_agent`` / ``admit_call`` before anything is sent, ``started`` after a successful start,
``before_end`` before stop / hangup, ``ended`` afterwards, ``history`` / ``turns`` for the
resources, ``redact`` on everything echoed back, and ``aclose`` from the lifespan.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, Literal, TypeVar

from mcp.server.mcpserver import Context

__all__ = ["Guard"]

T = TypeVar("T")


class Guard:
    """Policy, confirmation, redaction and transcript archiving for one server instance."""

    def __init__(self, client: Any = None) -> None:
        self._client = client

    @classmethod
    def from_settings(cls, settings: Any, client: Any) -> Guard:
        """Build a guard from the server's settings and its ConvoAI client."""
        return cls(client)

    def visible_tools(self, names: Sequence[str]) -> list[str]:
        """Return the tool names this server may expose (read-only mode, allow / deny lists)."""
        return list(names)

    async def admit_agent(self, ctx: Context[Any, Any], *, channel: str, confirm: bool) -> None:
        """Raise PolicyError unless starting an agent in ``channel`` is allowed now."""

    async def admit_call(
        self, ctx: Context[Any, Any], *, to_number: str, from_number: str, confirm: bool
    ) -> None:
        """Raise PolicyError unless dialing ``to_number`` from ``from_number`` is allowed now."""

    def started(self, agent_id: str, *, kind: Literal["agent", "call"], channel: str) -> None:
        """Record an agent or call this server started (limits, archive watcher)."""

    async def before_end(self, agent_id: str) -> None:
        """Snapshot history and turns into the archive before stop / hangup."""

    def ended(self, agent_id: str) -> None:
        """Release the limits held by ``agent_id``."""

    async def history(self, agent_id: str) -> tuple[Any, Literal["service", "archive"]]:
        """Return the agent's history and which source answered."""
        return await self._client.agents.history(agent_id), "service"

    async def turns(self, agent_id: str) -> tuple[Any, Literal["service", "archive"]]:
        """Return the agent's turns and which source answered."""
        return await self._client.agents.turns(agent_id), "service"

    def redact(self, value: T) -> T:
        """Return ``value`` with secrets masked as ``***``."""
        return value

    async def aclose(self) -> None:
        """Stop background watchers and close the archive."""
