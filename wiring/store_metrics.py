"""The stores' gauges, read when Prometheus scrapes (`lotse.metrics`): handoffs waiting
for a person, per connector the outbox's pending events, the age of the oldest and
the dead ones, and the messengers' open inbox events and dead letters. Registered by
the console (one process per deployment asks the database; replicas would only repeat
the same figures)."""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterator
from datetime import datetime, timezone

from prometheus_client.core import GaugeMetricFamily
from prometheus_client.registry import Collector

from conversations.delivery_status import DeliveryStatuses
from crm_adapter.store.crm_events import backlog
from handoff.ownership import WAITING
from wiring.services import Services

log = logging.getLogger(__name__)


class StoreMetrics(Collector):
    def __init__(self, services: Callable[[], Services],
                 clock: Callable[[], datetime] = lambda: datetime.now(timezone.utc),
                 ) -> None:  # fmt: skip
        self._services = services
        self._clock = clock

    def collect(self) -> Iterator[GaugeMetricFamily]:
        try:
            found = self._services()
            waiting = found.handoffs.count_in(WAITING)
            outbox = backlog(found.engine)
            inbox_open = found.inbox.open_count()
            dead_letters = DeliveryStatuses(found.engine).given_up_count()
        except Exception as error:  # noqa: BLE001 - a scrape must not fail the console
            log.warning("the stores' metrics could not be read (%s)", type(error).__name__)
            return
        yield GaugeMetricFamily(
            "lotse_handoffs_waiting", "Handoffs waiting for a person to take them", value=waiting
        )
        pending = GaugeMetricFamily("lotse_outbox_pending", "Events waiting for delivery",
                                    labels=["connector"])  # fmt: skip
        oldest = GaugeMetricFamily("lotse_outbox_oldest_seconds",
                                   "Age of the oldest event waiting for delivery",
                                   labels=["connector"])  # fmt: skip
        dead = GaugeMetricFamily("lotse_outbox_dead", "Events given up after their retries",
                                 labels=["connector"])  # fmt: skip
        now = self._clock()
        for entry in outbox:
            pending.add_metric([entry.connector], entry.pending)
            age = (now - entry.oldest).total_seconds() if entry.oldest else 0.0
            oldest.add_metric([entry.connector], max(0.0, age))
            dead.add_metric([entry.connector], entry.dead)
        yield from (pending, oldest, dead)
        yield GaugeMetricFamily("lotse_messenger_inbox_open",
                                "Messenger messages stored whose turn has not run yet",
                                value=inbox_open)  # fmt: skip
        yield GaugeMetricFamily("lotse_messenger_undelivered",
                                "Messages to a messenger the relay gave up on (dead letters)",
                                value=dead_letters)  # fmt: skip
