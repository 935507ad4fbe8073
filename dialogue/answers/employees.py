"""Company size: how many people the visitor's company employs.

Contract: `parse_employees(text, language)` answers the question "how many employees?":
"rund 60 Leute", "60", "ca. 60 Mitarbeiter", "about sixty", "we are a 60-person metal
shop" -> 60; "50-70", "50 bis 70", "between 50 and 70" -> low 50, high 70, count 60
(the midpoint, rounded half up). Approximations ("rund", "über", "about") keep the
number. A number counting something else ("60 Maschinen", "seit 1962", "60 %") or
several unmarked numbers give None, as do counts below one or above
`MAX_EMPLOYEES`. Never raises.

`employees_in(doc, marked_only=True)` is the conservative variant for volunteered
sentences: only a number followed by a word for people counts ("60 Mitarbeitern").
`size_band(count)` is the EU SME band: micro (<10), small (10-49), medium (50-249),
large (>=250).
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass

from spacy.tokens import Doc

from dialogue.answers.numbers import Quantity, quantities
from dialogue.answers.pieces import Piece, pieces
from dialogue.answers.pipeline import bounded, folded_words, full_doc

MAX_EMPLOYEES = 10_000_000

_PEOPLE = folded_words(
    "Mitarbeiter Mitarbeiterin Mitarbeiterinnen Mitarbeitern Mitarbeitende Mitarbeitenden "
    "MA MAs Beschäftigte Beschäftigten Angestellte Angestellten Leute Leuten Personen "
    "Person Köpfe Köpfen köpfig köpfige köpfiges köpfigen Kollegen Kolleginnen Mann "
    "Fachkräfte Arbeitskräfte Vollzeitkräfte FTE VZÄ Mitglieder Seelen "
    "employees employee staff people persons person heads workers worker man men "
    "strong colleagues members FTEs guys folks lads Jungs Mannschaft Kollegen Köpfe"
)
_FILLERS = folded_words(
    "- fest feste festen festangestellte festangestellten eigene eigenen aktive aktuell "
    "derzeit insgesamt gesamt Team full time part Vollzeit Teilzeit own permanent full-time "
    "part-time direct direkte currently total in ungefähr etwa circa roughly approximately approx"
)
_NOT_A_COUNT_BEFORE = folded_words(
    "seit since anno Jahr Jahre year Baujahr gegründet founded Nr No Nummer number PLZ "
    "Tel Telefon phone Q Quartal quarter um at"
)
_END_MARKS = frozenset(".,;:!?)")
_MARKS = frozenset("€$£#/§+@%")
"""Before a number, these make it an amount, an identifier or a phone number."""


@dataclass(frozen=True)
class Employees:
    """A headcount; `low` == `high` == `count` unless a range was given."""

    count: int
    low: int
    high: int


def size_band(count: int) -> str:
    """The EU SME size band of a headcount: micro, small, medium or large."""
    if count < 10:
        return "micro"
    if count < 50:
        return "small"
    if count < 250:
        return "medium"
    return "large"


_ROUGHLY_AFTER = re.compile(r"(\d)\s*-?\s*(?:ish|odd|something|irgendwas|plus)\b", re.I)
"""English and German ways to say "roughly" after a number: "60ish", "60 odd"."""


def parse_employees(text: str, language: str) -> Employees | None:
    """The headcount a visitor's answer states, or None if it states no usable one."""
    text = _ROUGHLY_AFTER.sub(r"\1", bounded(text))
    if not text:
        return None
    return employees_in(full_doc(text, language), marked_only=False)


def employees_in(doc: Doc, *, marked_only: bool = True) -> Employees | None:
    found = pieces(doc)
    candidates = quantities(found)
    for quantity in candidates:
        if _people_follow(found, quantity):
            return _employees(quantity)
    if marked_only or len(candidates) != 1 or not _stands_alone(found, candidates[0]):
        return None
    return _employees(candidates[0])


def _people_follow(found: list[Piece], quantity: Quantity) -> bool:
    """A word for people follows, with at most three fillers ("60 feste Mitarbeiter")."""
    following = [piece.folded for piece in found[quantity.end : quantity.end + 2]]
    if following in (["of", "us"], ["von", "uns"]):
        return True  # "about 75 of us"
    for piece in found[quantity.end : quantity.end + 4]:
        if piece.folded in _PEOPLE or piece.lemma in _PEOPLE:
            return True
        if piece.folded not in _FILLERS:
            return False
    return False


def _stands_alone(found: list[Piece], quantity: Quantity) -> bool:
    """Nothing around the number says it counts something else."""
    before = found[quantity.start - 1] if quantity.start > 0 else None
    if before is not None and (before.folded in _NOT_A_COUNT_BEFORE or before.text in _MARKS):
        return False
    after = found[quantity.end] if quantity.end < len(found) else None
    if after is None or after.text in _END_MARKS or after.text == "+":
        return True
    return after.text.isalpha() and (after.stop or after.folded in _FILLERS)


def _employees(quantity: Quantity) -> Employees | None:
    if not quantity.finite or quantity.low <= 0 or quantity.high > MAX_EMPLOYEES:
        return None
    low, high = _half_up(quantity.low), _half_up(quantity.high)
    if low < 1:
        return None
    return Employees(count=_half_up((quantity.low + quantity.high) / 2), low=low, high=high)


def _half_up(value: float) -> int:
    return int(math.floor(value + 0.5))
