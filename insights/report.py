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

from collections.abc import Sequence
from datetime import datetime, timezone
from typing import Any

from sqlalchemy import (
    Boolean,
    Column,
    Integer,
    MetaData,
    String,
    Table,
    and_,
    case,
    cast,
    func,
    select,
    union_all,
)
from sqlalchemy.engine import Connection, Engine

from bot.experiments import Experiment, load_experiments
from crm_adapter.lifecycle import LEAD, MQL, SQL, STAGES
from crm_adapter.scoring import FitFacts
from crm_adapter.scoring_model import ScoringModel, load_scoring_model
from crm_adapter.store.models import AnswerRow, Contact, FeedbackRow, InterestEventRow, StageRow
from crm_adapter.store.models import Conversation as CrmConversation
from handoff.store import handoffs
from insights import scoring_feedback
from insights.clusters import cluster_texts
from insights.filters import Filters
from insights.stats import median, rate, wilson_interval
from insights.tables import steps, summaries, unanswered, variants

OUTCOMES_TABLE = "insight_outcomes"  # temporary, per report
MAX_TEXTS = 5000  # the latest unanswered texts clustered
DAY = 86400
contacts = Contact.__table__
conversations = CrmConversation.__table__
history = StageRow.__table__
feedback = FeedbackRow.__table__
answers = AnswerRow.__table__
interest = InterestEventRow.__table__


def _stage_rank(column: Any) -> Any:
    return case({stage: rank for rank, stage in enumerate(STAGES)}, value=column, else_=-1)


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

    def choices(self) -> dict[str, list[str]]:
        """The channels and languages there are conversations of (for the filter form)."""
        with self.engine.connect() as connection:
            return {
                "channels": list(connection.execute(
                    select(summaries.c.channel).distinct().order_by(summaries.c.channel)
                ).scalars()),
                "languages": list(connection.execute(
                    select(summaries.c.language).distinct().order_by(summaries.c.language)
                ).scalars()),
            }  # fmt: skip

    def report(self, filters: Filters) -> dict[str, Any]:
        with self.engine.begin() as connection:
            chosen = self._chosen(filters)
            outcomes = self._outcomes_once(connection, chosen)
            try:
                return self._sections(connection, filters, chosen, outcomes)
            finally:
                outcomes.drop(connection)

    def _outcomes_once(self, connection: Connection, chosen: Any) -> Table:
        """The outcomes, worked out once per report into a temporary table of this
        connection (several sections join them; a subquery would be computed anew in
        each). Dropped at the end of the report; writes nothing else."""
        table = Table(
            OUTCOMES_TABLE,
            MetaData(),
            Column("conversation_id", String(255), primary_key=True),
            Column("contact_id", Integer, nullable=False),
            Column("rank", Integer, nullable=False),
            Column("accepted", Boolean, nullable=False),
            Column("rejected", Boolean, nullable=False),
            prefixes=["TEMPORARY"],
        )
        table.drop(connection, checkfirst=True)  # left by a report that died mid-way
        table.create(connection)
        outcomes = self._outcomes(chosen)
        connection.execute(table.insert().from_select(list(outcomes.c.keys()), select(outcomes)))
        return table

    def _sections(
        self, connection: Connection, filters: Filters, chosen: Any, outcomes: Any
    ) -> dict[str, Any]:
        return {
            "filters": filters.as_dict(),
            "overview": self._overview(connection, chosen, outcomes),
            "daily": self._daily(connection, chosen),
            "csat": self._csat(connection, chosen),
            "funnel": self._funnel(connection, filters, outcomes),
            "unanswered": self._unanswered(connection, chosen),
            "scoring": self._scoring(connection, outcomes),
            "experiments": self._experiments(connection, filters, outcomes),
        }

    # -- the conversations chosen and their outcomes ---------------------------------

    def _chosen(self, filters: Filters) -> Any:
        """The summaries of the conversations the filters choose (a subquery)."""
        return select(summaries).where(_chosen_by(summaries, filters)).subquery("chosen")

    @staticmethod
    def _ids(chosen: Any) -> Any:
        """Only the ids of the chosen conversations: what a join needs (a narrow hash)."""
        return select(chosen.c.conversation_id).subquery("chosen_ids")

    def _outcomes(self, chosen: Any) -> Any:
        """Per chosen conversation with a lead: the lead, the highest lifecycle stage it
        ever reached (rank in STAGES) and the sales verdict it has now."""
        ids = self._ids(chosen)
        stages = union_all(
            select(history.c.contact_id, history.c.new_stage.label("stage")),
            select(contacts.c.id.label("contact_id"), contacts.c.stage.label("stage")),
        ).subquery("stages")
        reached = (
            select(stages.c.contact_id, func.max(_stage_rank(stages.c.stage)).label("rank"))
            .group_by(stages.c.contact_id)
            .subquery("reached")
        )
        return (
            select(
                conversations.c.conversation_id,
                conversations.c.contact_id,
                func.coalesce(reached.c.rank, -1).label("rank"),
                contacts.c.accepted,
                contacts.c.rejected,
            )
            .join(ids, ids.c.conversation_id == conversations.c.conversation_id)
            .join(contacts, contacts.c.id == conversations.c.contact_id)
            .outerjoin(reached, reached.c.contact_id == conversations.c.contact_id)
            .subquery("outcomes")
        )

    # -- overview ---------------------------------------------------------------------

    def _overview(self, connection: Connection, chosen: Any, outcomes: Any) -> dict[str, Any]:
        row = connection.execute(
            select(
                func.count(),
                func.coalesce(func.sum(case((chosen.c.engaged, 1), else_=0)), 0),
                func.coalesce(func.sum(chosen.c.user_messages), 0),
                func.coalesce(func.sum(chosen.c.fallbacks), 0),
                func.coalesce(func.sum(case((chosen.c.handoff, 1), else_=0)), 0),
            ).select_from(chosen)
        ).one()
        total, engaged, messages, fallbacks, handed = (int(v) for v in row)
        leads = self._leads(connection, outcomes)
        requested, waits = self._waits(connection, chosen)
        return {
            "conversations": total,
            "engaged_conversations": engaged,
            "visitor_messages": messages,
            **leads,
            "handoffs": requested,
            "handoffs_claimed": len(waits),
            "conversations_with_handoff": handed,
            "containment_rate": rate(total - handed, total),
            "fallback_rate": rate(fallbacks, messages),
            "handoff_rate": rate(handed, total),
            "median_wait_seconds": median(waits),
        }

    def _leads(self, connection: Connection, outcomes: Any) -> dict[str, int]:
        def reached(rank: int) -> Any:
            return func.count(func.distinct(case((outcomes.c.rank >= rank, outcomes.c.contact_id))))

        row = connection.execute(
            select(
                reached(STAGES.index(LEAD)),
                reached(STAGES.index(MQL)),
                reached(STAGES.index(SQL)),
                func.count(func.distinct(case((outcomes.c.accepted, outcomes.c.contact_id)))),
                func.count(func.distinct(case((outcomes.c.rejected, outcomes.c.contact_id)))),
            )
        ).one()
        names = ("leads", "mql", "sql", "accepted_by_sales", "rejected_by_sales")
        return {name: int(value or 0) for name, value in zip(names, row, strict=True)}

    def _waits(self, connection: Connection, chosen: Any) -> tuple[int, list[float]]:
        """How many handoffs were asked for, and the waits (s) of those claimed."""
        ids = self._ids(chosen)
        rows = connection.execute(
            select(handoffs.c.requested_at, handoffs.c.claimed_at).join(
                ids, ids.c.conversation_id == handoffs.c.conversation_id
            )
        ).all()
        claimed = [
            (row.claimed_at - row.requested_at).total_seconds()
            for row in rows
            if row.claimed_at is not None
        ]
        return len(rows), claimed

    def _daily(self, connection: Connection, chosen: Any) -> list[dict[str, Any]]:
        days = chosen.c.started_at / DAY
        # The whole days since 1970: PostgreSQL rounds a cast to integer, SQLite truncates.
        whole = func.floor(days) if self.engine.dialect.name == "postgresql" else days
        day = cast(whole, Integer).label("day")
        rows = connection.execute(
            select(
                day,
                func.count(),
                func.sum(case((chosen.c.engaged, 1), else_=0)),
                func.sum(case((chosen.c.handoff, 1), else_=0)),
            )
            .group_by(day)
            .order_by(day)
        ).all()
        return [
            {"day": _iso_day(int(d) * DAY), "conversations": int(n), "engaged": int(e or 0),
             "with_handoff": int(h or 0)}
            for d, n, e, h in rows
        ]  # fmt: skip

    def _csat(self, connection: Connection, chosen: Any) -> list[dict[str, Any]]:
        result = []
        moments = (("end", chosen.c.rating), ("handoff", chosen.c.rating_after_handoff))
        for moment, column in moments:
            counts = dict(
                connection.execute(
                    select(column, func.count()).where(column.is_not(None)).group_by(column)
                ).all()
            )
            given = sum(counts.values())
            average = sum(r * n for r, n in counts.items()) / given if given else None
            result.append({
                "moment": moment, "ratings": given, "average": average,
                "satisfied_rate": rate(counts.get(4, 0) + counts.get(5, 0), given),
                **{f"rated_{r}": int(counts.get(r, 0)) for r in range(1, 6)},
            })  # fmt: skip
        return result

    # -- the qualification funnel ---------------------------------------------------------

    def _funnel(
        self, connection: Connection, filters: Filters, outcomes: Any
    ) -> list[dict[str, Any]]:
        """Per question: asked; of those, answered, declined (not answered later),
        dropped off (the last question, unanswered) or skipped (the talk went on
        without an answer); and how many of the conversations asked reached MQL, SQL
        and acceptance by sales. The steps carry their conversation's start, channel
        and language: the counts need no join; the outcomes join only the leads."""
        asked, answered, declined = steps.c.asked, steps.c.answered, steps.c.declined
        counts = connection.execute(
            select(
                steps.c.question,
                _count(asked),
                _count(and_(asked, answered)),
                _count(and_(asked, declined, ~answered)),
                _count(and_(asked, steps.c.dropped)),
                _count(and_(asked, ~answered, ~declined, ~steps.c.dropped)),
            )
            .where(_chosen_by(steps, filters))
            .group_by(steps.c.question)
        ).all()
        reached = {
            question: (int(m or 0), int(q or 0), int(a or 0))
            for question, m, q, a in connection.execute(
                select(
                    steps.c.question,
                    _count(and_(asked, outcomes.c.rank >= STAGES.index(MQL))),
                    _count(and_(asked, outcomes.c.rank >= STAGES.index(SQL))),
                    _count(and_(asked, outcomes.c.accepted)),
                )
                .join(outcomes, outcomes.c.conversation_id == steps.c.conversation_id)
                .group_by(steps.c.question)
            ).all()
        }
        order = {key: index for index, key in enumerate(self.questions)}
        result = []
        for question, *numbers in counts:
            a, an, d, dr, sk = (int(n or 0) for n in numbers)
            mql, sql, accepted = reached.get(question, (0, 0, 0))
            result.append({
                "question": question, "asked": a, "answered": an, "declined": d,
                "dropped_off": dr, "skipped": sk, "reached_mql": mql, "reached_sql": sql,
                "accepted": accepted,
            })  # fmt: skip
        return sorted(result, key=lambda r: (order.get(r["question"], len(order)), r["question"]))

    # -- unanswered questions --------------------------------------------------------------

    def _unanswered(self, connection: Connection, chosen: Any) -> dict[str, Any]:
        ids = self._ids(chosen)
        joined = unanswered.join(ids, ids.c.conversation_id == unanswered.c.conversation_id)
        kinds = dict(
            connection.execute(
                select(unanswered.c.kind, func.count())
                .select_from(joined)
                .group_by(unanswered.c.kind)
            ).all()
        )
        texts = connection.execute(
            select(unanswered.c.text)
            .select_from(joined)
            .where(unanswered.c.text.is_not(None))
            .order_by(unanswered.c.at.desc())
            .limit(MAX_TEXTS)
        ).scalars()
        total = sum(kinds.values())
        shown = list(texts)
        clusters = cluster_texts(shown)
        return {
            "total": int(total),
            "by_kind": [{"kind": k, "count": int(n)} for k, n in sorted(kinds.items())],
            "with_text": len(shown),
            "without_consent": int(total) - len(shown),
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

    def _scoring(self, connection: Connection, outcomes: Any) -> dict[str, Any]:
        judged = self._judged(connection, outcomes)
        return {
            "verdicts": len(judged),
            "bands": scoring_feedback.band_report(self.model, judged),
            "rules": scoring_feedback.rule_report(judged, scoring_feedback.model_rules(self.model)),
        }

    def _judged(self, connection: Connection, outcomes: Any) -> list[scoring_feedback.Judged]:
        """The latest verdict of each lead of the chosen conversations, with the scoring
        rules that hold for it (its current answers and interest events)."""
        leads = select(outcomes.c.contact_id).distinct().subquery("judged_leads")
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
        facts = self._facts(connection, latest)
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
                rules[key] = frozenset(scoring_feedback.rule_keys(self.model, *key))
            judged.append(
                scoring_feedback.Judged(v.decision, v.fit, int(v.interest or 0), rules[key])
            )
        return judged

    def _facts(self, connection: Connection, latest: Any) -> dict[int, FitFacts]:
        """The fit facts of the judged leads from their current answers (as
        `recording.fit_facts` reads them)."""
        keys = {"employees": "count", "industry": "key", "role": "key", "location": "country"}
        found: dict[int, dict[str, Any]] = {}
        for contact_id, attribute, value in connection.execute(
            select(answers.c.contact_id, answers.c.attribute, answers.c.value)
            .join(latest, latest.c.contact_id == answers.c.contact_id)
            .where(
                answers.c.superseded_at.is_(None),
                answers.c.status == "answered",
                answers.c.attribute.in_(list(keys)),
            )
        ).all():
            if isinstance(value, dict):
                found.setdefault(contact_id, {})[attribute] = value.get(keys[attribute])
        return {
            contact_id: FitFacts(
                employees=v.get("employees") if isinstance(v.get("employees"), int) else None,
                industry=_text(v.get("industry")),
                role=_text(v.get("role")),
                country=_text(v.get("location")),
            )
            for contact_id, v in found.items()
        }

    # -- A/B tests ---------------------------------------------------------------------------

    def _experiments(
        self, connection: Connection, filters: Filters, outcomes: Any
    ) -> list[dict[str, Any]]:
        exposed = connection.execute(
            select(variants.c.experiment, variants.c.variant, func.count())
            .where(_chosen_by(variants, filters), variants.c.exposed)
            .group_by(variants.c.experiment, variants.c.variant)
        ).all()
        converted = {
            (e, v): (int(lead or 0), int(mql or 0))
            for e, v, lead, mql in connection.execute(
                select(
                    variants.c.experiment,
                    variants.c.variant,
                    _count(outcomes.c.rank >= STAGES.index(LEAD)),
                    _count(outcomes.c.rank >= STAGES.index(MQL)),
                )
                .join(outcomes, outcomes.c.conversation_id == variants.c.conversation_id)
                .where(variants.c.exposed)
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


def _chosen_by(table: Any, filters: Filters) -> Any:
    """The filters on a table with a conversation's `started_at`, `channel`, `language`."""
    where = [table.c.started_at >= filters.start, table.c.started_at < filters.end]
    if filters.channel:
        where.append(table.c.channel == filters.channel)
    if filters.language:
        where.append(table.c.language == filters.language)
    return and_(*where)


def _count(condition: Any) -> Any:
    return func.sum(case((condition, 1), else_=0))


def _text(value: object) -> str | None:
    return value if isinstance(value, str) and value else None


def _iso_day(epoch: float) -> str:
    return datetime.fromtimestamp(epoch, timezone.utc).date().isoformat()


def tables(report: dict[str, Any]) -> dict[str, list[dict[str, Any]]]:
    """The report as flat tables (one per CSV of the API)."""
    overview = [{"metric": key, "value": value} for key, value in report["overview"].items()]
    clusters = [
        {"label": c["label"], "count": c["count"],
         "texts": " | ".join(f"{t['text']} ({t['count']})" for t in c["texts"])}
        for c in report["unanswered"]["clusters"]
    ]  # fmt: skip
    return {
        "overview": overview,
        "daily": report["daily"],
        "csat": report["csat"],
        "funnel": report["funnel"],
        "unanswered_kinds": report["unanswered"]["by_kind"],
        "unanswered_clusters": clusters,
        "scoring_bands": report["scoring"]["bands"],
        "scoring_rules": report["scoring"]["rules"],
        "experiments": report["experiments"],
    }


SECTIONS = (
    "overview", "daily", "csat", "funnel", "unanswered_kinds", "unanswered_clusters",
    "scoring_bands", "scoring_rules", "experiments",
)  # fmt: skip
