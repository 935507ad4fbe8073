"""Engines for the CRM store: SQLite (the embedded default) or PostgreSQL.

`make_engine(url)` returns a SQLAlchemy 2.0-style engine. On SQLite every
connection runs in WAL mode with foreign keys on, a busy timeout and `secure_delete`
(erased personal data is overwritten, not left in free pages), and transactions are
real ones: the driver's implicit transaction handling is switched off and
`BEGIN` is emitted by us, `BEGIN IMMEDIATE` for a writing transaction (`writer`), so
two writers queue up front instead of failing when one upgrades its read lock.
On PostgreSQL connecting times out after CONNECT_TIMEOUT seconds.

Touches no personal data; errors from the driver propagate as SQLAlchemy errors.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from sqlalchemy import create_engine, event
from sqlalchemy.engine import Connection, Engine, make_url
from sqlalchemy.pool import QueuePool

SQLITE_PRAGMAS = (
    "PRAGMA journal_mode=WAL",
    "PRAGMA synchronous=NORMAL",
    "PRAGMA foreign_keys=ON",
    "PRAGMA busy_timeout=10000",
    "PRAGMA secure_delete=ON",
)
CONNECT_TIMEOUT = 10
SQLITE_POOL_SIZE = 5
SQLITE_POOL_OVERFLOW = 20
WRITE_OPTION = "lotse_crm_write"


def _sqlite_connect(dbapi_connection: Any, _record: Any) -> None:
    dbapi_connection.isolation_level = None  # we emit BEGIN ourselves (see _sqlite_begin)
    cursor = dbapi_connection.cursor()
    for pragma in SQLITE_PRAGMAS:
        cursor.execute(pragma)
    cursor.close()


def _sqlite_begin(connection: Connection) -> None:
    immediate = connection.get_execution_options().get(WRITE_OPTION, False)
    connection.exec_driver_sql("BEGIN IMMEDIATE" if immediate else "BEGIN")


def make_engine(url: str) -> Engine:
    """An engine for `url` (e.g. LOTSE_DATABASE_URL); a SQLite file's folder is created."""
    parsed = make_url(url)
    if parsed.get_backend_name() == "sqlite":
        if parsed.database and parsed.database != ":memory:":
            Path(parsed.database).parent.mkdir(parents=True, exist_ok=True)
        # SQLAlchemy 1.4 gives file databases a NullPool: a new connection, and the
        # pragmas above, for every statement block. A small pool keeps them open.
        in_memory = not parsed.database or parsed.database == ":memory:"
        pooling = (
            {}
            if in_memory
            else {  # an in-memory database lives in one connection
                "poolclass": QueuePool,
                "pool_size": SQLITE_POOL_SIZE,
                "max_overflow": SQLITE_POOL_OVERFLOW,
                "connect_args": {"check_same_thread": False},  # a pooled connection moves threads
            }
        )
        engine = create_engine(parsed, future=True, **pooling)
        event.listen(engine, "connect", _sqlite_connect)
        event.listen(engine, "begin", _sqlite_begin)
        return engine
    psycopg2 = parsed.get_driver_name() == "psycopg2"
    connect_args = {"connect_timeout": CONNECT_TIMEOUT} if psycopg2 else {}
    return create_engine(parsed, future=True, pool_pre_ping=True, connect_args=connect_args)


def writer(engine: Engine) -> Engine:
    """The same engine (same pool), marked so that SQLite begins with BEGIN IMMEDIATE."""
    return engine.execution_options(**{WRITE_OPTION: True})
