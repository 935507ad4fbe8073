"""Qualification conversations end to end (REST -> Rasa -> actions -> CRM store).

Each test talks to the running stack like a visitor and then checks what ended up in
the CRM store (the same SQLite file the action server writes).
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import uuid

import pytest

from crm_adapter.explanation import lead_report
from crm_adapter.port import ANSWERED, DECLINED, Lead, Visit
from crm_adapter.scoring_model import load_scoring_model
from tests.support.mailbox import code_mailed_to
from tests.support.rest_client import Visitor
from wiring.services import services_for

pytestmark = pytest.mark.model


def person(stack, language: str = "de", visitor_id: str | None = None) -> Visitor:
    metadata = {"language": language, "visitor_id": visitor_id or uuid.uuid4().hex}
    return Visitor(stack.rasa_url, metadata=metadata)


def lead_of(stack, email: str) -> Lead:
    lead = services_for(stack.database_url).crm.find_by_email(email)
    assert lead is not None, email
    return lead


def lead_of_conversation(stack, visitor: Visitor) -> Lead:
    return services_for(stack.database_url).crm.lead_for(Visit(visitor.sender, "rest"))


def run(visitor: Visitor, lines: list[str]) -> list[str]:
    return [visitor.joined(line) for line in lines]


def test_german_straight_path_metalworking_company_in_bielefeld_is_an_mql(stack) -> None:
    email = f"anna.muster.{uuid.uuid4().hex[:6]}@mueller-metallbau.example"
    visitor = person(stack)
    price = visitor.joined("Was kostet eine P400?")
    assert "140.000" in price and "Anfrage an unseren Vertrieb" in price
    replies = run(visitor, [
        "Ja", "Pressen für unsere neue Fertigungslinie", "Müller Metallbau GmbH",
        "rund 60 Leute", "Metallbau", "Ich bin Geschäftsführer", "33602 Bielefeld",
        "in zwei Monaten",
    ])  # fmt: skip
    assert "einverstanden" in replies[-1] and "datenschutz" in replies[-1]
    replies = run(visitor, ["Ja", "Anna Muster", email])
    assert "Mitarbeiter: 60" in replies[-1] and email in replies[-1]
    assert "Vertrieb" in visitor.joined("Ja, passt so")
    assert lead_of(stack, email).stage is None  # a lead once the address is proven
    assert "bestätigt" in visitor.joined(code_mailed_to(stack, email, set()))
    lead = lead_of(stack, email)
    report = lead_report(lead, load_scoring_model(), lead.created_at)
    assert report["fit"] == 100
    assert report["stage"] in ("marketing_qualified_lead", "sales_qualified_lead")
    assert "company size 60 (50-70): 100" in report["explanation"]["fit"]
    assert "fit = average of 4 known attribute(s) = 100" in report["explanation"]["fit"]
    assert report["answers"]["location"]["value"] == {
        "country": "DE", "postal_code": "33602", "town": "Bielefeld"
    }  # fmt: skip
    assert report["answers"]["company"]["value"]["legal_form"] == "GmbH"
    assert report["consent"]["version"] == "2026-11-26"
    assert report["consent"]["channel"] == "rest"
    assert any("fit 60 >= 60" in e["event"] or "fit 100 >= 60" in e["event"]
               for e in report["timeline"])  # fmt: skip
    assert lead.tasks and lead.tasks[0].kind == "follow_up"


def test_leads_command_shows_the_lead_as_json(stack) -> None:
    email = f"max.{uuid.uuid4().hex[:6]}@stahlbau-nord.example"
    visitor = person(stack)
    visitor.joined("Was kostet eine P200?")
    run(
        visitor,
        [
            "Ja",
            "Pressen",
            "Stahlbau Nord GmbH & Co. KG",
            "55",
            "Metallbau",
            "Produktionsleiter",
            "33602",
            "in 2 Monaten",
            "ja",
            "Max Stahl",
            email,
            "ja",
        ],
    )
    visitor.joined(code_mailed_to(stack, email, set()))  # the double opt-in
    env = dict(os.environ, LOTSE_DATABASE_URL=stack.database_url)
    shown = subprocess.run(
        [sys.executable, "-m", "ops.cli", "leads", "show", email.upper(), "--json"],
        capture_output=True, text=True, env=env, check=True,
    )  # fmt: skip
    data = json.loads(shown.stdout)
    assert (data["fit"], data["stage"]) == (100, "marketing_qualified_lead")
    assert data["answers"]["employees"]["value"]["count"] == 55
    listed = subprocess.run(
        [sys.executable, "-m", "ops.cli", "leads", "list", "--json"],
        capture_output=True, text=True, env=env, check=True,
    )  # fmt: skip
    assert email in [row["email"] for row in json.loads(listed.stdout)]


def test_english_everything_volunteered_at_once(stack) -> None:
    visitor = person(stack, "en")
    assert "enquiry" in visitor.joined("How much is the NW-Connect software per month?")
    visitor.joined("yes")
    reply = visitor.joined(
        "NW-Connect for our machines; we are a 60-person metal shop in Bielefeld"
    )
    assert "company" in reply.lower()
    lead = lead_of_conversation(stack, visitor)
    assert lead.answers["need"].value["product_line"] == "software"
    # The need came with the price question; the later words name the same line.
    assert "NW-Connect" in lead.answers["need"].value["purpose"]
    assert lead.answers["employees"].value["count"] == 60
    assert lead.answers["industry"].value["key"] == "metalworking"
    assert lead.answers["location"].value["postal_code"] == "33602"


def test_why_decline_digression_correction_and_stop(stack) -> None:
    visitor = person(stack)
    visitor.joined("Was kostet eine P800?")
    visitor.joined("Ja")  # the need is the presses the question was about
    assert "richtigen Unternehmen" in visitor.joined("Wozu brauchen Sie das?")
    assert "Mitarbeiter" in visitor.joined("Das möchte ich nicht sagen")
    visitor.joined("60")
    warranty = visitor.joined("Wie lange ist die Garantie?")
    assert "24 Monate" in warranty and "Branche" in warranty
    assert "Notiert" in visitor.joined("Ach, eigentlich sind wir 80")
    assert "bleibt notiert" in visitor.joined("stopp")
    lead = lead_of_conversation(stack, visitor)
    assert lead.answers["company"].status == DECLINED
    assert lead.answers["employees"].value["count"] == 80
    assert [a.value["count"] for a in lead.answer_history if a.attribute == "employees"] == [60, 80]
    assert "Fragen zu" not in visitor.joined("Was kostet eine P200?")  # helping goes on


def test_consent_refused_stores_nothing_personal(stack) -> None:
    visitor = person(stack)
    visitor.joined("Was kostet eine P400?")
    run(visitor, ["Ja", "Pressen", "Kunststoff Meyer KG", "40", "Kunststoffverarbeitung",
                  "Einkaufsleiter", "Österreich 1010", "im Frühjahr"])  # fmt: skip
    assert "keine persönlichen Daten" in visitor.joined("Nein, lieber nicht")
    lead = lead_of_conversation(stack, visitor)
    assert lead.email is None and lead.consent is None
    assert "email" not in lead.answers and "name" not in lead.answers
    assert lead.answers["employees"].status == ANSWERED


def test_consent_withdrawn_erases_personal_data(stack) -> None:
    email = f"eva.{uuid.uuid4().hex[:6]}@walzwerk.example"
    visitor = person(stack)
    visitor.joined("Was kostet eine P400?")
    run(visitor, ["Ja", "Pressen", "Walzwerk Süd AG", "120", "Maschinenbau", "Ingenieurin",
                  "70173", "in einem halben Jahr", "Ja", "Eva Berg", email])  # fmt: skip
    assert lead_of(stack, email).name == "Eva Berg"
    assert "widerrufen" in visitor.joined("Ich widerrufe meine Einwilligung")
    lead = lead_of_conversation(stack, visitor)
    assert lead.email is None and lead.name is None and lead.consent is None
    assert services_for(stack.database_url).crm.find_by_email(email) is None
    assert lead.answers["employees"].value["count"] == 120  # anonymous answers stay


def test_a_returning_visitor_is_not_asked_again(stack) -> None:
    visitor_id = uuid.uuid4().hex
    first = person(stack, visitor_id=visitor_id)
    first.joined("Was kostet eine P400?")
    run(first, ["Ja", "Pressen", "Müller Metallbau GmbH", "stopp"])
    later = person(stack, visitor_id=visitor_id)
    later.joined("Was kostet eine P200?")
    assert "Mitarbeiter" in later.joined("Ja")  # need and company are known
    lead = lead_of_conversation(stack, later)
    assert "returning_visitor" in [e.kind for e in lead.interest_events]


def test_english_straight_path_is_an_mql(stack) -> None:
    email = f"anna.miller.{uuid.uuid4().hex[:6]}@miller-metalworks.example"
    visitor = person(stack, "en")
    assert "enquiry" in visitor.joined("How much does a P400 cost?")
    replies = run(visitor, [
        "yes", "Presses for our new production line", "Miller Metalworks GmbH",
        "about sixty people", "metalworking", "I'm the managing director",
        "33602 Bielefeld, Germany", "in two months",
    ])  # fmt: skip
    assert "Do you agree?" in replies[-1]
    replies = run(visitor, ["yes", "Anna Miller", email])
    assert "Employees: 60" in replies[-1] and "Role: owner / managing director" in replies[-1]
    assert "sales team" in visitor.joined("yes, that's right")
    assert "confirmed" in visitor.joined(code_mailed_to(stack, email, set()))
    report = lead_report(
        lead_of(stack, email), load_scoring_model(), lead_of(stack, email).created_at
    )
    assert (report["fit"], report["stage"]) == (100, "marketing_qualified_lead")
    assert report["consent"]["language"] == "en"


def test_english_why_decline_digression_correction_and_stop(stack) -> None:
    visitor = person(stack, "en")
    visitor.joined("What does NW-Connect cost per month?")
    visitor.joined("yes")  # the need is the software the question was about
    assert "right company" in visitor.joined("why do you need that?")
    assert "employees" in visitor.joined("I'd rather not say")
    visitor.joined("60")
    warranty = visitor.joined("How long is the warranty?")
    assert "24 months" in warranty and "industry" in warranty
    assert "Noted" in visitor.joined("actually we are 80 people")
    assert "stays noted" in visitor.joined("let's stop")
    lead = lead_of_conversation(stack, visitor)
    assert lead.answers["company"].status == DECLINED
    assert lead.answers["employees"].value["count"] == 80


def test_english_consent_refused_and_withdrawn(stack) -> None:
    refused = person(stack, "en")
    refused.joined("How much does a P200 cost?")
    run(refused, ["yes", "presses", "Nordic Tools AB", "40", "automotive supplier",
                  "I am head of purchasing", "Sweden 11122", "next spring"])  # fmt: skip
    assert "not store any personal data" in refused.joined("no")
    assert lead_of_conversation(stack, refused).email is None
    email = f"lars.{uuid.uuid4().hex[:6]}@nordic-tools.example"
    withdrawn = person(stack, "en")
    withdrawn.joined("How much does a P200 cost?")
    run(withdrawn, ["yes", "presses", "Nordic Tools AB", "40", "automotive supplier",
                    "I am head of purchasing", "Sweden 11122", "next spring", "yes",
                    "Lars Berg", email])  # fmt: skip
    assert lead_of(stack, email).name == "Lars Berg"
    assert "withdrawn" in withdrawn.joined("Please delete my data")
    assert services_for(stack.database_url).crm.find_by_email(email) is None


def test_english_returning_visitor(stack) -> None:
    visitor_id = uuid.uuid4().hex
    first = person(stack, "en", visitor_id)
    first.joined("How much does a P400 cost?")
    run(first, ["yes", "presses", "Miller Metalworks GmbH", "stop"])
    later = person(stack, "en", visitor_id)
    later.joined("How much does a P800 cost?")
    assert "employees" in later.joined("yes")


@pytest.mark.parametrize(
    ("language", "text", "facts", "next_question"),
    [
        ("de", "Ich hätte gern ein Angebot für eine P400", "140.000", "Für welches Unternehmen"),
        ("en", "Could you send me a quote for the NW-Connect software?", "490", "Which company"),
    ],
)
def test_asking_for_a_quote_starts_the_qualification_at_once(
    stack, language: str, text: str, facts: str, next_question: str
) -> None:
    visitor = person(stack, language)
    reply = visitor.joined(text)
    # The facts first, then straight into the questions; the need is already known.
    assert facts in reply and next_question in reply
    lead = lead_of_conversation(stack, visitor)
    assert "asked_price" in [e.kind for e in lead.interest_events]
    assert lead.answers["need"].status == ANSWERED
