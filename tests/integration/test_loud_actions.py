"""A custom action that fails fails the turn (bot/loud_actions.py), where Rasa 3.6
goes on and drops the action's events."""

from __future__ import annotations

import asyncio

import pytest
from rasa.core.actions.action import RemoteAction
from rasa.core.channels.channel import CollectingOutputChannel
from rasa.core.policies.policy import PolicyPrediction
from rasa.core.processor import MessageProcessor
from rasa.shared.core.domain import Domain
from rasa.shared.core.trackers import DialogueStateTracker
from rasa.utils.endpoints import EndpointConfig

from bot import loud_actions
from tests.support.console_client import free_port


class Processor(MessageProcessor):
    """Just what `_run_action` needs of a processor."""

    def __init__(self) -> None:  # noqa: D107 - no model, no stores
        self.domain = Domain.empty()
        self.logged: list[list] = []

    def _log_action_on_tracker(self, tracker, action, events, prediction) -> None:  # noqa: ANN001
        self.logged.append(list(events or []))

    def should_predict_another_action(self, action_name: str) -> bool:
        return False


def run(run_action) -> tuple[Processor, object]:  # noqa: ANN001
    unreachable = EndpointConfig(url=f"http://127.0.0.1:{free_port()}/webhook")
    action = RemoteAction("action_record_answer", unreachable)
    processor = Processor()
    tracker = DialogueStateTracker("web-1", [])
    prediction = PolicyPrediction([], "RulePolicy")
    outcome = asyncio.run(
        run_action(processor, action, tracker, CollectingOutputChannel(), None, prediction)
    )
    return processor, outcome


def test_rasa_goes_on_without_the_failed_actions_events() -> None:
    processor, outcome = run(loud_actions.RASA_RUN_ACTION)
    assert outcome is False and processor.logged == [[]]  # the gap: logged as run, no events


def test_with_lotse_the_failed_action_fails_the_turn() -> None:
    loud_actions.install()
    with pytest.raises(loud_actions.ActionFailed, match="action_record_answer"):
        run(MessageProcessor._run_action)
