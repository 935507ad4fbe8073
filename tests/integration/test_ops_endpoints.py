"""Readiness against real stores (PostgreSQL, Redis on this machine, and the same stores
"down": an address where nothing listens), the health server of the processes without
a web server (`lotse.ops_routes.serve_ops`), and the stores' gauges
(`wiring.store_metrics`, `crm_adapter.store.crm_events.backlog`)."""

from __future__ import annotations

import json
import urllib.error
import urllib.request
from collections.abc import Callable, Iterator
from datetime import datetime, timedelta, timezone
from pathlib import Path

import pytest
from sqlalchemy.engine import Engine

from crm_adapter.store.crm_events import EventOutbox, backlog
from handoff.store import NewHandoff
from lotse.database import make_engine
from lotse.ops_routes import serve_ops
from lotse.readiness import Readiness, database_check, redis_check
from tests.support import crm_engines
from tests.support.console_client import free_port
from wiring.services import services_for
from wiring.store_metrics import StoreMetrics

engine, postgres_url = crm_engines.engine, crm_engines.postgres_url  # shared fixtures
T0 = datetime(2026, 12, 7, 9, 0, tzinfo=timezone.utc)
REDIS_URL = "redis://127.0.0.1:6379/0"


def _get(url: str, headers: dict[str, str] | None = None) -> tuple[int, bytes]:
    request = urllib.request.Request(url, headers=headers or {})
    try:
        with urllib.request.urlopen(request, timeout=10) as reply:
            return reply.status, reply.read()
    except urllib.error.HTTPError as error:
        return error.code, error.read()


@pytest.fixture
def served() -> Iterator[Callable[..., str]]:
    servers = []

    def serve(readiness: Readiness, token: str | None = None) -> str:
        port = free_port()
        server = serve_ops("127.0.0.1", port, readiness, token)
        assert server is not None
        servers.append(server)
        return f"http://127.0.0.1:{port}"

    yield serve
    for server in servers:
        server.shutdown()
        server.server_close()


def test_ready_while_postgresql_and_redis_answer(served, postgres_url: str) -> None:
    pg = make_engine(postgres_url)
    try:
        url = served(Readiness({"database": database_check(lambda: pg),
                                "redis": redis_check(REDIS_URL)}))  # fmt: skip
        assert _get(f"{url}/readyz") == (200, b'{"status": "ready"}')
        assert _get(f"{url}/healthz")[0] == 200
    finally:
        pg.dispose()


def test_not_ready_while_a_store_is_down(served) -> None:
    closed = free_port()  # nothing listens there: the store is down
    away = make_engine(f"postgresql+psycopg2://lotse@127.0.0.1:{closed}/lotse")
    try:
        redis_away = redis_check(f"redis://127.0.0.1:{free_port()}/0")
        url = served(Readiness({"database": database_check(lambda: away), "redis": redis_away}))
        status, body = _get(f"{url}/readyz")
        assert status == 503
        assert json.loads(body) == {"status": "not ready", "failing": ["database", "redis"]}
        assert _get(f"{url}/healthz")[0] == 200  # alive all the same
    finally:
        away.dispose()


def test_metrics_from_this_machine_and_with_the_token(served) -> None:
    open_url = served(Readiness())
    status, body = _get(f"{open_url}/metrics")
    assert status == 200 and b"lotse_delivery_failures_total" in body
    guarded = served(Readiness(), token="a-long-metrics-token")
    assert _get(f"{guarded}/metrics")[0] == 403
    authorised = {"Authorization": "Bearer a-long-metrics-token"}
    assert _get(f"{guarded}/metrics", authorised)[0] == 200
    assert _get(f"{guarded}/nothing")[0] == 404


def test_a_taken_port_is_logged_not_fatal(caplog) -> None:
    port = free_port()
    first = serve_ops("127.0.0.1", port, Readiness())
    try:
        assert serve_ops("127.0.0.1", port, Readiness()) is None
        assert f"127.0.0.1:{port}" in caplog.text
    finally:
        assert first is not None
        first.shutdown()
        first.server_close()


def test_the_backlog_per_connector(engine: Engine) -> None:
    crm, mail = EventOutbox(engine, connector="hubspot"), EventOutbox(engine, connector="notify")
    crm.add(1, "contact.created", {"n": 1}, T0)
    crm.add(2, "contact.created", {"n": 2}, T0 + timedelta(minutes=5))
    mail.add(3, "notification", {"n": 3}, T0 + timedelta(minutes=1))
    [given_up] = mail.claim(T0 + timedelta(minutes=2))
    mail.dead(given_up, T0 + timedelta(minutes=2), "PermanentDeliveryError: 400")
    found = {b.connector: b for b in backlog(engine)}
    assert (found["hubspot"].pending, found["hubspot"].oldest, found["hubspot"].dead) == (2, T0, 0)
    assert (found["notify"].pending, found["notify"].oldest, found["notify"].dead) == (0, None, 1)


def test_the_stores_gauges(tmp_path: Path) -> None:
    services = services_for(f"sqlite:///{tmp_path / 'lotse.db'}")
    services.handoffs.request(NewHandoff("web-1", "out_of_depth", "de", "service", "service",
                                         timedelta(minutes=2)))  # fmt: skip
    EventOutbox(services.engine, connector="hubspot").add(1, "contact.created", {}, T0)
    services.inbox.accept("telegram", "1001", "telegram:7", {"text": "Hallo"})
    services.addresses.claim(41, "telegram:7")
    services.addresses.failed(41, "refused: telegram answered 403")
    collector = StoreMetrics(lambda: services, clock=lambda: T0 + timedelta(minutes=3))
    samples = {(s.name, tuple(s.labels.values())): s.value
               for family in collector.collect() for s in family.samples}  # fmt: skip
    assert samples[("lotse_handoffs_waiting", ())] == 1
    assert samples[("lotse_outbox_pending", ("hubspot",))] == 1
    assert samples[("lotse_outbox_oldest_seconds", ("hubspot",))] == 180
    assert samples[("lotse_outbox_dead", ("hubspot",))] == 0
    assert samples[("lotse_messenger_inbox_open", ())] == 1
    assert samples[("lotse_messenger_undelivered", ())] == 1


def test_the_stores_gauges_when_the_database_is_away(caplog) -> None:
    def away():
        raise ConnectionRefusedError("no database")

    assert list(StoreMetrics(away).collect()) == []
    assert "ConnectionRefusedError" in caplog.text
