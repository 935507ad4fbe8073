"""Alembic migrations of the CRM store; run them with `lotse.migrate`."""
