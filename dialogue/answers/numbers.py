"""Numbers in answers, German and English: digits, words, scales and ranges.

Contract: `parse_number(text, language)` returns the one number a text states, or None
when it states none, several, or one beyond `MAX_NUMBER` (including "10^999", "1e400"
and endless digit strings). It never raises. "rund 60" -> 60, "sechzig" -> 60,
"a dozen" -> 12, "anderthalb Hunderttausend" -> 150000, "1,5 Mio" -> 1500000,
"150k" -> 150000, "150 000" -> 150000, "-5" -> -5.

For the other parsers: `quantities(pieces)` finds every number and range ("50-70",
"50 bis 70", "zwischen 100 und 200 Tsd", "between 50 and 70") in the pieces of a doc
(see `pieces.py`) with the pieces it spans.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass

from dialogue.answers import number_words as words
from dialogue.answers.pieces import DIGITS, Piece, pieces
from dialogue.answers.pipeline import bounded, token_doc

MAX_NUMBER = 1e15
"""Larger numbers are no answer to anything the bot asks."""

_SIGNS = frozenset({"-", "−"})
_RANGE_WORDS = frozenset({"-", "–", "—", "bis", "to", "till", "until"})
_BETWEEN = frozenset({"zwischen", "between"})
_AND = frozenset({"und", "and"})
_TENS = frozenset(float(tens) for tens in range(20, 100, 10))
_VAGUE = frozenset({"few", "paar", "einige", "einigen", "several", "mehrere", "couple", "many",
                    "viele", "etliche"})  # fmt: skip


@dataclass(frozen=True)
class Quantity:
    """A number or range found in pieces `start`..`end` (exclusive)."""

    low: float
    high: float
    start: int
    end: int
    scaled: bool

    @property
    def is_range(self) -> bool:
        return self.low != self.high

    @property
    def finite(self) -> bool:
        return math.isfinite(self.low) and math.isfinite(self.high)


def quantities(found: list[Piece]) -> list[Quantity]:
    """Every number and range, in text order; values may be negative or infinite."""
    result: list[Quantity] = []
    i = 0
    while i < len(found):
        first = _read(found, i)
        if first is None:
            i += 1
            continue
        quantity = _with_range(found, first)
        result.append(quantity)
        i = quantity.end
    return result


def _with_range(found: list[Piece], first: Quantity) -> Quantity:
    j = first.end
    if j + 1 >= len(found) or first.low < 0:
        return first
    joiner = found[j].folded
    between = first.start > 0 and found[first.start - 1].folded in _BETWEEN
    if joiner not in _RANGE_WORDS and not (between and joiner in _AND):
        return first
    second = _read(found, j + 1, signed=False)
    if second is None:
        return first
    low, high = first.low, second.low
    if second.scaled and not first.scaled:
        scale = _scale_of(found, second)
        if scale and low * scale <= high:
            low *= scale
    low, high = min(low, high), max(low, high)
    return Quantity(low, high, first.start, second.end, first.scaled or second.scaled)


def _scale_of(found: list[Piece], quantity: Quantity) -> float | None:
    last = found[quantity.end - 1].folded.rstrip(".")
    return words.SCALES.get(last) or words.SUFFIX_SCALES.get(last)


def _read(found: list[Piece], start: int, *, signed: bool = True) -> Quantity | None:
    """The number starting at `start`, if one does."""
    sign, i = 1.0, start
    if signed and _is_sign(found, i):
        sign, i = -1.0, i + 1
    reader = _Reader()
    while i < len(found):
        step = _step(found, i, reader)
        if step is None:
            break
        i = reader.apply(*step)
    if reader.end is None or (
        reader.vague_start and start > 0 and found[start - 1].folded in _VAGUE
    ):
        return None  # "a few hundred", "ein paar tausend": no number to take
    value = sign * reader.value
    return Quantity(value, value, start, reader.end, reader.scaled)


def _is_sign(found: list[Piece], i: int) -> bool:
    if found[i].text not in _SIGNS or i + 1 >= len(found) or not found[i + 1].glued:
        return False
    return i == 0 or not DIGITS.fullmatch(found[i - 1].text)


class _Reader:
    """Adds up the parts of one number: "two thousand five hundred" -> 2500."""

    def __init__(self) -> None:
        self.total = 0.0
        self.current: float | None = None
        self.scaled = False
        self.closed = False
        self.end: int | None = None
        self.vague_start = False

    @property
    def value(self) -> float:
        return self.total + (self.current or 0.0)

    def apply(self, kind: str, amount: float, next_index: int) -> int:
        if self.end is None and kind == "scale":
            self.vague_start = True
        if kind == "value":
            self.current = amount if self.current is None else self.current + amount
        elif kind == "scale" and amount == 100:
            self.current = (self.current or 1.0) * amount
            self.scaled = True
        elif kind in ("scale", "suffix"):
            self.total += (self.current or 1.0) * amount
            self.current, self.scaled, self.closed = None, True, kind == "suffix"
        if kind != "skip":
            self.end = next_index
        return next_index


def _step(found: list[Piece], i: int, reader: _Reader) -> tuple[str, float, int] | None:
    """One part of a number: (kind, amount, next index); kind is value, scale, suffix, skip."""
    if reader.closed:
        return None
    piece, current = found[i], reader.current
    after = found[i + 1] if i + 1 < len(found) else None
    if DIGITS.fullmatch(piece.text):
        return _digits_step(found, i) if current is None and reader.end is None else None
    scale = _scale_step(found, i, current)
    if scale is not None:
        return scale
    if piece.folded in words.ARTICLES and after is not None:
        if after.folded in words.SCALES:
            return ("value", 1.0, i + 1) if current is None else ("skip", 0.0, i + 1)
        if after.folded in words.HALVES and current is None:
            return "skip", 0.0, i + 1
    if piece.folded in _AND and current is not None and after is not None:
        return _and_a_half(found, i, current)
    if _tens_hyphen(found, i, current):
        return "skip", 0.0, i + 1
    value = words.word_value(piece.text)
    if value is None:
        return None
    if reader.end is not None and not _joins_word(found, i, current, value):
        return None
    return "value", value, i + 1


def _joins_word(found: list[Piece], i: int, current: float | None, value: float) -> bool:
    """Whether a word continues the number: "sixty five", "hundred fifty", "zwei einhalb"."""
    if DIGITS.fullmatch(found[i - 1].text):
        return False
    if current is None:
        return True
    if value == 0.5:
        return current == int(current)
    if current % 100 == 0 and value < 100:
        return True
    return current % 10 == 0 and 20 <= current < 100 and value < 10


def _tens_hyphen(found: list[Piece], i: int, current: float | None) -> bool:
    """The hyphen of "sixty-five" where the tokenizer split it."""
    if found[i].text != "-" or not found[i].glued or current not in _TENS or i + 1 >= len(found):
        return False
    after = found[i + 1]
    unit = words.word_value(after.text) if after.glued else None
    return unit is not None and 1 <= unit <= 9 and unit == int(unit)


def _and_a_half(found: list[Piece], i: int, current: float) -> tuple[str, float, int] | None:
    rest = [p.folded for p in found[i + 1 : i + 3]]
    if rest[:1] and rest[0] in words.HALVES:
        return "value", 0.5, i + 2
    if len(rest) == 2 and rest[0] in words.ARTICLES and rest[1] in words.HALVES:
        return "value", 0.5, i + 3
    following = words.word_value(found[i + 1].text)
    if following is not None and current % 100 == 0 and following < 100 and following != 0.5:
        return "value", following, i + 2
    return None


def _scale_step(found: list[Piece], i: int, current: float | None) -> tuple[str, float, int] | None:
    piece = found[i]
    key = piece.folded.rstrip(".") or piece.folded
    if key in words.SCALES:
        return "scale", words.SCALES[key], i + 1
    if current is None or key not in words.SUFFIX_SCALES:
        return None
    after = found[i + 1] if i + 1 < len(found) else None
    if key == "t" and not (after and after.glued and after.folded in ("€", "eur")):
        return None
    if key == "m" and not piece.glued:
        return None
    return "suffix", words.SUFFIX_SCALES[key], i + 1


def _digits_step(found: list[Piece], i: int) -> tuple[str, float, int] | None:
    text = found[i].text
    value = words.digits_value(text)
    if value is None:
        return None
    j = i + 1
    # "150 000": groups of three digits after a space continue a plain number.
    if re.fullmatch(r"[0-9]{1,3}", text):
        while j < len(found) and not found[j].glued and re.fullmatch(r"[0-9]{3}", found[j].text):
            value = value * 1000 + float(found[j].text)
            j += 1
    return _exponent(found, j, value)


def _exponent(found: list[Piece], j: int, value: float) -> tuple[str, float, int]:
    """A power ("1e400", "10^999"); anything beyond floats becomes infinity."""
    if j + 1 >= len(found) or found[j].text not in ("e", "E", "^") or not found[j].glued:
        return "value", value, j
    k = j + 1
    negative = found[k].text == "-"
    if found[k].text in ("-", "+") and k + 1 < len(found):
        k += 1
    if not (found[k].glued and found[k].text.isascii() and found[k].text.isdigit()):
        return "value", value, j
    power = min(int(found[k].text[:6]), 10_000) * (-1 if negative else 1)
    base, factor = (value, 1.0) if found[j].text == "^" else (10.0, value)
    try:
        return "value", factor * math.pow(base, power), k + 1
    except (OverflowError, ValueError):
        return "value", math.inf, k + 1


def parse_number(text: str, language: str) -> float | None:
    """The single number `text` states; None for none, several, a range or an absurd one."""
    found = quantities(pieces(token_doc(bounded(text), language)))
    if len(found) != 1 or found[0].is_range or not found[0].finite:
        return None
    value = found[0].low
    return value if abs(value) <= MAX_NUMBER else None
