"""Who else a person already is: the contact holding a phone number, and past merges.

All functions work inside the caller's transaction and raise SQLAlchemy errors.
`phone_holder` reads `crm_contacts.phone_normalised` (personal data) to compare it and
returns the contact row; `merge_records` returns ids, reasons, times and conversation
ids (a WhatsApp conversation's id holds its phone number).
"""

from __future__ import annotations

from sqlalchemy import select, text
from sqlalchemy.orm import Session

from crm_adapter.port import MergeRecord
from crm_adapter.store.models import Contact, MergeRow

# First key of the advisory locks on a phone number (the second is the number's hash),
# apart from the meetings' and the migrations' locks.
PHONE_LOCKS = 0x50686F6E  # "Phon"


def lock_phone(s: Session, number: str) -> None:
    """Makes identifications by one number take turns until the end of the transaction,
    so two conversations giving it at once end in one contact, not two holders.

    PostgreSQL: an advisory lock (two numbers whose hashes collide merely wait for each
    other). SQLite: nothing to do, BEGIN IMMEDIATE already lets one writer in at a time.
    """
    if s.get_bind().dialect.name == "postgresql":
        s.execute(
            text("SELECT pg_advisory_xact_lock(:space, hashtext(:number))"),
            {"space": PHONE_LOCKS, "number": number},
        )


def phone_holder(s: Session, number: str, besides: int) -> Contact | None:
    """The contact (not merged away, not `besides`) identified by the E.164 `number`,
    locked; the oldest if several are (two with different emails may share a number)."""
    query = (
        select(Contact)
        .where(
            Contact.phone_normalised == number,
            Contact.merged_into_id.is_(None),
            Contact.id != besides,
        )
        .order_by(Contact.id)
        .limit(1)
    )
    found = s.execute(query.with_for_update().execution_options(populate_existing=True))
    return found.scalar_one_or_none()


def merge_records(s: Session, contact_id: int) -> list[MergeRecord]:
    """The merges into the contact and into the contacts merged into it, oldest first."""
    merged = select(Contact.id).where(Contact.merged_into_id == contact_id)
    ids = [contact_id, *s.execute(merged).scalars()]
    query = (
        select(MergeRow)
        .where(MergeRow.target_contact_id.in_(ids))
        .order_by(MergeRow.at, MergeRow.id)
    )
    return [
        MergeRecord(
            row.source_contact_id, row.target_contact_id, row.reason, row.conversation_id, row.at
        )
        for row in s.execute(query).scalars()
    ]
