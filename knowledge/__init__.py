"""Answers from the company's own documents: reading them into passages, indexing the
passages in a full-text search engine (SQLite FTS5, PostgreSQL), and choosing the
passage that holds what a visitor asked, or saying honestly that none does."""
