"""Indexing the company's documents from the command line (`lotse build`, `lotse run`):
the folder (LOTSE_DOCUMENTS_DIR) indexed into the configured database through the
composition root, only what changed, and what happened said in lines a person reads,
a document that could not be read named with the reason."""

from __future__ import annotations

from pathlib import Path

from knowledge.library import IndexReport
from lotse.settings import Settings
from wiring.services import services_for


def index_company_documents(settings: Settings) -> IndexReport:
    return services_for(settings.database_url).index_documents()


def report_lines(report: IndexReport, folder: Path) -> list[str]:
    lines = [
        f"documents in {folder}: {len(report.indexed)} indexed, {len(report.unchanged)} "
        f"unchanged, {len(report.removed)} removed, {len(report.unreadable)} unreadable"
    ]
    lines += [f"  could not read {name}: {reason}" for name, reason in report.unreadable]
    return lines
