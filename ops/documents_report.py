"""Indexing the company's documents from the command line (`lotse build`, `lotse run`):
the folder (LOTSE_DOCUMENTS_DIR) indexed into the configured database, only what
changed, and what happened said in lines a person reads, a document that could not be
read named with the reason."""

from __future__ import annotations

from knowledge.index import passage_index
from knowledge.library import IndexReport, index_documents, vocabulary_file
from knowledge.matching import load_matcher
from knowledge.vocabulary import load_vocabulary
from lotse.settings import Settings
from wiring.services import services_for


def index_company_documents(settings: Settings) -> IndexReport:
    folder = settings.files.documents_dir
    matcher = load_matcher(load_vocabulary(vocabulary_file(folder)))
    index = passage_index(services_for(settings.database_url).engine)
    return index_documents(folder, index, matcher)


def report_lines(report: IndexReport, folder: object) -> list[str]:
    lines = [
        f"documents in {folder}: {len(report.indexed)} indexed, {len(report.unchanged)} "
        f"unchanged, {len(report.removed)} removed, {len(report.unreadable)} unreadable"
    ]
    lines += [f"  could not read {name}: {reason}" for name, reason in report.unreadable]
    return lines
