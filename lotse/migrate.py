"""Bringing a database's CRM schema up to date: `migrate(engine_or_url)`.

Runs the Alembic migrations in `lotse/migrations/` up to head, configured in
code (no alembic.ini), in one transaction, with the version kept in
`crm_alembic_version`. Idempotent: on a schema at head it changes nothing. Safe when
two processes start at once (see `migrations/env.py`). Touches no personal data;
database errors propagate as SQLAlchemy errors, since nothing can work without the
schema and the process should stop with the reason.
"""

from __future__ import annotations

import re
from functools import cache
from pathlib import Path
from typing import TYPE_CHECKING

from sqlalchemy import text
from sqlalchemy.engine import Engine
from sqlalchemy.exc import SQLAlchemyError

from lotse.database import make_engine, writer

MIGRATIONS = Path(__file__).resolve().parent / "migrations"


if TYPE_CHECKING:
    from alembic.config import Config

VERSION_TABLE = "crm_alembic_version"
_REVISION = re.compile(r'^(down_revision|revision)\s*=\s*["\']([^"\']+)["\']', re.MULTILINE)


def alembic_config(url: str) -> Config:
    """Alembic's configuration for the CRM store on the database at `url`."""
    from alembic.config import Config

    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    config.set_main_option("sqlalchemy.url", url.replace("%", "%%"))  # configparser escape
    return config


def migrate(engine_or_url: Engine | str) -> None:
    """Upgrades the CRM schema to head (creating it in an empty database)."""
    if isinstance(engine_or_url, str):
        engine = make_engine(engine_or_url)
        try:
            _upgrade(engine)
        finally:
            engine.dispose()
    else:
        _upgrade(engine_or_url)


def _upgrade(engine: Engine) -> None:
    if _at_head(engine):
        return  # the usual case: nothing to do, and Alembic need not even be loaded
    from alembic import command

    config = alembic_config(engine.url.render_as_string(hide_password=False))
    with writer(engine).begin() as connection:
        config.attributes["connection"] = connection
        command.upgrade(config, "head")


def migrated_engine(url: str) -> Engine:
    """An engine for `url` (`make_engine`) on a schema brought up to date."""
    engine = make_engine(url)
    migrate(engine)
    return engine


@cache
def head_revision() -> str | None:
    """The newest migration's revision, read from the migration files' `revision` and
    `down_revision` lines (the one no other migration follows); None if unclear."""
    revisions, parents = set(), set()
    for path in (MIGRATIONS / "versions").glob("*.py"):
        found = dict((k, v) for k, v in _REVISION.findall(path.read_text(encoding="utf-8")))
        if "revision" in found:
            revisions.add(found["revision"])
            parents.add(found.get("down_revision"))
    heads = revisions - parents
    return heads.pop() if len(heads) == 1 else None


def _at_head(engine: Engine) -> bool:
    """Whether the schema's recorded version is the newest migration's (one query)."""
    head = head_revision()
    if head is None:
        return False
    try:
        with engine.connect() as connection:
            rows = connection.execute(text(f"SELECT version_num FROM {VERSION_TABLE}")).all()
    except SQLAlchemyError:
        return False  # no schema yet: Alembic creates it
    return [row[0] for row in rows] == [head]
