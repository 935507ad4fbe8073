"""Messenger events kept before the bot answers them (issue 23): `channel_inbox`.

Revision ID: 0016
Revises: 0015
Created: 2026-12-07

Each message a messenger webhook gets is stored with the platform's id of the event
(unique per channel: an event sent again is recognised) before the platform is
answered; a worker runs the bot's turn for it afterwards, in order per conversation.
Personal data: `message` (what the person wrote, their platform address).
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0016"
down_revision = "0015"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "channel_inbox",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("channel", sa.String(length=32), nullable=False),
        sa.Column("event_key", sa.String(length=200), nullable=False),
        sa.Column("conversation_id", sa.String(length=128), nullable=False),
        sa.Column("message", sa.JSON(), nullable=False),
        sa.Column("received_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("claimed_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("done_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("outcome", sa.String(length=200), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_channel_inbox")),
        sa.UniqueConstraint("channel", "event_key", name="uq_channel_inbox_event"),
    )
    op.create_index("ix_channel_inbox_conversation_id", "channel_inbox", ["conversation_id"])
    op.create_index("ix_channel_inbox_done_at", "channel_inbox", ["done_at"])


def downgrade() -> None:
    op.drop_index("ix_channel_inbox_done_at", table_name="channel_inbox")
    op.drop_index("ix_channel_inbox_conversation_id", table_name="channel_inbox")
    op.drop_table("channel_inbox")
