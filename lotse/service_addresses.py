"""Where the scale-out profile's shared services are: PostgreSQL, Redis and RabbitMQ
(LOTSE_PG_*, LOTSE_REDIS_*, LOTSE_RABBITMQ_*, LOTSE_EVENTS_QUEUE), read from the
environment as part of `lotse.settings.Settings` (its `services`). The password is a secret: never
printed (`values` is left out of the repr).
"""

from __future__ import annotations

from dataclasses import dataclass, field

from sqlalchemy import create_engine, text
from sqlalchemy.engine import URL

from lotse.setting_values import Environ, SettingsError

DEFAULTS = {
    "LOTSE_PG_HOST": "127.0.0.1",
    "LOTSE_PG_PORT": "5432",
    "LOTSE_PG_USER": "postgres",
    "LOTSE_PG_PASSWORD": "",
    "LOTSE_PG_DB": "lotse",
    "LOTSE_REDIS_HOST": "127.0.0.1",
    "LOTSE_REDIS_PORT": "6379",
    "LOTSE_REDIS_DB": "1",
    "LOTSE_RABBITMQ_HOST": "127.0.0.1",
    "LOTSE_RABBITMQ_PORT": "5672",
    "LOTSE_RABBITMQ_USER": "guest",
    "LOTSE_RABBITMQ_PASSWORD": "guest",
    "LOTSE_EVENTS_QUEUE": "lotse_events",
}


@dataclass(frozen=True)
class ServiceAddresses:
    """Where the shared services are (LOTSE_PG_*, LOTSE_REDIS_*, LOTSE_RABBITMQ_*)."""

    values: dict[str, str] = field(repr=False)

    @classmethod
    def from_environment(cls, environ: Environ) -> ServiceAddresses:
        values = {name: environ.get(name) or default for name, default in DEFAULTS.items()}
        values["LOTSE_PG_PASSWORD"] = environ.get("LOTSE_PG_PASSWORD", "")
        for name in ("LOTSE_PG_PORT", "LOTSE_REDIS_PORT", "LOTSE_RABBITMQ_PORT", "LOTSE_REDIS_DB"):
            if not values[name].isdigit():
                raise SettingsError(f"{name} must be a number, got {values[name]!r}")
        return cls(values)

    def pg_url(self, database: str | None = None) -> URL:
        v = self.values
        return URL.create(
            "postgresql+psycopg2",
            username=v["LOTSE_PG_USER"],
            password=v["LOTSE_PG_PASSWORD"] or None,
            host=v["LOTSE_PG_HOST"],
            port=int(v["LOTSE_PG_PORT"]),
            database=database or v["LOTSE_PG_DB"],
        )

    @property
    def redis_url(self) -> str:
        v = self.values
        return f"redis://{v['LOTSE_REDIS_HOST']}:{v['LOTSE_REDIS_PORT']}/{v['LOTSE_REDIS_DB']}"

    @property
    def database_url(self) -> str:
        return self.pg_url().render_as_string(hide_password=False)

    def ensure_database(self) -> None:
        """Creates the database when it does not exist yet (on the server's `postgres`)."""
        name = self.values["LOTSE_PG_DB"]
        engine = create_engine(self.pg_url("postgres"), isolation_level="AUTOCOMMIT")
        try:
            with engine.connect() as connection:
                found = connection.execute(
                    text("SELECT 1 FROM pg_database WHERE datname = :name"), {"name": name}
                ).first()
                if found is None:
                    quoted = connection.dialect.identifier_preparer.quote(name)
                    connection.execute(text(f"CREATE DATABASE {quoted}"))
        finally:
            engine.dispose()
