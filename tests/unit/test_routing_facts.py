"""What the router is told of a conversation (handoff/routing_facts.py), and the
handoff rule a lead meets (handoff/triggers.rule_met): plain functions, no Rasa."""

from __future__ import annotations

from datetime import datetime, timezone

from crm_adapter.port import ANSWERED, DECLINED, Answer, Consent, Lead
from crm_adapter.scoring import InterestEvent
from crm_adapter.scoring_model import load_scoring_model
from handoff.routing_facts import routing_request
from handoff.texts import load_handoff_texts
from handoff.triggers import parse_rules, rule_met

NOW = datetime(2026, 11, 24, 10, 0, tzinfo=timezone.utc)
TEXTS = load_handoff_texts()


def answered(attribute: str, **value: object) -> Answer:
    return Answer(attribute, dict(value), ANSWERED, NOW)


def lead_with(*answers: Answer, **fields: object) -> Lead:
    return Lead(1, answers={a.attribute: a for a in answers}, **fields)  # type: ignore[arg-type]


def test_the_leads_answers_become_the_routing_facts() -> None:
    lead = lead_with(
        answered("need", product_line="laser_cutting"),
        answered("location", country="AT", postal_code="4020"),
        answered("employees", count=250),
    )
    request = routing_request(lead, "de", "visitor_asked", None, "", TEXTS)
    assert (request.need, request.product_line, request.country, request.postal_code,
            request.employees) == ("sales", "laser_cutting", "AT", "4020", 250)  # fmt: skip


def test_an_unknown_lead_or_a_declined_answer_gives_no_fact() -> None:
    assert routing_request(None, "en", "visitor_asked", None, "", TEXTS).country is None
    declined = lead_with(Answer("employees", None, DECLINED, NOW))
    assert routing_request(declined, "de", "visitor_asked", None, "", TEXTS).employees is None
    odd = lead_with(answered("employees", count="viele"))  # not a number: no size
    assert routing_request(odd, "de", "visitor_asked", None, "", TEXTS).employees is None


def test_service_is_meant_when_the_bot_could_not_answer_or_the_topic_or_need_says_so() -> None:
    assert routing_request(None, "de", "out_of_depth", None, "", TEXTS).need == "service"
    topic = sorted(TEXTS.service_topics)[0]
    assert routing_request(None, "de", "visitor_asked", topic, "", TEXTS).need == "service"
    lead = lead_with(answered("need", product_line="service"))
    assert routing_request(lead, "de", "visitor_asked", None, "", TEXTS).need == "service"


def test_words_naming_a_team_win_over_the_reason_and_the_topic() -> None:
    topic = sorted(TEXTS.service_topics)[0]
    said = "Ich möchte bitte mit dem Vertrieb sprechen"
    assert routing_request(None, "de", "out_of_depth", topic, said, TEXTS).need == "sales"
    said = "can I talk to a technician please"
    assert routing_request(None, "en", "visitor_asked", None, said, TEXTS).need == "service"


def sales_qualified(interest: list[str]) -> Lead:
    consent = Consent("qualification", "1", "ok", "de", "rest", NOW)
    return lead_with(
        answered("need", product_line="laser_cutting"),
        answered("employees", count=250),
        answered("industry", key="metalworking"),
        answered("role", key="managing_director"),
        answered("location", country="DE", postal_code="33602"),
        answered("timeline", months=2),
        answered("budget", eur=200_000),
        answered("email", address="anna@kunde-gmbh.example", freemail=False),
        email="anna@kunde-gmbh.example",
        consents=[consent],
        interest_events=[InterestEvent(kind, NOW) for kind in interest],
    )


def test_a_lead_meets_an_admins_rule_on_its_scores_and_requests() -> None:
    model = load_scoring_model()
    rules = parse_rules([{"name": "asked_for_demo", "any_interest": ["requested_demo"]}])
    assert rule_met(rules, sales_qualified(["requested_demo"]), model, NOW).name == (
        "asked_for_demo"
    )
    assert rule_met(rules, sales_qualified(["asked_price"]), model, NOW) is None
    assert rule_met(rules, Lead(2), model, NOW) is None
