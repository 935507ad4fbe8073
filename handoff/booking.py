"""Arranging a callback and booking a meeting: when, with whom, what is written and who
is told.

Plain Python on the desk (its routing model, office hours and labels) and the handoff
texts; no Rasa, no store. `plan_callback` says when the callback can happen (the
team's next opening), who does it and whom to email; `plan_meeting` checks the chosen
slot against what was offered and makes the calendar invitation. Each plan gives the
sales task or meeting, the notifications (the staff's in German, the visitor's in the
conversation's language) and the visitor's confirmation. The action records the
visitor's answers and stores the plan in one unit of work.
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, tzinfo

from crm_adapter.port import Meeting, Notification, SalesTask
from handoff.desk import Desk, moment
from handoff.ics import meeting_invitation
from handoff.routing_model import StaffMember, Team
from handoff.texts import HandoffTexts

STAFF_LANGUAGE = "de"  # the language of staff emails and chat lines


class BookingError(ValueError):
    """A meeting without a person, a time or an email, or at a time never offered."""


def chat_notifications(text: str) -> list[Notification]:
    """A line for the team chat (Slack and Teams; the dispatcher skips what is not set up)."""
    return [Notification("slack", text, ""), Notification("teams", text, "")]


@dataclass(frozen=True)
class CallbackPlan:
    person: str | None  # the staff member who calls back, None: the team
    opening: datetime  # the team's next opening
    zone: tzinfo  # the team's office hours' zone, in which the opening is told
    recipient: str  # who is emailed: the person, else the team
    label: str  # the person or team as the visitor reads it

    def when(self, language: str) -> str:
        return moment(self.opening.astimezone(self.zone), language)

    def task(self, window: str | None, now: datetime) -> SalesTask:
        return SalesTask("callback", window or "", self.opening, now, assignee=self.person)

    def notifications(
        self, texts: HandoffTexts, lead_id: int, stage: str | None, phone: str | None,
        window: str | None, conversation_id: str,
    ) -> list[Notification]:  # fmt: skip
        values = {"phone": phone or "", "window": window or "", "lead": str(lead_id),
                  "stage": stage or "-", "conversation": conversation_id}  # fmt: skip
        chat = texts.text("callback_chat", STAFF_LANGUAGE, person=self.label, lead=str(lead_id),
                          next=self.when(STAFF_LANGUAGE))  # fmt: skip
        return [
            Notification("email", texts.text("callback_email_subject", STAFF_LANGUAGE, **values),
                         texts.text("callback_email_body", STAFF_LANGUAGE, **values),
                         (self.recipient,)),  # fmt: skip
            *chat_notifications(chat),
        ]

    def confirmation(
        self, texts: HandoffTexts, language: str, phone: str | None, window: str | None
    ) -> str:
        return texts.text("callback_confirmed", language, person=self.label, phone=phone or "",
                          window=window or "", next=self.when(language))  # fmt: skip


def plan_callback(
    desk: Desk, person: str | None, team: Team, language: str, now: datetime
) -> CallbackPlan:
    hours = desk.hours(team.key)
    staff = desk.model.staff.get(person or "")
    label = desk.person_label(person, language) or desk.team_label(team.key, language)
    recipient = staff.email if staff else team.email
    return CallbackPlan(person, hours.next_opening(now), hours.zone, recipient, label)


@dataclass(frozen=True)
class MeetingPlan:
    person: str
    staff: StaffMember
    start: datetime
    end: datetime
    email: str  # the visitor's
    label: str  # the person as the visitor reads it
    title: str
    body: str  # the visitor's email, also the invitation's description
    invitation: str  # the iCalendar text sent to both

    def meeting(self, now: datetime) -> Meeting:
        return Meeting(self.person, self.start, self.end, self.title, now)

    def when(self, language: str) -> str:
        return moment(self.start.astimezone(self.staff.working_hours.zone), language)

    def notifications(
        self, texts: HandoffTexts, language: str, lead_id: int, conversation_id: str
    ) -> list[Notification]:
        staff_when = self.when(STAFF_LANGUAGE)
        values = {"slot": staff_when, "lead": str(lead_id), "email": self.email,
                  "conversation": conversation_id}  # fmt: skip
        return [
            Notification("email", self.title, self.body, (self.email,), self.invitation),
            Notification("email", self.title,
                         texts.text("meeting_staff_body", STAFF_LANGUAGE, **values),
                         (self.staff.email,), self.invitation),  # fmt: skip
            *chat_notifications(texts.text("meeting_chat", STAFF_LANGUAGE,
                                           person=self.staff.name, slot=staff_when,
                                           lead=str(lead_id))),  # fmt: skip
        ]

    def confirmation(self, texts: HandoffTexts, language: str) -> str:
        return texts.text("meeting_confirmed", language, slot=self.when(language),
                          person=self.label, email=self.email)  # fmt: skip


def plan_meeting(
    desk: Desk, texts: HandoffTexts, person: str | None, slot: str | None, email: str | None,
    offered: Sequence[Sequence[str]], language: str, now: datetime,
) -> MeetingPlan:  # fmt: skip
    """The meeting at `slot` (an ISO start among the `offered` (label, start, end)
    triples) with `person`; BookingError if something is missing or never offered."""
    if person is None or slot is None or email is None or person not in desk.model.staff:
        raise BookingError("a meeting needs a person, a time and an email")
    ends = [o[2] for o in offered if len(o) == 3 and o[1] == slot]
    if not ends:
        raise BookingError("the time was not offered")
    staff = desk.model.staff[person]
    start, end = datetime.fromisoformat(slot), datetime.fromisoformat(ends[0])
    title = texts.text("meeting_title", language, person=staff.name)
    body = texts.text("meeting_email_body", language, person=staff.name,
                      slot=moment(start.astimezone(staff.working_hours.zone), language))
    invitation = meeting_invitation(
        uid=f"{uuid.uuid4()}@lotse", start=start, end=end, summary=title, description=body,
        organizer=(staff.name, staff.email), attendees=[(email, email)], now=now,
    )  # fmt: skip
    label = desk.person_label(person, language) or staff.name
    return MeetingPlan(person, staff, start, end, email, label, title, body, invitation)
