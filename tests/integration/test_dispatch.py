"""Sending the outbox (`handoff.dispatch`) to local fake SMTP and webhook servers.

The store is SQLite here; the outbox's behaviour on PostgreSQL is test_outbox.py's.
"""

from __future__ import annotations

import logging
from collections.abc import Iterator
from datetime import datetime, timedelta, timezone
from email import message_from_bytes
from email.policy import default as default_policy
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select
from sqlalchemy.engine import Engine

from crm_adapter.outbox import Outbox
from crm_adapter.port import Consent, Meeting, Notification, SalesTask, Visit
from crm_adapter.store import LocalCrm
from crm_adapter.store.models import OutboxRow
from handoff.dispatch import Dispatcher, dispatcher_from_settings
from handoff.ics import meeting_invitation
from handoff.notify import SmtpSender, WebhookSender, notify_settings_from_env
from lotse.migrate import migrate, migrated_engine
from tests.support.fake_servers import FakeSmtpServer, FakeWebhookServer, Reply

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
def outbox(engine: Engine) -> Outbox:
    return Outbox(engine)


def lead(crm: LocalCrm) -> int:
    lead_id = crm.lead_for(Visit("c1", "web")).lead_id
    crm.record_consent(lead_id, CONSENT)
    return lead_id


def callback(crm: LocalCrm, *notify: Notification) -> None:
    crm.add_task(lead(crm), SalesTask("callback", "after 3 pm", None, T0, "anna"), notify)


def rows(engine: Engine) -> list[Any]:
    with engine.connect() as connection:
        return connection.execute(select(OutboxRow).order_by(OutboxRow.id)).all()


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
        settings = notify_settings_from_env(
            {
                "LOTSE_SMTP_HOST": "127.0.0.1",
                "LOTSE_SMTP_PORT": str(mail.port),
                "LOTSE_SLACK_WEBHOOK_URL": hook.url,
            }
        )
        dispatcher = dispatcher_from_settings(engine, settings)
        assert dispatcher.run_once() == 2
        assert dispatcher.run_once() == 0
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
    assert sent.sent_at is not None and posted.sent_at is not None
    assert (teams.sent_at, teams.last_error) == (None, "not configured")
    assert teams.failed_at is not None
    assert Outbox(engine).pending_count() == 0
    for secret in (VISITOR, title, "Tuesday", "secret-token", "New meeting"):
        assert secret not in caplog.text


def test_a_429_is_tried_again_after_its_retry_after(
    crm: LocalCrm, outbox: Outbox, engine: Engine
) -> None:
    callback(crm, chat("New callback request"))
    clock = Clock()
    with FakeWebhookServer(Reply(429, {"Retry-After": "30"})) as hook:
        slack = WebhookSender(hook.url, "slack")
        dispatcher = Dispatcher(outbox, None, slack, None, clock=clock)
        assert dispatcher.run_once() == 0
        [waiting] = rows(engine)
        assert (waiting.attempts, waiting.next_attempt_at, waiting.locked_until) == (
            1,
            T0 + timedelta(seconds=30),
            None,
        )
        assert waiting.last_error == "RetryableNotificationError"
        clock.advance(29)
        assert dispatcher.run_once() == 0 and len(hook.received) == 1
        clock.advance(1)
        assert dispatcher.run_once() == 1
        assert [r.json()["text"] for r in hook.received] == ["New callback request"] * 2
    assert rows(engine)[0].sent_at == T0 + timedelta(seconds=30)


def test_without_retry_after_the_wait_doubles_with_jitter(
    crm: LocalCrm, outbox: Outbox, engine: Engine
) -> None:
    callback(crm, chat("New callback request"))
    clock = Clock()
    with FakeWebhookServer(Reply(503), Reply(502), Reply(200)) as hook:
        dispatcher = Dispatcher(outbox, None, WebhookSender(hook.url, "slack"), None,
                                clock=clock, rng=lambda: 0.75)  # fmt: skip
        assert dispatcher.run_once() == 0
        assert rows(engine)[0].next_attempt_at == T0 + timedelta(seconds=1.5)  # 0.75 * 2
        clock.advance(1.5)
        assert dispatcher.run_once() == 0
        assert rows(engine)[0].next_attempt_at == clock.now + timedelta(seconds=3)  # 0.75 * 4
        clock.advance(3)
        assert dispatcher.run_once() == 1
        assert len(hook.received) == 3


def test_a_permanent_failure_is_not_tried_again(
    crm: LocalCrm, outbox: Outbox, engine: Engine
) -> None:
    refused = Notification("email", "Callback", "Phone: +49 521 1234", ("nobody@nordwerk.example",))
    callback(crm, chat("New callback request"), refused)
    clock = Clock()
    with (
        FakeWebhookServer(Reply(404)) as hook,
        FakeSmtpServer(refuse={"nobody@nordwerk.example": "550 5.1.1 unknown"}) as mail,
    ):
        dispatcher = Dispatcher(outbox, smtp(mail), WebhookSender(hook.url, "slack"), None,
                                clock=clock)  # fmt: skip
        assert dispatcher.run_once() == 0
        clock.advance(3600)
        assert dispatcher.run_once() == 0
        assert len(hook.received) == 1 and mail.received == []
    assert [(r.attempts, r.failed_at, r.last_error) for r in rows(engine)] == [
        (1, T0, "PermanentNotificationError"),
        (1, T0, "PermanentNotificationError"),
    ]
    assert outbox.pending_count() == 0


def test_a_channel_without_a_sender_fails_as_not_configured(
    crm: LocalCrm, outbox: Outbox, engine: Engine
) -> None:
    email = Notification("email", "Callback", "Phone: +49 521 1234", (STAFF,))
    callback(crm, email, chat("for Slack"), Notification("teams", "for Teams", ""))
    assert Dispatcher(outbox, None, None, None, clock=Clock()).run_once() == 0
    assert [(r.channel, r.failed_at, r.last_error) for r in rows(engine)] == [
        ("email", T0, "not configured"),
        ("slack", T0, "not configured"),
        ("teams", T0, "not configured"),
    ]


def test_it_gives_up_after_max_attempts(
    crm: LocalCrm, outbox: Outbox, engine: Engine, caplog: pytest.LogCaptureFixture
) -> None:
    callback(crm, Notification("email", "Callback", "Phone: +49 521 1234", (STAFF,)))
    clock = Clock()
    caplog.set_level(logging.DEBUG)
    with FakeSmtpServer(data_reply="451 4.3.0 try later") as mail:
        dispatcher = Dispatcher(outbox, smtp(mail), None, None, clock=clock, max_attempts=3)
        for _ in range(5):
            assert dispatcher.run_once() == 0
            clock.advance(301)  # past the longest wait (the cap)
        assert mail.commands.count("DATA") == 3
    [given_up] = rows(engine)
    assert (given_up.attempts, given_up.last_error) == (3, "RetryableNotificationError")
    assert given_up.failed_at == T0 + timedelta(seconds=602)
    assert outbox.pending_count() == 0
    assert STAFF not in caplog.text and "+49" not in caplog.text


def test_no_send_starts_in_the_second_half_of_the_lease(crm: LocalCrm, engine: Engine) -> None:
    callback(crm, chat("first"), chat("second"))
    outbox = Outbox(engine, lease=timedelta(seconds=60))
    clock = Clock()

    class SlowWebhook:
        """Takes 40 seconds per message (by the test's clock)."""

        def __init__(self) -> None:
            self.texts: list[str] = []

        def send(self, text: str) -> None:
            self.texts.append(text)
            clock.advance(40)

    slow = SlowWebhook()
    dispatcher = Dispatcher(outbox, None, slow, None, clock=clock)  # type: ignore[arg-type]
    assert dispatcher.run_once() == 1
    assert slow.texts == ["first"]
    assert outbox.due(clock.now) == []  # "second" is still leased to the run...
    clock.advance(20)
    assert dispatcher.run_once() == 1  # ...until its lease ran out
    assert slow.texts == ["first", "second"]
