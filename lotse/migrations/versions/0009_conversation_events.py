"""Conversation events for analytics, from Rasa's event broker (issue 7).

Revision ID: 0009
Revises: 0008
Created: 2026-11-26

`conversation_events` holds one row per Rasa event of a conversation: its type, time,
the intent or action name, the intent's confidence and the channel; never a text or a
slot value. The consumer (`bot/event_consumer.py`) writes them from RabbitMQ and
fills gaps from the tracker store; the unique key makes both writes idempotent.
`event_log_cursors` remembers how far the tracker store was read. Personal data: a
messenger conversation id may hold a phone number (renamed on erasure).
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0009"
down_revision = "0008"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "conversation_events",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("conversation_id", sa.String(length=255), nullable=False),
        sa.Column("type_name", sa.String(length=32), nullable=False),
        sa.Column("at", sa.Float(), nullable=False),
        sa.Column("name", sa.String(length=128), nullable=False),
        sa.Column("confidence", sa.Float(), nullable=True),
        sa.Column("channel", sa.String(length=32), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_conversation_events")),
        sa.UniqueConstraint(
            "conversation_id", "type_name", "at", "name", name=op.f("uq_conversation_events_key")
        ),
    )
    op.create_index("ix_conversation_events_at", "conversation_events", ["at"])
    op.create_table(
        "event_log_cursors",
        sa.Column("source", sa.String(length=64), nullable=False),
        sa.Column("last_id", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("source", name=op.f("pk_event_log_cursors")),
    )


def downgrade() -> None:
    op.drop_table("event_log_cursors")
    op.drop_index("ix_conversation_events_at", "conversation_events")
    op.drop_table("conversation_events")
