"""A last guard for the logs: secrets, email addresses and phone numbers become "[redacted]".

Lotse's own code never logs what a person wrote, their name, email or number (its log
lines name channels, ids of records, counts and error classes), and
`tests/e2e/test_log_privacy.py` checks the logs of a whole conversation for it. This
guard catches what a library might log anyway (a driver's error quoting a value, a
URL with a WhatsApp conversation id, Rasa's Pika broker logging each event it failed
to publish): `install()` makes every log record of the process, whatever logger and
handler, carry its message with email addresses, E.164 numbers (`+4915112345678`,
also after `whatsapp:`), texts in serialised data (`"text": "..."`, `'text': '...'`,
`text='...'`) and whole serialised events (`rasa_event=...`, with slot values,
entities and metadata) replaced, before any handler formats it. Names and free text elsewhere
cannot be recognised by a pattern: for them the rule above and the test are the
guard.

Secrets too (issue 23): a library's error may quote the URL it called, and the
platforms put tokens in URLs (Telegram's `/bot<token>/`, the Graph API's
`?access_token=`). Every record's message and its traceback (formatted once, when the
record is made, then redacted) has the values of the process's secret environment
variables (`secret_values`: names with TOKEN, SECRET, PASSWORD, KEY or AUTH, values of
at least MIN_SECRET_CHARS) replaced, and the token shapes of `_TOKEN_PATTERNS` (a
query's `access_token=`, a Telegram bot token, `Bearer ...`, Slack's `xox?-...`, a
URL's `user:password@`) whatever their value. Installed by every process `lotse run`
starts; `tests/integration/test_messenger_delivery.py` makes every channel fail and
scans the log for the configured secrets.
"""

from __future__ import annotations

import logging
import os
import re
import traceback
from collections.abc import Iterable, Mapping
from typing import Any

REDACTED = "[redacted]"
_PATTERNS = (
    re.compile(r"[\w.+-]+@[\w-]+(?:\.[\w-]+)+"),  # email addresses
    re.compile(r"(?:whatsapp:|%2B|\+)\d[\d ]{6,16}\d"),  # E.164 numbers, also URL-encoded
)
# A message's text in a serialised event, as Rasa's structured log lines carry it (its
# Pika broker logs every event it failed to publish): JSON `"text": "..."` and
# key-value `text='...'`.
_TEXT_FIELDS = re.compile(
    r"""((?:["'](?:text|message)["']\s*:\s*)|(?:\b(?:text|message)=))("(?:[^"\\]|\\.)*"|'(?:[^'\\]|\\.)*')"""
)
# A whole serialised event (Rasa's Pika broker logs each event it failed to publish, as
# JSON or as a Python dict): slot values, entities and metadata are personal too, so
# everything from the event on is withheld.
_WHOLE_EVENT = re.compile(r"""(["']?rasa_event["']?\s*[:=]\s*).*""", re.DOTALL)
# Tokens by their shape, whatever their value: what stays in front is kept.
_TOKEN_PATTERNS = (
    re.compile(r"((?:access_token|token|secret|password|api_key|key)=)[^&\s\"'<>]+", re.I),
    re.compile(r"(bot)\d{4,}:[\w-]{20,}"),  # Telegram's bot token, in its API's paths
    re.compile(r"(\b(?:Bearer|Basic)\s+)[\w.~+/=-]+"),
    re.compile(r"()\bxox[abeoprs]-[\w-]+"),  # Slack tokens
    re.compile(r"(://)[^/\s:@]+:[^/\s@]+@"),  # a URL's user:password@
)
SECRET_NAME = re.compile(r"TOKEN|SECRET|PASSWORD|PASSWD|KEY|AUTH", re.I)
MIN_SECRET_CHARS = 6
_secrets: tuple[str, ...] = ()


def secret_values(environ: Mapping[str, str]) -> tuple[str, ...]:
    """The values of the secret-looking variables, longest first (a secret containing
    another is replaced whole)."""
    found = {v.strip() for k, v in environ.items()
             if SECRET_NAME.search(k) and len(v.strip()) >= MIN_SECRET_CHARS}  # fmt: skip
    return tuple(sorted(found, key=len, reverse=True))


def remember_secrets(values: Iterable[str]) -> None:
    """Also redact these (e.g. credentials read from a file)."""
    global _secrets
    merged = set(_secrets) | {v for v in values if len(v) >= MIN_SECRET_CHARS}
    _secrets = tuple(sorted(merged, key=len, reverse=True))


def redacted(text: str) -> str:
    for secret in _secrets:
        if secret in text:
            text = text.replace(secret, REDACTED)
    for pattern in _TOKEN_PATTERNS:
        text = pattern.sub(lambda m: f"{m.group(1)}{REDACTED}", text)
    text = _WHOLE_EVENT.sub(lambda m: f"{m.group(1)}{REDACTED}", text)
    text = _TEXT_FIELDS.sub(lambda m: f'{m.group(1)}"{REDACTED}"', text)
    for pattern in _PATTERNS:
        text = pattern.sub(REDACTED, text)
    return text


def install(environ: Mapping[str, str] | None = None) -> None:
    """Every record this process creates from now on has a redacted message and
    traceback; the secrets are the environment's (`secret_values`) as it is now."""
    remember_secrets(secret_values(os.environ if environ is None else environ))
    make_record = logging.getLogRecordFactory()
    if getattr(make_record, "lotse_redacting", False):
        return

    def redacting(*args: Any, **kwargs: Any) -> logging.LogRecord:
        record = make_record(*args, **kwargs)
        try:
            message = record.getMessage()
        except Exception:  # noqa: BLE001 - a broken format: leave it to logging's own report
            return record
        record.msg, record.args = redacted(message), None
        if record.exc_info and record.exc_info[0] is not None:
            # Formatted now, redacted, kept: handlers' formatters use `exc_text` as it is.
            record.exc_text = redacted("".join(traceback.format_exception(*record.exc_info)))
            record.exc_text = record.exc_text.rstrip("\n")
            record.exc_info = None
        if record.stack_info:
            record.stack_info = redacted(record.stack_info)
        return record

    redacting.lotse_redacting = True  # type: ignore[attr-defined]
    logging.setLogRecordFactory(redacting)
