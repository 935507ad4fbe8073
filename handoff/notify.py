"""Telling the sales team: email over SMTP (optionally with a meeting invitation) and
messages to a Slack or Microsoft Teams incoming webhook.

Errors::

    NotificationError                  base class; nothing else escapes `send`
    ├── RetryableNotificationError     timeout, connection refused or dropped, SMTP 4xx
    │                                  reply, HTTP 5xx, 408 or 429; `retry_after` holds
    │                                  the server's Retry-After in seconds, if it gave one
    └── PermanentNotificationError     HTTP 4xx (other than 408/429) or 3xx, SMTP 5xx
                                       reply, refused recipients, a bad address, CR/LF in a
                                       header (header injection), STARTTLS/AUTH unsupported

Neither sender is idempotent: a retry after a timeout may deliver a message twice (the
server may have accepted it before the connection broke). Callers retry with `backoff`.

Personal data: emails carry names, addresses and whatever the caller wrote; webhook
messages carry the caller's text. None of it is logged or put into error messages, and
neither is a webhook URL (it is a secret) nor an SMTP server's reply text (it may echo
an address). Errors from smtplib and requests are not chained for the same reason, and
a filter on urllib3's pool logger blanks webhook paths from its DEBUG request lines.
"""

from __future__ import annotations

import logging
import os
import re
import smtplib
import ssl
import uuid
from collections.abc import Collection
from dataclasses import dataclass
from datetime import datetime, timezone
from email import message_from_bytes
from email.message import EmailMessage
from email.policy import SMTP as SMTP_POLICY
from email.policy import default as DEFAULT_POLICY
from email.utils import format_datetime, make_msgid
from pathlib import Path
from urllib.parse import urlsplit

import requests

from lotse.notify_settings import plain_address
from lotse.retry import parse_retry_after

log = logging.getLogger(__name__)

WEBHOOK_KINDS = ("slack", "teams")


class NotificationError(Exception):
    """A notification could not be delivered."""


class RetryableNotificationError(NotificationError):
    """Worth trying again later; wait at least `retry_after` seconds if it is set."""

    def __init__(self, message: str, retry_after: float | None = None) -> None:
        super().__init__(message)
        self.retry_after = retry_after


class PermanentNotificationError(NotificationError):
    """Trying again with the same input and configuration will fail again."""


@dataclass(frozen=True)
class Email:
    """A plain-text email; `ics` (iCalendar text) is attached as invite.ics."""

    to: tuple[str, ...]
    subject: str
    body: str
    ics: str | None = None


class SmtpSender:
    """Sends `Email`s through one SMTP server. `timeout` bounds every socket operation."""

    def __init__(
        self,
        host: str,
        port: int,
        sender: str,
        username: str | None = None,
        password: str | None = None,
        starttls: bool = False,
        timeout: float = 10,
    ) -> None:
        self._host = host
        self._port = port
        self._sender = sender
        self._username = username
        self._password = password
        self._starttls = starttls
        self._timeout = timeout

    def send(self, email: Email) -> None:
        """Deliver `email` to all its recipients. Not idempotent.

        Raises PermanentNotificationError before connecting if a header would carry CR/LF
        or an address is not a plain `local@domain`. If the server refuses some but not
        all recipients, the others get the message and PermanentNotificationError says
        how many were refused (retrying would send duplicates).
        """
        message = self._message(email)
        try:
            with smtplib.SMTP(self._host, self._port, timeout=self._timeout) as smtp:
                if self._starttls:
                    smtp.starttls(context=ssl.create_default_context())
                if self._username:
                    smtp.login(self._username, self._password or "")
                refused = smtp.send_message(
                    message, from_addr=self._sender, to_addrs=list(email.to)
                )
        except smtplib.SMTPRecipientsRefused as exc:
            codes = [code for code, _reply in exc.recipients.values()]
            if codes and all(400 <= code < 500 for code in codes):
                raise RetryableNotificationError(
                    f"SMTP server deferred all recipients ({codes[0]})"
                ) from None
            raise PermanentNotificationError(
                f"SMTP server refused all recipients ({max(codes, default=0)})"
            ) from None
        except smtplib.SMTPResponseException as exc:
            raise _from_reply(type(exc).__name__, exc.smtp_code) from None
        except smtplib.SMTPServerDisconnected:
            raise RetryableNotificationError("SMTP server closed the connection") from None
        except smtplib.SMTPNotSupportedError:
            raise PermanentNotificationError(
                "SMTP server does not support a required extension (STARTTLS, AUTH, SMTPUTF8)"
            ) from None
        except smtplib.SMTPException as exc:
            raise PermanentNotificationError(f"SMTP failed ({type(exc).__name__})") from None
        except ssl.SSLCertVerificationError:
            raise PermanentNotificationError("SMTP server certificate not trusted") from None
        except OSError as exc:  # refused, unreachable, timed out, TLS handshake broken
            raise RetryableNotificationError(
                f"SMTP connection failed ({type(exc).__name__})"
            ) from None
        if refused:
            raise PermanentNotificationError(
                f"SMTP server refused {len(refused)} of {len(email.to)} recipients; "
                "the others got the message"
            )
        log.info("email sent (%d recipients, invitation: %s)", len(email.to), bool(email.ics))

    def _message(self, email: Email) -> EmailMessage:
        return build_message(email, self._sender)


class MailFolderSender:
    """The embedded default without an SMTP server: each email is written as an `.eml`
    file (readable by any mail program) into `folder`, owner-only, so nothing is lost
    and a demo shows what would have been sent. Personal data: the files hold it; an
    erasure deletes the files about the person (`erase_mail_mentioning`)."""

    def __init__(self, folder: Path, sender: str) -> None:
        self._folder = folder
        self._sender = sender

    def send(self, email: Email) -> None:
        message = build_message(email, self._sender)
        try:
            self._folder.mkdir(parents=True, exist_ok=True)
            name = f"{datetime.now(timezone.utc):%Y%m%dT%H%M%S}-{uuid.uuid4().hex[:12]}.eml"
            partial = self._folder / f".{name}.tmp"
            descriptor = os.open(partial, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
            with os.fdopen(descriptor, "wb") as handle:
                handle.write(message.as_bytes())
            partial.replace(self._folder / name)
        except OSError as exc:
            raise RetryableNotificationError(
                f"mail folder not writable ({type(exc).__name__})"
            ) from None
        log.info("email written to the mail folder (%d recipients)", len(email.to))


_FOLDED = re.compile(r"\r?\n[ \t]")
_PHONE_SEPARATORS = re.compile(r"[\s\-./()]")
_NUMBER_SUFFIX_DIGITS = 7  # fewer digits than this: the whole number is looked for


def erase_mail_mentioning(
    folder: Path, texts: Collection[str], numbers: Collection[str] = ()
) -> int:
    """Deletes every mail file in `folder` (`.eml`, and a `.tmp` left by a crash) that
    mentions any of `texts` (email addresses, names, conversation ids: in any case,
    whitespace runs alike, not as part of a longer word) or of `numbers` (E.164,
    "+4915124681357": however written, "0151 2468-1357", "+49 (0)151 ..."); returns
    how many.

    Each file is read raw and decoded: every header (MIME encoded-words) and every
    part (a quoted-printable body, a base64 invitation), folded lines joined (a file
    the parser cannot read is searched raw). A number is found by its digits after
    the first three (the country code and a digit or two more) with separators
    dropped, or by all its digits when that leaves fewer than _NUMBER_SUFFIX_DIGITS.
    Idempotent; a folder that does not exist holds nothing. Raises OSError if a file
    cannot be deleted. Personal data: the files and `texts`; only the count is logged.
    The freed disk blocks are not overwritten (the file system decides about them)."""
    if not folder.is_dir():
        return 0
    wanted = sorted({" ".join(t.split()).casefold() for t in texts if t.strip()})
    mentioned = re.compile("|".join(rf"(?<!\w){re.escape(t)}(?!\w)" for t in wanted) or "(?!)")
    digits = [_number_signature(n) for n in numbers if any(c.isdigit() for c in n)]
    erased = 0
    for path in sorted(folder.iterdir()):
        if not path.is_file() or not path.name.endswith((".eml", ".tmp")):
            continue
        try:
            content = _mail_text(path.read_bytes())
        except FileNotFoundError:  # sent while we looked, or erased by another erasure
            continue
        spaced = " ".join(content.split())
        plain = _PHONE_SEPARATORS.sub("", content)
        if mentioned.search(spaced) or any(d in plain for d in digits):
            path.unlink(missing_ok=True)
            erased += 1
    if erased:
        log.info("mail folder: %d email(s) erased", erased)
    return erased


def _number_signature(number: str) -> str:
    digits = "".join(c for c in number if c.isdigit())
    return digits[3:] if len(digits) - 3 >= _NUMBER_SUFFIX_DIGITS else digits


def _mail_text(data: bytes) -> str:
    """A mail file's raw text and every header and part decoded, casefolded."""
    texts = [data.decode("utf-8", "replace")]
    try:
        message = message_from_bytes(data, policy=DEFAULT_POLICY)
        for part in message.walk():
            texts += [f"{key}: {value}" for key, value in part.items()]
            if not part.is_multipart():
                payload = part.get_payload(decode=True) or b""
                texts.append(payload.decode(part.get_content_charset() or "utf-8", "replace"))
    except Exception:  # noqa: BLE001 - a broken file: its raw text is searched still
        pass
    return _FOLDED.sub("", "\n".join(texts)).casefold()


def build_message(email: Email, sender: str) -> EmailMessage:
    """The MIME message of `email`; PermanentNotificationError for an unsafe header."""
    if not email.to:
        raise PermanentNotificationError("email has no recipients")
    for address in (sender, *email.to):
        _check_address(address)
    if "\r" in email.subject or "\n" in email.subject:
        raise PermanentNotificationError("CR or LF in the subject refused")
    # The SMTP policy writes CRLF everywhere, which keeps the ICS lines intact.
    message = EmailMessage(policy=SMTP_POLICY)
    message["From"] = sender
    message["To"] = ", ".join(email.to)
    message["Subject"] = email.subject
    message["Date"] = format_datetime(datetime.now(timezone.utc))
    message["Message-ID"] = make_msgid(domain=sender.rpartition("@")[2])
    message.set_content(email.body, charset="utf-8", cte="quoted-printable")
    if email.ics is not None:
        message.add_attachment(
            email.ics,
            subtype="calendar",
            charset="utf-8",
            cte="base64",
            filename="invite.ics",
            params={"method": "REQUEST"},
        )
    return message


def _check_address(address: str) -> None:
    if "\r" in address or "\n" in address:
        raise PermanentNotificationError("CR or LF in an address refused")
    if not plain_address(address):
        raise PermanentNotificationError("not a plain email address")


def _from_reply(kind: str, code: int) -> NotificationError:
    if 400 <= code < 500:
        return RetryableNotificationError(f"SMTP server deferred ({kind} {code})")
    return PermanentNotificationError(f"SMTP server refused ({kind} {code})")


class _RedactWebhookPaths(logging.Filter):
    """urllib3 logs each request's path and query at DEBUG; for webhooks they are the
    secret. Installed once on urllib3's pool logger, it blanks the paths of webhook URLs
    that senders were built with and changes nothing else."""

    def __init__(self) -> None:
        super().__init__()
        self.secrets: set[str] = set()

    def filter(self, record: logging.LogRecord) -> bool:
        if self.secrets:
            record.msg = self._redact(record.msg)
            if isinstance(record.args, tuple):
                record.args = tuple(self._redact(arg) for arg in record.args)
        return True

    def _redact(self, value: object) -> object:
        if isinstance(value, str):
            for secret in self.secrets:
                value = value.replace(secret, "/[webhook path redacted]")
        return value


_REDACT_WEBHOOK_PATHS = _RedactWebhookPaths()
logging.getLogger("urllib3.connectionpool").addFilter(_REDACT_WEBHOOK_PATHS)


class WebhookSender:
    """Posts short texts to a Slack or Teams incoming webhook.

    `session` is the transport (tests and callers may pass their own); `timeout` bounds
    connecting and each read. Redirects are not followed: a webhook that redirects is
    misconfigured, and following would turn the POST into a GET.
    """

    def __init__(
        self,
        url: str,
        kind: str,
        session: requests.Session | None = None,
        timeout: float = 5,
    ) -> None:
        if kind not in WEBHOOK_KINDS:
            raise ValueError(f"webhook kind must be one of {WEBHOOK_KINDS}, not {kind!r}")
        parts = urlsplit(url)
        if parts.scheme not in ("http", "https") or not parts.netloc:
            raise ValueError("webhook url must be an http(s) URL")  # the URL is a secret
        secret = parts.path + (f"?{parts.query}" if parts.query else "")
        if secret.strip("/"):
            _REDACT_WEBHOOK_PATHS.secrets.add(secret)
        self._url = url
        self._kind = kind
        self._session = session or requests.Session()
        self._timeout = timeout

    def __repr__(self) -> str:
        return f"WebhookSender(kind={self._kind!r})"

    def send(self, text: str) -> None:
        """Post `text`. Not idempotent: a retry after a timeout may post it twice."""
        if self._kind == "slack":
            payload: dict[str, str] = {"text": text}
        else:
            payload = {
                "@type": "MessageCard",
                "@context": "https://schema.org/extensions",
                "text": text,
            }
        try:
            response = self._session.post(
                self._url, json=payload, timeout=self._timeout, allow_redirects=False
            )
        except requests.Timeout:
            raise RetryableNotificationError(f"{self._kind} webhook timed out") from None
        except requests.ConnectionError:
            raise RetryableNotificationError(f"{self._kind} webhook unreachable") from None
        except requests.RequestException as exc:
            raise PermanentNotificationError(
                f"{self._kind} webhook request failed ({type(exc).__name__})"
            ) from None
        status = response.status_code
        response.close()
        if 200 <= status < 300:
            log.info("%s webhook message sent", self._kind)
            return
        if status in (408, 429) or status >= 500:
            raise RetryableNotificationError(
                f"{self._kind} webhook answered {status}",
                retry_after=parse_retry_after(response.headers.get("Retry-After")),
            )
        raise PermanentNotificationError(f"{self._kind} webhook answered {status}")


