"""The ownership gate in front of the bot: silent while a person has the conversation."""

from __future__ import annotations

import asyncio
from datetime import timedelta
from pathlib import Path

import pytest
from sqlalchemy.exc import OperationalError

from bot.channels.ownership_gate import OwnershipGate
from handoff.desk import CANCEL_INTENT, Desk
from handoff.routing_model import load_routing_model
from handoff.store import HandoffStore, NewHandoff
from handoff.texts import load_handoff_texts
from lotse.migrate import migrated_engine


@pytest.fixture
def gate(tmp_path: Path) -> OwnershipGate:
    store = HandoffStore(migrated_engine(f"sqlite:///{tmp_path / 'gate.db'}"))
    return OwnershipGate(Desk(store, load_routing_model(), load_handoff_texts()))


def open_handoff(gate: OwnershipGate, conversation: str = "web-1"):
    new = NewHandoff(conversation, "visitor_asked", "de", "sales", "sales", timedelta(minutes=2))
    return gate.desk.store.request(new)


def test_without_a_handoff_the_bot_gets_the_message(gate: OwnershipGate):
    admission = gate.decide("web-1", "Was kostet eine P400?")
    assert (admission.to_bot, admission.text) == (True, "Was kostet eine P400?")
    assert gate.desk.store.messages("web-1") == []


def test_while_waiting_the_message_is_kept_for_the_person(gate: OwnershipGate):
    handoff = open_handoff(gate)
    admission = gate.decide("web-1", "Hallo, ist da jemand?")
    assert not admission.to_bot
    [kept] = gate.desk.store.messages("web-1")
    assert (kept.sender, kept.text, kept.handoff_id) == (
        "visitor",
        "Hallo, ist da jemand?",
        handoff.id,
    )


@pytest.mark.parametrize("said", ["abbrechen", "Abbrechen!", "back to the bot", CANCEL_INTENT])
def test_a_cancel_while_waiting_goes_back_to_the_bot(gate: OwnershipGate, said: str):
    handoff = open_handoff(gate)
    admission = gate.decide("web-1", said)
    assert (admission.to_bot, admission.text) == (True, CANCEL_INTENT)
    after = gate.desk.store.get(handoff.id)
    assert (after.state, after.outcome) == ("bot", "cancelled")


def test_with_a_person_even_cancel_words_go_to_the_person(gate: OwnershipGate):
    handoff = open_handoff(gate)
    gate.desk.store.transition(handoff, "claim", "anna", assignee="anna")
    assert not gate.decide("web-1", "abbrechen").to_bot
    assert gate.desk.store.get(handoff.id).state == "human"


def test_other_conversations_are_not_affected(gate: OwnershipGate):
    open_handoff(gate, "web-1")
    assert gate.decide("web-2", "Hallo").to_bot


def test_if_the_store_fails_the_bot_answers(gate: OwnershipGate, monkeypatch: pytest.MonkeyPatch):
    def broken(conversation_id: str) -> None:
        raise OperationalError("SELECT", {}, Exception("disk I/O error"))

    monkeypatch.setattr(gate.desk.store, "open_handoff", broken)
    admission = asyncio.run(gate.admit("web-1", "Hallo"))
    assert (admission.to_bot, admission.text) == (True, "Hallo")
