"""The Rasa speed-up checks action-server responses exactly as Rasa does."""

from __future__ import annotations

import pytest
from jsonschema import ValidationError
from rasa.core.actions.action import RemoteAction

from lotse import rasa_speedups

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
