"""The languages Lotse speaks and the lexicon of words seen in only one of them.

Its own module, importing nothing of Lotse's: the spaCy pipelines (which store the
lexicon) and the language detection (which reads it) both need it, and the dialect
words the detection uses need the pipelines' vocabulary.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from pathlib import Path

SUPPORTED = ("de", "en")
_WORD = re.compile(r"[^\W\d_]+", re.UNICODE)


@dataclass(frozen=True)
class Lexicon:
    """Words seen in only one language's training examples."""

    de: frozenset[str] = frozenset()
    en: frozenset[str] = frozenset()

    @classmethod
    def load(cls, path: Path) -> Lexicon:
        if not path.exists():
            return cls()
        data = json.loads(path.read_text(encoding="utf-8"))
        return cls(de=frozenset(data.get("de", [])), en=frozenset(data.get("en", [])))

    @classmethod
    def from_examples(cls, examples: dict[str, list[str]]) -> Lexicon:
        words = {
            lang: {w.lower() for t in texts for w in _WORD.findall(t)}
            for lang, texts in examples.items()
        }
        de, en = words.get("de", set()), words.get("en", set())
        return cls(de=frozenset(de - en), en=frozenset(en - de))

    def to_json(self) -> str:
        return json.dumps({"de": sorted(self.de), "en": sorted(self.en)}, ensure_ascii=False)
