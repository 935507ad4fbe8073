"""The notifications in the one outbox (`crm_events`, connector "notify") on SQLite and
on PostgreSQL: claimed unordered, leased, marked; and the migration that moved them
there from the old `crm_outbox`.

The ordered side of the same outbox (CRM events, one contact's in order) is
test_crm_events.py's; sending them is test_dispatch.py's.
"""

from __future__ import annotations

import threading
import time
from datetime import datetime, timedelta, timezone
from functools import partial
from pathlib import Path
from typing import Any

import pytest
from alembic import command
from sqlalchemy import event, text
from sqlalchemy.engine import Engine

from crm_adapter.port import Consent, CrmError, Notification, SalesTask, Visit
from crm_adapter.store import LocalCrm
from crm_adapter.store.crm_events import NOTIFY, EventOutbox
from crm_adapter.store.mapping import notification_of
from lotse.database import make_engine, writer
from lotse.migrate import alembic_config, migrate
from tests.support import crm_engines
from tests.support.concurrency import run_together
from tests.support.notifications import queued

engine, postgres_url = crm_engines.engine, crm_engines.postgres_url  # shared fixtures

T0 = datetime(2025, 3, 3, 9, 0, tzinfo=timezone.utc)
LEASE = timedelta(seconds=60)
DEADLINE = 60.0
ICS = "BEGIN:VCALENDAR\r\nVERSION:2.0\r\nEND:VCALENDAR\r\n"
CONSENT = Consent("sales_contact", "v1", "I agree that Nordwerk contacts me.", "en", "web", T0)


def seconds(n: float) -> datetime:
    return T0 + timedelta(seconds=n)


@pytest.fixture
def crm(engine: Engine) -> LocalCrm:
    return LocalCrm(engine, clock=lambda: T0)


@pytest.fixture
def outbox(engine: Engine) -> EventOutbox:
    return EventOutbox(engine, LEASE, connector=NOTIFY, ordered=False)


def queue(crm: LocalCrm, *notify: Notification) -> int:
    """A new lead with a callback task carrying `notify`; the lead's id."""
    lead_id = crm.lead_for(Visit(f"c{time.monotonic_ns()}", "web")).lead_id
    crm.record_consent(lead_id, CONSENT)
    crm.add_task(lead_id, SalesTask("callback", "", None, T0), notify)
    return lead_id


def email(n: int = 0) -> Notification:
    return Notification("email", f"Meeting {n}", "See you then.", ("anna@nordwerk.example",), ICS)


def slack(n: int = 0) -> Notification:
    return Notification("slack", f"New meeting {n}", "")


def test_a_claim_hands_out_what_was_written_and_leases_it(
    crm: LocalCrm, outbox: EventOutbox
) -> None:
    lead_id = queue(crm, email(1), slack(2))
    assert outbox.claim(seconds(-1)) == []  # not due before it was written
    taken = outbox.claim(T0)
    assert [notification_of(c.event.payload) for c in taken] == [email(1), slack(2)]
    assert {c.event.lead_id for c in taken} == {lead_id}
    assert outbox.claim(T0) == []  # leased
    assert outbox.claim(seconds(59)) == []
    again = outbox.claim(seconds(60))  # the lease ran out: the worker must have died
    assert [c.row_id for c in again] == [c.row_id for c in taken]
    assert outbox.pending_count() == 2


def test_one_contacts_notifications_do_not_wait_for_each_other(
    crm: LocalCrm, outbox: EventOutbox, engine: Engine
) -> None:
    queue(crm, email(1), email(2), slack(3))
    first, *_ = outbox.claim(T0, limit=1)
    outbox.dead(first, seconds(1), "PermanentDeliveryError: email: not configured")
    rest = outbox.claim(seconds(1))  # a dead mail holds the others back in no way
    assert [notification_of(c.event.payload) for c in rest] == [email(2), slack(3)]
    ordered = EventOutbox(engine, LEASE, connector=NOTIFY)  # as CRM events are claimed
    assert ordered.claim(seconds(120)) == []


def test_the_oldest_come_first_up_to_the_limit(crm: LocalCrm, outbox: EventOutbox) -> None:
    queue(crm, *[slack(n) for n in range(5)])
    subjects = [[c.event.payload["subject"] for c in outbox.claim(T0, limit=2)] for _ in range(3)]
    assert subjects == [["New meeting 0", "New meeting 1"], ["New meeting 2", "New meeting 3"],
                        ["New meeting 4"]]  # fmt: skip


def test_delivered_retried_and_dead(crm: LocalCrm, outbox: EventOutbox, engine: Engine) -> None:
    queue(crm, email(1), slack(2), slack(3))
    first, second, third = outbox.claim(T0)
    outbox.delivered(first, seconds(1))
    outbox.retry(second, seconds(30), "RetryableDeliveryError: slack: Timeout")
    outbox.dead(third, seconds(1), "PermanentDeliveryError" * 10)
    assert outbox.pending_count() == 1
    states = [(n.delivered, n.dead, n.attempts) for n in queued(engine)]
    assert states == [(True, False, 0), (False, False, 1), (False, True, 1)]
    assert len(queued(engine)[2].last_error or "") == 200
    assert outbox.claim(seconds(29)) == []
    [again] = outbox.claim(seconds(3600))
    assert (again.row_id, again.attempts) == (second.row_id, 1)
    outbox.delivered(again, seconds(3601))
    outbox.retry(again, seconds(3700), "late")  # done already: changes nothing
    outbox.delivered(second, seconds(1))  # an old claim's token: changes nothing
    assert outbox.pending_count() == 0 and outbox.claim(seconds(7200)) == []
    assert [n.attempts for n in queued(engine)][1] == 1
    assert [letter["connector"] for letter in outbox.dead_letters()] == [NOTIFY]


def _meet_after_taking_rows(engine: Engine, parties: int) -> None:
    """Holds every thread, right after its SELECT ... FOR UPDATE SKIP LOCKED, until all
    have run theirs: so all select while the others' rows are still locked."""
    barrier = threading.Barrier(parties, timeout=DEADLINE / 2)
    waited = threading.local()

    def after(conn: Any, cursor: Any, statement: str, *args: Any) -> None:
        if "SKIP LOCKED" in statement and not hasattr(waited, "x"):
            waited.x = True
            barrier.wait()

    event.listen(engine, "after_cursor_execute", after)


def test_two_workers_never_take_the_same_notification(
    crm: LocalCrm, outbox: EventOutbox, engine: Engine
) -> None:
    parties, rows = 4, 20
    queue(crm, *[slack(n) for n in range(rows)])
    if engine.dialect.name == "postgresql":  # SQLite writers queue: no race to force
        _meet_after_taking_rows(engine, parties)
    taken: list[list[int]] = [[] for _ in range(parties)]

    def claim(n: int) -> None:
        while batch := outbox.claim(T0, limit=3):
            taken[n].extend(c.row_id for c in batch)

    run_together([partial(claim, n) for n in range(parties)])
    every = [row_id for ids in taken for row_id in ids]
    assert len(every) == rows and len(set(every)) == rows  # each once, none left
    if engine.dialect.name == "postgresql":
        assert all(taken)  # all four took some: they really ran side by side


def test_database_errors_are_crm_errors(tmp_path: Path) -> None:
    unmigrated = make_engine(f"sqlite:///{tmp_path / 'empty.db'}")
    try:
        with pytest.raises(CrmError, match="claiming events"):
            EventOutbox(unmigrated, connector=NOTIFY, ordered=False).claim(T0)
        with pytest.raises(CrmError, match="counting"):
            EventOutbox(unmigrated, connector=NOTIFY).pending_count()
    finally:
        unmigrated.dispose()
    with pytest.raises(ValueError):
        EventOutbox(unmigrated, lease=timedelta(0))


def _old_outbox_row(connection: Any, channel: str, to: str, state: str) -> None:
    sent = T0 if state == "sent" else None
    failed = T0 if state == "failed" else None
    connection.execute(text(
        "INSERT INTO crm_outbox (channel, recipients, subject, body, ics, created_at, attempts,"
        " next_attempt_at, sent_at, failed_at, last_error, contact_id) VALUES (:channel, :to,"
        " 'Callback', 'Phone: +49 521 1234', NULL, :t, :attempts, :t, :sent, :failed,"
        " :error, 1)"), {"channel": channel, "to": to, "t": T0, "sent": sent, "failed": failed,
                         "attempts": 1 if failed else 0,
                         "error": "PermanentNotificationError" if failed else None})  # fmt: skip


def test_the_migration_moves_the_old_outbox_into_the_one_outbox(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'old.db'}"
    engine = make_engine(url)
    config = alembic_config(url)
    try:
        with writer(engine).begin() as connection:
            config.attributes["connection"] = connection
            command.upgrade(config, "0012")
            connection.execute(text(
                "INSERT INTO crm_contacts (id, freemail, accepted, rejected, created_at,"
                " updated_at) VALUES (1, false, false, false, :t, :t)"), {"t": T0})  # fmt: skip
            _old_outbox_row(connection, "email", '["anna@nordwerk.example"]', "pending")
            _old_outbox_row(connection, "slack", "[]", "sent")
            _old_outbox_row(connection, "email", '["erika@kunde.example"]', "failed")
        migrate(engine)
        moved = queued(engine)
        assert [(n.channel, n.recipients, n.delivered, n.dead) for n in moved] == [
            ("email", ["anna@nordwerk.example"], False, False),
            ("slack", [], True, False),
            ("email", ["erika@kunde.example"], False, True),
        ]
        assert {n.contact_id for n in moved} == {1} and moved[0].body == "Phone: +49 521 1234"
        [pending] = EventOutbox(engine, connector=NOTIFY, ordered=False).claim(seconds(1))
        assert notification_of(pending.event.payload).to == ("anna@nordwerk.example",)
        with writer(engine).begin() as connection:
            config.attributes["connection"] = connection
            command.downgrade(config, "0012")
            back = connection.execute(text(
                "SELECT channel, sent_at IS NOT NULL, failed_at IS NOT NULL FROM crm_outbox"
                " ORDER BY id")).all()  # fmt: skip
        assert [tuple(row) for row in back] == [
            ("email", 0, 0), ("slack", 1, 0), ("email", 0, 1)]  # fmt: skip
    finally:
        engine.dispose()
