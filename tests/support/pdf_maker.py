"""A minimal PDF with a text layer, one page per list of lines (Helvetica, WinAnsi:
Latin-1 text), written by hand so that tests need no PDF writer."""

from __future__ import annotations

from pathlib import Path


def _escape(line: str) -> str:
    return line.replace("\\", "\\\\").replace("(", "\\(").replace(")", "\\)")


def write_pdf(path: Path, pages: list[list[str]]) -> Path:
    objects: list[bytes] = []
    page_ids = []
    font_id = 3
    next_id = 4
    for lines in pages:
        stream = "BT /F1 12 Tf 72 750 Td 16 TL " + " ".join(
            f"({_escape(line)}) Tj T*" for line in lines
        ) + " ET"
        data = stream.encode("latin-1")
        content_id, page_id = next_id, next_id + 1
        next_id += 2
        objects.append((content_id, b"<< /Length %d >>\nstream\n" % len(data) + data
                        + b"\nendstream"))  # type: ignore[arg-type]
        objects.append((page_id, (f"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 612 792] "
                                  f"/Contents {content_id} 0 R /Resources << /Font << /F1 "
                                  f"{font_id} 0 R >> >> >>").encode()))  # type: ignore[arg-type]
        page_ids.append(page_id)
    kids = " ".join(f"{i} 0 R" for i in page_ids)
    objects = [
        (1, b"<< /Type /Catalog /Pages 2 0 R >>"),
        (2, f"<< /Type /Pages /Kids [{kids}] /Count {len(page_ids)} >>".encode()),
        (3, b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica "
            b"/Encoding /WinAnsiEncoding >>"),
        *objects,
    ]  # type: ignore[list-item]
    out = bytearray(b"%PDF-1.4\n")
    offsets = {}
    for number, body in sorted(objects):  # type: ignore[misc]
        offsets[number] = len(out)
        out += b"%d 0 obj\n" % number + body + b"\nendobj\n"
    xref = len(out)
    out += b"xref\n0 %d\n0000000000 65535 f \n" % (len(objects) + 1)
    for number in range(1, len(objects) + 1):
        out += b"%010d 00000 n \n" % offsets[number]
    out += b"trailer\n<< /Size %d /Root 1 0 R >>\nstartxref\n%d\n%%%%EOF\n" % (
        len(objects) + 1, xref)
    path.write_bytes(bytes(out))
    return path
