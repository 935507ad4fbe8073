"""Swiss, Austrian and Bavarian German and colloquial spellings read as standard German.

`bot/data/content/dialect.yml` maps such words to standard ones. `standard_word(word,
german)` gives the standard form of one folded word (or the word itself);
`standard_german(text)` rewrites the dialect words of a German text, keeping everything
else as written (names and company names are not dialect words). The NLU tokenizer
gives the standard words as lemmas; the answer parsers read German text rewritten;
the conversation rules compare words rewritten with the `words` map alone (the
`german_only` entries are also words of English or standard German). Pure; a bad file
raises `ValueError` naming it when first used.
"""

from __future__ import annotations

import re
from functools import lru_cache
from pathlib import Path

import yaml

from dialogue.folding import fold
from dialogue.word_yaml import load_words

DIALECT_FILE = Path(__file__).resolve().parents[1] / "bot" / "data" / "content" / "dialect.yml"
_WORD = re.compile(r"(?<![\w-])[^\W\d_]+(?:'[^\W\d_]+)?(?![\w-])", re.UNICODE)
"""A word on its own: not the "A" of "A-1010", not a piece of "e-mail" or "NW-Press"."""
_REPEATS = re.compile(r"(\w)\1{2,}", re.UNICODE)


def _key(word: str) -> str:
    return _REPEATS.sub(r"\1", fold(word)).replace("'", "")


@lru_cache(maxsize=2)
def dialect_maps(path: Path = DIALECT_FILE) -> tuple[dict[str, str], dict[str, str]]:
    """(words, german_only): folded dialect word -> standard word."""
    try:
        data = load_words(path.read_text(encoding="utf-8")) or {}
    except (OSError, yaml.YAMLError) as error:
        raise ValueError(f"{path}: cannot be read as YAML ({error})") from error
    maps = []
    for section in ("words", "german_only"):
        raw = data.get(section) or {}
        if not isinstance(raw, dict) or not all(
            isinstance(k, str) and isinstance(v, str) and v.strip() for k, v in raw.items()
        ):
            raise ValueError(f"{path}: '{section}' maps dialect words to standard words")
        maps.append({_key(k): v.strip() for k, v in raw.items()})
    return maps[0], maps[1]


def standard_word(word: str, *, german: bool) -> str | None:
    """The standard form of `word`, or None when it is no dialect word."""
    everywhere, german_only = dialect_maps()
    key = _key(word)
    return everywhere.get(key) or (german_only.get(key) if german else None)


def standard_german(text: str) -> str:
    """`text` with its dialect words in standard German: the words of the file, and
    Swiss spellings of known German words ("Stahlverarbeitig", "Iikauf": `swiss_spelling`)."""

    def replace(match: re.Match[str]) -> str:
        word = match.group(0)
        found = standard_word(word, german=True) or swiss_spelling(word)
        return word if found is None else found

    return _WORD.sub(replace, text)


MIN_SOUND_CHARS = 5
MIN_HEAD_CHARS = 6


def swiss_spelling(word: str) -> str | None:
    """The standard German of a Swiss spelling, if it is a German word: "-ig" for "-ung"
    ("Bearbeitig"), "-ed" for "-en" ("mached", "liefered"), "ii" for "ei" ("Iikauf"),
    "üe" for "ü" ("Vorfüehrig"). A word German knows already ("wichtig") stays; a
    compound counts by its known head."""
    lowered = word.lower()
    if len(lowered) < MIN_SOUND_CHARS or _known(lowered):
        return None
    vowels = lowered.replace("ii", "ei").replace("üe", "ü")
    if re.match(r"g[bdfgklmnpsstwz]", vowels):
        vowels = "ge" + vowels[1:]  # "Gschäft", "gmacht": the Swiss drop the e
    endings = [("ig", "ung"), ("ered", "ern"), ("ed", "en"), ("ä", "e")]
    candidates = [vowels] + [vowels[: -len(old)] + new for old, new in endings
                             if vowels.endswith(old)]  # fmt: skip
    for candidate in candidates:
        if candidate != lowered and _known(candidate, heads=True):
            return candidate[0].upper() + candidate[1:] if word[0].isupper() else candidate
    return None


def _known(word: str, *, heads: bool = False) -> bool:
    words = german_words()
    if word in words:
        return True
    return heads and any(word[i:] in words for i in range(1, len(word) - MIN_HEAD_CHARS + 1))


def german_words() -> frozenset[str]:
    """The words of German (the German pipeline's lemmas, lower case)."""
    from dialogue.spacy_pipelines import vocabulary  # noqa: PLC0415 - spaCy loads late

    return vocabulary("de")
