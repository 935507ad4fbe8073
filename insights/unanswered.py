"""The questions the bot could not answer (`unanswered_questions`, migration 0011).

One row per visitor message classified `nlu_fallback`, `out_of_scope` or
`out_of_depth`, or a `document_question` no document answered, written by
`action_note_unanswered`. Personal data: `text` is what the
visitor typed, kept (cut to MAX_TEXT_CHARS) only while a consent of the visitor is on
record, else NULL: the dashboard then only counts it. Rows go with an erasure
(`delete_conversations`) and the retention purge (`delete_before`). Raises SQLAlchemy
errors.
"""

from __future__ import annotations

from collections.abc import Collection

from sqlalchemy import delete, select
from sqlalchemy.engine import Engine

from conversations.erased import ErasedConversations
from lotse.database import writer
from lotse.shared_tables import unanswered

MAX_TEXT_CHARS = 300
KINDS = ("nlu_fallback", "out_of_scope", "out_of_depth", "document_question")


class UnansweredQuestions:
    def __init__(self, engine: Engine) -> None:
        self.engine = engine
        self.erased = ErasedConversations(engine)

    def add(self, conversation_id: str, at: float, kind: str, text: str | None) -> None:
        kept = " ".join(text.split())[:MAX_TEXT_CHARS] if text else None
        with writer(self.engine).begin() as connection:
            connection.execute(
                unanswered.insert().values(
                    conversation_id=conversation_id[:255], at=at,
                    kind=kind if kind in KINDS else "nlu_fallback", text=kept or None,
                )
            )  # fmt: skip

    def texts_of(self, conversation_id: str) -> list[dict[str, object]]:
        """A conversation's unanswered questions kept with their text (for an export)."""
        with self.engine.connect() as connection:
            rows = connection.execute(
                select(unanswered.c.at, unanswered.c.kind, unanswered.c.text)
                .where(unanswered.c.conversation_id == conversation_id,
                       unanswered.c.text.is_not(None))
                .order_by(unanswered.c.at)
            ).all()  # fmt: skip
        return [{"at": row.at, "kind": row.kind, "text": row.text} for row in rows]

    def delete_conversations(self, conversation_ids: Collection[str]) -> int:
        if not conversation_ids:
            return 0
        with writer(self.engine).begin() as connection:
            return connection.execute(
                delete(unanswered).where(unanswered.c.conversation_id.in_(list(conversation_ids)))
            ).rowcount

    def delete_before(self, moment: float) -> int:
        with writer(self.engine).begin() as connection:
            return connection.execute(delete(unanswered).where(unanswered.c.at < moment)).rowcount
