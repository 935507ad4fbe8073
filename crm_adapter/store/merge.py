"""Merging one contact into another, when both turn out to be the same person.

`merge_into(s, source, target, now)` runs inside the caller's transaction, with both
contact rows locked by the caller. Everything the source owns moves to the target:
answers (current ones settled by `answers.settle_merged`: the later one stays current
unless a bot answer would replace a human one; all are kept as history),
conversations, visitors, consents, interest and scoring events, stage history, tasks
and feedback. Contacts merged into the source earlier now point at the target. The
target keeps its email and stage (it takes the source's stage only if it has none);
`accepted`/`rejected` follow the latest feedback of the two. The source keeps its id
and `merged_into_id`, but no personal data (email, name, phone are cleared) and no
company row. Raises SQLAlchemy errors.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import delete, select, update
from sqlalchemy.orm import Session

from crm_adapter.store.answers import refresh_views, settle_merged
from crm_adapter.store.models import OWNED_BY_CONTACT, Company, Contact, FeedbackRow


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
    contact.company_id = None
    contact.merged_into_id = target_id
    contact.updated_at = now


def merge_into(s: Session, source: Contact, target: Contact, now: datetime) -> None:
    """Moves all of `source` into `target`; see the module docstring."""
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
    _clear(source, target.id, now)
    s.flush()
    if source_company is not None:
        s.execute(delete(Company).where(Company.id == source_company))
    s.expire_all()  # rows moved by the bulk updates are re-read from here on
    refresh_verdict(s, target)
    refresh_views(s, target, now)
