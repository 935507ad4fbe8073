"""The scale-out profile under faults (issue 7): two Rasa replicas and two action
servers behind HAProxy, on a PostgreSQL server and a Redis server of the test's
own (so they can be restarted for real) and the machine's RabbitMQ behind a TCP proxy
the test cuts (RabbitMQ down, as Rasa and the consumer see it).

Every test ends with every message answered, or refused with 503 and answered when
sent again, each conversation's messages in the tracker store once and in order, and
every lead intact in the CRM store.
"""

from __future__ import annotations

import json
import os
import signal
import threading
import time
import uuid
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

import pytest
import requests
from sqlalchemy import create_engine, text

from crm_adapter.explanation import lead_report
from crm_adapter.scoring_model import load_scoring_model
from insights.conversation_summary import slot_event_name
from insights.event_log import EventLog
from lotse.migrate import migrated_engine
from lotse.settings import Settings
from ops.scaled_stack import ScaledStack, ServiceAddresses
from tests.conftest import IN_OFFICE_HOURS, set_clock
from tests.support.haproxy import wait_for_states
from tests.support.private_services import (
    PrivatePostgres,
    PrivateRedis,
    delete_queue,
    rabbitmq_reachable,
)
from tests.support.tcp_proxy import TcpProxy
from wiring.services import services_for

pytestmark = pytest.mark.model

RETRY_STATUSES = {502, 503, 504}


@dataclass
class Scaled:
    stack: ScaledStack
    pg: PrivatePostgres
    redis: PrivateRedis
    rabbit: TcpProxy
    settings: Settings
    log: Path

    def replica_url(self, i: int) -> str:
        return f"http://127.0.0.1:{self.settings.rasa_port + i}"

    def tracker_texts(self, sender: str) -> list[str]:
        engine = create_engine(self.settings.database_url)
        try:
            with engine.connect() as connection:
                rows = connection.execute(
                    text("SELECT data FROM events WHERE sender_id = :s AND type_name = 'user' "
                         "ORDER BY id"), {"s": sender},
                ).scalars().all()  # fmt: skip
        finally:
            engine.dispose()
        return [json.loads(row)["text"] for row in rows]


@pytest.fixture(scope="module")
def scaled(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Scaled]:
    from ops.training import ensure_model

    for reason in (PrivatePostgres.available(), PrivateRedis.available()):
        if reason:
            pytest.skip(f"the scaled-profile fault tests need it: {reason}")
    if not rabbitmq_reachable():
        pytest.skip("the scaled-profile fault tests need RabbitMQ on 127.0.0.1:5672")
    folder = tmp_path_factory.mktemp("scaled")
    clock = folder / "clock"
    set_clock(clock, IN_OFFICE_HOURS)
    queue = f"lotse_test_{uuid.uuid4().hex[:8]}"
    with (
        PrivatePostgres() as pg,
        PrivateRedis() as redis,
        TcpProxy("127.0.0.1", 5672) as rabbit,
    ):
        env = {
            "LOTSE_PG_PORT": str(pg.port), "LOTSE_PG_DB": "lotse",
            "LOTSE_REDIS_PORT": str(redis.port), "LOTSE_REDIS_DB": "0",
            "LOTSE_RABBITMQ_PORT": str(rabbit.port), "LOTSE_EVENTS_QUEUE": queue,
            "LOTSE_EVENT_FILL_SECONDS": "1", "LOTSE_TEST_CLOCK_FILE": str(clock),
        }  # fmt: skip
        settings = Settings(
            database_url="",
            rasa_port=int(os.environ.get("LOTSE_TEST_SCALED_RASA_PORT", "26005")),
            action_port=int(os.environ.get("LOTSE_TEST_SCALED_ACTION_PORT", "26055")),
            web_port=int(os.environ.get("LOTSE_TEST_SCALED_WEB_PORT", "26080")),
            host="127.0.0.1",
            console_port=int(os.environ.get("LOTSE_TEST_SCALED_CONSOLE_PORT", "26090")),
        )
        log = folder / "stack.log"
        stack = ScaledStack(
            settings, ensure_model(), data_dir=folder, log_file=log, secure_cookies=False,
            extra_env=env, services=ServiceAddresses.from_environment(env),
        )  # fmt: skip
        stack.start()
        try:
            stack.wait_ready()
            yield Scaled(stack, pg, redis, rabbit, stack.settings, log)
        finally:
            stack.stop()
            delete_queue(queue)


def say(url: str, sender: str, message: str, attempts: int = 20) -> list[dict]:
    """Sends until answered; a 502/503/504 or a refused connection is sent again."""
    for _ in range(attempts):
        try:
            reply = requests.post(
                f"{url}/webhooks/rest/webhook",
                json={"sender": sender, "message": message, "metadata": {"language": "de"}},
                timeout=60,
            )
        except requests.ConnectionError:
            time.sleep(0.5)
            continue
        if reply.status_code in RETRY_STATUSES:
            time.sleep(0.5)
            continue
        assert reply.status_code == 200, reply.text
        return reply.json()
    raise AssertionError(f"not answered after {attempts} attempts")


def qualification(email: str) -> list[str]:
    return [
        "Was kostet eine P400?", "Ja", "Pressen für unsere neue Fertigungslinie",
        "Müller Metallbau GmbH", "rund 60 Leute", "Metallbau", "Ich bin Geschäftsführer",
        "33602 Bielefeld", "in zwei Monaten", "Ja", "Anna Muster", email, "Ja, passt so",
    ]  # fmt: skip


def converse(
    urls: Callable[[int], str],
    lines: list[str],
    sender: str,
    answered: Callable[[], None] = lambda: None,
) -> list[str]:
    """Each line to `urls(i)`; returns the joined texts of each answer."""
    answers = []
    for i, line in enumerate(lines):
        answers.append(" ".join(m.get("text", "") for m in say(urls(i), sender, line)))
        answered()
    return answers


def assert_lead_intact(scaled: Scaled, email: str) -> None:
    lead = services_for(scaled.settings.database_url).crm.find_by_email(email)
    assert lead is not None, email
    report = lead_report(lead, load_scoring_model(), lead.created_at)
    assert report["fit"] == 100
    assert report["answers"]["company"]["value"]["legal_form"] == "GmbH"
    location = report["answers"]["location"]["value"]
    assert (location["country"], location["postal_code"]) == ("DE", "33602")
    assert report["consent"]["version"] == "2026-11-26"


def assert_once_in_order(scaled: Scaled, sender: str, lines: list[str]) -> None:
    assert scaled.tracker_texts(sender) == lines


def test_both_replicas_continue_one_conversation(scaled: Scaled) -> None:
    """Message by message the replicas take turns: each continues where the other left."""
    email = f"anna.{uuid.uuid4().hex[:6]}@mueller-metallbau.example"
    sender = f"turns-{uuid.uuid4().hex[:8]}"
    lines = qualification(email)
    answers = converse(lambda i: scaled.replica_url(1 + i % 2), lines, sender)
    assert "140.000" in answers[0]
    assert email in answers[-2] and "Vertrieb" in answers[-1]
    assert_lead_intact(scaled, email)
    assert_once_in_order(scaled, sender, lines)


def run_visitors(scaled: Scaled, count: int, fault: Callable[[], None]) -> list[tuple[str, str]]:
    """`count` visitors qualify at once through the balancer; when an eighth of their
    messages are answered, `fault` runs; it must be over before the last one is."""
    visitors = [(f"load-{uuid.uuid4().hex[:8]}", f"v{uuid.uuid4().hex[:6]}@metallbau.example")
                for _ in range(count)]  # fmt: skip
    total = count * len(qualification(""))
    progress = {"answered": 0}
    lock = threading.Lock()
    begun = threading.Event()

    def answered() -> None:
        with lock:
            progress["answered"] += 1
            if progress["answered"] >= total // 8:
                begun.set()

    with ThreadPoolExecutor(count) as pool:
        done = [pool.submit(converse, lambda i: scaled.settings.rasa_url, qualification(email), s,
                            answered) for s, email in visitors]  # fmt: skip
        assert begun.wait(120)
        fault()
        with lock:
            assert progress["answered"] < total, "the load ended before the fault did"
        for future in done:
            future.result()
    return visitors


def outage(stop: Callable[[], None], start: Callable[[], None], seconds: float = 2) -> Callable:
    def fault() -> None:
        stop()
        time.sleep(seconds)
        start()

    return fault


def assert_all_intact(scaled: Scaled, visitors: list[tuple[str, str]]) -> None:
    for sender, email in visitors:
        assert_once_in_order(scaled, sender, qualification(email))
        assert_lead_intact(scaled, email)


def test_postgres_down_answers_503_without_the_text_in_the_log(scaled: Scaled) -> None:
    sender = f"pgdown-{uuid.uuid4().hex[:8]}"
    secret_text = f"Geheimnis {uuid.uuid4().hex}"
    say(scaled.settings.rasa_url, sender, "Hallo")
    scaled.pg.stop()
    try:
        reply = requests.post(
            f"{scaled.settings.rasa_url}/webhooks/rest/webhook",
            json={"sender": sender, "message": secret_text},
            timeout=60,
        )
        assert reply.status_code == 503
        assert "send the message again" in reply.json()["error"]
    finally:
        scaled.pg.start()
    say(scaled.settings.rasa_url, sender, secret_text)
    assert scaled.tracker_texts(sender) == ["Hallo", secret_text]
    assert secret_text not in scaled.log.read_text(encoding="utf-8", errors="replace")


def test_postgres_restarted_under_load(scaled: Scaled) -> None:
    visitors = run_visitors(scaled, 6, outage(scaled.pg.stop, scaled.pg.start))
    assert_all_intact(scaled, visitors)


def test_redis_restarted_under_load(scaled: Scaled) -> None:
    visitors = run_visitors(scaled, 6, outage(scaled.redis.stop, scaled.redis.start))
    assert_all_intact(scaled, visitors)


def test_action_server_restarted_under_load(scaled: Scaled) -> None:
    actions = scaled.stack.processes

    def kill() -> None:
        actions["actions-1"].send_signal(signal.SIGKILL)
        actions["actions-1"].wait()

    # Requests go on to the other action server at once: more visitors keep the load
    # going until the killed one is back.
    restart = outage(kill, lambda: scaled.stack.start_one("actions-1"), seconds=1.5)
    visitors = run_visitors(scaled, 10, restart)
    assert_all_intact(scaled, visitors)
    _wait_healthy(f"http://127.0.0.1:{scaled.settings.action_port + 1}/health")


def test_events_reach_the_consumer_also_while_rabbitmq_is_down(scaled: Scaled) -> None:
    sender = f"events-{uuid.uuid4().hex[:8]}"
    scaled.rabbit.cut()
    try:
        for line in ("Hallo", "Was kostet eine P400?", "Wie lange ist die Garantie?"):
            assert say(scaled.settings.rasa_url, sender, line)  # the broker never fails a turn
    finally:
        scaled.rabbit.restore()
    event_log = EventLog(migrated_engine(scaled.settings.database_url))
    tracker = _tracker_events(scaled, sender)
    deadline = time.monotonic() + 30
    while len(event_log.events_of(sender)) < len(tracker) and time.monotonic() < deadline:
        time.sleep(0.5)
    logged = [(e["type_name"], e["name"]) for e in event_log.events_of(sender)]
    assert logged == [(kind, name or "") for kind, name in tracker]
    assert ("user", "faq_press_price") in logged
    assert all("text" not in e and "P400" not in str(e) for e in event_log.events_of(sender))
    assert "Was kostet eine P400?" not in scaled.log.read_text(encoding="utf-8", errors="replace")


def test_a_replica_killed_mid_conversation_the_other_continues(scaled: Scaled) -> None:
    email = f"anna.{uuid.uuid4().hex[:6]}@mueller-metallbau.example"
    sender = f"killed-{uuid.uuid4().hex[:8]}"
    lines = qualification(email)
    converse(lambda i: scaled.settings.rasa_url, lines[:5], sender)
    scaled.stack.processes["rasa-1"].send_signal(signal.SIGKILL)
    scaled.stack.processes["rasa-1"].wait()
    answers = converse(lambda i: scaled.settings.rasa_url, lines[5:], sender)
    assert email in answers[-2] and "Vertrieb" in answers[-1]
    assert_lead_intact(scaled, email)
    assert_once_in_order(scaled, sender, lines)
    # HAProxy's health checks took it out of the turn (its stats page says so).
    wait_for_states(scaled.stack.stats_port, {"rasa/rasa-1": "DOWN", "rasa/rasa-2": "UP"})


def _tracker_events(scaled: Scaled, sender: str) -> list[tuple[str, str | None]]:
    engine = create_engine(scaled.settings.database_url)
    try:
        with engine.connect() as connection:
            rows = connection.execute(
                text("SELECT type_name, data FROM events WHERE sender_id = :s ORDER BY id"),
                {"s": sender},
            ).all()
    finally:
        engine.dispose()
    result = []
    for kind, data in rows:
        event = json.loads(data)
        intent = (event.get("parse_data") or {}).get("intent") or {}
        name = intent.get("name") if kind == "user" else event.get("name")
        if kind == "slot":  # the insight slots' values are kept (`slot=value`), no other
            name = slot_event_name(name, event.get("value"))
        result.append((kind, name))
    return result


def _wait_healthy(url: str, timeout: float = 90) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            if requests.get(url, timeout=2).ok:
                return
        except requests.RequestException:
            pass
        time.sleep(0.5)
    raise AssertionError(f"{url} not healthy after {timeout:.0f}s")
