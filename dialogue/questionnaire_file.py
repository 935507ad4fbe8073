"""The qualification file a company edits (`bot/data/qualification.yml`), read once.

Its sections are read by several parts of the dialogue: the questions and replies
(`dialogue.qualification`), the requests that start an enquiry
(`dialogue.understanding.requests`). `questionnaire_file()` returns the parsed file
(cached) or raises `QuestionnaireError` naming the file.
"""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path
from typing import Any

import yaml

from dialogue.word_yaml import load_words

QUESTIONS_FILE = Path(__file__).resolve().parents[1] / "bot" / "data" / "qualification.yml"


class QuestionnaireError(ValueError):
    """The qualification file is missing, unreadable or incomplete."""


@lru_cache(maxsize=4)
def questionnaire_file(path: Path = QUESTIONS_FILE) -> dict[str, Any]:
    """The file's contents, read once; every section's reader starts here."""
    try:
        data = load_words(path.read_text(encoding="utf-8"))
    except (OSError, yaml.YAMLError) as error:
        raise QuestionnaireError(f"cannot read {path}: {error}") from error
    return data if isinstance(data, dict) else {}
