"""Email addresses claimed in a conversation and proven by a code (issue 18).

Revision ID: 0012
Revises: 0011
Created: 2026-12-06

`crm_identity_claims` holds an address typed in a chat until the code sent to it comes
back (`crm_adapter/store/claims.py`); `crm_consents.confirmed_at` records when the
address given with a consent was proven (double opt-in). Personal data: the claim's
email columns, deleted with the claim.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0012"
down_revision = "0011"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "crm_identity_claims",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("contact_id", sa.Integer(), nullable=False),
        sa.Column("holder_id", sa.Integer(), nullable=True),
        sa.Column("email", sa.String(length=254), nullable=False),
        sa.Column("email_normalised", sa.String(length=254), nullable=False),
        sa.Column("freemail", sa.Boolean(), nullable=False),
        sa.Column("salt", sa.String(length=32), nullable=False),
        sa.Column("code_hash", sa.String(length=64), nullable=False),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("conversation_id", sa.String(length=128), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("expires_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["contact_id"], ["crm_contacts.id"],
                                name="fk_crm_identity_claims_contact_id"),
        sa.ForeignKeyConstraint(["holder_id"], ["crm_contacts.id"],
                                name="fk_crm_identity_claims_holder_id"),
        sa.PrimaryKeyConstraint("id", name="pk_crm_identity_claims"),
    )  # fmt: skip
    op.create_index("ix_crm_identity_claims_contact_id", "crm_identity_claims",
                    ["contact_id"])  # fmt: skip
    confirmed = sa.Column("confirmed_at", sa.DateTime(timezone=True), nullable=True)
    op.add_column("crm_consents", confirmed)


def downgrade() -> None:
    op.drop_column("crm_consents", "confirmed_at")
    op.drop_index("ix_crm_identity_claims_contact_id", table_name="crm_identity_claims")
    op.drop_table("crm_identity_claims")
