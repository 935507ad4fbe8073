"""Callbacks and meetings as plans (handoff/booking.py): when, with whom, what is
written and who is told, on the demo company's routing and texts; no Rasa, no bot."""

from __future__ import annotations

from datetime import datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from handoff.booking import BookingError, plan_callback, plan_meeting
from handoff.desk import Desk
from handoff.routing_model import load_routing_model
from handoff.store import HandoffStore
from handoff.texts import load_handoff_texts
from lotse.migrate import migrated_engine

BERLIN = ZoneInfo("Europe/Berlin")
SATURDAY_10 = datetime(2026, 11, 28, 10, 0, tzinfo=BERLIN)
TUESDAY_10 = datetime(2026, 11, 24, 10, 0, tzinfo=BERLIN)
TEXTS = load_handoff_texts()


@pytest.fixture
def desk(tmp_path: Path) -> Desk:
    store = HandoffStore(migrated_engine(f"sqlite:///{tmp_path / 'lotse.db'}"))
    return Desk(store, load_routing_model(), TEXTS, clock=lambda: TUESDAY_10)


def test_a_callback_on_a_saturday_waits_for_monday_and_goes_to_the_person(desk: Desk) -> None:
    team = desk.model.teams["sales"]
    plan = plan_callback(desk, "anna", team, "de", SATURDAY_10)
    assert plan.opening.astimezone(BERLIN) == datetime(2026, 11, 30, 8, 0, tzinfo=BERLIN)
    assert plan.recipient == "anna.becker@nordwerk.example"
    task = plan.task("vormittags", SATURDAY_10)
    assert (task.kind, task.note, task.due_at, task.assignee) == (
        "callback", "vormittags", plan.opening, "anna"
    )
    said = plan.confirmation(TEXTS, "de", "+49 521 1234", "vormittags")
    assert "+49 521 1234" in said and "vormittags" in said and "Anna" in said
    assert "30.11." in said and "8:00" in said


def test_without_a_person_the_team_is_emailed_and_named(desk: Desk) -> None:
    team = desk.model.teams["service"]
    plan = plan_callback(desk, None, team, "en", TUESDAY_10)
    assert plan.person is None and plan.recipient == "service@nordwerk.example"
    assert "Technical service" in plan.confirmation(TEXTS, "en", "+43 1 234", None)


def test_the_staff_are_told_in_german_by_email_and_chat(desk: Desk) -> None:
    plan = plan_callback(desk, "anna", desk.model.teams["sales"], "en", TUESDAY_10)
    email, slack, teams = plan.notifications(TEXTS, 42, "sales_qualified_lead",
                                             "+49 521 1234", "afternoon", "web-7")  # fmt: skip
    assert email.channel == "email" and email.to == ("anna.becker@nordwerk.example",)
    assert "Rückrufwunsch" in email.subject and "42" in email.subject
    assert "+49 521 1234" in email.body and "web-7" in email.body
    assert (slack.channel, teams.channel) == ("slack", "teams") and slack.subject == teams.subject


def offered_at(start: datetime) -> list[list[str]]:
    return [["Di 24.11. 14:00", start.isoformat(), (start + timedelta(minutes=30)).isoformat()]]


def test_a_meeting_at_an_offered_time_invites_both_in_their_languages(desk: Desk) -> None:
    start = datetime(2026, 11, 24, 14, 0, tzinfo=BERLIN)
    plan = plan_meeting(desk, TEXTS, "anna", start.isoformat(), "erika@kunde.example",
                        offered_at(start), "en", TUESDAY_10)  # fmt: skip
    meeting = plan.meeting(TUESDAY_10)
    assert (meeting.staff_id, meeting.start, meeting.end - meeting.start) == (
        "anna", start, timedelta(minutes=30)
    )
    assert "BEGIN:VCALENDAR" in plan.invitation and "erika@kunde.example" in plan.invitation
    visitor, staff, *chat = plan.notifications(TEXTS, "en", 7, "web-9")
    assert visitor.to == ("erika@kunde.example",) and visitor.subject.startswith("Meeting")
    assert staff.to == ("anna.becker@nordwerk.example",) and "web-9" in staff.body
    assert [c.channel for c in chat] == ["slack", "teams"]
    assert "erika@kunde.example" in plan.confirmation(TEXTS, "en")


@pytest.mark.parametrize(
    ("person", "slot", "email"),
    [
        (None, "2026-11-24T14:00:00+01:00", "erika@kunde.example"),
        ("anna", None, "erika@kunde.example"),
        ("anna", "2026-11-24T14:00:00+01:00", None),
        ("nobody", "2026-11-24T14:00:00+01:00", "erika@kunde.example"),
        ("anna", "2026-11-24T16:30:00+01:00", "erika@kunde.example"),  # never offered
    ],
)
def test_a_meeting_without_a_person_time_or_email_or_at_a_time_not_offered_is_refused(
    desk: Desk, person: str | None, slot: str | None, email: str | None
) -> None:
    start = datetime(2026, 11, 24, 14, 0, tzinfo=BERLIN)
    with pytest.raises(BookingError):
        plan_meeting(desk, TEXTS, person, slot, email, offered_at(start), "de", TUESDAY_10)
