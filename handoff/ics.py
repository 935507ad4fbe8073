"""Meeting invitations as iCalendar text (RFC 5545), for the email that books a call
with a sales expert.

Pure: no I/O, no clock unless `now` is left out (then DTSTAMP is the current UTC time).
The output holds personal data (names and email addresses of organizer and attendees,
and whatever the summary and description say); callers must not log it.

Errors: `ValueError` for naive datetimes, an empty or reversed time range, an empty UID,
and addresses that are not a single plain `local@domain` token (which also keeps CR/LF
out of the calendar text).
"""

from __future__ import annotations

from datetime import datetime, timezone

PRODID = "-//Lotse//Lotse handoff//EN"
MAX_OCTETS = 75  # RFC 5545 3.1: content lines SHOULD NOT be longer than 75 octets
CRLF = "\r\n"


def meeting_invitation(
    uid: str,
    start: datetime,
    end: datetime,
    summary: str,
    description: str,
    organizer: tuple[str, str],
    attendees: list[tuple[str, str]],
    location: str | None = None,
    now: datetime | None = None,
) -> str:
    """A VCALENDAR with METHOD:REQUEST and one VEVENT, CRLF line endings, folded lines.

    `organizer` and each attendee are `(name, email)`. Times are written in UTC (`Z`).
    Same inputs (with the same `now`) give the same text, so resending is idempotent for
    calendar clients: they match on UID.
    """
    _require_aware(start, "start")
    _require_aware(end, "end")
    if end <= start:
        raise ValueError("end must be after start")
    stamp = datetime.now(timezone.utc) if now is None else now
    _require_aware(stamp, "now")
    if not uid.strip():
        raise ValueError("uid must not be empty")

    lines = [
        "BEGIN:VCALENDAR",
        f"PRODID:{PRODID}",
        "VERSION:2.0",
        "CALSCALE:GREGORIAN",
        "METHOD:REQUEST",
        "BEGIN:VEVENT",
        f"UID:{escape_text(uid)}",
        f"DTSTAMP:{_utc(stamp)}",
        f"DTSTART:{_utc(start)}",
        f"DTEND:{_utc(end)}",
        f"SUMMARY:{escape_text(summary)}",
        f"DESCRIPTION:{escape_text(description)}",
    ]
    if location:
        lines.append(f"LOCATION:{escape_text(location)}")
    lines.append(f"ORGANIZER;CN={_param(organizer[0])}:mailto:{_address(organizer[1])}")
    for name, address in attendees:
        lines.append(
            f"ATTENDEE;CN={_param(name)};CUTYPE=INDIVIDUAL;ROLE=REQ-PARTICIPANT;"
            f"PARTSTAT=NEEDS-ACTION;RSVP=TRUE:mailto:{_address(address)}"
        )
    lines += ["SEQUENCE:0", "STATUS:CONFIRMED", "TRANSP:OPAQUE", "END:VEVENT", "END:VCALENDAR"]
    return "".join(fold(line) + CRLF for line in lines)


def escape_text(value: str) -> str:
    """TEXT value escaping (RFC 5545 3.3.11): backslash, semicolon, comma, newline."""
    value = value.replace("\r\n", "\n").replace("\r", "\n")
    value = value.replace("\\", "\\\\").replace(";", "\\;").replace(",", "\\,")
    return value.replace("\n", "\\n")


def fold(line: str) -> str:
    """Fold one content line at 75 octets of UTF-8, never inside a multi-byte character.

    Continuation lines start with one space, which counts towards their 75 octets.
    """
    parts: list[str] = []
    current: list[str] = []
    size = 0
    limit = MAX_OCTETS
    for char in line:
        width = len(char.encode("utf-8"))
        if size + width > limit:
            parts.append("".join(current))
            current, size, limit = [], 0, MAX_OCTETS - 1
        current.append(char)
        size += width
    parts.append("".join(current))
    return (CRLF + " ").join(parts)


def _utc(moment: datetime) -> str:
    return moment.astimezone(timezone.utc).strftime("%Y%m%dT%H%M%SZ")


def _require_aware(moment: datetime, name: str) -> None:
    if moment.tzinfo is None or moment.utcoffset() is None:
        raise ValueError(f"{name} must be a timezone-aware datetime")


def _param(value: str) -> str:
    """A quoted parameter value; DQUOTE, caret and newlines encoded per RFC 6868."""
    value = value.replace("\r\n", "\n").replace("\r", "\n")
    value = value.replace("^", "^^").replace('"', "^'").replace("\n", "^n")
    return f'"{value}"'


def _address(address: str) -> str:
    local, at, domain = address.partition("@")
    if not at or not local or not domain or any(c.isspace() or c in '<>"' for c in address):
        raise ValueError("not a plain email address")
    return address
