"""Events for the external CRMs, written in the store's own transaction.

`publish` adds one event per configured connector to `crm_events` (see
`crm_adapter.store.crm_events`) with the contact as it stands after the change. Only contacts
with an email get events: an email needs a consent, so nothing personal leaves for a
CRM without one, and an anonymous visitor is nobody a CRM could file. Personal data:
the payload (the contact's values and answers).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import datetime
from typing import Any

from sqlalchemy.engine import Connection
from sqlalchemy.orm import Session

from crm_adapter.contact_snapshot import snapshot
from crm_adapter.port import UnknownLead
from crm_adapter.store import crm_events, mapping
from crm_adapter.store.contacts import contact
from crm_adapter.store.models import Contact
from crm_adapter.sync_event import IDENTIFIED


def publish(
    s: Session, lead: Contact, kind: str, change: Mapping[str, Any], now: datetime,
    connectors: Sequence[str],
) -> None:  # fmt: skip
    if not connectors or lead.email is None:
        return
    s.flush()
    current = mapping.load_leads(s, [lead])[0]
    change = dict(change)
    if kind == IDENTIFIED:  # what was scored before the email, with its causes
        change["scores"] = [
            {"axis": e.axis, "cause": e.cause, "change": e.change, "value_after": e.value_after}
            for e in current.scoring_events
        ]
    contact = snapshot(current)
    crm_events.enqueue(s.connection(), lead.id, kind, {"contact": contact, "change": change}, now,
            connectors)  # fmt: skip


def publish_on(
    connection: Connection, lead_id: int, kind: str, change: Mapping[str, Any], now: datetime,
    connectors: Sequence[str],
) -> None:  # fmt: skip
    """`publish` inside a transaction of SQLAlchemy Core (the handoff store's). The
    contact is locked first, like every write of the store locks it: a withdrawal of
    consent either comes before (then there is no email and no event) or after (then
    it erases this event too), and a contact's events are numbered in commit order."""
    if not connectors:
        return
    with Session(bind=connection, future=True) as s:
        try:
            lead = contact(s, lead_id)  # locked: takes turns with the store's writes
        except UnknownLead:
            return
        publish(s, lead, kind, change, now, connectors)
