"""The documents' passage index (issue 20): `knowledge_documents`, `knowledge_passages`
and the engine's own search structure `knowledge_fts` (an FTS5 virtual table on
SQLite; on PostgreSQL a table holding each passage's tsvector, with a GIN index).

Revision ID: 0014
Revises: 0013
Created: 2026-12-06

No personal data: the company's documents only.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0014"
down_revision = "0013"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "knowledge_documents",
        sa.Column("key", sa.String(length=200), nullable=False),
        sa.Column("digest", sa.String(length=64), nullable=False),
        sa.Column("title", sa.Text(), nullable=False),
        sa.Column("indexed_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("key", name="pk_knowledge_documents"),
    )
    op.create_table(
        "knowledge_passages",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("document", sa.String(length=200), nullable=False),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.Column("language", sa.String(length=8), nullable=False),
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("text", sa.Text(), nullable=False),
        sa.Column("heading", sa.Text(), nullable=False),
        sa.Column("title", sa.Text(), nullable=False),
        sa.Column("row_label", sa.Text(), nullable=False),
        sa.Column("column_label", sa.Text(), nullable=False),
        sa.Column("page", sa.Integer(), nullable=True),
        sa.Column("terms", sa.Text(), nullable=False),
        sa.Column("context", sa.Text(), nullable=False),
        sa.ForeignKeyConstraint(["document"], ["knowledge_documents.key"],
                                name="fk_knowledge_passages_document_knowledge_documents"),
        sa.PrimaryKeyConstraint("id", name="pk_knowledge_passages"),
    )  # fmt: skip
    op.create_index("ix_knowledge_passages_document", "knowledge_passages", ["document"])
    if op.get_bind().dialect.name == "postgresql":
        op.execute("CREATE TABLE knowledge_fts (passage_id integer PRIMARY KEY "
                   "REFERENCES knowledge_passages (id), search tsvector NOT NULL)")  # fmt: skip
        op.execute("CREATE INDEX ix_knowledge_fts_search ON knowledge_fts USING GIN (search)")
    else:
        op.execute("CREATE VIRTUAL TABLE knowledge_fts USING fts5(terms, context, "
                   "tokenize = 'unicode61 remove_diacritics 2')")  # fmt: skip


def downgrade() -> None:
    op.execute("DROP TABLE knowledge_fts")
    op.drop_index("ix_knowledge_passages_document", table_name="knowledge_passages")
    op.drop_table("knowledge_passages")
    op.drop_table("knowledge_documents")
