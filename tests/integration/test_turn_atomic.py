"""A qualification turn is one unit of work (issue 18): a crash injected after any
call to the store during `record` leaves every table exactly as before the turn, and
the turn sent again then stores exactly what one turn stores (no second consent, task
or interest event). Before, a turn wrote in up to eight transactions. On SQLite and
PostgreSQL."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime, timezone
from typing import Any

import pytest
from sqlalchemy import select
from sqlalchemy.engine import Engine

from crm_adapter.port import ANSWERED, BOT, HUMAN, Answer, Consent, Notification, SalesTask, Visit
from crm_adapter.recording import Learnt, record
from crm_adapter.scoring_model import load_scoring_model
from crm_adapter.store import LocalCrm
from crm_adapter.store.models import Base
from tests.support import crm_engines

engine, postgres_url = crm_engines.engine, crm_engines.postgres_url  # shared fixtures

MODEL = load_scoring_model()
NOW = datetime(2026, 12, 6, 9, 0, tzinfo=timezone.utc)
STORE_CALLS = (
    "lead", "lead_for", "save_answer", "record_consent", "withdraw_consent", "claim_email",
    "identify", "identify_phone", "add_interest_event", "add_scoring_events",
    "change_stage", "add_task", "open_claim",
)  # fmt: skip


class Crash(BaseException):
    """The process dies here (a BaseException: nothing catches it on the way)."""


def mail(code: str, address: str) -> Notification:
    return Notification("email", "Code", f"Code {code}", (address,))


def turn(conversation: str, source: str = BOT) -> Learnt:
    """Everything one turn can bring: a consent, answers (an email among them: typed in
    the chat it sends a code; entered by staff it makes the contact a lead at once),
    interest, a task; enough to move the scores (and the stage, once proven)."""
    answers = [
        Answer("employees", {"count": 60}, ANSWERED, NOW, BOT, conversation),
        Answer("industry", {"key": "metalworking"}, ANSWERED, NOW, BOT, conversation),
        Answer("role", {"key": "owner_md"}, ANSWERED, NOW, BOT, conversation),
        Answer("email", {"address": "anna@metallbau.example", "freemail": False}, ANSWERED,
               NOW, source, conversation),
    ]  # fmt: skip
    consent = Consent("lead_contact", "2026-11-26", "Einverstanden?", "de", "rest", NOW)
    return Learnt(
        conversation,
        answers,
        consent,
        ["requested_demo", "asked_price"],
        task=SalesTask("follow_up", "enquiry", None, NOW),
        code_mail=mail,
    )


def tables(engine: Engine) -> dict[str, list[tuple[Any, ...]]]:
    with engine.connect() as connection:
        return {
            table.name: sorted(map(tuple, connection.execute(select(table))), key=repr)
            for table in Base.metadata.sorted_tables
        }


def crashing_after(crm: LocalCrm, calls: int, monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """Makes the store's `calls`-th call (counted over STORE_CALLS) crash once it has
    run; returns the list the calls are written to."""
    seen: list[str] = []
    for name in STORE_CALLS:
        method = getattr(crm, name)

        def wrapped(*args: Any, _method: Callable = method, _name: str = name, **kw: Any) -> Any:
            result = _method(*args, **kw)
            seen.append(_name)
            if len(seen) == calls:
                raise Crash(_name)
            return result

        monkeypatch.setattr(crm, name, wrapped)
    return seen


@pytest.mark.parametrize("source", [BOT, HUMAN])
def test_a_crash_after_any_store_call_leaves_everything_as_before(
    engine: Engine, monkeypatch: pytest.MonkeyPatch, source: str
) -> None:
    crm = LocalCrm(engine, clock=lambda: NOW, connectors=("hubspot",))
    with monkeypatch.context() as counting:  # how many calls a whole turn makes
        calls = crashing_after(crm, 0, counting)
        counted = crm.lead_for(Visit(f"turn-0-{source}", "rest"))
        record(crm, counted, _other_address(turn(f"turn-0-{source}", source), "carl"), MODEL, NOW)
        total = len(calls) - 1
    assert total >= 8, calls
    assert ("change_stage" in calls) == (source == HUMAN)  # a typed address waits for its code
    lead = crm.lead_for(Visit(f"turn-1-{source}", "rest"))
    before = tables(engine)
    for k in range(1, total + 1):
        with monkeypatch.context() as patch:
            crashing_after(crm, k, patch)
            with pytest.raises(Crash):
                record(crm, lead, turn(f"turn-1-{source}", source), MODEL, NOW)
        assert tables(engine) == before, f"a crash after call {k} left a trace"
    lead_id = record(crm, lead, turn(f"turn-1-{source}", source), MODEL, NOW)  # sent again
    once = crm.lead(lead_id)
    assert len(once.consents) == 1 and len(once.tasks) == 1
    assert sorted(e.kind for e in once.interest_events) == ["asked_price", "requested_demo"]
    assert once.scoring_events
    assert (once.stage is not None) == (source == HUMAN)
    assert (crm.open_claim(lead_id) is not None) == (source == BOT)
    control = crm.lead_for(Visit(f"turn-2-{source}", "rest"))
    other = crm.lead(record(crm, control, _other_address(turn(f"turn-2-{source}", source)),
                            MODEL, NOW))  # fmt: skip
    assert _shape(once) == _shape(other)


def _other_address(learnt: Learnt, name: str = "bert") -> Learnt:
    address = {"address": f"{name}@metallbau.example", "freemail": False}
    typed = learnt.answers[-1]
    learnt.answers[-1] = Answer(
        "email", address, ANSWERED, NOW, typed.source, typed.conversation_id
    )
    return learnt


def _shape(lead: Any) -> tuple[Any, ...]:
    """What one turn stored, without ids, conversation ids and the address."""
    return (
        len(lead.consents), len(lead.tasks), sorted(e.kind for e in lead.interest_events),
        [(e.axis, e.cause) for e in lead.scoring_events], [s.new for s in lead.stages],
        sorted(lead.answers),
    )  # fmt: skip
