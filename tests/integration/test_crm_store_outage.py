"""The CRM store while its PostgreSQL server is away: a restart of a few seconds is
waited out (the call succeeds once the server is back), a longer outage is
`CrmUnavailable`, and a wrong query or an unmigrated database stays a plain CrmError
at once. On a private PostgreSQL server of the test's own, really stopped."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator

import pytest

from crm_adapter.port import CrmError, CrmUnavailable, Visit
from crm_adapter.store import LocalCrm
from crm_adapter.store import local as local_store
from lotse.database import make_engine
from lotse.migrate import migrate
from tests.support.private_services import PrivatePostgres


@pytest.fixture(scope="module")
def pg() -> Iterator[PrivatePostgres]:
    reason = PrivatePostgres.available()
    if reason:
        pytest.skip(f"the outage tests need a private PostgreSQL server: {reason}")
    with PrivatePostgres() as server:
        yield server


@pytest.fixture
def crm(pg: PrivatePostgres) -> Iterator[LocalCrm]:
    engine = make_engine(f"postgresql+psycopg2://postgres@127.0.0.1:{pg.port}/postgres")
    migrate(engine)
    yield LocalCrm(engine)
    engine.dispose()


def visit(n: int) -> Visit:
    return Visit(channel="web", conversation_id=f"outage-{n}", language="de")


def test_a_restart_of_a_second_is_waited_out(pg: PrivatePostgres, crm: LocalCrm) -> None:
    before = crm.lead_for(visit(1))
    pg.stop()
    back = threading.Timer(1.0, pg.start)
    back.start()
    try:
        started = time.monotonic()
        during = crm.lead_for(visit(2))  # asked while the server is down
        waited = time.monotonic() - started
    finally:
        back.join()
    assert waited >= 0.5  # it really was down when asked
    assert during.lead_id != before.lead_id
    assert crm.lead_for(visit(1)).lead_id == before.lead_id  # the old one is still there


def test_a_longer_outage_is_unavailable_without_personal_data(
    pg: PrivatePostgres, crm: LocalCrm, monkeypatch: pytest.MonkeyPatch
) -> None:
    lead = crm.lead_for(visit(3))
    monkeypatch.setattr(local_store, "UNREACHABLE_SECONDS", 0.6)
    pg.stop()
    try:
        started = time.monotonic()
        with pytest.raises(CrmUnavailable) as raised:
            crm.identify(lead.lead_id, "erika.outage@kunde.example", freemail=False)
        waited = time.monotonic() - started
    finally:
        pg.start()
    assert 0.3 <= waited < 3
    assert "cannot be reached" in str(raised.value) and "erika" not in str(raised.value)
    assert crm.lead(lead.lead_id).email is None  # nothing half-written


def test_an_unmigrated_database_is_no_outage(pg: PrivatePostgres) -> None:
    """Missing tables are answered at once with a CrmError, never waited on."""
    import psycopg2

    admin = psycopg2.connect(host="127.0.0.1", port=pg.port, user="postgres", dbname="postgres")
    admin.autocommit = True
    with admin.cursor() as cursor:
        cursor.execute("DROP DATABASE IF EXISTS empty_crm")
        cursor.execute("CREATE DATABASE empty_crm")
    admin.close()
    engine = make_engine(f"postgresql+psycopg2://postgres@127.0.0.1:{pg.port}/empty_crm")
    try:
        started = time.monotonic()
        with pytest.raises(CrmError) as raised:
            LocalCrm(engine).lead_for(visit(4))
        assert time.monotonic() - started < 1
        assert not isinstance(raised.value, CrmUnavailable)
    finally:
        engine.dispose()
