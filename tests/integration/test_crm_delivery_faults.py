"""Delivery under faults, against the fake HubSpot (tests/support/fake_hubspot.py) and the real
PostgreSQL: the CRM down for a while and back; the worker process killed with SIGKILL
mid-batch and started again; the database gone from under the worker (its connections
cut and refused for a while, tests/support/tcp_proxy.py) and back. Each time every event must
arrive exactly once (one note per event, one contact per email) and in order per
contact."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from datetime import datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import select
from sqlalchemy.engine import make_url

from crm_adapter.crm_config import load_crm_config
from crm_adapter.store import LocalCrm
from crm_adapter.store.crm_events import EventOutbox
from crm_adapter.store.models import CrmEventRow
from crm_adapter.webhook import WebhookConnector  # noqa: F401 - the worker imports all
from lotse.database import make_engine
from lotse.migrate import migrate
from lotse.settings import ROOT
from ops.deliver_command import workers
from tests.integration.test_crm_publish import known_lead
from tests.integration.test_crm_store import answer, postgres_database
from tests.support.fake_hubspot import FakeHubSpot
from tests.support.tcp_proxy import TcpProxy

TOKEN = "pat-test-token"
DEADLINE = 120.0


def config_file(tmp_path: Path, fake: FakeHubSpot, lease: float = 2.0) -> Path:
    path = tmp_path / "crm.yml"
    path.write_text(
        f"crm:\n  connectors:\n    - type: hubspot\n      base_url: {fake.url}\n"
        f"      token_env: FAKE_HUBSPOT_TOKEN\n      timeout: 5\n"
        f"  delivery: {{threads: 4, batch: 20, lease_seconds: {lease}, poll_seconds: 0.1}}\n",
        encoding="utf-8",
    )
    return path


@pytest.fixture
def database() -> Iterator[str]:
    with postgres_database() as url:
        migrate(url)
        yield url


def fill(url: str, contacts: int, answers: int) -> LocalCrm:
    """`contacts` identified leads with `answers` further answers each (1 + answers events)."""
    crm = LocalCrm(make_engine(url), connectors=("hubspot",))
    for n in range(contacts):
        lead_id = known_lead(crm, f"kontakt{n}@kunde.example", f"conversation-{n}")
        for i in range(answers):
            crm.save_answer(lead_id, answer("timeline", i + 1, 10 + i))
    return crm


def expected_markers(crm: LocalCrm) -> dict[str, list[str]]:
    """Per email, the markers of its events in the order they were queued."""
    with crm._engine.connect() as c:  # noqa: SLF001 - the test reads the table it checks
        rows = c.execute(select(CrmEventRow.__table__).order_by(CrmEventRow.id)).all()
    by_lead: dict[int, list[str]] = {}
    for row in rows:
        by_lead.setdefault(row.contact_id, []).append(f"lotse-event-{row.event_id}")
    return {crm.lead(lead).email or "": markers for lead, markers in by_lead.items()}


def assert_exactly_once_in_order(fake: FakeHubSpot, expected: dict[str, list[str]]) -> None:
    for email, markers in expected.items():
        contact_ids = [i for i, c in fake.objects["contacts"].items()
                       if c["properties"].get("email") == email]  # fmt: skip
        assert len(contact_ids) == 1, email
        notes = fake.linked("notes", contact_ids[0])
        found = [m for note in notes for m in markers if m in note["properties"]["hs_note_body"]]
        assert found == markers, f"{email}: notes missing, doubled or out of order"


def wait_until(check: Callable[[], bool], what: str, deadline: float = DEADLINE) -> None:
    end = time.monotonic() + deadline
    while not check():
        if time.monotonic() > end:
            raise AssertionError(f"not within {deadline:.0f}s: {what}")
        time.sleep(0.1)


def test_a_crm_that_is_down_for_a_while_gets_everything_once_in_order_when_back(
    database: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
):
    crm = fill(database, contacts=4, answers=3)
    clock = [datetime.now().astimezone()]
    with FakeHubSpot(TOKEN) as fake:
        monkeypatch.setenv("FAKE_HUBSPOT_TOKEN", TOKEN)
        monkeypatch.setenv("LOTSE_CRM_CONFIG", str(config_file(tmp_path, fake)))
        config = load_crm_config()
        from crm_adapter.crm_config import build_connectors

        (worker,) = workers(config, build_connectors(config), database)
        worker.clock = lambda: clock[0]
        outage = fake.fail(503, times=10**6, headers={"Retry-After": "30"})
        for _ in range(3):  # three rounds while it is down: nothing lands, nothing is lost
            assert worker.run_once(50) == 0
            clock[0] += timedelta(seconds=31)
        assert fake.objects["contacts"] == {}
        outage.times = 0  # back
        delivered = 0
        while worker.outbox.pending_count():
            delivered += worker.run_once(50)
            clock[0] += timedelta(seconds=31)
        assert delivered == 16
        assert_exactly_once_in_order(fake, expected_markers(crm))


def start_worker(env: dict[str, str]) -> subprocess.Popen:
    return subprocess.Popen(
        [sys.executable, "-m", "ops.deliver_command"], cwd=ROOT, env=env,
        stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True,
    )  # fmt: skip


def worker_env(tmp_path: Path, fake: FakeHubSpot, url: str) -> dict[str, str]:
    return {**os.environ, "FAKE_HUBSPOT_TOKEN": TOKEN, "LOTSE_DATABASE_URL": url,
            "LOTSE_CRM_CONFIG": str(config_file(tmp_path, fake))}  # fmt: skip


def notes(fake: FakeHubSpot) -> int:
    return len(fake.objects["notes"])


def test_a_worker_killed_mid_batch_loses_and_doubles_nothing(database: str, tmp_path: Path):
    crm = fill(database, contacts=12, answers=4)  # 60 events
    outbox = EventOutbox(crm._engine, connector="hubspot")  # noqa: SLF001
    with FakeHubSpot(TOKEN, latency=0.05) as fake:
        env = worker_env(tmp_path, fake, database)
        first = start_worker(env)
        wait_until(lambda: notes(fake) >= 10, "the first worker delivered some")
        first.send_signal(signal.SIGKILL)
        first.wait(timeout=10)
        assert 0 < outbox.pending_count() < 60  # killed mid-way, with leases held
        second = start_worker(env)
        try:
            wait_until(lambda: outbox.pending_count() == 0, "the second worker drained it")
        finally:
            second.send_signal(signal.SIGTERM)
            _, errors = second.communicate(timeout=30)
        assert second.returncode == 0, errors
        assert_exactly_once_in_order(fake, expected_markers(crm))


def test_the_database_going_away_under_the_worker_loses_and_doubles_nothing(
    database: str, tmp_path: Path
):
    crm = fill(database, contacts=12, answers=4)
    outbox = EventOutbox(crm._engine, connector="hubspot")  # noqa: SLF001
    server = make_url(database)
    with (
        TcpProxy(server.host or "127.0.0.1", server.port or 5432) as proxy,
        FakeHubSpot(TOKEN, latency=0.05) as fake,
    ):
        through_proxy = server.set(host="127.0.0.1", port=proxy.port)
        env = worker_env(tmp_path, fake, through_proxy.render_as_string(hide_password=False))
        worker = start_worker(env)
        try:
            wait_until(lambda: notes(fake) >= 10, "the worker delivered some")
            proxy.cut()  # every connection dies; new ones are refused
            time.sleep(3)
            assert worker.poll() is None, "the worker must outlive the database outage"
            proxy.restore()
            wait_until(lambda: outbox.pending_count() == 0, "the worker drained it after")
        finally:
            worker.send_signal(signal.SIGTERM)
            _, errors = worker.communicate(timeout=30)
        assert worker.returncode == 0, errors
        assert "Traceback" not in errors
        assert_exactly_once_in_order(fake, expected_markers(crm))
