"""Number words and digit formats, German and English, as people type them.

Contract: every function takes one word or digit string and returns a value or None;
none of them raises. Words are compared folded (see `pipeline.fold`), so "fünf",
"fuenf" and "funf" are the same word.
- `word_value("sechzig") == 60`, `word_value("einundsechzig") == 61`,
  `word_value("zweieinhalb") == 2.5`, `word_value("sixty-five") == 65`;
- `SCALES` are multipliers ("Hunderttausend", "Mio", "k", "dozen"); `SUFFIX_SCALES` only
  count right after a number ("150k", "1,5 Mio"; "m" only glued, as "1.5 m" may be
  metres, and "T" only in "T€"); `ARTICLES` mean one only before a
  scale or a half ("eine Million", "a dozen", "ein halbes Jahr");
- `digits_value` reads "150.000", "150,000", "1,5", "1.5", "1'500'000", "150.000,50",
  "1,234.5". A single separator followed by exactly three digits groups thousands in
  both languages ("1.500" and "1,500" are 1500); otherwise it is the decimal mark.
"Billion" is read as 10^9 (English); the German "Billionen" as 10^12.
"""

from __future__ import annotations

import re

from dialogue.answers.pipeline import fold

_DE_UNITS = {
    "ein": 1, "eins": 1, "zwei": 2, "zwo": 2, "drei": 3, "vier": 4, "funf": 5,
    "sechs": 6, "sieben": 7, "acht": 8, "neun": 9,
}  # fmt: skip
_DE_TEENS = {
    "null": 0, "zehn": 10, "elf": 11, "zwolf": 12, "dreizehn": 13, "vierzehn": 14,
    "funfzehn": 15, "sechzehn": 16, "siebzehn": 17, "achtzehn": 18, "neunzehn": 19,
}  # fmt: skip
_DE_TENS = {
    "zwanzig": 20, "dreissig": 30, "vierzig": 40, "funfzig": 50, "sechzig": 60,
    "siebzig": 70, "achtzig": 80, "neunzig": 90,
}  # fmt: skip
_EN_SMALL = {
    "zero": 0, "one": 1, "two": 2, "three": 3, "four": 4, "five": 5, "six": 6, "seven": 7,
    "eight": 8, "nine": 9, "ten": 10, "eleven": 11, "twelve": 12, "thirteen": 13,
    "fourteen": 14, "fifteen": 15, "sixteen": 16, "seventeen": 17, "eighteen": 18,
    "nineteen": 19,
}  # fmt: skip
_EN_TENS = {
    "twenty": 20, "thirty": 30, "forty": 40, "fourty": 40, "fifty": 50, "sixty": 60,
    "seventy": 70, "eighty": 80, "ninety": 90,
}  # fmt: skip

SCALES: dict[str, float] = {
    "hundert": 1e2, "hundred": 1e2, "tausend": 1e3, "thousand": 1e3, "hunderttausend": 1e5,
    "million": 1e6, "millionen": 1e6, "milliarde": 1e9, "milliarden": 1e9,
    "billion": 1e9, "billionen": 1e12, "dozen": 12, "dutzend": 12,
}  # fmt: skip
SUFFIX_SCALES: dict[str, float] = {
    "k": 1e3, "tsd": 1e3, "teur": 1e3, "keur": 1e3, "t": 1e3, "mio": 1e6, "mn": 1e6,
    "m": 1e6, "mrd": 1e9, "bn": 1e9, "t€": 1e3, "k€": 1e3,
}  # fmt: skip
ARTICLES = frozenset({"ein", "eine", "einen", "einem", "einer", "eines", "a", "an"})
HALVES = frozenset({"halb", "halbe", "halben", "halber", "halbes", "half"})
HALF_SUFFIX = "einhalb"

_GROUPED = {
    ".": re.compile(r"[0-9]{1,3}(?:\.[0-9]{3})+"),
    ",": re.compile(r"[0-9]{1,3}(?:,[0-9]{3})+"),
    "'": re.compile(r"[0-9]{1,3}(?:'[0-9]{3})+"),
}
_PLAIN = re.compile(r"[0-9]+")


def word_value(word: str) -> float | None:
    """The value of a number word that is not a scale or article; None if it is none."""
    folded = fold(word)
    if folded in ARTICLES:
        return None
    if folded in HALVES:
        return 0.5
    if folded in _EN_SMALL:
        return float(_EN_SMALL[folded])
    if folded in _EN_TENS:
        return float(_EN_TENS[folded])
    if "-" in folded:
        return _english_compound(folded)
    return _german_word(folded)


def _english_compound(word: str) -> float | None:
    tens, _, unit = word.partition("-")
    if tens in _EN_TENS and unit in _EN_SMALL and 0 < _EN_SMALL[unit] < 10:
        return float(_EN_TENS[tens] + _EN_SMALL[unit])
    return None


def _german_word(word: str) -> float | None:
    if "tausend" in word:
        head, _, rest = word.partition("tausend")
        thousands = 1.0 if head in ("", "ein") else _german_word(head)
        below = _below_1000(rest.removeprefix("und")) if rest else 0
        if thousands is None or below is None:
            return None
        return thousands * 1000 + below
    if word == "anderthalb":
        return 1.5
    if word.endswith(HALF_SUFFIX):
        head = word[: -len(HALF_SUFFIX)]
        whole = _below_1000(head) if head else 0
        return whole + 0.5 if whole is not None else None
    value = _below_1000(word)
    return float(value) if value is not None else None


def _below_1000(word: str) -> int | None:
    if "hundert" in word:
        head, _, rest = word.partition("hundert")
        hundreds = 1 if head in ("", "ein") else _DE_UNITS.get(head)
        below = _below_100(rest.removeprefix("und")) if rest else 0
        if hundreds is None or below is None:
            return None
        return hundreds * 100 + below
    return _below_100(word)


def _below_100(word: str) -> int | None:
    for table in (_DE_UNITS, _DE_TEENS, _DE_TENS):
        if word in table:
            return table[word]
    unit, joiner, tens = word.partition("und")
    if joiner and unit in _DE_UNITS and tens in _DE_TENS:
        return _DE_UNITS[unit] + _DE_TENS[tens]
    return None


def digits_value(text: str) -> float | None:
    """The value of a digit string with optional grouping and decimal marks."""
    text = text.replace("’", "'")
    if _PLAIN.fullmatch(text):
        return float(text)
    marks = [mark for mark in (".", ",", "'") if mark in text]
    if len(marks) == 1:
        return _one_mark(text, marks[0])
    if len(marks) == 2:
        decimal = max(marks, key=text.rindex)
        grouping = next(mark for mark in marks if mark != decimal)
        whole, _, fraction = text.rpartition(decimal)
        if decimal == "'" or not _GROUPED[grouping].fullmatch(whole) or not fraction.isdigit():
            return None
        return float(whole.replace(grouping, "") + "." + fraction)
    return None


def _one_mark(text: str, mark: str) -> float | None:
    if _GROUPED[mark].fullmatch(text):
        whole, _, last = text.partition(mark)
        if text.count(mark) > 1 or mark == "'" or whole != "0":
            return float(text.replace(mark, ""))
        return float(whole + "." + last)
    whole, _, fraction = text.partition(mark)
    if mark == "'" or text.count(mark) > 1 or not whole.isdigit() or not fraction.isdigit():
        return None
    return float(whole + "." + fraction)
