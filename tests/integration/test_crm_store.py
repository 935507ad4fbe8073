"""The local CRM store (`crm_adapter.store`) on SQLite and on PostgreSQL.

Every test runs on both backends. PostgreSQL tests use a database of their own,
created on the server at LOTSE_TEST_POSTGRES_URL (default: the local `test` database's
server) and dropped afterwards; they are skipped, naming the URL, if it is unreachable.
"""

from __future__ import annotations

import os
import secrets
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import replace
from datetime import datetime, timedelta, timezone
from functools import partial
from pathlib import Path
from typing import Any

import pytest
from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import create_engine, event, inspect, select, text
from sqlalchemy.engine import Engine, make_url
from sqlalchemy.exc import OperationalError
from sqlalchemy.orm import Session

from conversations.address_book import metadata as channel_tables
from conversations.channel_inbox import metadata as inbox_tables
from conversations.erased import metadata as erased_tables
from crm_adapter.port import (
    ANSWERED,
    BOT,
    DECLINED,
    HUMAN,
    UNKNOWN,
    Answer,
    Consent,
    ConsentRequired,
    CrmError,
    Feedback,
    Meeting,
    Notification,
    SalesTask,
    ScoringEvent,
    SlotTaken,
    StageRecord,
    UnknownLead,
    Visit,
)
from crm_adapter.scoring import InterestEvent
from crm_adapter.store import LocalCrm
from crm_adapter.store.models import Base, Company, Contact, SalesTaskRow
from handoff.auth import metadata as staff_tables
from handoff.store import metadata as handoff_tables
from insights.event_log import metadata as event_log_tables
from knowledge.index import SEARCH_TABLE
from knowledge.index import metadata as knowledge_tables
from lotse.database import make_engine, writer
from lotse.migrate import alembic_config, migrate
from lotse.shared_tables import metadata as insights_tables
from tests.support.concurrency import run_together
from tests.support.notifications import queued

ADMIN_URL = os.environ.get("LOTSE_TEST_POSTGRES_URL", "postgresql://postgres@127.0.0.1:5432/test")
T0 = datetime(2025, 3, 3, 9, 0, tzinfo=timezone.utc)
CONSENT = Consent("sales_contact", "v1", "I agree that Nordwerk contacts me.", "en", "web", T0)
DEADLINE = 60.0


def at(minutes: int) -> datetime:
    return T0 + timedelta(minutes=minutes)


# The key under which the bot's readings (dialogue/qualification/interpret.py) hold a value.
KEYS = {
    "name": "full",
    "phone": "number",
    "employees": "count",
    "timeline": "months",
    "location": "country",
}


def answer(attribute: str, value: Any, minutes: int, source: str = BOT) -> Answer:
    status = ANSWERED if value is not None else UNKNOWN
    payload = None if value is None else {KEYS.get(attribute, "key"): value}
    return Answer(attribute, payload, status, at(minutes), source, "c1")


@contextmanager
def postgres_database() -> Iterator[str]:
    """The URL of a new, empty database on the server, dropped on exit."""
    admin = create_engine(
        ADMIN_URL, future=True, isolation_level="AUTOCOMMIT", connect_args={"connect_timeout": 5}
    )
    name = f"lotse_test_{secrets.token_hex(6)}"
    try:
        with admin.connect() as connection:
            connection.exec_driver_sql(f'CREATE DATABASE "{name}"')
    except OperationalError as err:
        admin.dispose()
        pytest.skip(
            f"PostgreSQL not reachable at {ADMIN_URL} ({type(err.orig).__name__}); "
            "point LOTSE_TEST_POSTGRES_URL at a server where CREATE DATABASE is allowed"
        )
    try:
        yield make_url(ADMIN_URL).set(database=name).render_as_string(hide_password=False)
    finally:
        with admin.connect() as connection:
            connection.exec_driver_sql(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        admin.dispose()


@pytest.fixture(scope="session")
def postgres_url() -> Iterator[str]:
    with postgres_database() as url:
        migrate(url)
        yield url


@pytest.fixture(params=["sqlite", "postgresql"])
def crm_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    if request.param == "sqlite":
        url = f"sqlite:///{tmp_path / 'crm.db'}"
        migrate(url)
        return url
    url: str = request.getfixturevalue("postgres_url")
    engine = make_engine(url)
    tables = ", ".join(table.name for table in Base.metadata.sorted_tables)
    with engine.begin() as connection:
        connection.exec_driver_sql(f"TRUNCATE {tables} RESTART IDENTITY CASCADE")
    engine.dispose()
    return url


@pytest.fixture(params=["sqlite", "postgresql"])
def empty_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    """A database without any CRM table."""
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'empty.db'}"
    else:
        with postgres_database() as url:
            yield url


@pytest.fixture
def engine(crm_url: str) -> Iterator[Engine]:
    engine = make_engine(crm_url)
    yield engine
    engine.dispose()


@pytest.fixture
def crm(engine: Engine) -> LocalCrm:
    return LocalCrm(engine)


def consenting(crm: LocalCrm, conversation: str, visitor: str | None = None) -> int:
    lead_id = crm.lead_for(Visit(conversation, "web", visitor)).lead_id
    crm.record_consent(lead_id, CONSENT)
    return lead_id


def test_each_new_conversation_is_an_anonymous_lead(crm: LocalCrm) -> None:
    first = crm.lead_for(Visit("c1", "web"))
    assert (first.email, first.stage, first.conversation_ids) == (None, None, ["c1"])
    assert crm.lead_for(Visit("c1", "web")).lead_id == first.lead_id
    assert crm.lead_for(Visit("c2", "web")).lead_id != first.lead_id
    assert crm.leads() == []


def test_a_returning_visitor_is_the_same_lead(crm: LocalCrm) -> None:
    first = crm.lead_for(Visit("c1", "web", "v1"))
    again = crm.lead_for(Visit("c2", "web", "v1", language="en"))
    assert again.lead_id == first.lead_id
    assert (again.conversation_ids, again.visitor_ids) == (["c1", "c2"], ["v1"])


def test_a_new_answer_supersedes_the_old_one_which_stays_in_history(crm: LocalCrm) -> None:
    lead_id = crm.lead_for(Visit("c1", "web")).lead_id
    crm.save_answer(lead_id, answer("industry", "retail", 1))
    crm.save_answer(lead_id, answer("employees", 60, 2))
    crm.save_answer(lead_id, answer("industry", "metalworking", 3))
    lead = crm.lead(lead_id)
    assert lead.answers["industry"].value == {"key": "metalworking"}
    assert lead.answers["employees"].value == {"count": 60}
    assert [a.value for a in lead.answer_history if a.attribute == "industry"] == [
        {"key": "retail"},
        {"key": "metalworking"},
    ]
    assert [a.at for a in lead.answer_history] == [at(1), at(2), at(3)]


def test_a_human_answer_wins_over_a_later_bot_answer(crm: LocalCrm) -> None:
    lead_id = crm.lead_for(Visit("c1", "web")).lead_id
    crm.save_answer(lead_id, answer("industry", "retail", 1))
    crm.save_answer(lead_id, answer("industry", "automotive", 2, source=HUMAN))
    crm.save_answer(lead_id, answer("industry", "food", 3))
    lead = crm.lead(lead_id)
    assert (lead.answers["industry"].value, lead.answers["industry"].source) == (
        {"key": "automotive"},
        HUMAN,
    )
    assert len(lead.answer_history) == 3
    crm.save_answer(lead_id, answer("industry", "metalworking", 4, source=HUMAN))
    assert crm.lead(lead_id).answers["industry"].value == {"key": "metalworking"}


def test_declined_and_unknown_answers_keep_their_status(crm: LocalCrm) -> None:
    lead_id = crm.lead_for(Visit("c1", "web")).lead_id
    crm.save_answer(lead_id, Answer("budget", None, DECLINED, at(1)))
    crm.save_answer(lead_id, answer("timeline", None, 2))
    crm.save_answer(lead_id, Answer("name", None, DECLINED, at(3)))  # no data: no consent
    answers = crm.lead(lead_id).answers
    assert {key: a.status for key, a in answers.items()} == {
        "budget": DECLINED,
        "timeline": UNKNOWN,
        "name": DECLINED,
    }
    with pytest.raises(ValueError):
        crm.save_answer(lead_id, Answer("budget", {"value": 5}, DECLINED, at(4)))


def test_personal_data_and_identify_need_a_consent(crm: LocalCrm) -> None:
    lead_id = crm.lead_for(Visit("c1", "web")).lead_id
    with pytest.raises(ConsentRequired):
        crm.save_answer(lead_id, answer("name", "Erika Muster", 1))
    with pytest.raises(ConsentRequired):
        crm.identify(lead_id, "erika@kunde.example", freemail=False)
    crm.record_consent(lead_id, CONSENT)
    crm.save_answer(lead_id, answer("name", "Erika Muster", 2))
    crm.save_answer(lead_id, answer("phone", "+49 521 1234", 3))
    assert crm.identify(lead_id, " Erika@Kunde.example ", freemail=False) == lead_id
    lead = crm.lead(lead_id)
    assert (lead.email, lead.name, lead.phone) == (
        "Erika@Kunde.example",
        "Erika Muster",
        "+49 521 1234",
    )
    assert lead.consent == CONSENT
    assert [found.lead_id for found in crm.leads()] == [lead_id]


def test_identify_merges_leads_with_the_same_email_whatever_its_case(crm: LocalCrm) -> None:
    first = consenting(crm, "c1", "v1")
    crm.save_answer(first, answer("industry", "retail", 1))
    crm.save_answer(first, answer("location", "DE", 2, source=HUMAN))
    crm.add_interest_event(first, InterestEvent("asked_price", at(2), "c1"))
    assert crm.identify(first, "anna@kunde.example", freemail=False) == first
    second = consenting(crm, "c2", "v2")
    crm.save_answer(second, answer("industry", "metalworking", 5))
    crm.save_answer(second, answer("location", "AT", 6))  # a bot answer: the human one stays
    crm.save_answer(second, answer("timeline", 3, 7))
    crm.add_interest_event(second, InterestEvent("asked_demo", at(7), "c2"))
    assert crm.identify(second, "ANNA@Kunde.Example", freemail=False) == first
    lead = crm.lead(first)
    assert {key: a.value for key, a in lead.answers.items()} == {
        "industry": {"key": "metalworking"},
        "location": {"country": "DE"},
        "timeline": {"months": 3},
    }
    assert len(lead.answer_history) == 5
    assert [e.kind for e in lead.interest_events] == ["asked_price", "asked_demo"]
    assert (lead.conversation_ids, lead.visitor_ids) == (["c1", "c2"], ["v1", "v2"])
    assert len(lead.consents) == 2
    assert [found.lead_id for found in crm.leads()] == [first]
    assert crm.find_by_email("anna@KUNDE.example").lead_id == first
    assert crm.lead(second).lead_id == first  # a merged id stands for the survivor
    assert crm.lead_for(Visit("c2", "web")).lead_id == first


def test_a_merge_keeps_the_human_answer_whichever_lead_had_it(crm: LocalCrm) -> None:
    first = consenting(crm, "c1")
    crm.save_answer(first, answer("industry", "food", 5))
    crm.identify(first, "jonas@kunde.example", freemail=False)
    second = consenting(crm, "c2")
    crm.save_answer(second, answer("industry", "automotive", 1, source=HUMAN))
    crm.identify(second, "jonas@kunde.example", freemail=False)
    lead = crm.lead(first)
    assert (lead.answers["industry"].value, lead.answers["industry"].source) == (
        {"key": "automotive"},
        HUMAN,
    )
    assert [a.at for a in lead.answer_history] == [at(1), at(5)]


def test_withdrawing_consent_erases_personal_data_only(crm: LocalCrm, engine: Engine) -> None:
    lead_id = consenting(crm, "c1")
    crm.save_answer(lead_id, answer("name", "Erika Muster", 1))
    crm.save_answer(lead_id, answer("name", "Erika Mustermann", 2))
    crm.save_answer(lead_id, answer("industry", "metalworking", 3))
    crm.add_interest_event(lead_id, InterestEvent("asked_price", at(3), "c1"))
    crm.identify(lead_id, "erika@kunde.example", freemail=False)
    crm.withdraw_consent(lead_id, at(10))
    lead = crm.lead(lead_id)
    assert (lead.email, lead.name, lead.phone, lead.consent) == (None, None, None, None)
    assert lead.consents[0].withdrawn_at == at(10)
    assert [a.attribute for a in lead.answer_history] == ["industry"]
    assert [e.kind for e in lead.interest_events] == ["asked_price"]
    assert crm.find_by_email("erika@kunde.example") is None
    assert crm.leads() == []
    with engine.connect() as connection:
        contacts = connection.execute(text("SELECT * FROM crm_contacts")).all()
        answers = connection.execute(text("SELECT * FROM crm_answers")).all()
    assert "erika" not in f"{contacts} {answers}".lower()
    with pytest.raises(ConsentRequired):
        crm.save_answer(lead_id, answer("phone", "+49 521 1234", 11))


def test_stage_changes_feedback_and_the_stage_filter(crm: LocalCrm) -> None:
    ids = [consenting(crm, f"c{n}") for n in range(3)]
    for n, lead_id in enumerate(ids):
        crm.identify(lead_id, f"buyer{n}@kunde.example", freemail=False)
        crm.change_stage(lead_id, StageRecord(None, "lead", "business email", at(n)))
    crm.change_stage(ids[1], StageRecord("lead", "marketing_qualified_lead", "fit 75", at(5)))
    crm.record_feedback(ids[1], Feedback("reject", "no budget", 75, 30, "anna", at(6)))
    assert (crm.lead(ids[1]).rejected, crm.lead(ids[1]).accepted) == (True, False)
    crm.record_feedback(ids[1], Feedback("accept", "called back", 75, 30, "anna", at(7)))
    lead = crm.lead(ids[1])
    assert (lead.stage, lead.rejected, lead.accepted) == ("marketing_qualified_lead", False, True)
    assert [(s.old, s.new) for s in lead.stages] == [
        (None, "lead"),
        ("lead", "marketing_qualified_lead"),
    ]
    assert [f.decision for f in lead.feedback] == ["reject", "accept"]
    assert [found.lead_id for found in crm.leads("lead")] == [ids[0], ids[2]]
    assert [found.lead_id for found in crm.leads("marketing_qualified_lead")] == [ids[1]]
    assert len(crm.leads()) == 3
    with pytest.raises(ValueError):
        crm.change_stage(ids[0], StageRecord("lead", "vip", "typo", at(8)))


def test_records_round_trip_with_aware_utc_timestamps(crm: LocalCrm) -> None:
    berlin = timezone(timedelta(hours=2))
    lead_id = crm.lead_for(Visit("c1", "web")).lead_id
    crm.save_answer(
        lead_id, Answer("industry", {"key": "food"}, ANSWERED, at(1).astimezone(berlin))
    )
    crm.add_scoring_events(lead_id, [ScoringEvent("fit", "industry food: 10", 10.0, 10, at(1))])
    crm.add_task(lead_id, SalesTask("callback", "call back tomorrow", at(60), at(2)))
    lead = crm.lead(lead_id)
    assert lead.answers["industry"].at == at(1)
    assert lead.scoring_events == [ScoringEvent("fit", "industry food: 10", 10.0, 10, at(1))]
    assert lead.tasks == [SalesTask("callback", "call back tomorrow", at(60), at(2), "open")]
    stamps = [lead.created_at, lead.answers["industry"].at, lead.tasks[0].due_at]
    assert all(stamp.tzinfo == timezone.utc for stamp in stamps)
    with pytest.raises(ValueError):
        crm.add_task(lead_id, SalesTask("callback", "naive", None, datetime(2025, 3, 3)))


def test_firmographic_answers_fill_the_company_view(crm: LocalCrm, engine: Engine) -> None:
    lead_id = crm.lead_for(Visit("c1", "web")).lead_id
    readings = {
        "company": {"name": "Muster Stanztechnik", "legal_form": "GmbH"},
        "employees": {"count": 60, "low": 60, "high": 60, "band": "50-70"},
        "industry": {"key": "metalworking", "nace_section": "C", "nace_division": "25"},
        "location": {"country": "DE", "postal_code": "33602"},
    }
    for minute, (attribute, value) in enumerate(readings.items()):
        crm.save_answer(lead_id, Answer(attribute, value, ANSWERED, at(minute)))
    query = select(Company).join(Contact, Contact.company_id == Company.id)
    with engine.connect() as connection:
        company = connection.execute(query.where(Contact.id == lead_id)).one()
    assert tuple(company)[1:-1] == (
        "Muster Stanztechnik",
        "GmbH",
        60,
        "metalworking",
        "25",
        "DE",
        "33602",
    )


def test_unknown_leads(crm: LocalCrm) -> None:
    with pytest.raises(UnknownLead):
        crm.lead(999)
    with pytest.raises(UnknownLead):
        crm.save_answer(999, answer("industry", "food", 1))


def test_database_errors_are_crm_errors_naming_no_personal_data(empty_url: str) -> None:
    unmigrated = make_engine(empty_url)
    try:
        with pytest.raises(CrmError) as raised:
            LocalCrm(unmigrated).identify(1, "erika@kunde.example", freemail=False)
    finally:
        unmigrated.dispose()
    assert "identifying a lead" in str(raised.value) and "erika" not in str(raised.value)


def _meet_before_writing_the_email(engine: Engine, parties: int) -> threading.Barrier:
    """Makes every thread wait, just before storing the email, until all have checked
    that nobody holds it yet: the race the unique index has to settle."""
    barrier = threading.Barrier(parties, timeout=DEADLINE / 2)
    waited = threading.local()

    def before(conn: Any, cursor: Any, statement: str, *args: Any) -> None:
        if statement.startswith("UPDATE crm_contacts SET email=") and not hasattr(waited, "x"):
            waited.x = True
            barrier.wait()

    event.listen(engine, "before_cursor_execute", before)
    return barrier


def test_concurrent_identify_of_one_email_leaves_one_holder(crm: LocalCrm, engine: Engine) -> None:
    parties = 3
    ids = [consenting(crm, f"race{n}") for n in range(parties)]
    if engine.dialect.name == "postgresql":  # SQLite writers queue: no race to force
        _meet_before_writing_the_email(engine, parties)
    spellings = ["race@kunde.example", "Race@Kunde.example", "RACE@KUNDE.EXAMPLE"]
    pairs = zip(ids, spellings, strict=True)
    results = run_together([partial(crm.identify, i, email, freemail=False) for i, email in pairs])
    holders = [lead for lead in crm.leads() if lead.email.lower() == "race@kunde.example"]
    assert len(holders) == 1 and set(results) == {holders[0].lead_id}
    assert sorted(holders[0].conversation_ids) == ["race0", "race1", "race2"]


def test_migrate_is_idempotent_and_matches_the_models(empty_url: str) -> None:
    migrate(empty_url)
    engine = make_engine(empty_url)
    migrate(engine)
    try:
        with engine.connect() as connection:
            versions = connection.execute(text("SELECT version_num FROM crm_alembic_version"))
            assert versions.scalars().all() == ["0017"]
            # The documents' search structure is each engine's own (FTS5's virtual table
            # and its shadow tables, or a tsvector table): not a model's table.
            names = {name for name in inspect(connection).get_table_names()
                     if not name.startswith(SEARCH_TABLE)}  # fmt: skip
            assert SEARCH_TABLE in inspect(connection).get_table_names()
            assert names == {
                *Base.metadata.tables,
                *handoff_tables.tables,
                *staff_tables.tables,
                *channel_tables.tables,
                *inbox_tables.tables,
                *event_log_tables.tables,
                *erased_tables.tables,
                *insights_tables.tables,
                *knowledge_tables.tables,
                "crm_alembic_version",
            }
            for models in (Base.metadata, handoff_tables, staff_tables, channel_tables,
                           inbox_tables, event_log_tables, erased_tables, insights_tables,
                           knowledge_tables):  # fmt: skip
                own = set(models.tables)
                context = MigrationContext.configure(connection, opts={
                    "version_table": "crm_alembic_version", "compare_type": True,
                    "include_name": lambda name, kind, _parent, own=own: (
                        kind != "table" or name in own
                    ),
                })  # fmt: skip
                assert compare_metadata(context, models) == []
    finally:
        engine.dispose()


def test_sqlite_runs_in_wal_mode_with_foreign_keys(tmp_path: Path) -> None:
    engine = make_engine(f"sqlite:///{tmp_path / 'new' / 'crm.db'}")
    try:
        with engine.connect() as connection:
            assert connection.exec_driver_sql("PRAGMA journal_mode").scalar() == "wal"
            assert connection.exec_driver_sql("PRAGMA foreign_keys").scalar() == 1
    finally:
        engine.dispose()


# Tasks, meetings and their notifications (the outbox)

ICS = "BEGIN:VCALENDAR\r\nVERSION:2.0\r\nEND:VCALENDAR\r\n"


def notifications(address: str = "anna@nordwerk.example") -> list[Notification]:
    return [
        Notification("email", "Callback request", "Phone: +49 521 1234", (address,), ICS),
        Notification("slack", "New callback request for Anna", ""),
    ]


def outbox(engine: Engine) -> list[tuple[str, list[str], str, int]]:
    return [(n.channel, n.recipients, n.body, n.contact_id) for n in queued(engine)]


def meeting(staff_id: str, start: int, end: int) -> Meeting:
    return Meeting(staff_id, at(start), at(end), "Meeting with Nordwerk (Anna)", at(0))


def test_a_task_keeps_its_assignee_and_its_notifications(crm: LocalCrm, engine: Engine) -> None:
    lead_id = consenting(crm, "c1")
    task = SalesTask("callback", "after 3 pm", at(60), at(2), assignee="anna")
    crm.add_task(lead_id, task, notifications())
    crm.add_task(lead_id, SalesTask("follow_up", "send the offer", None, at(3)))
    assert crm.lead(lead_id).tasks == [
        SalesTask("callback", "after 3 pm", at(60), at(2), "open", "anna"),
        SalesTask("follow_up", "send the offer", None, at(3), "open", None),
    ]
    assert outbox(engine) == [
        ("email", ["anna@nordwerk.example"], "Phone: +49 521 1234", lead_id),
        ("slack", [], "", lead_id),
    ]


def test_a_task_and_its_notifications_are_stored_together_or_not_at_all(
    crm: LocalCrm, engine: Engine
) -> None:
    lead_id = consenting(crm, "c1")
    task = SalesTask("callback", "after 3 pm", at(60), at(2), assignee="anna")
    with pytest.raises(UnknownLead):
        crm.add_task(999, task, notifications())
    bad = [
        [Notification("fax", "Callback", "")],
        [Notification("email", "Callback", "no recipient")],
        [Notification("slack", "Callback", "", ("anna@nordwerk.example",))],
    ]
    for notify in bad:  # refused before any SQL
        with pytest.raises(ValueError):
            crm.add_task(lead_id, task, notify)
    with pytest.raises(ValueError):
        crm.add_task(lead_id, replace(task, assignee="x" * 65), notifications())

    def fail(conn: Any, cursor: Any, statement: str, *args: Any) -> None:
        if statement.startswith("INSERT INTO crm_events"):
            raise OperationalError(statement, {}, RuntimeError("disk full"))

    event.listen(engine, "before_cursor_execute", fail)
    with pytest.raises(CrmError, match="adding a task"):
        crm.add_task(lead_id, task, notifications())
    event.remove(engine, "before_cursor_execute", fail)
    with engine.connect() as connection:
        assert connection.execute(select(SalesTaskRow.id)).all() == []
    assert crm.lead(lead_id).tasks == [] and outbox(engine) == []


def test_meetings_of_a_person_never_overlap_but_may_meet_end_to_start(
    crm: LocalCrm, engine: Engine
) -> None:
    lead_id = consenting(crm, "c1")
    berlin = timezone(timedelta(hours=1))
    wanted = replace(meeting("anna", 60, 90), start=at(60).astimezone(berlin))
    booked = crm.book_meeting(lead_id, wanted, notifications())
    assert booked.meeting_id is not None
    assert booked == replace(meeting("anna", 60, 90), meeting_id=booked.meeting_id, lead_id=lead_id)
    for start, end in [(60, 90), (45, 75), (75, 105), (30, 120), (70, 80)]:
        with pytest.raises(SlotTaken):
            crm.book_meeting(lead_id, meeting("anna", start, end), notifications("x@y.example"))
    crm.book_meeting(lead_id, meeting("anna", 90, 120))  # back to back, both sides
    crm.book_meeting(lead_id, meeting("anna", 30, 60))
    crm.book_meeting(lead_id, meeting("ben", 60, 90))  # someone else's calendar
    spans = [(m.start, m.end) for m in crm.meetings("anna", at(0), at(600))]
    assert spans == [(at(30), at(60)), (at(60), at(90)), (at(90), at(120))]
    assert [m.start for m in crm.meetings("anna", at(90), at(91))] == [at(90)]  # [start, end)
    assert crm.meetings("anna", at(0), at(30)) == [] == crm.meetings("anna", at(120), at(200))
    lead = crm.lead(lead_id)
    assert [(m.staff_id, m.start) for m in lead.meetings] == [
        ("anna", at(30)),
        ("anna", at(60)),
        ("ben", at(60)),
        ("anna", at(90)),
    ]
    assert all(m.start.tzinfo == timezone.utc and m.lead_id == lead_id for m in lead.meetings)
    # Only the first booking's notifications: a refused booking leaves none.
    assert [row[0] for row in outbox(engine)] == ["email", "slack"]
    for wrong in (
        meeting("anna", 200, 200),
        meeting("anna", 220, 210),
        replace(meeting("anna", 300, 330), status="cancelled"),
        replace(meeting("anna", 300, 330), start=datetime(2025, 3, 3, 14)),
        replace(meeting("anna", 300, 330), title="x" * 201),
    ):
        with pytest.raises(ValueError):
            crm.book_meeting(lead_id, wrong)
    with pytest.raises(UnknownLead):
        crm.book_meeting(999, meeting("anna", 300, 330), notifications())
    assert len(outbox(engine)) == 2


def test_meetings_and_notifications_move_when_leads_merge(crm: LocalCrm, engine: Engine) -> None:
    first = consenting(crm, "c1")
    crm.identify(first, "jonas@kunde.example", freemail=False)
    second = consenting(crm, "c2")
    crm.book_meeting(second, meeting("anna", 60, 90), notifications())
    assert crm.identify(second, "jonas@kunde.example", freemail=False) == first
    assert [(m.start, m.lead_id) for m in crm.lead(first).meetings] == [(at(60), first)]
    assert [row[3] for row in outbox(engine)] == [first, first]
    assert crm.meetings("anna", at(0), at(600))[0].lead_id == first


def test_withdrawing_consent_deletes_the_leads_notifications(crm: LocalCrm, engine: Engine) -> None:
    lead_id = consenting(crm, "c1")
    other = consenting(crm, "c2")
    crm.book_meeting(lead_id, meeting("anna", 60, 90), notifications("erika@kunde.example"))
    crm.add_task(other, SalesTask("callback", "", None, at(1)), notifications())
    crm.withdraw_consent(lead_id, at(10))
    assert [row[3] for row in outbox(engine)] == [other, other]
    assert [m.start for m in crm.lead(lead_id).meetings] == [at(60)]  # no personal data


def _meet_before_locking_the_calendar(engine: Engine, parties: int) -> threading.Barrier:
    """Makes every thread wait, before it takes the lock on the person's calendar, until
    all have got that far: each would find the time free if nothing made them queue."""
    barrier = threading.Barrier(parties, timeout=DEADLINE / 2)
    waited = threading.local()

    def before(conn: Any, cursor: Any, statement: str, *args: Any) -> None:
        if statement.startswith("SELECT pg_advisory_xact_lock") and not hasattr(waited, "x"):
            waited.x = True
            barrier.wait()

    event.listen(engine, "before_cursor_execute", before)
    return barrier


def test_concurrent_bookings_of_one_time_have_exactly_one_winner(
    crm: LocalCrm, engine: Engine
) -> None:
    parties = 4
    ids = [consenting(crm, f"race{n}") for n in range(parties)]
    if engine.dialect.name == "postgresql":  # SQLite writers queue: no race to force
        _meet_before_locking_the_calendar(engine, parties)
    booked: list[Meeting] = []
    taken: list[int] = []

    def book(n: int) -> None:
        try:  # 60-90, 65-95, 70-100, 75-105: every two overlap
            wanted = meeting("anna", 60 + 5 * n, 90 + 5 * n)
            booked.append(crm.book_meeting(ids[n], wanted, notifications()))
        except SlotTaken:
            taken.append(n)

    run_together([partial(book, n) for n in range(parties)])
    assert len(booked) == 1 and len(taken) == parties - 1
    assert crm.meetings("anna", at(0), at(600)) == booked
    assert [row[3] for row in outbox(engine)] == [booked[0].lead_id] * 2


def test_migrating_from_0001_keeps_existing_tasks(empty_url: str) -> None:
    engine = make_engine(empty_url)
    config = alembic_config(empty_url)
    try:
        with writer(engine).begin() as connection:
            config.attributes["connection"] = connection
            command.upgrade(config, "0001")
            connection.execute(
                text(
                    "INSERT INTO crm_contacts (id, freemail, accepted, rejected, created_at,"
                    " updated_at) VALUES (1, false, false, false, :t, :t)"
                ),
                {"t": T0},
            )
            connection.execute(
                text(
                    "INSERT INTO crm_sales_tasks (contact_id, kind, note, status, created_at)"
                    " VALUES (1, 'callback', 'old', 'open', :t)"
                ),
                {"t": T0},
            )
        migrate(engine)
        assert LocalCrm(engine).lead(1).tasks == [SalesTask("callback", "old", None, T0)]
        with writer(engine).begin() as connection:
            config.attributes["connection"] = connection
            command.downgrade(config, "0001")
        with Session(engine) as s:
            assert "crm_outbox" not in inspect(s.connection()).get_table_names()
        migrate(engine)
    finally:
        engine.dispose()


def test_stages_of_many_leads_in_one_read(crm: LocalCrm) -> None:
    first = crm.lead_for(Visit("web-stage-1", "web")).lead_id
    second = crm.lead_for(Visit("web-stage-2", "web")).lead_id
    crm.change_stage(second, StageRecord(None, "lead", "business email", at(1)))
    assert crm.stages([first, second, 99999]) == {first: None, second: "lead"}
    assert crm.stages([]) == {}


def test_finding_a_lead_creates_nothing(crm: LocalCrm) -> None:
    assert crm.find_lead(Visit("web-nobody", "web")) is None
    assert crm.find_lead(Visit("web-nobody", "web")) is None
    known = crm.lead_for(Visit("web-known", "web", "visitor-7")).lead_id
    assert crm.find_lead(Visit("web-known", "web")).lead_id == known
    assert crm.find_lead(Visit("web-later", "web", "visitor-7")).lead_id == known  # returning
    assert crm.find_lead(Visit("web-later", "web")) is None  # that visit was not recorded
