"""The log guard (lotse/log_redaction.py): emails and E.164 numbers leave no log line,
whichever logger writes them and however the message is formatted; ordinary log lines
(times, ids, counts) are left alone."""

from __future__ import annotations

import logging

import pytest

from lotse.log_redaction import install, redacted


@pytest.fixture
def guarded():
    original = logging.getLogRecordFactory()
    install()
    install()  # twice is once
    yield
    logging.setLogRecordFactory(original)


def test_emails_and_numbers_are_redacted_in_any_record(guarded, caplog) -> None:
    log = logging.getLogger("some.library")
    with caplog.at_level(logging.INFO):
        log.info("sent to %s at %s", "anna.muster@mueller-metallbau.example", "+49 151 12345678")
        log.warning("GET /conversations/twilio:whatsapp:+4915112345678/tracker")
        log.error("GET /conversations/twilio%%3Awhatsapp%%3A%%2B4915112345678/tracker")
    text = "\n".join(r.getMessage() for r in caplog.records)
    assert "anna.muster" not in text and "4915112345678" not in text and "151 1234" not in text
    assert text.count("[redacted]") == 4


def test_ordinary_lines_are_left_alone() -> None:
    line = "2026-11-26T05:17:13+00:00 handoff 42 claimed; 3 events, lead 1017, HTTP 429"
    assert redacted(line) == line


def test_texts_of_serialised_events_are_redacted() -> None:
    serialised = ('{"info": "a message", "event": '
                  '{"sender_id": "web-1", "event": "user", '
                  '"text": "Wir \\"Müller\\" aus Bielefeld", '
                  '"input_channel": "rest"}}')  # fmt: skip
    line = redacted(serialised)
    assert "Müller" not in line and "Bielefeld" not in line
    assert '"text": "[redacted]"' in line and '"sender_id": "web-1"' in line
    assert "Bielefeld" not in redacted("rest.message.received.failure text='Hallo aus Bielefeld'")
    assert redacted("3 texts, message 42 sent") == "3 texts, message 42 sent"


def test_a_failed_broker_event_is_withheld_whole_in_either_rendering() -> None:
    """Rasa's Pika broker logs the event it failed to publish, as JSON (to a file) or
    as a Python dict (on a terminal): slot values and metadata are personal too."""
    as_json = ('{"event": "pika.events.publish.failed", "rasa_event": {"event": "slot", '
               '"name": "company", "value": "Walzwerk Süd AG", "metadata": {"profile_name": '
               '"Eva Berg"}}}')  # fmt: skip
    as_dict = ("pika.events.publish.failed rasa_event={'event': 'user', 'text': "
               "'Ich heiße Eva Berg', 'metadata': {}}")  # fmt: skip
    for line in (as_json, as_dict):
        shown = redacted(line)
        assert "Walzwerk" not in shown and "Eva" not in shown and "[redacted]" in shown
        assert "pika.events.publish.failed" in shown
    assert "Eva" not in redacted("{'sender_id': 'web-1', 'text': 'Eva Berg hier'}")
