"""The Rasa speed-ups give exactly what Rasa gives: action-server responses checked,
event classes, rules applicable, a conversation's past states."""

from __future__ import annotations

from functools import lru_cache

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


def test_the_rules_found_for_each_turn_are_rasas() -> None:
    import json

    from rasa.core.policies.rule_policy import SHOULD_NOT_BE_SET, RulePolicy

    policy = RulePolicy.__new__(RulePolicy)
    not_set = [_state("action_listen", "deny"), {"prev_action": {"action_name": SHOULD_NOT_BE_SET}}]
    rules = [*RULES, not_set, [_state("utter_x")], []]
    lookup = {json.dumps(rule): f"action_{n}" for n, rule in enumerate(rules)}
    found = set()
    for end in range(len(CONVERSATION) + 1):
        states = CONVERSATION[:end]
        ours = rasa_speedups.possible_keys(policy, lookup, states)
        assert ours == rasa_speedups.RASA_GET_POSSIBLE_KEYS(policy, lookup, states)
        found |= ours
    assert len(found) >= 4  # several rules fit somewhere, not none


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


DOMAIN_YAML = """
version: "3.1"
intents: [greet, deny, ask]
entities: [product]
slots:
  product:
    type: text
    mappings: [{type: from_entity, entity: product}]
  consent:
    type: bool
    initial_value: false
    mappings: [{type: custom}]
responses:
  utter_x: [{text: x}]
  utter_y: [{text: y}]
forms:
  a_form: {required_slots: [product]}
"""


def _conversation_events() -> list:
    from rasa.shared.core.events import (
        ActionExecuted,
        ActiveLoop,
        Restarted,
        SessionStarted,
        SlotSet,
        UserUtteranceReverted,
        UserUttered,
    )  # fmt: skip

    def said(text: str, intent: str) -> UserUttered:
        entities = [{"entity": "product", "value": "P400"}] if "P400" in text else []
        return UserUttered(text, {"name": intent, "confidence": 1.0}, entities)

    return [
        ActionExecuted("action_session_start"), SessionStarted(), ActionExecuted("action_listen"),
        said("hallo", "greet"), ActionExecuted("utter_x"), ActionExecuted("action_listen"),
        said("die P400", "ask"), SlotSet("product", "P400"), ActionExecuted("a_form"),
        ActiveLoop("a_form"), ActionExecuted("action_listen"), said("nein", "deny"),
        UserUtteranceReverted(), said("doch nicht", "deny"), ActionExecuted("a_form"),
        ActiveLoop(None), SlotSet("consent", True), ActionExecuted("utter_y"),
        ActionExecuted("action_listen"), Restarted(), ActionExecuted("action_listen"),
        said("hi", "greet"), ActionExecuted("utter_x"),
    ]  # fmt: skip


def _read_back(events: list, sender: str = "v") -> object:
    """The conversation as a tracker store gives it back: new objects, the same events."""
    from rasa.shared.core.trackers import DialogueStateTracker

    return DialogueStateTracker.from_dict(sender, [e.as_dict() for e in events], _domain().slots)


@lru_cache(maxsize=1)
def _domain() -> object:
    from rasa.shared.core.domain import Domain

    return Domain.from_yaml(DOMAIN_YAML)


def _rasas(tracker: object, omit: bool = False) -> list:
    return rasa_speedups.RASA_STATES_FOR_TRACKER_HISTORY(_domain(), tracker, omit)


@pytest.mark.parametrize("omit_unset_slots", [False, True])
def test_past_states_replayed_event_by_event_are_rasas(omit_unset_slots: bool) -> None:
    past = rasa_speedups.PastStates()
    events = _conversation_events()
    for end in range(len(events) + 1):
        tracker = _read_back(events[:end])
        ours = past.states(_domain(), tracker, omit_unset_slots)
        assert ours == _rasas(tracker, omit_unset_slots)
        ours[-1].get("user", {}).pop("intent", None)  # Rasa's featurizer changes the last
        ours[0].clear()
        again = past.states(_domain(), tracker, omit_unset_slots)
        assert again == _rasas(tracker, omit_unset_slots)


def test_past_states_start_again_when_the_history_is_not_the_one_replayed() -> None:
    from rasa.shared.core.domain import Domain
    from rasa.shared.core.events import ActionExecuted, UserUttered

    past = rasa_speedups.PastStates(size=2)
    events = _conversation_events()
    long = _read_back(events)
    assert past.states(_domain(), long) == _rasas(long)
    other = [*events[:6], UserUttered("ganz anders", {"name": "deny", "confidence": 1.0}),
             ActionExecuted("utter_y")]  # fmt: skip
    for tracker in (_read_back(events[:9]), _read_back(other), long):  # shorter, then different
        assert past.states(_domain(), tracker) == _rasas(tracker)
    second = Domain.from_yaml(DOMAIN_YAML.replace("[greet, deny, ask]", "[greet, deny]"))
    mid = _read_back(events[:9])
    assert past.states(_domain(), mid) == _rasas(mid)
    theirs = rasa_speedups.RASA_STATES_FOR_TRACKER_HISTORY(second, mid)
    assert past.states(second, mid) == theirs
    assert past._replays[("v", False)].domain is second  # replayed anew for another model
    for name in ("a", "b", "c"):
        past.states(_domain(), _read_back(events[:5], name))
    assert len(past._replays) == 2  # the last two conversations are kept


def test_apply_installs_the_past_states(monkeypatch: pytest.MonkeyPatch) -> None:
    from rasa.shared.core.domain import Domain

    monkeypatch.setattr(Domain, "states_for_tracker_history", Domain.states_for_tracker_history)
    assert rasa_speedups.apply() is True
    tracker = _read_back(_conversation_events())
    assert tracker.past_states(_domain()) == _rasas(tracker)
    assert Domain.states_for_tracker_history is rasa_speedups.states_for_tracker_history


def test_apply_installs_the_graph_run_without_dask(monkeypatch: pytest.MonkeyPatch) -> None:
    from rasa.engine.runner.dask import DaskGraphRunner

    monkeypatch.setattr(DaskGraphRunner, "run", DaskGraphRunner.run)
    assert rasa_speedups.apply() is True
    assert DaskGraphRunner.run is rasa_speedups.run_graph


def test_the_graph_runs_each_needed_node_once_after_what_it_needs() -> None:
    """A node needed twice runs once; a node no target needs does not run; an input is
    given as its name and value; an input naming a node is refused as Rasa refuses it."""
    from types import SimpleNamespace

    from rasa.engine.exceptions import GraphRunError

    ran: list[str] = []

    def node(name: str):  # noqa: ANN202 - a GraphNode's call: (name, output)
        def call(*inputs: tuple[str, object]) -> tuple[str, object]:
            ran.append(name)
            return name, [value for _, value in inputs]

        return call

    needs = {"a": {"m": "__message__"}, "b": {"x": "a"}, "c": {"x": "a", "y": "b"}, "d": {}}
    schema = SimpleNamespace(nodes={n: SimpleNamespace(needs=v) for n, v in needs.items()},
                             target_names=["c"])  # fmt: skip
    runner = SimpleNamespace(_graph_schema=schema, _instantiated_nodes={n: node(n) for n in needs})
    result = rasa_speedups.run_graph(runner, {"__message__": "hallo"})  # type: ignore[arg-type]
    assert ran == ["a", "b", "c"]
    assert result == {"c": [["hallo"], [["hallo"]]]}
    with pytest.raises(GraphRunError):
        rasa_speedups.run_graph(runner, {"__message__": "a"}, ["c"])  # type: ignore[arg-type]


def test_applied_events_extended_turn_by_turn_are_rasas() -> None:
    """One tracker growing event by event (a loop, an utterance reverted, a loop's
    action, a restart): each time the same events as Rasa's walk gives."""
    from rasa.shared.core.events import ActionExecuted, ActiveLoop, UserUttered
    from rasa.shared.core.trackers import DialogueStateTracker

    events = _conversation_events()
    tracker = DialogueStateTracker.from_events("v", [], _domain().slots)
    assert rasa_speedups.applied_events(tracker) == []
    for event in events:
        tracker.update(event)
        assert rasa_speedups.applied_events(tracker) == tracker.applied_events()
        assert rasa_speedups.applied_events(tracker) == tracker.applied_events()
    # A loop activated again: its earlier actions are walked anew, as Rasa does.
    for event in (ActiveLoop("a_form"), ActionExecuted("a_form"), ActionExecuted("a_form"),
                  UserUttered("x", {"name": "greet"}), ActionExecuted("a_form")):  # fmt: skip
        tracker.update(event)
        assert rasa_speedups.applied_events(tracker) == tracker.applied_events()


def test_applied_events_of_another_history_are_walked_anew() -> None:
    from rasa.shared.core.events import ActionExecuted

    tracker = _read_back(_conversation_events()[:6])
    first = rasa_speedups.applied_events(tracker)
    tracker.events.pop()  # not appended: another history of the same length after a push
    tracker.events.append(ActionExecuted("utter_y"))
    assert rasa_speedups.applied_events(tracker) == tracker.applied_events() != first


def test_the_rule_policys_states_are_formatted_only_for_a_logged_debug_line() -> None:
    import logging

    import structlog

    states = [{"user": {"intent": "greet"}, "prev_action": {"action_name": "action_listen"}}]
    saved = structlog.get_config()
    try:
        structlog.configure(wrapper_class=structlog.make_filtering_bound_logger(logging.INFO))
        assert rasa_speedups.format_tracker_states(states) == ""
        structlog.configure(wrapper_class=structlog.make_filtering_bound_logger(logging.DEBUG))
        formatted = rasa_speedups.format_tracker_states(states)
        assert formatted == rasa_speedups.RASA_FORMAT_TRACKER_STATES(states)
        assert "user intent: greet" in formatted
    finally:
        structlog.configure(**saved)


def test_apply_installs_the_formatting_when_logged(monkeypatch: pytest.MonkeyPatch) -> None:
    from rasa.core.policies.policy import Policy

    monkeypatch.setattr(Policy, "format_tracker_states",
                        staticmethod(rasa_speedups.RASA_FORMAT_TRACKER_STATES))  # fmt: skip
    assert rasa_speedups.apply() is True
    assert Policy.format_tracker_states is rasa_speedups.format_tracker_states
