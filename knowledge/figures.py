"""The kind of figure a question asks for, and whether a passage says one.

"Wie viele Techniker habt ihr in Linz?" asks for a count, "how long does a retrofit
take" for a duration (or a length: "wie lang ist der Hub"), "what year was Nordwerk
founded" for a year, "how big is the display" for a size. Only a passage that says
such a figure answers it ("über 3.500 Maschinen", "4 to 8 weeks", "1962", "15-inch"),
and the question's words for the kind ("long", "year", "big") are the figure's, not
words the passage must hold. Pure.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from dialogue.folding import fold

_UNITS = r"(?:mm|cm|m|m²|zoll|inch|inches|in)"
_TIMES = (
    r"(?:minute[ns]?|stunden?|hours?|(?:werk)?tag(?:e|en)?|(?:working\s+)?days?|wochen?"
    r"|weeks?|monat(?:e|en)?|months?|jahr(?:e|en)?|years?)"
)


_NUMBER_WORDS = (
    "zwei|drei|vier|fünf|sechs|sieben|acht|neun|zehn|elf|zwölf"
    "|two|three|four|five|six|seven|eight|nine|ten|eleven|twelve"
)


@dataclass(frozen=True)
class FigureKind:
    name: str
    asked: re.Pattern[str]  # how a question asks for it
    said: re.Pattern[str]  # how a passage says it
    words: frozenset[str] = frozenset()  # the question's words for the kind (folded)


KINDS = (
    FigureKind(  # a number that is not part of a code ("P800" counts nothing), or a word
        "count",
        re.compile(r"\b(?:wie\s*viele|how\s+many)\b", re.IGNORECASE),
        re.compile(rf"(?<![^\W_])\d|\b(?:unbegrenzt|unlimited|beliebig|{_NUMBER_WORDS})\b",
                   re.IGNORECASE),  # fmt: skip
    ),
    FigureKind(  # a price or a property's degree as often as a count ("wie viel wiegt")
        "amount",
        re.compile(r"\b(?:wie\s*viel|how\s+much)\b(?!e)", re.IGNORECASE),
        re.compile(r"\d|\b(?:unbegrenzt|unlimited|beliebig)", re.IGNORECASE),
    ),
    FigureKind(
        "duration",
        re.compile(r"\b(?:wie\s+lange?|how\s+long)\b", re.IGNORECASE),
        re.compile(  # a time, or a length: "wie lang ist der Hub" asks that
            rf"\d[\d.,]*\s+(?:(?:bis|to)\s+\d+\s+)?{_TIMES}\b|\d[\d.,]*\s*-?\s*{_UNITS}\b",
            re.IGNORECASE,
        ),
        frozenset({"long", "lang", "lange"}),
    ),
    FigureKind(
        "year",
        re.compile(
            r"\b(?:(?:what|which|welche[ms]?)\s+(?:year|jahr)|seit\s+wann|in\s+welchem\s+jahr)\b",
            re.IGNORECASE,
        ),
        re.compile(r"\b(?:1[89]|20)\d\d\b"),
        frozenset({"year", "jahr"}),
    ),
    FigureKind(
        "frequency",
        re.compile(
            r"\b(?:wie\s+(?:oft|häufig|haeufig)|how\s+(?:often|frequently))\b", re.IGNORECASE
        ),
        re.compile(
            r"\b(?:pro|per|je|a|an|every|each|alle|jede[nmrs]?)\s+(?:\d+\s+)?"
            r"(?:sekunden?|second|minuten?|minute|stunden?|hour|tag|day|wochen?|week|monat|month"
            r"|jahr|year|betriebsstunden|operating)|\b(?:täglich|wöchentlich|monatlich|jährlich"
            r"|daily|weekly|monthly|yearly|annually|\d+\s*(?:x|mal|times))\b",
            re.IGNORECASE,
        ),
        frozenset({"oft", "often", "haufig", "frequently"}),
    ),
    FigureKind(
        "size",
        re.compile(r"\b(?:wie\s+(?:gro(?:ß|ss)|breit)|how\s+(?:big|large|wide))\b", re.IGNORECASE),
        re.compile(rf"\d[\d.,]*\s*-?\s*{_UNITS}\b", re.IGNORECASE),
        frozenset({"big", "large", "wide", "gross", "breit"}),
    ),
)


SPECIFIC = frozenset({"count", "duration", "year", "frequency"})  # no topic answers in general


def figures_asked(question: str) -> list[FigureKind]:
    """The kinds of figure `question` asks for (none for most questions)."""
    return [kind for kind in KINDS if kind.asked.search(question)]


def says_figures(text: str, kinds: list[FigureKind]) -> bool:
    return all(kind.said.search(text) for kind in kinds)


def figure_words(kinds: list[FigureKind]) -> frozenset[str]:
    """The question's words the kinds stand for, folded."""
    return frozenset(fold(w) for kind in kinds for w in kind.words)
