"""What the visitor reads around a handoff (`bot/data/handoff.yml`), loaded and checked.

`load_handoff_texts()` reads the file once; a missing text, language or placeholder
mistake raises `HandoffTextsError` naming the file, so Lotse refuses to start rather
than fail mid-conversation. Pure Python.
"""

from __future__ import annotations

import re
import string
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path

import yaml

from handoff.triggers import HandoffRule, HandoffRuleError, parse_rules

HANDOFF_FILE = Path(__file__).resolve().parents[1] / "bot" / "data" / "handoff.yml"
LANGUAGES = ("de", "en")
WORD = re.compile(r"[\w-]+")
PLACEHOLDERS = frozenset({
    "person", "team", "position", "minutes", "hours", "next", "window", "slot", "phone",
    "email", "lead", "stage", "conversation",
})  # fmt: skip
CALLBACK_KEYS = (
    "ask_phone", "ask_window", "ask_slot", "ask_email", "not_understood", "gave_up",
    "cancelled", "no_consent", "no_slots", "save_failed", "slot_taken", "callback_confirmed",
    "meeting_confirmed", "yes", "no", "callback_email_subject", "callback_email_body",
    "callback_chat", "meeting_title", "meeting_email_body", "meeting_staff_body", "meeting_chat",
)  # fmt: skip
REQUIRED = (
    "failed",
    "queued_person",
    "queued_team",
    "joined",
    "transferred",
    "closed",
    "out_of_hours",
    "nobody_free",
    *CALLBACK_KEYS,
)


class HandoffTextsError(ValueError):
    """The handoff texts file is not usable; the message names the file and the text."""


@dataclass(frozen=True)
class HandoffTexts:
    texts: dict[str, dict[str, str]]
    cancel_phrases: tuple[str, ...]
    default_minutes: int
    service_topics: frozenset[str]
    rules: tuple[HandoffRule, ...] = ()
    need_words: dict[str, tuple[str, ...]] = field(default_factory=dict)

    def need_named(self, text: str) -> str | None:
        """ "sales" or "service" when the visitor's words name one (whole words)."""
        said = " " + " ".join(WORD.findall(text.lower())) + " "
        for need, words in self.need_words.items():
            if any(f" {word} " in said for word in words):
                return need
        return None

    def text(self, key: str, language: str, **values: object) -> str:
        template = self.texts[key].get(language) or self.texts[key]["de"]
        return template.format(**values)

    def is_cancel(self, text: str) -> bool:
        said = " ".join(text.lower().split()).strip(" .!?")
        return said in self.cancel_phrases or said == "/cancel_handoff"


def _check_template(path: Path, key: str, language: str, template: object) -> str:
    if not isinstance(template, str) or not template.strip():
        raise HandoffTextsError(f"{path}: texts.{key}.{language} must be a non-empty text")
    names = {name for _, name, _, _ in string.Formatter().parse(template) if name}
    unknown = names - PLACEHOLDERS
    if unknown:
        raise HandoffTextsError(
            f"{path}: texts.{key}.{language} uses unknown placeholder(s) {sorted(unknown)}"
        )
    return template


def parse_handoff_texts(raw: object, path: Path) -> HandoffTexts:
    if not isinstance(raw, dict) or not isinstance(raw.get("texts"), dict):
        raise HandoffTextsError(f"{path}: expected a mapping with `texts`")
    texts: dict[str, dict[str, str]] = {}
    for key, by_language in raw["texts"].items():
        if not isinstance(by_language, dict) or set(by_language) != set(LANGUAGES):
            raise HandoffTextsError(f"{path}: texts.{key} needs exactly `de` and `en`")
        texts[key] = {
            lang: _check_template(path, key, lang, by_language[lang]) for lang in LANGUAGES
        }
    missing = [key for key in REQUIRED if key not in texts]
    if missing:
        raise HandoffTextsError(f"{path}: missing text(s) {', '.join(missing)}")
    phrases = raw.get("cancel_phrases") or []
    if not isinstance(phrases, list) or not all(isinstance(p, str) for p in phrases):
        raise HandoffTextsError(f"{path}: cancel_phrases must be a list of texts")
    minutes = raw.get("default_minutes_per_conversation", 2)
    if not isinstance(minutes, int) or minutes < 1:
        raise HandoffTextsError(f"{path}: default_minutes_per_conversation must be >= 1")
    topics = raw.get("service_topics") or []
    if not isinstance(topics, list) or not all(isinstance(t, str) for t in topics):
        raise HandoffTextsError(f"{path}: service_topics must be a list of FAQ topic keys")
    return HandoffTexts(
        texts=texts,
        cancel_phrases=tuple(" ".join(p.lower().split()) for p in phrases),
        default_minutes=minutes,
        service_topics=frozenset(topics),
        rules=_rules(raw.get("handoff_rules"), path),
        need_words=_need_words(raw.get("need_words"), path),
    )


def _need_words(raw: object, path: Path) -> dict[str, tuple[str, ...]]:
    if raw is None:
        return {}
    if not isinstance(raw, dict) or not set(raw) <= {"sales", "service"}:
        raise HandoffTextsError(f"{path}: need_words maps sales/service to lists of words")
    return {need: tuple(str(w).lower() for w in words or ()) for need, words in raw.items()}


def _rules(raw: object, path: Path) -> tuple[HandoffRule, ...]:
    try:
        return parse_rules(raw)
    except HandoffRuleError as error:
        raise HandoffTextsError(f"{path}: {error}") from None


@lru_cache(maxsize=4)
def load_handoff_texts(path: Path = HANDOFF_FILE) -> HandoffTexts:
    with path.open(encoding="utf-8") as handle:
        return parse_handoff_texts(yaml.safe_load(handle), path)
