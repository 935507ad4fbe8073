"""The CRM store's models as DDL: the partial indexes keep their WHERE on PostgreSQL,
where the models name it only when tables are created there
(`crm_adapter.store.models.partial_index`), as on SQLite."""

from __future__ import annotations

import pytest
from sqlalchemy import create_mock_engine

from crm_adapter.store.models import Base

PARTIAL = {
    "CREATE UNIQUE INDEX uq_crm_answers_current ON crm_answers (contact_id, attribute) "
    "WHERE superseded_at IS NULL",
    "CREATE INDEX ix_crm_events_due ON crm_events (connector, id) "
    "WHERE delivered_at IS NULL AND dead_at IS NULL",
}


@pytest.mark.parametrize("url", ["postgresql://", "sqlite://"])
def test_create_all_gives_the_partial_indexes_their_where(url: str) -> None:
    statements: list[str] = []

    def executor(sql, *_args, **_kwargs) -> None:
        statements.append(str(sql.compile(dialect=engine.dialect)).strip())

    engine = create_mock_engine(url, executor)
    Base.metadata.create_all(engine, checkfirst=False)
    assert {s for s in statements if " WHERE " in s} == PARTIAL
