"""`lotse deliver`: the delivery worker for the external CRMs configured in `crm:`.

One `DeliveryWorker` per connector, all in this process, each round taking up to
`delivery.batch` due events and sending those of different contacts on
`delivery.threads` threads. It runs until SIGTERM or SIGINT, then finishes the round
it is in (an event cut off mid-send is sent again after its lease: the connectors are
idempotent). Several `lotse deliver` processes may run at once (PostgreSQL).

The config and every connector's secrets are checked before anything is sent: a
mistake ends the process at once with the message of `ConnectorConfigError`. Logs name
connectors, event ids and error kinds, never payloads or secrets.
"""

from __future__ import annotations

import argparse
import logging
import signal
import sys
import threading
from dataclasses import replace
from datetime import timedelta

import requests
from requests.adapters import HTTPAdapter

from crm_adapter.crm_config import CrmConfig, build_connectors, load_crm_config
from crm_adapter.delivery import Connector, ConnectorConfigError, CrmEvent
from crm_adapter.delivery_worker import DeliveryWorker
from crm_adapter.store.crm_events import EventOutbox
from crm_adapter.sync_event import with_staff_emails
from lotse import log_redaction
from lotse.ops_routes import serve_ops
from lotse.readiness import Readiness, database_check
from lotse.settings import load_settings
from wiring.services import services_for

log = logging.getLogger("lotse.deliver")


def add_arguments(command: argparse.ArgumentParser) -> None:
    command.add_argument("--once", action="store_true", help="deliver what is due, then stop")


def staff_emails() -> dict[str, str]:
    from handoff.routing_model import load_routing_model

    return {staff.id: staff.email for staff in load_routing_model().staff.values()}


def size_pool(connector: Connector, threads: int) -> None:
    """One kept-alive connection per delivery thread (requests' default pool holds 10)."""
    session = getattr(connector, "session", None)
    if isinstance(session, requests.Session):
        adapter = HTTPAdapter(pool_connections=4, pool_maxsize=max(10, threads))
        session.mount("https://", adapter)
        session.mount("http://", adapter)


def workers(config: CrmConfig, connectors: list[Connector], url: str) -> list[DeliveryWorker]:
    engine = services_for(url).engine
    emails = staff_emails()

    def prepare(event: CrmEvent) -> CrmEvent:
        return replace(event, payload=with_staff_emails(event.payload, emails))

    settings = config.delivery
    for connector in connectors:
        size_pool(connector, settings.threads)
    return [
        DeliveryWorker(
            EventOutbox(engine, timedelta(seconds=settings.lease_seconds), connector=c.name),
            c,
            max_attempts=settings.max_attempts,
            threads=settings.threads,
            prepare=prepare,
        )  # fmt: skip
        for c in connectors
    ]


def serve(all_workers: list[DeliveryWorker], batch: int, pause: float,
          stopping: threading.Event) -> None:  # fmt: skip
    """Every worker delivers on its threads until `stopping` is set."""
    runners = [threading.Thread(target=w.serve, args=(stopping, batch, pause))
               for w in all_workers]  # fmt: skip
    for runner in runners:
        runner.start()
    while any(runner.is_alive() for runner in runners):
        for runner in runners:
            runner.join(timeout=0.5)


def deliver_due(all_workers: list[DeliveryWorker], batch: int) -> int:
    """One round (`--once`): what is due now, then stop."""
    return sum(worker.run_once(batch) for worker in all_workers)


def run(args: argparse.Namespace) -> int:
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(name)s %(message)s")
    try:
        config = load_crm_config()
        connectors = build_connectors(config)
    except ConnectorConfigError as error:
        print(f"lotse deliver: {error}", file=sys.stderr)
        return 2
    if not connectors:
        print("lotse deliver: no CRM connector is configured (crm: in endpoints.yml)")
        return 0
    found = load_settings()
    all_workers = workers(config, connectors, found.database_url)
    if not args.once:
        checks = {"database": database_check(lambda: services_for(found.database_url).engine)}
        serve_ops(found.host, found.ops_port + 1, Readiness(checks), found.secrets.metrics_token)
    stopping = threading.Event()
    for signum in (signal.SIGTERM, signal.SIGINT):
        signal.signal(signum, lambda *_: stopping.set())
    names = ", ".join(c.name for c in connectors)
    log.info("delivering CRM events to %s", names)
    settings = config.delivery
    if args.once:
        log.info("delivered %d events", deliver_due(all_workers, settings.batch))
    else:
        serve(all_workers, settings.batch, settings.poll_seconds, stopping)
    log.info("stopped")
    return 0


if __name__ == "__main__":
    parser = argparse.ArgumentParser(prog="lotse deliver")
    add_arguments(parser)
    log_redaction.install()
    sys.exit(run(parser.parse_args()))
