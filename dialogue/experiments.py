"""A/B tests of the bot's messages: `bot/data/experiments.yml`, and which variant a
conversation gets.

An experiment names a response of the domain and two or more variants with weights;
a variant without `text` is the control (the response as the domain words it), the
others give a text per language. `lotse build` writes each variant into the domain as
conditional response variations on the slot `ab_<experiment>`, and the session-start
action sets that slot to `assign(...)`: a hash of the experiment and the conversation
id, so a conversation keeps its variant across sessions and replicas. Pure Python;
`ExperimentsError` names the file and line of a mistake.
"""

from __future__ import annotations

import copy
import hashlib
import re
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

from yaml.nodes import Node

from lotse.yaml_model import LANGUAGES, NodeReader

EXPERIMENTS_FILE = Path(__file__).resolve().parents[1] / "bot" / "data" / "experiments.yml"
NAME = re.compile(r"[a-z][a-z0-9_]{0,39}")
VARIANT = re.compile(r"[A-Za-z0-9_\-]{1,32}")
SLOT_PREFIX = "ab_"


class ExperimentsError(ValueError):
    pass


@dataclass(frozen=True)
class Variant:
    name: str
    weight: int
    text: dict[str, str] | None  # None: the control, the domain's own wording


@dataclass(frozen=True)
class Experiment:
    name: str
    response: str
    variants: tuple[Variant, ...]

    @property
    def slot(self) -> str:
        return SLOT_PREFIX + self.name

    def assign(self, conversation_id: str) -> str:
        """The variant of a conversation: stable, and spread by the weights."""
        digest = hashlib.sha256(f"{self.name}\0{conversation_id}".encode()).digest()
        point = int.from_bytes(digest[:8], "big") / 2**64 * sum(v.weight for v in self.variants)
        for variant in self.variants:
            if point < variant.weight:
                return variant.name
            point -= variant.weight
        return self.variants[-1].name


class _Reader(NodeReader):
    error = ExperimentsError

    def experiments(self, text: str) -> tuple[Experiment, ...]:
        root = self.root(text)
        items = self.mapping(root, "the experiments file", {"version", "experiments"})
        if "experiments" not in items or items["experiments"].value in (None, "", "null"):
            return ()
        self.mapping(items["experiments"], "experiments")  # a mapping, no name twice
        return tuple(self.experiment(key, node) for key, node in items["experiments"].value)

    def experiment(self, key: Node, node: Node) -> Experiment:
        name = str(key.value)
        if not NAME.fullmatch(name):
            raise self.fail(key, f"experiment name '{name}' must be lower case a-z, 0-9, _")
        what = f"experiment '{name}'"
        items = self.mapping(node, what, {"response", "variants"})
        response = self.text(self.require(node, items, "response", what), f"{what}.response")
        variants_node = self.require(node, items, "variants", what)
        self.mapping(variants_node, f"{what}.variants")
        variants = tuple(self.variant(what, key, value) for key, value in variants_node.value)
        if len(variants) < 2:
            raise self.fail(variants_node, f"{what} needs at least two variants")
        if sum(v.text is None for v in variants) > 1:
            raise self.fail(variants_node, f"{what}: only one variant may leave out `text`")
        return Experiment(name, response, variants)

    def variant(self, what: str, key: Node, node: Node) -> Variant:
        name = str(key.value)
        if not VARIANT.fullmatch(name):
            raise self.fail(key, f"variant name '{name}' must be 1-32 of A-Z, a-z, 0-9, _, -")
        where = f"{what}.variants.{name}"
        items = self.mapping(node, where, {"weight", "text"})
        weight = self.integer(self.require(node, items, "weight", where), f"{where}.weight", 1)
        text = self.labels(items["text"], f"{where}.text") if "text" in items else None
        return Variant(name, weight, text)


def read_experiments(path: Path) -> tuple[Experiment, ...]:
    if not path.exists():
        return ()
    return _Reader(path).experiments(path.read_text(encoding="utf-8"))


@lru_cache(maxsize=1)
def load_experiments(path: Path = EXPERIMENTS_FILE) -> tuple[Experiment, ...]:
    return read_experiments(path)


def exposure_responses(experiments: tuple[Experiment, ...]) -> dict[str, str]:
    """Experiment name -> the response it tests (what exposes a conversation)."""
    return {experiment.name: experiment.response for experiment in experiments}


def variant_responses(experiment: Experiment, control: list[dict]) -> list[dict]:
    """The domain's variations of the tested response: per variant and language, under
    the conditions `language` and `ab_<name>` (and the control's words for a
    conversation whose `ab_<name>` is not set, e.g. one begun before the experiment);
    the control's own default (unconditioned) variations stay for a conversation
    without a language. `control` is the
    response's variations as the domain has them (the English one conditioned on the
    language slot, the German one the default)."""
    by_language = {_language_of(v): v for v in control}
    generated = []
    for variant in (*experiment.variants, None):  # None: a conversation without a variant
        for language in LANGUAGES:
            base = copy.deepcopy(by_language.get(language) or by_language[None])
            base.pop("condition", None)
            if variant is not None and variant.text is not None:
                base["text"] = variant.text[language]
            condition = [
                {"type": "slot", "name": "language", "value": language},
                {"type": "slot", "name": experiment.slot,
                 "value": variant.name if variant is not None else None},
            ]  # fmt: skip
            generated.append({"condition": condition, **base})
    defaults = [v for v in control if "condition" not in v]
    return generated + defaults


def _language_of(variation: dict) -> str | None:
    for condition in variation.get("condition") or []:
        if condition.get("name") == "language":
            return str(condition.get("value"))
    return None
