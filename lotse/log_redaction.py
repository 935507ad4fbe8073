"""A last guard for the logs: email addresses and phone numbers become "[redacted]".

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
guard. Installed by every process `lotse run` starts.
"""

from __future__ import annotations

import logging
import re
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


def redacted(text: str) -> str:
    text = _WHOLE_EVENT.sub(lambda m: f"{m.group(1)}{REDACTED}", text)
    text = _TEXT_FIELDS.sub(lambda m: f'{m.group(1)}"{REDACTED}"', text)
    for pattern in _PATTERNS:
        text = pattern.sub(REDACTED, text)
    return text


def install() -> None:
    """Every record this process creates from now on has a redacted message."""
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
        return record

    redacting.lotse_redacting = True  # type: ignore[attr-defined]
    logging.setLogRecordFactory(redacting)
