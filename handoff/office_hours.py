"""When a team (or one person) works: weekly hours in a time zone, minus public holidays.

`OfficeHours.is_open` answers "can a person take this chat now?", `next_opening` gives
the start of the next working time (for a callback request outside office hours),
`intervals` lists the working times of a stretch of days (for offering appointments)
and `describe` says the hours in German or English ("Mo–Fr 8:00–17:00 Uhr").

Every instant going in must be timezone-aware (a naive datetime raises `ValueError`);
every instant coming out is aware, in the team's zone. Local times are resolved with
`zoneinfo`, so the switch to and from summer time is handled: 8:00 in Berlin is 7:00
UTC in winter and 6:00 UTC in summer. A working time that starts in the hour skipped
in spring starts when the clock shows the next real time. Holidays are the public
holidays of a country and, when given, of one of its subdivisions (a German state such
as NW, which adds Fronleichnam and Allerheiligen), from the maintained `holidays`
package, plus dates the company adds. An unknown country or subdivision raises
`ValueError` naming it and the valid choices.
Pure Python: no Rasa, no database, no personal data.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta, timezone
from functools import lru_cache
from types import MappingProxyType
from zoneinfo import ZoneInfo

from holidays import country_holidays, list_supported_countries

WEEKDAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
_DAY_NAMES = {
    "de": ("Mo", "Di", "Mi", "Do", "Fr", "Sa", "So"),
    "en": ("Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun"),
}
# A week with no working day at all would loop for ever; a year is the longest
# stretch `next_opening` looks ahead (Christmas plus a closed week fits easily).
_LOOKAHEAD_DAYS = 400


@lru_cache(maxsize=1)
def holiday_calendars() -> dict[str, tuple[str, ...]]:
    """The countries the `holidays` package knows (ISO codes such as DE), each with the
    codes of its subdivisions (for DE the 16 states: BW, BY, ..., NW, ..., TH)."""
    supported = list_supported_countries(include_aliases=False)
    return {country: tuple(supported[country]) for country in sorted(supported)}


def holiday_calendar_problem(country: str, subdivision: str | None) -> str | None:
    """Why `country` and `subdivision` name no holiday calendar, or None when they do.
    The message names the bad value and the valid choices."""
    calendars = holiday_calendars()
    if country not in calendars:
        known = ", ".join(calendars)
        return f"no holiday calendar for country '{country}' (known: {known})"
    if subdivision is not None and subdivision not in calendars[country]:
        known = ", ".join(calendars[country]) or "none"
        return f"'{subdivision}' is not a subdivision of {country} (known: {known})"
    return None


@lru_cache(maxsize=64)
def _public_holidays(country: str, subdivision: str | None, year: int) -> Mapping[date, str]:
    # One year at a time into a read-only copy: the package's calendar object fills
    # itself on lookup, which is not safe to share between threads. The names are in
    # the country's own language; left to itself the package follows the locale of
    # the shell.
    language = country_holidays(country).default_language
    calendar = country_holidays(country, subdiv=subdivision, years=year, language=language)
    return MappingProxyType(dict(calendar))


@dataclass(frozen=True)
class Holidays:
    """Days nobody works: the public holidays of `country` (with those of
    `subdivision`, e.g. DE and NW for North Rhine-Westphalia) plus `extra` dates."""

    country: str
    subdivision: str | None = None
    extra: frozenset[date] = field(default_factory=frozenset)

    def __post_init__(self) -> None:
        problem = holiday_calendar_problem(self.country, self.subdivision)
        if problem is not None:
            raise ValueError(problem)

    def is_holiday(self, day: date) -> bool:
        return self.name_of(day) is not None

    def name_of(self, day: date) -> str | None:
        """The holiday's name in the country's language (an extra date is
        "Betriebsruhe"), None on a normal day."""
        if day in self.extra:
            return "Betriebsruhe"
        return _public_holidays(self.country, self.subdivision, day.year).get(day)


@dataclass(frozen=True)
class OfficeHours:
    """Working times: `days` maps a weekday (0 = Monday) to its (start, end) local
    times, the end exclusive; a weekday not in `days` is closed."""

    timezone: str
    days: dict[int, tuple[time, time]]
    holidays: Holidays

    def __post_init__(self) -> None:
        ZoneInfo(self.timezone)  # an unknown zone fails here, not mid-conversation
        for weekday, (start, end) in self.days.items():
            if weekday not in range(7):
                raise ValueError(f"weekday {weekday} is not 0 (Monday) to 6 (Sunday)")
            if not start < end:
                raise ValueError(f"{WEEKDAYS[weekday]}: start {start} is not before end {end}")

    @property
    def zone(self) -> ZoneInfo:
        return ZoneInfo(self.timezone)

    def is_open(self, at: datetime) -> bool:
        local = _aware(at).astimezone(self.zone)
        hours = self._hours_on(local.date())
        if hours is None:
            return False
        start, end = hours
        return _utc(start) <= _utc(local) < _utc(end)

    def next_opening(self, at: datetime) -> datetime:
        """`at` itself (in the team zone) when open now, else the next start of work."""
        local = _aware(at).astimezone(self.zone)
        day = local.date()
        for _ in range(_LOOKAHEAD_DAYS):
            hours = self._hours_on(day)
            if hours is not None:
                start, end = hours
                if _utc(local) < _utc(start):
                    return start
                if _utc(local) < _utc(end):
                    return local
            day += timedelta(days=1)
        raise ValueError(f"no working time within {_LOOKAHEAD_DAYS} days of {local}")

    def intervals(self, start: date, days: int) -> list[tuple[datetime, datetime]]:
        """The working times of `days` days from `start` on, holidays and closed days
        left out, as (start, end) pairs in the team zone, end exclusive."""
        found = []
        for offset in range(days):
            hours = self._hours_on(start + timedelta(days=offset))
            if hours is not None:
                found.append(hours)
        return found

    def describe(self, language: str) -> str:
        """The weekly hours in one line: "Mo–Fr 8:00–17:00 Uhr" (de), "Mon–Fri
        8:00–17:00" (en); consecutive days with the same hours are merged."""
        names = _DAY_NAMES["de" if language == "de" else "en"]
        groups: list[tuple[int, int, tuple[time, time]]] = []
        for weekday in range(7):
            hours = self.days.get(weekday)
            if hours is None:
                continue
            if groups and groups[-1][1] == weekday - 1 and groups[-1][2] == hours:
                groups[-1] = (groups[-1][0], weekday, hours)
            else:
                groups.append((weekday, weekday, hours))
        if not groups:
            return "geschlossen" if language == "de" else "closed"
        suffix = " Uhr" if language == "de" else ""
        parts = []
        for first, last, (start, end) in groups:
            days = names[first] if first == last else f"{names[first]}–{names[last]}"
            parts.append(f"{days} {_clock(start)}–{_clock(end)}{suffix}")
        return ", ".join(parts)

    def _hours_on(self, day: date) -> tuple[datetime, datetime] | None:
        hours = self.days.get(day.weekday())
        if hours is None or self.holidays.is_holiday(day):
            return None
        return _local(day, hours[0], self.zone), _local(day, hours[1], self.zone)


def _aware(at: datetime) -> datetime:
    if at.tzinfo is None or at.tzinfo.utcoffset(at) is None:
        raise ValueError(f"a timezone-aware datetime is needed, not the naive {at}")
    return at


def _utc(moment: datetime) -> datetime:
    # Aware datetimes sharing one tzinfo compare by wall time, which is wrong in the
    # hour the clocks go back; in UTC they compare as instants.
    return moment.astimezone(timezone.utc)


def _local(day: date, clock: time, zone: ZoneInfo) -> datetime:
    # The round trip through UTC moves a wall time in the skipped spring hour to the
    # real time after it (02:30 on the switch day becomes 03:30 summer time).
    naive_zoned = datetime.combine(day, clock, tzinfo=zone)
    return naive_zoned.astimezone(timezone.utc).astimezone(zone)


def _clock(value: time) -> str:
    return f"{value.hour}:{value.minute:02d}"
