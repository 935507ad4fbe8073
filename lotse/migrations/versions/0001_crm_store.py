"""The CRM store: contacts, their companies, visits, answers, consents and events.

Revision ID: 0001
Revises:
Created: 2025-01-01

Hand-written: explicit operations, no autogenerate at run time. Datetimes are
`timestamp with time zone` (UTC) on PostgreSQL, UTC text on SQLite.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None


def _at(name: str, nullable: bool = False) -> sa.Column:
    return sa.Column(name, sa.DateTime(timezone=True), nullable=nullable)


def _id(table: str) -> tuple[sa.Column, sa.PrimaryKeyConstraint]:
    return sa.Column("id", sa.Integer(), nullable=False), sa.PrimaryKeyConstraint(
        "id", name=f"pk_{table}"
    )


def _owned(table: str, *columns: sa.Column) -> None:
    """A table of rows that belong to a contact, with its contact_id index."""
    id_column, primary_key = _id(table)
    op.create_table(
        table,
        id_column,
        sa.Column("contact_id", sa.Integer(), nullable=False),
        *columns,
        primary_key,
        sa.ForeignKeyConstraint(["contact_id"], ["crm_contacts.id"], name=f"fk_{table}_contact_id"),
    )
    op.create_index(f"ix_{table}_contact_id", table, ["contact_id"])


def _companies() -> None:
    id_column, primary_key = _id("crm_companies")
    op.create_table(
        "crm_companies",
        id_column,
        sa.Column("name", sa.String(200)),
        sa.Column("legal_form", sa.String(64)),
        sa.Column("employees", sa.Integer()),
        sa.Column("industry", sa.String(100)),
        sa.Column("nace", sa.String(16)),
        sa.Column("country", sa.String(64)),
        sa.Column("postal_code", sa.String(16)),
        _at("updated_at"),
        primary_key,
    )


def _contacts() -> None:
    id_column, primary_key = _id("crm_contacts")
    op.create_table(
        "crm_contacts",
        id_column,
        sa.Column("email", sa.String(254)),
        sa.Column("email_normalised", sa.String(254)),
        sa.Column("freemail", sa.Boolean(), nullable=False),
        sa.Column("name", sa.String(200)),
        sa.Column("phone", sa.String(64)),
        sa.Column("stage", sa.String(32)),
        sa.Column("accepted", sa.Boolean(), nullable=False),
        sa.Column("rejected", sa.Boolean(), nullable=False),
        sa.Column("company_id", sa.Integer()),
        sa.Column("merged_into_id", sa.Integer()),
        _at("created_at"),
        _at("updated_at"),
        primary_key,
        sa.ForeignKeyConstraint(
            ["company_id"], ["crm_companies.id"], name="fk_crm_contacts_company_id"
        ),
        sa.ForeignKeyConstraint(
            ["merged_into_id"], ["crm_contacts.id"], name="fk_crm_contacts_merged_into_id"
        ),
    )
    op.create_index(
        "uq_crm_contacts_email_normalised", "crm_contacts", ["email_normalised"], unique=True
    )
    op.create_index("ix_crm_contacts_stage", "crm_contacts", ["stage"])
    op.create_index("ix_crm_contacts_merged_into_id", "crm_contacts", ["merged_into_id"])


def _visits() -> None:
    _owned(
        "crm_visitors",
        sa.Column("visitor_id", sa.String(128), nullable=False),
        _at("first_seen_at"),
        _at("last_seen_at"),
    )
    op.create_index("uq_crm_visitors_visitor_id", "crm_visitors", ["visitor_id"], unique=True)
    _owned(
        "crm_conversations",
        sa.Column("conversation_id", sa.String(128), nullable=False),
        sa.Column("channel", sa.String(32), nullable=False),
        sa.Column("language", sa.String(8), nullable=False),
        _at("started_at"),
        _at("last_seen_at"),
    )
    op.create_index(
        "uq_crm_conversations_conversation_id",
        "crm_conversations",
        ["conversation_id"],
        unique=True,
    )


def _answers_and_consents() -> None:
    _owned(
        "crm_answers",
        sa.Column("conversation_id", sa.String(128)),
        sa.Column("attribute", sa.String(64), nullable=False),
        sa.Column("value", sa.JSON()),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("source", sa.String(16), nullable=False),
        _at("created_at"),
        _at("superseded_at", nullable=True),
    )
    current = sa.text("superseded_at IS NULL")
    op.create_index(
        "uq_crm_answers_current",
        "crm_answers",
        ["contact_id", "attribute"],
        unique=True,
        sqlite_where=current,
        postgresql_where=current,
    )
    _owned(
        "crm_consents",
        sa.Column("purpose", sa.String(64), nullable=False),
        sa.Column("text_version", sa.String(32), nullable=False),
        sa.Column("wording", sa.Text(), nullable=False),
        sa.Column("language", sa.String(8), nullable=False),
        sa.Column("channel", sa.String(32), nullable=False),
        _at("given_at"),
        _at("withdrawn_at", nullable=True),
    )


def _events() -> None:
    _owned(
        "crm_interest_events",
        sa.Column("kind", sa.String(64), nullable=False),
        _at("at"),
        sa.Column("conversation_id", sa.String(128)),
    )
    _owned(
        "crm_scoring_events",
        sa.Column("axis", sa.String(16), nullable=False),
        sa.Column("cause", sa.Text(), nullable=False),
        sa.Column("change", sa.Float(), nullable=False),
        sa.Column("value_after", sa.Integer()),
        _at("at"),
    )
    _owned(
        "crm_lifecycle_history",
        sa.Column("old_stage", sa.String(32)),
        sa.Column("new_stage", sa.String(32), nullable=False),
        sa.Column("cause", sa.Text(), nullable=False),
        sa.Column("actor", sa.String(64), nullable=False),
        _at("at"),
    )


def _sales() -> None:
    _owned(
        "crm_sales_tasks",
        sa.Column("kind", sa.String(32), nullable=False),
        sa.Column("note", sa.Text(), nullable=False),
        _at("due_at", nullable=True),
        sa.Column("status", sa.String(16), nullable=False),
        _at("created_at"),
    )
    _owned(
        "crm_feedback",
        sa.Column("decision", sa.String(16), nullable=False),
        sa.Column("reason", sa.Text(), nullable=False),
        sa.Column("fit", sa.Integer()),
        sa.Column("interest", sa.Integer(), nullable=False),
        sa.Column("actor", sa.String(64), nullable=False),
        _at("at"),
    )


TABLES = (
    "crm_feedback",
    "crm_sales_tasks",
    "crm_lifecycle_history",
    "crm_scoring_events",
    "crm_interest_events",
    "crm_consents",
    "crm_answers",
    "crm_conversations",
    "crm_visitors",
    "crm_contacts",
    "crm_companies",
)


def upgrade() -> None:
    _companies()
    _contacts()
    _visits()
    _answers_and_consents()
    _events()
    _sales()


def downgrade() -> None:
    for table in TABLES:  # dependants first; their indexes go with them
        op.drop_table(table)
