"""A document's passages: what an answer can quote. A sentence of a paragraph, a list
item, a table's row (its label and every column's value) and each of a table's cells
(its row's label, its column's name and the value: "Gewicht – P400: 24 t"), so a
question about one product's property finds that cell and its answer names both.
A table's rows and cells keep what the table is about as their heading: the sentence
that introduces it ("Wartungsverträge (Preise je Maschine und Jahr):") and the name of
its first column ("Vertrag"), so "der Plus-Vertrag" finds the row labelled "Plus".
Pure; `passages(document)` keeps the document's order (`position`).
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from knowledge.documents import Block, Document

# A sentence ends at . ! ? followed by a space and a capital letter or a digit; not after
# an abbreviation such as "z. B." or "ca." (one or two letters before the dot).
_SENTENCE_END = re.compile(r"(?<=[^\s.]{3}[.!?])\s+(?=[A-ZÄÖÜ0-9])")
MAX_CHARS = 600
EMPTY_CELLS = ("", "–", "-")  # a longer sentence is still one passage, cut for display


@dataclass(frozen=True)
class Passage:
    document: str  # the document's key
    language: str
    kind: str  # "sentence", "item", "row", "cell"
    text: str
    heading: str = ""
    title: str = ""
    row: str = ""  # a table's row label (rows and cells)
    column: str = ""  # a table's column name (cells)
    page: int | None = None
    position: int = 0


def passages(document: Document) -> list[Passage]:
    found: list[Passage] = []
    before = ""  # the text just above a block: a table's caption when it ends with ":"
    for block in document.blocks:
        found += _of_block(document, block, before)
        before = block.text if block.kind == "text" else ""
    return [_numbered(p, n) for n, p in enumerate(found)]


def _numbered(passage: Passage, position: int) -> Passage:
    return Passage(**{**passage.__dict__, "position": position})


def _of_block(document: Document, block: Block, before: str = "") -> list[Passage]:
    base = {"document": document.key, "language": block.language, "heading": block.heading,
            "title": document.title, "page": block.page}  # fmt: skip
    if block.kind == "table":
        base["heading"] = table_heading(block.heading, before, block.rows)
        return _of_table(block.rows, base)
    if block.kind == "item":
        return [Passage(kind="item", text=block.text[:MAX_CHARS], **base)]
    if block.kind == "text":
        return [Passage(kind="sentence", text=s[:MAX_CHARS], **base)
                for s in _SENTENCE_END.split(block.text) if s.strip()]  # fmt: skip
    return []


def table_heading(heading: str, before: str, rows: tuple[tuple[str, ...], ...]) -> str:
    """The heading above a table, the sentence introducing it (the text's last sentence,
    if it ends with ":") and its first column's name: what every row is one of."""
    last = _SENTENCE_END.split(before.strip())[-1] if before.strip() else ""
    caption = last if last.endswith(":") else ""
    first = rows[0][0] if rows and rows[0] else ""
    return " ".join(part for part in (heading, caption, first) if part.strip())


def _of_table(rows: tuple[tuple[str, ...], ...], base: dict) -> list[Passage]:
    if len(rows) < 2:
        return []
    header, found = rows[0], []
    for row in rows[1:]:
        label = row[0] if row else ""
        values = [(header[i] if i < len(header) else "", value) for i, value in enumerate(row)
                  if i > 0 and value.strip() not in EMPTY_CELLS]  # fmt: skip
        if not label or not values:
            continue
        whole = "; ".join(f"{name} {value}".strip() for name, value in values)
        found.append(Passage(kind="row", text=f"{label}: {whole}", row=label, **base))
        for name, value in values:
            found.append(Passage(kind="cell", text=f"{label} – {name}: {value}", row=label,
                                 column=name, **base))  # fmt: skip
    return found
