"""Speed-ups of Rasa 3.6, applied in the Rasa server process Lotse starts.

Rasa checks every action-server response with `jsonschema.validate(response,
schema)`, which first validates the schema itself against the JSON-Schema
meta-schema. Measured here: 19 of the 20 ms of CPU that this check costs per custom
action call went into re-checking Rasa's own, constant schema, on the server's
single event loop. `apply()` replaces that method with one that checks the response
against the same schema with validators built once, each event against the shape of
its own name rather than all 23 of the schema's `oneOf`: the same responses pass, the
same ones fail with the same message (a failing one is checked again by the whole
schema for it).

Rasa finds the class of every event it reads back from the tracker store by walking
all subclasses of `Event` (`Event.resolve_by_type`), for each event of the
conversation on every turn: about a tenth of the Rasa process's CPU in a long
qualification. `resolve_by_type` below remembers the class found per type name; an
unknown name still goes to Rasa's own lookup (its default or its error).

The rule policy asks, on every prediction, for each of its rules and each turn back in
time whether the rule still fits (`RulePolicy._is_rule_applicable`), and each time
decodes the rule's key into states and reverses them anew: a sixth of the Rasa
process's CPU under load. `is_rule_applicable` below does the same test on the
reversed states kept per key; and `possible_keys` asks only the rules whose latest
state follows the conversation's latest action (others cannot fit, `_does_rule_match_state`),
and stops going back in time once every rule left is shorter than the way back (Rasa's
check says yes to each of them from there on).

Before that, each prediction (several per message) rebuilds the states of the whole
conversation by replaying all its events from the start
(`Domain.states_for_tracker_history`): a tenth of the Rasa process's CPU, growing with
the conversation's length. `PastStates` keeps, per conversation, the replayed tracker
and the states so far, and replays only the events that came since; when the events
are not the ones it replayed plus new ones (a restart, an undone turn, another model),
it replays all of them as Rasa does.

DIET's prediction calls a `tf.function` with a fixed input signature; TensorFlow looks
up the traced function and checks the inputs' structure against the signature on
every call, twice the time of the computation itself. `rasa_predict` calls the one
traced (concrete) function directly with the inputs made tensors of the signature's
types, as TensorFlow's own call does after those checks (the first call, and any call
before the model is ready, go to Rasa's).

Rasa runs its graph of components (the NLU pipeline, the policies) for every message and
every prediction through dask's scheduler: it first walks the schema for the nodes the
targets need, builds a dask graph and lets dask order and run it (a tenth of the Rasa
process's CPU under load went into that bookkeeping). `run_graph` calls the same nodes
with the same inputs, each after the nodes it needs, in an order worked out once per
set of targets. The rule policy formats the states of each prediction for a debug
line, logged or not; `format_tracker_states` does it only when the line is logged.
Pinned to the Rasa and TensorFlow versions they were written for.
"""

from __future__ import annotations

import copy
import itertools
import json
from collections import OrderedDict
from dataclasses import dataclass, field
from functools import lru_cache
from typing import Any

import rasa
import structlog
import structlog._native as structlog_native
import tensorflow as tf
from jsonschema import ValidationError, validators
from keras.utils import tf_utils
from rasa.core.actions.action import RemoteAction
from rasa.core.policies.policy import Policy
from rasa.core.policies.rule_policy import PREVIOUS_ACTION, SHOULD_NOT_BE_SET, RulePolicy
from rasa.engine.exceptions import GraphRunError
from rasa.engine.runner.dask import DaskGraphRunner
from rasa.shared.constants import DIAGNOSTIC_DATA, DOCS_BASE_URL
from rasa.shared.core.domain import Domain
from rasa.shared.core.events import (
    ActionExecuted,
    ActionReverted,
    ActiveLoop,
    Event,
    Restarted,
    SessionStarted,
    UserUtteranceReverted,
)
from rasa.shared.core.trackers import DialogueStateTracker
from rasa.shared.nlu.constants import ACTION_NAME
from rasa.utils.tensorflow.models import RasaModel

WRITTEN_FOR = "3.6."
TENSORFLOW_WRITTEN_FOR = "2.12."


@lru_cache(maxsize=1)
def _response_validator() -> Any:
    schema = RemoteAction.action_response_format_spec()
    validator_class = validators.validator_for(schema)
    validator_class.check_schema(schema)
    return validator_class(schema)


@lru_cache(maxsize=1)
def _event_validators() -> tuple[Any, dict[str, Any]]:
    """The schema without its `oneOf` of 23 event shapes, and each shape by its event
    name (every shape's `event` is a constant, so at most one can fit)."""
    schema = copy.deepcopy(RemoteAction.action_response_format_spec())
    items = schema["properties"]["events"]["items"]
    shapes = items.pop("oneOf")
    validator_class = validators.validator_for(schema)
    by_name = {shape["properties"]["event"]["const"]: validator_class(shape) for shape in shapes}
    return validator_class(schema), by_name


def _fits(result: Any) -> bool:
    """Whether the response fits Rasa's schema: each event checked against its own
    shape, not against all 23 (`oneOf`), a tenth of Rasa's CPU per turn."""
    envelope, by_name = _event_validators()
    if not envelope.is_valid(result):
        return False
    for event in result.get("events") or ():
        shape = by_name.get(event["event"])
        if shape is None or not shape.is_valid(event):
            return False
    return True


def validate_action_result(self: RemoteAction, result: dict[str, Any]) -> bool:
    if _fits(result):
        return True
    try:  # Rasa's own check, for its message
        _response_validator().validate(result)
        return True
    except ValidationError as error:
        error.message += (
            f". Failed to validate Action server response from API, "
            f"make sure your response from the Action endpoint is valid. "
            f"For more information about the format visit "
            f"{DOCS_BASE_URL}/custom-actions"
        )
        raise error


RASA_RESOLVE_BY_TYPE = Event.resolve_by_type
_EVENT_CLASSES: dict[str, type[Event]] = {}


def resolve_by_type(type_name: str, default: type[Event] | None = None) -> type[Event] | None:
    """Rasa's `Event.resolve_by_type`, with the class found per type name remembered."""
    found = _EVENT_CLASSES.get(type_name)
    if found is not None:
        return found
    found = RASA_RESOLVE_BY_TYPE(type_name, default)
    if found is not None and getattr(found, "type_name", None) == type_name:
        _EVENT_CLASSES[type_name] = found
    return found


RASA_IS_RULE_APPLICABLE = RulePolicy._is_rule_applicable
_REVERSED_RULES: dict[str, list[dict[str, Any]]] = {}


def _reversed_states(rule_key: str) -> list[dict[str, Any]]:
    """A rule's states, the latest first (its key is their JSON; a policy has a few
    hundred rules, so all of them are kept)."""
    found = _REVERSED_RULES.get(rule_key)
    if found is None:
        found = _REVERSED_RULES[rule_key] = list(reversed(json.loads(rule_key)))
    return found


def is_rule_applicable(self: RulePolicy, rule_key: str, turn_index: int,
                       conversation_state: dict[str, Any]) -> bool:  # fmt: skip
    """Rasa 3.6's `RulePolicy._is_rule_applicable`, on the kept reversed states."""
    reversed_rule_states = _reversed_states(rule_key)
    if turn_index >= len(reversed_rule_states):
        return True
    current_previous_action = conversation_state.get(PREVIOUS_ACTION)
    rule_previous_action = reversed_rule_states[turn_index].get(PREVIOUS_ACTION)
    if not rule_previous_action and not current_previous_action:
        return True
    if not rule_previous_action or not current_previous_action:
        return False
    return self._does_rule_match_state(reversed_rule_states[turn_index], conversation_state)


RASA_GET_POSSIBLE_KEYS = RulePolicy._get_possible_keys


@dataclass(frozen=True)
class _RulesByAction:
    """A policy's rules by the action their latest state follows; `any_action`: the
    rules whose latest state names none (a conversation's start, "not set")."""

    lookup: dict[str, str]
    by_action: dict[str, set[str]]
    any_action: set[str]

    @classmethod
    def of(cls, lookup: dict[str, str]) -> _RulesByAction:
        by_action: dict[str, set[str]] = {}
        any_action: set[str] = set()
        for key in lookup:
            name = _previous_action(_reversed_states(key)[:1])
            if name:
                by_action.setdefault(name, set()).add(key)
            else:
                any_action.add(key)
        return cls(lookup, by_action, any_action)

    def following(self, state: dict[str, Any]) -> set[str]:
        return self.any_action | self.by_action.get(_previous_action([state]) or "", set())


def _previous_action(states: list[dict[str, Any]]) -> str | None:
    name = states[0].get(PREVIOUS_ACTION, {}).get(ACTION_NAME) if states else None
    return name if name and name != SHOULD_NOT_BE_SET else None


_RULES_BY_ACTION: dict[int, _RulesByAction] = {}


def possible_keys(self: RulePolicy, lookup: dict[str, str],
                  states: list[dict[str, Any]]) -> set[str]:  # fmt: skip
    """Rasa 3.6's `RulePolicy._get_possible_keys`: the rules that fit the states."""
    if not states:
        return set(lookup)
    rules = _RULES_BY_ACTION.get(id(lookup))
    if rules is None or rules.lookup is not lookup or len(rules.lookup) != len(lookup):
        rules = _RULES_BY_ACTION[id(lookup)] = _RulesByAction.of(lookup)
    possible = rules.following(states[-1])
    for turn, state in enumerate(reversed(states)):
        if all(len(_reversed_states(key)) <= turn for key in possible):
            break  # each rule left is shorter: Rasa's check says yes from here on
        possible = {key for key in possible if self._is_rule_applicable(key, turn, state)}
    return possible


RASA_STATES_FOR_TRACKER_HISTORY = Domain.states_for_tracker_history
State = dict[str, Any]


@dataclass
class _Replay:
    """One conversation's events replayed so far: the tracker after them, the state
    before each action among them, and the state after them all."""

    domain: Domain
    tracker: DialogueStateTracker
    events: list[Event] = field(default_factory=list)
    marks: list[tuple[str, float, Any]] = field(default_factory=list)  # see `_mark`
    states: list[State] = field(default_factory=list)
    now: State | None = None


def _mark(event: Event) -> tuple[str, float, Any]:
    """What tells an event from another at its place: its type, time and name or text."""
    label = next((getattr(event, name) for name in ("action_name", "text", "key", "name")
                  if getattr(event, name, None) is not None), None)  # fmt: skip
    return type(event).__name__, event.timestamp, label


def _copied(state: State) -> State:
    """A state whose sub-states the caller may change (Rasa's featurizer deletes the
    last user input's text or intent); their values are tuples and strings."""
    return {kind: dict(sub_state) for kind, sub_state in state.items()}


@dataclass(frozen=True)
class _Applied:
    """A tracker's applied events when it had `count` events, the last being `last`."""

    count: int
    last: Event
    events: list[Event]
    loops: frozenset[str]  # the loops its events activated


APPLIED = "_lotse_applied"  # the tracker's attribute keeping its last `_Applied`
UNDOING = (Restarted, SessionStarted, ActionReverted, UserUtteranceReverted, ActiveLoop)


def applied_events(tracker: DialogueStateTracker) -> list[Event]:
    """Rasa's `tracker.applied_events()` (read only): its events without those undone.
    Rasa walks all the events each time (several times a turn); this extends the last
    result kept on the same tracker by the events since, when none of them undoes or
    activates anything (a restart, a session, a reverted action or utterance, a loop
    or a loop's action: then Rasa's walk)."""
    raw = tracker.events
    kept: _Applied | None = tracker.__dict__.get(APPLIED)
    if kept is not None and len(raw) >= kept.count and raw[kept.count - 1] is kept.last:
        new = list(itertools.islice(raw, kept.count, None))
        if not any(isinstance(e, UNDOING) or _loops_action(e, kept.loops) for e in new):
            events = kept.events + new
            tracker.__dict__[APPLIED] = _Applied(len(raw), raw[-1], events, kept.loops)
            return events
    events = tracker.applied_events()
    if raw:
        loops = frozenset(e.name for e in raw if isinstance(e, ActiveLoop) and e.name)
        tracker.__dict__[APPLIED] = _Applied(len(raw), raw[-1], events, loops)
    return events


def _loops_action(event: Event, loops: frozenset[str]) -> bool:
    return isinstance(event, ActionExecuted) and event.action_name in loops


class PastStates:
    """Rasa's `Domain.states_for_tracker_history`, replaying only the new events of a
    conversation it saw before (the last `size` conversations are kept)."""

    def __init__(self, size: int = 256) -> None:
        self.size = size
        self._replays: OrderedDict[tuple[str, bool], _Replay] = OrderedDict()

    def states(self, domain: Domain, tracker: DialogueStateTracker,
               omit_unset_slots: bool = False) -> list[State]:  # fmt: skip
        key = (tracker.sender_id, omit_unset_slots)
        events = applied_events(tracker)
        replay = self._replays.pop(key, None)
        if replay is None or not self._continues(replay, domain, events):
            replay = _Replay(domain, tracker.init_copy())
        for event in events[len(replay.events):]:
            if isinstance(event, ActionExecuted):
                replay.states.append(self._state(domain, replay.tracker, omit_unset_slots))
            replay.tracker.update(event)
            replay.events.append(event)
            replay.marks.append(_mark(event))
            replay.now = None
        self._replays[key] = replay
        while len(self._replays) > self.size:
            self._replays.popitem(last=False)
        if replay.now is None:
            replay.now = self._state(domain, replay.tracker, omit_unset_slots)
        return [*map(_copied, replay.states), _copied(replay.now)]

    @staticmethod
    def _continues(replay: _Replay, domain: Domain, events: list[Event]) -> bool:
        """The events are those replayed, in order, and maybe more, for the same model:
        the same objects (within a turn), or read back from the store (the next turn),
        whose objects are kept from then on."""
        if replay.domain is not domain or len(events) < len(replay.events):
            return False
        for n, (event, kept) in enumerate(zip(events, replay.events, strict=False)):
            if event is not kept:
                if _mark(event) != replay.marks[n]:
                    return False
                replay.events[n] = event
        return True

    @staticmethod
    def _state(domain: Domain, tracker: DialogueStateTracker, omit_unset_slots: bool) -> State:
        return domain._clean_state(domain.get_active_state(tracker, omit_unset_slots))


_PAST_STATES = PastStates()


def states_for_tracker_history(self: Domain, tracker: DialogueStateTracker,
                               omit_unset_slots: bool = False,
                               ignore_rule_only_turns: bool = False,
                               rule_only_data: dict[str, Any] | None = None,
                               ) -> list[State]:  # fmt: skip
    """Rasa 3.6's `Domain.states_for_tracker_history` for the rule policy's states (all
    turns kept); the machine-learning policies' (rule turns hidden) go to Rasa's."""
    if ignore_rule_only_turns or tracker.is_rule_tracker:
        return RASA_STATES_FOR_TRACKER_HISTORY(
            self, tracker, omit_unset_slots, ignore_rule_only_turns, rule_only_data)
    return _PAST_STATES.states(self, tracker, omit_unset_slots)


RASA_PREDICT = RasaModel._rasa_predict
_TRACED: dict[int, tuple[Any, Any, list[Any]]] = {}  # id(tf.function) -> it, traced, specs


def _traced(step: Any) -> tuple[Any, list[Any]]:
    """The one traced function of a tf.function with an input signature of one list of
    tensors, and that list's specs."""
    kept = _TRACED.get(id(step))
    if kept is None or kept[0] is not step:
        kept = _TRACED[id(step)] = (step, step.get_concrete_function(),
                                    list(step.input_signature[0]))  # fmt: skip
    return kept[1], kept[2]


def rasa_predict(self: RasaModel, batch_in: Any) -> dict[str, Any]:
    """Rasa 3.6's `RasaModel._rasa_predict`, calling the traced function directly."""
    step = self._tf_predict_step
    if step is None or self._run_eagerly or not self.prepared_for_prediction:
        return RASA_PREDICT(self, batch_in)
    self._training = False
    traced, specs = _traced(step)
    tensors = [tf.convert_to_tensor(value, dtype_hint=spec.dtype)
               for value, spec in zip(batch_in, specs, strict=True)]  # fmt: skip
    outputs = tf_utils.sync_to_numpy_or_python_type(
        traced._call_flat(tensors, traced.captured_inputs))  # fmt: skip
    if DIAGNOSTIC_DATA in outputs:
        outputs[DIAGNOSTIC_DATA] = self._empty_lists_to_none_in_dict(outputs[DIAGNOSTIC_DATA])
    return outputs


RASA_GRAPH_RUN = DaskGraphRunner.run


def run_graph(self: DaskGraphRunner, inputs: dict[str, Any] | None = None,
              targets: list[str] | None = None) -> dict[str, Any]:  # fmt: skip
    """Rasa 3.6's `DaskGraphRunner.run` without dask: each node the targets need is
    called once, after the nodes it needs, with their results (an input is given as
    Rasa's dask graph gives it: its name and value; a name that is neither a node nor an
    input is given as itself, as dask does)."""
    run_targets = tuple(targets if targets else self._graph_schema.target_names)
    nodes = self._graph_schema.nodes
    results: dict[str, Any] = {}
    for name, value in (inputs or {}).items():
        if isinstance(value, str) and value in nodes:
            raise GraphRunError(
                f"Input value '{value}' clashes with a node name. Make sure that none of "
                f"the input names passed to the `run` method are the same as node names "
                f"in the graph schema."
            )
        results[name] = (name, value)
    try:
        for name in _run_order(self, run_targets):
            needed = nodes[name].needs.values()
            results[name] = self._instantiated_nodes[name](
                *[results.get(need, need) for need in needed]
            )
    except RuntimeError as error:
        raise GraphRunError("Error running runner.") from error
    return dict(results[target] for target in run_targets)


def _run_order(runner: DaskGraphRunner, targets: tuple[str, ...]) -> list[str]:
    """The nodes the targets need, each after those it needs (kept per runner)."""
    orders: dict[tuple[str, ...], list[str]] = runner.__dict__.setdefault("_run_orders", {})
    if targets not in orders:
        nodes = runner._graph_schema.nodes
        order: list[str] = []

        def visit(name: str) -> None:
            if name in nodes and name not in order:
                for need in nodes[name].needs.values():
                    visit(need)
                order.append(name)

        for target in targets:
            visit(target)
        orders[targets] = order
    return orders[targets]


RASA_FORMAT_TRACKER_STATES = Policy.format_tracker_states


def format_tracker_states(states: list[dict]) -> str:
    """Rasa 3.6's `Policy.format_tracker_states`, whose text only the rule policy's
    debug line shows: made only when that line is logged (the rule policy formats the
    states of every prediction for it, logged or not)."""
    if _debug_dropped():
        return ""
    return RASA_FORMAT_TRACKER_STATES(states)


def _debug_dropped() -> bool:
    """Rasa's structlog configuration drops debug lines (its filtering logger's debug
    does nothing)."""
    wrapper = structlog.get_config().get("wrapper_class")
    nothing = getattr(structlog_native, "_nop", None)
    return nothing is not None and getattr(wrapper, "debug", None) is nothing


def apply() -> bool:
    """Installs the speed-ups; does nothing (False) on a Rasa they were not written for."""
    if not rasa.__version__.startswith(WRITTEN_FOR):
        return False
    if tf.__version__.startswith(TENSORFLOW_WRITTEN_FOR):
        RasaModel._rasa_predict = rasa_predict  # type: ignore[method-assign]
    RemoteAction._validate_action_result = validate_action_result  # type: ignore[method-assign]
    Event.resolve_by_type = staticmethod(resolve_by_type)  # type: ignore[method-assign]
    RulePolicy._is_rule_applicable = is_rule_applicable  # type: ignore[method-assign]
    RulePolicy._get_possible_keys = possible_keys  # type: ignore[method-assign]
    Domain.states_for_tracker_history = states_for_tracker_history  # type: ignore[method-assign]
    DaskGraphRunner.run = run_graph  # type: ignore[method-assign]
    Policy.format_tracker_states = staticmethod(format_tracker_states)  # type: ignore[method-assign]
    return True
