"""Whether a process can do its work: the stores it needs answer (`/readyz`).

`Readiness` holds named checks; a check raises (or returns False) when what it checks is
away. `failing()` runs them all and names those that fail; the reasons go to the log
as exception type names only (a driver's message may hold an address or a password).
`/healthz` asks nothing of the stores: the process serves, so it lives.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from sqlalchemy.engine import Engine

log = logging.getLogger(__name__)
Check = Callable[[], object]
CHECK_TIMEOUT_SECONDS = 2.0


@dataclass(frozen=True)
class Readiness:
    checks: Mapping[str, Check] = field(default_factory=dict)

    def failing(self) -> list[str]:
        """The names of the checks that fail, in order."""
        failed = []
        for name, check in self.checks.items():
            try:
                ok = check() is not False
            except Exception as error:  # noqa: BLE001 - any failure means not ready
                log.warning("not ready: %s failed (%s)", name, type(error).__name__)
                ok = False
            if not ok:
                failed.append(name)
        return failed

    def with_check(self, name: str, check: Check) -> Readiness:
        return Readiness({**self.checks, name: check})


def database_check(engine: Callable[[], Engine]) -> Check:
    """The database answers a query (`engine` is asked for at check time: a process
    that has not opened its database yet opens it then)."""
    from sqlalchemy import text

    def check() -> None:
        with engine().connect() as connection:
            connection.execute(text("SELECT 1"))

    return check


def redis_check(url: str) -> Check:
    import redis

    client = redis.Redis.from_url(url, socket_timeout=CHECK_TIMEOUT_SECONDS,
                                  socket_connect_timeout=CHECK_TIMEOUT_SECONDS)  # fmt: skip
    return client.ping
