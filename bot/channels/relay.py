"""During a handoff, what staff write reaches the visitor on their messenger.

The staff console writes a handoff's messages (a colleague's replies, the notices that
someone joined or closed, the bot's words after a hand-back or an unclaimed wait) to
the handoff store; the website widget long-polls for them. For a conversation on a
messenger, a `Relay` in each Rasa process watches the store's events (every
POLL_SECONDS) and sends those messages through the channel's `Outlet`, rendered for
the platform like the bot's own.

Delivery: once, in order, and never silently lost.

- Claim: each new message is claimed (`AddressBook.claim`: of several replicas exactly
  one sends it) and queued for its conversation. The event cursor moves past a round's
  events once their messages are claimed; a conversation whose claiming failed (the
  database) is looked at again in the next round.
- Send: a conversation's messages go one at a time, in order, each part of a long
  message once: a retry goes on with the first part the platform did not take. A
  message is recorded as sent only when the platform took its last part.
- Retry: `PlatformBusy` (429, 5xx, no connection; `bot.channels.outlet`) is tried
  again after the platform's Retry-After when it gave one, else after a backoff
  (`RetryPolicy`: 1 s doubling to 60 s, with up to 20 % jitter), as long as the
  message is younger than its delivery window (an hour); the messages after it wait.
- Give up, recorded and shown: a refusal (`PlatformRefused`) at once; a send without
  an answer (`DeliveryUnknown`) at once, since sending it again might show it twice;
  a platform still busy at the end of the window; a message already older than the
  window when a relay first sees it (written while no Rasa process ran). The reason
  goes into `channel_deliveries.error`, and a note on the handoff (author "lotse")
  tells staff in the console what did not arrive and why (`failure_note`).
- Replicas: a relay renews the claims it holds (every RENEW_EVERY); an open claim
  older than LEASE belongs to a relay that stopped, and another takes it over (one
  winner). A message waits while an earlier one of its conversation is open at
  another relay, so the order holds across replicas. A relay stopped after a platform
  took a message but before recording it leaves it open: it is sent again (at least
  once, not exactly once, in that case).

Message texts are personal data: never logged (log lines name the channel and the
error class); a failure note quotes the message's beginning, in the same store.

Each messenger channel registers its outlet (`register`) when Rasa builds its
blueprint and starts the relay with the server (`start`/`stop`, Sanic listeners).
"""

from __future__ import annotations

import asyncio
import bisect
import contextlib
import logging
import random
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone
from typing import Any

from bot.channels.outlet import DeliveryUnknown, Outlet, PlatformBusy
from conversations.address_book import AddressBook
from conversations.rendering import Part, buttons_from
from handoff.store import HandoffStore, Message, utc_now
from lotse.metrics import DEAD_LETTERS
from wiring.services import services

POLL_SECONDS = 0.25
LOOKBACK_EVENTS = 500  # at start, events looked at again (claims keep sends unique)
RELAYED = ("agent", "system", "bot")
DELIVERY_WINDOW = timedelta(hours=1)
LEASE = timedelta(minutes=2)
RENEW_EVERY = timedelta(seconds=30)
SWEEP_EVERY = timedelta(seconds=5)
ORDER_WAIT = timedelta(seconds=1)  # an earlier message is open at another relay
FAILED_ROUND_WAIT = timedelta(seconds=1)  # the database failed during a delivery
NOTE_AUTHOR = "lotse"
EXCERPT_CHARS = 120
PLATFORMS = {"telegram": "Telegram", "facebook": "Facebook Messenger", "twilio": "WhatsApp",
             "slack": "Slack", "botframework": "Microsoft Teams"}  # fmt: skip
REFUSED, UNKNOWN, BUSY, EXPIRED = "refused", "unknown", "busy", "expired"
_EPOCH = datetime(1970, 1, 1, tzinfo=timezone.utc)
log = logging.getLogger(__name__)


@dataclass(frozen=True)
class RetryPolicy:
    """When to try a busy platform again, and for how long."""

    first: timedelta = timedelta(seconds=1)
    longest: timedelta = timedelta(seconds=60)
    jitter: float = 0.2
    window: timedelta = DELIVERY_WINDOW  # from when the message was written

    def wait(self, attempt: int, retry_after: float | None) -> timedelta:
        """After the `attempt`-th failure: the platform's Retry-After, else the backoff."""
        if retry_after is not None:
            return timedelta(seconds=retry_after)
        backoff = min(self.longest.total_seconds(), self.first.total_seconds() * 2 ** (attempt - 1))
        return timedelta(seconds=backoff * (1 + random.uniform(0, self.jitter)))


@dataclass
class Delivery:
    """One claimed message on its way; `done` parts the platform took."""

    message: Message
    channel: str
    address: dict[str, Any]
    due: datetime
    parts: list[Part] | None = None
    done: int = 0
    attempts: int = 0
    last_error: str = ""
    given_up: tuple[str, str] | None = None  # (kind, reason), once decided
    after_earlier: bool = False  # waits for an earlier message open at another relay

    @property
    def id(self) -> int:
        return self.message.id


@dataclass
class Relay:
    store: HandoffStore
    book: AddressBook
    outlets: Mapping[str, Outlet]
    clock: Callable[[], datetime] = utc_now
    policy: RetryPolicy = field(default_factory=RetryPolicy)
    lease: timedelta = LEASE
    queues: dict[str, list[Delivery]] = field(default_factory=dict, init=False)
    workers: dict[str, asyncio.Task] = field(default_factory=dict, init=False)
    recheck: set[str] = field(default_factory=set, init=False)
    latest: int = field(default=0, init=False)
    latest_unhanded: int = field(default=0, init=False)  # the bot's queued answers
    _woken: asyncio.Event | None = field(default=None, init=False)
    _swept: datetime = field(default=_EPOCH, init=False)
    _renewed: datetime = field(default=_EPOCH, init=False)

    def __post_init__(self) -> None:
        self.outlets = dict(self.outlets)
        self.latest = max(0, self.store.latest_event_id() - LOOKBACK_EVENTS)
        self.latest_unhanded = max(0, self.store.latest_message_id() - LOOKBACK_EVENTS)

    def wake(self) -> None:
        """Something was queued: look at once instead of at the next poll."""
        if self._woken is not None:
            self._woken.set()

    async def run(self, poll_seconds: float = POLL_SECONDS) -> None:
        self._woken = asyncio.Event()
        try:
            await rounds("handoff relay", self.once, self._woken, poll_seconds)
        finally:
            for task in self.workers.values():
                task.cancel()

    async def once(self) -> None:
        """One round: claims what is new, takes over what a stopped relay left, renews
        this relay's claims, and starts sending where a conversation's next message is
        due (in tasks of their own: a slow platform holds up no other conversation)."""
        await self._claim_new()
        now = self.clock()
        if now - self._swept >= SWEEP_EVERY:
            self._swept = now
            await self._take_over()
        if now - self._renewed >= RENEW_EVERY:
            self._renewed = now
            await asyncio.to_thread(self.book.renew, sorted(self._held()))
        for conversation, queue in self.queues.items():
            if queue and conversation not in self.workers and queue[0].due <= now:
                task = asyncio.get_running_loop().create_task(self._work(conversation))
                self.workers[conversation] = task
                task.add_done_callback(lambda _t, c=conversation: self.workers.pop(c, None))

    async def settle(self) -> None:
        """Waits for the sends under way (tests)."""
        await asyncio.gather(*list(self.workers.values()), return_exceptions=True)

    # -- claiming ------------------------------------------------------------------

    def _ours(self, conversation_id: str) -> bool:
        return conversation_id.partition(":")[0] in self.outlets

    def _held(self) -> set[int]:
        return {d.id for queue in self.queues.values() for d in queue}

    async def _claim_new(self) -> None:
        fresh = await asyncio.to_thread(self.store.changed_since, self.latest)
        answers = await asyncio.to_thread(self.store.unhanded_since, self.latest_unhanded)
        conversations = {c for _, c in fresh + answers if self._ours(c)} | self.recheck
        self.recheck = set()
        for conversation in sorted(conversations):
            try:
                await self._claim(conversation)
            except Exception as error:  # noqa: BLE001 - looked at again next round
                log.error("handoff relay: claiming failed (%s); trying again",
                          type(error).__name__)  # fmt: skip
                self.recheck.add(conversation)
        if fresh:
            self.latest = fresh[-1][0]
        if answers:
            self.latest_unhanded = answers[-1][0]

    async def _claim(self, conversation_id: str) -> None:
        target = await asyncio.to_thread(self.book.address, conversation_id)
        if target is None or target[0] not in self.outlets:
            return
        found = await asyncio.to_thread(self.store.messages, conversation_id, 0, RELAYED)
        held = self._held()
        candidates = [m for m in found if relayed(m) and m.id not in held]
        taken = await asyncio.to_thread(self.book.claimed, [m.id for m in candidates])
        for message in candidates:
            if message.id in taken:
                continue
            if await asyncio.to_thread(self.book.claim, message.id, conversation_id):
                self._queue(Delivery(message, target[0], target[1], self.clock()))

    async def _take_over(self) -> None:
        cutoff = self.clock() - self.lease
        held = self._held()
        for message_id, conversation_id in await asyncio.to_thread(self.book.abandoned, cutoff):
            if message_id in held or not self._ours(conversation_id):
                continue
            if not await asyncio.to_thread(self.book.take_over, message_id, cutoff):
                continue  # another relay was first
            target = await asyncio.to_thread(self.book.address, conversation_id)
            found = await asyncio.to_thread(self.store.messages, conversation_id, 0, RELAYED)
            message = next((m for m in found if m.id == message_id), None)
            if target is None or target[0] not in self.outlets or message is None:
                await asyncio.to_thread(self.book.failed, message_id, "gone: no address or text")
                continue
            self._queue(Delivery(message, target[0], target[1], self.clock()))

    def _queue(self, delivery: Delivery) -> None:
        queue = self.queues.setdefault(delivery.message.conversation_id, [])
        bisect.insort(queue, delivery, key=lambda d: d.id)

    # -- sending -------------------------------------------------------------------

    async def _work(self, conversation_id: str) -> None:
        """Sends the conversation's due messages in order; stops at one to retry later."""
        queue = self.queues.get(conversation_id, [])
        while queue:
            head = queue[0]
            if head.due > self.clock():
                return
            try:
                if await self._earlier_elsewhere(head):
                    head.due, head.after_earlier = self.clock() + ORDER_WAIT, True
                    return
                if not await self._attempt(head):
                    return
            except Exception as error:  # noqa: BLE001 - recording failed: the next round
                log.error("handoff relay: recording a delivery failed (%s); trying again",
                          type(error).__name__)  # fmt: skip
                head.due = self.clock() + FAILED_ROUND_WAIT
                return
            queue.pop(0)
            if queue and queue[0].after_earlier:  # the earlier one was taken over: go on
                queue[0].due, queue[0].after_earlier = self.clock(), False
        if not queue:
            self.queues.pop(conversation_id, None)

    async def _earlier_elsewhere(self, head: Delivery) -> bool:
        earlier = await asyncio.to_thread(
            self.book.open_before, head.message.conversation_id, head.id
        )
        return bool(earlier - self._held())

    async def _attempt(self, d: Delivery) -> bool:
        """True when `d` is done with (sent, or given up and recorded); False to retry."""
        first_try = d.given_up is None and d.parts is None
        if first_try and self.clock() - d.message.at > self.policy.window:
            d.given_up = (EXPIRED, "written before the delivery window")
        if d.given_up is None and (d.parts is None or d.done < len(d.parts)):
            try:
                await self._send(d)
            except PlatformBusy as busy:
                return await self._busy(d, busy)
            except DeliveryUnknown as error:
                d.given_up = (UNKNOWN, str(error))
            except Exception as error:  # noqa: BLE001 - refused, or a client's own error
                d.given_up = (REFUSED, str(error) or type(error).__name__)
        if d.given_up is not None:
            await self._record_failure(d)
            return True
        await asyncio.to_thread(self.book.sent, d.id)
        return True

    async def _send(self, d: Delivery) -> None:
        outlet = self.outlets[d.channel]
        if d.parts is None:
            buttons = buttons_from(list(d.message.buttons or ()))
            d.parts = outlet.parts(visible_text(d.message), buttons)
            if d.message.handoff_id is not None:  # a turn's answers set it when queued
                await asyncio.to_thread(self.book.set_menu, d.message.conversation_id, buttons)
        while d.done < len(d.parts):
            await outlet.send(d.address, d.parts[d.done])
            d.done += 1

    async def _busy(self, d: Delivery, busy: PlatformBusy) -> bool:
        d.attempts += 1
        d.last_error = str(busy)
        due = self.clock() + self.policy.wait(d.attempts, busy.retry_after)
        if due - d.message.at <= self.policy.window:
            d.due = due
            return False
        d.given_up = (BUSY, f"{d.last_error}; {d.attempts} attempts")
        await self._record_failure(d)
        return True

    async def _record_failure(self, d: Delivery) -> None:
        kind, reason = d.given_up or (REFUSED, "")
        log.warning("%s: a message was not delivered (%s)", d.channel, kind)
        DEAD_LETTERS.labels(d.channel, kind).inc()
        await asyncio.to_thread(self.book.failed, d.id, f"{kind}: {reason}")
        try:
            await asyncio.to_thread(self._note, d, kind, reason)
        except Exception as error:  # noqa: BLE001 - the delivery row keeps the failure
            log.error("handoff relay: the note on an undelivered message failed (%s)",
                      type(error).__name__)  # fmt: skip

    def _note(self, d: Delivery, kind: str, reason: str) -> None:
        if d.message.handoff_id is None:
            return
        handoff = self.store.get(d.message.handoff_id)
        note = failure_note(d.channel, d.message, kind, reason, self.policy.window)
        self.store.add_note(handoff, NOTE_AUTHOR, note)


async def rounds(
    name: str, once: Callable[[], Awaitable[None]], woken: asyncio.Event, poll_seconds: float,
    failed_pause: float = 0.0,
) -> None:  # fmt: skip
    """Runs `once` every `poll_seconds`, sooner when `woken` is set, for ever; a round
    that fails (the database restarting) is logged by its error class, and after
    `failed_pause` the next one follows."""
    while True:
        try:
            await once()
        except Exception as error:  # noqa: BLE001 - the database may be restarting
            log.error("%s: a round failed (%s); trying again", name, type(error).__name__)
            await asyncio.sleep(failed_pause)
        await pause(woken, poll_seconds)


async def pause(woken: asyncio.Event, seconds: float) -> None:
    """Waits `seconds`, or less when `woken` is set meanwhile; clears it."""
    with contextlib.suppress(asyncio.TimeoutError):
        await asyncio.wait_for(woken.wait(), seconds)
    woken.clear()


def relayed(message: Message) -> bool:
    """A message for the person: of a handoff (staff, notices, the bot after it), or
    the bot's answer to a messenger turn (`bot.channels.inbox`, no handoff)."""
    return message.handoff_id is not None or message.sender == "bot"


def visible_text(message: Message) -> str:
    """A colleague's reply says who wrote it, as the widget shows it."""
    if message.sender == "agent" and message.author_label:
        return f"{message.author_label}: {message.text}"
    return message.text


def failure_note(channel: str, message: Message, kind: str, reason: str, window: timedelta) -> str:
    """What staff read in the console about a message the person did not get."""
    platform = PLATFORMS.get(channel, channel)
    text = visible_text(message)
    excerpt = text if len(text) <= EXCERPT_CHARS else text[:EXCERPT_CHARS].rstrip() + "…"
    written = message.at.astimezone(timezone.utc).strftime("%H:%M UTC")
    minutes = round(window.total_seconds() / 60)
    if kind == UNKNOWN:
        return (f"Perhaps not delivered on {platform}: “{excerpt}” (written {written}). "
                f"The platform gave no answer ({reason}), so it was not sent again: it may "
                "or may not have arrived. Ask the person, or write again.")  # fmt: skip
    why = {
        REFUSED: f"{platform} refused it ({reason}).",
        BUSY: f"{platform} did not take messages for {minutes} minutes ({reason}).",
        EXPIRED: f"No relay could send it within {minutes} minutes; it was not sent late.",
    }.get(kind, reason)
    return (f"Not delivered on {platform}: “{excerpt}” (written {written}). {why} "
            "The person has not seen it: please reach them another way.")  # fmt: skip


# -- one relay per Rasa process, for the channels Rasa was started with ---------------

class Background:
    """One polling loop per process (the relay, the messengers' inbox worker), built by
    `build` when the server starts (None: nothing to run) and cancelled when it stops;
    `start` and `stop` are Sanic listeners."""

    def __init__(self, build: Callable[[], Any]) -> None:
        self.build = build
        self.runner: Any = None
        self.task: asyncio.Task | None = None

    def wake(self) -> None:
        if self.runner is not None:
            self.runner.wake()

    async def start(self, _app: Any = None, _loop: Any = None) -> None:
        if self.task is not None:
            return
        self.runner = self.build()
        if self.runner is not None:
            self.task = asyncio.get_running_loop().create_task(self.runner.run())

    async def stop(self, _app: Any = None, _loop: Any = None) -> None:
        if self.task is not None:
            self.task.cancel()
        self.task, self.runner = None, None


_outlets: dict[str, Outlet] = {}


def register(outlet: Outlet) -> None:
    _outlets[outlet.channel] = outlet


def _built() -> Relay | None:
    return Relay(services().handoffs, services().addresses, _outlets) if _outlets else None


_background = Background(_built)
start, stop = _background.start, _background.stop
wake = _background.wake  # the bot's answers were queued in this process: send them now
