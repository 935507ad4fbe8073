"""Reading a company document into blocks: headings, paragraphs, list items and tables,
each with the language it is written in.

Markdown (`.md`), HTML (`.html`, `.htm`) and PDF (`.pdf`, text extracted with pypdf;
a scanned PDF without a text layer has no text to read) are read. A section headed
"Deutsch"/"German" or "English"/"Englisch" is in that language; any other block's
language is detected from its words (`dialogue.language`), else the document's.
`read_document` raises `DocumentError` with the reason a file cannot be read.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from html.parser import HTMLParser
from pathlib import Path

from dialogue.language import DEFAULT_LANGUAGE, detect_language

SUFFIXES = (".md", ".markdown", ".html", ".htm", ".pdf")
MAX_BYTES = 20 * 1024 * 1024
LANGUAGE_HEADINGS = {"deutsch": "de", "german": "de", "english": "en", "englisch": "en"}


class DocumentError(ValueError):
    """A document cannot be read; the message is the reason (no content quoted)."""


@dataclass(frozen=True)
class Block:
    kind: str  # "heading", "text", "item", "table"
    text: str = ""
    rows: tuple[tuple[str, ...], ...] = ()  # a table's rows, the header first
    language: str = DEFAULT_LANGUAGE
    heading: str = ""  # the nearest heading above it
    page: int | None = None  # a PDF's page (1-based)


@dataclass(frozen=True)
class Document:
    key: str  # the file name without its suffix: what a source is named by
    title: str
    blocks: tuple[Block, ...] = field(default=())


def read_document(path: Path) -> Document:
    suffix = path.suffix.lower()
    if suffix not in SUFFIXES:
        raise DocumentError(f"not a document Lotse reads ({', '.join(SUFFIXES)})")
    try:
        size = path.stat().st_size
        if size > MAX_BYTES:
            raise DocumentError(f"larger than {MAX_BYTES // (1024 * 1024)} MB")
        if suffix == ".pdf":
            raw = _pdf_blocks(path)
        else:
            text = path.read_bytes().decode("utf-8")
            raw = _html_blocks(text) if suffix in (".html", ".htm") else _markdown_blocks(text)
    except UnicodeDecodeError:
        raise DocumentError("not UTF-8 text") from None
    except OSError as error:
        raise DocumentError(f"cannot be opened ({type(error).__name__})") from None
    if not any(b.kind != "heading" for b in raw):
        raise DocumentError("holds no text (a scanned PDF needs a text layer)")
    title = next((b.text for b in raw if b.kind == "heading"), path.stem)
    return Document(path.stem, title, tuple(_with_languages(raw)))


def _with_languages(blocks: list[Block]) -> list[Block]:
    """Each block with its language and the heading above it."""
    whole = " ".join(b.text or " ".join(" ".join(r) for r in b.rows) for b in blocks)
    document_language = detect_language(whole) or DEFAULT_LANGUAGE
    section, heading, done = None, "", []
    for block in blocks:
        if block.kind == "heading":
            named = LANGUAGE_HEADINGS.get(block.text.strip().lower())
            if named:
                section = named
                continue
            heading = block.text
        text = block.text or " ".join(" ".join(r) for r in block.rows)
        language = section or detect_language(text) or document_language
        done.append(Block(block.kind, block.text, block.rows, language, heading, block.page))
    return done


# ------------------------------------------------------------------------- Markdown

_TABLE_RULE = re.compile(r"^\|?\s*:?-{2,}:?\s*(\|\s*:?-{2,}:?\s*)*\|?\s*$")


def _markdown_blocks(text: str) -> list[Block]:
    blocks: list[Block] = []
    paragraph: list[str] = []
    table: list[tuple[str, ...]] = []

    def flush() -> None:
        if paragraph:
            blocks.append(Block("text", _inline(" ".join(paragraph))))
            paragraph.clear()
        if table:
            blocks.append(Block("table", rows=tuple(table)))
            table.clear()

    for line in text.splitlines():
        stripped = line.strip()
        if stripped.startswith("|"):
            if paragraph:
                blocks.append(Block("text", _inline(" ".join(paragraph))))
                paragraph.clear()
            if not _TABLE_RULE.match(stripped):
                table.append(tuple(_inline(c.strip()) for c in stripped.strip("|").split("|")))
            continue
        if table:
            flush()
        if not stripped:
            flush()
        elif heading := re.match(r"^#{1,6}\s+(.*)$", stripped):
            flush()
            blocks.append(Block("heading", _inline(heading.group(1))))
        elif item := re.match(r"^(?:[-*+]|\d+[.)])\s+(.*)$", stripped):
            flush()
            paragraph.append(item.group(1))
            blocks.append(Block("item", _inline(" ".join(paragraph))))
            paragraph.clear()
        elif blocks and blocks[-1].kind == "item" and line.startswith((" ", "\t")):
            last = blocks.pop()
            blocks.append(Block("item", f"{last.text} {_inline(stripped)}"))
        else:
            paragraph.append(stripped)
    flush()
    return blocks


def _inline(text: str) -> str:
    """Markdown emphasis, code and links reduced to their text."""
    text = re.sub(r"!?\[([^\]]*)\]\([^)]*\)", r"\1", text)
    text = re.sub(r"[*_`]{1,3}([^*_`]+)[*_`]{1,3}", r"\1", text)
    return re.sub(r"\s+", " ", text).strip()


# ----------------------------------------------------------------------------- HTML


class _HtmlReader(HTMLParser):
    SKIP = {"script", "style", "nav", "footer", "head", "template", "noscript"}
    HEADINGS = {"h1", "h2", "h3", "h4", "h5", "h6"}

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.blocks: list[Block] = []
        self.text: list[str] = []
        self.kind: str | None = None
        self.skipping = 0
        self.row: list[str] | None = None
        self.rows: list[tuple[str, ...]] | None = None

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag in self.SKIP:
            self.skipping += 1
        elif tag == "table":
            self._close()
            self.rows = []
        elif tag == "tr" and self.rows is not None:
            self.row = []
        elif tag in ("td", "th") and self.row is not None:
            self.text = []
        elif tag in self.HEADINGS or tag in ("p", "li"):
            self._close()
            self.kind = "heading" if tag in self.HEADINGS else "item" if tag == "li" else "text"
        elif tag == "br":
            self.text.append(" ")

    def handle_endtag(self, tag: str) -> None:
        if tag in self.SKIP:
            self.skipping = max(0, self.skipping - 1)
        elif tag in ("td", "th") and self.row is not None:
            self.row.append(_inline("".join(self.text)))
            self.text = []
        elif tag == "tr" and self.row is not None and self.rows is not None:
            if any(self.row):
                self.rows.append(tuple(self.row))
            self.row = None
        elif tag == "table" and self.rows is not None:
            if self.rows:
                self.blocks.append(Block("table", rows=tuple(self.rows)))
            self.rows = None
        elif tag in self.HEADINGS or tag in ("p", "li"):
            self._close()

    def handle_data(self, data: str) -> None:
        if not self.skipping:
            self.text.append(data)

    def _close(self) -> None:
        text = _inline("".join(self.text))
        if text and self.rows is None:
            self.blocks.append(Block(self.kind or "text", text))
        self.text, self.kind = [], None


def _html_blocks(text: str) -> list[Block]:
    reader = _HtmlReader()
    reader.feed(text)
    reader.close()
    reader._close()
    return reader.blocks


# ------------------------------------------------------------------------------ PDF


def _pdf_blocks(path: Path) -> list[Block]:
    try:
        from pypdf import PdfReader
        from pypdf.errors import PdfReadError
    except ImportError:  # pragma: no cover - pypdf is in requirements.lock
        raise DocumentError("reading PDF needs the pypdf package") from None
    try:
        reader = PdfReader(str(path))
        if reader.is_encrypted:
            raise DocumentError("the PDF is encrypted")
        blocks = []
        for number, page in enumerate(reader.pages, start=1):
            text = page.extract_text() or ""
            for paragraph in re.split(r"\n\s*\n", text):
                flat = _inline(paragraph.replace("\n", " "))
                if flat:
                    blocks.append(Block("text", flat, page=number))
        return blocks
    except PdfReadError as error:
        raise DocumentError(f"not a readable PDF ({type(error).__name__})") from None
