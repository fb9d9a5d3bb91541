"""The one record of "agents we started": what the client and the MCP server know about each agent
or call started through them.

The client records an agent when its start (join) or call succeeds: its channel and uid (for the
agent's request tokens), whether it is an MLLM agent (speak / think are refused for those), and the
LLM params it started with (update_agent merges into them). The MCP server reads the same record
(``resources/list``, "how did it end" in errors) and adds what only it knows: when and why an
agent ended (:data:`END_STOPPED`, :data:`END_HUNG_UP`, :data:`END_ON_ITS_OWN`).

:class:`StartedAgents` is bounded: every running agent and the ``max_ended`` most recently ended
ones are kept (the oldest ended are dropped first), and never more than ``max_entries`` in all
(past that, the oldest are dropped even if they may still run: a client used for years as a
library forgets agents it never saw end). Standard library only; imports nothing of convoai-mcp.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field
from types import MappingProxyType
from typing import Any, Literal

__all__ = [
    "END_HUNG_UP",
    "END_ON_ITS_OWN",
    "END_STOPPED",
    "MAX_ENDED",
    "MAX_ENTRIES",
    "StartedAgent",
    "StartedAgents",
]

END_STOPPED = "stopped through this server"
END_HUNG_UP = "hung up"
END_ON_ITS_OWN = "ended on its own"

MAX_ENDED = 500
"""Ended agents kept by default (the oldest ended are dropped first)."""
MAX_ENTRIES = 4096
"""Agents kept at most, running or not."""


@dataclass
class StartedAgent:
    """An agent (``kind="agent"``) or outbound call (``kind="call"``) started through this client.

    ``agent_uid`` is the agent's RTC uid, ``user_uid`` the user's (for a call: the SIP leg's);
    ``llm_params`` the LLM params it was started with; ``ended_at`` (epoch seconds) and
    ``end_reason`` are set once it ended.
    """

    agent_id: str
    kind: Literal["agent", "call"]
    name: str
    channel: str
    agent_uid: str
    user_uid: str
    to_number: str | None = None
    from_number: str | None = None
    mllm: bool = False
    started_at: float = field(default_factory=time.time)
    ended: bool = False
    ended_at: float | None = None
    end_reason: str | None = None
    llm_params: dict[str, Any] | None = None


class StartedAgents:
    """The bounded record of started agents, by id, oldest start first (see the module doc)."""

    def __init__(
        self,
        *,
        max_ended: int = MAX_ENDED,
        max_entries: int = MAX_ENTRIES,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self.max_ended = max_ended
        self.max_entries = max_entries
        self._clock = clock
        self._agents: dict[str, StartedAgent] = {}
        self._ended: dict[str, None] = {}  # ids of the ended ones, oldest end first

    @property
    def agents(self) -> Mapping[str, StartedAgent]:
        """Every recorded agent by id, oldest start first (a read-only view)."""
        return MappingProxyType(self._agents)

    def __len__(self) -> int:
        return len(self._agents)

    def __contains__(self, agent_id: object) -> bool:
        return agent_id in self._agents

    def __iter__(self) -> Iterator[StartedAgent]:
        return iter(list(self._agents.values()))

    def get(self, agent_id: str | None) -> StartedAgent | None:
        """The record of ``agent_id``, or None."""
        return self._agents.get(agent_id) if agent_id else None

    def record(self, agent: StartedAgent) -> StartedAgent:
        """Record (or record again) a started agent; returns the record kept.

        Recording an id that is already known keeps its place and fills what the new record
        leaves unset (``mllm``, ``llm_params``, the numbers) from the earlier one, so the server
        recording an agent the client already recorded loses nothing. A recorded agent is
        running: recording an ended one again makes it running.
        """
        earlier = self._agents.get(agent.agent_id)
        if earlier is not None:
            agent.mllm = agent.mllm or earlier.mllm
            agent.llm_params = (
                agent.llm_params if agent.llm_params is not None else (earlier.llm_params)
            )
            agent.to_number = agent.to_number or earlier.to_number
            agent.from_number = agent.from_number or earlier.from_number
        self._ended.pop(agent.agent_id, None)
        agent.ended, agent.ended_at, agent.end_reason = False, None, None
        self._agents[agent.agent_id] = agent
        self._trim()
        return agent

    def mark_ended(self, agent_id: str, reason: str | None = None) -> bool:
        """Note that an agent ended (``reason``: why). It stays recorded until ``max_ended``
        agents ended after it. Returns False when it is unknown or had already ended (the first
        end is kept)."""
        agent = self._agents.get(agent_id)
        if agent is None or agent.ended:
            return False
        agent.ended = True
        agent.ended_at = self._clock()
        agent.end_reason = reason
        self._ended[agent_id] = None
        self._trim()
        return True

    def listed(self, ended: int) -> list[StartedAgent]:
        """Newest start first: every running agent and the ``ended`` most recently ended."""
        recent = set(list(self._ended)[-ended:]) if ended > 0 else set()
        return [a for a in reversed(self._agents.values()) if not a.ended or a.agent_id in recent]

    def _trim(self) -> None:
        while len(self._ended) > self.max_ended:
            oldest = next(iter(self._ended))
            del self._ended[oldest]
            del self._agents[oldest]
        while len(self._agents) > self.max_entries:
            oldest = next(iter(self._ended), None) or next(iter(self._agents))
            self._ended.pop(oldest, None)
            del self._agents[oldest]
