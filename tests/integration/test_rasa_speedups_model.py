"""DIET's prediction through the traced function called directly (`bot.rasa_speedups`)
gives exactly what Rasa's call gives, on the trained model and real messages."""

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


def test_diet_predicts_the_same_through_the_traced_function(monkeypatch) -> None:
    from rasa.core.agent import Agent
    from rasa.utils.tensorflow.models import RasaModel

    batches = []

    def kept(model: RasaModel, batch_in: object) -> dict:
        batches.append((model, batch_in))
        return rasa_speedups.RASA_PREDICT(model, batch_in)

    monkeypatch.setattr(RasaModel, "_rasa_predict", kept)
    agent = Agent.load(str(ensure_model()))
    for text in MESSAGES:
        asyncio.run(agent.parse_message(text))
    assert len(batches) >= len(MESSAGES)  # and the warm-up at loading
    for model, batch_in in batches:
        theirs = rasa_speedups.RASA_PREDICT(model, batch_in)
        ours = rasa_speedups.rasa_predict(model, batch_in)
        assert ours.keys() == theirs.keys() and _same(ours, theirs)
    assert len(rasa_speedups._TRACED) >= 1  # the direct call was taken, not Rasa's
