"""Messenger turns after the platform has its answer: each event once, in order.

A messenger webhook (`bot.channels.messenger`) checks the signature, stores each
message of the request in the channel inbox (`conversations.channel_inbox`, keyed by
the platform's id of the event, so an event sent again is recognised) and answers 200
at once. An `InboxWorker` in each Rasa process with a messenger channel then runs the
bot's turn for the stored events:

- In order: only a conversation's oldest open event is taken, and only by one worker
  (`ChannelInbox.claim`; several replicas compete, one wins). A claim older than LEASE
  belongs to a worker that stopped and is taken over; a worker renews its claims.
- The turn: the stored message goes through the rate limit, the turn gate and the
  ownership gate (`bot.channels.admission`) into Rasa, whose answers are collected
  (`CollectedAnswers`), not sent.
- The result in one transaction: the event is marked done, the bot's answers are
  queued as outbound messages of the conversation (the handoff store's messages,
  sender "bot"), and the last answer's choices become the conversation's menu (a
  next message "2" means its second). The relay (`bot.channels.relay`) sends the
  queued answers with retries, in order, and records them (sent, or given up: a
  dead letter, listed for admins in the console). A turn that fails is tried again
  (TURN_ATTEMPTS in all, with a pause); then the person is asked to send the message
  again, through the same queue.
- At least once: a worker that stops after Rasa's turn but before the transaction
  leaves the event open, and another runs the turn again.

Message texts are personal data: log lines name the channel and error classes only.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Callable, Mapping
from contextvars import ContextVar
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone
from typing import Any

from rasa.core.channels.channel import OutputChannel, UserMessage

from bot.channels import relay
from bot.channels.admission import Handler, TooManyMessages
from conversations.address_book import AddressBook
from conversations.channel_inbox import ChannelInbox, InboundEvent
from conversations.rendering import buttons_from, chosen_payload
from dialogue.text_input import to_rasa_text
from handoff.store import HandoffStore
from lotse.metrics import MESSENGER_EVENTS

POLL_SECONDS = 0.25
LEASE = timedelta(minutes=2)
RENEW_EVERY = timedelta(seconds=30)
TURN_ATTEMPTS = 3
RETRY_PAUSE_SECONDS = 1.0
FAILED_ROUND_SECONDS = 1.0
SEND_AGAIN = (
    "Entschuldigung, das hat gerade nicht geklappt. Bitte senden Sie Ihre Nachricht noch "
    "einmal. / Sorry, that did not work just now. Please send your message again."
)
log = logging.getLogger(__name__)


def _utc_now() -> datetime:
    return datetime.now(timezone.utc)


# -- the platform's id of each message of a webhook request ----------------------------

@dataclass
class RequestEvents:
    """The webhook request being handled: its event key, the messages taken from it,
    and whether storing one failed (the platform must send the request again)."""

    key: str
    count: int = 0
    failed: bool = False


_request: ContextVar[RequestEvents | None] = ContextVar("lotse_webhook_request", default=None)


def begin_request(key: str) -> RequestEvents:
    """The request being handled carries the platform's event id `key` (set by the
    channel's middleware, read by `next_event_key` in the same request's task)."""
    events = RequestEvents(key)
    _request.set(events)
    return events


def begin_message(key: str | None) -> None:
    """The next message of the request has its own platform id `key` (Meta's `mid`);
    None keeps the request's key with a count."""
    events = _request.get()
    if events is not None and key:
        events.key, events.count = key, 0


def current_request() -> RequestEvents | None:
    return _request.get()


def next_event_key() -> str | None:
    """The key of the request's next message: the request's key, then `key#2`, `key#3`
    for more messages in one request (the platform sends the same request again with
    the same messages in the same order)."""
    events = _request.get()
    if events is None:
        return None
    events.count += 1
    return events.key if events.count == 1 else f"{events.key}#{events.count}"


# -- what Rasa answers, collected --------------------------------------------------------


class CollectedAnswers(OutputChannel):
    """Rasa's output channel for a messenger turn: the answers are kept, not sent."""

    def __init__(self) -> None:
        self.answers: list[tuple[str, list[dict[str, str]]]] = []

    @classmethod
    def name(cls) -> str:
        return "messenger"

    async def send_response(self, recipient_id: str, message: dict[str, Any]) -> None:
        buttons = buttons_from(message.get("buttons") or message.get("quick_replies"))
        text = message.get("text") or ""
        if image := message.get("image"):
            text = f"{text}\n\n{image}".strip()
        if text.strip() or buttons:
            self.answers.append((text, [{"title": b.title, "payload": b.payload} for b in buttons]))


def stored_message(message: UserMessage, address: Mapping[str, Any]) -> dict[str, Any]:
    """What the inbox keeps of a platform's message: the cleaned text, the metadata the
    channel passes, and the address to answer."""
    return {"text": to_rasa_text(message.text), "metadata": dict(message.metadata or {}),
            "address": dict(address)}  # fmt: skip


# -- the worker ---------------------------------------------------------------------------


@dataclass(frozen=True)
class Stores:
    """Where a worker reads events, remembers addresses and queues answers."""

    inbox: ChannelInbox
    handoffs: HandoffStore
    addresses: AddressBook


@dataclass
class InboxWorker:
    stores: Callable[[], Stores]  # asked each time: the composition root's, as it is now
    channels: tuple[str, ...]
    admit: Handler
    clock: Callable[[], datetime] = _utc_now
    lease: timedelta = LEASE
    retry_pause: float = RETRY_PAUSE_SECONDS
    workers: dict[str, asyncio.Task] = field(default_factory=dict, init=False)
    held: dict[str, int] = field(default_factory=dict, init=False)  # conversation -> event
    _woken: asyncio.Event | None = field(default=None, init=False)
    _renewed: datetime = field(default=datetime(1970, 1, 1, tzinfo=timezone.utc), init=False)

    def wake(self) -> None:
        """A new event was stored: look at once instead of at the next poll."""
        if self._woken is not None:
            self._woken.set()

    async def run(self, poll_seconds: float = POLL_SECONDS) -> None:
        self._woken = asyncio.Event()
        try:
            await relay.rounds("messenger inbox", self.once, self._woken, poll_seconds,
                               FAILED_ROUND_SECONDS)  # fmt: skip
        finally:
            for task in self.workers.values():
                task.cancel()

    async def once(self) -> None:
        """Claims each conversation's oldest open event that nobody works on and starts
        its turn (in a task of its own); renews the claims held."""
        now = self.clock()
        if now - self._renewed >= RENEW_EVERY and self.held:
            self._renewed = now
            await asyncio.to_thread(self.stores().inbox.renew, sorted(self.held.values()))
        inbox = self.stores().inbox
        heads = await asyncio.to_thread(inbox.heads, self.channels)
        for event_id, conversation in heads:
            if conversation in self.workers:
                continue
            if not await asyncio.to_thread(inbox.claim, event_id, self.clock() - self.lease):
                continue  # another worker has it
            self.held[conversation] = event_id
            task = asyncio.get_running_loop().create_task(self._work(event_id))
            self.workers[conversation] = task
            task.add_done_callback(lambda _t, c=conversation: self._done(c))

    def _done(self, conversation: str) -> None:
        self.workers.pop(conversation, None)
        self.held.pop(conversation, None)
        self.wake()  # the conversation's next event, if any

    async def settle(self) -> None:
        """Waits for the turns under way (tests)."""
        await asyncio.gather(*list(self.workers.values()), return_exceptions=True)

    async def _work(self, event_id: int) -> None:
        stores = self.stores()
        event = await asyncio.to_thread(stores.inbox.get, event_id)
        if event is None:
            return
        outcome, answers = await self._answered(stores, event)
        try:
            await asyncio.to_thread(self._finish, stores, event, outcome, answers)
        except Exception as error:  # noqa: BLE001 - left open: the turn runs again
            log.error("%s: recording a turn failed (%s); it runs again",
                      event.channel, type(error).__name__)  # fmt: skip
            await asyncio.sleep(FAILED_ROUND_SECONDS)
            with contextlib.suppress(Exception):  # else its claim runs out
                await asyncio.to_thread(stores.inbox.release, event.id)
            return
        relay.wake()

    async def _answered(
        self, stores: Stores, event: InboundEvent
    ) -> tuple[str, list[tuple[str, list]]]:
        """(outcome, answers) of the event's turn, tried up to TURN_ATTEMPTS times."""
        for attempt in range(1, TURN_ATTEMPTS + 1):
            output = CollectedAnswers()
            try:
                await self.admit(await self._message(stores, event, output))
            except TooManyMessages:
                log.warning("%s: a conversation over its rate limit; a message dropped",
                            event.channel)  # fmt: skip
                return "dropped: over the rate limit", []
            except Exception as error:  # noqa: BLE001 - a failed turn saved nothing
                log.error("%s: a turn failed (%s, attempt %d of %d)", event.channel,
                          type(error).__name__, attempt, TURN_ATTEMPTS)  # fmt: skip
                if attempt < TURN_ATTEMPTS:
                    await asyncio.sleep(self.retry_pause * attempt)
                    continue
                return f"failed: {type(error).__name__}", [(SEND_AGAIN, [])]
            return "answered", output.answers
        return "failed", [(SEND_AGAIN, [])]  # not reached

    async def _message(
        self, stores: Stores, event: InboundEvent, output: CollectedAnswers
    ) -> UserMessage:
        stored = event.message
        address = stored.get("address") or {}
        shown = await asyncio.to_thread(stores.addresses.remember, event.conversation_id,
                                        event.channel, address)  # fmt: skip
        text = str(stored.get("text") or "")
        return UserMessage(chosen_payload(text, shown) or text, output, event.conversation_id,
                           input_channel=event.channel,
                           metadata=stored.get("metadata") or None)  # fmt: skip

    def _finish(
        self, stores: Stores, event: InboundEvent, outcome: str, answers: list[tuple[str, list]]
    ) -> None:
        """The unit of work of a turn: the event done and its answers queued, together."""
        with stores.inbox.engine.begin() as c:
            if not stores.inbox.finish_in(c, event.id, outcome, self.clock()):
                return  # another worker finished it (it took over a claim it thought lost)
            for text, buttons in answers:
                stores.handoffs.add_message_in(
                    c, event.conversation_id, "bot", text, buttons=buttons or None,
                    now=self.clock(),
                )
            if answers:  # the choices a reply "2" means are the last answer's
                last = buttons_from(answers[-1][1])
                stores.addresses.set_menu_in(c, event.conversation_id, last)


# -- one worker per Rasa process, for the channels Rasa was started with ---------------

_channels: dict[str, Handler] = {}


def register(channel: str, admit: Handler) -> None:
    """The channel's messages go to Rasa through `admit` (the gates around Rasa's handler)."""
    _channels[channel] = admit


def accepted(channel: str, event_key: str, conversation_id: str, stored: Mapping[str, Any],
             inbox: ChannelInbox) -> bool:  # fmt: skip
    """Stores a webhook's message; False (counted) when the platform sent it before."""
    fresh = inbox.accept(channel, event_key, conversation_id, stored)
    MESSENGER_EVENTS.labels(channel, "stored" if fresh else "repeated").inc()
    return fresh


def _built() -> InboxWorker | None:
    if not _channels:
        return None
    from wiring.services import services

    admits = dict(_channels)

    async def admit(message: UserMessage) -> Any:
        return await admits[message.input_channel](message)

    def stores() -> Stores:
        found = services()
        return Stores(found.inbox, found.handoffs, found.addresses)

    return InboxWorker(stores, tuple(sorted(admits)), admit)


_background = relay.Background(_built)
start, stop = _background.start, _background.stop
wake = _background.wake  # a new event was stored in this process: look at once
