"""The local CRM store: the CRM port on SQLite or PostgreSQL, through SQLAlchemy.

Wiring, in the composition root: `engine = make_crm_engine(settings.database_url)`,
then `migrate(engine)` (idempotent: creates or upgrades the `crm_` tables), then
`LocalCrm(engine)`, which implements `crm_adapter.port.CrmPort`. The notifications
its `add_task` and `book_meeting` write wait in `crm_adapter.outbox.Outbox(engine)`
for `handoff.dispatch.dispatcher_from_settings(engine, settings)` to send them.
"""

from __future__ import annotations

from crm_adapter.store.engine import make_crm_engine
from crm_adapter.store.local import LocalCrm
from crm_adapter.store.migrate import migrate

__all__ = ["LocalCrm", "make_crm_engine", "migrate"]
