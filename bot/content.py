"""The FAQ content a company edits: `bot/data/content/faq.yml`.

Each topic has a key (the name it keeps everywhere), an answer per language, a short
title per language and follow-up suggestions; each website page key names the topic it
is about and an intro line. The intent of a topic is `faq_<key>`.

`load_content` validates the whole file and raises `ContentError` naming the topic and
field at fault, so a typo is caught at build time and not mid-conversation. Pure
Python, no Rasa imports.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import yaml

from bot.language import SUPPORTED

CONTENT_FILE = Path(__file__).parent / "data" / "content" / "faq.yml"
FAQ_INTENT_PREFIX = "faq_"
MAX_TITLE_CHARS = 25


class ContentError(ValueError):
    """The content file is missing, unreadable or incomplete."""


@dataclass(frozen=True)
class Topic:
    key: str
    title: dict[str, str]
    answer: dict[str, str]
    suggestions: tuple[str, ...] = ()

    @property
    def intent(self) -> str:
        return FAQ_INTENT_PREFIX + self.key


@dataclass(frozen=True)
class Page:
    key: str
    topic: str
    intro: dict[str, str]


@dataclass(frozen=True)
class Content:
    topics: dict[str, Topic]
    pages: dict[str, Page] = field(default_factory=dict)

    def topic_for_intent(self, intent: str | None) -> Topic | None:
        if not intent or not intent.startswith(FAQ_INTENT_PREFIX):
            return None
        return self.topics.get(intent[len(FAQ_INTENT_PREFIX) :])

    @property
    def intents(self) -> list[str]:
        return [topic.intent for topic in self.topics.values()]


def _texts(where: str, value: object, max_chars: int | None = None) -> dict[str, str]:
    if not isinstance(value, dict):
        raise ContentError(f"{where}: expected one text per language ({', '.join(SUPPORTED)})")
    texts = {}
    for lang in SUPPORTED:
        text = value.get(lang)
        if not isinstance(text, str) or not text.strip():
            raise ContentError(f"{where}: the '{lang}' text is missing or empty")
        if max_chars and len(text) > max_chars:
            raise ContentError(f"{where}.{lang}: longer than {max_chars} characters")
        texts[lang] = " ".join(text.split())
    return texts


def _topic(key: str, raw: object) -> Topic:
    where = f"topics.{key}"
    if not key.isidentifier() or key != key.lower():
        raise ContentError(f"{where}: a topic key is lower case letters, digits and '_'")
    if not isinstance(raw, dict):
        raise ContentError(f"{where}: expected a mapping with 'title' and 'answer'")
    suggestions = raw.get("suggestions") or []
    if not isinstance(suggestions, list):
        raise ContentError(f"{where}.suggestions: expected a list of topic keys")
    return Topic(
        key=key,
        title=_texts(f"{where}.title", raw.get("title"), MAX_TITLE_CHARS),
        answer=_texts(f"{where}.answer", raw.get("answer")),
        suggestions=tuple(str(s) for s in suggestions),
    )


def _page(key: str, raw: object, topics: dict[str, Topic]) -> Page:
    where = f"pages.{key}"
    if not isinstance(raw, dict) or raw.get("topic") not in topics:
        raise ContentError(f"{where}.topic: must name one of the topics")
    return Page(key=key, topic=raw["topic"], intro=_texts(f"{where}.intro", raw.get("intro")))


def parse_content(data: object) -> Content:
    """Validate already-parsed YAML; see the module docstring."""
    if not isinstance(data, dict) or not isinstance(data.get("topics"), dict):
        raise ContentError("the file needs a 'topics:' mapping")
    topics = {str(key): _topic(str(key), raw) for key, raw in data["topics"].items()}
    if not topics:
        raise ContentError("'topics:' is empty")
    for topic in topics.values():
        unknown = [s for s in topic.suggestions if s not in topics]
        if unknown:
            raise ContentError(f"topics.{topic.key}.suggestions: unknown topic(s) {unknown}")
    pages = {
        str(key): _page(str(key), raw, topics) for key, raw in (data.get("pages") or {}).items()
    }
    return Content(topics=topics, pages=pages)


def _shown(path: Path) -> str:
    try:
        return str(path.resolve().relative_to(Path.cwd()))
    except ValueError:
        return str(path)


def load_content(path: Path = CONTENT_FILE) -> Content:
    """Read and validate the content file; raises ContentError with the reason."""
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
    except OSError as exc:
        raise ContentError(f"{_shown(path)}: cannot be read ({exc.strerror})") from exc
    except yaml.YAMLError as exc:
        raise ContentError(f"{_shown(path)}: not valid YAML: {exc}") from exc
    try:
        return parse_content(data)
    except ContentError as exc:
        raise ContentError(f"{_shown(path)}: {exc}") from exc
