"""Keeping the conversation summaries in step with the event log.

`refresh(connection, conversation_ids, responses)` recomputes, from
`conversation_events`, the summary rows of the conversations named (their
`conversation_summaries`, `conversation_steps` and `conversation_variants` rows are
replaced: one row per session, `insights/conversation_summary.sessions`), inside the
caller's transaction. Idempotent: the same events give the same rows, so events added
twice or late change nothing or correct the rows; a session once exposed to an A/B
experiment stays exposed (its experiment may since have left bot/data/experiments.yml).
The dashboard reads these rows instead of the events, so its queries stay fast with
millions of events. Holds no text; raises SQLAlchemy errors.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Collection, Mapping
from typing import Any

from sqlalchemy import delete, select
from sqlalchemy.engine import Connection

from insights.conversation_summary import Event, Summary, sessions
from lotse.shared_tables import events as events_table
from lotse.shared_tables import steps, summaries, variants

CHUNK = 500  # conversation ids per IN (...) list


def refresh(
    connection: Connection, conversation_ids: Collection[str], responses: Mapping[str, str]
) -> int:
    """Recomputes the summaries of `conversation_ids`; returns how many were written."""
    ids = sorted(set(conversation_ids))
    written = 0
    for start in range(0, len(ids), CHUNK):
        chunk = ids[start : start + CHUNK]
        rows = connection.execute(
            select(
                events_table.c.conversation_id,
                events_table.c.type_name,
                events_table.c.at,
                events_table.c.name,
                events_table.c.channel,
            )
            .where(events_table.c.conversation_id.in_(chunk))
            .order_by(events_table.c.conversation_id, events_table.c.at, events_table.c.id)
        ).all()
        grouped: dict[str, list[Event]] = defaultdict(list)
        for row in rows:
            grouped[row.conversation_id].append(Event(row.type_name, row.at, row.name, row.channel))
        found = [s for cid, events in grouped.items() for s in sessions(cid, events, responses)]
        _replace(connection, chunk, found)
        written += len(found)
    return written


def _replace(connection: Connection, chunk: list[str], found: list[Summary]) -> None:
    exposed = set(
        connection.execute(
            select(variants.c.conversation_id, variants.c.started_at, variants.c.experiment)
            .where(variants.c.conversation_id.in_(chunk), variants.c.exposed)
        ).all()
    )  # fmt: skip
    for table in (steps, variants, summaries):
        connection.execute(delete(table).where(table.c.conversation_id.in_(chunk)))
    if not found:
        return
    connection.execute(summaries.insert(), [_summary_row(s) for s in found])
    step_rows = [_step_row(s, step) for s in found for step in s.steps.values()]
    if step_rows:
        connection.execute(steps.insert(), step_rows)
    variant_rows = [
        {**_conversation_of(s), "experiment": experiment[:64], "variant": variant[:64],
         "exposed": experiment in s.exposed
                    or (s.conversation_id, s.started_at, experiment[:64]) in exposed}
        for s in found
        for experiment, variant in s.variants.items()
    ]  # fmt: skip
    if variant_rows:
        connection.execute(variants.insert(), variant_rows)


def _summary_row(s: Summary) -> dict[str, Any]:
    return {
        "conversation_id": s.conversation_id,
        "started_at": s.started_at,
        "last_at": s.last_at,
        "channel": s.channel[:32],
        "language": s.language[:8],
        "user_messages": s.user_messages,
        "engaged": s.engaged,
        "fallbacks": s.fallbacks,
        "unanswered": s.unanswered,
        "handoff": s.handoff,
        "rating": s.rating,
        "rating_after_handoff": s.rating_after_handoff,
    }


def _conversation_of(s: Summary) -> dict[str, Any]:
    """What the steps and variants rows repeat of their conversation (for filtering)."""
    return {
        "conversation_id": s.conversation_id,
        "started_at": s.started_at,
        "channel": s.channel[:32],
        "language": s.language[:8],
    }


def _step_row(s: Summary, step: Any) -> dict[str, Any]:
    return {
        **_conversation_of(s),
        "question": step.question[:64],
        "asked": step.asked,
        "answered": step.answered,
        "declined": step.declined,
        "dropped": step.dropped,
    }


def rename(connection: Connection, old: str, new: str) -> None:
    """An erasure's new id for a conversation (the old one may hold a phone number)."""
    for table in (steps, variants, summaries):
        connection.execute(
            table.update().where(table.c.conversation_id == old).values(conversation_id=new)
        )
