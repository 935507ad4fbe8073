"""The training examples of the NLU files (`bot/data/nlu/*.yml`, Rasa's YAML): (intent,
text) pairs, read the same way by the build, the evaluations and the documents' matcher.
Pure; plain YAML."""

from __future__ import annotations

from pathlib import Path

import yaml

NLU_DIR = Path(__file__).resolve().parents[1] / "bot" / "data" / "nlu"


def nlu_examples(nlu_dir: Path = NLU_DIR, pattern: str = "*.yml") -> list[tuple[str, str]]:
    """(intent, text) for every training example of the files `pattern` names."""
    return [
        example for path in sorted(nlu_dir.glob(pattern)) for example in nlu_examples_of_file(path)
    ]


def nlu_examples_of_file(path: Path) -> list[tuple[str, str]]:
    return nlu_examples_from(yaml.safe_load(path.read_text(encoding="utf-8")) or {})


def nlu_examples_from(data: dict) -> list[tuple[str, str]]:
    return [
        (block["intent"], line.strip()[2:].strip())
        for block in data.get("nlu", [])
        if "intent" in block
        for line in block.get("examples", "").splitlines()
        if line.strip().startswith("- ")
    ]
