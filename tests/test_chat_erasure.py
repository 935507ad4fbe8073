"""A visitor has everything about them erased from the chat (DSGVO Art. 17), on the
running stack: after a withdrawal the bot offers "Alles löschen, auch dieses
Gespräch"; the button erases the lead, every transcript (this conversation's too,
which the tracker store deletes instead of saving at the end of the turn) and leaves
an audit row "chat" without personal data."""

from __future__ import annotations

import uuid
from pathlib import Path

import pytest
from sqlalchemy import select

from bot.tracker_store import SQLiteTexts
from crm_adapter.connect import open_crm
from crm_adapter.store import make_crm_engine
from crm_adapter.store.models import PrivacyAuditRow
from tests.rest_client import Visitor

pytestmark = pytest.mark.model


def test_a_visitor_erases_everything_from_the_chat(stack) -> None:
    email = f"eva.{uuid.uuid4().hex[:6]}@walzwerk.example"
    visitor = Visitor(stack.rasa_url, metadata={"language": "de", "visitor_id": uuid.uuid4().hex})
    visitor.joined("Was kostet eine P400?")
    for line in ["Ja", "Pressen", "Walzwerk Süd AG", "120", "Maschinenbau", "Ingenieurin",
                 "70173", "in einem halben Jahr", "Ja", "Eva Berg", email]:  # fmt: skip
        visitor.joined(line)
    texts = SQLiteTexts(str(Path(stack.database_url.removeprefix("sqlite:///")).parent
                            / "tracker.db"))  # fmt: skip
    assert email in texts[visitor.sender]

    withdrawn = visitor.say("Bitte löschen Sie alle Daten, die Sie über mich gespeichert haben")
    buttons = [b for message in withdrawn for b in message.get("buttons", [])]
    assert {
        "title": "Alles löschen, auch dieses Gespräch",
        "payload": "/erase_everything",
    } in buttons

    assert "alles gelöscht" in visitor.joined("/erase_everything")
    assert open_crm(stack.database_url).find_by_email(email) is None
    assert visitor.sender not in texts  # deleted, not saved again at the end of the turn
    engine = make_crm_engine(stack.database_url)
    with engine.connect() as connection:
        audit = connection.execute(select(PrivacyAuditRow).order_by(PrivacyAuditRow.id.desc())
                                   .limit(1)).one()  # fmt: skip
    engine.dispose()
    assert (audit.action, audit.requested_by, audit.leads) == ("erase", "chat", 1)

    visitor.joined("Hallo")  # the next message starts a new conversation
    assert email not in texts[visitor.sender] and "Walzwerk" not in texts[visitor.sender]
