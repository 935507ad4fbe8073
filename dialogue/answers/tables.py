"""Reading the YAML tables a company edits (`bot/data/content/*.yml`).

Contract: `entries(path, key)` returns the list under the top-level `key`, each entry
a mapping; anything else raises `ValueError` naming the file and the entry number.
The field readers raise the same way, naming the entry and the field. Callers cache
the validated result (the files change only with a new deployment).
"""

from __future__ import annotations

from pathlib import Path

import yaml

from dialogue.word_yaml import load_words

CONTENT_DIR = Path(__file__).resolve().parents[2] / "bot" / "data" / "content"


def entries(path: Path, key: str) -> list[dict]:
    """The entries under `key` in the YAML file at `path`."""
    try:
        data = load_words(path.read_text(encoding="utf-8"))
    except (OSError, yaml.YAMLError) as error:
        raise ValueError(f"{path}: cannot be read as YAML ({error})") from error
    if not isinstance(data, dict) or not isinstance(data.get(key), list):
        raise ValueError(f"{path}: needs a top-level list '{key}'")
    for number, entry in enumerate(data[key], start=1):
        if not isinstance(entry, dict):
            raise ValueError(f"{path}: {key} entry {number} is not a mapping")
    return data[key]


def where(path: Path, key: str, number: int, entry: dict, name_field: str) -> str:
    """How an error names an entry: file, list, number and (when present) its name."""
    name = entry.get(name_field)
    label = f" ({name})" if isinstance(name, str) else ""
    return f"{path}: {key} entry {number}{label}"


def text_field(at: str, entry: dict, field: str) -> str:
    value = entry.get(field)
    if not isinstance(value, str) or not value.strip():
        raise ValueError(f"{at}: '{field}' must be a non-empty text")
    return value.strip()


def optional_text_field(at: str, entry: dict, field: str) -> str | None:
    if entry.get(field) is None:
        return None
    return text_field(at, entry, field)


def words_field(at: str, entry: dict, field: str, *, required: bool = False) -> tuple[str, ...]:
    """A list of non-empty texts (numbers such as postal codes are taken as texts)."""
    value = entry.get(field)
    if value is None and not required:
        return ()
    if not isinstance(value, list) or not value:
        raise ValueError(f"{at}: '{field}' must be a non-empty list")
    words = []
    for item in value:
        if isinstance(item, bool) or not isinstance(item, (str, int)) or not str(item).strip():
            raise ValueError(f"{at}: '{field}' holds an empty or non-text item {item!r}")
        words.append(str(item).strip())
    return tuple(words)
