"""Handoffs and staff logins: the tables of the handoff store and of the console's auth.

Revision ID: 0003
Revises: 0002
Created: 2026-11-25

Generated from the table definitions in `handoff/store.py` and `handoff/auth.py`
(alembic autogenerate), then checked by hand; a test compares the migrated schema with
them. Personal data: `handoff_messages.text` and `handoff_notes.text` (what visitors
and staff wrote); the staff's logins hold only hashes of passwords and session tokens.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None

TABLES = (
    "handoff_events",
    "handoff_login_attempts",
    "handoff_messages",
    "handoff_notes",
    "handoff_presence",
    "handoff_round_robin",
    "handoff_users",
    "handoffs",
    "handoff_sessions",
)


def upgrade() -> None:
    op.create_table(
        "handoff_events",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("conversation_id", sa.String(length=128), nullable=False),
        sa.Column("handoff_id", sa.Integer(), nullable=True),
        sa.Column("kind", sa.String(length=32), nullable=False),
        sa.Column("actor", sa.String(length=64), nullable=True),
        sa.Column("detail", sa.JSON(), nullable=True),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index(
        op.f("ix_handoff_events_handoff_id"), "handoff_events", ["handoff_id"], unique=False
    )
    op.create_table(
        "handoff_login_attempts",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("username", sa.String(length=64), nullable=False),
        sa.Column("client", sa.String(length=128), nullable=False),
        sa.Column("attempted_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index(
        op.f("ix_handoff_login_attempts_attempted_at"),
        "handoff_login_attempts",
        ["attempted_at"],
        unique=False,
    )
    op.create_index(
        "ix_handoff_login_attempts_client_at",
        "handoff_login_attempts",
        ["client", "attempted_at"],
        unique=False,
    )
    op.create_index(
        "ix_handoff_login_attempts_username_at",
        "handoff_login_attempts",
        ["username", "attempted_at"],
        unique=False,
    )
    op.create_table(
        "handoff_messages",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("conversation_id", sa.String(length=128), nullable=False),
        sa.Column("handoff_id", sa.Integer(), nullable=True),
        sa.Column("sender", sa.String(length=16), nullable=False),
        sa.Column("author", sa.String(length=64), nullable=True),
        sa.Column("author_label", sa.String(length=128), nullable=True),
        sa.Column("text", sa.Text(), nullable=False),
        sa.Column("buttons", sa.JSON(), nullable=True),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index(
        op.f("ix_handoff_messages_conversation_id"),
        "handoff_messages",
        ["conversation_id"],
        unique=False,
    )
    op.create_table(
        "handoff_notes",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("handoff_id", sa.Integer(), nullable=False),
        sa.Column("author", sa.String(length=64), nullable=False),
        sa.Column("text", sa.Text(), nullable=False),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index(
        op.f("ix_handoff_notes_handoff_id"), "handoff_notes", ["handoff_id"], unique=False
    )
    op.create_table(
        "handoff_presence",
        sa.Column("staff_id", sa.String(length=64), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("last_seen", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("staff_id"),
    )
    op.create_table(
        "handoff_round_robin",
        sa.Column("rule", sa.String(length=64), nullable=False),
        sa.Column("last_staff", sa.String(length=64), nullable=False),
        sa.PrimaryKeyConstraint("rule"),
    )
    op.create_table(
        "handoff_users",
        sa.Column("username", sa.String(length=64), nullable=False),
        sa.Column("password_hash", sa.String(length=200), nullable=False),
        sa.Column("role", sa.String(length=16), nullable=False),
        sa.Column("staff_id", sa.String(length=64), nullable=True),
        sa.Column("display_name", sa.String(length=100), nullable=False),
        sa.Column("active", sa.Boolean(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("username"),
    )
    op.create_table(
        "handoffs",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("conversation_id", sa.String(length=128), nullable=False),
        sa.Column("state", sa.String(length=16), nullable=False),
        sa.Column("reason", sa.String(length=32), nullable=False),
        sa.Column("language", sa.String(length=8), nullable=False),
        sa.Column("channel", sa.String(length=32), nullable=True),
        sa.Column("page", sa.String(length=64), nullable=True),
        sa.Column("need", sa.String(length=16), nullable=False),
        sa.Column("lead_id", sa.Integer(), nullable=True),
        sa.Column("team", sa.String(length=32), nullable=False),
        sa.Column("rule", sa.String(length=64), nullable=True),
        sa.Column("responsible", sa.JSON(), nullable=False),
        sa.Column("assignee", sa.String(length=64), nullable=True),
        sa.Column("explanation", sa.JSON(), nullable=False),
        sa.Column("requested_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("claim_deadline", sa.DateTime(timezone=True), nullable=False),
        sa.Column("claimed_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("closed_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("outcome", sa.String(length=32), nullable=True),
        sa.Column("outcome_reason", sa.String(length=500), nullable=True),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index(
        op.f("ix_handoffs_conversation_id"), "handoffs", ["conversation_id"], unique=False
    )
    op.create_index(
        "uq_handoffs_open",
        "handoffs",
        ["conversation_id"],
        unique=True,
        sqlite_where=sa.text("state IN ('waiting', 'human')"),
        postgresql_where=sa.text("state IN ('waiting', 'human')"),
    )
    op.create_table(
        "handoff_sessions",
        sa.Column("token_hash", sa.String(length=64), nullable=False),
        sa.Column("username", sa.String(length=64), nullable=False),
        sa.Column("csrf_token", sa.String(length=64), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("expires_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["username"], ["handoff_users.username"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("token_hash"),
    )
    op.create_index(
        op.f("ix_handoff_sessions_expires_at"), "handoff_sessions", ["expires_at"], unique=False
    )
    op.create_index(
        op.f("ix_handoff_sessions_username"), "handoff_sessions", ["username"], unique=False
    )


def downgrade() -> None:
    for table in reversed(TABLES):
        op.drop_table(table)
