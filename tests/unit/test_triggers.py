"""Handoff rules (handoff.yml `handoff_rules`): when the bot hands a lead over itself."""

from __future__ import annotations

import pytest

from handoff.texts import load_handoff_texts
from handoff.triggers import HandoffRuleError, first_holding, parse_rules

RULES = load_handoff_texts().rules


def test_the_default_rule_hands_over_a_sales_qualified_lead_who_asked_for_a_demo():
    assert first_holding(RULES, "sales_qualified_lead", 80, 60, ["requested_demo"]).name == (
        "sales_ready"
    )
    assert first_holding(RULES, "opportunity", 80, 60, ["asked_price"]) is not None


def test_it_does_not_for_a_lower_stage_or_without_such_a_request():
    assert first_holding(RULES, "marketing_qualified_lead", 80, 60, ["requested_demo"]) is None
    assert first_holding(RULES, "sales_qualified_lead", 80, 60, ["asked_delivery_time"]) is None


def test_an_admin_rule_on_scores_alone():
    rules = parse_rules([{"name": "hot", "fit_at_least": 75, "interest_at_least": 50}])
    assert first_holding(rules, None, 80, 55, []) is rules[0]
    assert first_holding(rules, None, None, 90, []) is None  # fit unknown
    assert first_holding(rules, None, 80, 40, []) is None


@pytest.mark.parametrize(
    ("raw", "message"),
    [
        ("not a list", "must be a list"),
        ([{"description": "x"}], "needs a name"),
        ([{"name": "x", "stage_at_least": "vip"}], "unknown stage"),
        ([{"name": "x", "fit_at_least": 120}], "0-100"),
        ([{"name": "x", "wen": 1}], "unknown keys"),
    ],
)
def test_mistakes_are_named(raw, message):
    with pytest.raises(HandoffRuleError, match=message):
        parse_rules(raw)
