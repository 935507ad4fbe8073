"""No personal data in the logs: after a whole qualification on the website and a
handoff on WhatsApp with a colleague's reply, the running stack's log (every process's
output, `stack.log`) holds none of the person's name, email, phone number or what
they wrote."""

from __future__ import annotations

import uuid
from pathlib import Path

import pytest

from tests.e2e.test_messenger_channels import say, someone
from tests.support.console_client import add_users, logged_in
from tests.support.rest_client import Visitor
from wiring.services import services_for

pytestmark = pytest.mark.model


def test_a_full_conversation_leaves_no_personal_data_in_the_logs(stack, stack_messengers):
    marker = uuid.uuid4().hex[:8]
    name, email = f"Wilhelmine Quast{marker}", f"w.quast.{marker}@stanzwerk-nord.example"
    company, need = f"Stanzwerk Nord {marker} GmbH", f"Tiefziehpressen {marker}"
    website = Visitor(stack.rasa_url, metadata={"language": "de", "visitor_id": marker})
    website.joined("Was kostet eine P400?")
    for line in ["Ja", need, company, "rund 60 Leute", "Metallbau", "Ich bin Einkäuferin",
                 "33602 Bielefeld", "in zwei Monaten", "Ja", name, email,
                 "Ja, passt so"]:  # fmt: skip
        website.say(line)
    whatsapp = someone("twilio")
    say(stack, stack_messengers, whatsapp, "Kann ich bitte mit einem Menschen sprechen?")
    secret_wish = f"Bitte rufen Sie mich an, Kennwort {marker}"
    say(stack, stack_messengers, whatsapp, secret_wish)
    add_users(stack.database_url)
    handoff = services_for(stack.database_url).handoffs.open_handoff(whatsapp.conversation_id)
    jonas = logged_in(f"http://{stack.host}:{stack.console_port}", "jonas")
    assert jonas.post(f"/console/api/handoffs/{handoff.id}/claim").ok
    reply = f"Gern, ich rufe Sie an ({marker}-antwort)"
    assert jonas.post(f"/console/api/handoffs/{handoff.id}/messages", {"text": reply}).ok
    stack_messengers.wait_for("twilio", whatsapp.recipient, count=3)
    assert jonas.post(f"/console/api/handoffs/{handoff.id}/close", {"outcome": "other"}).ok

    log = (Path(stack.database_url.removeprefix("sqlite:///")).parent / "stack.log").read_text(
        encoding="utf-8", errors="replace"
    )
    assert "Rasa server is up and running" in log  # the log is really the stack's
    personal = [name, email, company, need, secret_wish, reply, whatsapp.platform_id,
                whatsapp.platform_id.removeprefix("+"), marker]  # fmt: skip
    assert [value for value in personal if value in log] == []
