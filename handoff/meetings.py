"""Which meeting times to offer: a person's working hours minus their booked meetings.

Pure Python over the routing model (working hours per person) and the meetings the
CRM store holds; `handoff.slots.free_slots` does the arithmetic.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from handoff.desk import moment
from handoff.routing_model import RoutingModel
from handoff.slots import free_slots

MEETING_LENGTH = timedelta(minutes=30)
LEAD_TIME = timedelta(hours=2)  # the rep needs a moment to prepare
HORIZON_DAYS = 14
OFFERED = 3


def meeting_person(model: RoutingModel, person: str | None, team: str, language: str) -> str | None:
    """The person a meeting is with: the routed one, else the team's first who speaks
    the language."""
    if person in model.staff:
        return person
    members = model.team_members(team) if team in model.teams else ()
    return next((s for s in members if language in model.staff[s].languages), None)


def offered_slots(
    model: RoutingModel, staff_id: str, busy: list[tuple[datetime, datetime]], now: datetime,
    language: str, count: int = OFFERED,
) -> list[tuple[str, str, str]]:  # fmt: skip
    """(label, ISO start, ISO end) of the next free slots, labelled in the person's zone."""
    hours = model.staff[staff_id].working_hours
    local_today = now.astimezone(hours.zone).date()
    working = hours.intervals(local_today, HORIZON_DAYS)
    slots = free_slots(working, busy, MEETING_LENGTH, now + LEAD_TIME, count)
    return [
        (moment(start.astimezone(hours.zone), language), start.isoformat(), end.isoformat())
        for start, end in slots
    ]
