"""Train the Rasa model only when its inputs changed.

The model file is named by a hash of everything that shapes it (config, domain,
training data, content, the custom NLU components, Rasa's and Python's versions), so a
model in `models/` whose name matches is current and training is skipped.
"""

from __future__ import annotations

import hashlib
import subprocess
import sys
from pathlib import Path

import rasa

from ops.build import GENERATED_DATA, GENERATED_DOMAIN, build

ROOT = Path(__file__).resolve().parents[1]
MODELS = ROOT / "models"
CONFIG = ROOT / "config.yml"
DATA = ROOT / "bot" / "data"
HASHED_INPUTS = (
    "config.yml",
    "bot/domain.yml",
    # Only the data that shapes the model: the scoring model and the parsers' tables
    # under bot/data/ are read at run time and do not call for a new model.
    "bot/data/nlu",
    "bot/data/rules",
    "bot/data/stories",
    "bot/data/qualification.yml",
    "bot/data/content/faq.yml",
    "bot/data/content/entity_patterns.yml",
    "bot/data/experiments.yml",
    "dialogue/experiments.py",
    "bot/nlu",
    "dialogue/spacy_pipelines.py",
    "dialogue/lexicon.py",
    "dialogue/language.py",
    "dialogue/content.py",
    "dialogue/nlu_examples.py",
    "ops/build.py",
)


def _files(path: Path) -> list[Path]:
    if path.is_file():
        return [path]
    return sorted(
        p for p in path.rglob("*") if p.is_file() and p.suffix in (".yml", ".yaml", ".py")
    )


def inputs_hash(root: Path = ROOT) -> str:
    digest = hashlib.sha256()
    digest.update(f"rasa {rasa.__version__} python {sys.version_info[:2]}".encode())
    for entry in HASHED_INPUTS:
        for path in _files(root / entry):
            digest.update(str(path.relative_to(root)).encode())
            digest.update(path.read_bytes())
    return digest.hexdigest()[:16]


def model_path(digest: str | None = None) -> Path:
    return MODELS / f"lotse-{digest or inputs_hash()}.tar.gz"


def train_command(name: str) -> list[str]:
    return [
        sys.executable,
        "-m",
        "rasa",
        "train",
        "--config",
        str(CONFIG),
        "--domain",
        str(GENERATED_DOMAIN),
        "--data",
        str(DATA),
        str(GENERATED_DATA),
        "--out",
        str(MODELS),
        "--fixed-model-name",
        name,
    ]


def ensure_model(force: bool = False) -> Path:
    """Build derived files, train if no model matches the inputs; return the model."""
    build()
    target = model_path()
    if target.exists() and not force:
        print(f"model is current: {target.relative_to(ROOT)}", flush=True)
        return target
    print(f"training {target.relative_to(ROOT)} (inputs changed)...", flush=True)
    MODELS.mkdir(exist_ok=True)
    subprocess.run(train_command(target.name.removesuffix(".tar.gz")), check=True, cwd=ROOT)
    for old in MODELS.glob("lotse-*.tar.gz"):
        if old != target:
            old.unlink()
    return target
