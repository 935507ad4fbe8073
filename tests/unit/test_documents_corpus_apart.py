"""The documents' held-out questions stay apart from what the bot is built from: none is
a training example, and the vocabulary was not written from them (no question is in the
vocabulary file, no phrase of four words or more of a question is either)."""

from __future__ import annotations

import re

import yaml

from dialogue.nlu_examples import nlu_examples
from lotse.settings import ROOT

CORPUS = ROOT / "tests" / "documents_heldout"
SPLITS = ("dev", "test", "fresh")


def _questions() -> list[str]:
    found = []
    for split in SPLITS:
        data = yaml.safe_load((CORPUS / f"{split}.yml").read_text(encoding="utf-8"))
        found += [item["q"] for group in ("answerable", "unanswerable") for item in data[group]]
    return found


def _normal(text: str) -> str:
    return " ".join(re.findall(r"\w+", text.lower()))


def test_no_held_out_question_is_training_data_or_vocabulary() -> None:
    questions = {_normal(q) for q in _questions()}
    assert len(questions) > 150
    trained = {_normal(text) for _, text in nlu_examples()}
    assert questions & trained == set()
    vocabulary = _normal((ROOT / "bot" / "data" / "documents" / "vocabulary.yml").read_text(
        encoding="utf-8"))  # fmt: skip
    for question in questions:
        words = question.split()
        for n in range(len(words) - 3):
            assert " ".join(words[n:n + 4]) not in vocabulary, question


def test_no_two_splits_share_a_question() -> None:
    splits = {s: {_normal(item["q"]) for g in ("answerable", "unanswerable")
                  for item in yaml.safe_load((CORPUS / f"{s}.yml").read_text(encoding="utf-8"))[g]}
              for s in SPLITS}  # fmt: skip
    for n, first in enumerate(SPLITS):
        for second in SPLITS[n + 1:]:
            assert splits[first] & splits[second] == set(), (first, second)
