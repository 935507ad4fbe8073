"""The leads sales judged, with the scoring rules that hold for them.

`judged_leads(connection, model, leads)`: for each lead of `leads` (a query with a
`contact_id` column, `insights/report.py`) its latest verdict (accept or reject, with the
fit and interest it had then) and the rules of the scoring model that hold for it
now (its current answers and interest events, as `crm_adapter.recording` reads
them). Reads the CRM store; raises SQLAlchemy errors.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import func, select
from sqlalchemy.engine import Connection

from crm_adapter.scoring import FitFacts
from crm_adapter.scoring_model import ScoringModel
from crm_adapter.store.models import AnswerRow, FeedbackRow, InterestEventRow
from insights.scoring_feedback import Judged, rule_keys

feedback = FeedbackRow.__table__
answers = AnswerRow.__table__
interest = InterestEventRow.__table__
FACT_KEYS = {"employees": "count", "industry": "key", "role": "key", "location": "country"}


def judged_leads(connection: Connection, model: ScoringModel, leads: Any) -> list[Judged]:
    latest = (
        select(feedback.c.contact_id, func.max(feedback.c.id).label("id"))
        .join(leads, leads.c.contact_id == feedback.c.contact_id)
        .group_by(feedback.c.contact_id)
        .subquery("latest")
    )
    verdicts = connection.execute(
        select(feedback.c.contact_id, feedback.c.decision, feedback.c.fit,
               feedback.c.interest).join(latest, latest.c.id == feedback.c.id)
    ).all()  # fmt: skip
    if not verdicts:
        return []
    facts = _facts(connection, latest)
    kinds: dict[int, set[str]] = {}
    for contact_id, kind in connection.execute(
        select(interest.c.contact_id, interest.c.kind)
        .distinct()
        .join(latest, latest.c.contact_id == interest.c.contact_id)
    ).all():
        kinds.setdefault(contact_id, set()).add(kind)
    rules: dict[tuple[FitFacts, frozenset[str]], frozenset[str]] = {}  # leads alike
    judged = []
    for v in verdicts:
        key = (facts.get(v.contact_id, FitFacts()), frozenset(kinds.get(v.contact_id, ())))
        if key not in rules:
            rules[key] = frozenset(rule_keys(model, *key))
        judged.append(Judged(v.decision, v.fit, int(v.interest or 0), rules[key]))
    return judged


def _facts(connection: Connection, latest: Any) -> dict[int, FitFacts]:
    """The fit facts of the judged leads from their current answers."""
    found: dict[int, dict[str, Any]] = {}
    for contact_id, attribute, value in connection.execute(
        select(answers.c.contact_id, answers.c.attribute, answers.c.value)
        .join(latest, latest.c.contact_id == answers.c.contact_id)
        .where(
            answers.c.superseded_at.is_(None),
            answers.c.status == "answered",
            answers.c.attribute.in_(list(FACT_KEYS)),
        )
    ).all():
        if isinstance(value, dict):
            found.setdefault(contact_id, {})[attribute] = value.get(FACT_KEYS[attribute])
    return {
        contact_id: FitFacts(
            employees=v.get("employees") if isinstance(v.get("employees"), int) else None,
            industry=_text(v.get("industry")),
            role=_text(v.get("role")),
            country=_text(v.get("location")),
        )
        for contact_id, v in found.items()
    }


def _text(value: object) -> str | None:
    return value if isinstance(value, str) and value else None
