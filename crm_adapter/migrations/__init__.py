"""Alembic migrations of the CRM store; run them with `crm_adapter.store.migrate`."""
