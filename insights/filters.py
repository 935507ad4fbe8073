"""The dashboard's filters: a date range, a channel, a language.

`Filters.parse(args, today)` reads them from query parameters: `from` and `to` are
days (YYYY-MM-DD, both included, UTC; by default the last 30 days up to today),
`channel` and `language` are optional. `FilterError` (a ValueError) with a message a
person understands for anything else (days outside 2000-2199 too); its `template` and
`params` let a page say it in the reader's language (the template is the msgid of the
console's catalogue, `str()` the English). Pure Python.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta, timezone
from typing import Any

DEFAULT_DAYS = 30
MAX_DAYS = 3660
EARLIEST, LATEST = date(2000, 1, 1), date(2199, 12, 31)
NAME = re.compile(r"[a-z][a-z0-9_]{0,31}")


class FilterError(ValueError):
    """A filter that is not understood: `template` with {named} `params`."""

    def __init__(self, template: str, **params: Any) -> None:
        super().__init__(template.format(**params))
        self.template = template
        self.params = params


@dataclass(frozen=True)
class Filters:
    first_day: date
    last_day: date
    channel: str | None = None
    language: str | None = None

    @property
    def start_time(self) -> datetime:
        return datetime.combine(self.first_day, time(), timezone.utc)

    @property
    def end_time(self) -> datetime:
        """The first moment after the range (exclusive)."""
        return datetime.combine(self.last_day + timedelta(days=1), time(), timezone.utc)

    @property
    def start(self) -> float:
        return datetime.combine(self.first_day, time(), timezone.utc).timestamp()

    @property
    def end(self) -> float:
        """The first moment after the range (exclusive)."""
        return datetime.combine(self.last_day + timedelta(days=1), time(), timezone.utc).timestamp()

    def as_dict(self) -> dict[str, Any]:
        return {
            "from": self.first_day.isoformat(),
            "to": self.last_day.isoformat(),
            "channel": self.channel,
            "language": self.language,
        }

    @classmethod
    def parse(cls, args: Mapping[str, str], today: date) -> Filters:
        last = _day(args.get("to"), "to") or today
        first = _day(args.get("from"), "from") or last - timedelta(days=DEFAULT_DAYS - 1)
        if first > last:
            raise FilterError("`from` must not be after `to`")
        if (last - first).days > MAX_DAYS:
            raise FilterError("the date range may span at most {days} days", days=MAX_DAYS)
        return cls(first, last, _name(args.get("channel"), "channel"),
                   _name(args.get("language"), "language"))  # fmt: skip


def _day(value: str | None, what: str) -> date | None:
    if value is None or not value.strip():
        return None
    try:
        day = date.fromisoformat(value.strip())
    except ValueError:
        raise FilterError("`{what}` must be a day like 2026-11-26", what=what) from None
    if not EARLIEST <= day <= LATEST:
        raise FilterError("`{what}` must be a day between {earliest} and {latest}", what=what,
                          earliest=EARLIEST, latest=LATEST)  # fmt: skip
    return day


def _name(value: str | None, what: str) -> str | None:
    if value is None or not value.strip():
        return None
    value = value.strip().lower()
    if not NAME.fullmatch(value):
        raise FilterError("`{what}` must be a name like 'website' or 'de'", what=what)
    return value
