"""The notification outbox (`crm_adapter.outbox`) on SQLite and on PostgreSQL.

PostgreSQL tests use a database of their own (see `postgres_database` in
test_crm_store.py) and are skipped, naming the URL, if the server is unreachable.
"""

from __future__ import annotations

import threading
import time
from datetime import datetime, timedelta, timezone
from functools import partial
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import event, select
from sqlalchemy.engine import Engine

from crm_adapter.outbox import Outbox, OutboxItem
from crm_adapter.port import Consent, CrmError, Notification, SalesTask, Visit
from crm_adapter.store import LocalCrm
from crm_adapter.store.models import OutboxRow
from lotse.database import make_engine
from tests.support import crm_engines
from tests.support.concurrency import run_together

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
def outbox(engine: Engine) -> Outbox:
    return Outbox(engine, lease=LEASE)


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


def row(engine: Engine, item_id: int) -> Any:
    with engine.connect() as connection:
        return connection.execute(select(OutboxRow).where(OutboxRow.id == item_id)).one()


def test_due_hands_out_what_was_written_and_leases_it(crm: LocalCrm, outbox: Outbox) -> None:
    queue(crm, email(1), slack(2))
    assert outbox.due(seconds(-1)) == []  # not due before it was written
    assert outbox.due(T0) == [OutboxItem(1, email(1), 0), OutboxItem(2, slack(2), 0)]
    assert outbox.due(T0) == []  # leased
    assert outbox.due(seconds(59)) == []
    again = outbox.due(seconds(60))  # the lease ran out: the dispatcher must have died
    assert [item.id for item in again] == [1, 2]
    assert outbox.pending_count() == 2


def test_due_takes_the_oldest_first_up_to_the_limit(crm: LocalCrm, outbox: Outbox) -> None:
    queue(crm, *[slack(n) for n in range(5)])
    assert [item.id for item in outbox.due(T0, limit=2)] == [1, 2]
    assert [item.id for item in outbox.due(T0, limit=2)] == [3, 4]
    assert [item.id for item in outbox.due(T0, limit=2)] == [5]


def test_sent_retry_and_failed(crm: LocalCrm, outbox: Outbox, engine: Engine) -> None:
    queue(crm, email(1), slack(2), slack(3))
    first, second, third = outbox.due(T0)
    outbox.sent(first.id, seconds(1))
    outbox.retry(second.id, seconds(30), "RetryableNotificationError")
    outbox.failed(third.id, seconds(1), "PermanentNotificationError" * 10)
    assert outbox.pending_count() == 1
    assert (row(engine, first.id).sent_at, row(engine, first.id).locked_until) == (seconds(1), None)
    retried = row(engine, second.id)
    assert (retried.attempts, retried.next_attempt_at, retried.locked_until) == (
        1,
        seconds(30),
        None,
    )
    assert retried.last_error == "RetryableNotificationError"
    failed = row(engine, third.id)
    assert (failed.failed_at, failed.attempts, len(failed.last_error)) == (seconds(1), 1, 200)
    assert outbox.due(seconds(29)) == []
    assert outbox.due(seconds(3600)) == [OutboxItem(second.id, slack(2), 1)]
    outbox.sent(second.id, seconds(3601))
    outbox.retry(second.id, seconds(3700), "late")  # done already: changes nothing
    outbox.sent(999, seconds(1))  # unknown: changes nothing
    assert outbox.pending_count() == 0 and outbox.due(seconds(7200)) == []
    assert row(engine, second.id).attempts == 1


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


def test_two_dispatchers_never_take_the_same_row(
    crm: LocalCrm, outbox: Outbox, engine: Engine
) -> None:
    parties, rows = 4, 20
    queue(crm, *[slack(n) for n in range(rows)])
    if engine.dialect.name == "postgresql":  # SQLite writers queue: no race to force
        _meet_after_taking_rows(engine, parties)
    taken: list[list[int]] = [[] for _ in range(parties)]

    def dispatch(n: int) -> None:
        while batch := outbox.due(T0, limit=3):
            taken[n].extend(item.id for item in batch)

    run_together([partial(dispatch, n) for n in range(parties)])
    every = [item_id for ids in taken for item_id in ids]
    assert sorted(every) == list(range(1, rows + 1))  # each row once, none left
    if engine.dialect.name == "postgresql":
        assert all(taken)  # all four took some: they really ran side by side


def test_database_errors_are_crm_errors(tmp_path: Path) -> None:
    unmigrated = make_engine(f"sqlite:///{tmp_path / 'empty.db'}")
    try:
        with pytest.raises(CrmError, match="taking due notifications"):
            Outbox(unmigrated).due(T0)
        with pytest.raises(CrmError, match="counting"):
            Outbox(unmigrated).pending_count()
    finally:
        unmigrated.dispose()
    with pytest.raises(ValueError):
        Outbox(unmigrated, lease=timedelta(0))
