"""The insights report: every figure of the dashboard, for one set of filters.

`Insights(engine).report(filters)` reads the conversation summaries (one row per
conversation, `insights/summary_store.py`), the CRM store (leads, lifecycle, verdicts,
answers, interest events), the handoff store and the unanswered questions, all in the
CRM database, and returns plain data (JSON-ready); `tables(report)` flattens it into
the CSV tables of the API. A conversation counts when it started inside the date
range and matches the channel and language; leads, stages and verdicts count the
leads of those conversations. Definitions: docs/insights.md.

Personal data: the texts of unanswered questions (only those kept under a consent,
`insights/unanswered.py`) appear in `unanswered.clusters`; nothing else names a
person. Raises SQLAlchemy errors.
"""

from __future__ import annotations

import time
from collections.abc import Sequence
from datetime import datetime, timedelta, timezone
from typing import Any

from sqlalchemy import Integer, and_, case, cast, func, select
from sqlalchemy.engine import Connection, Engine

from crm_adapter.scoring_model import ScoringModel, load_scoring_model
from dialogue.experiments import Experiment, load_experiments
from dialogue.qualification.questions import load_questionnaire
from handoff.store import handoffs
from insights import scoring_feedback
from insights.clusters import cluster_texts
from insights.filters import Filters
from insights.judged_leads import judged_leads
from insights.selection import (
    chosen_by,
    chosen_conversations,
    count_of,
    ids_of,
    outcomes_once,
    reached_after,
)
from insights.stats import median, rate, wilson_interval
from lotse.shared_tables import steps, summaries, unanswered, variants

MAX_TEXTS = 5000  # the latest unanswered texts clustered
DAY = 86400
RATINGS = (1, 2, 3, 4, 5)
CHOICES_SECONDS = 300.0


def question_order() -> list[str]:
    """The qualification's questions in their order, then the consent (the funnel's rows)."""
    return [question.key for question in load_questionnaire().questions] + ["consent"]


class Insights:
    def __init__(
        self,
        engine: Engine,
        model: ScoringModel | None = None,
        questions: Sequence[str] = (),
        experiments: Sequence[Experiment] | None = None,
    ) -> None:
        self.engine = engine
        self.model = model or load_scoring_model()
        self.questions = list(questions)
        self.experiments = list(load_experiments() if experiments is None else experiments)
        self._choices: tuple[float, dict[str, list[str]]] | None = None

    def choices(self) -> dict[str, list[str]]:
        """The channels and languages there are conversations of (for the filter form),
        found anew at most every CHOICES_SECONDS: they seldom change."""
        now = time.monotonic()
        if self._choices is None or now - self._choices[0] > CHOICES_SECONDS:
            with self.engine.connect() as connection:
                pairs = connection.execute(
                    select(summaries.c.channel, summaries.c.language).distinct()
                ).all()
            found = {
                "channels": sorted({channel for channel, _ in pairs}),
                "languages": sorted({language for _, language in pairs}),
            }
            self._choices = (now, found)
        return self._choices[1]

    def report(self, filters: Filters) -> dict[str, Any]:
        with self.engine.begin() as connection:
            chosen = chosen_conversations(filters)
            outcomes = outcomes_once(connection, chosen)
            found = self._sections(connection, filters, chosen, outcomes)
            # After an error the rollback takes the temporary table with it (DDL is
            # transactional in PostgreSQL and SQLite): no dropping in a failed transaction.
            outcomes.drop(connection)
            return found

    def _sections(
        self, connection: Connection, filters: Filters, chosen: Any, outcomes: Any
    ) -> dict[str, Any]:
        days = self._per_day(connection, chosen)
        return {
            "filters": filters.as_dict(),
            "overview": self._overview(connection, filters, chosen, outcomes, days),
            "daily": _daily(filters, days),
            "csat": _csat(days),
            "funnel": self._funnel(connection, filters, outcomes),
            "unanswered": self._unanswered(connection, filters, chosen),
            "scoring": self._scoring(connection, chosen, outcomes),
            "experiments": self._experiments(connection, filters, outcomes),
        }

    # -- overview ---------------------------------------------------------------------

    def _overview(
        self,
        connection: Connection,
        filters: Filters,
        chosen: Any,
        outcomes: Any,
        days: list[dict[str, int]],
    ) -> dict[str, Any]:
        def total(key: str) -> int:
            return sum(day[key] for day in days)

        conversations, handed = total("conversations"), total("with_handoff")
        messages = total("messages")
        leads = self._leads(connection, chosen, outcomes)
        requested, waits = self._waits(connection, filters, chosen)
        return {
            "conversations": conversations,
            "engaged_conversations": total("engaged"),
            "visitor_messages": messages,
            **leads,
            "handoffs": requested,
            "handoffs_claimed": len(waits),
            "conversations_with_handoff": handed,
            "containment_rate": rate(conversations - handed, conversations),
            "fallback_rate": rate(total("fallbacks"), messages),
            "handoff_rate": rate(handed, conversations),
            "median_wait_seconds": median(waits),
        }

    def _leads(self, connection: Connection, chosen: Any, outcomes: Any) -> dict[str, int]:
        """Leads of the chosen sessions that reached each stage, or got their verdict,
        at or after a chosen session began (a returning MQL is not counted again)."""
        o, started = outcomes.c, chosen.c.started_at

        def leads_where(condition: Any) -> Any:
            return func.count(func.distinct(case((condition, o.contact_id))))

        row = connection.execute(
            select(
                leads_where(reached_after(o.lead_at, started)),
                leads_where(reached_after(o.mql_at, started)),
                leads_where(reached_after(o.sql_at, started)),
                leads_where(and_(o.accepted, reached_after(o.verdict_at, started))),
                leads_where(and_(o.rejected, reached_after(o.verdict_at, started))),
            ).select_from(chosen.join(outcomes, o.conversation_id == chosen.c.conversation_id))
        ).one()
        names = ("leads", "mql", "sql", "accepted_by_sales", "rejected_by_sales")
        return {name: int(value or 0) for name, value in zip(names, row, strict=True)}

    def _waits(
        self, connection: Connection, filters: Filters, chosen: Any
    ) -> tuple[int, list[float]]:
        """How many handoffs of the chosen conversations were asked for in the range,
        and the waits (s) of those claimed."""
        ids = ids_of(chosen)
        rows = connection.execute(
            select(handoffs.c.requested_at, handoffs.c.claimed_at)
            .where(handoffs.c.conversation_id.in_(ids),
                   handoffs.c.requested_at >= filters.start_time,
                   handoffs.c.requested_at < filters.end_time)
        ).all()  # fmt: skip
        claimed = [
            (row.claimed_at - row.requested_at).total_seconds()
            for row in rows
            if row.claimed_at is not None
        ]
        return len(rows), claimed

    def _per_day(self, connection: Connection, chosen: Any) -> list[dict[str, int]]:
        """The chosen sessions' figures per day they began, in one pass: the overview,
        the daily table and the ratings all add these up."""
        c = chosen.c
        days = c.started_at / DAY
        # The whole days since 1970: PostgreSQL rounds a cast to integer, SQLite truncates.
        whole = func.floor(days) if self.engine.dialect.name == "postgresql" else days
        day = cast(whole, Integer).label("day")
        columns = {
            "conversations": func.count(),
            "engaged": count_of(c.engaged),
            "messages": func.sum(c.user_messages),
            "fallbacks": func.sum(c.fallbacks),
            "with_handoff": count_of(c.handoff),
            **{f"end_{r}": count_of(c.rating == r) for r in RATINGS},
            **{f"handoff_{r}": count_of(c.rating_after_handoff == r) for r in RATINGS},
        }
        rows = connection.execute(
            select(day, *(value.label(key) for key, value in columns.items())).group_by(day)
        ).all()
        return [
            {"day": int(row.day), **{key: int(getattr(row, key) or 0) for key in columns}}
            for row in rows
        ]

    # -- the qualification funnel ---------------------------------------------------------

    def _funnel(
        self, connection: Connection, filters: Filters, outcomes: Any
    ) -> list[dict[str, Any]]:
        """Per question: asked; of those, answered, declined (not answered later),
        dropped off (the last question, unanswered) or skipped (the talk went on
        without an answer); and how many of the sessions asked reached MQL, SQL and
        acceptance by sales then or later. The steps carry their session's start,
        channel and language (no join to filter them); the outcomes are a small
        temporary table, joined in the same pass."""
        asked, answered, declined = steps.c.asked, steps.c.answered, steps.c.declined
        started, o = steps.c.started_at, outcomes.c
        rows = connection.execute(
            select(
                steps.c.question,
                count_of(asked),
                count_of(and_(asked, answered)),
                count_of(and_(asked, declined, ~answered)),
                count_of(and_(asked, steps.c.dropped)),
                count_of(and_(asked, ~answered, ~declined, ~steps.c.dropped)),
                count_of(and_(asked, reached_after(o.mql_at, started))),
                count_of(and_(asked, reached_after(o.sql_at, started))),
                count_of(and_(asked, o.accepted, reached_after(o.verdict_at, started))),
            )
            .outerjoin(outcomes, o.conversation_id == steps.c.conversation_id)
            .where(chosen_by(steps, filters))
            .group_by(steps.c.question)
        ).all()
        order = {key: index for index, key in enumerate(self.questions)}
        names = ("asked", "answered", "declined", "dropped_off", "skipped", "reached_mql",
                 "reached_sql", "accepted")  # fmt: skip
        result = [
            {"question": question, **{n: int(v or 0) for n, v in zip(names, values, strict=True)}}
            for question, *values in rows
        ]
        return sorted(result, key=lambda r: (order.get(r["question"], len(order)), r["question"]))

    # -- unanswered questions --------------------------------------------------------------

    def _unanswered(self, connection: Connection, filters: Filters, chosen: Any) -> dict[str, Any]:
        """The unanswered questions of the chosen conversations asked in the range."""
        asked = and_(
            unanswered.c.conversation_id.in_(ids_of(chosen)),
            unanswered.c.at >= filters.start,
            unanswered.c.at < filters.end,
        )
        counted = connection.execute(
            select(unanswered.c.kind, func.count(), func.count(unanswered.c.text))
            .where(asked)
            .group_by(unanswered.c.kind)
        ).all()
        kinds = {kind: n for kind, n, _ in counted}
        with_text = sum(int(n) for _, _, n in counted)
        texts = connection.execute(
            select(unanswered.c.text)
            .where(asked, unanswered.c.text.is_not(None))
            .order_by(unanswered.c.at.desc())
            .limit(MAX_TEXTS)
        ).scalars()
        total = sum(kinds.values())
        shown = list(texts)
        clusters = cluster_texts(shown)
        return {
            "total": int(total),
            "by_kind": [{"kind": k, "count": int(n)} for k, n in sorted(kinds.items())],
            "with_text": with_text,  # the latest MAX_TEXTS of them are clustered
            "without_consent": int(total) - with_text,
            "clusters": [
                {
                    "label": c.label,
                    "count": c.count,
                    "texts": [{"text": t, "count": n} for t, n in c.texts],
                }
                for c in clusters
            ],  # fmt: skip
        }

    # -- scoring feedback ------------------------------------------------------------------

    def _scoring(self, connection: Connection, chosen: Any, outcomes: Any) -> dict[str, Any]:
        """Leads of the chosen sessions judged at or after the session began."""
        o = outcomes.c
        judged_ids = (
            select(o.contact_id)
            .distinct()
            .select_from(chosen.join(outcomes, o.conversation_id == chosen.c.conversation_id))
            .where(reached_after(o.verdict_at, chosen.c.started_at))
            .subquery("judged_ids")
        )
        judged = judged_leads(connection, self.model, judged_ids)
        return {
            "verdicts": len(judged),
            "bands": scoring_feedback.band_report(self.model, judged),
            "rules": scoring_feedback.rule_report(judged, scoring_feedback.model_rules(self.model)),
        }

    # -- A/B tests ---------------------------------------------------------------------------

    def _experiments(
        self, connection: Connection, filters: Filters, outcomes: Any
    ) -> list[dict[str, Any]]:
        exposed = connection.execute(
            select(variants.c.experiment, variants.c.variant, func.count())
            .where(chosen_by(variants, filters), variants.c.exposed)
            .group_by(variants.c.experiment, variants.c.variant)
        ).all()
        converted = {
            (e, v): (int(lead or 0), int(mql or 0))
            for e, v, lead, mql in connection.execute(
                select(
                    variants.c.experiment,
                    variants.c.variant,
                    count_of(reached_after(outcomes.c.lead_at, variants.c.started_at)),
                    count_of(reached_after(outcomes.c.mql_at, variants.c.started_at)),
                )
                .join(outcomes, outcomes.c.conversation_id == variants.c.conversation_id)
                .where(chosen_by(variants, filters), variants.c.exposed)
                .group_by(variants.c.experiment, variants.c.variant)
            ).all()
        }
        seen = {(e, v): (int(n), *converted.get((e, v), (0, 0))) for e, v, n in exposed}
        result = []
        for experiment in self.experiments:
            for variant in experiment.variants:
                counts = seen.pop((experiment.name, variant.name), (0, 0, 0))
                result.append(_variant_row(experiment, variant.name, variant.weight, counts))
        for (name, variant_name), counts in sorted(seen.items()):  # ended experiments
            result.append(_variant_row(None, variant_name, None, counts, name))
        return result


def _daily(filters: Filters, days: list[dict[str, int]]) -> list[dict[str, Any]]:
    """Per day of the range (UTC, every day, none left out): sessions begun."""
    found = {_iso_day(day["day"] * DAY): day for day in days}
    result = []
    for offset in range((filters.last_day - filters.first_day).days + 1):
        name = (filters.first_day + timedelta(days=offset)).isoformat()
        day = found.get(name, {})
        result.append({"day": name, "conversations": day.get("conversations", 0),
                       "engaged": day.get("engaged", 0),
                       "with_handoff": day.get("with_handoff", 0)})  # fmt: skip
    return result


def _csat(days: list[dict[str, int]]) -> list[dict[str, Any]]:
    """The ratings at the end of a conversation and after a handoff."""
    result = []
    for moment in ("end", "handoff"):
        counts = {r: sum(day[f"{moment}_{r}"] for day in days) for r in RATINGS}
        given = sum(counts.values())
        average = sum(r * n for r, n in counts.items()) / given if given else None
        result.append({
            "moment": moment, "ratings": given, "average": average,
            "satisfied_rate": rate(counts[4] + counts[5], given),
            **{f"rated_{r}": counts[r] for r in RATINGS},
        })  # fmt: skip
    return result


def _variant_row(
    experiment: Experiment | None,
    variant: str,
    weight: int | None,
    counts: tuple[int, int, int],
    name: str | None = None,
) -> dict[str, Any]:
    exposed, leads, mql = counts
    lead_interval = wilson_interval(leads, exposed)
    mql_interval = wilson_interval(mql, exposed)
    return {
        "experiment": experiment.name if experiment else name,
        "response": experiment.response if experiment else None,
        "variant": variant,
        "weight": weight,
        "running": experiment is not None,
        "conversations": exposed,
        "leads": leads,
        "lead_rate": rate(leads, exposed),
        "lead_low": lead_interval[0] if lead_interval else None,
        "lead_high": lead_interval[1] if lead_interval else None,
        "mql": mql,
        "mql_rate": rate(mql, exposed),
        "mql_low": mql_interval[0] if mql_interval else None,
        "mql_high": mql_interval[1] if mql_interval else None,
    }


def _iso_day(epoch: float) -> str:
    return datetime.fromtimestamp(epoch, timezone.utc).date().isoformat()
