"""Bringing a database's CRM schema up to date: `migrate(engine_or_url)`.

Runs the Alembic migrations in `lotse/migrations/` up to head, configured in
code (no alembic.ini), in one transaction, with the version kept in
`crm_alembic_version`. Idempotent: on a schema at head it changes nothing. Safe when
two processes start at once (see `migrations/env.py`). Touches no personal data;
database errors propagate as SQLAlchemy errors, since nothing can work without the
schema and the process should stop with the reason.
"""

from __future__ import annotations

from pathlib import Path

from alembic import command
from alembic.config import Config
from sqlalchemy.engine import Engine

from lotse.database import make_engine, writer

MIGRATIONS = Path(__file__).resolve().parent / "migrations"


def alembic_config(url: str) -> Config:
    """Alembic's configuration for the CRM store on the database at `url`."""
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
    config = alembic_config(engine.url.render_as_string(hide_password=False))
    with writer(engine).begin() as connection:
        config.attributes["connection"] = connection
        command.upgrade(config, "head")


def migrated_engine(url: str) -> Engine:
    """An engine for `url` (`make_engine`) on a schema brought up to date."""
    engine = make_engine(url)
    migrate(engine)
    return engine
