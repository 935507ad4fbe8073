"""Callbacks and meetings: task assignees, booked meetings and the notification outbox.

Revision ID: 0002
Revises: 0001
Created: 2025-03-01

Hand-written, like 0001. `crm_sales_tasks.assignee` is nullable, so existing tasks
stay as they are (assigned to the team). `crm_outbox` holds notifications until the
dispatcher has sent them (personal data: recipients, subject, body, invitation).
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None

PENDING = sa.text("sent_at IS NULL AND failed_at IS NULL")


def _at(name: str, nullable: bool = False) -> sa.Column:
    return sa.Column(name, sa.DateTime(timezone=True), nullable=nullable)


def _meetings() -> None:
    op.create_table(
        "crm_meetings",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("contact_id", sa.Integer(), nullable=False),
        sa.Column("staff_id", sa.String(64), nullable=False),
        _at("start_at"),
        _at("end_at"),
        sa.Column("title", sa.String(200), nullable=False),
        sa.Column("status", sa.String(16), nullable=False),
        _at("created_at"),
        sa.PrimaryKeyConstraint("id", name="pk_crm_meetings"),
        sa.ForeignKeyConstraint(
            ["contact_id"], ["crm_contacts.id"], name="fk_crm_meetings_contact_id"
        ),
    )
    op.create_index("ix_crm_meetings_contact_id", "crm_meetings", ["contact_id"])
    op.create_index("ix_crm_meetings_staff_id_start_at", "crm_meetings", ["staff_id", "start_at"])


def _outbox() -> None:
    op.create_table(
        "crm_outbox",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("channel", sa.String(16), nullable=False),
        sa.Column("recipients", sa.JSON(), nullable=False),
        sa.Column("subject", sa.Text(), nullable=False),
        sa.Column("body", sa.Text(), nullable=False),
        sa.Column("ics", sa.Text()),
        _at("created_at"),
        sa.Column("attempts", sa.Integer(), nullable=False),
        _at("next_attempt_at"),
        _at("locked_until", nullable=True),
        _at("sent_at", nullable=True),
        _at("failed_at", nullable=True),
        sa.Column("last_error", sa.String(200)),
        sa.Column("contact_id", sa.Integer()),
        sa.PrimaryKeyConstraint("id", name="pk_crm_outbox"),
        sa.ForeignKeyConstraint(
            ["contact_id"], ["crm_contacts.id"], name="fk_crm_outbox_contact_id"
        ),
    )
    op.create_index("ix_crm_outbox_contact_id", "crm_outbox", ["contact_id"])
    op.create_index(
        "ix_crm_outbox_pending",
        "crm_outbox",
        ["next_attempt_at"],
        sqlite_where=PENDING,
        postgresql_where=PENDING,
    )


def upgrade() -> None:
    op.add_column("crm_sales_tasks", sa.Column("assignee", sa.String(64)))
    _meetings()
    _outbox()


def downgrade() -> None:
    op.drop_table("crm_outbox")
    op.drop_table("crm_meetings")
    with op.batch_alter_table("crm_sales_tasks") as batch:  # SQLite: copies the table
        batch.drop_column("assignee")
