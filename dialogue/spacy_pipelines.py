"""The blank German and English spaCy pipelines Lotse builds and loads.

Each is `spacy.blank(lang)` with a lookup lemmatizer (tables from the
spacy-lookups-data package, copied into the pipeline at build time) and an entity
ruler with the patterns of `bot/data/content/entity_patterns.yml`. Nothing is
downloaded at run time. Pure spaCy, no Rasa.
"""

from __future__ import annotations

from collections import Counter
from functools import lru_cache
from pathlib import Path

import spacy
import yaml
from spacy.language import Language

from dialogue.lexicon import SUPPORTED, Lexicon
from lotse.settings import PROJECT

ROOT = Path(__file__).resolve().parents[1]
PIPELINES_DIR = PROJECT / "build" / "spacy"
PATTERNS_FILE = ROOT / "bot" / "data" / "content" / "entity_patterns.yml"
LEXICON_NAME = "lexicon.json"


def entity_patterns(path: Path = PATTERNS_FILE) -> list[dict]:
    """Entity-ruler patterns: `{label, pattern}` entries, optionally with an `id`."""
    data = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
    patterns = data.get("patterns") or []
    for number, entry in enumerate(patterns, start=1):
        if not isinstance(entry, dict) or "label" not in entry or "pattern" not in entry:
            raise ValueError(f"{path}: pattern {number} needs 'label' and 'pattern'")
    return patterns


def build_pipeline(lang: str, patterns: list[dict]) -> Language:
    nlp = spacy.blank(lang)
    # The ruler goes first (adding phrase patterns runs the pipes before it) and gets
    # its patterns after initialize(), which would clear them.
    ruler = nlp.add_pipe("entity_ruler", config={"phrase_matcher_attr": "LOWER"})
    nlp.add_pipe("lemmatizer", config={"mode": "lookup"})
    nlp.initialize()
    ruler.add_patterns(patterns)
    return nlp


def build_all(target: Path, lexicon: Lexicon, patterns: list[dict]) -> None:
    """Write both pipelines and the language lexicon below `target`."""
    target.mkdir(parents=True, exist_ok=True)
    for lang in SUPPORTED:
        build_pipeline(lang, patterns).to_disk(target / lang)
    (target / LEXICON_NAME).write_text(lexicon.to_json(), encoding="utf-8")


@lru_cache(maxsize=2)
def inflected_words(language: str) -> frozenset[str]:
    """Lemmas with two or more other forms in the lookup table, lower case: words that
    are declined or conjugated ("Raum", "Räume", "Raumes"), unlike most names."""
    nlp = load_pipelines()[language]
    table = nlp.get_pipe("lemmatizer").lookups.get_table("lemma_lookup")
    counts = Counter(value.lower() for value in table.values())
    return frozenset(word for word, forms in counts.items() if forms >= 2)


@lru_cache(maxsize=2)
def vocabulary(language: str) -> frozenset[str]:
    """The lemmas of a pipeline's lookup table, lower case: the words of the language
    (about 80,000 German, 40,000 English)."""
    nlp = load_pipelines()[language]
    table = nlp.get_pipe("lemmatizer").lookups.get_table("lemma_lookup")
    return frozenset(value.lower() for value in table.values())


def load_pipelines(source: Path = PIPELINES_DIR) -> dict[str, Language]:
    """The pipelines of `source`, loaded once per process and folder: the tokenizer
    (which names the folder) and the dialect's word list (which does not) share one
    copy, about 135 MB."""
    return _loaded(Path(source).resolve())


def forget_loaded() -> None:
    """After a rebuild: the next `load_pipelines` reads the folders again."""
    _loaded.cache_clear()
    vocabulary.cache_clear()


@lru_cache(maxsize=4)
def _loaded(source: Path) -> dict[str, Language]:
    missing = [lang for lang in SUPPORTED if not (source / lang).is_dir()]
    if missing:
        raise FileNotFoundError(
            f"spaCy pipelines {missing} not found in {source}: run 'lotse build' first"
        )
    return {lang: spacy.load(source / lang) for lang in SUPPORTED}


def load_lexicon(source: Path = PIPELINES_DIR) -> Lexicon:
    return Lexicon.load(source / LEXICON_NAME)
