"""The local CRM store's tables (all prefixed `crm_`), as SQLAlchemy declarative models.

The schema itself is created by the Alembic migrations in `lotse/migrations/`
(never by `metadata.create_all`); a test checks that the migrated schema matches these
models. Personal data lives in `crm_contacts.email`, `.email_normalised`, `.name`,
`.phone`, `.phone_normalised`, in the `crm_answers` rows of PERSONAL_ATTRIBUTES and in
the outbox's notifications (`crm_events` of connector "notify": recipients, subject,
body, invitation) and CRM events; everything else is anonymous (ids, firmographics,
events, stages, tasks, meetings, merges), except that a messenger's conversation id
may hold the person's platform id (a WhatsApp conversation's is
"twilio:whatsapp:<phone number>").

Datetimes go in and come out timezone-aware in UTC (`UtcDateTime`): a naive datetime
is refused with ValueError, and SQLite's naive values are read back as UTC.
"""

from __future__ import annotations

from datetime import datetime, timezone
from typing import Any

from sqlalchemy import (
    JSON,
    Boolean,
    Column,
    DateTime,
    Float,
    ForeignKey,
    Index,
    Integer,
    MetaData,
    String,
    Text,
    event,
    text,
)
from sqlalchemy.engine import Connection
from sqlalchemy.orm import declarative_base
from sqlalchemy.types import TypeDecorator

NAMING_CONVENTION = {
    "pk": "pk_%(table_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ix": "ix_%(table_name)s_%(column_0_name)s",
}
Base = declarative_base(metadata=MetaData(naming_convention=NAMING_CONVENTION))


def as_utc(value: datetime) -> datetime:
    """`value` in UTC; ValueError for a naive datetime (its zone would be a guess)."""
    if value.tzinfo is None or value.utcoffset() is None:
        raise ValueError("the CRM store takes timezone-aware datetimes only")
    return value.astimezone(timezone.utc)


class UtcDateTime(TypeDecorator):
    """`DateTime(timezone=True)` that stores UTC and always returns aware UTC values."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: Any, dialect: Any) -> datetime | None:
        return None if value is None else as_utc(value)

    def process_result_value(self, value: Any, dialect: Any) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:  # SQLite keeps no zone; we only ever store UTC
            return value.replace(tzinfo=timezone.utc)
        return value.astimezone(timezone.utc)


def partial_index(name: str, *columns: str, where: str, unique: bool = False) -> Index:
    """An index of the rows `where` holds, on SQLite and on PostgreSQL (the same WHERE).
    SQLite's option is named here, PostgreSQL's (`postgresql_where`) only when tables
    are created on PostgreSQL (`_postgresql_where`): naming it here would make
    SQLAlchemy import its whole PostgreSQL dialect to check the keyword, in every
    process, also a command on SQLite (`lotse leads list`). The schema itself is the
    migrations', which name both."""
    clause = text(where)
    return Index(name, *columns, unique=unique, sqlite_where=clause,
                 info={"postgresql_where": clause})  # fmt: skip


def _contact_id() -> Column:
    return Column(Integer, ForeignKey("crm_contacts.id"), nullable=False, index=True)


class Company(Base):
    """The firmographic view of a contact's company, derived from its current answers."""

    __tablename__ = "crm_companies"
    id = Column(Integer, primary_key=True)
    name = Column(String(200))
    legal_form = Column(String(64))
    employees = Column(Integer)
    industry = Column(String(100))
    nace = Column(String(16))
    country = Column(String(64))
    postal_code = Column(String(16))
    updated_at = Column(UtcDateTime, nullable=False)


class Contact(Base):
    """A lead: anonymous until identified; `merged_into_id` set once merged away."""

    __tablename__ = "crm_contacts"
    id = Column(Integer, primary_key=True)
    email = Column(String(254))
    email_normalised = Column(String(254))
    freemail = Column(Boolean, nullable=False, default=False)
    name = Column(String(200))
    phone = Column(String(64))
    phone_normalised = Column(String(32), index=True)  # E.164, as identified by it
    stage = Column(String(32), index=True)
    accepted = Column(Boolean, nullable=False, default=False)
    rejected = Column(Boolean, nullable=False, default=False)
    company_id = Column(Integer, ForeignKey("crm_companies.id"))
    merged_into_id = Column(Integer, ForeignKey("crm_contacts.id"), index=True)
    created_at = Column(UtcDateTime, nullable=False)
    updated_at = Column(UtcDateTime, nullable=False)

    __table_args__ = (Index("uq_crm_contacts_email_normalised", "email_normalised", unique=True),)


class MergeRow(Base):
    """One contact merged into another: why ("email" or "phone"), caused by which
    conversation's answer (None if not known), and when. Stays after the merge."""

    __tablename__ = "crm_merges"
    id = Column(Integer, primary_key=True)
    source_contact_id = Column(Integer, ForeignKey("crm_contacts.id"), nullable=False, index=True)
    target_contact_id = Column(Integer, ForeignKey("crm_contacts.id"), nullable=False, index=True)
    reason = Column(String(16), nullable=False)
    conversation_id = Column(String(128))
    at = Column(UtcDateTime, nullable=False)


class Visitor(Base):
    """A browser (widget visitor id) seen before, and the contact it belongs to."""

    __tablename__ = "crm_visitors"
    id = Column(Integer, primary_key=True)
    visitor_id = Column(String(128), nullable=False)
    contact_id = _contact_id()
    first_seen_at = Column(UtcDateTime, nullable=False)
    last_seen_at = Column(UtcDateTime, nullable=False)

    __table_args__ = (Index("uq_crm_visitors_visitor_id", "visitor_id", unique=True),)


class Conversation(Base):
    __tablename__ = "crm_conversations"
    id = Column(Integer, primary_key=True)
    conversation_id = Column(String(128), nullable=False)
    channel = Column(String(32), nullable=False)
    language = Column(String(8), nullable=False)
    contact_id = _contact_id()
    started_at = Column(UtcDateTime, nullable=False)
    last_seen_at = Column(UtcDateTime, nullable=False)

    __table_args__ = (
        Index("uq_crm_conversations_conversation_id", "conversation_id", unique=True),
    )


class AnswerRow(Base):
    """One answer; the current one of an attribute has `superseded_at` NULL."""

    __tablename__ = "crm_answers"
    id = Column(Integer, primary_key=True)
    contact_id = _contact_id()
    conversation_id = Column(String(128))
    attribute = Column(String(64), nullable=False)
    value = Column(JSON(none_as_null=True))
    status = Column(String(16), nullable=False)
    source = Column(String(16), nullable=False)
    created_at = Column(UtcDateTime, nullable=False)
    superseded_at = Column(UtcDateTime)

    __table_args__ = (
        # At most one current answer per contact and attribute, whatever the race.
        partial_index(
            "uq_crm_answers_current",
            "contact_id",
            "attribute",
            unique=True,
            where="superseded_at IS NULL",
        ),
    )


class ConsentRow(Base):
    __tablename__ = "crm_consents"
    id = Column(Integer, primary_key=True)
    contact_id = _contact_id()
    purpose = Column(String(64), nullable=False)
    text_version = Column(String(32), nullable=False)
    wording = Column(Text, nullable=False)
    language = Column(String(8), nullable=False)
    channel = Column(String(32), nullable=False)
    given_at = Column(UtcDateTime, nullable=False)
    withdrawn_at = Column(UtcDateTime)
    confirmed_at = Column(UtcDateTime)  # the email proven by its code (double opt-in)


class InterestEventRow(Base):
    __tablename__ = "crm_interest_events"
    id = Column(Integer, primary_key=True)
    contact_id = _contact_id()
    kind = Column(String(64), nullable=False)
    at = Column(UtcDateTime, nullable=False)
    conversation_id = Column(String(128))


class ScoringEventRow(Base):
    __tablename__ = "crm_scoring_events"
    id = Column(Integer, primary_key=True)
    contact_id = _contact_id()
    axis = Column(String(16), nullable=False)
    cause = Column(Text, nullable=False)
    change = Column(Float, nullable=False)
    value_after = Column(Integer)
    at = Column(UtcDateTime, nullable=False)


class StageRow(Base):
    __tablename__ = "crm_lifecycle_history"
    id = Column(Integer, primary_key=True)
    contact_id = _contact_id()
    old_stage = Column(String(32))
    new_stage = Column(String(32), nullable=False)
    cause = Column(Text, nullable=False)
    actor = Column(String(64), nullable=False)
    at = Column(UtcDateTime, nullable=False)


class SalesTaskRow(Base):
    __tablename__ = "crm_sales_tasks"
    id = Column(Integer, primary_key=True)
    contact_id = _contact_id()
    kind = Column(String(32), nullable=False)
    note = Column(Text, nullable=False)
    due_at = Column(UtcDateTime)
    status = Column(String(16), nullable=False)
    created_at = Column(UtcDateTime, nullable=False)
    assignee = Column(String(64))  # a staff id; NULL: the team


class MeetingRow(Base):
    """A meeting booked with a staff member; their booked ones never overlap."""

    __tablename__ = "crm_meetings"
    id = Column(Integer, primary_key=True)
    contact_id = _contact_id()
    staff_id = Column(String(64), nullable=False)
    start_at = Column(UtcDateTime, nullable=False)
    end_at = Column(UtcDateTime, nullable=False)
    title = Column(String(200), nullable=False)
    status = Column(String(16), nullable=False)
    created_at = Column(UtcDateTime, nullable=False)

    __table_args__ = (Index("ix_crm_meetings_staff_id_start_at", "staff_id", "start_at"),)


class FeedbackRow(Base):
    __tablename__ = "crm_feedback"
    id = Column(Integer, primary_key=True)
    contact_id = _contact_id()
    decision = Column(String(16), nullable=False)
    reason = Column(Text, nullable=False)
    fit = Column(Integer)
    interest = Column(Integer, nullable=False)
    actor = Column(String(64), nullable=False)
    at = Column(UtcDateTime, nullable=False)


# Everything that belongs to a contact and moves with it when contacts merge.
class PrivacyAuditRow(Base):
    """One erasure: how many leads and conversations, who asked, when. No personal data."""

    __tablename__ = "privacy_audit"

    id = Column(Integer, primary_key=True)
    action = Column(String(16), nullable=False)
    leads = Column(Integer, nullable=False)
    conversations = Column(Integer, nullable=False)
    requested_by = Column(String(64), nullable=False)
    at = Column(UtcDateTime, nullable=False)


class IdentityClaimRow(Base):
    """An email address typed in a conversation of `contact_id`, waiting for its code
    (`crm_adapter.store.claims`). `holder_id`: the contact that had the address when it
    was claimed (None: nobody, a new address). `code_hash`: SHA-256 of a random salt
    and the code, never the code. Personal data: `email`, `email_normalised`."""

    __tablename__ = "crm_identity_claims"
    id = Column(Integer, primary_key=True)
    contact_id = _contact_id()
    holder_id = Column(Integer, ForeignKey("crm_contacts.id"))
    email = Column(String(254), nullable=False)
    email_normalised = Column(String(254), nullable=False)
    freemail = Column(Boolean, nullable=False, default=False)
    salt = Column(String(32), nullable=False)
    code_hash = Column(String(64), nullable=False)
    attempts = Column(Integer, nullable=False, default=0)
    conversation_id = Column(String(128))
    created_at = Column(UtcDateTime, nullable=False)
    expires_at = Column(UtcDateTime, nullable=False)


OWNED_BY_CONTACT = (
    AnswerRow,
    Conversation,
    Visitor,
    ConsentRow,
    InterestEventRow,
    ScoringEventRow,
    StageRow,
    SalesTaskRow,
    MeetingRow,
    FeedbackRow,
)


_DUE = "delivered_at IS NULL AND dead_at IS NULL"


class CrmEventRow(Base):
    """A change for the external CRM (delivery outbox, issue 5): pending until
    `delivered_at` or `dead_at`; delivered one at a time per contact, oldest first.
    `event_id` is the stable idempotency key the connectors send; `last_error` an error
    kind only. Personal data: `payload` may carry the contact's answers."""

    __tablename__ = "crm_events"
    id = Column(Integer, primary_key=True)
    event_id = Column(String(64), nullable=False)
    contact_id = Column(Integer, nullable=False, index=True)
    # Which configured connector (crm: in endpoints.yml) the event is for.
    connector = Column(String(32), nullable=False, server_default="default")
    kind = Column(String(64), nullable=False)
    payload = Column(JSON, nullable=False)
    occurred_at = Column(UtcDateTime, nullable=False)
    attempts = Column(Integer, nullable=False, default=0)
    next_attempt_at = Column(UtcDateTime, nullable=False)
    locked_until = Column(UtcDateTime)
    lease = Column(String(32))  # the token of the claim holding it: only it may mark it
    delivered_at = Column(UtcDateTime)
    dead_at = Column(UtcDateTime)
    last_error = Column(String(200))

    __table_args__ = (
        Index("uq_crm_events_event_id", "event_id", unique=True),
        Index("ix_crm_events_pending", "connector", "contact_id", "delivered_at"),
        # The claim walks the pending events in id order; delivered ones stay out of it.
        partial_index("ix_crm_events_due", "connector", "id", where=_DUE),
    )


class CrmLinkRow(Base):
    """What the delivery worker knows of a contact at one external CRM: the record's id
    there and the values Lotse last wrote to it (so a person's edit there is told apart
    from Lotse's). Personal data: `sent` holds the contact's values as written."""

    __tablename__ = "crm_links"
    contact_id = Column(Integer, primary_key=True)
    connector = Column(String(32), primary_key=True)
    remote_id = Column(String(64))
    sent = Column(JSON, nullable=False)
    updated_at = Column(UtcDateTime, nullable=False)


def postgresql_where_on_create(metadata: MetaData) -> None:
    """`metadata`'s partial indexes (`partial_index`) get their WHERE on PostgreSQL when
    its tables are created there."""
    event.listen(metadata, "before_create", _postgresql_where)


def _postgresql_where(metadata: MetaData, connection: Connection, **_kw: Any) -> None:
    """The partial indexes' WHERE for PostgreSQL, given when tables are created there."""
    if connection.dialect.name != "postgresql":
        return
    for table in metadata.tables.values():
        for index in table.indexes:
            if "postgresql_where" in index.info:
                index.dialect_options["postgresql"]["where"] = index.info["postgresql_where"]


postgresql_where_on_create(Base.metadata)
