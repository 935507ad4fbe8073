"""Erasing a person everywhere Lotse keeps them (DSGVO Art. 17).

`DataErasure.erase(email=..., phone=..., requested_by=...)` finds the person's leads
like the export does. Each of their conversations is marked as erased for a while
(`bot.erased_conversations`: a turn running now must not save it back, queued events
must not reach the event log). For each of them, first: the transcript is deleted
from the tracker store, the handoffs' messages and staff notes are deleted and the
handoffs keep only a new random conversation id (`HandoffStore.erase_conversation`), the
messenger address is forgotten, and the conversation event log takes the new id. Last,
in one transaction, the CRM store withdraws the consents and anonymises the leads with
the same new ids (`LocalCrm.erase`: personal answers and identifiers gone, the erasure
queued for every connected CRM through the outbox, every other answer, visitor id, task
and feedback deleted, one audit row without personal data). A failure before that last
step leaves the person findable by email or phone, so running the erasure again finishes
it.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timezone

from crm_adapter.port import Lead
from crm_adapter.store.erasure import erased_id
from lotse.data_export import person_leads
from lotse.personal_stores import PersonalStores


@dataclass(frozen=True)
class Erased:
    leads: int
    conversations: int


class DataErasure:
    def __init__(self, stores: PersonalStores) -> None:
        self.stores = stores

    def erase(
        self, email: str | None = None, phone: str | None = None, requested_by: str = "operator"
    ) -> Erased:
        return self.erase_leads(person_leads(self.stores.crm, email, phone), requested_by)

    def erase_leads(
        self, leads: Sequence[Lead], requested_by: str, asked_in: str | None = None
    ) -> Erased:
        """Erases these leads and their conversations (see the module docstring).
        `asked_in`: the conversation the visitor asked in (the chat's button); its own
        turn deletes it (the `erased` slot), so it is not marked and the visitor's next
        message starts a conversation that is kept."""
        if not leads:
            return Erased(0, 0)
        renamed = {c: erased_id() for lead in leads for c in lead.conversation_ids}
        self.stores.events.erased.mark(c for c in renamed if c != asked_in)  # nor saved back
        texts = self.stores.texts
        for old, new in renamed.items():
            if texts is not None and old in texts:
                del texts[old]
            self.stores.handoffs.erase_conversation(old, new)
            self.stores.addresses.forget(old)
            self.stores.events.rename(old, new)
        self.stores.unanswered.delete_conversations(list(renamed))
        now = datetime.now(timezone.utc)
        self.stores.crm.erase([lead.lead_id for lead in leads], now, requested_by, renamed)
        return Erased(len(leads), len(renamed))
