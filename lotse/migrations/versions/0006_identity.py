"""One lead per person across channels: contacts found by phone, and every merge recorded.

Revision ID: 0006
Revises: 0005
Created: 2026-11-26

`crm_contacts.phone_normalised` is the E.164 number a contact was identified by (a
WhatsApp conversation's number, or one the person typed), indexed so that a contact
typing it elsewhere finds the one that has it. `crm_merges` records each merge of one
contact into another: why ("email" or "phone"), which conversation's answer caused it,
and when. Personal data: `crm_contacts.phone_normalised`.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None


def _contact_id(name: str) -> sa.Column:
    return sa.Column(name, sa.Integer(), nullable=False)


def upgrade() -> None:
    op.add_column("crm_contacts", sa.Column("phone_normalised", sa.String(32), nullable=True))
    op.create_index("ix_crm_contacts_phone_normalised", "crm_contacts", ["phone_normalised"])
    op.create_table(
        "crm_merges",
        sa.Column("id", sa.Integer(), nullable=False),
        _contact_id("source_contact_id"),
        _contact_id("target_contact_id"),
        sa.Column("reason", sa.String(16), nullable=False),
        sa.Column("conversation_id", sa.String(128), nullable=True),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_crm_merges"),
        sa.ForeignKeyConstraint(
            ["source_contact_id"], ["crm_contacts.id"], name="fk_crm_merges_source_contact_id"
        ),
        sa.ForeignKeyConstraint(
            ["target_contact_id"], ["crm_contacts.id"], name="fk_crm_merges_target_contact_id"
        ),
    )
    op.create_index("ix_crm_merges_source_contact_id", "crm_merges", ["source_contact_id"])
    op.create_index("ix_crm_merges_target_contact_id", "crm_merges", ["target_contact_id"])


def downgrade() -> None:
    op.drop_table("crm_merges")
    op.drop_index("ix_crm_contacts_phone_normalised", table_name="crm_contacts")
    # Not in a batch: SQLite (3.35 and later) drops an unindexed column in place, where
    # a batch would copy crm_contacts, which the other tables' foreign keys refer to.
    op.drop_column("crm_contacts", "phone_normalised")
