"""`lotse eval` / `make eval`: how well the NLU does on data it was not trained on.

1. Rasa's own `rasa test nlu --cross-validation` over the training data (per-intent
   reports in `results/cross-validation/`).
2. The held-out sets: the fallback threshold that does best on `dev_*`, and the
   figures on `test_*` with the threshold the bot is configured with, per language
   and per topic, with every miss listed (also written to `results/heldout.txt`).
3. The answers from documents (`ops.documents_evaluation`, tests/documents_heldout):
   the share of answerable questions answered with the right fact and source, the
   share of unanswerable ones answered honestly, the retrieval's p95, every miss
   (also written to `results/documents.txt`).
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import yaml

from ops.documents_evaluation import evaluate as evaluate_documents
from ops.documents_evaluation import format_documents_report
from ops.evaluation import (
    best_threshold,
    format_report,
    load_heldout,
    parse_all,
    report,
)
from ops.training import CONFIG, ROOT, ensure_model

RESULTS = ROOT / "results"


def configured_threshold(config: Path = CONFIG) -> float:
    pipeline = yaml.safe_load(config.read_text(encoding="utf-8"))["pipeline"]
    fallback = next(c for c in pipeline if c["name"] == "FallbackClassifier")
    return float(fallback["threshold"])


def cross_validate(folds: int) -> None:
    subprocess.run(
        [
            sys.executable,
            "-m",
            "rasa",
            "test",
            "nlu",
            "--cross-validation",
            "--folds",
            str(folds),
            "--config",
            str(CONFIG),
            "--nlu",
            str(ROOT / "bot" / "data" / "nlu"),
            "--out",
            str(RESULTS / "cross-validation"),
        ],
        check=True,
        cwd=ROOT,
    )
    print(f"cross-validation reports: {RESULTS / 'cross-validation'}")


def run_eval(cross_validation: bool = True, folds: int = 3) -> int:
    model = ensure_model()
    if cross_validation:
        cross_validate(folds)
    dev = parse_all(model, load_heldout("dev"))
    suggested = best_threshold(dev, [x / 100 for x in range(10, 95, 5)])
    threshold = configured_threshold()
    test = parse_all(model, load_heldout("test"))
    text = "\n".join(
        [
            f"threshold that does best on dev: {suggested:.2f}; configured: {threshold:.2f}",
            format_report("dev", report(dev, threshold)),
            format_report("test", report(test, threshold)),
        ]
    )
    RESULTS.mkdir(exist_ok=True)
    (RESULTS / "heldout.txt").write_text(text + "\n", encoding="utf-8")
    print(text)
    documents = "\n".join(
        format_documents_report(split, evaluate_documents(model, split))
        for split in ("dev", "test")
    )
    (RESULTS / "documents.txt").write_text(documents + "\n", encoding="utf-8")
    print(documents)
    return 0
