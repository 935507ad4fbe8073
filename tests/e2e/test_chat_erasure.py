"""A visitor has everything about them erased from the chat (DSGVO Art. 17), on the
running stack: after a withdrawal the bot offers "Alles löschen, auch dieses
Gespräch"; the button erases the lead, every transcript (this conversation's too,
which the tracker store deletes instead of saving at the end of the turn), leaves no
byte of the email address in any file of the stack's folder (also not the mail with
the code that went to it before the withdrawal cleared the lead's address), and
leaves an audit row "chat" without personal data."""

from __future__ import annotations

import time
import uuid
from pathlib import Path

import pytest
from sqlalchemy import select

from conversations.texts import SQLiteTexts
from crm_adapter.store.models import PrivacyAuditRow
from lotse.migrate import migrated_engine
from tests.support.rest_client import Visitor
from tests.support.var_scan import Person, traces
from wiring.services import services_for

pytestmark = pytest.mark.model
MAIL_SECONDS = 20.0  # the console's dispatcher sends every few seconds


def test_a_visitor_erases_everything_from_the_chat(stack) -> None:
    email = f"eva.{uuid.uuid4().hex[:6]}@walzwerk.example"
    visitor = Visitor(stack.rasa_url, metadata={"language": "de", "visitor_id": uuid.uuid4().hex})
    visitor.joined("Was kostet eine P400?")
    for line in ["Ja", "Pressen", "Walzwerk Süd AG", "120", "Maschinenbau", "Ingenieurin",
                 "70173", "in einem halben Jahr", "Ja", "Eva Berg", email]:  # fmt: skip
        visitor.joined(line)
    data_dir = Path(stack.database_url.removeprefix("sqlite:///")).parent
    texts = SQLiteTexts(str(data_dir / "tracker.db"))
    assert email in texts[visitor.sender]
    # The code that proves the address goes to it by mail: in the mail folder (no SMTP
    # server) before the withdrawal, which clears the lead's address.
    deadline = time.monotonic() + MAIL_SECONDS
    while not [t for t in traces(data_dir, Person(email)) if t.startswith("mail/")]:
        assert time.monotonic() < deadline, "no mail to the address in the mail folder"
        time.sleep(0.2)

    withdrawn = visitor.say("Bitte löschen Sie alle Daten, die Sie über mich gespeichert haben")
    buttons = [b for message in withdrawn for b in message.get("buttons", [])]
    assert {
        "title": "Alles löschen, auch dieses Gespräch",
        "payload": "/erase_everything",
    } in buttons

    assert "alles gelöscht" in visitor.joined("/erase_everything")
    assert services_for(stack.database_url).crm.find_by_email(email) is None
    assert visitor.sender not in texts  # deleted, not saved again at the end of the turn
    engine = migrated_engine(stack.database_url)
    with engine.connect() as connection:
        audit = connection.execute(select(PrivacyAuditRow).order_by(PrivacyAuditRow.id.desc())
                                   .limit(1)).one()  # fmt: skip
    engine.dispose()
    assert (audit.action, audit.requested_by, audit.leads) == ("erase", "chat", 1)
    # No byte of the address in any file of the stack's folder: the databases with their
    # write-ahead logs, the mail folder, the stack's log (tests/support/var_scan.py).
    assert traces(data_dir, Person(email)) == []

    visitor.joined("Hallo")  # the next message starts a new conversation
    assert email not in texts[visitor.sender] and "Walzwerk" not in texts[visitor.sender]
