"""A lead's two scores as the scoring model computes them from what the CRM holds:
fit from the answered firmographics, interest from its interest events (decayed to
`now`). Pure Python; `recording` scores before and after a turn, `explanation` shows
the scores line by line."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from crm_adapter.port import ANSWERED, Lead
from crm_adapter.scoring import FitFacts, FitScore, InterestScore, fit_score, interest_score
from crm_adapter.scoring_model import ScoringModel


def fit_facts(lead: Lead) -> FitFacts:
    def value(attribute: str, key: str) -> object:
        answer = lead.answers.get(attribute)
        if answer is None or answer.status != ANSWERED or not answer.value:
            return None
        return answer.value.get(key)

    employees = value("employees", "count")
    return FitFacts(
        employees=employees if isinstance(employees, int) else None,
        industry=_text(value("industry", "key")),
        role=_text(value("role", "key")),
        country=_text(value("location", "country")),
    )


def _text(value: object) -> str | None:
    return value if isinstance(value, str) and value else None


@dataclass(frozen=True)
class Scores:
    fit: FitScore
    interest: InterestScore

    @classmethod
    def of(cls, lead: Lead, model: ScoringModel, now: datetime) -> Scores:
        return cls(
            fit_score(model, fit_facts(lead)), interest_score(model, lead.interest_events, now)
        )
