"""Held-out evaluation of the NLU model: does the bot pick the right topic, and does it
recognise what it cannot answer?

Reads Rasa NLU YAML files (`tests/nlu_heldout/{dev,test}_{de,en}.yml`) kept apart
from training data. An FAQ example counts as answered right when the predicted
intent is its topic's intent with confidence at or above the fallback threshold. An
off-topic example (`out_of_scope`, `out_of_depth`) counts as recognised when the bot
would not answer it with an FAQ topic: predicted off-topic/out-of-depth, or below the
threshold. Pure computation over (expected, predicted, confidence) triples; the model
is only touched by `parse_all`.
"""

from __future__ import annotations

import asyncio
from collections import defaultdict
from dataclasses import dataclass
from pathlib import Path

import yaml

from dialogue.nlu_examples import nlu_examples_from

OFF_TOPIC = ("out_of_scope", "out_of_depth")
HELDOUT = Path(__file__).resolve().parents[1] / "tests" / "nlu_heldout"


@dataclass(frozen=True)
class Prediction:
    language: str
    expected: str
    predicted: str
    confidence: float
    text: str


def load_heldout(split: str, directory: Path = HELDOUT) -> list[tuple[str, str, str]]:
    """(language, intent, text) for every example of a split ("dev" or "test")."""
    rows = []
    for language in ("de", "en"):
        data = yaml.safe_load((directory / f"{split}_{language}.yml").read_text(encoding="utf-8"))
        rows += [(language, intent, text) for intent, text in nlu_examples_from(data)]
    return rows


def parse_all(model: Path, rows: list[tuple[str, str, str]]) -> list[Prediction]:
    """Run the trained model's NLU on each text (the FallbackClassifier's verdict aside)."""
    import logging

    from rasa.core.agent import Agent
    from rasa.utils.log_utils import configure_structlog

    configure_structlog(logging.WARNING)  # Rasa's debug log would print every text
    agent = Agent.load(str(model))

    async def parse(text: str) -> tuple[str, float]:
        result = await agent.parse_message(text)
        ranking = [r for r in result.get("intent_ranking", []) if r["name"] != "nlu_fallback"]
        top = ranking[0] if ranking else {"name": "", "confidence": 0.0}
        return top["name"], float(top["confidence"])

    async def run() -> list[Prediction]:
        out = []
        for language, expected, text in rows:
            name, confidence = await parse(text)
            out.append(Prediction(language, expected, name, confidence, text))
        return out

    return asyncio.run(run())


def is_faq(intent: str) -> bool:
    return intent.startswith("faq_")


def is_correct(p: Prediction, threshold: float) -> bool:
    answered = p.confidence >= threshold and p.predicted not in OFF_TOPIC
    if p.expected in OFF_TOPIC:
        return not (answered and is_faq(p.predicted))
    return answered and p.predicted == p.expected


@dataclass(frozen=True)
class Report:
    threshold: float
    faq_accuracy: dict[str, float]
    off_topic_recall: dict[str, float]
    per_topic: dict[str, float]
    errors: list[Prediction]


def _rate(hits: list[bool]) -> float:
    return sum(hits) / len(hits) if hits else 0.0


def report(predictions: list[Prediction], threshold: float) -> Report:
    faq: dict[str, list[bool]] = defaultdict(list)
    off: dict[str, list[bool]] = defaultdict(list)
    topics: dict[str, list[bool]] = defaultdict(list)
    errors = []
    for p in predictions:
        ok = is_correct(p, threshold)
        if not ok:
            errors.append(p)
        if is_faq(p.expected):
            faq[p.language].append(ok)
            faq["all"].append(ok)
            topics[p.expected].append(ok)
        elif p.expected in OFF_TOPIC:
            off[p.language].append(ok)
            off["all"].append(ok)
    return Report(
        threshold=threshold,
        faq_accuracy={k: _rate(v) for k, v in faq.items()},
        off_topic_recall={k: _rate(v) for k, v in off.items()},
        per_topic={k: _rate(v) for k, v in sorted(topics.items())},
        errors=errors,
    )


FAQ_TARGET = 0.95
OFF_TOPIC_TARGET = 0.90


def best_threshold(predictions: list[Prediction], candidates: list[float]) -> float:
    """The threshold with the widest margin over both targets (FAQ accuracy 95 %,
    off-topic recognition 90 %); on a tie the higher threshold, which errs towards
    offering a human rather than answering wrongly."""

    def margin(t: float) -> float:
        r = report(predictions, t)
        return min(
            r.faq_accuracy.get("all", 0) / FAQ_TARGET,
            r.off_topic_recall.get("all", 0) / OFF_TOPIC_TARGET,
        )

    return max(candidates, key=lambda t: (round(margin(t), 4), t))


def format_report(name: str, r: Report) -> str:
    lines = [f"== {name} (threshold {r.threshold:.2f})"]
    for lang in ("de", "en", "all"):
        lines.append(
            f"  {lang:>3}: FAQ answered right {r.faq_accuracy.get(lang, 0):6.1%}   "
            f"off-topic recognised {r.off_topic_recall.get(lang, 0):6.1%}"
        )
    lines.append("  per topic (both languages):")
    lines += [f"    {topic:<28} {rate:6.1%}" for topic, rate in r.per_topic.items()]
    lines.append(f"  misses ({len(r.errors)}):")
    lines += [
        f"    [{p.language}] {p.expected} -> {p.predicted} ({p.confidence:.2f}): {p.text}"
        for p in r.errors
    ]
    return "\n".join(lines)
