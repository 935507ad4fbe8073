"""The one delivery worker: takes due events from an `EventOutbox` and hands them to a
connector (an external CRM's, or the notifications' `handoff.dispatch.NotificationConnector`).

The outcome of each try, by the connector's error:
- none: the event is marked delivered, with the `Link` the connector gave back;
- `RetryableDeliveryError`: due again after `backoff` (at least MIN_RETRY; the server's
  Retry-After wins), dead after `max_attempts` failed tries;
- `PermanentDeliveryError`: dead at once (`lotse deliveries` lists, retries, discards);
- `DeliveryAuthError`: retried every AUTH_RETRY without using up attempts;
- any other exception (a connector's bug): counted as a retryable failure.
An event with less than a quarter of its lease left is released unsent: another round
takes it, so no two workers send it while a lease runs. Logs name the connector, the
row id and the error kind, never a payload.
"""

from __future__ import annotations

import logging
import random
import threading
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from datetime import datetime, timedelta

from sqlalchemy.exc import SQLAlchemyError

from crm_adapter.delivery import (
    Connector,
    CrmDeliveryError,
    CrmEvent,
    DeliveryAuthError,
    PermanentDeliveryError,
    RetryableDeliveryError,
)
from crm_adapter.port import CrmError
from crm_adapter.store.crm_events import ERASED, ClaimedEvent, EventOutbox, utc_now
from crm_adapter.store.models import as_utc
from lotse.metrics import DELIVERY_FAILURES
from lotse.retry import backoff

log = logging.getLogger(__name__)
AUTH_RETRY = timedelta(minutes=5)
# The shortest wait before a retry: gives a CRM's search index time to show what a try
# whose answer was lost created (HubSpot's lags a few seconds).
MIN_RETRY = 5.0
GATHER = 0.025  # seconds the claiming loop waits for more free threads


class DeliveryWorker:
    """Takes due events and delivers them through `connector`, the events of different
    contacts on up to `threads` threads at once (`serve`, until told to stop); `run_once`
    delivers one batch in the calling thread (`lotse deliver --once`, tests)."""

    def __init__(
        self, outbox: EventOutbox, connector: Connector, clock: Callable[[], datetime] = utc_now,
        max_attempts: int = 10, rng: Callable[[], float] = random.random, threads: int = 1,
        prepare: Callable[[CrmEvent], CrmEvent] = lambda event: event,
    ) -> None:  # fmt: skip
        self.outbox = outbox
        self.connector = connector
        self.clock = clock
        self.max_attempts = max_attempts
        self.rng = rng
        self.prepare = prepare
        self.threads = threads

    def run_once(self, limit: int = 20) -> int:
        """Delivers what is due; returns how many events were delivered."""
        return sum(self._deliver(claimed) for claimed in self.outbox.claim(self.clock(), limit))

    def serve(self, stopping: threading.Event, limit: int = 50, pause: float = 1.0) -> None:
        """Delivers until `stopping` is set. One loop claims as many events as threads
        are free (at most `limit`) and hands them to the threads; a thread that is done
        is given the next event at once (no thread waits for a whole batch). With
        nothing due it claims again after `pause`: an idle worker costs one short
        transaction per `pause`. Database errors pause it; it never gives up."""
        free = threading.Semaphore(self.threads)
        with ThreadPoolExecutor(self.threads, f"crm-{self.connector.name}") as pool:
            while not stopping.is_set():
                if not free.acquire(timeout=pause):
                    continue
                wanted = 1 + self._more_free(free, limit - 1)
                batch = self._claim_for_serve(wanted)
                for _ in range(wanted - len(batch)):
                    free.release()
                for claimed in batch:
                    pool.submit(self._deliver_then_free, claimed, free)
                if not batch:
                    stopping.wait(pause)

    def _more_free(self, free: threading.Semaphore, most: int) -> int:
        """Further free threads, waiting up to GATHER for a few (a claim per event
        would cost more than the wait when every thread is busy)."""
        taken = 0
        enough = min(most, max(1, self.threads // 4))
        deadline = time.monotonic() + GATHER
        while taken < most:
            if free.acquire(blocking=False):
                taken += 1
            elif taken >= enough or not free.acquire(timeout=max(0.0, deadline - time.monotonic())):
                break
            else:
                taken += 1
        return taken

    def _claim_for_serve(self, wanted: int) -> list[ClaimedEvent]:
        try:
            return self.outbox.claim(self.clock(), wanted)
        except CrmError as error:  # the database is away: try again after a pause
            log.warning("delivery to %s paused (%s)", self.connector.name, error)
            return []

    def _deliver_then_free(self, claimed: ClaimedEvent, free: threading.Semaphore) -> None:
        try:
            self._deliver(claimed)
        except Exception as error:  # marking failed (database away): the lease runs out
            log.warning("event %s not marked (%s)", claimed.row_id, type(error).__name__)
        finally:
            free.release()

    def _deliver(self, claimed: ClaimedEvent) -> int:
        link = None
        if not self._time_left(claimed):
            self.outbox.release(claimed)  # too late to start: another round takes it
            return 0
        try:
            if claimed.event.payload != ERASED:
                event = self.prepare(claimed.event)
                link = self.connector.deliver(event, self.outbox.link(event.lead_id))
        except CrmDeliveryError as error:
            self._failed(claimed, error)
            return 0
        except (CrmError, SQLAlchemyError):
            raise  # the outbox's database: the caller pauses
        except Exception as error:  # a connector's bug must not stop the worker
            log.error("connector %s failed on event %s (%s)", self.connector.name,
                      claimed.row_id, type(error).__name__)  # fmt: skip
            self._failed(claimed, RetryableDeliveryError(f"unexpected {type(error).__name__}"))
            return 0
        self.outbox.delivered(claimed, self.clock(), link)
        return 1

    def _time_left(self, claimed: ClaimedEvent) -> bool:
        """Enough of the lease is left to start sending (a quarter of it)."""
        if claimed.leased_until is None:
            return True
        return claimed.leased_until - as_utc(self.clock()) > self.outbox.lease / 4

    def _failed(self, claimed: ClaimedEvent, error: CrmDeliveryError) -> None:
        kind = type(error).__name__
        reason = f"{kind}: {error}"  # connectors' messages hold no personal data or secret
        failures = DELIVERY_FAILURES.labels(self.connector.name, "retry")
        if isinstance(error, DeliveryAuthError):
            failures.inc()  # every event would fail: not its fault
            log.error("%s refused the credentials: check its config", self.connector.name)
            self.outbox.retry(claimed, self.clock() + AUTH_RETRY, reason, count=False)
            return
        if isinstance(error, PermanentDeliveryError) or claimed.attempts + 1 >= self.max_attempts:
            self.outbox.dead(claimed, self.clock(), reason)
            DELIVERY_FAILURES.labels(self.connector.name, "dead").inc()
            log.warning("CRM event %s is a dead letter (%s)", claimed.row_id, kind)
            return
        wait = timedelta(seconds=max(MIN_RETRY, backoff(
            claimed.attempts, getattr(error, "retry_after", None), rng=self.rng)))  # fmt: skip
        self.outbox.retry(claimed, self.clock() + wait, reason)
        failures.inc()
        log.info("CRM event %s not delivered (%s)", claimed.row_id, kind)
