"""Which conversations a report counts, and what became of them.

`chosen_conversations(filters)` selects the conversation summaries in the date range,
channel and language; `chosen_by(table, filters)` is that filter on any insight table
that repeats its conversation's start, channel and language (steps, variants).
`outcomes_once(connection, chosen)` works out, per chosen conversation with a lead,
the lead, the highest lifecycle stage it ever reached and its current verdict, into a
temporary table of the connection (several sections join it; a subquery would be
computed anew in each); the caller drops it. SQLAlchemy Core; raises its errors.
"""

from __future__ import annotations

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
    func,
    select,
    union_all,
)
from sqlalchemy.engine import Connection

from crm_adapter.lifecycle import STAGES
from crm_adapter.store.models import Contact, StageRow
from crm_adapter.store.models import Conversation as CrmConversation
from insights.filters import Filters
from insights.tables import summaries

OUTCOMES_TABLE = "insight_outcomes"  # temporary, per report
contacts = Contact.__table__
conversations = CrmConversation.__table__
history = StageRow.__table__


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
    """Only the ids of the chosen conversations: what a join needs (a narrow hash)."""
    return select(chosen.c.conversation_id).subquery("chosen_ids")


def count_of(condition: Any) -> Any:
    """How many rows meet `condition` (SUM of CASE, in any SQL dialect)."""
    return func.sum(case((condition, 1), else_=0))


def _stage_rank(column: Any) -> Any:
    return case({stage: rank for rank, stage in enumerate(STAGES)}, value=column, else_=-1)


def outcomes_query(chosen: Any) -> Any:
    """Per chosen conversation with a lead: the lead, the highest lifecycle stage it
    ever reached (rank in STAGES) and the sales verdict it has now."""
    ids = ids_of(chosen)
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


def outcomes_once(connection: Connection, chosen: Any) -> Table:
    """The outcomes in a temporary table of this connection, for the length of one
    report (the caller drops it); writes nothing else."""
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
    outcomes = outcomes_query(chosen)
    connection.execute(table.insert().from_select(list(outcomes.c.keys()), select(outcomes)))
    return table
