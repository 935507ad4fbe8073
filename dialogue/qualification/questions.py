"""The qualification questions a company edits: `bot/data/qualification.yml`.

`load_questionnaire()` validates the whole file and raises `QuestionnaireError` naming
the question and field at fault (a typo is caught when Lotse starts, not in the
middle of a conversation). Pure Python, no Rasa.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path
from typing import Any

from dialogue.lexicon import SUPPORTED
from dialogue.questionnaire_file import QUESTIONS_FILE, QuestionnaireError, questionnaire_file
from dialogue.understanding.patterns import Phrase, compile_phrases, first_match
from dialogue.understanding.words import words_of

PARSERS = (
    "need",
    "company",
    "employees",
    "industry",
    "role",
    "location",
    "timeline",
    "budget",
    "name",
    "email",
    "phone",
)
SCORING_ATTRIBUTES = ("company_size", "industry", "role", "region")
ROUTING_ATTRIBUTES = ("product", "key_account", "region")
QUESTION_KEYS = {
    "key", "parser", "skippable", "optional", "personal", "scoring", "routing", "ask", "why",
    "names", "needs_postal_code_in",
}  # fmt: skip


@dataclass(frozen=True)
class Question:
    key: str
    parser: str
    ask: dict[str, str]
    why: dict[str, str]
    skippable: bool = True
    optional: bool = False
    personal: bool = False
    scoring: str | None = None
    routing: str | None = None
    # Words that name what the question asks ("Mitarbeiter", "Firma"): a message naming
    # it may change an answer given before ("wir sind doch 80 Mitarbeiter").
    names: tuple[str, ...] = ()
    # Countries where a location needs its postal code (routing goes by it there): a
    # country named alone ("wir sind aus Deutschland") leaves the question to be asked.
    needs_postal_code_in: tuple[str, ...] = ()


@dataclass(frozen=True)
class ConsentText:
    version: str
    purpose: str
    privacy_url: str
    text: dict[str, str]
    # The wording also asks to keep the questions the bot could not answer (insights).
    covers_unanswered: bool = False


@dataclass(frozen=True)
class Signal:
    """Words (and NLU intents) that mean one thing, e.g. "stop" or "asked for a price".

    The phrases are those of `dialogue.understanding.patterns`: compared folded, with a typo
    tolerated in longer words, `...` for a few words between, `word*` for a beginning.
    """

    phrases: tuple[Phrase, ...]
    intents: tuple[str, ...] = ()

    def matches(self, text: str, intent: str | None = None) -> bool:
        return (intent is not None and intent in self.intents) or self.said(text)

    def said(self, text: str) -> bool:
        return first_match(self.phrases, words_of(text)) is not None


CONTROLS = ("withdraw", "stop", "why", "correct", "decline", "yes", "no", "human")


@dataclass(frozen=True)
class Questionnaire:
    questions: tuple[Question, ...]
    consent: ConsentText
    formal: bool = True
    controls: dict[str, Signal] = field(default_factory=dict)
    interest_intents: dict[str, str] = field(default_factory=dict)
    interest_phrases: dict[str, Signal] = field(default_factory=dict)

    def question(self, key: str) -> Question:
        return next(q for q in self.questions if q.key == key)

    @property
    def keys(self) -> tuple[str, ...]:
        return tuple(q.key for q in self.questions)


def _texts(raw: Any, where: str, formal: bool) -> dict[str, str]:
    if not isinstance(raw, dict):
        raise QuestionnaireError(f"{where} needs a text per language ({', '.join(SUPPORTED)})")
    texts = {}
    for lang in SUPPORTED:
        text = raw.get(f"{lang}_du") if (lang == "de" and not formal) else None
        text = text or raw.get(lang)
        if not isinstance(text, str) or not text.strip():
            raise QuestionnaireError(f"{where} has no text for '{lang}'")
        texts[lang] = " ".join(text.split())
    return texts


def _flag(raw: dict, name: str, where: str, default: bool) -> bool:
    value = raw.get(name, default)
    if not isinstance(value, bool):
        raise QuestionnaireError(f"{where}: '{name}' must be true or false, not {value!r}")
    return value


def _choice(raw: dict, name: str, where: str, allowed: tuple[str, ...]) -> str | None:
    value = raw.get(name)
    if value is not None and value not in allowed:
        raise QuestionnaireError(
            f"{where}: '{name}' is {value!r}; it must be one of {', '.join(allowed)}"
        )
    return value


def _question(raw: Any, number: int, formal: bool) -> Question:
    if not isinstance(raw, dict) or not isinstance(raw.get("key"), str):
        raise QuestionnaireError(f"question {number} needs a 'key'")
    where = f"question '{raw['key']}'"
    unknown = sorted(set(raw) - QUESTION_KEYS)
    if unknown:
        raise QuestionnaireError(f"{where}: unknown field(s) {', '.join(unknown)}")
    parser = _choice(raw, "parser", where, PARSERS)
    if parser is None:
        raise QuestionnaireError(f"{where} needs a 'parser' ({', '.join(PARSERS)})")
    return Question(
        key=raw["key"],
        parser=parser,
        ask=_texts(raw.get("ask"), f"{where} 'ask'", formal),
        why=_texts(raw.get("why"), f"{where} 'why'", formal),
        skippable=_flag(raw, "skippable", where, True),
        optional=_flag(raw, "optional", where, False),
        personal=_flag(raw, "personal", where, False),
        scoring=_choice(raw, "scoring", where, SCORING_ATTRIBUTES),
        routing=_choice(raw, "routing", where, ROUTING_ATTRIBUTES),
        names=_names(raw.get("names"), where),
        needs_postal_code_in=_names(raw.get("needs_postal_code_in"), where),
    )


def _names(raw: Any, where: str) -> tuple[str, ...]:
    if raw is None:
        return ()
    if not isinstance(raw, list) or not all(isinstance(n, str) and n.strip() for n in raw):
        raise QuestionnaireError(f"{where}: 'names' must be a list of words")
    return tuple(n.strip() for n in raw)


def _consent(raw: Any, formal: bool) -> ConsentText:
    if not isinstance(raw, dict):
        raise QuestionnaireError("the file needs a 'consent' section")
    for name in ("version", "purpose", "privacy_url"):
        if not isinstance(raw.get(name), str) or not raw[name].strip():
            raise QuestionnaireError(f"consent needs a '{name}'")
    covers = raw.get("covers_unanswered_questions", False)
    if not isinstance(covers, bool):
        raise QuestionnaireError("consent 'covers_unanswered_questions' must be true or false")
    return ConsentText(
        version=raw["version"],
        purpose=raw["purpose"],
        privacy_url=raw["privacy_url"],
        text=_texts(raw.get("text"), "consent 'text'", formal),
        covers_unanswered=covers,
    )


SIGNAL_TYPOS_FROM = 6
"""Control words are short and many are one letter apart ("nein", "mein"): a typo is
tolerated only from this length on ("einverstanden", "überspringen")."""


def _signal(raw: Any, where: str) -> Signal:
    if not isinstance(raw, dict) or not isinstance(raw.get("phrases", []), list):
        raise QuestionnaireError(f"{where} needs a list of 'phrases'")
    intents = raw.get("intents", [])
    if not isinstance(intents, list):
        raise QuestionnaireError(f"{where}: 'intents' must be a list")
    try:
        phrases = compile_phrases(
            (str(p) for p in raw.get("phrases", []) if str(p).strip()), SIGNAL_TYPOS_FROM
        )
    except ValueError as error:
        raise QuestionnaireError(f"{where}: {error}") from error
    return Signal(phrases, tuple(str(i) for i in intents))


def _controls(raw: Any) -> dict[str, Signal]:
    if not isinstance(raw, dict):
        raise QuestionnaireError("the file needs a 'controls' section")
    missing = [name for name in CONTROLS if name not in raw]
    if missing:
        raise QuestionnaireError(f"controls need {', '.join(missing)}")
    return {name: _signal(raw[name], f"controls '{name}'") for name in CONTROLS}


def _interest(raw: Any) -> tuple[dict[str, str], dict[str, Signal]]:
    if not isinstance(raw, dict):
        raise QuestionnaireError("the file needs an 'interest' section")
    intents = raw.get("intents") or {}
    phrases = raw.get("phrases") or {}
    if not isinstance(intents, dict) or not isinstance(phrases, dict):
        raise QuestionnaireError("interest: 'intents' and 'phrases' must be mappings")
    signals = {
        str(kind): _signal({"phrases": words}, f"interest phrases '{kind}'")
        for kind, words in phrases.items()
    }
    return {str(k): str(v) for k, v in intents.items()}, signals


def parse_questionnaire(data: Any) -> Questionnaire:
    if not isinstance(data, dict) or not isinstance(data.get("questions"), list):
        raise QuestionnaireError("the file needs a list of 'questions'")
    formal = data.get("formal", True)
    if not isinstance(formal, bool):
        raise QuestionnaireError(f"'formal' must be true or false, not {formal!r}")
    questions = tuple(
        _question(raw, number, formal) for number, raw in enumerate(data["questions"], 1)
    )
    keys = [q.key for q in questions]
    duplicates = sorted({key for key in keys if keys.count(key) > 1})
    if duplicates:
        raise QuestionnaireError(f"question key(s) used twice: {', '.join(duplicates)}")
    if "email" not in keys:
        raise QuestionnaireError("the questions must include 'email' (a lead needs one)")
    interest_intents, interest_phrases = _interest(data.get("interest"))
    return Questionnaire(
        questions,
        _consent(data.get("consent"), formal),
        formal,
        _controls(data.get("controls")),
        interest_intents,
        interest_phrases,
    )


@lru_cache(maxsize=4)
def load_questionnaire(path: Path = QUESTIONS_FILE) -> Questionnaire:
    try:
        return parse_questionnaire(questionnaire_file(path))
    except QuestionnaireError as error:
        raise QuestionnaireError(f"{path}: {error}") from error
