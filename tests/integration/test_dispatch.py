"""Sending the outbox's notifications (`handoff.dispatch.NotificationConnector` on the
one delivery worker) to local fake SMTP and webhook servers.

The store is SQLite here; the outbox's behaviour on PostgreSQL is test_outbox.py's.
"""

from __future__ import annotations

import logging
from collections.abc import Iterator
from datetime import datetime, timedelta, timezone
from email import message_from_bytes
from email.policy import default as default_policy
from pathlib import Path

import pytest
from sqlalchemy.engine import Engine

from crm_adapter.delivery_worker import MIN_RETRY, DeliveryWorker
from crm_adapter.port import Consent, Meeting, Notification, SalesTask, Visit
from crm_adapter.store import LocalCrm
from crm_adapter.store.crm_events import NOTIFY, EventOutbox
from handoff.dispatch import NotificationConnector, notification_worker
from handoff.ics import meeting_invitation
from handoff.notify import SmtpSender, WebhookSender
from lotse.migrate import migrate, migrated_engine
from lotse.notify_settings import notify_settings
from tests.support.fake_servers import FakeSmtpServer, FakeWebhookServer, Reply
from tests.support.notifications import Queued, queued

T0 = datetime(2025, 3, 3, 9, 0, tzinfo=timezone.utc)
CONSENT = Consent("sales_contact", "v1", "I agree that Nordwerk contacts me.", "en", "web", T0)
VISITOR = "erika@kunde.example"
STAFF = "anna@nordwerk.example"


class Clock:
    """A clock the test moves."""

    def __init__(self, now: datetime = T0) -> None:
        self.now = now

    def __call__(self) -> datetime:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += timedelta(seconds=seconds)


@pytest.fixture
def engine(tmp_path: Path) -> Iterator[Engine]:
    url = f"sqlite:///{tmp_path / 'crm.db'}"
    migrate(url)
    engine = migrated_engine(url)
    yield engine
    engine.dispose()


@pytest.fixture
def crm(engine: Engine) -> LocalCrm:
    return LocalCrm(engine, clock=lambda: T0)


@pytest.fixture
def outbox(engine: Engine) -> EventOutbox:
    return EventOutbox(engine, connector=NOTIFY, ordered=False)


def worker(outbox: EventOutbox, smtp: SmtpSender | None, slack: object, clock: Clock,
           **options: object) -> DeliveryWorker:  # fmt: skip
    connector = NotificationConnector(smtp, slack, None)  # type: ignore[arg-type]
    return DeliveryWorker(outbox, connector, clock, **options)  # type: ignore[arg-type]


def lead(crm: LocalCrm) -> int:
    lead_id = crm.lead_for(Visit("c1", "web")).lead_id
    crm.record_consent(lead_id, CONSENT)
    return lead_id


def callback(crm: LocalCrm, *notify: Notification) -> None:
    crm.add_task(lead(crm), SalesTask("callback", "after 3 pm", None, T0, "anna"), notify)


def rows(engine: Engine) -> list[Queued]:
    return queued(engine)


def smtp(server: FakeSmtpServer) -> SmtpSender:
    return SmtpSender("127.0.0.1", server.port, "lotse@nordwerk.example", timeout=5)


def chat(text: str) -> Notification:
    return Notification("slack", text, "")


def test_a_meeting_invitation_and_a_slack_message_are_delivered(
    crm: LocalCrm, engine: Engine, caplog: pytest.LogCaptureFixture
) -> None:
    start = T0 + timedelta(days=1)
    ics = meeting_invitation(
        uid="m1@lotse", start=start, end=start + timedelta(minutes=30),
        summary="Meeting with Nordwerk (Anna)", description="Your meeting with Anna",
        organizer=("Anna", STAFF), attendees=[(VISITOR, VISITOR)], now=T0,
    )  # fmt: skip
    title = "Meeting with Nordwerk (Anna)"
    notify = [
        Notification("email", title, "Your meeting with Anna: Tuesday 9:00.", (VISITOR,), ics),
        Notification("slack", "New meeting for Anna", "Lead 1, Tuesday 9:00"),
        Notification("teams", "New meeting for Anna", "Lead 1, Tuesday 9:00"),
    ]
    crm.book_meeting(lead(crm), Meeting("anna", start, start + timedelta(minutes=30), title, T0),
                     notify)  # fmt: skip
    caplog.set_level(logging.DEBUG)
    with FakeSmtpServer() as mail, FakeWebhookServer() as hook:
        settings = notify_settings(
            {
                "LOTSE_SMTP_HOST": "127.0.0.1",
                "LOTSE_SMTP_PORT": str(mail.port),
                "LOTSE_SLACK_WEBHOOK_URL": hook.url,
            }
        )
        notifier = notification_worker(engine, settings)
        assert notifier.run_once() == 2
        assert notifier.run_once() == 0
    [received] = mail.received
    assert received.rcpt_to == [VISITOR]
    message = message_from_bytes(received.data, policy=default_policy)
    assert message["Subject"] == title
    assert "Tuesday 9:00" in message.get_body(("plain",)).get_content()
    [invite] = list(message.iter_attachments())
    assert invite.get_filename() == "invite.ics"
    assert invite.get_content().replace("\r\n", "\n") == ics.replace("\r\n", "\n")
    assert [request.json() for request in hook.received] == [
        {"text": "New meeting for Anna\nLead 1, Tuesday 9:00"}
    ]
    sent, posted, teams = rows(engine)
    assert sent.delivered and posted.delivered
    assert (teams.delivered, teams.dead) == (False, True)
    assert teams.last_error == "PermanentDeliveryError: teams: not configured"
    assert EventOutbox(engine, connector=NOTIFY).pending_count() == 0
    for secret in (VISITOR, title, "Tuesday", "secret-token", "New meeting"):
        assert secret not in caplog.text


def test_a_429_is_tried_again_after_its_retry_after(
    crm: LocalCrm, outbox: EventOutbox, engine: Engine
) -> None:
    callback(crm, chat("New callback request"))
    clock = Clock()
    with FakeWebhookServer(Reply(429, {"Retry-After": "30"})) as hook:
        notifier = worker(outbox, None, WebhookSender(hook.url, "slack"), clock)
        assert notifier.run_once() == 0
        [waiting] = rows(engine)
        assert (waiting.attempts, waiting.delivered, waiting.dead) == (1, False, False)
        assert waiting.last_error == "RetryableDeliveryError: slack: RetryableNotificationError"
        clock.advance(29)
        assert notifier.run_once() == 0 and len(hook.received) == 1
        clock.advance(1)
        assert notifier.run_once() == 1
        assert [r.json()["text"] for r in hook.received] == ["New callback request"] * 2
    assert rows(engine)[0].delivered


def test_without_retry_after_the_wait_doubles_with_jitter_from_min_retry(
    crm: LocalCrm, outbox: EventOutbox, engine: Engine
) -> None:
    callback(crm, chat("New callback request"))
    clock = Clock()
    with FakeWebhookServer(*[Reply(503)] * 4, Reply(200)) as hook:
        notifier = worker(outbox, None, WebhookSender(hook.url, "slack"), clock, rng=lambda: 0.99)
        waits = []
        for _ in range(4):
            assert notifier.run_once() == 0
            due = rows(engine)[0].next_attempt_at
            waits.append(round((due - clock.now).total_seconds(), 2))
            clock.now = due
        assert notifier.run_once() == 1 and len(hook.received) == 5
    # 0.99 * 2, * 4, * 8, * 16 seconds, never less than MIN_RETRY
    assert waits == [MIN_RETRY, MIN_RETRY, 7.92, 15.84]


def test_a_permanent_failure_is_not_tried_again(
    crm: LocalCrm, outbox: EventOutbox, engine: Engine
) -> None:
    refused = Notification("email", "Callback", "Phone: +49 521 1234", ("nobody@nordwerk.example",))
    callback(crm, chat("New callback request"), refused)
    clock = Clock()
    with (
        FakeWebhookServer(Reply(404)) as hook,
        FakeSmtpServer(refuse={"nobody@nordwerk.example": "550 5.1.1 unknown"}) as mail,
    ):
        notifier = worker(outbox, smtp(mail), WebhookSender(hook.url, "slack"), clock)
        assert notifier.run_once() == 0
        clock.advance(3600)
        assert notifier.run_once() == 0
        assert len(hook.received) == 1 and mail.received == []
    assert [(r.attempts, r.dead, r.last_error) for r in rows(engine)] == [
        (1, True, "PermanentDeliveryError: slack: PermanentNotificationError"),
        (1, True, "PermanentDeliveryError: email: PermanentNotificationError"),
    ]
    assert outbox.pending_count() == 0


def test_a_channel_without_a_sender_is_a_dead_letter_until_revived(
    crm: LocalCrm, outbox: EventOutbox, engine: Engine
) -> None:
    email = Notification("email", "Callback", "Phone: +49 521 1234", (STAFF,))
    callback(crm, email, chat("for Slack"), Notification("teams", "for Teams", ""))
    clock = Clock()
    assert worker(outbox, None, None, clock).run_once() == 0
    assert [(r.channel, r.dead, r.last_error) for r in rows(engine)] == [
        ("email", True, "PermanentDeliveryError: email: not configured"),
        ("slack", True, "PermanentDeliveryError: slack: not configured"),
        ("teams", True, "PermanentDeliveryError: teams: not configured"),
    ]
    # Configured later: `lotse deliveries retry` revives them, the worker sends them.
    with FakeSmtpServer() as mail:
        for letter in outbox.dead_letters():
            outbox.revive(letter["id"], clock())
        assert worker(outbox, smtp(mail), None, clock).run_once() == 1
        assert [m.rcpt_to for m in mail.received] == [[STAFF]]


def test_it_gives_up_after_max_attempts(
    crm: LocalCrm, outbox: EventOutbox, engine: Engine, caplog: pytest.LogCaptureFixture
) -> None:
    callback(crm, Notification("email", "Callback", "Phone: +49 521 1234", (STAFF,)))
    clock = Clock()
    caplog.set_level(logging.DEBUG)
    with FakeSmtpServer(data_reply="451 4.3.0 try later") as mail:
        notifier = worker(outbox, smtp(mail), None, clock, max_attempts=3)
        for _ in range(5):
            assert notifier.run_once() == 0
            clock.advance(301)  # past the longest wait (the cap)
        assert mail.commands.count("DATA") == 3
    [given_up] = rows(engine)
    assert (given_up.attempts, given_up.dead) == (3, True)
    assert given_up.last_error == "RetryableDeliveryError: email: RetryableNotificationError"
    assert outbox.pending_count() == 0
    assert STAFF not in caplog.text and "+49" not in caplog.text


def test_no_send_starts_with_less_than_a_quarter_of_the_lease_left(
    crm: LocalCrm, engine: Engine
) -> None:
    callback(crm, chat("first"), chat("second"))
    outbox = EventOutbox(engine, timedelta(seconds=60), connector=NOTIFY, ordered=False)
    clock = Clock()

    class SlowWebhook:
        """Takes 50 seconds per message (by the test's clock)."""

        def __init__(self) -> None:
            self.texts: list[str] = []

        def send(self, text: str) -> None:
            self.texts.append(text)
            clock.advance(50)

    slow = SlowWebhook()
    notifier = worker(outbox, None, slow, clock)
    assert notifier.run_once() == 1
    assert slow.texts == ["first"]  # "second" had 10 of 60 seconds left: released
    assert notifier.run_once() == 1  # taken again at once, with a lease of its own
    assert slow.texts == ["first", "second"]
