"""What one started agent's record costs (benchmarks/ figure 6: memory per agent); counted with
tracemalloc (bytes, not time)."""

from __future__ import annotations

import tracemalloc

from convoai_mcp.started import StartedAgent, StartedAgents


def test_a_thousand_recorded_agents_cost_under_384_bytes_each() -> None:
    records = StartedAgents(max_ended=2000, max_entries=4096)
    ids = [f"{i:032d}" for i in range(1000)]  # made before counting: the service's ids
    tracemalloc.start()
    try:
        before = tracemalloc.take_snapshot()
        for agent_id in ids:
            records.record(StartedAgent(agent_id, "agent", "convoai-1234abcd", "room", "1", "2"))
            records.mark_ended(agent_id, "stopped")
        after = tracemalloc.take_snapshot()
    finally:
        tracemalloc.stop()
    per_agent = sum(stat.size_diff for stat in after.compare_to(before, "lineno")) / len(ids)
    assert per_agent < 384, per_agent
