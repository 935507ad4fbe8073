"""Erasing a person everywhere Lotse keeps them (DSGVO Art. 17).

`DataErasure.erase(email=..., phone=..., requested_by=...)` finds the person's leads
like the export does. Each of their conversations is marked as erased
(`conversations.erased`: a turn running now must not save it back, and the event
log drops the events it had before the erasure, however late they come). For each of
them, first: the transcript is deleted from the tracker store, the handoffs' messages
and staff notes are deleted and the handoffs keep only a new random conversation id
(`HandoffStore.erase_conversation`), the messenger address is forgotten, and the
conversation event log takes the new id. Then, in one transaction, the CRM store
withdraws the consents and anonymises the leads with the same new ids
(`LocalCrm.erase`: personal answers and identifiers gone, the erasure queued for every
connected CRM through the outbox, the notifications not yet sent deleted, every other
answer, visitor id, task and feedback deleted, one audit row without personal data).
A failure before that step leaves the person findable by email or phone, so running
the erasure again finishes it.

Last, the files: the mail folder's emails that mention the person are deleted
(`PersonalStores.erase_mail`): their email addresses, names, phone numbers and
conversation ids as the leads and their answers knew them, the addresses and numbers
in their transcripts (read before anything is erased: a withdrawal, as in the chat,
has cleared the lead's already), and the email or number the erasure was asked for;
`erase` deletes such mails even when no lead has them any more. This runs after the
outbox rows are gone, so no new mail is queued (one a dispatcher was writing at that
very moment can escape). Then the database files are scrubbed (`PersonalStores.scrub`:
SQLite's write-ahead logs emptied, so no page as it was before the erasure is left;
with `vacuum`, `lotse privacy erase`'s, also VACUUM on SQLite and PostgreSQL). A file
kept in use beyond the busy timeout (a reader on the log, a writer during VACUUM) is
named in `Erased.busy` (and logged): the next scrub (the daily purge) finishes it.
Nothing personal is logged.
"""

from __future__ import annotations

import json
import logging
import re
from collections.abc import Callable, Collection, Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime, timezone

from crm_adapter.port import Lead
from crm_adapter.store import LocalCrm
from crm_adapter.store.erasure import erased_id
from privacy.export import person_leads
from privacy.personal_stores import PersonalStores

PERSONAL_ANSWERS = ("email", "name", "phone")  # "phone": numbers, the others: texts
EMAIL_ADDRESS = re.compile(r"[\w.+-]+@[\w-]+(?:\.[\w-]+)+")
PHONE_NUMBER = re.compile(r"(?<![\w+])(?:\+|0)\d[\d \-/().]{5,24}\d")
MIN_TYPED_DIGITS = 9  # fewer: a postal code, a date, an amount rather than a number
log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Erased:
    leads: int
    conversations: int
    mails: int = 0  # emails deleted from the mail folder
    busy: tuple[str, ...] = ()  # database files whose write-ahead log is not empty yet


def mentions(leads: Iterable[Lead], transcripts: Iterable[str] = ()) -> tuple[set[str], set[str]]:
    """How texts name the person: (email addresses, names and conversation ids; phone
    numbers), from the leads' identifiers, their current and past answers, the number
    in a WhatsApp conversation's id, and the addresses and numbers in their
    conversations' transcripts (a withdrawal, as the chat's comes before its erasure,
    has already cleared the lead's). Personal data: kept in memory only."""
    texts: set[str] = set()
    numbers: set[str] = set()
    for lead in leads:
        texts.update(t for t in (lead.email, lead.name) if t)
        numbers.update(n for n in (lead.phone,) if n)
        texts.update(lead.conversation_ids)
        numbers.update(c.rpartition(":")[2] for c in lead.conversation_ids if ":+" in c)
        for answer in (*lead.answers.values(), *lead.answer_history):
            if answer.attribute not in PERSONAL_ANSWERS or not answer.value:
                continue
            values = [v for v in answer.value.values() if isinstance(v, str) and v.strip()]
            (numbers if answer.attribute == "phone" else texts).update(values)
    for said in (line for transcript in transcripts for line in typed(transcript)):
        texts.update(EMAIL_ADDRESS.findall(said))
        numbers.update(n for n in PHONE_NUMBER.findall(said)
                       if sum(c.isdigit() for c in n) >= MIN_TYPED_DIGITS)  # fmt: skip
    return texts, numbers


def proven_mentions(
    leads: Iterable[Lead], transcripts: Iterable[str], held_by_another: Callable[[str], bool]
) -> tuple[set[str], set[str]]:
    """How texts name the person by what they proved: their conversation ids, the
    number a WhatsApp conversation's id holds (the platform's), and the addresses typed
    in their transcripts that no other contact has (their own: a code went there). A
    typed name or number, or an address another contact has, may be someone else's."""
    leads = list(leads)
    texts = {c for lead in leads for c in lead.conversation_ids}
    numbers = {c.rpartition(":")[2] for c in texts if ":+" in c}
    typed_addresses = {a for t in transcripts for line in typed(t)
                       for a in EMAIL_ADDRESS.findall(line)}  # fmt: skip
    texts.update(a for a in typed_addresses if not held_by_another(a))
    return texts, numbers


def typed(dialogue: str) -> list[str]:
    """What a serialised conversation holds of the person: what they wrote and the
    values its slots took (not the ids and times around them)."""
    try:
        events = json.loads(dialogue).get("events") or []
    except (ValueError, AttributeError):
        return [dialogue]
    said = []
    for event in events:
        if not isinstance(event, dict):
            continue
        if event.get("event") == "user" and isinstance(event.get("text"), str):
            said.append(event["text"])
        elif event.get("event") == "slot":
            said.append(json.dumps(event.get("value"), ensure_ascii=False))
    return said


def _held_by_other(crm: LocalCrm, address: str, ids: set[int]) -> bool:
    holder = crm.find_by_email(address)
    return holder is not None and holder.lead_id not in ids


class DataErasure:
    def __init__(self, stores: PersonalStores, vacuum: bool = False) -> None:
        self.stores = stores
        self.vacuum = vacuum  # also VACUUM the databases (a command's erasure, not a turn's)

    def erase(
        self, email: str | None = None, phone: str | None = None, requested_by: str = "operator"
    ) -> Erased:
        """Erases the person the email or number names; the mail folder loses the mails
        mentioning them even if no lead has them any more (a withdrawal cleared it)."""
        emails, phones = [email] if email else [], [phone] if phone else []
        leads = person_leads(self.stores.crm, email, phone)
        if not leads:
            return Erased(0, 0, self.stores.erase_mail(emails, phones))
        return self.erase_leads(leads, requested_by, emails=emails, phones=phones)

    def erase_leads(
        self,
        leads: Sequence[Lead],
        requested_by: str,
        asked_in: str | None = None,
        emails: Collection[str] = (),
        phones: Collection[str] = (),
        proven_only: bool = False,
    ) -> Erased:
        """Erases these leads and their conversations (see the module docstring).
        `asked_in`: the conversation the visitor asked in (the chat's button); its own
        turn deletes it (the `erased` slot), so it is not marked and the visitor's next
        message starts a conversation that is kept. `emails`, `phones`: more that name
        the person in the mail folder (what the erasure was asked for). `proven_only`
        (asked from the chat, by someone who proved nothing but the conversation):
        mails are found by what the leads proved only (`proven_mentions`), never by a
        typed name or number, or an address another contact has: it may be someone
        else's (issue 18)."""
        if not leads:
            return Erased(0, 0)
        renamed = {c: erased_id() for lead in leads for c in lead.conversation_ids}
        texts = self.stores.texts
        said = [texts[c] for c in renamed if texts is not None and c in texts]
        if proven_only:  # before anything is erased
            ids = {lead.lead_id for lead in leads}
            texts_about, numbers = proven_mentions(
                leads, said, lambda a: _held_by_other(self.stores.crm, a, ids))
        else:
            texts_about, numbers = mentions(leads, said)
        texts_about.update(emails)
        numbers.update(phones)
        self.stores.events.erased.mark(c for c in renamed if c != asked_in)  # nor saved back
        for old, new in renamed.items():
            if texts is not None and old in texts:
                del texts[old]
            self.stores.handoffs.erase_conversation(old, new)
            self.stores.addresses.forget(old)
            if self.stores.inbox is not None:
                self.stores.inbox.forget(old)
            self.stores.events.rename(old, new)
        self.stores.unanswered.delete_conversations(list(renamed))
        now = datetime.now(timezone.utc)
        self.stores.crm.erase([lead.lead_id for lead in leads], now, requested_by, renamed)
        mails = self.stores.erase_mail(texts_about, numbers)
        scrubbed = self.stores.scrub(vacuum=self.vacuum)
        if scrubbed.busy:
            log.warning("erasure: %s kept in use, not scrubbed yet; the next scrub (lotse "
                        "privacy purge) finishes it", ", ".join(scrubbed.busy))  # fmt: skip
        return Erased(len(leads), len(renamed), mails, scrubbed.busy)
