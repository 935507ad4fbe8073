"""The Rasa speed-up checks action-server responses exactly as Rasa does."""

from __future__ import annotations

import pytest
from jsonschema import ValidationError
from rasa.core.actions.action import RemoteAction

from bot import rasa_speedups

GOOD = [
    {"events": [], "responses": []},
    {
        "events": [{"event": "slot", "name": "a", "value": {"x": [1, None]}}],
        "responses": [{"text": "hi"}],
    },  # fmt: skip
    {"events": [{"event": "active_loop", "name": None}, {"event": "followup", "name": "x"}]},
]
BAD = [
    {"events": [{"event": "slot"}]},
    {"events": "none"},
    {"responses": [1]},
    {"events": [{"event": "no_such_event"}]},
]


@pytest.mark.parametrize("response", GOOD)
def test_valid_responses_pass(response: dict) -> None:
    assert rasa_speedups.validate_action_result(RemoteAction("x", None), response) is True


@pytest.mark.parametrize("response", BAD)
def test_invalid_responses_fail_as_in_rasa(response: dict) -> None:
    action = RemoteAction("x", None)
    with pytest.raises(ValidationError) as theirs:
        RemoteAction._validate_action_result(action, response)
    with pytest.raises(ValidationError) as ours:
        rasa_speedups.validate_action_result(action, response)
    assert ours.value.message == theirs.value.message


def test_apply_installs_it_on_rasa_3_6(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(
        RemoteAction, "_validate_action_result", RemoteAction._validate_action_result
    )
    assert rasa_speedups.apply() is True
    assert RemoteAction._validate_action_result is rasa_speedups.validate_action_result


def test_event_classes_are_resolved_as_rasa_resolves_them() -> None:
    from rasa.shared.core.events import ActionExecuted, Event, SlotSet
    from rasa.shared.utils.common import all_subclasses

    names = {cls.type_name for cls in all_subclasses(Event) if hasattr(cls, "type_name")}
    for name in sorted(names) * 2:  # the second round comes from the memory
        theirs = rasa_speedups.RASA_RESOLVE_BY_TYPE(name)
        assert rasa_speedups.resolve_by_type(name) is theirs
    assert rasa_speedups.resolve_by_type("slot") is SlotSet
    assert rasa_speedups.resolve_by_type("action") is ActionExecuted
    assert rasa_speedups.resolve_by_type("no_such_event", SlotSet) is SlotSet
    assert rasa_speedups.resolve_by_type("topic") is None
    with pytest.raises(ValueError, match="Unknown event name"):
        rasa_speedups.resolve_by_type("no_such_event")


def test_apply_installs_the_event_class_memory(monkeypatch: pytest.MonkeyPatch) -> None:
    from rasa.shared.core.events import Event, SlotSet

    monkeypatch.setattr(Event, "resolve_by_type", staticmethod(Event.resolve_by_type))
    monkeypatch.setattr(
        RemoteAction, "_validate_action_result", RemoteAction._validate_action_result
    )
    assert rasa_speedups.apply() is True
    assert Event.resolve_by_type("slot") is SlotSet
    assert Event.resolve_by_type is rasa_speedups.resolve_by_type


def _state(action: str | None, intent: str | None = None, slots: dict | None = None) -> dict:
    state: dict = {}
    if action is not None:
        state["prev_action"] = {"action_name": action}
    if intent is not None:
        state["user"] = {"intent": intent}
    if slots:
        state["slots"] = slots
    return state


RULES = [
    [_state(None), _state("action_listen", "greet")],  # a conversation's start
    [_state("action_listen", "faq_presses")],
    [_state("utter_x", None), _state("action_listen", "affirm", {"consent": (1.0,)})],
    [_state("action_listen", "deny"), _state("utter_ask", None), _state("action_listen", "deny")],
]
CONVERSATION = [
    _state(None), _state("action_listen", "greet"), _state("utter_x"),
    _state("action_listen", "affirm", {"consent": (1.0,)}),
    _state("action_listen", "faq_presses", {"consent": (0.0,)}), _state("action_listen", "deny"),
]  # fmt: skip


def test_rules_are_applicable_exactly_when_rasa_says_so() -> None:
    import json

    from rasa.core.policies.rule_policy import RulePolicy

    policy = RulePolicy.__new__(RulePolicy)
    compared, outcomes = 0, set()
    for rule in RULES:
        key = json.dumps(rule)
        for turn in range(4):
            for state in CONVERSATION:
                ours = rasa_speedups.is_rule_applicable(policy, key, turn, state)
                assert ours == rasa_speedups.RASA_IS_RULE_APPLICABLE(policy, key, turn, state)
                compared, outcomes = compared + 1, outcomes | {ours}
    assert compared == len(RULES) * 4 * len(CONVERSATION) and outcomes == {True, False}


def test_apply_installs_the_rule_check(monkeypatch: pytest.MonkeyPatch) -> None:
    from rasa.core.policies.rule_policy import RulePolicy

    monkeypatch.setattr(RulePolicy, "_is_rule_applicable", RulePolicy._is_rule_applicable)
    assert rasa_speedups.apply() is True
    assert RulePolicy._is_rule_applicable is rasa_speedups.is_rule_applicable


@pytest.mark.parametrize(
    "response",
    [
        {"events": [{"event": "bot", "text": "Hallo", "data": {}, "metadata": {}}]},
        {"events": [{"event": "session_started"}, {"event": "action", "name": "x"}]},
        {"events": [{"event": "slot", "name": "a", "value": None, "timestamp": None}]},
    ],
)
def test_each_event_is_checked_against_its_own_shape_as_rasas_one_of_does(response: dict) -> None:
    action = RemoteAction("x", None)
    assert RemoteAction._validate_action_result(action, response) is True
    assert rasa_speedups._fits(response) is True


@pytest.mark.parametrize(
    "response",
    [
        [],
        {"events": [1]},
        {"events": [{"name": "x"}]},
        {"events": [{"event": 5}]},
        {"events": [{"event": "slot", "name": "a", "value": 1, "timestamp": "now"}]},
        {"events": [{"event": "bot", "text": "hi"}, {"event": "slot", "name": 3, "value": 1}]},
    ],
)
def test_what_rasa_refuses_does_not_fit(response: object) -> None:
    with pytest.raises(ValidationError):
        RemoteAction._validate_action_result(RemoteAction("x", None), response)
    assert rasa_speedups._fits(response) is False
