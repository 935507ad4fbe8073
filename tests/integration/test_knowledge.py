"""The documents' passage index on SQLite (FTS5) and PostgreSQL (full-text search), and
the answers it gives: the fact with its source, or nothing when the documents do not
hold what was asked; incremental re-indexing; which questions leave an FAQ topic.

PostgreSQL tests use a database of their own (see `postgres_database` in
test_crm_store.py) and are skipped, naming the URL, if the server is unreachable.
"""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import text
from sqlalchemy.engine import Engine

from dialogue.content import load_content
from knowledge.answering import RECHECK_SECONDS, DocumentAnswerer
from knowledge.index import IndexError_, PostgresFtsIndex, SqliteFtsIndex, passage_index
from knowledge.library import index_documents
from knowledge.matching import Matcher, load_matcher
from knowledge.topic_fit import TopicFit, topic_fit
from lotse.database import make_engine
from lotse.settings import ROOT
from tests.support import crm_engines
from tests.support.pdf_maker import write_pdf

engine, postgres_url = crm_engines.engine, crm_engines.postgres_url  # shared fixtures
DOCUMENTS = ROOT / "bot" / "data" / "documents"


@pytest.fixture(scope="module")
def matcher() -> Matcher:
    return load_matcher()


@pytest.fixture
def folder(tmp_path: Path) -> Path:
    copy = tmp_path / "documents"
    shutil.copytree(DOCUMENTS, copy)
    return copy


@pytest.fixture
def answerer(engine: Engine, folder: Path, matcher: Matcher) -> Iterator[DocumentAnswerer]:
    with engine.begin() as connection:  # PostgreSQL's database outlives a test
        for table in ("knowledge_fts", "knowledge_passages", "knowledge_documents"):
            connection.execute(text(f"DELETE FROM {table}"))
    index = passage_index(engine)
    assert type(index) is (PostgresFtsIndex if engine.dialect.name == "postgresql"
                           else SqliteFtsIndex)  # fmt: skip
    report = index_documents(folder, index, matcher)
    assert len(report.indexed) == 5 and report.unreadable == []
    yield DocumentAnswerer(index, matcher)


@pytest.mark.parametrize(("question", "language", "fact", "title"), [
    ("Wie schwer ist die P400?", "de", "Gewicht – P400: 24 t",
     "NW-Press Hydraulikpressen – Datenblatt"),
    ("how heavy is the P400", "en", "Weight – P400: 24 t",
     "NW-Press Hydraulikpressen – data sheet"),
    ("Welche Reaktionszeit hat der Plus-Vertrag?", "de", "72 Stunden",
     "Service, Wartung und Schulung"),
    ("Where is NW-Connect hosted?", "en", "Frankfurt am Main",
     "NW-Connect – product description"),
    ("Wie laut ist die P800?", "de", "P800: unter 78 dB(A)",
     "NW-Press Hydraulikpressen – Datenblatt"),
    # a verb beside what is asked ("fährt", "läuft") does not hide the fact
    ("Wie lang fährt der Stößel bei der P200?", "de", "Hub – P200: 500 mm",
     "NW-Press Hydraulikpressen – Datenblatt"),
    ("wie schnell läuft der Rollenförderer?", "de", "0,1 bis 1,0 m/s",
     "NW-Flow Fördersysteme – Systembeschreibung"),
    # a superlative picks a row: the row of every product answers which one
    ("Welche Presse hat den längsten Hub?", "de", "Hub: P200 500 mm; P400 700 mm; P800 900 mm",
     "NW-Press Hydraulikpressen – Datenblatt"),
    ("how loud is your biggest press", "en", "P800 below 78 dB(A)",
     "NW-Press Hydraulikpressen – data sheet"),
])  # fmt: skip
def test_a_property_of_a_product_is_answered_with_its_source(
    answerer: DocumentAnswerer, question: str, language: str, fact: str, title: str
) -> None:
    found = answerer.answer(question, language)
    assert found is not None, question
    assert fact in found.text and found.source.title == title


@pytest.mark.parametrize(("question", "language"), [
    ("Welche Lackfarbe haben die Pressen?", "de"),
    ("Was kostet das Energiesparpaket?", "de"),
    ("Wie viele Hübe pro Minute schafft die P200?", "de"),
    ("How much does the chain conveyor weigh?", "en"),
    ("Do you offer an ATEX version of the conveyors?", "en"),
    ("What is your yearly revenue?", "en"),
])  # fmt: skip
def test_what_the_documents_do_not_hold_gets_no_answer(
    answerer: DocumentAnswerer, question: str, language: str
) -> None:
    assert answerer.answer(question, language) is None


def test_reindexing_takes_only_what_changed(
    engine: Engine, folder: Path, matcher: Matcher, answerer: DocumentAnswerer
) -> None:
    index = answerer.index
    assert index_documents(folder, index, matcher).unchanged == sorted(
        p.name for p in folder.glob("*.md"))  # fmt: skip
    sheet = folder / "nw-press.md"
    changed = sheet.read_text(encoding="utf-8").replace("| 12 t | 24 t |", "| 12 t | 25 t |")
    sheet.write_text(changed, encoding="utf-8")
    (folder / "service.md").unlink()
    write_pdf(folder / "preisliste.pdf", [[]])  # no text layer
    (folder / "kurse.html").write_text("<h1>Kurse</h1><p>Der Sicherheitskurs dauert 1 Tag "
                                       "und kostet 450 EUR.</p>", encoding="utf-8")  # fmt: skip
    report = index_documents(folder, index, matcher)
    assert sorted(report.indexed) == ["kurse.html", "nw-press.md"]
    assert report.removed == ["service"]
    [(name, reason)] = report.unreadable
    assert name == "preisliste.pdf" and reason.startswith("holds no text")
    moments = iter([0.0, RECHECK_SECONDS])  # a running answerer looks again after that
    later = DocumentAnswerer(index, matcher, clock=lambda: next(moments, RECHECK_SECONDS))
    found = later.answer("Wie schwer ist die P400?", "de")
    assert found is not None and "25 t" in found.text  # no training: a new index
    assert later.answer("Welche Reaktionszeit hat der Plus-Vertrag?", "de") is None
    kurs = later.answer("Wie lange dauert der Sicherheitskurs?", "de")
    assert kurs is not None and kurs.source.document == "kurse"


def test_the_engines_search_ranks_the_cell_high(answerer: DocumentAnswerer) -> None:
    tokens = answerer.matcher.tokens(answerer.matcher.asked("Gewicht P400", "de"))
    hits = answerer.index.search(tokens, "de", 5)
    assert "Gewicht – P400: 24 t" in [h.passage.text for h in hits[:3]]
    assert all(h.passage.language == "de" for h in hits)
    assert answerer.index.search(['x" OR 1=1 --', "conceptweight"], "de")  # quoted: no syntax


def test_a_database_failure_is_an_index_error(tmp_path: Path, matcher: Matcher) -> None:
    unmigrated = make_engine(f"sqlite:///{tmp_path / 'empty.db'}")
    try:
        with pytest.raises(IndexError_, match="knowledge index: reading digests failed"):
            DocumentAnswerer(SqliteFtsIndex(unmigrated), matcher).answer("Gewicht P400?", "de")
    finally:
        unmigrated.dispose()


@pytest.fixture(scope="module")
def fit(matcher: Matcher) -> TopicFit:
    return topic_fit(matcher, load_content())


@pytest.mark.parametrize(("question", "language", "intent", "documents"), [
    ("Welche Lackfarbe haben die Pressen?", "de", "faq_presses", True),  # nobody's noun
    ("Wie schwer ist die P400?", "de", "faq_presses", True),  # the documents' word
    ("Was kostet die P400?", "de", "faq_press_price", False),  # the topic answers it
    ("Unser Druckschalter ist defekt, wo bekomme ich einen neuen her?", "de",
     "faq_spare_parts", False),
    ("wo stehen eure server fuer nw connect?", "de", "nlu_fallback", True),
    ("Which stocks should I buy?", "en", "out_of_scope", False),
    ("Wie tief muss der Kühlschmierstoff sein?", "de", "out_of_depth", True),
    # the documents' answer holds the word the topic does not speak of ...
    ("Wir überlegen uns eine Presse. Was für Optionen habt ihr da?", "de", "faq_presses",
     True),
    # ... but not the message's other words: the presses' options answer no contract
    ("Wir überlegen uns einen Wartungsvertrag. Was für Optionen habt ihr da?", "de",
     "faq_maintenance", False),
    # a property the topic does not speak of, and the question mostly about it ...
    ("How heavy is a roller conveyor?", "en", "faq_conveyors", True),
    # ... but not a property's word in a question the topic answers ("pressure")
    ("Our pressure gauge is broken, can I order a new one?", "en", "faq_spare_parts", False),
])  # fmt: skip
def test_which_questions_leave_an_faq_topic_for_the_documents(
    fit: TopicFit, answerer: DocumentAnswerer, question: str, language: str, intent: str,
    documents: bool,
) -> None:  # fmt: skip
    known = answerer.known_words(language)
    sure = lambda: answerer.answer(question, language, sure=True)  # noqa: E731
    found = lambda: answerer.answer(question, language)  # noqa: E731
    assert fit.for_documents(question, language, intent, known, sure, found) is documents
