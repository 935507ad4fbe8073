"""The insight tables (migration 0011), as SQLAlchemy Core tables."""

from __future__ import annotations

from sqlalchemy import Boolean, Column, Float, Index, Integer, MetaData, String, Table, Text

metadata = MetaData()


def _conversation_columns() -> list[Column]:
    """The conversation's start, channel and language, repeated on its steps and
    variants so the dashboard filters them without a join."""
    return [
        Column("started_at", Float, nullable=False),
        Column("channel", String(32), nullable=False),
        Column("language", String(8), nullable=False),
    ]


summaries = Table(
    "conversation_summaries",
    metadata,
    Column("conversation_id", String(255), primary_key=True),
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
    Index("ix_conversation_summaries_started", "started_at"),
)
steps = Table(
    "conversation_steps",
    metadata,
    Column("conversation_id", String(255), primary_key=True),
    Column("question", String(64), primary_key=True),
    *_conversation_columns(),
    Column("asked", Boolean, nullable=False),
    Column("answered", Boolean, nullable=False),
    Column("declined", Boolean, nullable=False),
    Column("dropped", Boolean, nullable=False),
    Index("ix_conversation_steps_started", "started_at"),
)
variants = Table(
    "conversation_variants",
    metadata,
    Column("conversation_id", String(255), primary_key=True),
    Column("experiment", String(64), primary_key=True),
    *_conversation_columns(),
    Column("variant", String(64), nullable=False),
    Column("exposed", Boolean, nullable=False),
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
