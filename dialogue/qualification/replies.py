"""What the bot says around the qualification questions, from `qualification.yml`.

The texts live in the file's `replies` section (a company edits them like the
questions); this module only picks the language and fills in the placeholders.
"""

from __future__ import annotations

import re
from functools import lru_cache
from pathlib import Path
from typing import Any

from babel.units import format_unit

from dialogue.lexicon import SUPPORTED
from dialogue.qualification.questions import QUESTIONS_FILE, questionnaire_file

REPLY_KEYS = (
    "intro", "not_understood", "explain", "needed", "go_on", "skipped", "let_go", "noted",
    "introduction_noted",
    "back_to_question", "consent_why", "consent_thanks", "consent_refused", "summary",
    "what_to_correct", "submitted", "stopped", "withdrawn", "nothing_to_note", "offer",
    "save_failed", "withdraw_failed", "resumed", "erase_everything_button", "erased_everything",
    "code_mail_subject", "code_mail_body", "code_sent_new", "code_sent_known", "code_confirmed",
    "code_joined", "code_wrong", "code_void", "code_expired", "code_none",
)  # fmt: skip


MONTHS = re.compile(r"(\d+) months")  # a timeline as `interpret.timeline_reading` shows it


class RepliesError(ValueError):
    """The `replies` section is missing a text."""


def _check(section: Any) -> dict[str, Any]:
    if not isinstance(section, dict):
        raise RepliesError(f"{QUESTIONS_FILE}: needs a 'replies' section")
    for key in (*REPLY_KEYS, "labels"):
        texts = section.get(key)
        if not isinstance(texts, dict):
            raise RepliesError(f"{QUESTIONS_FILE}: replies need '{key}'")
        if key != "labels" and any(not isinstance(texts.get(lang), str) for lang in SUPPORTED):
            raise RepliesError(f"{QUESTIONS_FILE}: reply '{key}' needs a text per language")
    return section


@lru_cache(maxsize=1)
def reply_texts(path: Path = QUESTIONS_FILE) -> dict[str, Any]:
    return _check(questionnaire_file(path).get("replies"))


class Replies:
    def __init__(self, language: str, texts: dict[str, Any] | None = None) -> None:
        self.language = language if language in SUPPORTED else SUPPORTED[0]
        self.texts = texts if texts is not None else reply_texts()

    def text(self, key: str, **values: str) -> str:
        template = self.texts[key][self.language]
        return template.format(**values) if values else template

    def value(self, shown: str) -> str:
        """A stored value as the visitor reads it ("owner_md" -> "Inhaber/Geschäftsführung",
        "3 months" -> "3 Monate")."""
        months = MONTHS.fullmatch(shown)
        if months:
            return format_unit(int(months[1]), "duration-month", locale=self.language)
        texts = (self.texts.get("values") or {}).get(shown) or {}
        return texts.get(self.language, shown)

    def label(self, key: str) -> str:
        labels = self.texts["labels"].get(key) or {}
        return labels.get(self.language, key)

    def intro(self) -> str:
        return self.text("intro")

    def not_understood(self) -> str:
        return self.text("not_understood")

    def explain(self, reason: str) -> str:
        return self.text("explain", reason=reason)

    def needed(self, reason: str) -> str:
        return self.text("needed", reason=reason)

    def go_on(self) -> str:
        return self.text("go_on")

    def skipped(self) -> str:
        return self.text("skipped")

    def noted(self, items: str) -> str:
        return self.text("noted", items=items)

    def back_to_question(self) -> str:
        return self.text("back_to_question")

    def consent_why(self) -> str:
        return self.text("consent_why")

    def consent_thanks(self) -> str:
        return self.text("consent_thanks")

    def consent_refused(self) -> str:
        return self.text("consent_refused")

    def summary(self, lines: list[str]) -> str:
        return self.text("summary", lines="\n".join(f"- {line}" for line in lines))

    def what_to_correct(self) -> str:
        return self.text("what_to_correct")

    def submitted(self) -> str:
        return self.text("submitted")

    def stopped(self) -> str:
        return self.text("stopped")

    def withdrawn(self) -> str:
        return self.text("withdrawn")

    def nothing_to_note(self) -> str:
        return self.text("nothing_to_note")

    def listing(self, items: list[tuple[str, str]]) -> str:
        """(question key, shown value) pairs as the visitor reads them: "Mitarbeiter 60"."""
        return ", ".join(f"{self.label(key)} {self.value(shown)}" for key, shown in items)
