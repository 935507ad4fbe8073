"""Insights: one summary row per conversation, its questions and A/B variants, and the
questions the bot could not answer (issue 8).

Revision ID: 0011
Revises: 0010
Created: 2026-11-26

`conversation_summaries` (one row per Rasa session: a visit), `conversation_steps` and
`conversation_variants` are derived from the conversation event log
(`insights/summary_store.py`) and hold no text.
`unanswered_questions` holds what a visitor asked that the bot could not answer; its
`text` is kept only while the visitor's consent is on record (else NULL, counted only),
and is erased with the conversation.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0011"
down_revision = "0010"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "conversation_summaries",
        sa.Column("conversation_id", sa.String(length=255), nullable=False),
        sa.Column("started_at", sa.Float(), nullable=False),
        sa.Column("last_at", sa.Float(), nullable=False),
        sa.Column("channel", sa.String(length=32), nullable=False),
        sa.Column("language", sa.String(length=8), nullable=False),
        sa.Column("user_messages", sa.Integer(), nullable=False),
        sa.Column("engaged", sa.Boolean(), nullable=False),
        sa.Column("fallbacks", sa.Integer(), nullable=False),
        sa.Column("unanswered", sa.Integer(), nullable=False),
        sa.Column("handoff", sa.Boolean(), nullable=False),
        sa.Column("rating", sa.Integer()),
        sa.Column("rating_after_handoff", sa.Integer()),
        sa.PrimaryKeyConstraint(
            "conversation_id", "started_at", name=op.f("pk_conversation_summaries")
        ),
    )
    op.create_index(
        "ix_conversation_summaries_started", "conversation_summaries", ["started_at"]
    )
    op.create_table(
        "conversation_steps",
        *_session_columns(),
        sa.Column("question", sa.String(length=64), nullable=False),
        sa.Column("asked", sa.Boolean(), nullable=False),
        sa.Column("answered", sa.Boolean(), nullable=False),
        sa.Column("declined", sa.Boolean(), nullable=False),
        sa.Column("dropped", sa.Boolean(), nullable=False),
        sa.PrimaryKeyConstraint(
            "conversation_id", "started_at", "question", name=op.f("pk_conversation_steps")
        ),
    )
    op.create_table(
        "conversation_variants",
        *_session_columns(),
        sa.Column("experiment", sa.String(length=64), nullable=False),
        sa.Column("variant", sa.String(length=64), nullable=False),
        sa.Column("exposed", sa.Boolean(), nullable=False),
        sa.PrimaryKeyConstraint(
            "conversation_id", "started_at", "experiment", name=op.f("pk_conversation_variants")
        ),
    )
    op.create_index("ix_conversation_steps_started", "conversation_steps", ["started_at"])
    op.create_index("ix_conversation_variants_started", "conversation_variants", ["started_at"])
    op.create_table(
        "unanswered_questions",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("conversation_id", sa.String(length=255), nullable=False),
        sa.Column("at", sa.Float(), nullable=False),
        sa.Column("kind", sa.String(length=32), nullable=False),
        sa.Column("text", sa.Text()),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_unanswered_questions")),
    )
    op.create_index("ix_unanswered_questions_at", "unanswered_questions", ["at"])
    op.create_index(
        "ix_unanswered_questions_conversation", "unanswered_questions", ["conversation_id"]
    )


def _session_columns() -> list[sa.Column]:
    """The session's conversation and start (the key), channel and language, repeated
    on its steps and variants so the dashboard filters them without a join."""
    return [
        sa.Column("conversation_id", sa.String(length=255), nullable=False),
        sa.Column("started_at", sa.Float(), nullable=False),
        sa.Column("channel", sa.String(length=32), nullable=False),
        sa.Column("language", sa.String(length=8), nullable=False),
    ]


def downgrade() -> None:
    op.drop_table("unanswered_questions")
    op.drop_index("ix_conversation_variants_started", table_name="conversation_variants")
    op.drop_table("conversation_variants")
    op.drop_index("ix_conversation_steps_started", table_name="conversation_steps")
    op.drop_table("conversation_steps")
    op.drop_index("ix_conversation_summaries_started", table_name="conversation_summaries")
    op.drop_table("conversation_summaries")
