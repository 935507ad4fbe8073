"""The conversation evaluation's corpus: `tests/eval_conversations/*.yml`.

`load_corpus(paths)` reads and validates every file (`docs/conversation_eval.md` is
the format) and raises `CorpusError` naming the file, the conversation and the field
at fault. Pure Python; the corpus holds made-up personal data only.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from dialogue.word_yaml import load_words

CORPUS_DIR = Path(__file__).resolve().parents[1] / "tests" / "eval_conversations"
STYLES = ("de_formal", "de_informal", "de_at", "de_ch", "en")
OUTCOMES = ("submitted", "stopped", "handoff", "no_enquiry", "declined_offer")
CONTROL_KEYS = ("consent", "summary")
MESSAGE_EXPECTATIONS = ("not_misunderstood", "greeting")
IGNORE_OFFER = "\x00ignore"
"""`accept_offer` of a conversation that expects no enquiry and says nothing of offers."""


class CorpusError(ValueError):
    """A corpus file is unreadable or breaks the format."""


@dataclass(frozen=True)
class Message:
    say: str
    gives: tuple[str, ...] = ()
    expect_topic: str | None = None
    expect: str | None = None


@dataclass(frozen=True)
class Detour:
    at: str
    message: Message


@dataclass(frozen=True)
class Conversation:
    id: str
    source: str  # the file's set: "dev" or "test"
    style: str
    language: str
    reply_language: str
    opening: tuple[Message, ...]
    accept_offer: str | None
    answers: dict[str, Message | None]
    detours: tuple[Detour, ...]
    outcome: str
    fields: dict[str, Any] = field(default_factory=dict)
    declined: tuple[str, ...] = ()


def _message(raw: Any, where: str, keys: frozenset[str], topics: frozenset[str]) -> Message:
    if isinstance(raw, str):
        raw = {"say": raw}
    if not isinstance(raw, dict) or not isinstance(raw.get("say"), str) or not raw["say"].strip():
        raise CorpusError(f"{where}: a message is a text or a mapping with 'say'")
    gives = raw.get("gives") or []
    if not isinstance(gives, list) or any(g not in keys for g in gives):
        raise CorpusError(f"{where}: 'gives' names question keys ({', '.join(sorted(keys))})")
    topic = raw.get("expect_topic")
    if topic is not None and topic not in topics:
        raise CorpusError(f"{where}: expect_topic {topic!r} is not an FAQ topic")
    expect = raw.get("expect")
    if expect is not None and expect not in MESSAGE_EXPECTATIONS:
        raise CorpusError(f"{where}: expect is one of {', '.join(MESSAGE_EXPECTATIONS)}")
    return Message(raw["say"].strip(), tuple(gives), topic, expect)


def _conversation(
    raw: Any, source: str, where: str, keys: frozenset[str], topics: frozenset[str]
) -> Conversation:
    if not isinstance(raw, dict) or not isinstance(raw.get("id"), str):
        raise CorpusError(f"{where}: a conversation needs an 'id'")
    where = f"{where} ({raw['id']})"
    style = raw.get("style")
    if style not in STYLES:
        raise CorpusError(f"{where}: style is one of {', '.join(STYLES)}")
    language = raw.get("language", "en" if style == "en" else "de")
    reply = raw.get("reply_language", "en" if style == "en" else "de")
    if language not in ("de", "en") or reply not in ("de", "en"):
        raise CorpusError(f"{where}: language and reply_language are de or en")
    answers_raw = raw.get("answers") or {}
    if not isinstance(answers_raw, dict):
        raise CorpusError(f"{where}: answers map question keys to texts")
    answer_keys = keys | set(CONTROL_KEYS)
    unknown = [k for k in answers_raw if k not in answer_keys]
    if unknown:
        raise CorpusError(f"{where}: answers for unknown keys {unknown}")
    answers = {
        key: None if value is None else _message(value, f"{where} answers.{key}", keys, topics)
        for key, value in answers_raw.items()
    }
    detours = []
    for number, detour in enumerate(raw.get("detours") or [], start=1):
        if not isinstance(detour, dict) or detour.get("at") not in answer_keys:
            raise CorpusError(f"{where}: detour {number} needs 'at' (a question key)")
        detours.append(Detour(detour["at"], _message(detour, f"{where} detour {number}",
                                                      keys, topics)))  # fmt: skip
    expect = raw.get("expect") or {}
    if not isinstance(expect, dict) or expect.get("outcome") not in OUTCOMES:
        raise CorpusError(f"{where}: expect.outcome is one of {', '.join(OUTCOMES)}")
    fields = expect.get("fields") or {}
    if not isinstance(fields, dict) or any(k not in keys for k in fields):
        raise CorpusError(f"{where}: expect.fields map question keys to values")
    declined = expect.get("declined") or []
    if not isinstance(declined, list) or any(k not in keys for k in declined):
        raise CorpusError(f"{where}: expect.declined lists question keys")
    if "accept_offer" in raw:
        accept = raw["accept_offer"]  # a text accepts, null declines
    elif expect["outcome"] == "no_enquiry":
        accept = IGNORE_OFFER  # a visitor with questions only: offers pass unanswered
    else:
        accept = "Ja" if language == "de" else "Yes"
    return Conversation(
        id=raw["id"],
        source=source,
        style=style,
        language=language,
        reply_language=reply,
        opening=tuple(
            _message(m, f"{where} opening {n}", keys, topics)
            for n, m in enumerate(raw.get("opening") or [], start=1)
        ),
        accept_offer=accept if accept is None else str(accept),
        answers=answers,
        detours=tuple(detours),
        outcome=expect["outcome"],
        fields=dict(fields),
        declined=tuple(declined),
    )


def set_of(path: Path) -> str:
    """The set a file belongs to, by its name: `dev_de.yml` -> "dev"."""
    return path.stem.split("_", 1)[0]


def load_corpus(
    paths: Iterable[Path], question_keys: Iterable[str], topics: Iterable[str]
) -> list[Conversation]:
    keys, topic_keys = frozenset(question_keys), frozenset(topics)
    conversations: list[Conversation] = []
    seen: set[str] = set()
    for path in sorted(paths):
        try:
            data = load_words(path.read_text(encoding="utf-8"))
        except (OSError, yaml.YAMLError) as error:
            raise CorpusError(f"{path}: cannot be read ({error})") from error
        if not isinstance(data, dict) or not isinstance(data.get("conversations"), list):
            raise CorpusError(f"{path}: needs a list 'conversations'")
        for number, raw in enumerate(data["conversations"], start=1):
            conversation = _conversation(
                raw, set_of(path), f"{path.name}: conversation {number}", keys, topic_keys
            )
            if conversation.id in seen:
                raise CorpusError(f"{path.name}: the id {conversation.id!r} is used twice")
            seen.add(conversation.id)
            conversations.append(conversation)
    return conversations


def corpus_files(which: str = "all", directory: Path = CORPUS_DIR) -> list[Path]:
    """The corpus files of one set ("dev", "test") or of all."""
    files = sorted(directory.glob("*.yml"))
    return [f for f in files if which == "all" or set_of(f) == which]


def visitor_texts(conversation: Conversation) -> list[str]:
    """Every text the visitor of `conversation` may say."""
    texts = [m.say for m in conversation.opening]
    texts += [m.say for m in conversation.answers.values() if m is not None]
    texts += [d.message.say for d in conversation.detours]
    if conversation.accept_offer and conversation.accept_offer != IGNORE_OFFER:
        texts.append(conversation.accept_offer)
    return texts
