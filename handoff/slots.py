"""Free meeting slots: office hours minus busy times, cut into equal slots.

Pure: no I/O, no clock, no personal data. Raises `ValueError` for naive datetimes and
for a non-positive `length` or `step` or a negative `count`.

All arithmetic is done in UTC, so slots are exact in absolute time even when a working
interval spans a daylight-saving change; each slot is returned in the time zone of the
working interval it lies in.
"""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

Interval = tuple[datetime, datetime]
_TICK = timedelta(microseconds=1)


def free_slots(
    working: list[Interval],
    busy: list[Interval],
    length: timedelta,
    not_before: datetime,
    count: int,
    step: timedelta | None = None,
) -> list[Interval]:
    """The first `count` slots of `length`, earliest first.

    A slot lies wholly inside one working interval, overlaps no busy interval (touching
    one is fine: a slot may start when a meeting ends), starts at or after `not_before`,
    and starts on a `step` boundary counted from its working interval's start (`step`
    defaults to `length`: 8:00, 8:30, 9:00 ... for half-hour slots from 8:00). With a
    `step` shorter than `length` the slots are overlapping alternatives (8:00-8:30,
    8:15-8:45 ...), as booking pages offer them. Slot starts strictly increase, even if
    working intervals overlap. Fewer than `count` slots are returned when no more fit.
    """
    step = length if step is None else step
    if length <= timedelta(0):
        raise ValueError("length must be positive")
    if step <= timedelta(0):
        raise ValueError("step must be positive")
    if count < 0:
        raise ValueError("count must not be negative")
    earliest = _utc(not_before, "not_before")
    blocked = sorted(
        (start, end)
        for start, end in (_utc_interval(interval, "busy") for interval in busy)
        if end > start
    )
    days = sorted(
        ((_utc_interval(interval, "working"), interval[0].tzinfo) for interval in working),
        key=lambda item: item[0],
    )

    slots: list[Interval] = []
    for (day_start, day_end), zone in days:
        candidate = _next_boundary(day_start, step, earliest)
        while len(slots) < count and candidate + length <= day_end:
            slot_end = candidate + length
            clash_end = max(
                (end for start, end in blocked if start < slot_end and end > candidate),
                default=None,
            )
            if clash_end is not None:
                candidate = _next_boundary(day_start, step, clash_end)
                continue
            slots.append((candidate.astimezone(zone), slot_end.astimezone(zone)))
            candidate += step
        if slots:
            # a later, overlapping working interval must not offer a start again
            earliest = max(earliest, slots[-1][0].astimezone(timezone.utc) + _TICK)
        if len(slots) >= count:
            break
    return slots


def _next_boundary(origin: datetime, step: timedelta, at_least: datetime) -> datetime:
    """The first `origin + k * step` (k >= 0) that is not before `at_least`."""
    if at_least <= origin:
        return origin
    steps = -((origin - at_least) // step)  # ceiling division of timedeltas
    return origin + steps * step


def _utc(moment: datetime, name: str) -> datetime:
    if moment.tzinfo is None or moment.utcoffset() is None:
        raise ValueError(f"{name} datetimes must be timezone-aware")
    return moment.astimezone(timezone.utc)


def _utc_interval(interval: Interval, name: str) -> Interval:
    return _utc(interval[0], name), _utc(interval[1], name)
