"""Events per connector and what Lotse knows of a contact at each CRM (issue 5).

Revision ID: 0005
Revises: 0004
Created: 2026-11-26

`crm_events.connector` names the configured connector an event is for (events that
were queued before, for the single connector there was, become "default");
`crm_events.lease` the token of the claim holding an event (only it may mark it);
`crm_links` keeps the remote record id and the values last written, per contact and
connector. Personal data: `crm_links.sent`.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column(
        "crm_events",
        sa.Column("connector", sa.String(length=32), nullable=False, server_default="default"),
    )
    op.add_column("crm_events", sa.Column("lease", sa.String(length=32), nullable=True))
    op.create_index(
        "ix_crm_events_pending", "crm_events", ["connector", "contact_id", "delivered_at"]
    )
    due = sa.text("delivered_at IS NULL AND dead_at IS NULL")
    op.create_index("ix_crm_events_due", "crm_events", ["connector", "id"],
                    sqlite_where=due, postgresql_where=due)  # fmt: skip
    op.create_table(
        "crm_links",
        sa.Column("contact_id", sa.Integer(), nullable=False),
        sa.Column("connector", sa.String(length=32), nullable=False),
        sa.Column("remote_id", sa.String(length=64), nullable=True),
        sa.Column("sent", sa.JSON(), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("contact_id", "connector", name=op.f("pk_crm_links")),
    )


def downgrade() -> None:
    op.drop_table("crm_links")
    op.drop_index("ix_crm_events_due", table_name="crm_events")
    op.drop_index("ix_crm_events_pending", table_name="crm_events")
    with op.batch_alter_table("crm_events") as batch:
        batch.drop_column("lease")
        batch.drop_column("connector")
