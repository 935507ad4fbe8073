"""The console's language per staff login (issue 22).

Revision ID: 0015
Revises: 0014
Created: 2026-12-07

`handoff_users.language` is "de", "en" or NULL (the browser's language). Personal
data: none beyond the login it belongs to.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0015"
down_revision = "0014"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column("handoff_users", sa.Column("language", sa.String(8), nullable=True))


def downgrade() -> None:
    # SQLite (3.35 and later) drops an unindexed column in place.
    op.drop_column("handoff_users", "language")
