"""Scanning every file under a folder for a person's email, phone number and name
(issue 18: after `lotse privacy erase` no byte of them may remain under `var/`).

The files are read as bytes, never opened as databases (opening a SQLite file could
checkpoint its WAL and hide what the WAL holds). Each file is searched:
- raw, case-insensitively for ASCII, as UTF-8, as UTF-16 (little and big endian) and
  as JSON writes non-ASCII text ("J\\u00f6rg");
- unfolded (header and ICS lines folded with CRLF and a space joined again);
- the phone number as its national digits with separators (spaces, dashes, dots,
  slashes, parentheses, NUL bytes) dropped, so "+49 (0)151 2468 1357",
  "0151/2468 1357" and "%2B4915124681357" are all found;
- encoded as mail files encode text: quoted-printable (body and encoded-word forms)
  and base64 at each of the three alignments (line breaks dropped first);
- decoded, when the file starts like a mail message: every header (MIME
  encoded-words decoded) and every part's content (quoted-printable and base64
  decoded), searched case-insensitively (casefold) and unfolded.
Names are also searched in their NFD form and with "ß" as "ss".
"""

from __future__ import annotations

import base64
import json
import quopri
import re
import unicodedata
from dataclasses import dataclass
from email import message_from_bytes
from email.policy import default as default_policy
from pathlib import Path

SEPARATORS = re.compile(rb"[\s\x00\-./()]")
LOOKS_LIKE_MAIL = re.compile(rb"^[A-Za-z][A-Za-z0-9-]*:[ \t]")
BASE64_CORE_CHARS = 8


@dataclass(frozen=True)
class Person:
    email: str
    phone: str = ""  # E.164, "+4915124681357"; "": not looked for
    name: str = ""  # "Jörg Weißmüller"; "": not looked for
    country_code: str = "49"

    @property
    def national_digits(self) -> str:
        """The number without country code and trunk 0: in every way of writing it."""
        return self.phone.removeprefix("+").removeprefix(self.country_code)

    def texts(self) -> dict[str, list[str]]:
        """What to look for, by kind, exactly as written (case matters for base64)."""
        names = [self.name, *self.name.split()] if self.name else []
        names += [unicodedata.normalize("NFD", n) for n in names]
        names += [n.replace("ß", "ss") for n in names if "ß" in n]
        national = "0" + self.national_digits
        phones = [self.phone, national, f"{national[:4]} {national[4:]}"] if self.phone else []
        return {
            "email": [self.email, self.email.replace("@", "%40")],
            "name": list(dict.fromkeys(names)),
            "phone": phones,
        }


def traces(folder: Path, person: Person) -> list[str]:
    """ "<path>: <kind> (<how found>)" for everything of `person` in any file under
    `folder` (each kind and way once per file), sorted."""
    found: set[str] = set()
    for path in sorted(p for p in folder.rglob("*") if p.is_file()):
        name = path.relative_to(folder).as_posix()
        found.update(f"{name}: {hit}" for hit in hits(path.read_bytes(), person))
    return sorted(found)


def hits(data: bytes, person: Person) -> set[str]:
    texts = person.texts()
    found = set()
    views = {"raw": data, "unfolded": unfold(data)}
    if LOOKS_LIKE_MAIL.match(data):
        views["decoded mail"] = unfold(decoded_mail(data).encode("utf-8"))
    for how, view in views.items():
        lowered = view.lower()
        for kind, forms in texts.items():
            if any(needle in lowered for form in forms for needle in _plain_forms(form)):
                found.add(f"{kind} ({how})")
            if any(needle in lowered for form in forms for needle in _qp_forms(form)):
                found.add(f"{kind} ({how}, quoted-printable)")
        if person.phone and person.national_digits.encode() in SEPARATORS.sub(b"", lowered):
            found.add(f"phone ({how}, digits)")
    flat = re.sub(rb"\s", b"", data)
    for kind, forms in texts.items():
        if any(core in flat for form in forms for core in base64_cores(form.encode("utf-8"))):
            found.add(f"{kind} (base64)")
    return found


def _plain_forms(text: str) -> list[bytes]:
    forms = {text, text.lower(), text.casefold()}
    forms |= {json.dumps(f)[1:-1] for f in forms}  # as JSON escapes it ("J\\u00f6rg")
    encoded = [f.encode(codec) for f in forms for codec in ("utf-8", "utf-16-le", "utf-16-be")]
    return [e.lower() for e in encoded]


def _qp_forms(text: str) -> list[bytes]:
    raw = text.encode("utf-8")
    forms = {quopri.encodestring(raw), quopri.encodestring(raw, header=True)}
    return [f.strip().lower() for f in forms if f.strip() != raw]


def base64_cores(needle: bytes) -> list[bytes]:
    """The part of `needle`'s base64 that is the same wherever it starts in a stream:
    for each of the three alignments, the groups made only of its own bytes."""
    cores = []
    for offset in range(3):
        encoded = base64.b64encode(b"\0" * offset + needle)
        start = 4 if offset else 0
        whole_groups = (offset + len(needle)) // 3 * 4
        core = encoded[start:whole_groups]
        if len(core) >= BASE64_CORE_CHARS:
            cores.append(core)
    return cores


def unfold(data: bytes) -> bytes:
    return re.sub(rb"\r?\n[ \t]", b"", data)


def decoded_mail(data: bytes) -> str:
    """Every header and every part's content of a mail message, decoded."""
    message = message_from_bytes(data, policy=default_policy)
    texts = []
    for part in message.walk():
        texts += [f"{key}: {value}" for key, value in part.items()]
        if part.is_multipart():
            continue
        payload = part.get_payload(decode=True) or b""
        texts.append(payload.decode(part.get_content_charset() or "utf-8", "replace"))
    return "\n".join(texts).casefold()
