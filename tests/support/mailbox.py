"""The running stack's mailbox: without an SMTP server, the console's notification
worker writes the outbox's mails to the mail folder next to the database as .eml files. Tests
read the codes that prove an email address (issue 18) from there."""

from __future__ import annotations

import email
import email.policy
import re
import time
from pathlib import Path

from lotse.settings import Settings


def mail_files(stack: Settings) -> set[str]:
    return {path.name for path in mail_folder(stack).glob("*.eml")}


def mail_folder(stack: Settings) -> Path:
    return Path(stack.database_url.removeprefix("sqlite:///")).parent / "mail"


def code_mailed_to(stack: Settings, address: str, seen: set[str]) -> str:
    """The code in a mail to `address` that is not among the files `seen` before (the
    console's notification worker writes mails to the mail folder: there is no SMTP server)."""
    folder = mail_folder(stack)
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        for path in folder.glob("*.eml"):
            if path.name in seen:
                continue
            message = email.message_from_bytes(path.read_bytes(), policy=email.policy.default)
            if address.lower() in str(message["To"]).lower():
                body = message.get_body(("plain",))
                found = re.search(r"\b[0-9]{6}\b", body.get_content() if body else "")
                if found:
                    return found.group()
        time.sleep(0.2)
    raise AssertionError(f"no code mailed to {address}")


def mails_mentioning(stack: Settings, address: str) -> set[str]:
    return {
        path.name for path in mail_folder(stack).glob("*.eml")
        if address.lower() in path.read_text(errors="replace").lower()
    }  # fmt: skip
