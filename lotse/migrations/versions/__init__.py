"""The CRM store's schema versions, oldest first (Alembic ignores this file)."""
