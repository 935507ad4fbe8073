"""The delivery outbox for external CRMs and its worker (crm_adapter/store/crm_events.py), on
SQLite and PostgreSQL: order per contact, exactly-once claims across workers, retries
honouring Retry-After, dead letters that hold the contact's later events back, and the
webhook connector delivering a backlog once the receiver is back."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from datetime import datetime, timedelta, timezone
from pathlib import Path

import pytest

from crm_adapter.delivery import (
    CrmEvent,
    DeliveryAuthError,
    Link,
    PermanentDeliveryError,
    RetryableDeliveryError,
)
from crm_adapter.delivery_worker import DeliveryWorker
from crm_adapter.store.crm_events import EventOutbox
from crm_adapter.webhook import WebhookConnector
from lotse.database import make_engine
from lotse.migrate import migrate, migrated_engine
from tests.integration.test_crm_store import postgres_database
from tests.support.fake_servers import FakeWebhookServer, Reply

T0 = datetime(2026, 11, 25, 10, 0, tzinfo=timezone.utc)


class Clock:
    def __init__(self) -> None:
        self.now = T0

    def __call__(self) -> datetime:
        return self.now


class FakeConnector:
    """Records what it was given; fails with the errors queued for it first."""

    def __init__(self, *errors: Exception) -> None:
        self.errors = list(errors)
        self.delivered: list[CrmEvent] = []
        self.lock = threading.Lock()

    name = "fake"

    def deliver(self, event: CrmEvent, link: Link) -> Link:
        with self.lock:
            if self.errors:
                raise self.errors.pop(0)
            self.delivered.append(event)
            return Link(f"remote-{event.lead_id}", {"seen": len(self.delivered)})


@pytest.fixture(params=["sqlite", "postgresql"])
def outbox(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[EventOutbox]:
    if request.param == "sqlite":
        url = f"sqlite:///{tmp_path / 'events.db'}"
        migrate(url)
        yield EventOutbox(make_engine(url))
    else:
        with postgres_database() as url:
            migrate(url)
            engine = migrated_engine(url)
            yield EventOutbox(engine)
            engine.dispose()


def add(outbox: EventOutbox, lead_id: int, kind: str, n: int = 0) -> str:
    return outbox.add(lead_id, kind, {"n": n}, T0)


def test_events_of_one_contact_go_in_order_others_in_parallel(outbox: EventOutbox):
    add(outbox, 1, "contact.created")
    add(outbox, 1, "stage.changed")
    add(outbox, 2, "contact.created")
    first = outbox.claim(T0)
    assert [(c.event.lead_id, c.event.kind) for c in first] == [
        (1, "contact.created"), (2, "contact.created"),
    ]  # fmt: skip
    assert outbox.claim(T0) == []  # contact 1's next waits for its head; the heads are leased
    outbox.delivered(first[0], T0)
    [second] = outbox.claim(T0)
    assert (second.event.lead_id, second.event.kind) == (1, "stage.changed")


def test_a_lease_that_runs_out_makes_the_event_due_again_with_the_same_id(outbox: EventOutbox):
    event_id = add(outbox, 1, "contact.created")
    [taken] = outbox.claim(T0)
    assert outbox.claim(T0 + timedelta(seconds=10)) == []
    [again] = outbox.claim(T0 + outbox.lease + timedelta(seconds=1))
    assert again.row_id == taken.row_id and again.event.event_id == event_id


def test_concurrent_workers_claim_every_event_exactly_once(outbox: EventOutbox):
    for lead_id in range(40):
        add(outbox, lead_id, "contact.created")
    barrier = threading.Barrier(4)
    taken: list[int] = []
    lock = threading.Lock()

    def work() -> None:
        barrier.wait()
        while batch := outbox.claim(T0, limit=3):
            with lock:
                taken.extend(c.row_id for c in batch)

    threads = [threading.Thread(target=work) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(30)
    assert sorted(taken) == sorted(set(taken)) and len(taken) == 40


def test_the_worker_retries_honouring_retry_after_then_delivers(outbox: EventOutbox):
    clock = Clock()
    connector = FakeConnector(RetryableDeliveryError("429", retry_after=30))
    worker = DeliveryWorker(outbox, connector, clock, rng=lambda: 0.5)
    add(outbox, 1, "contact.created")
    assert worker.run_once() == 0
    clock.now = T0 + timedelta(seconds=29)
    assert worker.run_once() == 0 and connector.delivered == []
    clock.now = T0 + timedelta(seconds=31)
    assert worker.run_once() == 1
    assert [e.kind for e in connector.delivered] == ["contact.created"]
    assert outbox.pending_count() == 0


def test_a_dead_letter_holds_back_the_contacts_later_events_until_revived_or_discarded(
    outbox: EventOutbox,
):
    clock = Clock()
    connector = FakeConnector(PermanentDeliveryError("400"))
    worker = DeliveryWorker(outbox, connector, clock)
    add(outbox, 1, "contact.created")
    add(outbox, 1, "stage.changed")
    add(outbox, 2, "contact.created")
    assert worker.run_once() == 1  # contact 2 went through; contact 1's head is dead
    [dead] = outbox.dead_letters()
    assert (dead["contact_id"], dead["kind"], dead["last_error"]) == (
        1, "contact.created", "PermanentDeliveryError: 400",
    )  # fmt: skip
    assert worker.run_once() == 0  # "stage.changed" waits behind the dead letter
    assert outbox.revive(dead["id"], clock.now)
    assert worker.run_once() == 1 and worker.run_once() == 1
    assert [(e.lead_id, e.kind) for e in connector.delivered] == [
        (2, "contact.created"), (1, "contact.created"), (1, "stage.changed"),
    ]  # fmt: skip
    assert not outbox.revive(dead["id"], clock.now)  # delivered now: nothing to revive


def test_max_attempts_make_a_dead_letter_which_can_be_discarded(outbox: EventOutbox):
    clock = Clock()
    connector = FakeConnector(*(RetryableDeliveryError("503") for _ in range(3)))
    worker = DeliveryWorker(outbox, connector, clock, max_attempts=3, rng=lambda: 0.0)
    add(outbox, 1, "contact.created")
    add(outbox, 1, "stage.changed")
    for minute in range(3):
        clock.now = T0 + timedelta(minutes=minute)
        worker.run_once()
    [dead] = outbox.dead_letters()
    assert dead["attempts"] == 3
    assert outbox.discard(dead["id"], clock.now)
    assert worker.run_once() == 1 and connector.delivered[0].kind == "stage.changed"


def test_a_backlog_reaches_a_webhook_that_was_down_once_each_in_order(outbox: EventOutbox):
    clock = Clock()
    for n in range(3):
        outbox.add(7, "answer.saved", {"n": n}, T0)
    outbox.add(8, "answer.saved", {"n": 0}, T0)
    down = [Reply(503, {"Retry-After": "1"}) for _ in range(2)]
    with FakeWebhookServer(*down) as server:
        worker = DeliveryWorker(
            outbox, WebhookConnector(server.url, b"a shared secret of 32 bytes....."), clock
        )
        for second in range(0, 60, 2):
            clock.now = T0 + timedelta(seconds=second)
            worker.run_once()
        received = [r for r in server.received]
    ids = [r.headers["X-Lotse-Event-Id"] for r in received]
    delivered = ids[2:]  # the first two answers were 503s
    assert len(delivered) == 4 and len(set(delivered)) == 4  # each once
    by_contact = [r.body for r in received[2:] if b'"lead_id":7' in r.body]
    assert [b'"n":0' in by_contact[0], b'"n":1' in by_contact[1], b'"n":2' in by_contact[2]] == [
        True, True, True,
    ]  # fmt: skip
    assert outbox.pending_count() == 0


def test_the_deliveries_command_lists_retries_and_discards_dead_letters(capsys):
    from lotse.settings import load_settings
    from ops import cli

    url = load_settings().database_url  # the test's own SQLite (conftest)
    migrate(url)
    outbox = EventOutbox(make_engine(url))
    add(outbox, 3, "contact.created")
    add(outbox, 3, "stage.changed")
    [head] = outbox.claim(T0)
    outbox.dead(head, T0, "PermanentDeliveryError")
    assert cli.main(["deliveries", "dead"]) == 0
    listed = capsys.readouterr().out
    assert "contact.created" in listed and "PermanentDeliveryError" in listed
    assert cli.main(["deliveries", "retry", str(head.row_id)]) == 0
    assert outbox.dead_letters() == []
    later = datetime.now(timezone.utc) + timedelta(minutes=1)  # the command revives it "now"
    [again] = outbox.claim(later)
    outbox.dead(again, T0, "PermanentDeliveryError")
    assert cli.main(["deliveries", "discard", str(head.row_id)]) == 0
    [following] = outbox.claim(later)
    assert following.event.kind == "stage.changed"
    assert cli.main(["deliveries", "retry", "99999"]) == 1
    assert "not a dead letter" in capsys.readouterr().err


def test_a_worker_whose_lease_ran_out_cannot_mark_the_event_another_one_holds(
    outbox: EventOutbox,
):
    add(outbox, 1, "contact.created")
    add(outbox, 1, "stage.changed")
    [stale] = outbox.claim(T0)
    later = T0 + outbox.lease + timedelta(seconds=1)
    [current] = outbox.claim(later)  # the lease ran out: another worker took it
    assert current.row_id == stale.row_id and current.lease != stale.lease
    outbox.delivered(stale, later)  # the slow first worker finishes: ignored
    outbox.retry(stale, later, "RetryableDeliveryError")  # ignored as well
    assert outbox.claim(later) == []  # "stage.changed" still waits behind the held head
    outbox.delivered(current, later)
    assert [c.event.kind for c in outbox.claim(later)] == ["stage.changed"]


def test_an_event_whose_lease_is_nearly_over_is_given_back_unsent(outbox: EventOutbox):
    clock = Clock()
    connector = FakeConnector()
    worker = DeliveryWorker(outbox, connector, clock)
    add(outbox, 1, "contact.created")
    [claimed] = outbox.claim(clock.now)
    clock.now += outbox.lease * 0.9
    assert worker._deliver(claimed) == 0  # noqa: SLF001 - the step under test
    assert connector.delivered == []
    assert worker.run_once() == 1  # released: due again at once


def test_refused_credentials_are_retried_slowly_without_using_up_attempts(outbox: EventOutbox):
    clock = Clock()
    connector = FakeConnector(*[DeliveryAuthError("HubSpot: refused (401)")] * 5)
    worker = DeliveryWorker(outbox, connector, clock, max_attempts=2)
    add(outbox, 1, "contact.created")
    for _ in range(5):
        assert worker.run_once() == 0
        assert worker.run_once() == 0  # not due before five minutes
        clock.now += timedelta(minutes=5, seconds=1)
    assert outbox.dead_letters() == []
    assert worker.run_once() == 1


def test_retry_all_revives_every_dead_letter(tmp_path: Path, monkeypatch, capsys):
    from ops import cli

    url = f"sqlite:///{tmp_path / 'all.db'}"
    monkeypatch.setenv("LOTSE_DATABASE_URL", url)
    migrate(url)
    outbox = EventOutbox(make_engine(url))
    for lead in (1, 2, 3):
        add(outbox, lead, "contact.created")
    for claimed in outbox.claim(T0):
        outbox.dead(claimed, T0, "PermanentDeliveryError: 400")
    assert len(outbox.dead_letters()) == 3
    assert cli.main(["deliveries", "retry", "--all"]) == 0
    assert "3 dead letters due again" in capsys.readouterr().out
    assert outbox.dead_letters() == [] and outbox.pending_count() == 3
