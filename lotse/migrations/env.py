"""Alembic's environment for the CRM store, used by `lotse.migrate`.

`migrate` hands over a connection inside a transaction (`config.attributes
["connection"]`), so all migrations of one run commit together or not at all; without
one, `sqlalchemy.url` is used. The version table is `crm_alembic_version`, apart from
anything else in the database. On PostgreSQL a transaction-scoped advisory lock makes
concurrent runs (two processes starting at once) take turns: the second finds the
schema at head and does nothing. SQLite's BEGIN IMMEDIATE does the same there.
Offline (SQL script) mode is not supported.
"""

from __future__ import annotations

from alembic import context
from sqlalchemy import text
from sqlalchemy.engine import Connection

from lotse.database import make_engine, writer
from lotse.migrate import VERSION_TABLE

ADVISORY_LOCK = 0x4C6F747365  # "Lotse"


def run_migrations(connection: Connection) -> None:
    context.configure(connection=connection, version_table=VERSION_TABLE)
    if connection.dialect.name == "postgresql":
        connection.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": ADVISORY_LOCK})
    with context.begin_transaction():
        context.run_migrations()


def main() -> None:
    if context.is_offline_mode():
        raise RuntimeError("the CRM store's migrations run online only")
    connection = context.config.attributes.get("connection")
    if connection is not None:
        run_migrations(connection)
        return
    engine = make_engine(context.config.get_main_option("sqlalchemy.url"))
    try:
        with writer(engine).begin() as connection:
            run_migrations(connection)
    finally:
        engine.dispose()


main()
