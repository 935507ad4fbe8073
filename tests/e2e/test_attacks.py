"""Attacks on the running stack (issue 18): each is refused and nothing is lost.

- A second visitor who types a known email address: sees nothing of that contact,
  changes nothing, joins nothing, and "Daten löschen" / "Alles löschen" erases only
  their own; the owner, with the code from the mail, joins the conversation.

- Someone guessing a staff password from elsewhere (behind the stack's proxy): the
  guesser is slowed and then refused, the real user still logs in from any address.
- An agent who handed a conversation back: reads nothing more of it (the later
  messages, the lead card), writes nothing to it; an admin still reads it.

Forged, unsigned, tampered and stale (replayed after five minutes) webhooks of every
messenger and Rasa's `set_webhook` route run against the same stack in
tests/e2e/test_messenger_channels.py; REST sender and visitor-id spoofing in
tests/e2e/test_rest_access.py (its last test on the stack, the others on the channel's own
server, with the balancer); the rules behind the console attacks alone in
tests/integration/test_console_login.py and tests/integration/test_console_access.py.
"""

from __future__ import annotations

import uuid

import pytest

from crm_adapter.port import Lead, Visit
from lotse.settings import Settings
from tests.integration.test_console_access import reads, refused
from tests.integration.test_console_login import login
from tests.support.console_client import PASSWORD, add_users, logged_in
from tests.support.mailbox import code_mailed_to, mail_files, mails_mentioning
from tests.support.rest_client import Visitor
from wiring.services import services_for

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


def lead_of(stack, address: str) -> Lead:  # noqa: ANN001
    lead = services_for(stack.database_url).crm.find_by_email(address)
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
    joined = services_for(stack.database_url).crm.lead_for(Visit(again.sender, "rest"))
    assert joined.lead_id == before.lead_id
    assert set(before.conversation_ids) < set(joined.conversation_ids)


@pytest.fixture(scope="module")
def staff(stack: Settings) -> Settings:
    add_users(stack.database_url)
    return stack


def console_url(stack: Settings) -> str:
    return f"http://{stack.host}:{stack.console_port}"


def test_guessing_a_staff_password_locks_out_neither_the_user_nor_this_machine(staff) -> None:  # noqa: ANN001
    base, guesser = console_url(staff), f"203.0.113.{uuid.uuid4().int % 200 + 1}"
    statuses = [login(base, "anna", "wrong password!", guesser).status_code for _ in range(4)]
    assert statuses == [401, 401, 401, 429]  # the account's backoff, for this address only
    assert login(base, "anna", PASSWORD, guesser).status_code == 429  # even with the password
    for number in range(12):  # spraying other accounts: the address is refused
        login(base, f"user{number}", "wrong password!", guesser)
    assert login(base, "jonas", PASSWORD, guesser).status_code == 429
    assert login(base, "anna", PASSWORD, "198.51.100.23").status_code == 200  # Anna elsewhere
    assert logged_in(base, "anna").get("/console/api/queue").status_code == 200  # and here


def test_an_agent_who_handed_a_conversation_back_reads_and_writes_nothing_more(staff) -> None:  # noqa: ANN001
    services_for(staff.database_url).handoffs.touch_presence("anna", "available")
    visitor = person(staff)
    visitor.joined("Was kostet eine P400?")
    assert "Ich verbinde Sie" in visitor.joined("Kann ich bitte mit einem Menschen sprechen?")
    handoff = services_for(staff.database_url).handoffs.open_handoff(visitor.sender)
    assert handoff is not None
    anna, admin = logged_in(console_url(staff), "anna"), logged_in(console_url(staff), "admin")
    path = f"/console/api/handoffs/{handoff.id}"
    assert anna.post(f"{path}/claim").ok
    assert anna.get(path).status_code == 200
    assert anna.post(f"{path}/hand-back").ok

    later = "Meine Durchwahl ist übrigens die 0521 9876543"
    visitor.joined(later)  # the bot has the conversation again
    assert refused(reads(anna, handoff.id))
    assert "9876543" not in anna.get(path).text
    assert handoff.id not in {h["id"] for h in anna.get("/console/api/queue").json()["handoffs"]}
    detail = admin.get(path)
    assert detail.status_code == 200  # nothing is lost: an admin reads the handoff
    lead = services_for(staff.database_url).crm.lead_for(Visit(visitor.sender, "rest"))
    assert visitor.sender in lead.conversation_ids
