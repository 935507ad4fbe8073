"""`engine`: a migrated, empty CRM store on SQLite and on PostgreSQL (each test runs on
both; PostgreSQL's tables are truncated between tests, its database made once per
module). Import both fixtures into a test module to use them."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy.engine import Engine

from crm_adapter.store.models import Base
from lotse.database import make_engine
from lotse.migrate import migrate
from tests.integration.test_crm_store import postgres_database


@pytest.fixture(scope="module")
def postgres_url() -> Iterator[str]:
    with postgres_database() as url:
        migrate(url)
        yield url


@pytest.fixture(params=["sqlite", "postgresql"])
def engine(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Engine]:
    if request.param == "sqlite":
        url = f"sqlite:///{tmp_path / 'crm.db'}"
        migrate(url)
    else:
        url = request.getfixturevalue("postgres_url")
    engine = make_engine(url)
    if request.param == "postgresql":
        tables = ", ".join(table.name for table in Base.metadata.sorted_tables)
        with engine.begin() as connection:
            connection.exec_driver_sql(f"TRUNCATE {tables} RESTART IDENTITY CASCADE")
    yield engine
    engine.dispose()
