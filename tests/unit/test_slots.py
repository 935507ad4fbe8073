"""Free meeting slots (`handoff.slots`)."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone
from zoneinfo import ZoneInfo

import pytest

from handoff.slots import free_slots

BERLIN = ZoneInfo("Europe/Berlin")
HALF_HOUR = timedelta(minutes=30)


def at(day: int, hour: int, minute: int = 0, month: int = 3) -> datetime:
    return datetime(2024, month, day, hour, minute, tzinfo=BERLIN)


def office_day(day: int, month: int = 3) -> tuple[datetime, datetime]:
    return at(day, 8, month=month), at(day, 12, month=month)


def starts(slots: list[tuple[datetime, datetime]]) -> list[str]:
    return [f"{start:%d %H:%M}-{end:%H:%M}" for start, end in slots]


def test_empty_calendar_gives_aligned_slots_in_order() -> None:
    slots = free_slots([office_day(4)], [], HALF_HOUR, at(4, 7), count=3)
    assert starts(slots) == ["04 08:00-08:30", "04 08:30-09:00", "04 09:00-09:30"]
    assert all(start.tzinfo is BERLIN for start, _end in slots)


def test_busy_meeting_removes_exactly_its_overlapping_slots() -> None:
    busy = [(at(4, 9, 10), at(4, 9, 50))]
    slots = free_slots([office_day(4)], busy, HALF_HOUR, at(4, 8), count=8)
    assert starts(slots) == [
        "04 08:00-08:30",
        "04 08:30-09:00",
        "04 10:00-10:30",
        "04 10:30-11:00",
        "04 11:00-11:30",
        "04 11:30-12:00",
    ]


def test_meeting_touching_a_slot_does_not_block_it() -> None:
    busy = [(at(4, 9), at(4, 10))]
    slots = free_slots([office_day(4)], busy, HALF_HOUR, at(4, 8, 30), count=2)
    assert starts(slots) == ["04 08:30-09:00", "04 10:00-10:30"]


def test_back_to_back_meetings_leave_no_gap_slot() -> None:
    busy = [(at(4, 8), at(4, 9)), (at(4, 9), at(4, 10, 15)), (at(4, 10, 45), at(4, 11))]
    slots = free_slots([office_day(4)], busy, HALF_HOUR, at(4, 8), count=5)
    assert starts(slots) == ["04 11:00-11:30", "04 11:30-12:00"]


def test_nested_and_unsorted_busy_intervals() -> None:
    busy = [(at(4, 9), at(4, 9, 30)), (at(4, 8), at(4, 11))]
    slots = free_slots([office_day(4)], busy, HALF_HOUR, at(4, 8), count=5)
    assert starts(slots) == ["04 11:00-11:30", "04 11:30-12:00"]


def test_slot_may_end_exactly_at_the_end_of_the_day() -> None:
    hour = timedelta(hours=1)
    slots = free_slots([office_day(4)], [], hour, at(4, 11), count=3)
    assert starts(slots) == ["04 11:00-12:00"]
    assert slots[0][1] == at(4, 12)
    # 45 minutes from 8:00 fit 5 times into 4 hours; the 6th would end at 12:30
    three_quarters = timedelta(minutes=45)
    slots = free_slots([office_day(4)], [], three_quarters, at(4, 8), count=10)
    assert starts(slots)[-1] == "04 11:00-11:45"
    assert len(slots) == 5


def test_not_before_in_the_middle_of_a_slot_rounds_up() -> None:
    slots = free_slots([office_day(4)], [], HALF_HOUR, at(4, 9, 10), count=2)
    assert starts(slots) == ["04 09:30-10:00", "04 10:00-10:30"]
    on_boundary = free_slots([office_day(4)], [], HALF_HOUR, at(4, 9, 30), count=1)
    assert starts(on_boundary) == ["04 09:30-10:00"]


def test_not_before_in_another_time_zone() -> None:
    not_before = datetime(2024, 3, 4, 8, 5, tzinfo=timezone.utc)  # 09:05 in Berlin
    slots = free_slots([office_day(4)], [], HALF_HOUR, not_before, count=1)
    assert starts(slots) == ["04 09:30-10:00"]


def test_count_larger_than_available_moves_on_to_the_next_day() -> None:
    working = [office_day(5), office_day(4)]
    busy = [(at(4, 8), at(4, 11, 30)), (at(5, 8, 30), at(5, 12))]
    slots = free_slots(working, busy, HALF_HOUR, at(4, 8), count=10)
    assert starts(slots) == ["04 11:30-12:00", "05 08:00-08:30"]
    assert free_slots(working, busy, HALF_HOUR, at(6, 8), count=10) == []
    assert free_slots(working, [], HALF_HOUR, at(4, 8), count=0) == []


def test_step_shorter_than_length_offers_overlapping_alternatives() -> None:
    quarter = timedelta(minutes=15)
    busy = [(at(4, 9), at(4, 9, 40))]
    slots = free_slots([office_day(4)], busy, HALF_HOUR, at(4, 8, 20), count=5, step=quarter)
    assert starts(slots) == [
        "04 08:30-09:00",
        "04 09:45-10:15",
        "04 10:00-10:30",
        "04 10:15-10:45",
        "04 10:30-11:00",
    ]


def test_overlapping_working_intervals_do_not_repeat_slots() -> None:
    working = [(at(4, 8), at(4, 10)), (at(4, 9), at(4, 11))]
    slots = free_slots(working, [], timedelta(hours=1), at(4, 8), count=10)
    assert starts(slots) == ["04 08:00-09:00", "04 09:00-10:00", "04 10:00-11:00"]


def test_slots_are_exact_across_a_daylight_saving_change() -> None:
    # 31 March 2024: Berlin clocks jump from 02:00 to 03:00
    working = [(at(31, 0), at(31, 5))]
    slots = free_slots(working, [], timedelta(hours=1), at(31, 0), count=10)
    utc = [(start.astimezone(timezone.utc), end.astimezone(timezone.utc)) for start, end in slots]
    assert [end - start for start, end in utc] == [timedelta(hours=1)] * 4
    assert starts(slots) == [
        "31 00:00-01:00",
        "31 01:00-03:00",
        "31 03:00-04:00",
        "31 04:00-05:00",
    ]


def test_naive_datetimes_are_refused() -> None:
    naive = datetime(2024, 3, 4, 8, 0)
    with pytest.raises(ValueError, match="not_before"):
        free_slots([office_day(4)], [], HALF_HOUR, naive, count=1)
    with pytest.raises(ValueError, match="working"):
        free_slots([(naive, at(4, 12))], [], HALF_HOUR, at(4, 8), count=1)
    with pytest.raises(ValueError, match="busy"):
        free_slots([office_day(4)], [(naive, naive + HALF_HOUR)], HALF_HOUR, at(4, 8), count=1)


def test_bad_length_step_or_count_is_refused() -> None:
    with pytest.raises(ValueError, match="length"):
        free_slots([office_day(4)], [], timedelta(0), at(4, 8), count=1)
    with pytest.raises(ValueError, match="step"):
        free_slots([office_day(4)], [], HALF_HOUR, at(4, 8), count=1, step=-HALF_HOUR)
    with pytest.raises(ValueError, match="count"):
        free_slots([office_day(4)], [], HALF_HOUR, at(4, 8), count=-1)
