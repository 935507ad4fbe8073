"""One-time codes that prove an email address (`CrmPort.claim_email`): made here,
recognised in what people type. Pure."""

from __future__ import annotations

import re
import secrets

CODE_DIGITS = 6
CODE_MINUTES = 30  # how long a code is valid
MAX_CODE_ATTEMPTS = 5  # wrong codes that void the claim
_CODE = re.compile(f"[0-9]{{{CODE_DIGITS}}}")
_JOINED_DIGITS = re.compile(r"(?<=[0-9])[ \-](?=[0-9])")
_RUNS = re.compile(r"[0-9]+")


def new_code() -> str:
    """A random code of CODE_DIGITS digits (leading zeros kept)."""
    return f"{secrets.randbelow(10**CODE_DIGITS):0{CODE_DIGITS}d}"


def code_in(text: str) -> str | None:
    """The code in a message as people type it ("123456", "123 456", "Code: 123-456"):
    the message's one run of digits if it has exactly CODE_DIGITS; else None."""
    runs = _RUNS.findall(_JOINED_DIGITS.sub("", text[:200]))
    if len(runs) != 1 or not _CODE.fullmatch(runs[0]):
        return None
    return runs[0]
