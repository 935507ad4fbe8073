"""Who is typing in a handoff: the visitor (in the website's widget) and the agent (in
the console), across processes and replicas.

Typing is a row of `handoff_typing` (`handoff.store.typing_table`) per handoff and side:
"typing until" a moment TYPING_FOR after the last keystroke the client reported. A
client reports at most every ~2 s while its person types (`MIN_INTERVAL` is the
server's own bound: a report sooner than that after the last one, while it still
counts, writes nothing). A report that the person stopped, and the message they send
(`HandoffStore.add_message`), end it at once. Every write replaces the side's row, so
the table holds at most two rows per handoff and its increasing id is a change feed
(`latest_id`, `changed_since`): the website's long polls and the console's event
stream wake on it as they do on `handoff_events`, and nobody polls per conversation.

Only open handoffs: the visitor's side while the handoff waits or a person has it,
the agent's only for the person who has it (the desk's rules, `handoff.desk`). The
rows hold no text and no person, only the handoff id and times. Errors from the
database propagate as SQLAlchemy errors.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import delete, func, insert, select
from sqlalchemy.engine import Engine

from handoff.ownership import OPEN_STATES
from handoff.store import Handoff, handoffs, typing_table, utc_now
from lotse.database import writer

TYPING_FOR = timedelta(seconds=5)
MIN_INTERVAL = timedelta(seconds=1.5)
SIDES = ("visitor", "agent")


@dataclass(frozen=True)
class TypingState:
    """Whether each side types now, and until when (None: not typing)."""

    visitor: datetime | None = None
    agent: datetime | None = None

    def of(self, side: str) -> datetime | None:
        return self.visitor if side == "visitor" else self.agent


class Typing:
    """See the module docstring. Thread-safe as far as the engine is."""

    def __init__(self, engine: Engine, typing_for: timedelta = TYPING_FOR,
                 min_interval: timedelta = MIN_INTERVAL) -> None:  # fmt: skip
        self._engine = engine
        self._writer = writer(engine)
        self.typing_for = typing_for
        self.min_interval = min_interval

    def report(self, handoff: Handoff, side: str, typing_now: bool,
               now: datetime | None = None) -> datetime | None:  # fmt: skip
        """Records that `side` types (or stopped) in `handoff`; returns until when it
        counts (None: not typing). ValueError for an unknown side or a handoff that is
        not open. Idempotent in effect: a repeated report within MIN_INTERVAL writes
        nothing."""
        if side not in SIDES:
            raise ValueError(f"side is one of {', '.join(SIDES)}")
        if handoff.state not in OPEN_STATES:
            raise ValueError("the conversation is not with a person")
        now = now or utc_now()
        current = self.state(handoff.id, now).of(side)
        reported_at = None if current is None else current - self.typing_for
        if typing_now and reported_at is not None and reported_at + self.min_interval > now:
            return current  # reported a moment ago: nothing new for anyone
        if not typing_now and current is None:
            return None  # not typing anyway
        until = now + self.typing_for if typing_now else now
        row = {"handoff_id": handoff.id, "side": side, "until": until, "at": now}
        with self._writer.begin() as c:
            # The new row first, then the side's older ones: the newest row is never
            # deleted, so SQLite never gives its id again (the ids are a change feed).
            new_id = c.execute(insert(typing_table), row).inserted_primary_key[0]
            c.execute(delete(typing_table).where(
                typing_table.c.handoff_id == handoff.id, typing_table.c.side == side,
                typing_table.c.id < new_id,
            ))  # fmt: skip
        return until if typing_now else None

    def state(self, handoff_id: int, now: datetime | None = None) -> TypingState:
        """Who types in the handoff now."""
        now = now or utc_now()
        query = (
            select(typing_table.c.side, func.max(typing_table.c.until))
            .where(typing_table.c.handoff_id == handoff_id, typing_table.c.until > now)
            .group_by(typing_table.c.side)
        )
        with self._engine.connect() as c:
            found = {side: until for side, until in c.execute(query)}
        return TypingState(visitor=found.get("visitor"), agent=found.get("agent"))

    def latest_id(self) -> int:
        with self._engine.connect() as c:
            return int(c.execute(select(func.max(typing_table.c.id))).scalar() or 0)

    def changed_since(self, after_id: int, limit: int = 1000) -> list[tuple[int, str]]:
        """(row id, conversation id) of the typing written after `after_id`, oldest first."""
        query = (
            select(typing_table.c.id, handoffs.c.conversation_id)
            .join(handoffs, handoffs.c.id == typing_table.c.handoff_id)
            .where(typing_table.c.id > after_id)
            .order_by(typing_table.c.id)
            .limit(limit)
        )
        with self._engine.connect() as c:
            return [(int(i), str(conversation)) for i, conversation in c.execute(query)]
