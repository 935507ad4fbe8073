"""spaCy tokens split into number-sized pieces, shared by the number-reading parsers.

Contract: `pieces(doc)` returns one `Piece` per token, except that numeric tokens are
split where a number, its scale and a currency are glued together ("150k€" -> "150",
"k", "€"; "1,5Mio" -> "1,5", "Mio"; "60-person" -> "60", "-", "person"; "10^999" ->
"10", "^", "999"). Tokens mixing letters and digits in any other way ("P200", "Q2",
"D-33602", "3x") stay whole, so they never read as numbers. Pieces keep the folded form,
the folded lemma, the token index and whether a space precedes them. Pure.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from spacy.tokens import Doc, Token

from dialogue.answers import number_words as words
from dialogue.answers.pipeline import fold

DIGITS = re.compile(r"[0-9][0-9.,'’]*")
"""A digit string, possibly with grouping and decimal marks."""
_NUMERIC_TOKEN = re.compile(
    r"[~≈<>+±\-−]?[0-9][0-9.,'’]*(?:[eE][+-]?[0-9]+|\^[0-9]+)?"
    r"(?:[-–—][0-9][0-9.,'’]*)?(?:[A-Za-z]{1,4}\.?)?[€$£]?(?:[.,][-–])?"
)
"""A token that is a number with glued scale, currency, range or price dash ("150,-")."""
_SPLIT = re.compile(r"[0-9][0-9.,'’]*[0-9]|[0-9]|[eE](?=[+-]?[0-9])|[A-Za-z]+|\S")
_NUMBER_COMPOUND = re.compile(r"[0-9][0-9.,]*(?:-[^\W\d_]+)+")
"""A number joined to words by hyphens: "60-person", "60-köpfiges"."""


@dataclass(frozen=True)
class Piece:
    """A token, or a part of a numeric token; `glued` when no space precedes it."""

    text: str
    folded: str
    lemma: str
    token: int
    glued: bool
    stop: bool = False


def pieces(doc: Doc) -> list[Piece]:
    result: list[Piece] = []
    for token in doc:
        glued = token.i > 0 and not doc[token.i - 1].whitespace_
        lemma = fold(token.lemma_) if token.lemma_ else fold(token.text)
        if _is_split_im(token, glued, result):
            # The English tokenizer reads "im" as "I'm": join it again for "im März".
            last = result.pop()
            result.append(Piece("im", "im", "im", last.token, last.glued, True))
            continue
        parts = _numeric_parts(token.text)
        if parts is None:
            result.append(Piece(token.text, fold(token.text), lemma, token.i, glued, token.is_stop))
            continue
        for k, part in enumerate(parts):
            result.append(Piece(part, fold(part), fold(part), token.i, glued if k == 0 else True))
    return result


def _is_split_im(token: Token, glued: bool, result: list[Piece]) -> bool:
    return token.lower_ == "m" and glued and bool(result) and result[-1].text in ("i", "I")


def _numeric_parts(text: str) -> list[str] | None:
    if _NUMBER_COMPOUND.fullmatch(text):
        return re.split(r"(-)", text)
    if not _NUMERIC_TOKEN.fullmatch(text):
        return None
    parts = _SPLIT.findall(text)
    letters = [p for p in parts if p.isalpha() and p.lower() != "e"]
    if any(fold(p) not in words.SUFFIX_SCALES and fold(p) != "eur" for p in letters):
        return None
    return parts
