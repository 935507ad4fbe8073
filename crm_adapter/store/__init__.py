"""The local CRM store: the CRM port on SQLite or PostgreSQL, through SQLAlchemy.

Wiring, in the composition root: `engine = make_engine(settings.database_url)`
(`lotse.database`), then `migrate(engine)` (`lotse.migrate`; idempotent: creates or
upgrades the tables), then `LocalCrm(engine)`, which implements
`crm_adapter.port.CrmPort`. The notifications its `add_task` and `book_meeting` write
wait in the outbox (`crm_adapter.store.crm_events`, connector "notify") for
`handoff.dispatch.notification_worker(engine, settings)` to send them.
"""

from __future__ import annotations

from crm_adapter.store.local import LocalCrm

__all__ = ["LocalCrm"]
