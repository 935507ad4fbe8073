"""The insight tables (migrations 0009 and 0011), as SQLAlchemy Core tables.

One summary row per Rasa session (a visit) of a conversation, keyed by the
conversation id and the session's start; its qualification steps and A/B variants
repeat the session's start, channel and language so the dashboard filters them
without a join. `unanswered_questions` holds what visitors asked the bot could not
answer (`insights/unanswered.py`).
"""

from __future__ import annotations

from sqlalchemy import (
    Boolean,
    Column,
    Float,
    Index,
    Integer,
    MetaData,
    PrimaryKeyConstraint,
    String,
    Table,
    Text,
    UniqueConstraint,
)

metadata = MetaData()
NAME_CHARS = 128

# The conversation event log (`insights/event_log.py` writes it, migration 0009): what the
# summaries below are computed from. An intent, action or slot name per event, never
# a message's text.
events = Table(
    "conversation_events",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("conversation_id", String(255), nullable=False),
    Column("type_name", String(32), nullable=False),
    Column("at", Float, nullable=False),
    Column("name", String(NAME_CHARS), nullable=False),
    Column("confidence", Float),
    Column("channel", String(32)),
    UniqueConstraint(
        "conversation_id", "type_name", "at", "name", name="uq_conversation_events_key"
    ),
    Index("ix_conversation_events_at", "at"),
)


def _session_columns() -> list[Column]:
    return [
        Column("conversation_id", String(255), nullable=False),
        Column("started_at", Float, nullable=False),
        Column("channel", String(32), nullable=False),
        Column("language", String(8), nullable=False),
    ]


summaries = Table(
    "conversation_summaries",
    metadata,
    Column("conversation_id", String(255), nullable=False),
    Column("started_at", Float, nullable=False),
    Column("last_at", Float, nullable=False),
    Column("channel", String(32), nullable=False),
    Column("language", String(8), nullable=False),
    Column("user_messages", Integer, nullable=False),
    Column("engaged", Boolean, nullable=False),
    Column("fallbacks", Integer, nullable=False),
    Column("unanswered", Integer, nullable=False),
    Column("handoff", Boolean, nullable=False),
    Column("rating", Integer),
    Column("rating_after_handoff", Integer),
    PrimaryKeyConstraint("conversation_id", "started_at", name="pk_conversation_summaries"),
    Index("ix_conversation_summaries_started", "started_at"),
)
steps = Table(
    "conversation_steps",
    metadata,
    *_session_columns(),
    Column("question", String(64), nullable=False),
    Column("asked", Boolean, nullable=False),
    Column("answered", Boolean, nullable=False),
    Column("declined", Boolean, nullable=False),
    Column("dropped", Boolean, nullable=False),
    PrimaryKeyConstraint("conversation_id", "started_at", "question", name="pk_conversation_steps"),
    Index("ix_conversation_steps_started", "started_at"),
)
variants = Table(
    "conversation_variants",
    metadata,
    *_session_columns(),
    Column("experiment", String(64), nullable=False),
    Column("variant", String(64), nullable=False),
    Column("exposed", Boolean, nullable=False),
    PrimaryKeyConstraint(
        "conversation_id", "started_at", "experiment", name="pk_conversation_variants"
    ),
    Index("ix_conversation_variants_started", "started_at"),
)
unanswered = Table(
    "unanswered_questions",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("conversation_id", String(255), nullable=False),
    Column("at", Float, nullable=False),
    Column("kind", String(32), nullable=False),
    Column("text", Text),
    Index("ix_unanswered_questions_at", "at"),
    Index("ix_unanswered_questions_conversation", "conversation_id"),
)
