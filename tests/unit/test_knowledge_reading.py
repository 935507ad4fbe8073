"""Reading documents into blocks and passages (`knowledge.documents`,
`knowledge.passages`), the nouns a question asks about (`knowledge.focus`) and the
vocabulary file (`knowledge.vocabulary`): pure, on small files of the tests' own."""

from __future__ import annotations

from pathlib import Path

import pytest

from knowledge.documents import DocumentError, read_document
from knowledge.focus import asking_part, focus_words
from knowledge.passages import passages
from knowledge.vocabulary import VocabularyError, concept_token, load_vocabulary
from tests.support.pdf_maker import write_pdf

SHEET = """# Kranbau – Datenblatt / data sheet

## Deutsch

Die Baureihe K umfasst zwei Krane. Beide haben z. B. eine Funksteuerung.

| Kennwert | K10 | K20 |
|---|---|---|
| Traglast | 10 t | 20 t |
| Spannweite | 12 m | – |

- Farbe: RAL 1007
- Wartung: einmal im Jahr

## English

The K series has two cranes.

| Figure | K10 | K20 |
|---|---|---|
| Load | 10 t | 20 t |
"""


def test_markdown_headings_tables_items_and_languages(tmp_path: Path) -> None:
    document = read_document(_file(tmp_path, "krane.md", SHEET))
    assert document.key == "krane" and document.title == "Kranbau – Datenblatt / data sheet"
    kinds = [(b.kind, b.language) for b in document.blocks]
    assert kinds == [("heading", "de"), ("text", "de"), ("table", "de"), ("item", "de"),
                     ("item", "de"), ("text", "en"), ("table", "en")]  # fmt: skip
    table = document.blocks[2]
    assert table.rows[0] == ("Kennwert", "K10", "K20") and table.rows[2][2] == "–"


def test_a_table_cell_is_a_passage_with_its_row_and_column(tmp_path: Path) -> None:
    found = passages(read_document(_file(tmp_path, "krane.md", SHEET)))
    texts = [p.text for p in found]
    assert "Traglast – K20: 20 t" in texts
    assert "Traglast: K10 10 t; K20 20 t" in texts
    assert not any("Spannweite – K20" in t for t in texts)  # an empty cell says nothing
    cell = next(p for p in found if p.text == "Traglast – K20: 20 t")
    assert (cell.kind, cell.row, cell.column, cell.language) == ("cell", "Traglast", "K20", "de")
    # "z. B." does not end a sentence; the two sentences are two passages.
    assert "Beide haben z. B. eine Funksteuerung." in texts
    assert [p.position for p in found] == list(range(len(found)))


def test_html_keeps_text_tables_and_lists_and_drops_scripts(tmp_path: Path) -> None:
    page = """<html><head><title>x</title><script>var secret = 1;</script></head><body>
    <nav>Menü</nav><h1>Service</h1><p>Die Hotline ist von 7 bis 18 Uhr besetzt.</p>
    <ul><li>Basic: eine Inspektion</li></ul>
    <table><tr><th>Vertrag</th><th>Preis</th></tr><tr><td>Basic</td><td>1.900 EUR</td></tr>
    </table></body></html>"""
    found = passages(read_document(_file(tmp_path, "service.html", page)))
    texts = [p.text for p in found]
    assert "Die Hotline ist von 7 bis 18 Uhr besetzt." in texts
    assert "Basic: eine Inspektion" in texts and "Basic – Preis: 1.900 EUR" in texts
    assert not any("secret" in t or "Menü" in t for t in texts)


def test_pdf_text_with_its_page(tmp_path: Path) -> None:
    pdf = write_pdf(tmp_path / "kurse.pdf", [["Der Sicherheitskurs dauert 1 Tag."],
                                             ["Er kostet 450 EUR pro Person."]])  # fmt: skip
    found = passages(read_document(pdf))
    assert [(p.text, p.page) for p in found] == [("Der Sicherheitskurs dauert 1 Tag.", 1),
                                                 ("Er kostet 450 EUR pro Person.", 2)]  # fmt: skip


@pytest.mark.parametrize(("name", "content", "reason"), [
    ("bild.png", b"\x89PNG", "not a document"),
    ("kaputt.md", b"\xff\xfe\x00Gr\xfc", "not UTF-8"),
    ("kaputt.pdf", b"%PDF-1.4 nothing else", "not a readable PDF"),
    ("leer.pdf", None, "holds no text"),
    ("leer.md", "# Nur eine Überschrift\n".encode(), "holds no text"),
])  # fmt: skip
def test_an_unreadable_document_says_why(tmp_path: Path, name: str, content: bytes | None,
                                         reason: str) -> None:  # fmt: skip
    path = tmp_path / name
    if content is None:
        write_pdf(path, [[]])
    else:
        path.write_bytes(content)
    with pytest.raises(DocumentError, match=reason):
        read_document(path)


def test_the_asking_sentence_and_its_nouns() -> None:
    message = "Hallo! Wir haben eine kleine Halle. Welche Lackfarbe haben die Pressen?"
    assert asking_part(message) == "Welche Lackfarbe haben die Pressen?"
    assert focus_words(message, "de") == "Lackfarbe Pressen"
    # A prepositional phrase names circumstances, not what is asked.
    assert focus_words("Ich suche eine Presse für Tiefziehteile?", "de") == "Presse"
    assert focus_words("Do you offer an ATEX version of the conveyors?", "en") == "ATEX"
    assert focus_words("Wie schwer ist die P400", "de") == ""  # no noun, no acronym


def test_the_vocabulary_file_and_its_mistakes(tmp_path: Path) -> None:
    good = _file(tmp_path, "v.yml", """
concepts:
  weight: {words: [Gewicht, weight], asked: [schwer, heavy]}
ignore: [hallo]
subjects: [Kran]
""")
    vocabulary = load_vocabulary(good)
    assert vocabulary.documents["gewicht"] == {"weight"} and "schwer" not in vocabulary.documents
    assert vocabulary.asked["schwer"] == {"weight"} and vocabulary.asked["gewicht"] == {"weight"}
    assert vocabulary.ignored == {"hallo"} and vocabulary.subjects == {"kran"}
    assert concept_token("Lift & Turn") == "conceptliftturn"
    for broken, reason in [("concepts: [a]", "mapping"), ("concepts: {a: {asked: [b]}}", "words"),
                           ("concepts: {a: {words: [1]}}", "list of words"), (":\n - [", "read")]:
        with pytest.raises(VocabularyError, match=reason):
            load_vocabulary(_file(tmp_path, "bad.yml", broken))


def _file(folder: Path, name: str, text: str) -> Path:
    path = folder / name
    path.write_text(text, encoding="utf-8")
    return path


@pytest.mark.parametrize(("word", "lemma", "language", "superlative"), [
    ("größten", "gross", "de", True), ("schnellsten", "schnell", "de", True),
    ("kleinste", "klein", "de", True), ("höchste", "hoch", "de", True),
    ("biggest", "big", "en", True), ("largest", "large", "en", True),
    ("heaviest", "heavy", "en", True), ("loudest", "loud", "en", True),
    ("Test", "test", "de", False), ("kosten", "kosten", "de", False),
    ("ersten", "erst", "de", False), ("größer", "gross", "de", False),
    ("interest", "interest", "en", False), ("best", "well", "en", False),
    ("cost", "cost", "en", False),
])  # fmt: skip
def test_superlatives_are_told_from_other_words(word, lemma, language, superlative) -> None:
    from knowledge.terms import is_superlative

    assert is_superlative(word, lemma, language) is superlative
