"""Indexing a folder of documents (`lotse build`): every readable document whose
content (or the vocabulary) changed since it was indexed is split into passages and
indexed anew, documents gone from the folder are removed, the rest left as they are.
A document that cannot be read is reported with its reason and left out; the others
are indexed all the same. Changing a document needs no training of the NLU model.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from pathlib import Path

from knowledge.documents import SUFFIXES, DocumentError, read_document
from knowledge.index import Indexed, PassageIndex
from knowledge.matching import Matcher
from knowledge.passages import passages
from knowledge.vocabulary import VOCABULARY_FILE

VOCABULARY_NAME = "vocabulary.yml"

INDEX_VERSION = "6"  # raise when the way passages or terms are made changes


@dataclass
class IndexReport:
    indexed: list[str] = field(default_factory=list)
    unchanged: list[str] = field(default_factory=list)
    removed: list[str] = field(default_factory=list)
    unreadable: list[tuple[str, str]] = field(default_factory=list)  # (file, reason)


def document_files(folder: Path) -> list[Path]:
    return sorted(p for p in folder.iterdir() if p.is_file() and p.suffix.lower() in SUFFIXES
                  and p.name.lower() != "readme.md")  # fmt: skip


def index_documents(folder: Path, index: PassageIndex, matcher: Matcher) -> IndexReport:
    """The folder indexed with the vocabulary it was read with (its text as the salt)."""
    return index_folder(folder, index, matcher, vocabulary_file(folder).read_text(encoding="utf-8"))


def vocabulary_file(folder: Path) -> Path:
    """The folder's own `vocabulary.yml`, else Lotse's."""
    own = folder / VOCABULARY_NAME
    return own if own.is_file() else VOCABULARY_FILE


def index_folder(
    folder: Path, index: PassageIndex, matcher: Matcher, salt: str = ""
) -> IndexReport:
    """`salt`: what else the index depends on (the vocabulary's text)."""
    report = IndexReport()
    known = index.digests()
    present = set()
    for path in document_files(folder) if folder.is_dir() else []:
        content = INDEX_VERSION.encode() + salt.encode() + path.read_bytes()
        digest = hashlib.sha256(content).hexdigest()
        present.add(path.stem)
        if known.get(path.stem) == digest:
            report.unchanged.append(path.name)
            continue
        try:
            document = read_document(path)
        except DocumentError as error:
            report.unreadable.append((path.name, str(error)))
            continue
        indexed = [
            Indexed(p, " ".join(matcher.index_terms(p.text, p.language)),
                    " ".join(sorted(matcher.terms.words(f"{p.title} {p.heading}", p.language))))
            for p in passages(document)
        ]  # fmt: skip
        index.replace(path.stem, digest, document.title, indexed)
        report.indexed.append(path.name)
    for key in sorted(set(known) - present):
        index.remove(key)
        report.removed.append(key)
    return report
