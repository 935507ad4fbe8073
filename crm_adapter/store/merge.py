"""Merging one contact into another, when both turn out to be the same person.

`merge_into(s, source, target, now, reason, conversation_id)` runs inside the caller's
transaction, with both contact rows locked by the caller, and records the merge in
`crm_merges` (why: "email" or "phone"; the conversation whose answer caused it; when).
Everything the source owns moves to the target: answers (current ones settled by
`answers.settle_merged`: the later one stays current unless it comes from a weaker
source; all are kept as history), conversations, visitors, consents, interest and
scoring events, stage history, tasks and feedback. Contacts merged into the source
earlier now point at the target. The target keeps its email, normalised phone and
stage, and takes the source's where it has none (so an email is not lost when a
website visitor merges by phone into a WhatsApp contact); `accepted`/`rejected`
follow the latest feedback of the two. The source keeps its id and `merged_into_id`,
but no personal data (email, name, phone and normalised phone are cleared) and no
company row. Raises SQLAlchemy errors; ValueError for an unknown reason.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import delete, select, update
from sqlalchemy.orm import Session

from crm_adapter.port import MERGE_REASONS
from crm_adapter.store.answers import refresh_views, settle_merged
from crm_adapter.store.models import (
    OWNED_BY_CONTACT,
    Company,
    Contact,
    FeedbackRow,
    MergeRow,
)


def refresh_verdict(s: Session, contact: Contact) -> None:
    """`accepted` / `rejected` from the contact's latest feedback (none: neither)."""
    query = (
        select(FeedbackRow.decision)
        .where(FeedbackRow.contact_id == contact.id)
        .order_by(FeedbackRow.at.desc(), FeedbackRow.id.desc())
        .limit(1)
    )
    decision = s.execute(query).scalar_one_or_none()
    contact.accepted = decision == "accept"
    contact.rejected = decision == "reject"


def _clear(contact: Contact, target_id: int, now: datetime) -> None:
    contact.email = None
    contact.email_normalised = None
    contact.freemail = False
    contact.name = None
    contact.phone = None
    contact.phone_normalised = None
    contact.company_id = None
    contact.merged_into_id = target_id
    contact.updated_at = now


def merge_into(
    s: Session, source: Contact, target: Contact, now: datetime, reason: str,
    conversation_id: str | None = None,
) -> None:  # fmt: skip
    """Moves all of `source` into `target` and records why; see the module docstring."""
    if reason not in MERGE_REASONS:
        raise ValueError(f"unknown merge reason {reason!r}")
    s.add(MergeRow(source_contact_id=source.id, target_contact_id=target.id, reason=reason,
                   conversation_id=conversation_id, at=now))  # fmt: skip
    settle_merged(s, target.id, source.id)
    for model in OWNED_BY_CONTACT:
        s.execute(
            update(model)
            .where(model.contact_id == source.id)
            .values(contact_id=target.id)
            .execution_options(synchronize_session=False)
        )
    s.execute(
        update(Contact)
        .where(Contact.merged_into_id == source.id)
        .values(merged_into_id=target.id)
        .execution_options(synchronize_session=False)
    )
    if target.stage is None:
        target.stage = source.stage
    source_company = source.company_id
    identity = (source.email, source.email_normalised, source.freemail, source.phone_normalised)
    _clear(source, target.id, now)
    s.flush()  # frees the source's email in its unique index before the target takes it
    _take_identity(target, *identity)
    s.flush()  # before expire_all, which would drop unflushed changes
    if source_company is not None:
        s.execute(delete(Company).where(Company.id == source_company))
    s.expire_all()  # rows moved by the bulk updates are re-read from here on
    refresh_verdict(s, target)
    refresh_views(s, target, now)


def _take_identity(
    target: Contact, email: str | None, email_normalised: str | None, freemail: bool,
    phone_normalised: str | None,
) -> None:  # fmt: skip
    """The source's email and normalised phone, where the target has none."""
    if target.email_normalised is None and email_normalised is not None:
        target.email, target.email_normalised, target.freemail = email, email_normalised, freemail
    if target.phone_normalised is None:
        target.phone_normalised = phone_normalised
