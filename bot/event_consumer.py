"""`python -m bot.event_consumer`: conversation events from RabbitMQ into the event log.

Rasa's Pika broker (endpoints.scaled.yml) publishes every event of every conversation
to the fanout exchange, bound to the durable queue LOTSE_EVENTS_QUEUE. This consumer
takes them in batches, writes them to the event log (`insights.event_log`, in the CRM
database) and acknowledges a batch only after its rows are committed: a database error
or a crash leaves the messages in RabbitMQ for the next try. Every EVENT_FILL_SECONDS it also
reads the tracker store's new events (LOTSE_TRACKER_URL), so whatever the broker lost
(Rasa's in-memory buffer of failed publishes) still arrives; duplicates are ignored.
Connections to RabbitMQ are re-established by aio-pika's robust connection. Events of
an erased conversation from before its erasure are dropped (and acknowledged) however
late they come, so a backlog cannot bring its id back (`conversations/erased.py`).

Nothing of an event's text is logged or stored (see `insights.event_log`).
"""

from __future__ import annotations

import asyncio
import json
import logging
import signal
from typing import Any
from urllib.parse import quote

import aio_pika
from aio_pika.abc import AbstractIncomingMessage
from sqlalchemy.exc import DataError, IntegrityError, SQLAlchemyError

from insights.event_log import EventLog
from lotse import log_redaction
from lotse.database import make_engine
from lotse.ops_routes import serve_ops
from lotse.readiness import Readiness, database_check
from lotse.service_addresses import ServiceAddresses
from lotse.settings import EVENT_FILL_SECONDS, load_settings
from wiring.services import services

BATCH = 200
BATCH_WAIT_SECONDS = 0.5
RETRY_SECONDS = 2.0
log = logging.getLogger(__name__)


def decode(message: AbstractIncomingMessage) -> dict[str, Any] | None:
    try:
        event = json.loads(message.body)
    except ValueError:
        return None
    return event if isinstance(event, dict) else None


class Consumer:
    def __init__(
        self,
        log_: EventLog,
        amqp_url: str,
        queue: str,
        tracker_url: str | None,
        fill_seconds: float = EVENT_FILL_SECONDS,
    ) -> None:
        self.fill_seconds = fill_seconds
        self.event_log = log_
        self.amqp_url = amqp_url
        self.queue = queue
        self.tracker = make_engine(tracker_url) if tracker_url else None
        self.stopping = asyncio.Event()
        self.connected = False  # consuming from RabbitMQ now (its readiness check)

    async def run(self) -> None:
        filler = asyncio.create_task(self._fill_periodically())
        try:
            while not self.stopping.is_set():
                try:
                    await self._consume()
                except Exception as error:  # noqa: BLE001 - never end: reconnect and go on
                    self.connected = False
                    # RabbitMQ gone, a channel closed under a pending ack (a RuntimeError
                    # in aiormq): unacknowledged messages come again on the new channel.
                    log.warning(
                        "event consumer: consuming stopped (%s); reconnecting", type(error).__name__
                    )
                    await asyncio.sleep(RETRY_SECONDS)
        finally:
            filler.cancel()

    async def _consume(self) -> None:
        connection = await aio_pika.connect_robust(self.amqp_url)
        async with connection:
            channel = await connection.channel()
            await channel.set_qos(prefetch_count=BATCH)
            queue = await channel.declare_queue(self.queue, durable=True)  # as Rasa declares it
            arrived: asyncio.Queue[AbstractIncomingMessage] = asyncio.Queue()
            await queue.consume(arrived.put)
            self.connected = True
            while not self.stopping.is_set():
                batch = await self._next_batch(arrived)
                if batch:
                    await self._write(batch)

    async def _next_batch(
        self, arrived: asyncio.Queue[AbstractIncomingMessage]
    ) -> list[AbstractIncomingMessage]:
        """Up to BATCH messages: what arrives within BATCH_WAIT_SECONDS of the first."""
        try:
            batch = [await asyncio.wait_for(arrived.get(), BATCH_WAIT_SECONDS)]
        except asyncio.TimeoutError:
            return []
        deadline = asyncio.get_running_loop().time() + BATCH_WAIT_SECONDS
        while len(batch) < BATCH:
            left = deadline - asyncio.get_running_loop().time()
            if left <= 0:
                break
            try:
                batch.append(await asyncio.wait_for(arrived.get(), left))
            except asyncio.TimeoutError:
                break
        return batch

    async def _write(self, batch: list[AbstractIncomingMessage]) -> None:
        events = [event for message in batch if (event := decode(message)) is not None]
        try:
            await asyncio.to_thread(self.event_log.record, events)
        except (DataError, IntegrityError):  # one bad event must not hold back the rest
            dropped = await asyncio.to_thread(self._record_one_by_one, events)
            log.warning("event consumer: %d unreadable event(s) dropped", dropped)
        except SQLAlchemyError as error:
            log.warning(
                "event consumer: database unavailable (%s); events stay queued",
                type(error).__name__,
            )
            for message in batch:
                await message.nack(requeue=True)
            await asyncio.sleep(RETRY_SECONDS)
            return
        for message in batch:
            await message.ack()

    def _record_one_by_one(self, events: list[dict[str, Any]]) -> int:
        dropped = 0
        for event in events:
            try:
                self.event_log.record([event])
            except (DataError, IntegrityError):
                dropped += 1
        return dropped

    async def _fill_periodically(self) -> None:
        while self.tracker is not None:
            try:
                filled = await asyncio.to_thread(self.event_log.fill_from_tracker, self.tracker)
                if filled:
                    log.info("event consumer: read %d events from the tracker store", filled)
            except SQLAlchemyError as error:  # also: Rasa has not made its table yet
                log.debug("event consumer: tracker store unavailable (%s)", type(error).__name__)
            except Exception as error:  # noqa: BLE001 - the fill goes on at the next round
                log.error("event consumer: filling from the tracker failed (%s)",
                          type(error).__name__)  # fmt: skip
            await asyncio.sleep(self.fill_seconds)


def amqp_url(addresses: ServiceAddresses) -> str:
    v = addresses.values
    user, password = (
        quote(v[k], safe="") for k in ("LOTSE_RABBITMQ_USER", "LOTSE_RABBITMQ_PASSWORD")
    )
    return f"amqp://{user}:{password}@{v['LOTSE_RABBITMQ_HOST']}:{v['LOTSE_RABBITMQ_PORT']}/"


def main() -> None:
    log_redaction.install()
    logging.basicConfig(
        level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s - %(message)s"
    )
    settings = load_settings()
    addresses = settings.services
    consumer = Consumer(
        services().event_log, amqp_url(addresses), addresses.values["LOTSE_EVENTS_QUEUE"],
        settings.files.tracker_url, settings.limits.event_fill_seconds,
    )  # fmt: skip
    checks = {"database": database_check(lambda: services().engine),
              "rabbitmq": lambda: consumer.connected}  # fmt: skip
    serve_ops(settings.host, settings.ops_port, Readiness(checks), settings.secrets.metrics_token)

    async def run() -> None:
        loop = asyncio.get_running_loop()
        for signum in (signal.SIGTERM, signal.SIGINT):
            loop.add_signal_handler(signum, consumer.stopping.set)
        await consumer.run()

    asyncio.run(run())


if __name__ == "__main__":
    main()
