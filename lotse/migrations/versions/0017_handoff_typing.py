"""Who is typing in a handoff (issue 22, item 4): `handoff_typing`.

Revision ID: 0017
Revises: 0016
Created: 2026-12-07

One row per handoff and side (visitor or agent) at most, replaced on every write: the
moment the typing counts until, and when it was written. Its increasing id is the
change feed the website's long polls and the console's event stream wake on. No
personal data (no text; the handoff id only).
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0017"
down_revision = "0016"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "handoff_typing",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("handoff_id", sa.Integer(), nullable=False),
        sa.Column("side", sa.String(length=8), nullable=False),
        sa.Column("until", sa.DateTime(timezone=True), nullable=False),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_handoff_typing")),
    )
    op.create_index("ix_handoff_typing_handoff_id", "handoff_typing", ["handoff_id"])


def downgrade() -> None:
    op.drop_index("ix_handoff_typing_handoff_id", table_name="handoff_typing")
    op.drop_table("handoff_typing")
