"""The passage index: the documents' passages in the database, searchable by a full-text
engine behind one interface (`PassageIndex`): SQLite's FTS5 in the embedded profile,
PostgreSQL's full-text search (its German and English configurations, `ts_rank_cd`)
at scale. `passage_index(engine)` picks the one of the engine's dialect.

Both index the same prepared text: each passage's terms (lemmas, compound parts and
concept tokens, `knowledge.terms`, `knowledge.vocabulary`) and, weighted lower, its
context (the words of the document's title and of the heading above it: what names
the product a table's row is about; no concepts, a title's "data sheet" is no topic).
A search takes the question's tokens and gives the best passages of a language with
their engine's score and their terms, for the answerer to check what they cover.

Tables (migration 0014): `knowledge_documents` (a document's key, content hash and
title: what `replace` compares to re-index only what changed) and `knowledge_passages`;
the engine's own search structure is `knowledge_fts` (an FTS5 virtual table on SQLite, a
table with a `tsvector` and a GIN index on PostgreSQL). Every write is one transaction.
Errors: `IndexError_` naming the operation and the error class.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime, timezone
from functools import lru_cache
from typing import Protocol, TypeVar

from sqlalchemy import (
    Column,
    DateTime,
    ForeignKey,
    Index,
    Integer,
    MetaData,
    String,
    Table,
    Text,
    bindparam,
    delete,
    insert,
    select,
    text,
)
from sqlalchemy.engine import Connection, Engine
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.sql.elements import TextClause

from knowledge.passages import Passage
from lotse.database import writer

T = TypeVar("T")
metadata = MetaData()
documents = Table(
    "knowledge_documents", metadata,
    Column("key", String(200), primary_key=True),
    Column("digest", String(64), nullable=False),
    Column("title", Text, nullable=False),
    Column("indexed_at", DateTime(timezone=True), nullable=False),
)  # fmt: skip
passages_table = Table(
    "knowledge_passages", metadata,
    Column("id", Integer, primary_key=True),
    Column("document", String(200), ForeignKey("knowledge_documents.key"), nullable=False),
    Column("position", Integer, nullable=False),
    Column("language", String(8), nullable=False),
    Column("kind", String(16), nullable=False),
    Column("text", Text, nullable=False),
    Column("heading", Text, nullable=False),
    Column("title", Text, nullable=False),
    Column("row_label", Text, nullable=False),
    Column("column_label", Text, nullable=False),
    Column("page", Integer),
    Column("terms", Text, nullable=False),
    Column("context", Text, nullable=False),
    Index("ix_knowledge_passages_document", "document"),
)  # fmt: skip
CONFIGS = {"de": "german", "en": "english"}  # PostgreSQL's text search configurations
SEARCH_TABLE = "knowledge_fts"


class IndexError_(RuntimeError):  # noqa: N801 - IndexError is Python's
    """The index's database failed; the message names the operation."""


@dataclass(frozen=True)
class Indexed:
    """A passage as it goes into the index: the passage, its terms and its context."""

    passage: Passage
    terms: str
    context: str


@dataclass(frozen=True)
class Hit:
    passage: Passage
    terms: frozenset[str]  # of its text
    context: frozenset[str]  # of its document's title and its heading
    score: float  # higher is better; comparable only within one search


class PassageIndex(Protocol):
    def digests(self) -> dict[str, str]: ...

    def replace(self, key: str, digest: str, title: str, indexed: Sequence[Indexed]) -> None: ...

    def remove(self, key: str) -> None: ...

    def search(self, tokens: Sequence[str], language: str, limit: int = 30) -> list[Hit]: ...

    def vocabulary(self, language: str) -> dict[str, frozenset[str]]: ...


class _SqlIndex:
    """What both engines share: the documents and passages tables."""

    def __init__(self, engine: Engine) -> None:
        self.engine = engine
        self._writer = writer(engine)

    def _run(self, operation: str, work: Callable[[Connection], T], write: bool = False) -> T:
        try:
            with (self._writer if write else self.engine).begin() as connection:
                return work(connection)
        except SQLAlchemyError as error:
            kind = type(error).__name__
            raise IndexError_(f"knowledge index: {operation} failed ({kind})") from None

    def digests(self) -> dict[str, str]:
        query = select(documents.c.key, documents.c.digest)
        return self._run("reading digests", lambda c: {r.key: r.digest for r in c.execute(query)})

    def replace(self, key: str, digest: str, title: str, indexed: Sequence[Indexed]) -> None:
        def work(c: Connection) -> None:
            self._delete(c, key)
            c.execute(insert(documents), {"key": key, "digest": digest, "title": title,
                                          "indexed_at": datetime.now(timezone.utc)})  # fmt: skip
            for item in indexed:
                p = item.passage
                row_id = c.execute(insert(passages_table).values(
                    document=key, position=p.position, language=p.language, kind=p.kind,
                    text=p.text, heading=p.heading, title=p.title, row_label=p.row,
                    column_label=p.column, page=p.page, terms=item.terms, context=item.context,
                )).inserted_primary_key[0]  # fmt: skip
                self._add_search(c, row_id, p.language, item.terms, item.context)

        self._run("indexing a document", work, write=True)

    def remove(self, key: str) -> None:
        self._run("removing a document", lambda c: self._delete(c, key), write=True)

    def _delete(self, c: Connection, key: str) -> None:
        ids = [r.id for r in c.execute(select(passages_table.c.id)
                                       .where(passages_table.c.document == key))]  # fmt: skip
        if ids:
            self._remove_search(c, ids)
        c.execute(delete(passages_table).where(passages_table.c.document == key))
        c.execute(delete(documents).where(documents.c.key == key))

    def vocabulary(self, language: str) -> dict[str, frozenset[str]]:
        """Per document, every term of its passages in `language` (text and context)."""
        p = passages_table.c
        query = select(p.document, p.terms, p.context).where(p.language == language)

        def work(c: Connection) -> dict[str, frozenset[str]]:
            found: dict[str, set[str]] = {}
            for row in c.execute(query):
                found.setdefault(row.document, set()).update(f"{row.terms} {row.context}".split())
            return {document: frozenset(words) for document, words in found.items()}

        return self._run("reading the vocabulary", work)

    def search(self, tokens: Sequence[str], language: str, limit: int = 30) -> list[Hit]:
        words = sorted({t for t in tokens if t.isalnum()})
        if not words:
            return []

        def work(c: Connection) -> list[Hit]:
            found = c.execute(self._search_sql(), self._search_params(words, language, limit))
            return [_hit(row) for row in found]

        return self._run("searching", work)

    def _add_search(self, c: Connection, row_id: int, language: str, terms: str,
                    context: str) -> None: ...  # fmt: skip

    def _remove_search(self, c: Connection, ids: list[int]) -> None: ...

    def _search_sql(self) -> TextClause: ...

    def _search_params(self, words: list[str], language: str, limit: int) -> dict: ...


PASSAGES_KEPT = 4096  # rows whose passage and term sets are kept
_COLUMNS = ("p.id, p.document, p.position, p.language, p.kind, p.text, p.heading, p.title, "
            "p.row_label, p.column_label, p.page, p.terms, p.context")  # fmt: skip


def _hit(row: object) -> Hit:
    """The row's passage and term sets, made once per process for the same row (the
    same passages come back search after search; the score is the search's own)."""
    *columns, score = tuple(row)  # type: ignore[call-overload]
    passage, terms, context = _passage(tuple(columns))
    return Hit(passage, terms, context, float(score))


@lru_cache(maxsize=PASSAGES_KEPT)
def _passage(columns: tuple) -> tuple[Passage, frozenset[str], frozenset[str]]:
    """`_COLUMNS` of a row, every one of them the key: a changed passage is made anew."""
    (_, document, position, language, kind, text, heading, title, row_label, column_label,
     page, terms, context) = columns  # fmt: skip
    passage = Passage(
        document=document, language=language, kind=kind, text=text, heading=heading,
        title=title, row=row_label, column=column_label, page=page, position=position,
    )  # fmt: skip
    return passage, frozenset(terms.split()), frozenset(context.split())


class SqliteFtsIndex(_SqlIndex):
    """FTS5 with BM25 (terms weighted 1.0, context 0.3)."""

    def _add_search(self, c: Connection, row_id: int, language: str, terms: str,
                    context: str) -> None:  # fmt: skip
        c.execute(text(f"INSERT INTO {SEARCH_TABLE} (rowid, terms, context) "
                       "VALUES (:id, :terms, :context)"),
                  {"id": row_id, "terms": terms, "context": context})  # fmt: skip

    def _remove_search(self, c: Connection, ids: list[int]) -> None:
        statement = text(f"DELETE FROM {SEARCH_TABLE} WHERE rowid IN :ids")
        c.execute(statement.bindparams(bindparam("ids", expanding=True)), {"ids": ids})

    def _search_sql(self) -> TextClause:
        return text(
            f"SELECT {_COLUMNS}, -bm25({SEARCH_TABLE}, 1.0, 0.3) AS score "
            f"FROM {SEARCH_TABLE} JOIN knowledge_passages p ON p.id = {SEARCH_TABLE}.rowid "
            f"WHERE {SEARCH_TABLE} MATCH :query AND p.language = :language "
            "ORDER BY score DESC, p.id LIMIT :limit"
        )

    def _search_params(self, words: list[str], language: str, limit: int) -> dict:
        query = " OR ".join(f'"{w}"' for w in words)  # quoted: never FTS5 syntax
        return {"query": query, "language": language, "limit": limit}


class PostgresFtsIndex(_SqlIndex):
    """PostgreSQL's full-text search: a tsvector per passage in its language's
    configuration (terms weight A, context weight B), ranked by ts_rank_cd."""

    def _add_search(self, c: Connection, row_id: int, language: str, terms: str,
                    context: str) -> None:  # fmt: skip
        c.execute(text(
            f"INSERT INTO {SEARCH_TABLE} (passage_id, search) VALUES (:id, "
            "setweight(to_tsvector(CAST(:config AS regconfig), :terms), 'A') || "
            "setweight(to_tsvector(CAST(:config AS regconfig), :context), 'B'))"
        ), {"id": row_id, "config": CONFIGS.get(language, "simple"), "terms": terms,
            "context": context})  # fmt: skip

    def _remove_search(self, c: Connection, ids: list[int]) -> None:
        c.execute(text(f"DELETE FROM {SEARCH_TABLE} WHERE passage_id = ANY(:ids)"), {"ids": ids})

    def _search_sql(self) -> TextClause:
        return text(
            f"SELECT {_COLUMNS}, ts_rank_cd(s.search, q.query) AS score "
            f"FROM {SEARCH_TABLE} s JOIN knowledge_passages p ON p.id = s.passage_id, "
            "to_tsquery(CAST(:config AS regconfig), :query) AS q(query) "
            "WHERE s.search @@ q.query AND p.language = :language "
            "ORDER BY score DESC, p.id LIMIT :limit"
        )

    def _search_params(self, words: list[str], language: str, limit: int) -> dict:
        return {"query": " | ".join(words), "config": CONFIGS.get(language, "simple"),
                "language": language, "limit": limit}  # fmt: skip


def passage_index(engine: Engine) -> PassageIndex:
    if engine.dialect.name == "postgresql":
        return PostgresFtsIndex(engine)
    return SqliteFtsIndex(engine)
