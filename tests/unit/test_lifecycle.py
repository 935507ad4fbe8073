"""Lifecycle stages: earned from the scores, forward only, reset only by sales."""

from __future__ import annotations

import pytest

from crm_adapter.lifecycle import LEAD, MQL, SQL, LeadStanding, accept, advance, reject
from crm_adapter.scoring_model import load_scoring_model

MODEL = load_scoring_model()


@pytest.mark.parametrize(
    ("standing", "stage"),
    [
        (LeadStanding(identified=False, fit=100, interest=100), None),
        (LeadStanding(identified=True, fit=None, interest=0), LEAD),
        (LeadStanding(identified=True, fit=59, interest=100), LEAD),
        (LeadStanding(identified=True, fit=60, interest=30), MQL),
        (LeadStanding(identified=True, fit=100, interest=35), MQL),
        (LeadStanding(identified=True, fit=74, interest=60), MQL),
        (LeadStanding(identified=True, fit=75, interest=60), SQL),
        (LeadStanding(identified=True, fit=10, interest=0, accepted=True), SQL),
        (LeadStanding(identified=True, fit=100, interest=100, rejected=True), LEAD),
    ],
)
def test_earned_stage(standing: LeadStanding, stage: str | None) -> None:
    change = advance(None, MODEL, standing)
    assert (change.new if change else None) == stage


def test_the_reason_is_given() -> None:
    change = advance(LEAD, MODEL, LeadStanding(identified=True, fit=100, interest=35))
    assert change is not None
    assert (change.old, change.new, change.cause) == (
        LEAD,
        MQL,
        "fit 100 >= 60 and interest 35 >= 30",
    )


def test_stages_never_move_back_on_their_own() -> None:
    assert advance(SQL, MODEL, LeadStanding(identified=True, fit=0, interest=0)) is None
    assert advance(MQL, MODEL, LeadStanding(identified=True, fit=100, interest=35)) is None


def test_sales_reject_and_accept() -> None:
    change = reject(SQL, "no budget")
    assert change is not None and (change.new, change.cause) == (
        LEAD,
        "rejected by sales: no budget",
    )
    assert reject(LEAD, "again") is None
    with pytest.raises(ValueError, match="past qualification"):
        reject("customer", "late")
    accepted = accept(MQL, "called, real project")
    assert accepted is not None and accepted.new == SQL
    assert accept("opportunity", "x") is None
