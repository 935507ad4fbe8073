"""Sending the notifications the CRM store's outbox holds: `Dispatcher.run_once`.

The bot only writes notifications (with the task or meeting they are about, in one
transaction); this sends them, outside any chat turn, from a loop that calls
`run_once` every few seconds (one per process is enough; several may run, the
outbox's leases keep them apart). Email goes through `SmtpSender` (with the ICS
invitation attached), Slack and Teams messages through their `WebhookSender`.

Outcomes per notification:
- delivered: marked sent;
- `RetryableNotificationError`: tried again after `backoff` (the server's Retry-After
  wins, else exponential backoff with full jitter, capped), and given up (failed)
  once `max_attempts` tries have failed;
- `PermanentNotificationError`, or any other error from a sender: failed at once
  (never blindly resent: it may have been delivered);
- a channel without a configured sender: failed, with error "not configured".

Delivery is at least once: a dispatcher that dies between sending and marking, or a
send that times out after the server took the message, means a second copy later.
`run_once` starts no send in the second half of its batch's lease (that half is for
the send to finish), so another dispatcher does not take a row while this one may
still be sending it; the rows left over are due again once their lease runs out.

Personal data: notifications carry recipients and texts; none of it is logged. Logs
and `last_error` hold the row id, the channel and the error class only (the
notification errors' messages are free of personal data, but a class is enough).
Database errors propagate as `CrmError` from `crm_adapter.outbox`.
"""

from __future__ import annotations

import logging
import random
from collections.abc import Callable
from datetime import datetime, timedelta

from sqlalchemy.engine import Engine

from crm_adapter.outbox import Outbox, OutboxItem
from crm_adapter.port import EMAIL, SLACK, TEAMS, Notification
from handoff.notify import (
    Email,
    MailFolderSender,
    NotifySettings,
    RetryableNotificationError,
    SmtpSender,
    WebhookSender,
)
from handoff.store import utc_now
from lotse.retry import backoff

log = logging.getLogger(__name__)

BATCH = 5  # small batches: each one's sends must end well within the lease
MIN_RETRY_DELAY = timedelta(seconds=1)  # a retry is never due again within one run
LEASE = timedelta(minutes=5)  # dispatcher_from_settings; a send starts in its first half
NOT_CONFIGURED = "not configured"


class Dispatcher:
    """Sends due notifications from `outbox` through the senders that are configured."""

    def __init__(
        self,
        outbox: Outbox,
        smtp: SmtpSender | MailFolderSender | None,
        slack: WebhookSender | None,
        teams: WebhookSender | None,
        clock: Callable[[], datetime] = utc_now,
        max_attempts: int = 8,
        rng: Callable[[], float] = random.random,
    ) -> None:
        if max_attempts < 1:
            raise ValueError("max_attempts must be at least 1")
        self._outbox = outbox
        self._smtp = smtp
        self._webhooks = {SLACK: slack, TEAMS: teams}
        self._clock = clock
        self._max_attempts = max_attempts
        self._rng = rng

    def run_once(self) -> int:
        """Sends everything due now (batch after batch); returns how many were sent."""
        start = self._clock()
        sent = 0
        while batch := self._outbox.due(start, limit=BATCH):
            # A send starts in the first half of the lease: the second half is for it
            # to finish (its timeouts) before another dispatcher may take the row.
            last_start = start + self._outbox.lease / 2
            for item in batch:
                if self._clock() >= last_start:
                    return sent  # the rest become due again when their lease runs out
                sent += self._deliver(item, start)
        return sent

    def _deliver(self, item: OutboxItem, start: datetime) -> int:
        channel = item.notification.channel
        try:
            self._send(item.notification)
        except _NotConfigured:
            log.warning("notification %d: no %s sender configured; dropped", item.id, channel)
            self._outbox.failed(item.id, self._now(start), NOT_CONFIGURED)
            return 0
        except RetryableNotificationError as err:
            return self._retry(item, err, start)
        except Exception as err:  # permanent, or a sender's bug: resending might duplicate
            kind = type(err).__name__
            log.error("notification %d (%s) failed for good (%s)", item.id, channel, kind)
            self._outbox.failed(item.id, self._now(start), kind)
            return 0
        log.info("notification %d (%s) sent", item.id, channel)
        self._outbox.sent(item.id, self._now(start))
        return 1

    def _retry(self, item: OutboxItem, err: RetryableNotificationError, start: datetime) -> int:
        channel, kind, now = item.notification.channel, type(err).__name__, self._now(start)
        tries = item.attempts + 1
        if tries >= self._max_attempts:
            log.error("notification %d (%s) failed %d times (%s); giving up",
                      item.id, channel, tries, kind)  # fmt: skip
            self._outbox.failed(item.id, now, kind)
            return 0
        delay = timedelta(seconds=backoff(item.attempts, err.retry_after, rng=self._rng))
        log.warning("notification %d (%s) failed (%s); try %d in %.0f s",
                    item.id, channel, kind, tries + 1, delay.total_seconds())  # fmt: skip
        self._outbox.retry(item.id, now + max(delay, MIN_RETRY_DELAY), kind)
        return 0

    def _now(self, start: datetime) -> datetime:
        """The clock, never before the run's start (so a retry is never due in this run)."""
        return max(self._clock(), start)

    def _send(self, notification: Notification) -> None:
        subject, body = notification.subject, notification.body
        if notification.channel == EMAIL:
            if self._smtp is None:
                raise _NotConfigured
            self._smtp.send(Email(tuple(notification.to), subject, body, notification.ics))
            return
        webhook = self._webhooks.get(notification.channel)
        if webhook is None:
            raise _NotConfigured
        webhook.send(f"{subject}\n{body}" if body else subject)


class _NotConfigured(Exception):
    """No sender for the notification's channel."""


def dispatcher_from_settings(engine: Engine, settings: NotifySettings) -> Dispatcher:
    """A dispatcher on the CRM store at `engine`, with the senders `settings` configure
    (SMTP if a host is set, else the mail folder if one is set; each webhook if its
    URL is set)."""
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
    slack = settings.slack_webhook_url
    teams = settings.teams_webhook_url
    return Dispatcher(
        Outbox(engine, lease=LEASE),
        smtp,
        WebhookSender(slack, SLACK) if slack else None,
        WebhookSender(teams, TEAMS) if teams else None,
    )
