"""The rows both archive backends write and the answers they read back, built in one place.

:mod:`.sqlite` and :mod:`.postgres` differ in how they talk to their database (placeholders,
transactions, upserts); what goes into a history, turn or audit row, how an entry is keyed, and
what a load returns are the same and live here. Nothing here touches a database.
"""

from __future__ import annotations

import hashlib
import json
import sys
from collections.abc import Callable, Iterable, Mapping, Sequence
from typing import Any

__all__ = [
    "agent_fields",
    "audit_cursor",
    "audit_row",
    "content_hash",
    "history_answer",
    "history_rows",
    "int_or_none",
    "turn_key",
    "turn_rows",
    "turns_answer",
]


def content_hash(content: object) -> str:
    """The history entry's content as part of its natural key."""
    text = content if isinstance(content, str) else json.dumps(content, sort_keys=True)
    return hashlib.sha256(text.encode("utf-8")).hexdigest()[:32]


def int_or_none(value: object) -> int | None:
    """``value`` as an int if it is a number (not a bool), else None."""
    if isinstance(value, bool) or not isinstance(value, int | float):
        return None
    return int(value)


def turn_key(turn: Mapping[str, Any]) -> tuple[str, float | None]:
    """A turn's key (its ``turn_id``, else a hash of the turn) and its sort order."""
    turn_id = turn.get("turn_id")
    if isinstance(turn_id, int | float) and not isinstance(turn_id, bool):
        number = float(turn_id)
        return (str(int(number)) if number.is_integer() else repr(number)), number
    if isinstance(turn_id, str) and turn_id:
        return f"s:{turn_id}", None
    return f"h:{content_hash(json.dumps(turn, sort_keys=True, default=str))}", None


def history_rows(
    agent_id: str, entries: Iterable[Mapping[str, Any]], now: float
) -> list[tuple[Any, ...]]:
    """``(agent_id, role, start_key, content_hash, speech_start_ms, data, archived_at)`` for
    each history entry."""
    rows = []
    for entry in entries:
        data = dict(entry)
        start = int_or_none(data.get("speech_start_ms"))
        rows.append(
            (
                agent_id,
                str(data.get("role") or ""),
                -1 if start is None else start,
                content_hash(data.get("content") or ""),
                start,
                json.dumps(data, ensure_ascii=False, default=str),
                now,
            )
        )
    return rows


def turn_rows(
    agent_id: str, turns: Iterable[Mapping[str, Any]], now: float
) -> list[tuple[Any, ...]]:
    """``(agent_id, turn_key, turn_order, data, archived_at)`` for each turn."""
    rows = []
    for turn in turns:
        key, order = turn_key(turn)
        rows.append((agent_id, key, order, json.dumps(dict(turn), default=str), now))
    return rows


def audit_row(
    entry: Mapping[str, Any], clock: Callable[[], float]
) -> tuple[float, str, str | None, str]:
    """``(at, tool, placed_number, data)`` of an audit entry; ``at`` defaults to ``clock()``."""
    data = dict(entry)
    at = data.get("at")
    data["at"] = float(at) if isinstance(at, int | float) else clock()
    placed = data.get("placed_number")
    return (
        data["at"],
        str(data.get("tool") or ""),
        placed if isinstance(placed, str) else None,
        json.dumps(data, ensure_ascii=False, default=str),
    )


def audit_cursor(cursor: str | None) -> int:
    """The sequence number an audit page continues below (its ``a<seq>`` cursor)."""
    if cursor is None or cursor == "":
        return sys.maxsize
    if not (cursor.startswith("a") and cursor[1:].isdigit() and len(cursor) <= 20):
        raise ValueError(
            f"cursor {cursor[:40]!r} is not one this archive handed out; pass the next_cursor "
            "of the previous page, or none for the latest entries"
        )
    return int(cursor[1:])


def agent_fields(columns: Sequence[str], agent: Sequence[Any] | None) -> dict[str, Any]:
    """The agent row's non-null ``columns`` (none when the archive has no such row)."""
    if agent is None:
        return {}
    return {key: value for key, value in zip(columns, agent, strict=True) if value is not None}


def history_answer(agent_id: str, fields: dict[str, Any], contents: list[Any]) -> dict[str, Any]:
    """``{agent_id, start_ts, status, contents}`` as a load returns it."""
    return {"agent_id": agent_id, "contents": contents, **fields}


def turns_answer(agent_id: str, fields: dict[str, Any], turns: list[Any]) -> dict[str, Any]:
    """``{agent_id, name, channel, total_turn_count, turns}`` as a load returns it."""
    fields.setdefault("total_turn_count", len(turns))
    return {"agent_id": agent_id, "turns": turns, **fields}
