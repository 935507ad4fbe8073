"""The composition root of the CRM: which `CrmPort` implementation a URL means.

Every URL names the local SQL store (SQLite or PostgreSQL); its schema is brought up
to date (Alembic) when it is opened. The external CRMs configured in the `crm:`
section of endpoints.yml get its changes as events in the same transactions
(`crm_adapter.store.crm_events`), delivered by `lotse deliver`.
"""

from __future__ import annotations

from functools import lru_cache

from crm_adapter.port import CrmPort


@lru_cache(maxsize=4)
def open_crm(url: str) -> CrmPort:
    from crm_adapter.crm_config import configured_names
    from crm_adapter.store import LocalCrm
    from lotse.database import make_engine
    from lotse.migrate import migrate

    engine = make_engine(url)
    migrate(engine)
    return LocalCrm(engine, connectors=configured_names())
