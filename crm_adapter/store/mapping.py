"""Rows of the CRM store <-> the port's records, and loading whole `Lead`s.

Records going in become column values here (`*_values`), checked on the way
(datetimes timezone-aware, statuses, sources, decisions and channels known, ids within
their column's length, a meeting ending after it starts): a caller's mistake raises
ValueError before any SQL runs. `notification_payload` takes a notification's personal
data (recipients, texts) into an outbox payload.
`load_leads` reads the personal data of the contacts it is given (email, name, phone,
personal answers) into the returned `Lead`s; it issues one query per table for all
contacts together, whatever their number.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Mapping, Sequence
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from crm_adapter.port import (
    ANSWERED,
    BOOKED,
    CHANNELS,
    EMAIL,
    SOURCES,
    STATUSES,
    Answer,
    Consent,
    Feedback,
    Lead,
    Meeting,
    Notification,
    SalesTask,
    ScoringEvent,
    StageRecord,
)
from crm_adapter.scoring import InterestEvent
from crm_adapter.store.models import (
    AnswerRow,
    ConsentRow,
    Contact,
    Conversation,
    FeedbackRow,
    InterestEventRow,
    MeetingRow,
    SalesTaskRow,
    ScoringEventRow,
    StageRow,
    Visitor,
    as_utc,
)

DECISIONS = ("accept", "reject")
ID_LENGTH = 128
STAFF_ID_LENGTH = 64
ADDRESS_LENGTH = 254
CHUNK = 500  # ids per IN (...) list, well under SQLite's bound-parameter limit


def checked_id(value: str | None, what: str) -> str | None:
    if value is not None and not 0 < len(value) <= ID_LENGTH:
        raise ValueError(f"{what} must be 1 to {ID_LENGTH} characters long")
    return value


def _fitting(model: Any, values: dict[str, Any]) -> dict[str, Any]:
    """`values`, checked against the column lengths (SQLite would not, PostgreSQL would)."""
    for name, value in values.items():
        length = getattr(model.__table__.c[name].type, "length", None)
        if isinstance(value, str) and length is not None and len(value) > length:
            raise ValueError(f"{model.__tablename__}.{name} holds at most {length} characters")
    return values


def answer_values(answer: Answer) -> dict[str, Any]:
    if answer.status not in STATUSES:
        raise ValueError(f"unknown answer status {answer.status!r}")
    if answer.source not in SOURCES:
        raise ValueError(f"unknown answer source {answer.source!r}")
    if answer.status != ANSWERED and answer.value is not None:
        raise ValueError(f"a {answer.status} answer has no value")
    return _fitting(
        AnswerRow,
        dict(
            conversation_id=answer.conversation_id,
            attribute=answer.attribute,
            value=answer.value,
            status=answer.status,
            source=answer.source,
            created_at=as_utc(answer.at),
        ),
    )


def consent_values(consent: Consent) -> dict[str, Any]:
    withdrawn = consent.withdrawn_at
    return _fitting(
        ConsentRow,
        dict(
            purpose=consent.purpose,
            text_version=consent.text_version,
            wording=consent.wording,
            language=consent.language,
            channel=consent.channel,
            given_at=as_utc(consent.given_at),
            withdrawn_at=None if withdrawn is None else as_utc(withdrawn),
            confirmed_at=None if consent.confirmed_at is None else as_utc(consent.confirmed_at),
        ),
    )


def interest_values(event: InterestEvent) -> dict[str, Any]:
    return _fitting(
        InterestEventRow,
        dict(
            kind=event.kind,
            at=as_utc(event.at),
            conversation_id=event.conversation_id,
        ),
    )


def scoring_values(event: ScoringEvent) -> dict[str, Any]:
    return _fitting(
        ScoringEventRow,
        dict(
            axis=event.axis,
            cause=event.cause,
            change=event.change,
            value_after=event.value_after,
            at=as_utc(event.at),
        ),
    )


def stage_values(change: StageRecord) -> dict[str, Any]:
    return _fitting(
        StageRow,
        dict(
            old_stage=change.old,
            new_stage=change.new,
            cause=change.cause,
            actor=change.actor,
            at=as_utc(change.at),
        ),
    )


def task_values(task: SalesTask) -> dict[str, Any]:
    return _fitting(
        SalesTaskRow,
        dict(
            kind=task.kind,
            note=task.note,
            due_at=None if task.due_at is None else as_utc(task.due_at),
            status=task.status,
            created_at=as_utc(task.created_at),
            assignee=_staff_id(task.assignee),
        ),
    )


def _staff_id(value: str | None) -> str | None:
    if value is not None and not 0 < len(value) <= STAFF_ID_LENGTH:
        raise ValueError(f"a staff id must be 1 to {STAFF_ID_LENGTH} characters long")
    return value


def meeting_values(meeting: Meeting) -> dict[str, Any]:
    """A meeting to book: status "booked", a staff id, and start before end."""
    if meeting.status != BOOKED:
        raise ValueError(f"a meeting is booked with status {BOOKED!r}, not {meeting.status!r}")
    _staff_id(meeting.staff_id)
    start, end = as_utc(meeting.start), as_utc(meeting.end)
    if not start < end:
        raise ValueError("a meeting ends after it starts")
    return _fitting(
        MeetingRow,
        dict(
            staff_id=meeting.staff_id,
            start_at=start,
            end_at=end,
            title=meeting.title,
            status=meeting.status,
            created_at=as_utc(meeting.created_at),
        ),
    )


def notification_payload(notification: Notification) -> dict[str, Any]:
    """The outbox payload of `notification`; ValueError if it cannot be sent."""
    channel, to = notification.channel, notification.to
    if channel not in CHANNELS:
        raise ValueError(f"unknown notification channel {channel!r}")
    if channel == EMAIL and not to:
        raise ValueError("an email notification needs at least one recipient")
    if channel != EMAIL and (to or notification.ics is not None):
        raise ValueError(f"a {channel} notification has no recipients and no invitation")
    if any(not isinstance(a, str) or not 0 < len(a) <= ADDRESS_LENGTH for a in to):
        raise ValueError(f"an email address has 1 to {ADDRESS_LENGTH} characters")
    return {
        "channel": channel,
        "to": list(to),
        "subject": notification.subject,
        "body": notification.body,
        "ics": notification.ics,
    }


def meeting_of(row: MeetingRow) -> Meeting:
    return Meeting(
        staff_id=row.staff_id,
        start=row.start_at,
        end=row.end_at,
        title=row.title,
        created_at=row.created_at,
        meeting_id=row.id,
        lead_id=row.contact_id,
        status=row.status,
    )


def notification_of(payload: Mapping[str, Any]) -> Notification:
    """The notification an outbox payload (`notification_payload`) holds."""
    return Notification(
        payload["channel"], payload["subject"], payload["body"], tuple(payload["to"]),
        payload.get("ics"),
    )  # fmt: skip


def feedback_values(feedback: Feedback) -> dict[str, Any]:
    if feedback.decision not in DECISIONS:
        raise ValueError(f"unknown feedback decision {feedback.decision!r}")
    return _fitting(
        FeedbackRow,
        dict(
            decision=feedback.decision,
            reason=feedback.reason,
            fit=feedback.fit,
            interest=feedback.interest,
            actor=feedback.actor,
            at=as_utc(feedback.at),
        ),
    )


def answer_of(row: AnswerRow) -> Answer:
    return Answer(
        attribute=row.attribute,
        value=row.value,
        status=row.status,
        at=row.created_at,
        source=row.source,
        conversation_id=row.conversation_id,
    )


def _records(row: Any) -> Any:
    """The port record of any owned row."""
    if isinstance(row, AnswerRow):
        return answer_of(row)
    if isinstance(row, ConsentRow):
        return Consent(
            row.purpose,
            row.text_version,
            row.wording,
            row.language,
            row.channel,
            row.given_at,
            row.withdrawn_at,
            row.confirmed_at,
        )
    if isinstance(row, InterestEventRow):
        return InterestEvent(row.kind, row.at, row.conversation_id)
    if isinstance(row, ScoringEventRow):
        return ScoringEvent(row.axis, row.cause, row.change, row.value_after, row.at)
    if isinstance(row, StageRow):
        return StageRecord(row.old_stage, row.new_stage, row.cause, row.at, row.actor)
    if isinstance(row, SalesTaskRow):
        return SalesTask(row.kind, row.note, row.due_at, row.created_at, row.status, row.assignee)
    if isinstance(row, MeetingRow):
        return meeting_of(row)
    if isinstance(row, FeedbackRow):
        return Feedback(row.decision, row.reason, row.fit, row.interest, row.actor, row.at)
    raise TypeError(type(row).__name__)


# Each owned table with the column that puts its rows in time order, and the Lead field.
_LOADED: tuple[tuple[Any, Any, str], ...] = (
    (AnswerRow, AnswerRow.created_at, "answer_history"),
    (InterestEventRow, InterestEventRow.at, "interest_events"),
    (ScoringEventRow, ScoringEventRow.at, "scoring_events"),
    (StageRow, StageRow.at, "stages"),
    (ConsentRow, ConsentRow.given_at, "consents"),
    (SalesTaskRow, SalesTaskRow.created_at, "tasks"),
    (MeetingRow, MeetingRow.start_at, "meetings"),
    (FeedbackRow, FeedbackRow.at, "feedback"),
    (Visitor, Visitor.first_seen_at, "visitor_ids"),
    (Conversation, Conversation.started_at, "conversation_ids"),
)


def _owned_rows(s: Session, model: Any, order: Any, ids: list[int]) -> dict[int, list[Any]]:
    rows: dict[int, list[Any]] = defaultdict(list)
    for start in range(0, len(ids), CHUNK):
        query = (
            select(model)
            .where(model.contact_id.in_(ids[start : start + CHUNK]))
            .order_by(order, model.id)
        )
        for row in s.execute(query).scalars():
            rows[row.contact_id].append(row)
    return rows


def _value(row: Any) -> Any:
    if isinstance(row, Visitor):
        return row.visitor_id
    if isinstance(row, Conversation):
        return row.conversation_id
    return _records(row)


def load_leads(s: Session, contacts: Sequence[Contact]) -> list[Lead]:
    """The full `Lead` of each contact, in the order given."""
    ids = [contact.id for contact in contacts]
    owned = {field: _owned_rows(s, model, order, ids) for model, order, field in _LOADED}
    leads = []
    for contact in contacts:
        lead = Lead(
            lead_id=contact.id,
            email=contact.email,
            freemail=contact.freemail,
            name=contact.name,
            phone=contact.phone,
            stage=contact.stage,
            rejected=contact.rejected,
            accepted=contact.accepted,
            created_at=contact.created_at,
        )
        for field, rows in owned.items():
            setattr(lead, field, [_value(row) for row in rows.get(contact.id, [])])
        rows = owned["answer_history"].get(contact.id, [])
        lead.answers = {
            answer.attribute: answer
            for row, answer in zip(rows, lead.answer_history, strict=True)
            if row.superseded_at is None
        }
        leads.append(lead)
    return leads
