"""Everything Lotse holds about a person, as one JSON document (DSGVO Art. 15 and 20).

`export(email=..., phone=..., requested_by=...)` finds the person's leads (by email,
or every lead the number identifies) and gathers for each: the lead with all its
records (answers and their history, consents, interest and scoring events, stages,
tasks, meetings, feedback, visitor ids), the merges that made it, every conversation's
transcript from the tracker store (what the person and the bot wrote, with times), the
messenger address of each conversation, its handoffs with their messages and staff
notes, the notifications about the lead in the outbox, and the CRM events not yet
delivered. Nobody found: the document with no leads. `lotse privacy export` prints it
(`ops/privacy_command.py`), the console's admins download it
(`GET /console/api/privacy/export`); both as `as_text` writes it.

An export that found someone writes one `privacy_audit` row (action "export", how
many leads and conversations, who asked, when; no personal data) before the document
is returned, so no document leaves unaudited (`CrmError` if that row cannot be
written). The document is personal data: it is written where the caller says and
never logged.
"""

from __future__ import annotations

import dataclasses
import json
from collections.abc import Mapping
from datetime import datetime, timezone
from typing import Any

from sqlalchemy import select
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.orm import Session

from crm_adapter.port import CrmError, Lead
from crm_adapter.store.crm_events import NOTIFY
from crm_adapter.store.local import LocalCrm
from crm_adapter.store.models import CrmEventRow, PrivacyAuditRow
from lotse.database import writer
from privacy.personal_stores import PersonalStores

FORMAT = "lotse-data-export/1"
AUDITED_AS = "export"
TRANSCRIBED = {"user": "person", "bot": "bot"}


def _plain(value: Any) -> Any:
    """Dataclasses, datetimes and tuples as JSON values."""
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return {f.name: _plain(getattr(value, f.name)) for f in dataclasses.fields(value)}
    if isinstance(value, datetime):
        return value.isoformat()
    if isinstance(value, dict):
        return {str(k): _plain(v) for k, v in value.items()}
    if isinstance(value, (list, tuple, set)):
        return [_plain(v) for v in value]
    return value


def transcript(texts: Mapping[str, str] | None, conversation_id: str) -> list[dict[str, Any]]:
    """What the person and the bot wrote in a conversation, oldest first."""
    if texts is None or conversation_id not in texts:
        return []
    events = json.loads(texts[conversation_id]).get("events") or []
    return [
        {"from": TRANSCRIBED[e["event"]], "text": e.get("text"),
         "at": datetime.fromtimestamp(e.get("timestamp") or 0, timezone.utc).isoformat()}
        for e in events
        if e.get("event") in TRANSCRIBED and e.get("text")
    ]  # fmt: skip


def person_leads(crm: LocalCrm, email: str | None, phone: str | None) -> list[Lead]:
    """The leads an email or phone number identifies (a number may identify several)."""
    found = crm.find_by_email(email) if email else None
    by_phone = crm.find_by_phone(phone) if phone else []
    leads = ([found] if found else []) + by_phone
    return list({lead.lead_id: lead for lead in leads}.values())


class DataExport:
    def __init__(self, stores: PersonalStores) -> None:
        self.stores = stores

    def export(
        self, email: str | None = None, phone: str | None = None, *, requested_by: str
    ) -> dict[str, Any]:
        """The document (see the module docstring); audited as asked by `requested_by`
        (a login or an operator's name, never the person's data) if anyone was found."""
        now = datetime.now(timezone.utc)
        leads = [self.lead(lead) for lead in person_leads(self.stores.crm, email, phone)]
        if leads:
            conversations = sum(len(entry["conversations"]) for entry in leads)
            self._audit(len(leads), conversations, requested_by, now)
        return {
            "format": FORMAT,
            "exported_at": now.isoformat(),
            "asked_for": {"email": email, "phone": phone},
            "leads": leads,
        }

    def lead(self, lead: Lead) -> dict[str, Any]:
        events = self._rows(CrmEventRow, lead.lead_id)
        return {
            "lead": _plain(lead),
            "merges": _plain(self.stores.crm.merges(lead.lead_id)),
            "conversations": [self.conversation(c) for c in lead.conversation_ids],
            "notifications": [_notification(row) for row in events if row["connector"] == NOTIFY],
            "crm_events_pending": [
                row for row in events if row["connector"] != NOTIFY and row["delivered_at"] is None
            ],  # fmt: skip
        }

    def conversation(self, conversation_id: str) -> dict[str, Any]:
        store = self.stores.handoffs
        handoffs = store.for_conversation(conversation_id)
        messenger = self.stores.addresses.address(conversation_id)
        return {
            "conversation_id": conversation_id,
            "messenger_address": _plain(messenger[1]) if messenger else None,
            "transcript": transcript(self.stores.texts, conversation_id),
            "handoffs": [{**_plain(h), "notes": _plain(store.notes(h.id))} for h in handoffs],
            "handoff_messages": _plain(store.messages(conversation_id)),
            "unanswered_questions": self.stores.unanswered.texts_of(conversation_id),
        }

    def _audit(self, leads: int, conversations: int, requested_by: str, at: datetime) -> None:
        row = PrivacyAuditRow(action=AUDITED_AS, leads=leads, conversations=conversations,
                              requested_by=requested_by[:64], at=at)  # fmt: skip
        try:
            with Session(writer(self.stores.engine), future=True) as s, s.begin():
                s.add(row)
        except SQLAlchemyError as err:
            raise CrmError(f"CRM store: auditing an export failed ({type(err).__name__})") from None

    def _rows(self, model: Any, lead_id: int) -> list[dict[str, Any]]:
        query = select(model.__table__).where(model.contact_id == lead_id).order_by(model.id)
        with self.stores.engine.connect() as c:
            return [_plain(dict(row)) for row in c.execute(query).mappings()]


def _notification(row: dict[str, Any]) -> dict[str, Any]:
    """A notification of the outbox as the export shows it: what it says and its fate."""
    return {
        **row["payload"],
        "created_at": row["occurred_at"],
        "sent_at": row["delivered_at"],
        "failed_at": row["dead_at"],
        "attempts": row["attempts"],
        "last_error": row["last_error"],
    }


def as_text(document: dict[str, Any]) -> str:
    """The document as the command prints it and the console sends it (UTF-8 JSON)."""
    return json.dumps(document, ensure_ascii=False, indent=2)
