"""When the visitor wants to buy: months from today, or "unknown".

Contract: `parse_timeline(text, language, today=None)` returns
- `Timeline(months)` with 0 <= months <= `MAX_MONTHS` for a stated time: "sofort",
  "asap", "so schnell wie möglich" -> 0; "in zwei Monaten" -> 2; "in einem halben Jahr"
  -> 6; "innerhalb eines Jahres", "within a year" -> 12; "Q2", "im 2. Quartal",
  "Q2 2027" -> months to that quarter's first month; "nächstes Frühjahr", "next spring"
  -> months to March of next year; "im Herbst", "Ende des Jahres", "Anfang nächsten
  Jahres", "im März", "by June" -> months to that month;
- `Timeline.unknown()` (months None) when the visitor says it is not known ("noch kein
  Zeitplan", "no timeline yet", "weiß ich noch nicht", "not sure");
- None when the text is no usable answer (no time, a past one, or one beyond ten years).
Decisions: months are counted between calendar months, so a date in the current month
is 0. Durations round up to whole months: weeks -> ceil(weeks / 4.345), days ->
ceil(days / 30.44), so "in 2 Wochen" -> 1 and only "now" words give 0; a range uses its
midpoint ("in 2-3 Monaten" -> 3). A quarter, season or month named without a year is
its next start, or 0 while it is under way (the brief asked for next year's once the
quarter has started; a visitor saying "Q4" in November means this one). "Next spring" is
next calendar year's spring. Year boundaries: start = January, middle = July, end =
December; "dieses Jahr"/"this year" means by December. "bald"/"soon" -> 1. Never raises.

`timeline_in(doc, today, marked_only=True)` is the conservative variant for volunteered
sentences: durations need an anchor ("in", "innerhalb", "within", "next"), "now" and
"soon" words ("heute", "jetzt", "bald") do not count, and only topic negations ("kein
Zeitplan") count as unknown.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass
from datetime import date

from spacy.tokens import Doc

from dialogue.answers import time_words as tw
from dialogue.answers.numbers import quantities
from dialogue.answers.pieces import Piece, pieces
from dialogue.answers.pipeline import bounded, full_doc
from dialogue.answers.unknown import says_unknown

MAX_MONTHS = 120
_QUARTER = re.compile(r"q([1-4])(?:[/'-]?([0-9]{2}|[0-9]{4}))?")
_YEAR = re.compile(r"20[0-9]{2}")
_DATE = re.compile(r"(?<![0-9.])([0-9]{1,2})\.([0-9]{1,2})\.([0-9]{4}|[0-9]{2})?(?![0-9])")
_SINCE = frozenset({"seit", "since"})
_A = frozenset({"a", "an"})
_ONE = frozenset({"ein", "eine", "einen", "einem", "eines", "einer", "a", "an", "one"})
_DIALECT_ONE = frozenset({"am", "ana", "oan", "oam", "oana", "an"})
_WITHIN = frozenset({"in", "innerhalb", "binnen", "within"})
_MONTH_YEAR = re.compile(r"(?<![0-9./])([0-9]{1,2})/([0-9]{4})(?![0-9/])")


@dataclass(frozen=True)
class Timeline:
    """Months until the visitor wants to buy; None means they said it is unknown."""

    months: int | None

    @property
    def known(self) -> bool:
        return self.months is not None

    @classmethod
    def unknown(cls) -> Timeline:
        return cls(None)


def parse_timeline(text: str, language: str, today: date | None = None) -> Timeline | None:
    text = bounded(text)
    if not text:
        return None
    return timeline_in(full_doc(text, language), today, marked_only=False)


def timeline_in(
    doc: Doc, today: date | None = None, *, marked_only: bool = True
) -> Timeline | None:
    today = today or date.today()
    found = pieces(doc)
    scanner = _Scanner(found, today, marked_only)
    months = scanner.first()
    if months is None:
        months = _numeric_date(doc.text, today)
    if months is not None:
        return Timeline(months) if 0 <= months <= MAX_MONTHS else None
    if says_unknown(doc, "timeline", generic=not marked_only):
        return Timeline.unknown()
    return None


def _numeric_date(text: str, today: date) -> int | None:
    """A written date: "bis 30.06.2027", "06/2027"."""
    for match in _DATE.finditer(text):
        day, month, year = int(match[1]), int(match[2]), match[3]
        if 1 <= day <= 31 and 1 <= month <= 12:
            return tw.month_answer(today, month, tw.full_year(year) if year else None)
    for match in _MONTH_YEAR.finditer(text):
        if 1 <= int(match[1]) <= 12:
            return tw.month_answer(today, int(match[1]), int(match[2]))
    return None


class _Scanner:
    """Finds time expressions in pieces; `first()` is the months of the earliest one."""

    def __init__(self, found: list[Piece], today: date, marked_only: bool) -> None:
        self.found = found
        self.words = [piece.folded for piece in found]
        self.today = today
        self.marked_only = marked_only

    def first(self) -> int | None:
        for i in range(len(self.found)):
            for detector in (self._immediate, self._quarter, self._named, self._boundary,
                             self._duration, self._year):  # fmt: skip
                months = detector(i)
                if months is not None:
                    return months
        return None

    def _word(self, i: int) -> str:
        return self.words[i] if 0 <= i < len(self.words) else ""

    def _is(self, i: int, words: frozenset[str] | dict) -> bool:
        return 0 <= i < len(self.found) and (self.words[i] in words or self.found[i].lemma in words)

    def _alone(self) -> bool:
        return sum(1 for piece in self.found if piece.text.isalnum()) <= 2

    def _year_after(self, i: int) -> int | None:
        """A year written after position i: "2027", "/27", "nächsten Jahres", "next year"."""
        for j in range(i, min(i + 4, len(self.found))):
            if _YEAR.fullmatch(self.words[j]):
                return int(self.words[j])
            if self._is(j, tw.NEXT) and self._is(j + 1, tw.YEAR_WORDS):
                return self.today.year + 1
            if self.words[j] in ("/", "'") and re.fullmatch(r"[0-9]{2}", self._word(j + 1)):
                return 2000 + int(self._word(j + 1))
        return None

    def _immediate(self, i: int) -> int | None:
        if self._is(i, tw.IMMEDIATE) or (not self.marked_only and self._is(i, tw.NOW)):
            return 0
        for phrase in tw.IMMEDIATE_PHRASES:
            if tuple(self.words[i : i + len(phrase)]) == phrase:
                return 0
        if self._is(i, tw.SOON) and not self.marked_only and not self._is(i - 1, {"so", "as"}):
            return 1
        return None

    def _quarter(self, i: int) -> int | None:
        match = _QUARTER.fullmatch(self.words[i])
        if match:
            number, year = int(match[1]), match[2]
            year_value = tw.full_year(year) if year else self._year_after(i + 1)
        elif self._is(i, tw.QUARTER_WORDS) and i > 0:
            number = self._quarter_number(i)
            year_value = self._year_after(i + 1)
        else:
            return None
        if number is None:
            return None
        first = 3 * (number - 1) + 1
        return tw.span_answer(self.today, first, first + 2, year_value)

    def _quarter_number(self, i: int) -> int | None:
        """The number of "2. Quartal", "zweiten Quartal", "second quarter"."""
        before = self._word(i - 1)
        if before == "." and re.fullmatch(r"[1-4]", self._word(i - 2)):
            return int(self._word(i - 2))
        return tw.ORDINALS.get(before)

    def _named(self, i: int) -> int | None:
        """A month or season name with a word that makes it a time ("im März")."""
        word = self.words[i]
        if word not in tw.MONTHS and word not in tw.SEASONS:
            return None
        year = self._year_after(i + 1)
        if not (self._is(i - 1, tw.CONTEXT) or year is not None or self._alone()):
            return None
        next_one = any(self._is(j, tw.NEXT) for j in (i - 1, i - 2))
        if word in tw.SEASONS:
            first, last = tw.SEASONS[word]
            if next_one and year is None:
                year = self.today.year + 1
            return tw.span_answer(self.today, first, last, year)
        return tw.month_answer(self.today, tw.MONTHS[word], year)

    def _boundary(self, i: int) -> int | None:
        """A year boundary: "Ende des Jahres", "Anfang nächsten Jahres", "end of 2027"."""
        if self.words[i] in tw.BOUNDARY_COMPOUNDS:
            return self._year_boundary(tw.BOUNDARY_COMPOUNDS[self.words[i]], None)
        month = self._boundary_month(i)
        if month is None:
            return None
        for j in range(i + 1, min(i + 5, len(self.found))):
            if _YEAR.fullmatch(self.words[j]):
                return tw.month_answer(self.today, month, int(self.words[j]))
            if self._is(j, tw.YEAR_WORDS):
                next_year = any(self._is(k, tw.NEXT) for k in range(i + 1, j))
                return self._year_boundary(month, self.today.year + 1 if next_year else None)
            if not self._is(j, tw.CONTEXT):
                return None
        return None

    def _boundary_month(self, i: int) -> int | None:
        if self._is(i, tw.START_WORDS):
            return 1
        if self._is(i, tw.MIDDLE_WORDS):
            return 7
        if self._is(i, tw.END_WORDS):
            return 12
        return None

    def _year_boundary(self, month: int, year: int | None) -> int | None:
        if year is not None:
            return tw.month_answer(self.today, month, year)
        months = tw.months_between(self.today, self.today.year, month)
        return months if months >= 0 else months + 12

    def _duration(self, i: int) -> int | None:
        """A duration: "in 2 Monaten", "innerhalb eines Jahres", "nächsten Monat"."""
        if not self._is(i, tw.DURATIONS) or self._past(i):
            return None
        unit = tw.DURATIONS.get(self.words[i]) or tw.DURATIONS[self.found[i].lemma]
        amount, start = self._amount_before(i)
        if amount is None:
            return self._calendar_unit(i, unit)
        if self.marked_only and not any(
            self._is(j, tw.ANCHORS | tw.NEXT) for j in range(start - 3, start)
        ):
            return None
        return math.ceil(amount * unit - 1e-9)

    def _past(self, i: int) -> bool:
        return any(self._is(j, tw.PAST) for j in range(i - 4, i)) or self._word(i + 1) == "ago"

    def _amount_before(self, i: int) -> tuple[float | None, int]:
        """The count before a unit: a number, an article ("einem Monat") or "a few"."""
        before = self.words[max(i - 6, 0) : i]
        window = self.found[max(i - 6, 0) : i]
        for quantity in quantities(window):
            half_a = quantity.low == 0.5 and quantity.end == len(window) - 1 and before[-1] in _A
            if (quantity.end == len(window) or half_a) and quantity.finite:
                return (quantity.low + quantity.high) / 2, i - len(window) + quantity.start
        if before and before[-1] in tw.FEW:
            return tw.FEW[before[-1]], i - 1
        if len(before) >= 2 and before[-2] in tw.FEW and before[-1] == "of":
            return tw.FEW[before[-2]], i - 2
        if before and before[-1] in _ONE:
            return 1.0, i - 1
        if len(before) >= 2 and before[-1] in _DIALECT_ONE and before[-2] in _WITHIN:
            return 1.0, i - 1  # Bavarian/Austrian "in am Jahr", "in ana Woch"
        return None, i

    def _calendar_unit(self, i: int, unit: float) -> int | None:
        """A calendar unit: "nächsten Monat", "next year", "diese Woche", "this year"."""
        if self._is(i - 1, tw.NEXT):
            if unit == 12.0:
                return self._year_boundary(1, self.today.year + 1)
            if unit == 3.0:
                return 3 - (self.today.month - 1) % 3
            return math.ceil(unit - 1e-9)
        if self._is(i - 1, tw.THIS):
            return self._year_boundary(12, None) if unit == 12.0 else 0
        return None

    def _year(self, i: int) -> int | None:
        """A year: "2027", "im Jahr 2027", "in 2027"."""
        if not _YEAR.fullmatch(self.words[i]) or self._is(i - 1, _SINCE):
            return None
        if not (self._is(i - 1, tw.CONTEXT | tw.YEAR_WORDS) or self._alone()):
            return None
        year = int(self.words[i])
        return 0 if year == self.today.year else tw.month_answer(self.today, 1, year)
