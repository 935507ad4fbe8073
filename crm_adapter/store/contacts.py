"""Finding contacts: by id (following merges), by visit, and whether a consent is in force.

All functions work inside the caller's transaction, touch no personal data, and raise
SQLAlchemy errors, `UnknownLead` for an id never stored, and `CrmError` for a broken
chain of merged contacts.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from crm_adapter.port import CrmError, UnknownLead, Visit
from crm_adapter.store.models import ConsentRow, Contact, Conversation, Visitor

MAX_MERGE_HOPS = 8  # merges re-point earlier ones, so one hop is the most seen


def contact(s: Session, lead_id: int, *, lock: bool = True) -> Contact:
    """The contact `lead_id` stands for (following merges); locked unless `lock` is False.

    The lock (SELECT ... FOR UPDATE, on PostgreSQL) makes writes to one contact take
    turns; SQLite's BEGIN IMMEDIATE already makes all writers take turns.
    """
    for _ in range(MAX_MERGE_HOPS):
        query = select(Contact).where(Contact.id == lead_id)
        if lock:
            query = query.with_for_update().execution_options(populate_existing=True)
        row = s.execute(query).scalar_one_or_none()
        if row is None:
            raise UnknownLead(f"no lead with id {lead_id}")
        if row.merged_into_id is None:
            return row
        lead_id = row.merged_into_id
    raise CrmError(f"lead {lead_id}: too many merged contacts in a row")


def consent_in_force(s: Session, contact_id: int) -> bool:
    query = select(ConsentRow.id).where(
        ConsentRow.contact_id == contact_id, ConsentRow.withdrawn_at.is_(None)
    )
    return s.execute(query.limit(1)).first() is not None


def _new_contact(s: Session, now: datetime) -> int:
    row = Contact(freemail=False, accepted=False, rejected=False, created_at=now, updated_at=now)
    s.add(row)
    s.flush()
    return row.id


def known_contact_id(s: Session, visit: Visit) -> int | None:
    """The contact of the conversation, else of the returning visitor; None if neither
    is known. Reads only."""
    conversation = s.execute(
        select(Conversation.contact_id).where(Conversation.conversation_id == visit.conversation_id)
    ).scalar_one_or_none()
    if conversation is not None or visit.visitor_id is None:
        return conversation
    return s.execute(
        select(Visitor.contact_id).where(Visitor.visitor_id == visit.visitor_id)
    ).scalar_one_or_none()


def contact_for_visit(s: Session, visit: Visit, now: datetime) -> Contact:
    """The contact of the conversation, else of the returning visitor, else a new
    anonymous one; the conversation and the visitor are recorded for it either way.

    The contact is locked (so a merge going on finishes first, and the visit is
    recorded for the contact it merged into). Two transactions recording the same new
    conversation or visitor at once: the second fails on a unique index
    (IntegrityError) and, retried, finds the first's.
    """
    conversation = s.execute(
        select(Conversation).where(Conversation.conversation_id == visit.conversation_id)
    ).scalar_one_or_none()
    visitor = None
    if visit.visitor_id is not None:
        query = select(Visitor).where(Visitor.visitor_id == visit.visitor_id)
        visitor = s.execute(query).scalar_one_or_none()
    if conversation is not None:
        found = contact(s, conversation.contact_id)
        conversation.last_seen_at = now
        conversation.language = visit.language[:8]
    else:
        found_id = _new_contact(s, now) if visitor is None else visitor.contact_id
        found = contact(s, found_id)
        s.add(
            Conversation(
                conversation_id=visit.conversation_id,
                channel=visit.channel[:32],
                language=visit.language[:8],
                contact_id=found.id,
                started_at=now,
                last_seen_at=now,
            )
        )
    if visitor is not None:
        visitor.last_seen_at = now
    elif visit.visitor_id is not None:
        s.add(
            Visitor(
                visitor_id=visit.visitor_id,
                contact_id=found.id,
                first_seen_at=now,
                last_seen_at=now,
            )
        )
    s.flush()
    return found
