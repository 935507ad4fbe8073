"""The lead store, scoring and CRM connectors (the CRM port and its adapters)."""
