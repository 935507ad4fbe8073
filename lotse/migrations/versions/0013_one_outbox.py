"""One outbox: the notifications move from `crm_outbox` into `crm_events` (issue 19).

Revision ID: 0013
Revises: 0012
Created: 2026-12-06

Each notification becomes an event of connector "notify", kind "notification", its
payload `{"channel", "to", "subject", "body", "ics"}`; sent rows become delivered
events, failed ones dead letters, pending ones stay due when they were. Then
`crm_outbox` is dropped. The downgrade moves them back. Personal data: the payloads
(recipients, texts) move as they are; nothing is logged.
"""

from __future__ import annotations

import uuid
from typing import Any

import sqlalchemy as sa
from alembic import op

revision = "0013"
down_revision = "0012"
branch_labels = None
depends_on = None

NOTIFY, NOTIFICATION = "notify", "notification"
_AT = sa.DateTime(timezone=True)
OUTBOX = sa.table(
    "crm_outbox",
    sa.column("id", sa.Integer()),
    sa.column("channel", sa.String()),
    sa.column("recipients", sa.JSON()),
    sa.column("subject", sa.Text()),
    sa.column("body", sa.Text()),
    sa.column("ics", sa.Text()),
    sa.column("created_at", _AT),
    sa.column("attempts", sa.Integer()),
    sa.column("next_attempt_at", _AT),
    sa.column("sent_at", _AT),
    sa.column("failed_at", _AT),
    sa.column("last_error", sa.String()),
    sa.column("contact_id", sa.Integer()),
)
EVENTS = sa.table(
    "crm_events",
    sa.column("id", sa.Integer()),
    sa.column("event_id", sa.String()),
    sa.column("contact_id", sa.Integer()),
    sa.column("connector", sa.String()),
    sa.column("kind", sa.String()),
    sa.column("payload", sa.JSON()),
    sa.column("occurred_at", _AT),
    sa.column("attempts", sa.Integer()),
    sa.column("next_attempt_at", _AT),
    sa.column("delivered_at", _AT),
    sa.column("dead_at", _AT),
    sa.column("last_error", sa.String()),
)


def _event(row: Any) -> dict[str, Any]:
    payload = {"channel": row.channel, "to": list(row.recipients or []),
               "subject": row.subject, "body": row.body, "ics": row.ics}  # fmt: skip
    return {
        "event_id": uuid.uuid4().hex, "contact_id": row.contact_id or 0, "connector": NOTIFY,
        "kind": NOTIFICATION, "payload": payload, "occurred_at": row.created_at,
        "attempts": row.attempts, "next_attempt_at": row.next_attempt_at,
        "delivered_at": row.sent_at, "dead_at": row.failed_at, "last_error": row.last_error,
    }  # fmt: skip


def upgrade() -> None:
    bind = op.get_bind()
    rows = [_event(row) for row in bind.execute(sa.select(OUTBOX).order_by(OUTBOX.c.id))]
    if rows:
        bind.execute(sa.insert(EVENTS), rows)
    op.drop_index("ix_crm_outbox_pending", table_name="crm_outbox")
    op.drop_index("ix_crm_outbox_contact_id", table_name="crm_outbox")
    op.drop_table("crm_outbox")


def downgrade() -> None:
    pending = sa.text("sent_at IS NULL AND failed_at IS NULL")
    op.create_table(
        "crm_outbox",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("channel", sa.String(16), nullable=False),
        sa.Column("recipients", sa.JSON(), nullable=False),
        sa.Column("subject", sa.Text(), nullable=False),
        sa.Column("body", sa.Text(), nullable=False),
        sa.Column("ics", sa.Text()),
        sa.Column("created_at", _AT, nullable=False),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("next_attempt_at", _AT, nullable=False),
        sa.Column("locked_until", _AT),
        sa.Column("sent_at", _AT),
        sa.Column("failed_at", _AT),
        sa.Column("last_error", sa.String(200)),
        sa.Column("contact_id", sa.Integer()),
        sa.PrimaryKeyConstraint("id", name="pk_crm_outbox"),
        sa.ForeignKeyConstraint(["contact_id"], ["crm_contacts.id"],
                                name="fk_crm_outbox_contact_id"),
    )  # fmt: skip
    op.create_index("ix_crm_outbox_contact_id", "crm_outbox", ["contact_id"])
    op.create_index("ix_crm_outbox_pending", "crm_outbox", ["next_attempt_at"],
                    sqlite_where=pending, postgresql_where=pending)  # fmt: skip
    bind = op.get_bind()
    notifications = sa.select(EVENTS).where(EVENTS.c.connector == NOTIFY).order_by(EVENTS.c.id)
    rows = [
        {
            "channel": row.payload.get("channel", ""),
            "recipients": row.payload.get("to", []),
            "subject": row.payload.get("subject", ""),
            "body": row.payload.get("body", ""),
            "ics": row.payload.get("ics"),
            "created_at": row.occurred_at,
            "attempts": row.attempts,
            "next_attempt_at": row.next_attempt_at,
            "sent_at": row.delivered_at,
            "failed_at": row.dead_at,
            "last_error": row.last_error,
            "contact_id": row.contact_id or None,
        }  # fmt: skip
        for row in bind.execute(notifications)
        if isinstance(row.payload, dict) and "channel" in row.payload  # erased: nothing to keep
    ]
    if rows:
        bind.execute(sa.insert(OUTBOX), rows)
    bind.execute(sa.delete(EVENTS).where(EVENTS.c.connector == NOTIFY))
