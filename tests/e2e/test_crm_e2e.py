"""A whole qualification on the running stack reaches the CRM: the session's stack runs
`lotse deliver` with a HubSpot connector to a fake HubSpot (tests/conftest.py), as
`make run` does when a connector is configured."""

from __future__ import annotations

import time
import uuid
from collections.abc import Callable
from typing import Any

import pytest

from tests.e2e.test_qualification_e2e import person, run
from tests.support.fake_hubspot import FakeHubSpot
from tests.support.mailbox import code_mailed_to

pytestmark = pytest.mark.model


def eventually(check: Callable[[], Any], what: str, deadline: float = 60.0) -> Any:
    end = time.monotonic() + deadline
    while not (found := check()):
        if time.monotonic() > end:
            raise AssertionError(f"not within {deadline:.0f}s: {what}")
        time.sleep(0.2)
    return found


def test_a_qualified_visitor_arrives_in_hubspot_with_answers_scores_and_consent(
    stack, stack_hubspot: FakeHubSpot
) -> None:
    email = f"anna.muster.{uuid.uuid4().hex[:6]}@mueller-metallbau.example"
    visitor = person(stack)
    visitor.joined("Was kostet eine P400?")
    run(visitor, [
        "Ja", "Pressen für unsere neue Fertigungslinie", "Müller Metallbau GmbH",
        "rund 60 Leute", "Metallbau", "Ich bin Geschäftsführer", "33602 Bielefeld",
        "in zwei Monaten", "Ja", "Anna Muster", email,
    ])  # fmt: skip
    assert "Vertrieb" in visitor.joined("Ja, passt so")
    assert "bestätigt" in visitor.joined(code_mailed_to(stack, email, set()))  # double opt-in

    contact_id = eventually(lambda: stack_hubspot.contact_id(email), "the contact in HubSpot")

    def delivered() -> dict[str, Any] | None:
        properties = stack_hubspot.contact(contact_id)
        return properties if properties.get("lifecyclestage") == "marketingqualifiedlead" else None

    properties = eventually(delivered, "the contact as an MQL")
    assert properties["firstname"] == "Anna" and properties["lastname"] == "Muster"
    assert properties["lotse_fit_score"] == "100"
    assert properties["lotse_employees"] == "60"
    assert properties["lotse_consent"] == "granted"
    assert properties["lotse_consent_legal_basis"].startswith("consent, Art. 6(1)(a)")
    companies = stack_hubspot.linked("companies", contact_id)
    assert [c["properties"]["name"] for c in companies] == ["Müller Metallbau GmbH"]

    def notes() -> list[str] | None:  # a stage change's note follows the property it sets
        found = [n["properties"]["hs_note_body"] for n in stack_hubspot.linked("notes", contact_id)]
        return found if any("Lotse: lifecycle stage changed" in body for body in found) else None

    bodies = eventually(notes, "the note of the stage change")
    [first] = [body for body in bodies if "Lotse: new contact from the chat" in body]
    assert "Fit +" in first and "company size" in first  # the scoring before the email
    assert len(bodies) == len(set(bodies))  # each entry once
