"""Erasing people from the CRM store (DSGVO Art. 17), inside the caller's transaction.

`anonymise(s, contact_ids)` runs after the consent withdrawal (which already erased
the personal answers, the email, the notifications and told the CRMs): it deletes
every remaining answer (company, need, the texts people typed), the visitor ids, the
sales tasks and the feedback (their texts may name the person), the company row, the
values last written to external CRMs (`crm_links.sent`; the remote ids stay, so the
CRMs' erasure events still find their records), and replaces each conversation id
with a random one (a WhatsApp conversation's id is a phone number; the caller may
choose them, `renamed`), in `crm_conversations` and `crm_merges` alike. What stays is
anonymous: the contact's id, stage history, scores and their events, meetings (time
and staff only) and the conversations' channel, language and times. Returns the old ->
new conversation ids. Raises SQLAlchemy errors.
"""

from __future__ import annotations

import secrets
from collections.abc import Mapping

from sqlalchemy import delete, select, update
from sqlalchemy.orm import Session

from crm_adapter.store.models import (
    AnswerRow,
    Company,
    Contact,
    Conversation,
    CrmLinkRow,
    FeedbackRow,
    MergeRow,
    SalesTaskRow,
    Visitor,
)

ERASED_PREFIX = "erased:"


def erased_id() -> str:
    return ERASED_PREFIX + secrets.token_hex(12)


def anonymise(
    s: Session, contact_ids: list[int], renamed: Mapping[str, str] | None = None
) -> dict[str, str]:
    for model in (AnswerRow, Visitor, SalesTaskRow, FeedbackRow):
        s.execute(delete(model).where(model.contact_id.in_(contact_ids))
                  .execution_options(synchronize_session=False))  # fmt: skip
    s.execute(update(CrmLinkRow).where(CrmLinkRow.contact_id.in_(contact_ids)).values(sent={})
              .execution_options(synchronize_session=False))  # fmt: skip
    companies = []
    for row in s.execute(select(Contact).where(Contact.id.in_(contact_ids))).scalars():
        if row.company_id is not None:
            companies.append(row.company_id)
        row.name = row.phone = row.email = row.email_normalised = row.phone_normalised = None
        row.company_id = None
    s.flush()
    if companies:
        s.execute(delete(Company).where(Company.id.in_(companies)))
    return _rename_conversations(s, contact_ids, dict(renamed or {}))


def _rename_conversations(
    s: Session, contact_ids: list[int], renamed: dict[str, str]
) -> dict[str, str]:
    query = select(Conversation).where(Conversation.contact_id.in_(contact_ids))
    for conversation in s.execute(query).scalars():
        old = conversation.conversation_id
        conversation.conversation_id = renamed.setdefault(old, erased_id())
    for old, new in renamed.items():
        renaming = update(MergeRow).where(MergeRow.conversation_id == old)
        s.execute(renaming.values(conversation_id=new).execution_options(synchronize_session=False))
    s.flush()
    return renamed
