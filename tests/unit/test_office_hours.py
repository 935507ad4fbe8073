"""Office hours: open and closed at the edges, German public holidays (nationwide and
those of North Rhine-Westphalia), the next opening over weekends, Easter and the
summer-time switch, working intervals and descriptions."""

from __future__ import annotations

from datetime import date, datetime, time, timedelta, timezone
from zoneinfo import ZoneInfo

import pytest

from handoff.office_hours import Holidays, OfficeHours
from handoff.routing_model import load_routing_model

BERLIN = ZoneInfo("Europe/Berlin")
MODEL = load_routing_model()
SALES = MODEL.teams["sales"].office_hours
SERVICE = MODEL.teams["service"].office_hours


def berlin(*args: int) -> datetime:
    return datetime(*args, tzinfo=BERLIN)


def hours(extra: frozenset[date] = frozenset(), **days: tuple[int, int]) -> OfficeHours:
    names = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
    return OfficeHours(
        timezone="Europe/Berlin",
        days={names.index(name): (time(a), time(b)) for name, (a, b) in days.items()},
        holidays=Holidays("DE", extra=extra),
    )


def test_the_shipped_teams_have_the_demo_company_hours() -> None:
    weekday = (time(8), time(17))
    assert SALES.days == dict.fromkeys(range(5), weekday)
    assert SERVICE.days == dict.fromkeys(range(5), (time(7), time(18)))
    assert SALES.timezone == SERVICE.timezone == "Europe/Berlin"


@pytest.mark.parametrize(
    ("at", "open_"),
    [
        (berlin(2026, 11, 25, 7, 59, 59), False),
        (berlin(2026, 11, 25, 8, 0), True),
        (berlin(2026, 11, 25, 12, 30), True),
        (berlin(2026, 11, 25, 16, 59, 59), True),
        (berlin(2026, 11, 25, 17, 0), False),  # the end is not included
        (berlin(2026, 11, 28, 10, 0), False),  # Saturday
        (berlin(2026, 11, 29, 10, 0), False),  # Sunday
    ],
)
def test_open_and_closed_at_the_edges(at: datetime, open_: bool) -> None:
    assert SALES.is_open(at) is open_


def test_service_opens_earlier_and_closes_later() -> None:
    assert SERVICE.is_open(berlin(2026, 11, 25, 7, 0))
    assert SERVICE.is_open(berlin(2026, 11, 25, 17, 30))
    assert not SERVICE.is_open(berlin(2026, 11, 25, 18, 0))


def test_an_instant_in_another_zone_is_converted() -> None:
    # 07:30 UTC in winter is 08:30 in Berlin; 06:30 UTC in summer is 08:30 too.
    assert SALES.is_open(datetime(2026, 11, 25, 7, 30, tzinfo=timezone.utc))
    assert not SALES.is_open(datetime(2026, 11, 25, 6, 30, tzinfo=timezone.utc))
    assert SALES.is_open(datetime(2026, 7, 1, 6, 30, tzinfo=timezone.utc))
    assert not SALES.is_open(datetime(2026, 7, 1, 15, 0, tzinfo=timezone.utc))


def test_a_naive_datetime_is_refused() -> None:
    with pytest.raises(ValueError, match="timezone-aware"):
        SALES.is_open(datetime(2026, 11, 25, 10, 0))
    with pytest.raises(ValueError, match="timezone-aware"):
        SALES.next_opening(datetime(2026, 11, 25, 10, 0))


def test_the_shipped_teams_observe_the_holidays_of_north_rhine_westphalia() -> None:
    for office in (SALES, SERVICE):
        assert (office.holidays.country, office.holidays.subdivision) == ("DE", "NW")


def test_german_nationwide_holidays_2027_by_name() -> None:
    holidays = Holidays("DE")
    assert holidays.name_of(date(2027, 3, 26)) == "Karfreitag"
    assert holidays.name_of(date(2027, 3, 29)) == "Ostermontag"
    assert holidays.name_of(date(2027, 5, 6)) == "Christi Himmelfahrt"
    assert holidays.name_of(date(2027, 5, 17)) == "Pfingstmontag"
    assert holidays.name_of(date(2027, 10, 3)) == "Tag der Deutschen Einheit"
    assert holidays.name_of(date(2027, 5, 27)) is None  # Fronleichnam: only some states


@pytest.mark.parametrize(
    "day",
    [
        date(2026, 4, 3),
        date(2026, 4, 6),
        date(2026, 5, 1),
        date(2026, 5, 14),
        date(2026, 5, 25),
        date(2027, 1, 1),
        date(2027, 3, 26),
        date(2027, 3, 29),
        date(2027, 5, 6),
        date(2027, 5, 17),
        date(2026, 10, 3),
        date(2026, 12, 25),
        date(2026, 12, 26),
        date(2027, 10, 3),
        date(2027, 12, 25),
        date(2027, 12, 26),
    ],
)
def test_closed_on_german_holidays(day: date) -> None:
    assert SALES.holidays.is_holiday(day)
    assert not SALES.is_open(datetime.combine(day, time(10), tzinfo=BERLIN))


def test_normal_days_are_not_holidays() -> None:
    holidays = Holidays("DE", "NW")
    assert not holidays.is_holiday(date(2026, 12, 24))
    assert not holidays.is_holiday(date(2026, 11, 25))


@pytest.mark.parametrize(
    ("day", "name"),
    [(date(2027, 5, 27), "Fronleichnam"), (date(2027, 11, 1), "Allerheiligen")],
)
def test_north_rhine_westphalia_is_closed_where_hamburg_works(day: date, name: str) -> None:
    # Both days are Thursdays or Mondays of 2027: working days but for the holiday.
    assert day.weekday() < 5
    at = datetime.combine(day, time(10), tzinfo=BERLIN)
    assert SALES.holidays.name_of(day) == name
    assert not SALES.is_open(at) and not SERVICE.is_open(at)
    assert SALES.next_opening(at) == datetime.combine(
        day + timedelta(days=1), time(8), tzinfo=BERLIN
    )
    hamburg = OfficeHours(timezone="Europe/Berlin", days=SALES.days, holidays=Holidays("DE", "HH"))
    assert not hamburg.holidays.is_holiday(day)
    assert hamburg.is_open(at)


@pytest.mark.parametrize("subdivision", ["NW", "HH", None])
def test_nationwide_holidays_close_every_state(subdivision: str | None) -> None:
    office = OfficeHours(
        timezone="Europe/Berlin", days=SALES.days, holidays=Holidays("DE", subdivision)
    )
    for day in (date(2027, 3, 26), date(2027, 5, 6), date(2027, 10, 3)):  # Fri, Thu, Sun
        assert office.holidays.is_holiday(day)
        assert not office.is_open(datetime.combine(day, time(10), tzinfo=BERLIN))


def test_extra_dates_close_the_office() -> None:
    office = hours(frozenset({date(2026, 12, 24)}), mon=(8, 17), thu=(8, 17))
    assert office.holidays.name_of(date(2026, 12, 24)) == "Betriebsruhe"
    assert not office.is_open(berlin(2026, 12, 24, 10, 0))  # a Thursday
    assert office.is_open(berlin(2026, 12, 17, 10, 0))


def test_an_unknown_holiday_calendar_is_refused() -> None:
    with pytest.raises(ValueError, match=r"no holiday calendar for country 'XX' \(known: .*DE"):
        Holidays("XX")


def test_an_unknown_subdivision_is_refused_with_the_valid_ones() -> None:
    with pytest.raises(ValueError) as raised:
        Holidays("DE", "NRW")
    message = str(raised.value)
    assert "'NRW' is not a subdivision of DE" in message
    assert "BW, BY" in message and "NW" in message and "TH" in message


def test_next_opening_when_open_is_now() -> None:
    at = berlin(2026, 11, 25, 9, 15)
    assert SALES.next_opening(at) == at
    utc = datetime(2026, 11, 25, 8, 15, tzinfo=timezone.utc)
    opening = SALES.next_opening(utc)
    assert opening == utc and opening.tzinfo == BERLIN


def test_next_opening_later_the_same_day_and_the_next_day() -> None:
    assert SALES.next_opening(berlin(2026, 11, 25, 6, 0)) == berlin(2026, 11, 25, 8, 0)
    assert SALES.next_opening(berlin(2026, 11, 25, 17, 0)) == berlin(2026, 11, 26, 8, 0)


def test_next_opening_over_a_weekend() -> None:
    monday = berlin(2026, 11, 30, 8, 0)
    assert SALES.next_opening(berlin(2026, 11, 27, 17, 0)) == monday
    assert SALES.next_opening(berlin(2026, 11, 28, 12, 0)) == monday
    assert SALES.next_opening(berlin(2026, 11, 29, 23, 59)) == monday


def test_next_opening_over_easter() -> None:
    # Thursday evening before Karfreitag: Friday, the weekend and Ostermontag are closed.
    assert SALES.next_opening(berlin(2026, 4, 2, 17, 30)) == berlin(2026, 4, 7, 8, 0)
    assert SERVICE.next_opening(berlin(2027, 3, 25, 18, 0)) == berlin(2027, 3, 30, 7, 0)


def test_next_opening_over_christmas_and_new_year() -> None:
    # 2026: Christmas Friday and Saturday; 2027-01-01 a Friday.
    assert SALES.next_opening(berlin(2026, 12, 24, 17, 0)) == berlin(2026, 12, 28, 8, 0)
    assert SALES.next_opening(berlin(2026, 12, 31, 17, 0)) == berlin(2027, 1, 4, 8, 0)


def test_summer_time_starts() -> None:
    # Clocks go forward on Sunday 2026-03-29: 8:00 is 07:00 UTC before, 06:00 UTC after.
    friday = SALES.next_opening(datetime(2026, 3, 27, 5, 0, tzinfo=timezone.utc))
    monday = SALES.next_opening(datetime(2026, 3, 27, 16, 0, tzinfo=timezone.utc))
    assert friday.astimezone(timezone.utc) == datetime(2026, 3, 27, 7, 0, tzinfo=timezone.utc)
    assert monday.astimezone(timezone.utc) == datetime(2026, 3, 30, 6, 0, tzinfo=timezone.utc)
    assert monday.hour == 8 and monday.utcoffset() == timedelta(hours=2)
    assert SALES.is_open(datetime(2026, 3, 30, 6, 0, tzinfo=timezone.utc))
    assert not SALES.is_open(datetime(2026, 3, 30, 15, 0, tzinfo=timezone.utc))


def test_summer_time_ends() -> None:
    # Clocks go back on Sunday 2026-10-25: Monday 8:00 is 07:00 UTC again.
    monday = SALES.next_opening(datetime(2026, 10, 23, 15, 0, tzinfo=timezone.utc))
    assert monday.astimezone(timezone.utc) == datetime(2026, 10, 26, 7, 0, tzinfo=timezone.utc)
    assert SALES.is_open(datetime(2026, 10, 26, 15, 59, tzinfo=timezone.utc))
    assert not SALES.is_open(datetime(2026, 10, 26, 16, 0, tzinfo=timezone.utc))


def test_hours_on_the_switch_night_itself() -> None:
    night = hours(sun=(1, 4))
    spring = night.intervals(date(2026, 3, 29), 1)
    assert [(a.astimezone(timezone.utc), b.astimezone(timezone.utc)) for a, b in spring] == [
        (
            datetime(2026, 3, 29, 0, 0, tzinfo=timezone.utc),
            datetime(2026, 3, 29, 2, 0, tzinfo=timezone.utc),
        )
    ]  # 01:00 CET to 04:00 CEST: two real hours
    autumn = night.intervals(date(2026, 10, 25), 1)
    start, end = (moment.astimezone(timezone.utc) for moment in autumn[0])
    assert end - start == timedelta(hours=4)  # 01:00 CEST to 04:00 CET: four real hours
    assert night.is_open(datetime(2026, 10, 25, 1, 30, tzinfo=timezone.utc))


def test_intervals_skip_weekends_and_holidays() -> None:
    found = SALES.intervals(date(2026, 4, 1), 7)  # Wednesday to Tuesday after Easter
    assert found == [
        (berlin(2026, 4, 1, 8, 0), berlin(2026, 4, 1, 17, 0)),
        (berlin(2026, 4, 2, 8, 0), berlin(2026, 4, 2, 17, 0)),
        (berlin(2026, 4, 7, 8, 0), berlin(2026, 4, 7, 17, 0)),
    ]
    assert all(start.tzinfo == BERLIN for start, _ in found)
    assert SALES.intervals(date(2026, 4, 1), 0) == []


def test_describe_in_german_and_english() -> None:
    assert SALES.describe("de") == "Mo–Fr 8:00–17:00 Uhr"
    assert SALES.describe("en") == "Mon–Fri 8:00–17:00"
    assert SERVICE.describe("de") == "Mo–Fr 7:00–18:00 Uhr"


def test_describe_merges_only_equal_consecutive_days() -> None:
    office = OfficeHours(
        timezone="Europe/Berlin",
        days={
            0: (time(8), time(17)),
            1: (time(8), time(17)),
            2: (time(8), time(17)),
            3: (time(8), time(17)),
            4: (time(8), time(14, 30)),
            5: (time(9), time(12)),
        },
        holidays=Holidays("DE"),
    )
    assert office.describe("de") == "Mo–Do 8:00–17:00 Uhr, Fr 8:00–14:30 Uhr, Sa 9:00–12:00 Uhr"
    assert office.describe("en") == "Mon–Thu 8:00–17:00, Fri 8:00–14:30, Sat 9:00–12:00"
    gap = hours(mon=(8, 12), wed=(8, 12))
    assert gap.describe("en") == "Mon 8:00–12:00, Wed 8:00–12:00"


def test_a_range_ending_before_it_starts_is_refused() -> None:
    with pytest.raises(ValueError, match="not before"):
        hours(mon=(17, 8))
