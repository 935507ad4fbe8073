"""The delivery outbox for external CRMs: `crm_events` (issue 5).

Revision ID: 0004
Revises: 0003
Created: 2026-11-25

Generated from `CrmEventRow` (alembic autogenerate), checked by hand; a test compares
the migrated schema with the models. Personal data: `payload` (what the CRM receives).
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None


def _at(name: str, nullable: bool = False) -> sa.Column:
    return sa.Column(name, sa.DateTime(timezone=True), nullable=nullable)


def upgrade() -> None:
    op.create_table(
        "crm_events",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("event_id", sa.String(length=64), nullable=False),
        sa.Column("contact_id", sa.Integer(), nullable=False),
        sa.Column("kind", sa.String(length=64), nullable=False),
        sa.Column("payload", sa.JSON(), nullable=False),
        _at("occurred_at"),
        sa.Column("attempts", sa.Integer(), nullable=False),
        _at("next_attempt_at"),
        _at("locked_until", nullable=True),
        _at("delivered_at", nullable=True),
        _at("dead_at", nullable=True),
        sa.Column("last_error", sa.String(length=200), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_crm_events")),
    )
    op.create_index(op.f("ix_crm_events_contact_id"), "crm_events", ["contact_id"], unique=False)
    op.create_index("uq_crm_events_event_id", "crm_events", ["event_id"], unique=True)


def downgrade() -> None:
    op.drop_table("crm_events")
