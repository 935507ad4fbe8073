"""Lotse's kernel: settings, YAML models, the database engine and migrations, the shared
tables, retry timing, rate limits and log redaction. Imported by every part, it imports
none of them."""
