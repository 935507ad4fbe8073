"""Recorded requests for a human expert ("handoff requested" events).

`HandoffRequests.record` is not idempotent: each call is one request. The row holds
no personal data: the conversation id (a random widget/channel id), why the handoff
was requested, the language, channel and page key. Errors from the database
propagate as SQLAlchemy errors; callers tell the visitor honestly.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, fields
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

from sqlalchemy import (
    Column,
    DateTime,
    Integer,
    MetaData,
    String,
    Table,
    create_engine,
    insert,
    select,
)
from sqlalchemy.engine import Engine

REASONS = ("visitor_asked", "out_of_scope", "out_of_depth", "not_understood")
metadata = MetaData()

handoff_requests = Table(
    "handoff_requests",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("conversation_id", String(128), nullable=False, index=True),
    Column("reason", String(32), nullable=False),
    Column("language", String(8), nullable=False),
    Column("channel", String(32), nullable=True),
    Column("page", String(64), nullable=True),
    Column("requested_at", DateTime(timezone=True), nullable=False),
)


@dataclass(frozen=True)
class HandoffRequest:
    conversation_id: str
    reason: str
    language: str
    channel: str | None = None
    page: str | None = None
    requested_at: datetime | None = None


FIELDS = tuple(field.name for field in fields(HandoffRequest))


def make_engine(url: str) -> Engine:
    if url.startswith("sqlite:///"):
        Path(url.removeprefix("sqlite:///")).parent.mkdir(parents=True, exist_ok=True)
    return create_engine(url, future=True)


class HandoffRequests:
    """Store of handoff requests on any SQLAlchemy database."""

    def __init__(self, engine: Engine) -> None:
        self._engine = engine
        metadata.create_all(engine)

    def record(self, request: HandoffRequest) -> None:
        if request.reason not in REASONS:
            raise ValueError(f"unknown handoff reason {request.reason!r}")
        row = {
            "conversation_id": request.conversation_id[:128],
            "reason": request.reason,
            "language": request.language[:8],
            "channel": (request.channel or "")[:32] or None,
            "page": (request.page or "")[:64] or None,
            "requested_at": request.requested_at or datetime.now(timezone.utc),
        }
        with self._engine.begin() as connection:
            connection.execute(insert(handoff_requests), row)

    def for_conversation(self, conversation_id: str) -> list[HandoffRequest]:
        query = (
            select(handoff_requests)
            .where(handoff_requests.c.conversation_id == conversation_id)
            .order_by(handoff_requests.c.id)
        )
        with self._engine.connect() as connection:
            return [self._from_row(row) for row in connection.execute(query).mappings()]

    def all(self, limit: int = 100) -> list[HandoffRequest]:
        query = select(handoff_requests).order_by(handoff_requests.c.id.desc()).limit(limit)
        with self._engine.connect() as connection:
            return [self._from_row(row) for row in connection.execute(query).mappings()]

    @staticmethod
    def _from_row(row: Mapping[str, Any]) -> HandoffRequest:
        return HandoffRequest(**{name: row[name] for name in FIELDS})
