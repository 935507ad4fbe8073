"""The composition root: one engine per database and process, the schema migrated once,
every store and service built in one place (`wiring.services`)."""
