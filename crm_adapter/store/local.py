"""`LocalCrm`: the CRM port on the local SQL store (SQLite or PostgreSQL).

Every method is one transaction and binds every value (no SQL is built from text).
Errors: `UnknownLead` for an id that was never stored; `ConsentRequired` when personal
data (an answered PERSONAL_ATTRIBUTE, an email via `identify`, a phone number via
`identify_phone`) is offered without a consent in force; `SlotTaken` when a meeting
would overlap one the person has; ValueError, before any SQL, for a record the port
does not allow (naive datetime, unknown status/source/decision/stage, a text longer
than its column, an email or phone number that is none);
`CrmError` for any database failure, with a message that names the operation and the
error class but no personal data (the driver's message, which may quote values, is
dropped). A transaction that lost a race (unique index, deadlock, serialization
failure) is retried, up to RETRIES times in all. A database server that cannot be
reached (refused, restarting, connection lost) is tried again for UNREACHABLE_SECONDS
with a growing pause, then `CrmUnavailable` (a CrmError) says so.

Semantics beyond the port's docstrings:
- An id of a contact that was merged away stands for the contact it was merged into:
  reads return that lead (with its own `lead_id`), writes go to it.
- `Lead.answer_history` holds every stored answer in time order, the current ones too;
  `Lead.answers` holds the current ones (see `answers.py` for the human-wins rule).
- `Lead.name` and `Lead.phone` are the current answers to "name" and "phone" (without
  a phone answer, `phone` is the number `identify_phone` gave the lead); the email is
  set by `identify` only (an answer to "email" is kept as an answer).
- Declined and unknown answers carry no value, so they need no consent, even for
  personal attributes.
- `identify` is safe under concurrency: on PostgreSQL the unique index on the
  normalised email makes the slower of two transactions fail, and, retried, it finds
  the first one's contact and merges into it; SQLite lets one writer in at a time.
- `identify_phone` is the same for phone numbers (E.164, `crm_adapter.phone`), with
  three differences: the number is not unique in the table, so on PostgreSQL an
  advisory lock on the number makes two identifications by it take turns; a lead keeps
  the number it was first identified by (a WhatsApp contact's own number is not
  replaced by a callback number typed later; the typed one stays its answer); and two
  leads with different emails are not merged by a shared number (an office's
  switchboard is not one person), the lead just keeps its own records.
- Every merge (by `identify` or `identify_phone`) is recorded with its reason and the
  conversation that caused it; `merges(lead_id)` reads them back. The lead merged
  into keeps its email and number and takes the other's where it has none.
- `add_task` and `book_meeting` write their notifications to the outbox (`crm_events`,
  connector "notify") in the same transaction (sent later by the delivery worker with
  `handoff.dispatch.NotificationConnector`; see `crm_adapter.store.crm_events`).
- `book_meeting` is safe under concurrency: on PostgreSQL it takes a transaction-level
  advisory lock on the staff id before looking for overlapping meetings, so of two
  bookings of one person's time the second waits, then sees the first and raises
  `SlotTaken`; SQLite lets one writer in at a time. Meetings touch only [start, end):
  one may start when another ends.
- `withdraw_consent` also deletes the lead's notifications from the outbox (they carry
  its contact details), sent or not; its meetings stay (they hold no personal data).

Personal data touched: `identify` (email), `identify_phone` (phone), `save_answer`
(answers to "name", "phone", "email"), `add_task` and `book_meeting` (whatever their
notifications carry), `withdraw_consent` (erases them all, in the history and the
outbox too), and every read returning a `Lead`. Nothing here logs.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterable, Mapping, Sequence
from contextvars import ContextVar
from datetime import datetime, timezone
from typing import Any, TypeVar

from sqlalchemy import delete, func, select, text, update
from sqlalchemy.engine import Engine
from sqlalchemy.exc import DBAPIError, IntegrityError, OperationalError, SQLAlchemyError
from sqlalchemy.orm import Session

from crm_adapter import lifecycle, sync_event
from crm_adapter.contact_snapshot import answer_text
from crm_adapter.identity_code import CODE_DIGITS, MAX_CODE_ATTEMPTS, code_in
from crm_adapter.port import (
    BOOKED,
    BY_EMAIL,
    BY_PHONE,
    CONFIRMED,
    EXPIRED,
    JOINED,
    NO_CLAIM,
    PERSONAL_ATTRIBUTES,
    WRONG_CODE,
    Answer,
    Claim,
    Consent,
    ConsentRequired,
    CrmError,
    CrmUnavailable,
    Feedback,
    Lead,
    Meeting,
    MergeRecord,
    Notification,
    RetentionCandidate,
    SalesTask,
    ScoringEvent,
    SlotTaken,
    StageRecord,
    Verification,
    Visit,
)
from crm_adapter.scoring import InterestEvent
from crm_adapter.store import claims, crm_events, mapping
from crm_adapter.store.answers import record_answer, refresh_views
from crm_adapter.store.contacts import (
    consent_in_force,
    contact,
    contact_for_visit,
    known_contact_id,
)
from crm_adapter.store.erasure import ERASED_PREFIX, anonymise
from crm_adapter.store.identity import lock_phone, merge_records, phone_holder
from crm_adapter.store.merge import merge_into, refresh_verdict
from crm_adapter.store.models import (
    AnswerRow,
    ConsentRow,
    Contact,
    Conversation,
    FeedbackRow,
    InterestEventRow,
    MeetingRow,
    PrivacyAuditRow,
    SalesTaskRow,
    ScoringEventRow,
    StageRow,
    as_utc,
)
from crm_adapter.store.publish import publish
from crm_adapter.sync_event import stamp
from lotse.database import writer
from lotse.shared_tables import unanswered as unanswered_questions

T = TypeVar("T")
RETRIES = 4
EMAIL_LENGTH = 254
RETRYABLE_PGCODES = ("40001", "40P01")  # serialization failure, deadlock detected
# Connection exception (class 08); shutting down, crashed, starting (57P01-57P03).
UNREACHABLE_PGCODES = ("08", "57P")
UNREACHABLE_SECONDS = 4.0  # a database restart; the action's own limit is 10 s
FIRST_PAUSE_SECONDS = 0.1
# First key of the advisory locks on a person's calendar (the second is the staff id's
# hash), apart from the migrations' single-key lock.
MEETING_LOCKS = 0x4D656574  # "Meet"


# The transaction of the unit of work running in this context (`LocalCrm.atomically`),
# with the engine it belongs to.
_unit: ContextVar[tuple[Engine, Session] | None] = ContextVar("lotse_crm_unit", default=None)


def _utc_now() -> datetime:
    return datetime.now(timezone.utc)


def _describe(err: SQLAlchemyError) -> str:
    """The error's classes, never its message (which may quote personal data)."""
    if isinstance(err, DBAPIError) and err.orig is not None:
        return f"{type(err).__name__}: {type(err.orig).__name__}"
    return type(err).__name__


def _retryable(err: SQLAlchemyError) -> bool:
    if isinstance(err, IntegrityError):
        return True
    return isinstance(err, DBAPIError) and getattr(err.orig, "pgcode", None) in RETRYABLE_PGCODES


def _unreachable(err: SQLAlchemyError) -> bool:
    """The database server was not there (not a wrong query or a lost race)."""
    if not isinstance(err, DBAPIError):
        return False
    if err.connection_invalidated:
        return True
    code = getattr(err.orig, "pgcode", None)
    if code:
        return code.startswith(UNREACHABLE_PGCODES)
    # psycopg2's errors have a pgcode; None for a client-side failure (refused, reset).
    # SQLite's have none: its OperationalErrors are about the file or the query.
    return isinstance(err, OperationalError) and hasattr(err.orig, "pgcode")


def normalised_email(email: str) -> tuple[str, str]:
    """(the address as given, stripped; its normalised form); ValueError if unusable."""
    address = email.strip()
    if not 3 <= len(address) <= EMAIL_LENGTH or "@" not in address[1:-1]:
        raise ValueError(f"an email address has an @ and at most {EMAIL_LENGTH} characters")
    return address, address.lower()


class LocalCrm:
    """The CRM port on an engine made by `make_engine`, migrated by `migrate`."""

    def __init__(
        self, engine: Engine, clock: Callable[[], datetime] = _utc_now,
        connectors: Sequence[str] = (),
    ) -> None:  # fmt: skip
        self._engine = engine
        self._writer = writer(engine)
        self._clock = clock
        self.connectors = tuple(connectors)  # external CRMs that get events (crm_events)

    def _publish(self, s: Session, lead: Contact, kind: str, change: dict[str, Any]) -> None:
        publish(s, lead, kind, change, self._now(), self.connectors)

    def _now(self) -> datetime:
        return as_utc(self._clock())

    def _run(self, operation: str, work: Callable[[Session], T], *, write: bool = True) -> T:
        """`work` in one transaction; retried when a concurrent one got in its way, and
        for UNREACHABLE_SECONDS while the database server cannot be reached."""
        unit = _unit.get()
        if unit is not None and unit[0] is self._writer:
            return work(unit[1])  # its errors end the whole unit (retried as one)
        deadline = time.monotonic() + UNREACHABLE_SECONDS
        pause = FIRST_PAUSE_SECONDS
        attempt = 0
        while True:
            attempt += 1
            try:
                bind = self._writer if write else self._engine
                with Session(bind, future=True) as s, s.begin():
                    return work(s)
            except SQLAlchemyError as err:
                if _unreachable(err):
                    if time.monotonic() + pause < deadline:
                        time.sleep(pause)
                        pause = min(pause * 2, 1.0)
                        continue
                    raise CrmUnavailable(
                        f"CRM store: {operation} failed, the database cannot be reached "
                        f"({_describe(err)})"
                    ) from None
                if attempt < RETRIES and _retryable(err):
                    continue
                raise CrmError(f"CRM store: {operation} failed ({_describe(err)})") from None

    def atomically(self, work: Callable[[], T], operation: str = "recording a turn") -> T:
        """Runs `work` (calls of this store's methods, and plain Python) as one unit of
        work: every write in it commits together, or none does; a lost race or an
        unreachable server runs the whole of `work` again (so it must not have other
        side effects). Nested: the inner one is part of the outer."""
        current = _unit.get()
        if current is not None and current[0] is self._writer:
            return work()

        def whole(s: Session) -> T:
            token = _unit.set((self._writer, s))
            try:
                return work()
            finally:
                _unit.reset(token)

        return self._run(operation, whole)

    def _write(
        self, operation: str, lead_id: int, change: Callable[[Session, Contact], Any]
    ) -> None:
        def work(s: Session) -> None:
            change(s, contact(s, lead_id))

        self._run(operation, work)

    # Reads

    def lead(self, lead_id: int) -> Lead:
        def work(s: Session) -> Lead:
            return mapping.load_leads(s, [contact(s, lead_id, lock=False)])[0]

        return self._run("reading a lead", work, write=False)

    def find_by_email(self, email: str) -> Lead | None:
        def work(s: Session) -> Lead | None:
            query = select(Contact).where(
                Contact.email_normalised == email.strip().lower(),
                Contact.merged_into_id.is_(None),
            )
            found = s.execute(query).scalar_one_or_none()
            return None if found is None else mapping.load_leads(s, [found])[0]

        return self._run("finding a lead by email", work, write=False)

    def retention_candidates(self, idle_since: datetime) -> list[RetentionCandidate]:
        """Leads whose last message is older than `idle_since` and that were not erased
        yet (`privacy.retention` decides which are due); reads no personal data
        beyond "has an email"."""
        last_seen = (
            select(Conversation.contact_id, func.max(Conversation.last_seen_at).label("seen"))
            .group_by(Conversation.contact_id)
            .subquery()
        )
        consented = select(ConsentRow.id).where(
            ConsentRow.contact_id == Contact.id, ConsentRow.withdrawn_at.is_(None)
        )
        erased = select(Conversation.id).where(
            Conversation.contact_id == Contact.id,
            Conversation.conversation_id.startswith(ERASED_PREFIX),
        )
        query = (
            select(Contact.id, Contact.email_normalised.is_not(None), consented.exists(),
                   Contact.stage, last_seen.c.seen)
            .join(last_seen, last_seen.c.contact_id == Contact.id)
            .where(Contact.merged_into_id.is_(None), last_seen.c.seen < as_utc(idle_since),
                   ~erased.exists())
            .order_by(Contact.id)
        )  # fmt: skip

        def work(s: Session) -> list[RetentionCandidate]:
            return [RetentionCandidate(row[0], bool(row[1]), bool(row[2]), row[3], as_utc(row[4]))
                    for row in s.execute(query)]  # fmt: skip

        return self._run("finding leads past their retention", work, write=False)

    def find_by_phone(self, phone: str) -> list[Lead]:
        """The leads identified by this number (`identify_phone`; usually one: two leads
        with different emails keep a shared office number each). [] for no number."""
        # Imported here: libphonenumber's tables are a good part of a command's start,
        # and only the phone methods need them.
        from crm_adapter.phone import normalised_phone

        number = normalised_phone(phone)
        if number is None:
            return []

        def work(s: Session) -> list[Lead]:
            query = select(Contact).where(
                Contact.phone_normalised == number, Contact.merged_into_id.is_(None)
            )
            return mapping.load_leads(s, list(s.execute(query.order_by(Contact.id)).scalars()))

        return self._run("finding leads by phone", work, write=False)

    def meetings(self, staff_id: str, start: datetime, end: datetime) -> list[Meeting]:
        query = _overlapping(staff_id, as_utc(start), as_utc(end)).order_by(
            MeetingRow.start_at, MeetingRow.id
        )

        def work(s: Session) -> list[Meeting]:
            return [mapping.meeting_of(row) for row in s.execute(query).scalars()]

        return self._run("reading meetings", work, write=False)

    def leads(self, stage: str | None = None) -> list[Lead]:
        def work(s: Session) -> list[Lead]:
            query = select(Contact).where(
                Contact.email_normalised.is_not(None), Contact.merged_into_id.is_(None)
            )
            if stage is not None:
                query = query.where(Contact.stage == stage)
            return mapping.load_leads(s, list(s.execute(query.order_by(Contact.id)).scalars()))

        return self._run("listing leads", work, write=False)

    def find_lead(self, visit: Visit) -> Lead | None:
        mapping.checked_id(visit.conversation_id, "conversation id")
        mapping.checked_id(visit.visitor_id, "visitor id")

        def work(s: Session) -> Lead | None:
            found = known_contact_id(s, visit)
            if found is None:
                return None
            return mapping.load_leads(s, [contact(s, found, lock=False)])[0]

        return self._run("looking up the lead of a conversation", work, write=False)

    def stages(self, lead_ids: Iterable[int]) -> dict[int, str | None]:
        wanted = sorted(set(lead_ids))

        def work(s: Session) -> dict[int, str | None]:
            if not wanted:
                return {}
            rows = s.execute(select(Contact.id, Contact.stage).where(Contact.id.in_(wanted)))
            return {contact_id: stage for contact_id, stage in rows}

        return self._run("reading lead stages", work, write=False)

    def merges(self, lead_id: int) -> list[MergeRecord]:
        def work(s: Session) -> list[MergeRecord]:
            return merge_records(s, contact(s, lead_id, lock=False).id)

        return self._run("reading merges", work, write=False)

    # Writes

    def lead_for(self, visit: Visit) -> Lead:
        mapping.checked_id(visit.conversation_id, "conversation id")
        mapping.checked_id(visit.visitor_id, "visitor id")

        def work(s: Session) -> Lead:
            return mapping.load_leads(s, [contact_for_visit(s, visit, self._now())])[0]

        return self._run("finding the lead of a conversation", work)

    def save_answer(self, lead_id: int, answer: Answer) -> None:
        values = mapping.answer_values(answer)
        personal = answer.attribute in PERSONAL_ATTRIBUTES and answer.value is not None

        def change(s: Session, lead: Contact) -> None:
            if personal and not consent_in_force(s, lead.id):
                raise ConsentRequired(f"lead {lead.id}: {answer.attribute} needs a consent")
            record_answer(s, AnswerRow(contact_id=lead.id, **values))
            refresh_views(s, lead, self._now())
            self._publish(s, lead, sync_event.ANSWER_SAVED, {
                "attribute": answer.attribute, "value": answer_text(answer.attribute, answer.value),
                "status": answer.status, "source": answer.source,
            })  # fmt: skip

        self._write("saving an answer", lead_id, change)

    def record_consent(self, lead_id: int, consent: Consent) -> None:
        add = _adding(ConsentRow, mapping.consent_values(consent))

        def change(s: Session, lead: Contact) -> None:
            add(s, lead)
            self._publish(s, lead, sync_event.CONSENT_RECORDED, {
                "purpose": consent.purpose, "text_version": consent.text_version,
                "given_at": stamp(consent.given_at), "legal_basis": sync_event.DEFAULT_LEGAL_BASIS,
            })  # fmt: skip

        self._write("recording a consent", lead_id, change)

    def withdraw_consent(self, lead_id: int, at: datetime) -> None:
        withdrawn_at = as_utc(at)
        self._write("withdrawing a consent", lead_id,
                    lambda s, lead: self._withdraw(s, lead, withdrawn_at))  # fmt: skip

    def _withdraw(self, s: Session, lead: Contact, withdrawn_at: datetime) -> None:
        in_force = select(ConsentRow).where(
            ConsentRow.contact_id == lead.id, ConsentRow.withdrawn_at.is_(None)
        )
        for consent in s.execute(in_force).scalars():
            consent.withdrawn_at = withdrawn_at
        personal = delete(AnswerRow).where(
            AnswerRow.contact_id == lead.id,
            AnswerRow.attribute.in_(sorted(PERSONAL_ATTRIBUTES)),
        )
        s.execute(personal.execution_options(synchronize_session=False))
        crm_events.drop_notifications(s.connection(), lead.id)
        claims.drop_claims(s, [lead.id])  # its own claims, and others' of its address:
        claims.drop_claims_of_holders(s, [lead.id])  # they hold the address too
        # The unanswered questions' texts were kept under this consent: only counts stay.
        conversations = select(Conversation.conversation_id).where(
            Conversation.contact_id == lead.id
        )
        s.execute(
            update(unanswered_questions)
            .where(unanswered_questions.c.conversation_id.in_(conversations))
            .values(text=None)
        )
        if self.connectors:
            self._withdraw_at_crms(s, lead, withdrawn_at)
        lead.email = lead.email_normalised = lead.phone_normalised = None
        lead.freemail = False
        refresh_views(s, lead, self._now())  # name and phone: no answers left

    def erase(
        self, lead_ids: Sequence[int], at: datetime, requested_by: str,
        renamed: Mapping[str, str] | None = None,
    ) -> dict[str, str]:  # fmt: skip
        """Erases the leads (and the contacts merged into them): the consent withdrawal,
        then `erasure.anonymise` (conversation ids replaced as `renamed` says, else by
        random ones); one audit row without personal data. Returns old -> new ids."""
        erased_at = as_utc(at)

        def work(s: Session) -> dict[str, str]:
            done: dict[str, str] = {}
            for lead_id in lead_ids:
                lead = contact(s, lead_id)
                self._withdraw(s, lead, erased_at)
                merged = select(Contact.id).where(Contact.merged_into_id == lead.id)
                ids = [lead.id, *s.execute(merged).scalars()]
                done.update(anonymise(s, ids, {**(renamed or {}), **done}))
            s.add(PrivacyAuditRow(action="erase", leads=len(lead_ids),
                                  conversations=len(done), requested_by=requested_by[:64],
                                  at=self._now()))  # fmt: skip
            return done

        return self._run("erasing leads", work)

    def identify(
        self, lead_id: int, email: str, freemail: bool, conversation_id: str | None = None
    ) -> int:
        address, normalised = normalised_email(email)
        mapping.checked_id(conversation_id, "conversation id")

        def work(s: Session) -> int:
            lead = contact(s, lead_id)
            if not consent_in_force(s, lead.id):
                raise ConsentRequired(f"lead {lead.id}: an email needs a consent")
            holder = select(Contact).where(
                Contact.email_normalised == normalised,
                Contact.merged_into_id.is_(None),
                Contact.id != lead.id,
            )
            other = s.execute(
                holder.with_for_update().execution_options(populate_existing=True)
            ).scalar_one_or_none()
            if other is not None:
                return self._merged(s, lead, other, BY_EMAIL, conversation_id)
            lead.email, lead.email_normalised, lead.freemail = address, normalised, freemail
            lead.updated_at = self._now()
            s.flush()  # a concurrent identify of the same email fails here, and is retried
            self._publish(s, lead, sync_event.IDENTIFIED, {})
            return lead.id

        return self._run("identifying a lead", work)

    def claim_email(
        self, lead_id: int, email: str, freemail: bool, code: str, mail: Notification,
        conversation_id: str | None = None,
    ) -> Claim | None:  # fmt: skip
        address, normalised = normalised_email(email)
        mapping.checked_id(conversation_id, "conversation id")
        if code_in(code) != code:
            raise ValueError(f"a code has {CODE_DIGITS} digits")
        notify = self._notifying([mail])

        def work(s: Session) -> Claim | None:
            lead = contact(s, lead_id)
            if not consent_in_force(s, lead.id):
                raise ConsentRequired(f"lead {lead.id}: an email needs a consent")
            if lead.email_normalised == normalised:
                return None
            holder = s.execute(
                select(Contact).where(
                    Contact.email_normalised == normalised,
                    Contact.merged_into_id.is_(None),
                    Contact.id != lead.id,
                )
            ).scalar_one_or_none()
            if holder is None:
                lead.email, lead.email_normalised, lead.freemail = address, normalised, freemail
                lead.updated_at = self._now()
                s.flush()  # a concurrent claim of the same new address fails here: retried
                self._publish(s, lead, sync_event.IDENTIFIED, {})
            # The mail to a known address is its holder's: erased with the holder's data.
            notify(s, lead if holder is None else holder)
            claim = claims.NewClaim(lead.id, None if holder is None else holder.id, address,
                                    normalised, freemail, conversation_id)  # fmt: skip
            return claims.add_claim(s, claim, code, self._now())

        return self._run("claiming an email", work)

    def open_claim(self, lead_id: int) -> Claim | None:
        def work(s: Session) -> Claim | None:
            row = claims.open_claim_row(s, contact(s, lead_id, lock=False).id)
            return None if row is None else claims.as_claim(row)

        return self._run("reading a claim", work, write=False)

    def verify_code(self, lead_id: int, code: str) -> Verification:
        def work(s: Session) -> Verification:
            lead = contact(s, lead_id)
            row = claims.open_claim_row(s, lead.id)
            if row is None:
                return Verification(NO_CLAIM, lead.id)
            if row.expires_at <= self._now():
                s.delete(row)
                return Verification(EXPIRED, lead.id)
            if not claims.matches(row, code):
                row.attempts += 1
                left = MAX_CODE_ATTEMPTS - row.attempts
                if left <= 0:
                    s.delete(row)
                return Verification(WRONG_CODE, lead.id, max(left, 0))
            return self._proven(s, lead, row)

        return self._run("verifying a code", work)

    def _proven(self, s: Session, lead: Contact, row: claims.IdentityClaimRow) -> Verification:
        """The claim's code came back: the address is the lead's, or the lead joins the
        contact that has it (if it still has it; else the address is free to take)."""
        normalised, conversation_id = row.email_normalised, row.conversation_id
        address, freemail = row.email, row.freemail
        s.delete(row)
        s.flush()
        holder = s.execute(
            select(Contact)
            .where(
                Contact.email_normalised == normalised,
                Contact.merged_into_id.is_(None),
                Contact.id != lead.id,
            )
            .with_for_update()
            .execution_options(populate_existing=True)
        ).scalar_one_or_none()
        if holder is not None:
            merged_into = self._merged(s, lead, holder, BY_EMAIL, conversation_id)
            self._confirm(s, holder)
            return Verification(JOINED, merged_into)
        if lead.email_normalised != normalised:  # its holder went (erased, withdrawn)
            lead.email, lead.email_normalised, lead.freemail = address, normalised, freemail
            s.flush()
            self._publish(s, lead, sync_event.IDENTIFIED, {})
        self._confirm(s, lead)
        return Verification(CONFIRMED, lead.id)

    def _confirm(self, s: Session, lead: Contact) -> None:
        """The double opt-in, recorded with the consents in force."""
        in_force = select(ConsentRow).where(
            ConsentRow.contact_id == lead.id, ConsentRow.withdrawn_at.is_(None)
        )
        for consent in s.execute(in_force).scalars():
            consent.confirmed_at = self._now()
        lead.updated_at = self._now()

    def identify_phone(self, lead_id: int, phone: str, conversation_id: str | None = None) -> int:
        from crm_adapter.phone import normalised_phone  # see find_by_phone

        number = normalised_phone(phone)
        if number is None:
            raise ValueError("a phone number has a country code or a leading 0, 8 to 15 digits")
        mapping.checked_id(conversation_id, "conversation id")

        def work(s: Session) -> int:
            lead = contact(s, lead_id)
            if not consent_in_force(s, lead.id):
                raise ConsentRequired(f"lead {lead.id}: a phone number needs a consent")
            # Its own number: nothing to do, and no waiting for the number's lock, which
            # another lead's transaction, about to merge into this one, may hold.
            if lead.phone_normalised == number:
                return lead.id
            lock_phone(s, number)
            other = phone_holder(s, number, besides=lead.id)
            if other is not None and not _different_emails(lead, other):
                return self._merged(s, lead, other, BY_PHONE, conversation_id)
            if lead.phone_normalised is None:
                lead.phone_normalised = number
                refresh_views(s, lead, self._now())  # the number is its phone if none is
                self._publish(s, lead, sync_event.IDENTIFIED, {})
            return lead.id

        return self._run("identifying a lead by phone", work)

    def _merged(
        self, s: Session, lead: Contact, other: Contact, reason: str, conversation_id: str | None
    ) -> int:
        """Merges `lead` into `other` (both locked) and returns the id of `other`."""
        merge_into(s, lead, other, self._now(), reason, conversation_id)
        claims.drop_claims(s, [lead.id])
        # its undelivered events go to the CRMs as the other's, its notifications too
        crm_events.carry_pending(s.connection(), lead.id, other.id)
        self._publish(s, other, sync_event.IDENTIFIED, {})
        return other.id

    def _withdraw_at_crms(self, s: Session, lead: Contact, at: datetime) -> None:
        """Erases what the outbox holds of the contact and of the contacts merged into
        it, and tells every CRM that has a record of them (found by the email, or by
        the record's id for a merged contact, whose email is gone)."""
        merged = select(Contact.id).where(Contact.merged_into_id == lead.id)
        ids = [lead.id, *s.execute(merged).scalars()]
        c = s.connection()
        records = crm_events.linked_records(c, ids[1:])
        crm_events.erase(c, ids)
        change = {"withdrawn_at": stamp(at)}
        if lead.email is not None:
            crm_events.enqueue(c, lead.id, sync_event.CONSENT_WITHDRAWN, {
                "contact": {"email": lead.email}, "change": change}, self._now(),
                self.connectors)  # fmt: skip
        for contact_id, connector in records:
            if connector in self.connectors:
                crm_events.enqueue(c, contact_id, sync_event.CONSENT_WITHDRAWN, {
                    "contact": {"email": None}, "change": change}, self._now(),
                    (connector,))  # fmt: skip

    def add_interest_event(self, lead_id: int, event: InterestEvent) -> None:
        values = mapping.interest_values(event)
        self._write("adding an interest event", lead_id, _adding(InterestEventRow, values))

    def add_scoring_events(
        self, lead_id: int, events: list[ScoringEvent], explanation: Sequence[str] = ()
    ) -> None:
        add = _adding(ScoringEventRow, *[mapping.scoring_values(event) for event in events])
        change = {"events": [
            {"axis": e.axis, "cause": e.cause, "change": e.change, "value_after": e.value_after}
            for e in events
        ], "explanation": [line[:500] for line in explanation][:50]}  # fmt: skip

        def work(s: Session, lead: Contact) -> None:
            add(s, lead)
            if events:
                self._publish(s, lead, sync_event.SCORE_CHANGED, change)

        self._write("adding scoring events", lead_id, work)

    def change_stage(self, lead_id: int, change: StageRecord) -> None:
        if change.new not in lifecycle.STAGES:
            raise ValueError(f"unknown lifecycle stage {change.new!r}")
        add = _adding(StageRow, mapping.stage_values(change))

        def work(s: Session, lead: Contact) -> None:
            add(s, lead)
            lead.stage = change.new
            lead.updated_at = self._now()
            self._publish(s, lead, sync_event.STAGE_CHANGED, {
                "old": change.old, "new": change.new, "cause": change.cause,
                "actor": change.actor})  # fmt: skip

        self._write("changing a stage", lead_id, work)

    def add_task(self, lead_id: int, task: SalesTask, notify: Sequence[Notification] = ()) -> None:
        add_task = _adding(SalesTaskRow, mapping.task_values(task))
        add_notifications = self._notifying(notify)

        def change(s: Session, lead: Contact) -> None:
            add_task(s, lead)
            add_notifications(s, lead)
            self._publish(s, lead, sync_event.TASK_CREATED, {
                "kind": task.kind, "note": task.note, "due_at": stamp(task.due_at),
                "assignee": {"staff_id": task.assignee, "email": None} if task.assignee else None,
            })  # fmt: skip

        self._write("adding a task", lead_id, change)

    def book_meeting(
        self, lead_id: int, meeting: Meeting, notify: Sequence[Notification] = ()
    ) -> Meeting:
        values = mapping.meeting_values(meeting)
        add_notifications = self._notifying(notify)
        overlapping = _overlapping(values["staff_id"], values["start_at"], values["end_at"])

        def work(s: Session) -> Meeting:
            lead = contact(s, lead_id)
            _lock_calendar(s, meeting.staff_id)
            if s.execute(overlapping.limit(1)).first() is not None:
                raise SlotTaken(f"{meeting.staff_id} has a meeting overlapping that time")
            row = MeetingRow(contact_id=lead.id, **values)
            s.add(row)
            add_notifications(s, lead)
            s.flush()
            self._publish(s, lead, sync_event.MEETING_BOOKED, {
                "staff": {"staff_id": meeting.staff_id, "email": None},
                "start": stamp(meeting.start), "end": stamp(meeting.end), "title": meeting.title,
            })  # fmt: skip
            return mapping.meeting_of(row)

        return self._run("booking a meeting", work)

    def _notifying(self, notify: Sequence[Notification]) -> Callable[[Session, Contact], None]:
        """A change adding `notify` to the outbox, due now; checked here, before any SQL."""
        now = self._now()
        payloads = [mapping.notification_payload(n) for n in notify]

        def add(s: Session, lead: Contact) -> None:
            for payload in payloads:
                crm_events.enqueue(s.connection(), lead.id, crm_events.NOTIFICATION, payload,
                                   now, (crm_events.NOTIFY,))  # fmt: skip

        return add

    def record_feedback(self, lead_id: int, feedback: Feedback) -> None:
        add = _adding(FeedbackRow, mapping.feedback_values(feedback))

        def work(s: Session, lead: Contact) -> None:
            add(s, lead)
            s.flush()
            refresh_verdict(s, lead)
            lead.updated_at = self._now()
            self._publish(s, lead, sync_event.FEEDBACK_RECORDED, {
                "decision": feedback.decision, "reason": feedback.reason,
                "actor": feedback.actor})  # fmt: skip

        self._write("recording feedback", lead_id, work)


def _different_emails(lead: Contact, other: Contact) -> bool:
    """Whether both contacts have an email, and not the same one."""
    emails = (lead.email_normalised, other.email_normalised)
    return None not in emails and emails[0] != emails[1]


def _overlapping(staff_id: str, start: datetime, end: datetime) -> Any:
    """The booked meetings of `staff_id` that share time with [start, end)."""
    return select(MeetingRow).where(
        MeetingRow.staff_id == staff_id,
        MeetingRow.status == BOOKED,
        MeetingRow.start_at < end,
        MeetingRow.end_at > start,
    )


def _lock_calendar(s: Session, staff_id: str) -> None:
    """Makes bookings for one person take turns until the end of the transaction.

    PostgreSQL: an advisory lock (two persons whose ids hash alike merely wait for each
    other). SQLite: nothing to do, BEGIN IMMEDIATE already lets one writer in at a time.
    """
    if s.get_bind().dialect.name == "postgresql":
        s.execute(
            text("SELECT pg_advisory_xact_lock(:space, hashtext(:staff_id))"),
            {"space": MEETING_LOCKS, "staff_id": staff_id},
        )


def _adding(model: Any, *values: dict[str, Any]) -> Callable[[Session, Contact], None]:
    """A change that adds rows of `model` with `values` to the contact."""

    def change(s: Session, lead: Contact) -> None:
        s.add_all([model(contact_id=lead.id, **row) for row in values])

    return change
