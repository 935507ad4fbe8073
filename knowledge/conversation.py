"""The words of the bot's conversation data the matcher needs: the NLU training
examples (how visitors talk, `bot/data/nlu/`) and the products' names (the entity
patterns of `bot/data/content/entity_patterns.yml`). Read-only, plain YAML."""

from __future__ import annotations

from pathlib import Path

from dialogue.content import FAQ_INTENT_PREFIX
from dialogue.nlu_examples import NLU_DIR, nlu_examples
from dialogue.spacy_pipelines import PATTERNS_FILE, entity_patterns


def conversation_texts(folder: Path = NLU_DIR) -> list[str]:
    """The examples of every intent but the FAQ topics' (their words are what visitors
    ask about, not what they say in passing)."""
    return [text for intent, text in nlu_examples(folder)
            if not intent.startswith(FAQ_INTENT_PREFIX)]  # fmt: skip


def product_names(path: Path = PATTERNS_FILE) -> list[str]:
    names = []
    for pattern in entity_patterns(path):
        if isinstance(pattern.get("pattern"), str):
            names.append(pattern["pattern"])
        if pattern.get("id"):
            names.append(str(pattern["id"]))
    return names
