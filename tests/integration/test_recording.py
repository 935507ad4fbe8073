"""Recording a qualification in the local CRM store: scores, their causes, stages."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone
from pathlib import Path

import pytest

from crm_adapter.explanation import lead_report, report_lines
from crm_adapter.port import (
    ANSWERED,
    CONFIRMED,
    HUMAN,
    Answer,
    Consent,
    CrmPort,
    Notification,
    Visit,
)
from crm_adapter.recording import Learnt, record, verified
from crm_adapter.scoring_model import load_scoring_model
from wiring.services import services_for

MODEL = load_scoring_model()
NOW = datetime(2026, 11, 25, 10, 0, tzinfo=timezone.utc)
CONVERSATION = "conv-1"


@pytest.fixture()
def crm(tmp_path: Path) -> CrmPort:
    return services_for(f"sqlite:///{tmp_path / 'crm.db'}").crm


def answer(attribute: str, value: dict) -> Answer:
    return Answer(attribute, value, ANSWERED, NOW, conversation_id=CONVERSATION)


def consent() -> Consent:
    return Consent("lead_contact", "2026-11-01", "Sind Sie einverstanden?", "de", "rest", NOW)


def qualify(crm: CrmPort, prove: bool = True) -> int:
    lead = crm.lead_for(Visit(CONVERSATION, "rest", "visitor-1", "de"))
    lead_id = record(crm, lead, Learnt(CONVERSATION, interest=["asked_price"]), MODEL, NOW)
    firmographics = [
        answer("need", {"product_line": "presses"}),
        answer("company", {"name": "Müller Metallbau GmbH", "legal_form": "GmbH"}),
        answer("employees", {"count": 60, "low": 60, "high": 60, "band": "medium"}),
        answer("industry", {"key": "metalworking", "nace_section": "C", "nace_division": "25"}),
        answer("role", {"key": "owner_md"}),
        answer("location", {"country": "DE", "postal_code": "33602"}),
        answer("timeline", {"months": 2}),
    ]
    for item in firmographics:
        interest = ["short_timeline"] if item.attribute == "timeline" else []
        learnt = Learnt(CONVERSATION, [item], interest=interest)
        lead_id = record(crm, crm.lead(lead_id), learnt, MODEL, NOW)
    lead_id = record(crm, crm.lead(lead_id), Learnt(CONVERSATION, consent=consent()), MODEL, NOW)
    email = {"address": "Anna@Mueller-Metall.example", "freemail": False}
    personal = [answer("name", {"full": "Anna Muster"}), answer("email", email)]
    lead_id = record(crm, crm.lead(lead_id), Learnt(CONVERSATION, personal, code_mail=code_mail),
                     MODEL, NOW)  # fmt: skip
    if prove:
        assert verified(crm, lead_id, MAILED_CODES[-1], MODEL, NOW).outcome == CONFIRMED
    return lead_id


MAILED_CODES: list[str] = []


def code_mail(code: str, address: str) -> Notification:
    """The mail taking an email answer's code to the address (`Learnt.code_mail`)."""
    MAILED_CODES.append(code)
    return Notification("email", "Ihr Code", f"Ihr Code: {code}", (address,))


def test_bielefeld_metalworking_md_is_fit_100_and_an_mql_with_the_reasons(crm: CrmPort) -> None:
    qualify(crm)
    lead = crm.find_by_email("anna@mueller-metall.example")
    assert lead is not None
    report = lead_report(lead, MODEL, NOW)
    assert (report["fit"], report["interest"], report["stage"]) == (
        100, 35, "marketing_qualified_lead")  # fmt: skip
    assert report["explanation"]["fit"] == [
        "company size 60 (50-70): 100",
        "industry metalworking (listed): 100",
        "role owner_md (listed): 100",
        "region DE (service area): 100",
        "fit = average of 4 known attribute(s) = 100",
    ]
    assert report["explanation"]["interest"][-1] == "interest = 35 (cap 100)"
    causes = [event.cause for event in lead.scoring_events]
    assert "company size 60 (50-70): 100 -> fit 100" in causes
    assert "asked for a price +15 -> interest 15" in causes
    assert "gave a timeline under 3 months +20 -> interest 35" in causes
    assert [(s.old, s.new) for s in lead.stages] == [
        (None, "marketing_qualified_lead")]  # fmt: skip
    assert lead.stages[0].cause == "fit 100 >= 60 and interest 35 >= 30"
    text = "\n".join(report_lines(report))
    assert "stage marketing_qualified_lead   fit 100   interest 35" in text


def test_an_address_counts_once_proven_by_its_code_or_entered_by_staff(crm: CrmPort) -> None:
    lead_id = qualify(crm, prove=False)
    waiting = crm.lead(lead_id)
    assert waiting.email == "Anna@Mueller-Metall.example" and waiting.stage is None
    assert verified(crm, lead_id, "000000" if MAILED_CODES[-1] != "000000" else "111111",
                    MODEL, NOW).outcome == "wrong"  # fmt: skip
    assert crm.lead(lead_id).stage is None
    assert verified(crm, lead_id, MAILED_CODES[-1], MODEL, NOW).outcome == CONFIRMED
    proven = crm.lead(lead_id)
    assert proven.consent is not None and proven.consent.confirmed_at is not None
    assert [(s.old, s.new) for s in proven.stages] == [(None, "marketing_qualified_lead")]

    other = crm.lead_for(Visit("staff-entered", "rest"))
    record(crm, other, Learnt("staff-entered", consent=consent()), MODEL, NOW)
    typed = Answer("email", {"address": "jo@stahl-nord.example", "freemail": False}, ANSWERED,
                   NOW, HUMAN, "staff-entered")  # fmt: skip
    record(crm, crm.lead(other.lead_id), Learnt("staff-entered", [typed]), MODEL, NOW)
    assert crm.lead(other.lead_id).stage == "lead"  # staff know the person: no code


def test_nothing_personal_without_consent_and_a_lead_needs_an_email(crm: CrmPort) -> None:
    lead = crm.lead_for(Visit("anon", "rest"))
    record(crm, lead, Learnt("anon", [answer("employees", {"count": 60})]), MODEL, NOW)
    stored = crm.lead(lead.lead_id)
    assert stored.stage is None and stored.email is None
    assert crm.leads() == []


def test_interest_counts_once_per_conversation_and_decays(crm: CrmPort) -> None:
    lead = crm.lead_for(Visit("c", "rest"))
    for _ in range(3):
        record(crm, crm.lead(lead.lead_id), Learnt("c", interest=["requested_demo"]), MODEL, NOW)
    stored = crm.lead(lead.lead_id)
    assert len(stored.interest_events) == 1
    later = lead_report(stored, MODEL, NOW + timedelta(days=31))
    assert later["interest"] == 15


def test_withdrawal_erases_the_email_and_keeps_the_firmographics(crm: CrmPort) -> None:
    lead_id = qualify(crm)
    record(crm, crm.lead(lead_id), Learnt(CONVERSATION, withdraw=True), MODEL, NOW)
    lead = crm.lead(lead_id)
    assert lead.email is None and lead.name is None and lead.consent is None
    assert lead.answers["employees"].value["count"] == 60
    assert crm.find_by_email("anna@mueller-metall.example") is None
