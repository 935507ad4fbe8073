"""Company names and their legal form.

Contract: `parse_company(text, language)` answers "what is your company called?" with
`Company(name, legal_form)`: the name as the visitor spelled it (legal form included),
and the canonical spelling of a recognised legal form, or None for none. Lead-ins ("Wir
sind die", "we are", "Firma", "company", "ich arbeite bei") are stripped. None for
empty, refused ("keine Angabe"), sentence-like or longer than `MAX_NAME_CHARS` answers.
Never raises.

Legal forms (German first, the longest form wins): "GmbH & Co. KG" (also "GmbH + Co
KG", "GmbH und Co. KG"), "GmbH & Co. KGaA", "AG & Co. KGaA", "AG & Co. KG",
"UG (haftungsbeschränkt)", "gGmbH", "GmbH", "KGaA", "AG", "KG", "OHG", "e.K."
("e. K.", "e.Kfm."), "UG", "SE", "GbR", "eG"; foreign: Ltd, LLC, Inc., plc, Corp., B.V.,
N.V., BVBA, AB, A/S, ApS, AS, Oy, Oyj, S.A., S.à r.l., S.p.A., S.r.l., Sp. z o.o., s.r.o.,
a.s.; Austrian e.U. and OG. Short
upper-case forms ("AG", "AS") match only in upper case.

`company_in(doc)` is the conservative variant for volunteered sentences: only a name
of capitalised words followed by a legal form counts ("Geschäftsführer der Müller
Metallbau GmbH" -> "Müller Metallbau GmbH").

Never a company: a name without a word of letters ("3011 AB" is a Dutch postal code,
not a company with the legal form AB), a postal code, small talk and fillers ("yes
please", "ja gerne", "Moment", `dialogue.understanding.small_talk`), and a sentence about
the visitor ("Pressen für unsere neue Linie").
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from spacy.lang.de.stop_words import STOP_WORDS as DE_STOP_WORDS
from spacy.lang.en.stop_words import STOP_WORDS as EN_STOP_WORDS
from spacy.tokens import Doc, Token

from dialogue.answers.pipeline import bounded, fold, folded_words, token_doc
from dialogue.answers.postal import bare_postal_code, prefixed_postal_code
from dialogue.answers.unknown import says_unknown
from dialogue.understanding.small_talk import is_non_answer
from dialogue.understanding.words import words_of

MAX_NAME_CHARS = 120
MAX_NAME_WORDS = 8

_AND = r"\s*(?:&|\+|und|and|u\.)\s*"
LEGAL_FORMS: tuple[tuple[str, str, bool], ...] = (
    # (canonical, pattern, ignore case)
    ("GmbH & Co. KGaA", rf"GmbH{_AND}Co\.?\s*KGaA", True),
    ("GmbH & Co. KG", rf"GmbH{_AND}Co\.?\s*KG", True),
    ("AG & Co. KGaA", rf"AG{_AND}Co\.?\s*KGaA", False),
    ("AG & Co. KG", rf"AG{_AND}Co\.?\s*KG", False),
    ("SE & Co. KG", rf"SE{_AND}Co\.?\s*KG", False),
    ("UG (haftungsbeschränkt)", r"UG\s*\(?\s*haftungsbeschr(?:ä|ae)nkt\s*\)?", True),
    ("GesmbH", r"Ges\.?\s?m\.?\s?b\.?\s?H\.?", True),
    ("gGmbH", r"gGmbH", True),
    ("GmbH", r"GmbH", True),
    ("KGaA", r"KGaA", False),
    ("OHG", r"OHG|oHG", False),
    ("e.K.", r"e\.\s?K(?:fm|fr)?\.", False),
    ("GbR", r"GbR", False),
    ("eG", r"eG", False),
    ("AG", r"AG", False),
    ("KG", r"KG", False),
    ("SE", r"SE", False),
    ("UG", r"UG", False),
    ("S.à r.l.", r"S\.\s?[àa]\.?\s?r\.\s?l\.|SARL|S\.A\.R\.L\.|Sàrl", False),
    ("Sp. z o.o.", r"Sp\.?\s?z\s?o\.\s?o\.?", True),
    ("s.r.o.", r"s\.\s?r\.\s?o\.?|spol\.\s?s\s?r\.\s?o\.?", True),
    ("a.s.", r"a\.\s?s\.", False),
    ("e.U.", r"e\.\s?U\.", False),
    ("OG", r"OG", False),
    ("S.p.A.", r"S\.p\.A\.|SpA", False),
    ("S.r.l.", r"S\.r\.l\.|Srl|SRL", False),
    ("BVBA", r"BVBA|B\.V\.B\.A\.", False),
    ("B.V.", r"B\.\s?V\.|BV", False),
    ("N.V.", r"N\.\s?V\.|NV", False),
    ("S.A.", r"S\.A\.|SA", False),
    ("A/S", r"A/S", True),
    ("ApS", r"ApS", False),
    ("AB", r"AB", False),
    ("AS", r"AS", False),
    ("Oyj", r"Oyj", False),
    ("Oy", r"Oy", False),
    ("Ltd", r"Ltd\.?|Limited", True),
    ("LLC", r"LLC|L\.L\.C\.", True),
    ("Inc.", r"Inc\.?|Incorporated", True),
    ("plc", r"plc|PLC", False),
    ("Corp.", r"Corp\.?|Corporation", True),
)
_FORM_PATTERNS = tuple(
    (canonical, re.compile(rf"(?<![\w&.])(?:{pattern})(?![\w&])", re.I if ignore else 0))
    for canonical, pattern, ignore in LEGAL_FORMS
)
_LEAD_INS = tuple(
    sorted(
        (tuple(fold(word) for word in phrase.split()) for phrase in (
            "wir sind die", "wir sind der", "wir sind das", "wir sind", "wir heißen",
            "das ist die", "das ist", "die firma heißt", "unsere firma heißt",
            "unser unternehmen heißt", "unser unternehmen ist", "unsere firma ist",
            "die firma", "firma", "unternehmen", "ich arbeite bei der", "ich arbeite bei",
            "ich arbeite für die", "ich arbeite für", "bei der", "für die", "ich bin bei der",
            "ich bin von der", "we are the", "we are", "we 're", "we're", "it is", "it 's",
            "it's", "the company is", "our company is", "company", "the company",
            "i work for", "i work at", "i 'm with", "i'm with", "i am with", "name",
            "company name", "firmenname", "die", "der", "das", "the",
        )),
        key=len,
        reverse=True,
    )
)  # fmt: skip
_LEAD_WORDS = folded_words("Firma Unternehmen Company Firmenname Betrieb")
_CONNECTORS = frozenset({"&", "+", "-", "und", "and", "u.", "'s"})
_PARTICLES = frozenset(
    {"van", "der", "den", "de", "von", "vom", "zu", "zum", "di", "da", "la", "le", "du", "del",
     "ten", "ter", "het", "'t", "af", "av"}
)  # fmt: skip
"""Words inside family names ("Van der Berg"): part of a name between name words."""
_STOP_WORDS = frozenset(DE_STOP_WORDS | EN_STOP_WORDS)
_ABOUT_THEMSELVES = folded_words(
    "wir unser unsere unseren unserem unserer ich mein meine meinen meinem we our us my i me"
)
"""A sentence about the visitor, not a name ("Pressen für unsere neue Linie")."""
_REFUSALS = folded_words(
    "privat privatperson private privately keine none nobody niemand anonym anonymous "
    "angabe danke thanks thank hallo hello hi hey moin servus guten grüße gruß grüß"
)
"""Words that make a short answer a refusal or a greeting, not a company name."""


@dataclass(frozen=True)
class Company:
    name: str
    legal_form: str | None


def parse_company(text: str, language: str) -> Company | None:
    text = bounded(text)
    if not text or "@" in text or "://" in text or "?" in text:
        return None
    if is_non_answer(words_of(text)) or _is_postal_code(text):
        return None
    doc = token_doc(text, language)
    found = company_in(doc, strict=False)
    if found is not None or _legal_form(text) is not None:
        return found
    return _bare_name(doc)


def company_in(doc: Doc, *, strict: bool = True) -> Company | None:
    form = _legal_form(doc.text)
    if form is None:
        return _named_firm(doc) if strict else None
    canonical, start, end = form
    before = [token for token in doc if token.idx + len(token.text) <= start]
    first = _name_start(before, strict=strict)
    if first is None:
        return None
    return _company(doc.text[first:end], canonical)


_FIRM_CUES = folded_words("Firma Company Unternehmen Betrieb Firm")
MAX_FIRM_WORDS = 4


def _named_firm(doc: Doc) -> Company | None:
    """ "bei der Firma Leitner Antriebstechnik": a name without a legal form, after a
    word for a company and written with capitals (a sentence goes on in lower case)."""
    for i, token in enumerate(doc[:-1]):
        if fold(token.text) not in _FIRM_CUES:
            continue
        names = []
        for word in doc[i + 1 : i + 1 + MAX_FIRM_WORDS]:
            if not (word.text[:1].isupper() and word.is_alpha) or word.lower_ in _STOP_WORDS:
                break
            names.append(word)
        if names:
            return _company(doc[names[0].i : names[-1].i + 1].text, None)
    return None


def _legal_form(text: str) -> tuple[str, int, int] | None:
    """The leftmost (then longest) legal form: canonical spelling, start, end."""
    best: tuple[str, int, int] | None = None
    for canonical, pattern in _FORM_PATTERNS:
        for match in pattern.finditer(text):
            if best is None or (match.start(), -match.end()) < (best[1], -best[2]):
                best = (canonical, match.start(), match.end())
            break
    return best


def _name_start(before: list[Token], *, strict: bool) -> int | None:
    """Start offset of the name words right before a legal form, walking left."""
    start = None
    for position in range(len(before) - 1, max(len(before) - 1 - MAX_NAME_WORDS, -1), -1):
        token = before[position]
        lowered = token.text.lower()
        joins = _CONNECTORS if strict else _CONNECTORS | _PARTICLES
        if lowered in joins and start is not None and position > 0:
            left = before[position - 1]
            if _is_name_word(left, strict=strict) or left.text.lower() in joins:
                continue  # "Müller & Söhne"; answering: "Van der Berg Staalbouw"
            break
        if not _is_name_word(token, strict=strict):
            break
        start = token.idx
    return start


def _is_name_word(token: Token, *, strict: bool) -> bool:
    text = token.text
    if fold(text) in _LEAD_WORDS or text.lower() in _STOP_WORDS:
        return False
    if not any(ch.isalnum() for ch in text) or not (text[0].isalnum() or text[0] in "'&"):
        return False
    return not strict or text[0].isupper() or text[0].isdigit()


def _bare_name(doc: Doc) -> Company | None:
    folded = [fold(token.text) for token in doc]
    start = 0
    for phrase in _LEAD_INS:
        if tuple(folded[: len(phrase)]) == phrase:
            start = len(phrase)
            break
    span = doc[start:]
    while len(span) and span[-1].is_punct:
        span = span[:-1]
    if not len(span) or len(span) > MAX_NAME_WORDS or span[0].lower_ in _STOP_WORDS:
        return None
    if any(fold(token.text) in _REFUSALS for token in span) or says_unknown(doc):
        return None
    if any(fold(token.text) in _ABOUT_THEMSELVES for token in span):
        return None
    return _company(span.text, None)


def _is_postal_code(text: str) -> bool:
    """The whole answer is a postal code, maybe with a town ("3011 AB Rotterdam")."""
    code = prefixed_postal_code(text) or bare_postal_code(text)
    return code is not None and text.replace(" ", "").startswith(code.code.replace(" ", "")[:4])


def _company(name: str, legal_form: str | None) -> Company | None:
    name = " ".join(name.split()).strip(" ,;:")
    if not name or len(name) > MAX_NAME_CHARS:
        return None
    words = name.split()
    if legal_form is not None:
        words = words[: -len(legal_form.split())] or words
    if not any(any(ch.isalpha() for ch in word) for word in words):
        return None  # "3011 AB": a postal code, no name
    return Company(name, legal_form)
