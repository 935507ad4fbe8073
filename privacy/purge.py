"""The retention purge: what is past its period (`privacy.retention`) is deleted.

`DataPurge.run()` erases every lead due for it, anonymous or unconverted, exactly as
`lotse privacy erase` does (`DataErasure.erase_leads`, audited as "retention"),
deletes the transcripts in the tracker store whose last event is older than the
transcript period, and the handoff messages, staff notes and conversation events
(`insights.event_log`) older than it. Then it turns the erasure marks past their window
into tombstones (`conversations.erased`) and scrubs the databases with VACUUM
(`PersonalStores.scrub`): the chat's and the console's erasures only empty SQLite's
write-ahead logs, and one a reader held is emptied here.
`dry_run` counts without deleting. `lotse privacy purge` runs it once, or every
`--every` seconds (`lotse run` starts it once a day).
"""

from __future__ import annotations

import json
from collections import Counter
from dataclasses import dataclass, field
from datetime import datetime, timezone

from privacy.erasure import DataErasure
from privacy.personal_stores import PersonalStores
from privacy.retention import RetentionPolicy, due, transcript_cutoff

REQUESTED_BY = "retention"


@dataclass(frozen=True)
class Purged:
    leads: dict[str, int] = field(default_factory=dict)  # reason -> how many
    transcripts: int = 0
    handoff_messages: int = 0
    conversation_events: int = 0
    busy: tuple[str, ...] = ()  # database files the scrub could not finish (kept in use)


def last_event_at(dialogue: str) -> datetime | None:
    events = json.loads(dialogue).get("events") or []
    stamps = [e["timestamp"] for e in events if isinstance(e.get("timestamp"), (int, float))]
    return datetime.fromtimestamp(max(stamps), timezone.utc) if stamps else None


class DataPurge:
    def __init__(self, stores: PersonalStores, policy: RetentionPolicy) -> None:
        self.stores = stores
        self.erasure = DataErasure(stores)
        self.policy = policy

    def run(self, now: datetime, dry_run: bool = False) -> Purged:
        idle = min(self.policy.anonymous_conversations, self.policy.unconverted_leads)
        crm = self.stores.crm
        reasons = {
            c.lead_id: due(c, now, self.policy) for c in crm.retention_candidates(now - idle)
        }
        due_ids = [lead_id for lead_id, reason in reasons.items() if reason]
        counts = dict(Counter(reason for reason in reasons.values() if reason))
        cutoff = transcript_cutoff(now, self.policy)
        if dry_run:
            return Purged(counts, len(self._old_transcripts(cutoff)), 0)
        self.erasure.erase_leads([crm.lead(lead_id) for lead_id in due_ids], REQUESTED_BY)
        old = self._old_transcripts(cutoff)
        texts = self.stores.texts
        for conversation_id in old:
            if texts is not None:
                texts.pop(conversation_id, None)  # gone since it was listed: fine
        messages = self.stores.handoffs.delete_messages_before(cutoff)
        if self.stores.inbox is not None:  # what messengers sent, answered before then
            self.stores.inbox.delete_done_before(cutoff)
        events = self.stores.events.delete_before(cutoff.timestamp())
        self.stores.unanswered.delete_before(cutoff.timestamp())  # with the transcripts
        self.stores.events.erased.bury()  # marks past their window keep nothing to name
        scrubbed = self.stores.scrub(vacuum=True)  # also what the chat's and console's left
        return Purged(counts, len(old), messages, events, scrubbed.busy)

    def _old_transcripts(self, cutoff: datetime) -> list[str]:
        texts = self.stores.texts
        if texts is None:
            return []
        return [c for c in list(texts) if (at := last_event_at(texts[c])) and at < cutoff]
