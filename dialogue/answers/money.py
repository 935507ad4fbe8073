"""Budgets: an amount of money and its currency, or "unknown".

Contract: `parse_amount(text, language)` returns
- an `Amount` with `known=True` for a stated amount: "150k", "150.000 EUR",
  "150,000 €", "anderthalb Hunderttausend" -> 150000 EUR; "1,5 Mio" -> 1500000;
  "zwischen 100 und 200 Tsd" -> value 150000 (the midpoint), low 100000, high 200000;
- `Amount.unknown()` (`known=False`) when the visitor says there is none or they do not
  know ("kein Budget", "no budget yet", "weiß nicht");
- None when the text is no usable answer (no amount, a negative one, or one above
  `MAX_AMOUNT`).
Values are whole currency units; the currency is an ISO code (€/EUR/Euro, CHF/Franken,
$/USD/Dollar, £/GBP/Pfund, SEK, NOK, DKK), EUR when none is named. Never raises.

`amount_in(doc, marked_only=True)` is the conservative variant for volunteered
sentences: only a number with a currency, or right after a word such as "Budget",
counts, and only topic negations ("kein Budget") count as unknown.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from spacy.tokens import Doc

from dialogue.answers.numbers import Quantity, quantities
from dialogue.answers.pieces import Piece, pieces
from dialogue.answers.pipeline import bounded, folded_words, token_doc
from dialogue.answers.unknown import says_unknown

MAX_AMOUNT = 10**12
DEFAULT_CURRENCY = "EUR"

CURRENCIES: dict[str, str] = {
    "€": "EUR", "eur": "EUR", "euro": "EUR", "euros": "EUR", "teur": "EUR", "keur": "EUR",
    "t€": "EUR", "k€": "EUR", "chf": "CHF", "franken": "CHF", "sfr": "CHF", "sfr.": "CHF",
    "francs": "CHF", "franc": "CHF", "$": "USD", "usd": "USD", "us$": "USD", "dollar": "USD",
    "dollars": "USD", "£": "GBP", "gbp": "GBP", "pfund": "GBP", "pound": "GBP",
    "pounds": "GBP", "sek": "SEK", "nok": "NOK", "dkk": "DKK",
}  # fmt: skip
_BUDGET_WORDS = folded_words("Budget Budgets Budgetrahmen Etat Investitionsrahmen Preisrahmen")
"""A number right after one of these is an amount even without a currency."""
_FOLLOWERS = folded_words(
    "Investition investieren ausgeben invest investment spend spending max maximal maximum "
    "höchstens insgesamt total netto brutto net gross ungefähr etwa circa roughly"
)
"""Words that may follow a bare amount ("150.000 netto")."""
_NOT_AN_AMOUNT_AFTER = frozenset("%/")
_SKIPPED = frozenset({".", ":", ",", "-", "–"})
"""Between an amount and its currency: "1,5 Mio. €", "150.000,- €"."""


@dataclass(frozen=True)
class Amount:
    """Money in whole units. `low`/`high` equal `value` unless a range was given (they
    are never None after construction); `known=False` marks "the visitor does not know"."""

    value: int
    currency: str = DEFAULT_CURRENCY
    low: int | None = None
    high: int | None = None
    known: bool = True

    def __post_init__(self) -> None:
        if self.low is None:
            object.__setattr__(self, "low", self.value)
        if self.high is None:
            object.__setattr__(self, "high", self.value)

    @classmethod
    def unknown(cls, currency: str = DEFAULT_CURRENCY) -> Amount:
        return cls(0, currency, 0, 0, known=False)


def parse_amount(text: str, language: str) -> Amount | None:
    """The budget a visitor's answer states, `Amount.unknown()`, or None."""
    text = bounded(text)
    if not text:
        return None
    return amount_in(token_doc(text, language), marked_only=False)


def amount_in(doc: Doc, *, marked_only: bool = True) -> Amount | None:
    found = pieces(doc)
    candidates = quantities(found)
    for quantity in candidates:
        if _currency(found, quantity) or _after_budget_word(found, quantity):
            return _amount(quantity, _currency(found, quantity))
    if not marked_only:
        scaled = [q for q in candidates if q.scaled]
        if scaled:
            return _amount(scaled[0], None)
        if len(candidates) == 1 and _stands_alone(found, candidates[0]):
            return _amount(candidates[0], None)
    if not candidates and says_unknown(doc, "budget", generic=not marked_only):
        return Amount.unknown()
    return None


def _currency(found: list[Piece], quantity: Quantity) -> str | None:
    inside = found[quantity.start : quantity.end]
    after = [p for p in found[quantity.end : quantity.end + 3] if p.text not in _SKIPPED][:1]
    before = found[max(quantity.start - 2, 0) : quantity.start][::-1]
    for piece in [*inside, *after, *[p for p in before if p.text != "."][:1]]:
        code = CURRENCIES.get(piece.folded) or _currency_suffix(piece.folded)
        if code:
            return code
    return None


def _currency_suffix(word: str) -> str | None:
    """A scale glued to a currency sign: "k€", "tsd€"."""
    for sign in ("€", "$", "£"):
        if len(word) > 1 and word.endswith(sign) and word[:-1].isalpha():
            return CURRENCIES[sign]
    return None


def _after_budget_word(found: list[Piece], quantity: Quantity) -> bool:
    before = found[max(quantity.start - 4, 0) : quantity.start]
    return any(piece.folded in _BUDGET_WORDS for piece in before)


def _stands_alone(found: list[Piece], quantity: Quantity) -> bool:
    before = found[quantity.start - 1] if quantity.start > 0 else None
    if before is not None and before.text in ("#", "+", "@", "/"):
        return False
    after = found[quantity.end] if quantity.end < len(found) else None
    if after is None or (not after.text.isalnum() and after.text not in _NOT_AN_AMOUNT_AFTER):
        return True
    return after.text.isalpha() and (after.stop or after.folded in _FOLLOWERS)


def _amount(quantity: Quantity, currency: str | None) -> Amount | None:
    if not quantity.finite or quantity.low < 0 or quantity.high > MAX_AMOUNT:
        return None
    value = _half_up((quantity.low + quantity.high) / 2)
    low, high = _half_up(quantity.low), _half_up(quantity.high)
    return Amount(value, currency or DEFAULT_CURRENCY, low, high)


def _half_up(value: float) -> int:
    return int(math.floor(value + 0.5))
