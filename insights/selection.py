"""Which conversations a report counts, and what became of them.

`chosen_conversations(filters)` selects the conversation summaries in the date range,
channel and language; `chosen_by(table, filters)` is that filter on any insight table
that repeats its conversation's start, channel and language (steps, variants).
`outcomes_once(connection, chosen)` works out, per chosen conversation with a lead,
the lead, when it first reached each lifecycle stage, its current verdict and when it
was given, into a temporary table of the connection (several sections join it; a
subquery would be computed anew in each); the caller drops it. A session (a visit)
counts a stage or a verdict only when it came at or after the session began: a
returning MQL is not a new one. SQLAlchemy Core; raises its errors.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import (
    Boolean,
    Column,
    Float,
    Integer,
    MetaData,
    String,
    Table,
    and_,
    case,
    func,
    select,
)
from sqlalchemy.engine import Connection

from crm_adapter.lifecycle import LEAD, MQL, SQL, STAGES
from crm_adapter.store.models import Contact, FeedbackRow, StageRow
from crm_adapter.store.models import Conversation as CrmConversation
from insights.filters import Filters
from lotse.shared_tables import summaries

OUTCOMES_TABLE = "insight_outcomes"  # temporary, per report
contacts = Contact.__table__
conversations = CrmConversation.__table__
history = StageRow.__table__
feedback = FeedbackRow.__table__
_short = {LEAD: "lead", MQL: "mql", SQL: "sql"}


def chosen_conversations(filters: Filters) -> Any:
    """The summaries of the conversations the filters choose (a subquery)."""
    return select(summaries).where(chosen_by(summaries, filters)).subquery("chosen")


def chosen_by(table: Any, filters: Filters) -> Any:
    """The filters on a table with a conversation's `started_at`, `channel`, `language`."""
    where = [table.c.started_at >= filters.start, table.c.started_at < filters.end]
    if filters.channel:
        where.append(table.c.channel == filters.channel)
    if filters.language:
        where.append(table.c.language == filters.language)
    return and_(*where)


def ids_of(chosen: Any) -> Any:
    """The ids of the chosen sessions' conversations, for `column.in_(...)`: the
    database answers it as a semi-join, without making the ids distinct first."""
    return select(chosen.c.conversation_id)


def count_of(condition: Any) -> Any:
    """How many rows meet `condition` (SUM of CASE, in any SQL dialect)."""
    return func.sum(case((condition, 1), else_=0))


def _stage_rank(column: Any) -> Any:
    return case({stage: rank for rank, stage in enumerate(STAGES)}, value=column, else_=-1)


def epoch(column: Any, dialect: str) -> Any:
    """A stored moment (`UtcDateTime`) as seconds since 1970, in the database's SQL."""
    if dialect == "postgresql":
        return func.extract("epoch", column)
    return (func.julianday(column) - 2440587.5) * 86400.0  # SQLite keeps UTC text


def outcomes_query(chosen: Any, dialect: str) -> Any:
    """Per chosen conversation with a lead: the lead, when it first reached each stage
    (seconds since 1970; NULL if never), its current verdict and when it was given.
    A session counts a stage when it was reached at or after the session began."""
    ids = ids_of(chosen)
    rank, at = _stage_rank(history.c.new_stage), epoch(history.c.at, dialect)

    def first(stage: str) -> Any:
        return func.min(case((rank >= STAGES.index(stage), at))).label(f"{_short[stage]}_at")

    reached = (
        select(history.c.contact_id, first(LEAD), first(MQL), first(SQL))
        .group_by(history.c.contact_id)
        .subquery("reached")
    )
    verdicts = (
        select(feedback.c.contact_id, func.max(epoch(feedback.c.at, dialect)).label("verdict_at"))
        .group_by(feedback.c.contact_id)
        .subquery("verdicts")
    )
    return (
        select(
            conversations.c.conversation_id,
            conversations.c.contact_id,
            reached.c.lead_at,
            reached.c.mql_at,
            reached.c.sql_at,
            contacts.c.accepted,
            contacts.c.rejected,
            verdicts.c.verdict_at,
        )
        .join(contacts, contacts.c.id == conversations.c.contact_id)
        .outerjoin(reached, reached.c.contact_id == conversations.c.contact_id)
        .outerjoin(verdicts, verdicts.c.contact_id == conversations.c.contact_id)
        .where(conversations.c.conversation_id.in_(ids))
        .subquery("outcomes")
    )


def outcomes_once(connection: Connection, chosen: Any) -> Table:
    """The outcomes in a temporary table of this connection, for the length of one
    report (the caller drops it); writes nothing else."""
    table = Table(
        OUTCOMES_TABLE,
        MetaData(),
        Column("conversation_id", String(255), primary_key=True),
        Column("contact_id", Integer, nullable=False),
        Column("lead_at", Float),
        Column("mql_at", Float),
        Column("sql_at", Float),
        Column("accepted", Boolean, nullable=False),
        Column("rejected", Boolean, nullable=False),
        Column("verdict_at", Float),
        prefixes=["TEMPORARY"],
    )
    table.drop(connection, checkfirst=True)  # left by a report that died mid-way
    table.create(connection)
    outcomes = outcomes_query(chosen, connection.dialect.name)
    connection.execute(table.insert().from_select(list(outcomes.c.keys()), select(outcomes)))
    return table


def reached_after(outcome: Any, started_at: Any) -> Any:
    """Whether the outcome came at or after the session's start (seconds since 1970)."""
    return and_(outcome.is_not(None), outcome >= started_at)
