"""Messenger channels: where to reach a conversation, and which messages went there (issue 6).

Revision ID: 0007
Revises: 0006
Created: 2026-11-26

`channel_addresses` holds, per conversation of a messenger channel, the platform's
address for replies (a chat id, a page-scoped id, a phone number, a Slack channel, a
Bot Framework conversation and service URL) and the menu of numbered choices the bot
showed last. `channel_deliveries` records each handoff message (staff reply, notice)
relayed to a messenger: its primary key is the claim, so of several relays only one
sends a message. Personal data: `channel_addresses.address` (a WhatsApp number).
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "channel_addresses",
        sa.Column("conversation_id", sa.String(length=128), nullable=False),
        sa.Column("channel", sa.String(length=32), nullable=False),
        sa.Column("address", sa.JSON(), nullable=False),
        sa.Column("menu", sa.JSON(), nullable=True),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("conversation_id", name=op.f("pk_channel_addresses")),
    )
    op.create_table(
        "channel_deliveries",
        sa.Column("message_id", sa.Integer(), nullable=False),
        sa.Column("conversation_id", sa.String(length=128), nullable=False),
        sa.Column("claimed_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("sent_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("error", sa.String(length=200), nullable=True),
        sa.PrimaryKeyConstraint("message_id", name=op.f("pk_channel_deliveries")),
    )


def downgrade() -> None:
    op.drop_table("channel_deliveries")
    op.drop_table("channel_addresses")
