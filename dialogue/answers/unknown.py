"""Answers that say the value is not known yet ("weiß ich noch nicht", "no budget yet").

Contract: `says_unknown(doc, topic)` is True when the text says the visitor does not
know, has not decided, or will not say ("keine Angabe", "prefer not to say"), or
negates the topic itself ("kein Budget", "noch kein Zeitplan", "no timeline yet",
"keine Eile"). With `generic=False` only the topic's own negations count, for sentences
that volunteer more than one thing. Parsers check for a real value first: "not sure,
maybe 100k" is 100k. Rules are spaCy `Matcher` patterns on lower-case tokens, written for
both the German and the English tokenizer.
"""

from __future__ import annotations

from functools import lru_cache

from spacy.matcher import Matcher
from spacy.tokens import Doc

from dialogue.answers.pipeline import nlp_for

TOPIC_WORDS: dict[str, tuple[str, ...]] = {
    "budget": (
        "budget", "budgets", "etat", "budgetrahmen", "investitionsrahmen", "geld", "money",
        "finanzierung", "funding", "mittel", "funds",
    ),
    "timeline": (
        "zeitplan", "zeitrahmen", "zeitpunkt", "termin", "terminplan", "deadline", "timeline",
        "timeframe", "schedule", "plan", "plans", "eile", "zeitdruck", "hurry", "rush", "date",
        "datum",
    ),
}  # fmt: skip

_NEGATIONS = ["kein", "keine", "keinen", "keiner", "keinerlei", "no", "ohne", "without"]
_MODIFIERS = ["noch", "yet", "fest", "festes", "festen", "konkretes", "konkreten", "klares",
              "klaren", "genaues", "genauen", "fixed", "set", "specific", "clear", "real",
              "bestimmtes", "bestimmten", "eigenes", "eigenen", "particular"]  # fmt: skip
_NOT_YET = ["klar", "fest", "festgelegt", "entschieden", "geklärt", "bekannt", "definiert",
            "sicher", "abzusehen", "absehbar", "sure", "certain", "decided", "clear", "known",
            "defined", "fixed", "determined", "settled"]  # fmt: skip
_ALONE = ["unklar", "unbekannt", "ungewiss", "unsicher", "unentschlossen", "unknown", "unclear",
          "unsure", "undecided", "tbd", "tba", "idk", "dunno", "weißnicht", "k.a.", "n/a",
          "depends", "depending", "offen"]  # fmt: skip


def _lower(*words: str) -> dict:
    """A Matcher token pattern: the lower-case token is one of `words`."""
    return {"LOWER": {"IN": list(words)}}


def _generic_patterns() -> list[list[dict]]:
    lower = _lower
    fillers = {"LOWER": {"IN": ["ich", "man", "es", "das", "noch", "leider", "auch", "so",
                                "genau", "wirklich", "aktuell", "jetzt", "momentan"]},
               "OP": "*"}  # fmt: skip
    return [
        [lower("weiß", "weiss", "weis", "wei"), fillers, lower("nicht", "net")],
        [lower("keine", "kein"), lower("ahnung", "angabe", "idee", "plan")],
        [lower("k."), lower("a.")],
        [
            lower("nicht", "not", "n't", "nt"),
            lower("yet", "so", "ganz", "really", "quite", "100%", "genau", "been", "yet")
            | {"OP": "*"},
            lower(*_NOT_YET),
        ],  # fmt: skip
        [lower("noch", "ist", "völlig", "komplett", "still", "is"), lower("offen", "open")],
        [lower("kommt"), lower("drauf", "darauf"), lower("an")],
        [lower("hängt"), lower("davon", "noch"), lower("ab")],
        [lower("je"), lower("nachdem")],
        [lower("don't", "dont", "don’t", "doesn't", "didn't"), lower("know")],
        [lower("n't", "nt", "not"), lower("know")],
        [lower("no"), lower("idea", "clue")],
        [
            lower("haven't", "havent", "hasn't", "hasnt"),
            lower("been", "yet") | {"OP": "*"},
            lower(*_NOT_YET),
        ],
        [
            lower("have", "has"),
            lower("n't", "not"),
            lower("been", "yet") | {"OP": "*"},
            lower(*_NOT_YET),
        ],  # fmt: skip
        [
            lower("möchte", "moechte", "will", "mag"),
            lower("ich"),
            lower("nicht"),
            lower("sagen", "verraten", "angeben", "nennen"),
        ],  # fmt: skip
        [
            lower("prefer", "rather", "would"),
            lower("not"),
            lower("to") | {"OP": "?"},
            lower("say", "tell", "disclose", "share"),
        ],  # fmt: skip
    ]


def _topic_patterns(topic: str) -> list[list[dict]]:
    words = list(TOPIC_WORDS[topic])
    return [
        [{"LOWER": {"IN": _NEGATIONS}}, {"LOWER": {"IN": _MODIFIERS}, "OP": "*"},
         {"LOWER": {"IN": words}}],  # fmt: skip
        [{"LOWER": {"IN": _NEGATIONS}}, {"LOWER": {"IN": _MODIFIERS}, "OP": "*"},
         {"LOWER": "time"}, {"LOWER": {"IN": ["frame", "line", "plan"]}}],  # fmt: skip
        [{"LOWER": {"IN": ["nicht", "not", "un"]}}, {"LOWER": "-", "OP": "?"},
         {"LOWER": {"IN": ["budgetiert", "budgeted", "eingeplant", "geplant", "planned"]}}],
    ]  # fmt: skip


@lru_cache(maxsize=16)
def _matcher(language: str, topic: str | None, generic: bool) -> Matcher:
    matcher = Matcher(nlp_for(language).vocab)
    if generic:
        matcher.add("generic", _generic_patterns())
    if topic is not None:
        matcher.add("topic", _topic_patterns(topic))
    return matcher


def says_unknown(doc: Doc, topic: str | None = None, *, generic: bool = True) -> bool:
    """Whether the doc says the topic's value is unknown, undecided or not to be told."""
    if topic is not None and topic not in TOPIC_WORDS:
        raise ValueError(f"unknown topic {topic!r}; known: {sorted(TOPIC_WORDS)}")
    if generic and any(token.lower_ in _ALONE for token in doc):
        return True
    return bool(_matcher(doc.lang_, topic, generic)(doc))
