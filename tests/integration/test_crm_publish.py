"""The store's writes queue CRM events in their own transaction (crm_adapter/store/
publish.py), on SQLite and PostgreSQL: only for contacts with an email, one per
configured connector, with the contact as it stands after the change; nothing when the
write fails; erased when the consent is withdrawn; handoff outcomes with transcript."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select
from sqlalchemy.exc import OperationalError

from crm_adapter.delivery import CrmEvent, Link
from crm_adapter.delivery_worker import DeliveryWorker
from crm_adapter.port import (
    Answer,
    ConsentRequired,
    CrmError,
    Feedback,
    Meeting,
    SalesTask,
    ScoringEvent,
    StageRecord,
    Visit,
)
from crm_adapter.store import LocalCrm
from crm_adapter.store import crm_events as events_module
from crm_adapter.store.crm_events import ERASED, EventOutbox
from crm_adapter.store.models import CrmEventRow
from crm_adapter.sync_event import timeline_entry, with_staff_emails
from handoff.store import HandoffStore, NewHandoff
from lotse.database import make_engine
from lotse.migrate import migrate, migrated_engine
from tests.integration.test_crm_store import CONSENT, T0, answer, at, postgres_database

TARGETS = ("hubspot", "hooks")


@pytest.fixture(params=["sqlite", "postgresql"])
def crm(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[LocalCrm]:
    if request.param == "sqlite":
        url = f"sqlite:///{tmp_path / 'crm.db'}"
        migrate(url)
        yield LocalCrm(make_engine(url), clock=lambda: T0, connectors=TARGETS)
    else:
        with postgres_database() as url:
            migrate(url)
            engine = migrated_engine(url)
            yield LocalCrm(engine, clock=lambda: T0, connectors=TARGETS)
            engine.dispose()


def events(crm: LocalCrm, connector: str = "hubspot") -> list[CrmEventRow]:
    with crm._engine.connect() as c:  # noqa: SLF001 - the test reads the table it checks
        query = select(CrmEventRow.__table__).where(CrmEventRow.connector == connector)
        return list(c.execute(query.order_by(CrmEventRow.id)))


def known_lead(crm: LocalCrm, email: str = "anna@kunde.example", conversation: str = "c1") -> int:
    lead = crm.lead_for(Visit(conversation, "web"))
    crm.save_answer(lead.lead_id, answer("employees", 60, 1))
    crm.record_consent(lead.lead_id, CONSENT)
    crm.save_answer(lead.lead_id, answer("name", "Anna Maria Schmidt", 2))
    crm.save_answer(lead.lead_id, Answer("company", {"name": "Kunde GmbH"}, "answered", at(3)))
    return crm.identify(lead.lead_id, email, freemail=False)


def test_an_anonymous_contact_sends_nothing_and_identifying_sends_its_story(crm: LocalCrm):
    lead_id = known_lead(crm)
    rows = events(crm)
    assert [r.kind for r in rows] == ["contact.identified"]  # nothing before the email
    contact = rows[0].payload["contact"]
    assert contact["email"] == "anna@kunde.example"
    assert contact["name"] == "Anna Maria Schmidt" and contact["company"] == "Kunde GmbH"
    assert contact["answers"]["employees"] == "60"
    assert contact["consent"]["legal_basis"].startswith("consent, Art. 6(1)(a)")
    assert contact["consent"]["text_version"] == "v1"
    assert rows[0].contact_id == lead_id
    assert [r.kind for r in events(crm, "hooks")] == ["contact.identified"]  # one per connector


def test_every_later_change_is_an_event_with_the_contact_after_it(crm: LocalCrm):
    lead_id = known_lead(crm)
    crm.save_answer(lead_id, answer("timeline", 3, 4))
    explanation = ["company size 60 employees: 100", "fit = average of 1 known attribute(s) = 100"]
    crm.add_scoring_events(
        lead_id, [ScoringEvent("fit", "60 employees", 100, 100, at(4))], explanation
    )
    crm.change_stage(lead_id, StageRecord("lead", "marketing_qualified_lead", "fit 100", at(5)))
    crm.add_task(lead_id, SalesTask("callback", "call at 3", at(60), at(5), assignee="anna"))
    crm.book_meeting(lead_id, Meeting("jonas", at(120), at(150), "Demo", at(6)))
    crm.record_feedback(lead_id, Feedback("accept", "fits", 100, 0, "anna", at(7)))
    rows = events(crm)[1:]
    assert [r.kind for r in rows] == [
        "answer.saved", "score.changed", "stage.changed", "task.created", "meeting.booked",
        "feedback.recorded",
    ]  # fmt: skip
    answer_saved, score, stage, task, meeting, feedback = (r.payload for r in rows)
    assert answer_saved["change"] == {
        "attribute": "timeline",
        "value": "3 months",
        "status": "answered",
        "source": "bot",
    }
    assert score["change"]["events"] == [
        {"axis": "fit", "cause": "60 employees", "change": 100, "value_after": 100}]  # fmt: skip
    assert score["change"]["explanation"] == explanation
    assert score["contact"]["fit"] == 100
    entry = timeline_entry("e1", "score.changed", score)
    assert entry.lines == (
        ("Fit +100", "60 employees (now 100)"),
        ("Explanation", explanation[0]),
        ("Explanation", explanation[1]),
    )
    assert stage["change"]["new"] == "marketing_qualified_lead"
    assert stage["contact"]["stage"] == "marketing_qualified_lead"
    assert task["change"]["assignee"] == {"staff_id": "anna", "email": None}
    assert task["contact"]["owner"] == {"staff_id": "anna", "email": None}
    assert meeting["change"]["staff"]["staff_id"] == "jonas"
    assert feedback["change"] == {"decision": "accept", "reason": "fits", "actor": "anna"}


def test_the_write_and_its_event_commit_together_or_not_at_all(crm: LocalCrm, monkeypatch):
    lead_id = known_lead(crm)
    real = events_module.enqueue

    def then_fail(*args: Any, **kwargs: Any) -> list[str]:
        real(*args, **kwargs)  # the event is added to the transaction, then it fails
        raise OperationalError("INSERT", {}, ConnectionError("the database went away"))

    monkeypatch.setattr(events_module, "enqueue", then_fail)
    with pytest.raises(CrmError):
        crm.save_answer(lead_id, answer("timeline", 3, 4))
    assert "timeline" not in crm.lead(lead_id).answers  # the write is rolled back too
    assert [r.kind for r in events(crm)] == ["contact.identified"]


def test_a_merged_contact_s_undelivered_events_go_on_as_the_other_s(crm: LocalCrm):
    """Issue 18: a merge used to drop the merged contact's undelivered events (a task, a
    booking never reached the CRM); they now go to the contact it merged into."""
    first = known_lead(crm, "erste@kunde.example", "c-first")
    crm.save_answer(first, answer("timeline", 3, 4))
    outbox = EventOutbox(crm._engine, connector="hubspot")  # noqa: SLF001
    [identified] = outbox.claim(T0)
    outbox.delivered(identified, T0, Link("hs-first", {"email": "erste@kunde.example"}))
    crm.add_task(first, SalesTask("callback", "morgens", at(30), at(5)))
    undelivered = {r.event_id: r.kind for r in events(crm)
                   if r.contact_id == first and not r.delivered_at}  # fmt: skip
    assert sorted(undelivered.values()) == ["answer.saved", "task.created"]
    second = known_lead(crm, "zweite@kunde.example", "c-second")
    assert crm.identify(first, "zweite@kunde.example", freemail=False) == second  # merged
    carried = {r.event_id: r for r in events(crm) if r.event_id in undelivered}
    assert {r.contact_id for r in carried.values()} == {second}
    assert all(r.payload != ERASED and not r.delivered_at for r in carried.values())
    crm.withdraw_consent(second, at(20))
    withdrawals = [r for r in events(crm) if r.kind == "consent.withdrawn"]
    assert {(r.contact_id, r.payload["contact"]["email"]) for r in withdrawals} == {
        (second, "zweite@kunde.example"),
        (first, None),
    }  # first: found by its record id
    assert all(r.payload == ERASED for r in events(crm) if r.kind != "consent.withdrawn")


def test_a_handoff_closed_after_the_withdrawal_sends_nothing(crm: LocalCrm):
    lead_id = known_lead(crm)
    store = HandoffStore(crm._engine, connectors=TARGETS)  # noqa: SLF001
    handoff = store.request(NewHandoff(conversation_id="c1", reason="asked", language="en",
                                       need="sales", team="sales", lead_id=lead_id,
                                       claim_timeout=timedelta(minutes=5)), T0)  # fmt: skip
    crm.withdraw_consent(lead_id, at(1))
    before = len(events(crm))
    store.transition(handoff, "cancel", None, at(2))
    assert len(events(crm)) == before


def test_a_write_that_fails_queues_no_event(crm: LocalCrm):
    lead = crm.lead_for(Visit("c2", "web"))
    with pytest.raises(ConsentRequired):
        crm.save_answer(lead.lead_id, answer("phone", "+49 30 1234", 1))
    lead_id = known_lead(crm, "bert@kunde.example")
    before = len(events(crm))
    with pytest.raises(ValueError):
        crm.change_stage(lead_id, StageRecord("lead", "no-such-stage", "x", at(5)))
    assert len(events(crm)) == before


def test_withdrawing_consent_erases_the_payloads_and_tells_the_crm(crm: LocalCrm):
    lead_id = known_lead(crm)
    crm.save_answer(lead_id, answer("timeline", 3, 4))
    outbox = EventOutbox(crm._engine, connector="hubspot")  # noqa: SLF001
    sent: list[CrmEvent] = []

    class Recorder:
        name = "hubspot"

        def deliver(self, event: CrmEvent, link: Link) -> Link:
            sent.append(event)
            return Link("hs-1", {"firstname": "Anna Maria"})

    worker = DeliveryWorker(outbox, Recorder(), clock=lambda: T0)
    assert worker.run_once() == 1  # contact.identified; answer.saved waits behind it
    crm.withdraw_consent(lead_id, at(10))
    rows = events(crm)
    assert [r.payload for r in rows[:2]] == [ERASED, ERASED]
    assert rows[-1].kind == "consent.withdrawn"
    assert rows[-1].payload["contact"] == {"email": "anna@kunde.example"}
    assert outbox.link(lead_id) == Link("hs-1", {})  # the id stays, the values go
    while worker.run_once():
        pass
    assert [e.kind for e in sent] == ["contact.identified", "consent.withdrawn"]  # erased: skipped
    assert all(r.payload == ERASED for r in events(crm))  # the email too, once delivered
    assert outbox.pending_count() == 0


def test_a_closed_handoff_reaches_the_crm_with_its_outcome_and_transcript(crm: LocalCrm):
    lead_id = known_lead(crm)
    store = HandoffStore(crm._engine, connectors=TARGETS)  # noqa: SLF001
    handoff = store.request(
        NewHandoff(conversation_id="c1", reason="asked", language="en", need="sales",
                   lead_id=lead_id, team="sales", rule="sales_ready", assignee="anna",
                   responsible=("anna",), explanation=(), claim_timeout=timedelta(minutes=5)),
        T0,
    )  # fmt: skip
    store.add_message("c1", "visitor", "Can someone call me?", handoff.id)
    handoff = store.transition(handoff, "claim", "anna", at(1), assignee="anna")
    store.add_message("c1", "agent", "Of course, tomorrow at 10.", handoff.id)
    store.transition(handoff, "close", "anna", at(9), outcome="callback", closed_at=at(9))
    closed = events(crm)[-1]
    assert closed.kind == "handoff.closed"
    change: dict[str, Any] = closed.payload["change"]
    assert change["team"] == "sales" and change["agent"] == "anna"
    assert change["outcome"] == "callback"
    assert [m["text"] for m in change["transcript"]] == [
        "Can someone call me?", "Of course, tomorrow at 10."]  # fmt: skip


def test_the_worker_fills_in_staff_emails_from_routing():
    payload = {
        "contact": {"owner": {"staff_id": "anna", "email": None}},
        "change": {"assignee": {"staff_id": "anna", "email": None}, "kind": "callback"},
    }
    filled = with_staff_emails(payload, {"anna": "anna.becker@nordwerk.example"})
    assert filled["contact"]["owner"]["email"] == "anna.becker@nordwerk.example"
    assert filled["change"]["assignee"]["email"] == "anna.becker@nordwerk.example"
    assert filled["change"]["kind"] == "callback"


def test_timeline_entries_escape_what_visitors_typed_in_html():
    payload = {"contact": {}, "change": {"attribute": "company", "value": "<script>x</script>",
                                         "status": "answered", "source": "bot"}}  # fmt: skip
    entry = timeline_entry("e2", "answer.saved", payload)
    assert "<script>" not in entry.html() and "&lt;script&gt;" in entry.html()
    assert entry.text().endswith("lotse-event-e2")


def test_an_event_in_flight_during_a_withdrawal_brings_no_values_back(crm: LocalCrm):
    lead_id = known_lead(crm)
    outbox = EventOutbox(crm._engine, connector="hubspot")  # noqa: SLF001
    [in_flight] = outbox.claim(T0)
    crm.withdraw_consent(lead_id, at(10))  # while the worker is sending it
    outbox.delivered(in_flight, T0, Link("hs-1", {"firstname": "Anna Maria"}))
    assert outbox.link(lead_id) == Link("hs-1", {})
