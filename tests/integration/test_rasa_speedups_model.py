"""The Rasa speed-ups (`bot.rasa_speedups`) on the trained model give exactly what Rasa
gives: DIET's prediction through the traced function called directly, on real
messages; the rules found for the states of each of the model's own rules."""

from __future__ import annotations

import asyncio

import numpy as np
import pytest

from bot import rasa_speedups
from ops.training import ensure_model

pytestmark = pytest.mark.model
MESSAGES = [
    "Wie schwer ist die P400?", "Do you offer leasing?", "Hallo",
    "ich will mit nem menschen reden", "Wie wird das Wetter morgen?",
]  # fmt: skip


def _same(ours: object, theirs: object) -> bool:
    if isinstance(theirs, dict):
        return ours.keys() == theirs.keys() and all(_same(ours[k], theirs[k]) for k in theirs)
    return np.array_equal(np.asarray(ours), np.asarray(theirs))


@pytest.fixture(scope="module")
def agent() -> object:
    from rasa.core.agent import Agent

    return Agent.load(str(ensure_model()))


def test_the_rules_found_for_the_models_own_rules_are_rasas(agent) -> None:
    import json

    from rasa.core.policies.rule_policy import RULES, RulePolicy

    nodes = agent.processor.graph_runner._instantiated_nodes.values()
    policy = next(n._component for n in nodes if isinstance(n._component, RulePolicy))
    lookup = policy.lookup[RULES]
    assert len(lookup) > 50
    compared = 0
    for key in list(lookup)[::3]:
        states = json.loads(key)
        for end in range(1, len(states) + 1):
            ours = rasa_speedups.possible_keys(policy, lookup, states[:end])
            assert ours == rasa_speedups.RASA_GET_POSSIBLE_KEYS(policy, lookup, states[:end])
            compared += 1
    assert compared > 50


def test_diet_predicts_the_same_through_the_traced_function(agent, monkeypatch) -> None:
    from rasa.utils.tensorflow.models import RasaModel

    batches = []

    def kept(model: RasaModel, batch_in: object) -> dict:
        batches.append((model, batch_in))
        return rasa_speedups.RASA_PREDICT(model, batch_in)

    monkeypatch.setattr(RasaModel, "_rasa_predict", kept)
    for text in MESSAGES:
        asyncio.run(agent.parse_message(text))
    assert len(batches) == len(MESSAGES)
    for model, batch_in in batches:
        theirs = rasa_speedups.RASA_PREDICT(model, batch_in)
        ours = rasa_speedups.rasa_predict(model, batch_in)
        assert ours.keys() == theirs.keys() and _same(ours, theirs)
    assert len(rasa_speedups._TRACED) >= 1  # the direct call was taken, not Rasa's


def test_the_graph_run_without_dask_gives_rasas_results(agent, monkeypatch) -> None:
    """Parsing and predicting the next action through `run_graph` give what Rasa's dask
    runner gives for each message: the same parsed messages, the same predictions."""
    import copy

    from rasa.engine.runner.dask import DaskGraphRunner
    from rasa.shared.core.events import UserUttered
    from rasa.shared.core.trackers import DialogueStateTracker

    runner = agent.processor.graph_runner
    calls: list[tuple[object, object]] = []

    def kept(self: DaskGraphRunner, inputs=None, targets=None) -> dict:
        calls.append((copy.deepcopy(inputs), targets))
        return rasa_speedups.RASA_GRAPH_RUN(self, inputs, targets)

    monkeypatch.setattr(DaskGraphRunner, "run", kept)
    for text in MESSAGES:
        parsed = asyncio.run(agent.parse_message(text))
        tracker = DialogueStateTracker.from_events("s", [], agent.domain.slots)
        tracker.update(UserUttered(text, parsed["intent"], parsed["entities"]))
        agent.processor._predict_next_with_tracker(tracker)
    assert len(calls) == 2 * len(MESSAGES)  # a parse and a prediction each
    for inputs, targets in calls:
        theirs = rasa_speedups.RASA_GRAPH_RUN(runner, copy.deepcopy(inputs), targets)
        ours = rasa_speedups.run_graph(runner, copy.deepcopy(inputs), targets)
        assert list(ours) == list(theirs) and ours == theirs
