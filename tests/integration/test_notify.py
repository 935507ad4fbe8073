"""Email and webhook notifications (`handoff.notify`) against local fake servers."""

from __future__ import annotations

import logging
import socket
import time
from datetime import datetime, timedelta, timezone
from email import message_from_bytes
from email.message import EmailMessage
from email.policy import default as default_policy
from email.utils import format_datetime

import pytest
import requests

from handoff.ics import meeting_invitation
from handoff.notify import (
    Email,
    NotificationError,
    PermanentNotificationError,
    RetryableNotificationError,
    SmtpSender,
    WebhookSender,
)
from lotse.notify_settings import NotifySettings, notify_settings
from lotse.retry import backoff, parse_retry_after
from lotse.settings import SettingsError, load_settings
from tests.support.fake_servers import FakeSmtpServer, FakeWebhookServer, Reply, unused_port

SUBJECT = "Rückruf gewünscht: Müller GmbH – Größe 250"
BODY = "Grüße!\nAnna Müller möchte über Ölpumpen sprechen.\n.\n..a line starting with dots\n"


def invite() -> str:
    start = datetime(2024, 3, 5, 9, 0, tzinfo=timezone.utc)
    return meeting_invitation(
        uid="handoff-7@lotse.example",
        start=start,
        end=start + timedelta(minutes=30),
        summary="Erstgespräch",
        description="Über " * 40,
        organizer=("Jana Vogt", "jana@nordwerk.example"),
        attendees=[("Anna Müller", "anna@kunde.example")],
        now=start,
    )


def sender_for(server: FakeSmtpServer, **options: object) -> SmtpSender:
    return SmtpSender("127.0.0.1", server.port, "lotse@nordwerk.example", **options)  # type: ignore[arg-type]


def parse(raw: bytes) -> EmailMessage:
    message = message_from_bytes(raw, policy=default_policy)
    assert isinstance(message, EmailMessage)
    return message


# ---------------------------------------------------------------------------- SMTP


def test_plain_email_arrives_intact() -> None:
    with FakeSmtpServer() as server:
        sender_for(server).send(Email(("sales@nordwerk.example",), SUBJECT, BODY))
        (mail,) = server.received
    assert mail.mail_from == "lotse@nordwerk.example"
    assert mail.rcpt_to == ["sales@nordwerk.example"]
    message = parse(mail.data)
    assert message["Subject"] == SUBJECT
    assert message["From"] == "lotse@nordwerk.example"
    assert message["To"] == "sales@nordwerk.example"
    assert message["Message-ID"].endswith("@nordwerk.example>")
    assert message.get_content_type() == "text/plain"
    assert message.get_content_charset() == "utf-8"
    assert message.get_content().replace("\r\n", "\n") == BODY
    assert all(byte < 128 for byte in mail.data)  # 7-bit clean on the wire


def test_email_with_invitation_attaches_the_ics_unchanged() -> None:
    ics = invite()
    recipients = ("sales@nordwerk.example", "jana@nordwerk.example")
    with FakeSmtpServer() as server:
        sender_for(server).send(Email(recipients, SUBJECT, BODY, ics=ics))
        (mail,) = server.received
    assert mail.rcpt_to == list(recipients)
    message = parse(mail.data)
    assert message.get_content_type() == "multipart/mixed"
    assert message["Subject"] == SUBJECT
    body, attachment = list(message.iter_parts())
    assert body.get_content().replace("\r\n", "\n") == BODY
    assert attachment.get_content_type() == "text/calendar"
    assert attachment.get_param("method") == "REQUEST"
    assert attachment.get_content_charset() == "utf-8"
    assert attachment.get_filename() == "invite.ics"
    assert attachment.get_payload(decode=True) == ics.encode("utf-8")


@pytest.mark.parametrize(
    "email",
    [
        Email(("sales@nordwerk.example",), "Hallo\r\nBcc: victim@example.com", BODY),
        Email(("sales@nordwerk.example",), "Hallo\nX-Evil: 1", BODY),
        Email(("sales@nordwerk.example\r\nBcc: victim@example.com",), "Hallo", BODY),
        Email(("Anna <anna@kunde.example>, eve@example.com",), "Hallo", BODY),
        Email(("not-an-address",), "Hallo", BODY),
        Email((), "Hallo", BODY),
    ],
)
def test_header_injection_and_bad_addresses_are_refused_before_connecting(email: Email) -> None:
    with FakeSmtpServer() as server:
        with pytest.raises(PermanentNotificationError):
            sender_for(server).send(email)
        assert server.commands == []
        assert server.received == []


def test_server_down_is_retryable() -> None:
    sender = SmtpSender("127.0.0.1", unused_port(), "lotse@nordwerk.example", timeout=2)
    with pytest.raises(RetryableNotificationError) as caught:
        sender.send(Email(("sales@nordwerk.example",), "Hallo", BODY))
    assert caught.value.retry_after is None


def test_silent_server_times_out_as_retryable() -> None:
    with socket.socket() as listener:
        listener.bind(("127.0.0.1", 0))
        listener.listen()  # accepts the TCP handshake, never greets
        sender = SmtpSender(
            "127.0.0.1", listener.getsockname()[1], "lotse@nordwerk.example", timeout=0.5
        )
        started = time.monotonic()
        with pytest.raises(RetryableNotificationError):
            sender.send(Email(("sales@nordwerk.example",), "Hallo", BODY))
        assert time.monotonic() - started < 2


def test_refused_recipient_is_permanent_and_leaks_no_address(
    caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level(logging.DEBUG)
    refuse = {"gone@kunde.example": "550 5.1.1 <gone@kunde.example>: user unknown"}
    with FakeSmtpServer(refuse=refuse) as server:
        with pytest.raises(PermanentNotificationError) as caught:
            sender_for(server).send(Email(("gone@kunde.example",), SUBJECT, BODY))
        assert server.received == []
        assert "RSET" in server.commands
    assert "gone@kunde.example" not in str(caught.value)
    assert caught.value.__cause__ is None and caught.value.__suppress_context__
    assert "gone@kunde.example" not in caplog.text


def test_partly_refused_recipients_deliver_to_the_others_and_report() -> None:
    refuse = {"gone@kunde.example": "550 5.1.1 user unknown"}
    with FakeSmtpServer(refuse=refuse) as server:
        with pytest.raises(PermanentNotificationError, match="1 of 2"):
            sender_for(server).send(
                Email(("gone@kunde.example", "sales@nordwerk.example"), SUBJECT, BODY)
            )
        (mail,) = server.received
    assert mail.rcpt_to == ["sales@nordwerk.example"]


def test_deferred_recipient_is_retryable() -> None:
    refuse = {"busy@kunde.example": "450 4.2.1 mailbox busy"}
    with FakeSmtpServer(refuse=refuse) as server, pytest.raises(RetryableNotificationError):
        sender_for(server).send(Email(("busy@kunde.example",), SUBJECT, BODY))


@pytest.mark.parametrize(
    ("reply", "error"),
    [
        ("451 4.3.0 local problem, try later", RetryableNotificationError),
        ("554 5.7.1 message rejected", PermanentNotificationError),
    ],
)
def test_data_reply_codes_map_to_the_hierarchy(reply: str, error: type[NotificationError]) -> None:
    with FakeSmtpServer(data_reply=reply) as server, pytest.raises(error):
        sender_for(server).send(Email(("sales@nordwerk.example",), SUBJECT, BODY))


def test_greeting_421_is_retryable() -> None:
    with (
        FakeSmtpServer(greeting="421 4.3.2 too busy") as server,
        pytest.raises(RetryableNotificationError),
    ):
        sender_for(server).send(Email(("sales@nordwerk.example",), SUBJECT, BODY))


def test_starttls_not_offered_is_permanent() -> None:
    with FakeSmtpServer() as server, pytest.raises(PermanentNotificationError, match="STARTTLS"):
        sender_for(server, starttls=True).send(Email(("sales@nordwerk.example",), "Hi", BODY))


# ---------------------------------------------------------------------------- webhooks

TEXT = "Neuer Lead: Anna Müller (anna@kunde.example) möchte zurückgerufen werden"


def test_slack_payload_shape() -> None:
    with FakeWebhookServer() as server:
        WebhookSender(server.url, "slack").send(TEXT)
        (request,) = server.received
    assert request.path == "/hooks/T000/B000/secret-token"
    assert request.headers["Content-Type"] == "application/json"
    assert request.json() == {"text": TEXT}


def test_teams_payload_shape() -> None:
    with FakeWebhookServer() as server:
        WebhookSender(server.url, "teams").send(TEXT)
        (request,) = server.received
    assert request.json() == {
        "@type": "MessageCard",
        "@context": "https://schema.org/extensions",
        "text": TEXT,
    }


def test_injected_session_is_used() -> None:
    class CountingSession(requests.Session):
        posts = 0

        def post(self, *args, **kwargs):  # type: ignore[no-untyped-def]
            CountingSession.posts += 1
            return super().post(*args, **kwargs)

    with FakeWebhookServer() as server, CountingSession() as session:
        WebhookSender(server.url, "slack", session=session).send("hi")
        assert CountingSession.posts == 1 and len(server.received) == 1


def test_429_with_retry_after_is_retryable_and_carries_the_delay() -> None:
    with FakeWebhookServer(Reply(429, {"Retry-After": "7"}), Reply(200)) as server:
        sender = WebhookSender(server.url, "slack")
        with pytest.raises(RetryableNotificationError) as caught:
            sender.send(TEXT)
        assert caught.value.retry_after == 7.0
        sender.send(TEXT)  # the next attempt goes through
        assert len(server.received) == 2


def test_retry_after_as_http_date() -> None:
    later = format_datetime(datetime.now(timezone.utc) + timedelta(seconds=30), usegmt=True)
    with (
        FakeWebhookServer(Reply(429, {"Retry-After": later})) as server,
        pytest.raises(RetryableNotificationError) as caught,
    ):
        WebhookSender(server.url, "teams").send(TEXT)
    assert caught.value.retry_after is not None and 20 < caught.value.retry_after <= 30


@pytest.mark.parametrize("status", [500, 502, 503])
def test_server_errors_are_retryable(status: int) -> None:
    with (
        FakeWebhookServer(Reply(status)) as server,
        pytest.raises(RetryableNotificationError) as caught,
    ):
        WebhookSender(server.url, "slack").send(TEXT)
    assert caught.value.retry_after is None


@pytest.mark.parametrize("status", [400, 403, 404, 410, 301])
def test_client_errors_and_redirects_are_permanent(status: int) -> None:
    reply = Reply(status, {"Location": "http://127.0.0.1:1/elsewhere"})
    with FakeWebhookServer(reply) as server:
        with pytest.raises(PermanentNotificationError):
            WebhookSender(server.url, "slack").send(TEXT)
        assert len(server.received) == 1


def test_hanging_server_times_out_as_retryable_within_a_second() -> None:
    with FakeWebhookServer(Reply(hang=10)) as server:
        sender = WebhookSender(server.url, "slack", timeout=0.5)
        started = time.monotonic()
        with pytest.raises(RetryableNotificationError):
            sender.send(TEXT)
        elapsed = time.monotonic() - started
    assert 0.4 < elapsed < 1.5


def test_unreachable_webhook_is_retryable() -> None:
    url = f"http://127.0.0.1:{unused_port()}/hooks/secret-token"
    with pytest.raises(RetryableNotificationError):
        WebhookSender(url, "teams", timeout=2).send(TEXT)


def test_neither_text_nor_url_is_logged_or_put_in_errors(
    caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level(logging.DEBUG)
    errors: list[NotificationError] = []
    with FakeWebhookServer(Reply(500), Reply(400), Reply(hang=5)) as server:
        sender = WebhookSender(server.url, "slack", timeout=0.5)
        for _ in range(3):
            with pytest.raises(NotificationError) as caught:
                sender.send(TEXT)
            errors.append(caught.value)
        sender.send(TEXT)
        url = server.url
    down = f"http://127.0.0.1:{unused_port()}/hooks/secret-token"
    with pytest.raises(NotificationError) as caught:
        WebhookSender(down, "slack", timeout=1).send(TEXT)
    errors.append(caught.value)
    for error in errors:
        assert "secret-token" not in str(error) and "Müller" not in str(error)
        assert error.__cause__ is None
        assert error.__context__ is None or error.__suppress_context__
    assert "POST /[webhook path redacted]" in caplog.text  # urllib3's DEBUG line, blanked
    assert "secret-token" not in caplog.text and "Müller" not in caplog.text
    assert "secret-token" not in repr(WebhookSender(url, "slack"))


def test_bad_kind_or_url_is_refused_without_echoing_the_url() -> None:
    with pytest.raises(ValueError, match="kind"):
        WebhookSender("https://hooks.example/x", "discord")
    with pytest.raises(ValueError) as caught:
        WebhookSender("ftp://hooks.example/secret-token", "slack")
    assert "secret-token" not in str(caught.value)


def test_parse_retry_after() -> None:
    assert parse_retry_after(None) is None
    assert parse_retry_after("") is None
    assert parse_retry_after(" 12 ") == 12.0
    assert parse_retry_after("-3") == 0.0
    assert parse_retry_after("soon") is None
    assert parse_retry_after("nan") is None
    assert parse_retry_after("Wed, 21 Oct 2015 07:28:00 GMT") == 0.0


# ---------------------------------------------------------------------------- backoff


def test_backoff_honours_retry_after_capped() -> None:
    assert backoff(0, 7.0) == 7.0
    assert backoff(5, 7.0, rng=lambda: 0.0) == 7.0
    assert backoff(0, 1000.0) == 300.0
    assert backoff(0, 1000.0, cap=60) == 60
    assert backoff(0, -5.0) == 0.0


def test_backoff_full_jitter_bounds() -> None:
    assert backoff(0, None, rng=lambda: 0.0) == 0.0
    assert backoff(0, None, rng=lambda: 0.999) == pytest.approx(2.0 * 0.999)
    assert backoff(3, None, rng=lambda: 0.5) == pytest.approx(8.0)
    assert backoff(20, None, rng=lambda: 0.999) == pytest.approx(300 * 0.999)
    assert backoff(10_000, None, rng=lambda: 0.5) == 150.0
    for attempt in range(12):
        ceiling = min(300.0, 2.0 * 2**attempt)
        values = [backoff(attempt, None) for _ in range(200)]
        assert all(0.0 <= value < ceiling for value in values)
        assert max(values) > ceiling / 2  # jitter spreads over the whole range
    with pytest.raises(ValueError):
        backoff(-1, None)


# ---------------------------------------------------------------------------- settings


def test_settings_defaults() -> None:
    settings = notify_settings({})
    assert settings == NotifySettings(
        smtp_host=None,
        smtp_port=25,
        smtp_sender="lotse@nordwerk.example",
        smtp_username=None,
        smtp_password=None,
        smtp_starttls=False,
        slack_webhook_url=None,
        teams_webhook_url=None,
    )


def test_settings_from_env_and_secrets_kept_out_of_repr() -> None:
    env = {
        "LOTSE_SMTP_HOST": "mail.nordwerk.example",
        "LOTSE_SMTP_PORT": "587",
        "LOTSE_SMTP_SENDER": "bot@nordwerk.example",
        "LOTSE_SMTP_USERNAME": "bot",
        "LOTSE_SMTP_PASSWORD": "hunter2-secret",
        "LOTSE_SMTP_STARTTLS": "1",
        "LOTSE_SLACK_WEBHOOK_URL": "https://hooks.slack.example/services/slack-secret",
        "LOTSE_TEAMS_WEBHOOK_URL": "https://teams.example/webhook/teams-secret",
    }
    settings = notify_settings(env)
    assert settings.smtp_host == "mail.nordwerk.example"
    assert settings.smtp_port == 587
    assert settings.smtp_sender == "bot@nordwerk.example"
    assert (settings.smtp_username, settings.smtp_password) == ("bot", "hunter2-secret")
    assert settings.smtp_starttls is True
    assert settings.slack_webhook_url == env["LOTSE_SLACK_WEBHOOK_URL"]
    assert settings.teams_webhook_url == env["LOTSE_TEAMS_WEBHOOK_URL"]
    for secret in ("hunter2-secret", "slack-secret", "teams-secret"):
        assert secret not in repr(settings)


def test_settings_read_the_process_environment_by_default(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("LOTSE_SMTP_HOST", "localhost")
    assert load_settings().notify.smtp_host == "localhost"


@pytest.mark.parametrize(
    ("variable", "value"),
    [
        ("LOTSE_SMTP_PORT", "twenty-five"),
        ("LOTSE_SMTP_PORT", "0"),
        ("LOTSE_SMTP_PORT", "70000"),
        ("LOTSE_SMTP_STARTTLS", "yes"),
        ("LOTSE_SMTP_SENDER", "lotse@nordwerk.example\r\nBcc: x@y.example"),
        ("LOTSE_SLACK_WEBHOOK_URL", "hooks.slack.example/secret"),
        ("LOTSE_TEAMS_WEBHOOK_URL", "javascript:secret"),
        ("LOTSE_SMTP_USERNAME", "bot"),  # without a password
    ],
)
def test_bad_settings_name_the_variable_not_the_value(variable: str, value: str) -> None:
    with pytest.raises(SettingsError) as caught:
        notify_settings({variable: value})
    message = str(caught.value)
    assert variable in message or "LOTSE_SMTP_PASSWORD" in message
    assert value not in message


def test_without_smtp_emails_land_in_the_mail_folder_owner_only(tmp_path):
    from handoff.notify import MailFolderSender

    folder = tmp_path / "mail"
    sender = MailFolderSender(folder, "lotse@nordwerk.example")
    sender.send(
        Email(("anna.becker@nordwerk.example",), "Rückruf", "Bitte zurückrufen", "BEGIN:VCALENDAR")
    )
    [written] = list(folder.glob("*.eml"))
    assert oct(written.stat().st_mode & 0o777) == "0o600"
    message = message_from_bytes(written.read_bytes(), policy=default_policy)
    assert message["To"] == "anna.becker@nordwerk.example" and message["Subject"] == "Rückruf"
    assert [part.get_content_type() for part in message.iter_attachments()] == ["text/calendar"]
    with pytest.raises(PermanentNotificationError):
        sender.send(Email(("x@y.example",), "a\nBcc: evil@example.com", "b"))
