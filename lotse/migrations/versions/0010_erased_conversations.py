"""Marks of recently erased conversations (issue 7).

Revision ID: 0010
Revises: 0009
Created: 2026-11-26

`erased_conversations` holds, for a short while after an erasure, a keyed hash of each
erased conversation id and when it was erased: a turn that was running during the
erasure must not save the conversation back, and events still queued in the broker
must not reach the event log (`conversations/erased.py`). No personal data: the
id itself is not stored.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0010"
down_revision = "0009"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "erased_conversations",
        sa.Column("key", sa.String(length=64), nullable=False),
        sa.Column("erased_at", sa.Float(), nullable=False),
        sa.PrimaryKeyConstraint("key", name=op.f("pk_erased_conversations")),
    )


def downgrade() -> None:
    op.drop_table("erased_conversations")
