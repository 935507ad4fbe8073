"""The words of the bot's conversation data the matcher needs: the NLU training
examples (how visitors talk, `bot/data/nlu/`) and the products' names (the entity
patterns of `bot/data/content/entity_patterns.yml`). Read-only, plain YAML."""

from __future__ import annotations

from pathlib import Path

import yaml

from dialogue.spacy_pipelines import PATTERNS_FILE, entity_patterns

NLU_DIR = Path(__file__).resolve().parents[1] / "bot" / "data" / "nlu"


def conversation_texts(folder: Path = NLU_DIR) -> list[str]:
    """The examples of every intent but the FAQ topics' (their words are what visitors
    ask about, not what they say in passing)."""
    texts = []
    for path in sorted(folder.glob("*.yml")):
        if path.name.startswith("faq"):
            continue
        data = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
        for entry in data.get("nlu") or []:
            examples = entry.get("examples") or ""
            texts += [line.strip()[2:] for line in examples.splitlines()
                      if line.strip().startswith("- ")]  # fmt: skip
    return texts


def product_names(path: Path = PATTERNS_FILE) -> list[str]:
    names = []
    for pattern in entity_patterns(path):
        if isinstance(pattern.get("pattern"), str):
            names.append(pattern["pattern"])
        if pattern.get("id"):
            names.append(str(pattern["id"]))
    return names
