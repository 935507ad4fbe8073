"""Attacks on the running stack (issue 18): each is refused and nothing is lost.

- A second visitor who types a known email address: sees nothing of that contact,
  changes nothing, joins nothing, and "Daten löschen" / "Alles löschen" erases only
  their own; the owner, with the code from the mail, joins the conversation.

The channel, console and relay attacks (forged and replayed webhooks, REST sender
spoofing, login lockout, a former assignee's reads) run against their real servers in
tests/test_rest_access.py, tests/test_channel_*.py, tests/test_console_login.py and
tests/test_console_access.py.
"""

from __future__ import annotations

import email
import email.policy
import re
import time
import uuid
from pathlib import Path

import pytest

from crm_adapter.connect import open_crm
from crm_adapter.port import Lead, Visit
from tests.rest_client import Visitor

pytestmark = pytest.mark.model


def person(stack) -> Visitor:  # noqa: ANN001
    return Visitor(stack.rasa_url, metadata={"language": "de"})


def enquiry(visitor: Visitor, name: str, address: str, employees: str) -> list[str]:
    lines = [
        "Was kostet eine P400?", "Ja", "Pressen für unsere neue Fertigungslinie",
        "Müller Metallbau GmbH", employees, "Metallbau", "Ich bin Geschäftsführer",
        "33602 Bielefeld", "in zwei Monaten", "Ja", name, address,
    ]  # fmt: skip
    return [visitor.joined(line) for line in lines]


def mail_files(stack) -> set[str]:  # noqa: ANN001
    return {path.name for path in mail_folder(stack).glob("*.eml")}


def mail_folder(stack) -> Path:  # noqa: ANN001
    return Path(stack.database_url.removeprefix("sqlite:///")).parent / "mail"


def code_mailed_to(stack, address: str, seen: set[str]) -> str:  # noqa: ANN001
    """The code in a mail to `address` that is not among the files `seen` before (the
    console's dispatcher writes the outbox to the mail folder: there is no SMTP server)."""
    folder = mail_folder(stack)
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        for path in folder.glob("*.eml"):
            if path.name in seen:
                continue
            message = email.message_from_bytes(path.read_bytes(), policy=email.policy.default)
            if address.lower() in str(message["To"]).lower():
                body = message.get_body(("plain",))
                found = re.search(r"\b[0-9]{6}\b", body.get_content() if body else "")
                if found:
                    return found.group()
        time.sleep(0.2)
    raise AssertionError(f"no code mailed to {address}")


def mails_mentioning(stack, address: str) -> set[str]:  # noqa: ANN001
    return {
        path.name for path in mail_folder(stack).glob("*.eml")
        if address.lower() in path.read_text(errors="replace").lower()
    }  # fmt: skip


def lead_of(stack, address: str) -> Lead:  # noqa: ANN001
    lead = open_crm(stack.database_url).find_by_email(address)
    assert lead is not None
    return lead


def test_a_stranger_typing_a_known_address_can_neither_read_nor_erase_it(stack) -> None:  # noqa: ANN001
    address = f"anna.{uuid.uuid4().hex[:6]}@mueller-metallbau.example"
    anna = person(stack)
    seen = mail_files(stack)
    replies = enquiry(anna, "Anna Muster", address, "rund 60 Leute")
    assert "Bestätigungscode" in replies[-1] and address in replies[-1]
    assert "bestätigt" in anna.joined(code_mailed_to(stack, address, seen))
    anna.joined("Ja, passt so")
    before = lead_of(stack, address)
    assert before.consent is not None and before.consent.confirmed_at is not None

    stranger = person(stack)
    seen = mail_files(stack)
    replies = enquiry(stranger, "Mallory Fremd", address.upper(), "5 Leute")
    assert "kennen wir schon" in replies[-1]
    said = " ".join(replies)
    assert "Anna" not in said and "Mitarbeiter: 60" not in said  # nothing of hers shown
    summary = stranger.joined("Ja, passt so")
    assert "Anna" not in summary
    assert lead_of(stack, address) == before  # not changed, not joined
    code_mailed_to(stack, address.upper(), seen)  # the code went to Anna's mailbox
    mails = mails_mentioning(stack, address)
    assert "widerrufen" in stranger.joined("Daten löschen")
    assert "gelöscht" in stranger.joined("/erase_everything")
    after = lead_of(stack, address)
    assert after == before  # Anna's lead is whole: answers, consent, conversations
    assert mails_mentioning(stack, address) >= mails  # and her mails are not erased

    again = person(stack)  # Anna on another day: the code joins her conversations
    seen = mail_files(stack)
    replies = enquiry(again, "Anna Muster", address, "rund 60 Leute")
    assert "kennen wir schon" in replies[-1]
    assert "verbunden" in again.joined(code_mailed_to(stack, address, seen))
    joined = open_crm(stack.database_url).lead_for(Visit(again.sender, "rest"))
    assert joined.lead_id == before.lead_id
    assert set(before.conversation_ids) < set(joined.conversation_ids)
