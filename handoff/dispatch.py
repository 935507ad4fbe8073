"""Sending the notifications the outbox holds: `NotificationConnector`, the connector the
one delivery worker (`crm_adapter.delivery_worker.DeliveryWorker`) hands them to.

The bot only writes notifications (with the task or meeting they are about, in one
transaction: `crm_events` rows of connector NOTIFY); the worker sends them outside any
chat turn, from a loop that calls `run_once` every few seconds (the console process
runs it; several may run, the outbox's leases keep them apart). Email goes through
`SmtpSender` (with the ICS invitation attached) or, without an SMTP host, into the
mail folder; Slack and Teams messages through their `WebhookSender`.

Outcomes per notification, as the worker treats them:
- sent: marked delivered;
- `RetryableNotificationError` (timeout, 429, 5xx, SMTP 4xx): tried again after
  `backoff` (the server's Retry-After wins), dead after `max_attempts` tries;
- `PermanentNotificationError`, or any other error from a sender: dead at once (never
  blindly resent: it may have been delivered);
- a channel without a configured sender: dead, with error "not configured". Dead
  notifications are listed by `lotse deliveries dead` and sent again by `retry` once
  the sender is configured.
A contact's notifications are not ordered (`EventOutbox(ordered=False)`): a mail that
cannot go holds nothing else back.

Delivery is at least once: a worker that dies between sending and marking, or a send
that times out after the server took the message, means a second copy later.

Personal data: notifications carry recipients and texts; none of it is logged or put
into an error (the error names the channel and the error class only).
"""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy.engine import Engine

from crm_adapter.delivery import (
    CrmDeliveryError,
    CrmEvent,
    Link,
    PermanentDeliveryError,
    RetryableDeliveryError,
)
from crm_adapter.delivery_worker import DeliveryWorker
from crm_adapter.port import EMAIL, SLACK, TEAMS, Notification
from crm_adapter.store.crm_events import NOTIFY, EventOutbox
from crm_adapter.store.mapping import notification_of
from handoff.notify import (
    Email,
    MailFolderSender,
    RetryableNotificationError,
    SmtpSender,
    WebhookSender,
)
from lotse.notify_settings import NotifySettings

LEASE = timedelta(minutes=5)  # a send starts with at least a quarter of it left
MAX_ATTEMPTS = 8
BATCH = 20
NOT_CONFIGURED = "not configured"


class NotificationConnector:
    """Sends a notification event through the sender configured for its channel."""

    name = NOTIFY

    def __init__(
        self,
        smtp: SmtpSender | MailFolderSender | None,
        slack: WebhookSender | None,
        teams: WebhookSender | None,
    ) -> None:
        self._smtp = smtp
        self._webhooks = {SLACK: slack, TEAMS: teams}

    def deliver(self, event: CrmEvent, link: Link) -> Link | None:
        """Sends it; a notification keeps no link (None)."""
        try:
            notification = notification_of(event.payload)
        except (KeyError, TypeError) as error:  # a row no version of Lotse writes
            kind = type(error).__name__
            raise PermanentDeliveryError(f"malformed notification ({kind})") from None
        try:
            self._send(notification)
        except RetryableNotificationError as error:
            kind = type(error).__name__
            raise RetryableDeliveryError(
                f"{notification.channel}: {kind}", error.retry_after
            ) from None
        except CrmDeliveryError:
            raise
        except Exception as error:  # permanent, or a sender's bug: resending might duplicate
            kind = type(error).__name__
            raise PermanentDeliveryError(f"{notification.channel}: {kind}") from None
        return None

    def _send(self, notification: Notification) -> None:
        subject, body = notification.subject, notification.body
        if notification.channel == EMAIL:
            if self._smtp is None:
                raise PermanentDeliveryError(f"{EMAIL}: {NOT_CONFIGURED}")
            self._smtp.send(Email(tuple(notification.to), subject, body, notification.ics))
            return
        webhook = self._webhooks.get(notification.channel)
        if webhook is None:
            raise PermanentDeliveryError(f"{notification.channel}: {NOT_CONFIGURED}")
        webhook.send(f"{subject}\n{body}" if body else subject)


def connector_from_settings(settings: NotifySettings) -> NotificationConnector:
    """The senders `settings` configure: SMTP if a host is set, else the mail folder if
    one is set; each webhook if its URL is set."""
    smtp: SmtpSender | MailFolderSender | None = None
    if settings.smtp_host is None and settings.mail_dir is not None:
        smtp = MailFolderSender(settings.mail_dir, settings.smtp_sender)
    elif settings.smtp_host:
        smtp = SmtpSender(
            settings.smtp_host,
            settings.smtp_port,
            settings.smtp_sender,
            username=settings.smtp_username,
            password=settings.smtp_password,
            starttls=settings.smtp_starttls,
        )
    slack, teams = settings.slack_webhook_url, settings.teams_webhook_url
    return NotificationConnector(
        smtp,
        WebhookSender(slack, SLACK) if slack else None,
        WebhookSender(teams, TEAMS) if teams else None,
    )


def notification_worker(engine: Engine, settings: NotifySettings) -> DeliveryWorker:
    """The delivery worker for the notifications in the outbox at `engine`."""
    outbox = EventOutbox.notifications(engine, LEASE)
    return DeliveryWorker(outbox, connector_from_settings(settings), max_attempts=MAX_ATTEMPTS)
