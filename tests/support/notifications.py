"""The notifications the outbox holds (`crm_events` of connector "notify"), read back
for assertions: each with its channel, recipients, texts, invitation and contact."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.engine import Engine

from crm_adapter.store.crm_events import NOTIFY
from crm_adapter.store.models import CrmEventRow


@dataclass(frozen=True)
class Queued:
    channel: str
    recipients: list[str]
    subject: str
    body: str
    ics: str | None
    contact_id: int
    delivered: bool
    dead: bool
    attempts: int
    last_error: str | None
    next_attempt_at: datetime


def queued(engine: Engine, lead_id: int | None = None) -> list[Queued]:
    """The notifications in the outbox, oldest first (of `lead_id` only, if given);
    erased ones (no channel left) are left out."""
    query = select(CrmEventRow).where(CrmEventRow.connector == NOTIFY).order_by(CrmEventRow.id)
    if lead_id is not None:
        query = query.where(CrmEventRow.contact_id == lead_id)
    with engine.connect() as connection:
        rows = connection.execute(query).all()
    return [
        Queued(
            row.payload["channel"],
            list(row.payload["to"]),
            row.payload["subject"],
            row.payload["body"],
            row.payload.get("ics"),
            row.contact_id,
            row.delivered_at is not None,
            row.dead_at is not None,
            row.attempts,
            row.last_error,
            row.next_attempt_at,
        )  # fmt: skip
        for row in rows
        if "channel" in row.payload
    ]
