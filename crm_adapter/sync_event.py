"""The events Lotse sends to external CRMs: their kinds, their payload, and the
structured timeline entry each becomes (a note in HubSpot, an annotation in Dynamics).

Every payload is `{"contact": {...}, "change": {...}}`. `contact` is the contact as it
stood right after the change (so a connector can create or update the CRM record from
any single event, and events of one contact are delivered in order):

    email, name, phone, company        the contact (email is always set)
    stage                              Lotse's lifecycle stage or None
    fit, interest                      the scores (fit None while nothing is known)
    consent                            {"purpose", "text_version", "given_at",
                                        "legal_basis"} or None once withdrawn
    answers                            {question key: the answer as text}
    owner                              {"staff_id", "email"} of the routed sales person,
                                       or None

`change` depends on the kind:

    contact.identified   {"scores": [as in score.changed's events]}  (the first event
                          of a contact: the scoring so far, with its causes)
    answer.saved         {"attribute", "value", "status", "source"}
    consent.recorded     {"purpose", "text_version", "given_at", "legal_basis"}
    consent.withdrawn    {"withdrawn_at"}      (contact holds the email only)
    score.changed        {"events": [{"axis", "cause", "change", "value_after"}],
                          "explanation": [the scores explained, line by line]}
    stage.changed        {"old", "new", "cause", "actor"}
    task.created         {"kind", "note", "due_at", "assignee": {"staff_id", "email"}|None}
    meeting.booked       {"staff": {"staff_id", "email"}, "start", "end", "title"}
    feedback.recorded    {"decision", "reason", "actor"}
    handoff.closed       {"team", "agent", "outcome", "reason", "requested_at",
                          "closed_at", "transcript": [{"from", "text", "at"}]}

Times are ISO 8601 strings with an offset. Only contacts with an email (which needs a
consent) get events; the payloads hold personal data and are never logged.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from html import escape
from typing import Any

IDENTIFIED = "contact.identified"
ANSWER_SAVED = "answer.saved"
CONSENT_RECORDED = "consent.recorded"
CONSENT_WITHDRAWN = "consent.withdrawn"
SCORE_CHANGED = "score.changed"
STAGE_CHANGED = "stage.changed"
TASK_CREATED = "task.created"
MEETING_BOOKED = "meeting.booked"
FEEDBACK_RECORDED = "feedback.recorded"
HANDOFF_CLOSED = "handoff.closed"
KINDS = (
    IDENTIFIED, ANSWER_SAVED, CONSENT_RECORDED, CONSENT_WITHDRAWN, SCORE_CHANGED,
    STAGE_CHANGED, TASK_CREATED, MEETING_BOOKED, FEEDBACK_RECORDED, HANDOFF_CLOSED,
)  # fmt: skip
DEFAULT_LEGAL_BASIS = "consent, Art. 6(1)(a) GDPR"
TEXT_LIMIT = 2000  # one line of an entry, at most


@dataclass(frozen=True)
class TimelineEntry:
    """One structured entry on the contact's timeline: a title and labelled lines."""

    title: str
    lines: tuple[tuple[str, str], ...]
    marker: str  # "lotse-event-<event id>": lets a connector find an entry it wrote

    def text(self) -> str:
        body = "\n".join(f"{label}: {value}" for label, value in self.lines)
        return f"{self.title}\n{body}\n{self.marker}".strip()

    def html(self) -> str:
        """For CRMs that render HTML (HubSpot notes): every value escaped."""
        rows = "".join(
            f"<li><strong>{escape(label)}:</strong> {escape(value)}</li>"
            for label, value in self.lines
        )
        return f"<p><strong>{escape(self.title)}</strong></p><ul>{rows}</ul><p>{self.marker}</p>"


def stamp(moment: datetime | None) -> str | None:
    """A time as the payloads carry it: ISO 8601 with its offset."""
    return moment.isoformat() if moment else None


def marker(event_id: str) -> str:
    return f"lotse-event-{event_id}"


def _text(value: Any) -> str:
    return ("" if value is None else str(value))[:TEXT_LIMIT]


def _person(person: Mapping[str, Any] | None) -> str:
    if not person:
        return "the team"
    return _text(person.get("email") or person.get("staff_id"))


def _lines(kind: str, change: Mapping[str, Any]) -> list[tuple[str, str]]:
    if kind == ANSWER_SAVED:
        return [("Question", _text(change.get("attribute"))), ("Answer", _text(change.get(
            "value"))), ("Status", _text(change.get("status"))),
            ("Source", _text(change.get("source")))]  # fmt: skip
    if kind in (CONSENT_RECORDED,):
        return [("Purpose", _text(change.get("purpose"))), ("Legal basis", _text(change.get(
            "legal_basis"))), ("Wording version", _text(change.get("text_version"))),
            ("Given at", _text(change.get("given_at")))]  # fmt: skip
    if kind == CONSENT_WITHDRAWN:
        return [("Withdrawn at", _text(change.get("withdrawn_at")))]
    if kind == SCORE_CHANGED:
        changes = [
            (f"{_text(e.get('axis')).capitalize()} {float(e.get('change') or 0):+g}",
             f"{_text(e.get('cause'))} (now {_text(e.get('value_after'))})")
            for e in change.get("events", [])
        ]  # fmt: skip
        return changes + [("Explanation", _text(line)) for line in change.get("explanation", [])]
    if kind == STAGE_CHANGED:
        return [("From", _text(change.get("old") or "none")),
                ("To", _text(change.get("new"))), ("Cause", _text(change.get("cause"))),
                ("By", _text(change.get("actor")))]  # fmt: skip
    if kind == TASK_CREATED:
        return [("Kind", _text(change.get("kind"))), ("Due", _text(change.get("due_at"))),
                ("For", _person(change.get("assignee"))),
                ("Note", _text(change.get("note")))]  # fmt: skip
    if kind == MEETING_BOOKED:
        return [("With", _person(change.get("staff"))),
                ("From", _text(change.get("start"))), ("To", _text(change.get("end"))),
                ("Title", _text(change.get("title")))]  # fmt: skip
    if kind == FEEDBACK_RECORDED:
        return [("Decision", _text(change.get("decision"))), ("Reason", _text(change.get(
            "reason"))), ("By", _text(change.get("actor")))]  # fmt: skip
    if kind == HANDOFF_CLOSED:
        head = [("Team", _text(change.get("team"))), ("Agent", _text(change.get("agent"))),
                ("Outcome", _text(change.get("outcome"))), ("Reason", _text(change.get(
                "reason"))), ("Requested", _text(change.get("requested_at"))),
                ("Closed", _text(change.get("closed_at")))]  # fmt: skip
        said = [(_text(m.get("from")), _text(m.get("text"))) for m in change.get("transcript", [])]
        return head + said
    return []


TITLES = {
    IDENTIFIED: "Lotse: new contact from the chat",
    ANSWER_SAVED: "Lotse: qualification answer",
    CONSENT_RECORDED: "Lotse: consent given",
    CONSENT_WITHDRAWN: "Lotse: consent withdrawn",
    SCORE_CHANGED: "Lotse: score changed",
    STAGE_CHANGED: "Lotse: lifecycle stage changed",
    TASK_CREATED: "Lotse: task",
    MEETING_BOOKED: "Lotse: meeting booked",
    FEEDBACK_RECORDED: "Lotse: sales feedback",
    HANDOFF_CLOSED: "Lotse: chat with a person (transcript)",
}


def timeline_entry(event_id: str, kind: str, payload: Mapping[str, Any]) -> TimelineEntry:
    """The entry for an event; for `contact.identified` it lists the answers and the
    scoring so far."""
    change = payload.get("change") or {}
    lines = _lines(kind, change)
    if kind == IDENTIFIED:
        answers = (payload.get("contact") or {}).get("answers") or {}
        lines = [(_text(key), _text(value)) for key, value in answers.items()]
        lines += _lines(SCORE_CHANGED, {"events": change.get("scores", [])})
    return TimelineEntry(TITLES.get(kind, f"Lotse: {kind}"), tuple(lines), marker(event_id))


def split_name(name: str | None) -> tuple[str | None, str | None]:
    """("Anna Maria", "Schmidt") from "Anna Maria Schmidt"; one word is a last name."""
    words = (name or "").split()
    if not words:
        return None, None
    if len(words) == 1:
        return None, words[0]
    return " ".join(words[:-1]), words[-1]


def contact_of(payload: Mapping[str, Any]) -> Mapping[str, Any]:
    return payload.get("contact") or {}


def transcript_lines(messages: Sequence[Mapping[str, Any]], limit: int = 50) -> list[dict]:
    """The last `limit` messages of a handoff chat, each cut to TEXT_LIMIT characters."""
    return [
        {"from": _text(m.get("from")), "text": _text(m.get("text")), "at": _text(m.get("at"))}
        for m in list(messages)[-limit:]
    ]


def with_staff_emails(payload: Mapping[str, Any], emails: Mapping[str, str]) -> dict[str, Any]:
    """The payload with the emails of the staff it names (owner, assignee, meeting) filled
    in from `emails` (staff id -> address, from routing.yml), so a connector can find the
    person's user in the CRM."""

    def person(value: Any) -> Any:
        if isinstance(value, Mapping) and value.get("staff_id") and not value.get("email"):
            return {**value, "email": emails.get(value["staff_id"])}
        return value

    contact = dict(payload.get("contact") or {})
    if "owner" in contact:
        contact["owner"] = person(contact["owner"])
    change = {key: person(value) for key, value in (payload.get("change") or {}).items()}
    return {**payload, "contact": contact, "change": change}
