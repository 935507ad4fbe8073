"""The leads sales judged, with the scoring rules that hold for them.

`judged_leads(connection, model, leads)`: for each lead of `leads` (a query with a
`contact_id` column, `insights/report.py`) its latest verdict (accept or reject, with the
fit and interest it had then) and the rules of the scoring model that hold for it
now (its current answers and interest events, as `crm_adapter.recording` reads
them). Reads the CRM store; raises SQLAlchemy errors.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import Column, Integer, MetaData, String, Table, func, select
from sqlalchemy.engine import Connection

from crm_adapter.scoring import FitFacts
from crm_adapter.scoring_model import ScoringModel
from crm_adapter.store.models import AnswerRow, FeedbackRow, InterestEventRow
from insights.scoring_feedback import Judged, rule_keys

feedback = FeedbackRow.__table__
answers = AnswerRow.__table__
interest = InterestEventRow.__table__
VERDICTS_TABLE = "insight_verdicts"  # temporary, per report
FACT_KEYS = {"employees": "count", "industry": "key", "role": "key", "location": "country"}


def judged_leads(connection: Connection, model: ScoringModel, leads: Any) -> list[Judged]:
    verdicts = _latest_verdicts(connection, leads)
    rows = connection.execute(select(verdicts)).all()
    if not rows:
        verdicts.drop(connection)
        return []
    facts = _facts(connection, verdicts)
    kinds: dict[int, set[str]] = {}
    for contact_id, kind in connection.execute(
        select(interest.c.contact_id, interest.c.kind)
        .distinct()
        .join(verdicts, verdicts.c.contact_id == interest.c.contact_id)
    ).all():
        kinds.setdefault(contact_id, set()).add(kind)
    verdicts.drop(connection)
    rules: dict[tuple[FitFacts, frozenset[str]], frozenset[str]] = {}  # leads alike
    judged = []
    for v in rows:
        key = (facts.get(v.contact_id, FitFacts()), frozenset(kinds.get(v.contact_id, ())))
        if key not in rules:
            rules[key] = frozenset(rule_keys(model, *key))
        judged.append(Judged(v.decision, v.fit, int(v.interest or 0), rules[key]))
    return judged


def _latest_verdicts(connection: Connection, leads: Any) -> Table:
    """The leads' latest verdicts, once, in a temporary table of this connection (the
    answers and interest events join it; `leads` is a query worth computing once)."""
    table = Table(
        VERDICTS_TABLE,
        MetaData(),
        Column("contact_id", Integer, primary_key=True, autoincrement=False),
        Column("decision", String(16), nullable=False),
        Column("fit", Integer),
        Column("interest", Integer),
        prefixes=["TEMPORARY"],
    )
    table.drop(connection, checkfirst=True)  # left by a report that died mid-way
    table.create(connection)
    latest = (
        select(feedback.c.contact_id, func.max(feedback.c.id).label("id"))
        .where(feedback.c.contact_id.in_(select(leads.c.contact_id)))
        .group_by(feedback.c.contact_id)
        .subquery("latest")
    )
    chosen = select(feedback.c.contact_id, feedback.c.decision, feedback.c.fit,
                    feedback.c.interest).join(latest, latest.c.id == feedback.c.id)  # fmt: skip
    connection.execute(table.insert().from_select(list(table.c.keys()), chosen))
    return table


def _facts(connection: Connection, latest: Any) -> dict[int, FitFacts]:
    """The fit facts of the judged leads from their current answers: the one field of
    each answer's JSON value that counts, extracted by the database (decoding every
    value in Python took most of the report's time)."""
    value = answers.c.value
    found: dict[int, dict[str, Any]] = {}
    for contact_id, attribute, count, key, country in connection.execute(
        select(answers.c.contact_id, answers.c.attribute, value["count"].as_string(),
               value["key"].as_string(), value["country"].as_string())
        .join(latest, latest.c.contact_id == answers.c.contact_id)
        .where(
            answers.c.superseded_at.is_(None),
            answers.c.status == "answered",
            answers.c.attribute.in_(list(FACT_KEYS)),
        )
    ).all():  # fmt: skip
        fields = {"count": count, "key": key, "country": country}
        found.setdefault(contact_id, {})[attribute] = fields[FACT_KEYS[attribute]]
    return {
        contact_id: FitFacts(
            employees=_whole(v.get("employees")),
            industry=_text(v.get("industry")),
            role=_text(v.get("role")),
            country=_text(v.get("location")),
        )
        for contact_id, v in found.items()
    }


def _whole(value: object) -> int | None:
    """A head count as the answer parsers store it (a whole number), else None."""
    text = str(value) if value is not None else ""
    return int(text) if text.isdigit() else None


def _text(value: object) -> str | None:
    return value if isinstance(value, str) and value else None
