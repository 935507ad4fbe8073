"""Meeting invitations (`handoff.ics`), read back with a small unfolding parser."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone
from zoneinfo import ZoneInfo

import pytest

from handoff.ics import fold, meeting_invitation

BERLIN = ZoneInfo("Europe/Berlin")
NOW = datetime(2024, 3, 1, 9, 0, 5, tzinfo=timezone.utc)


def invitation(**overrides: object) -> str:
    arguments: dict[str, object] = {
        "uid": "handoff-42@lotse.example",
        "start": datetime(2024, 3, 5, 10, 0, tzinfo=BERLIN),
        "end": datetime(2024, 3, 5, 10, 30, tzinfo=BERLIN),
        "summary": "Erstgespräch",
        "description": "Kurzes Kennenlernen",
        "organizer": ("Jana Vogt", "jana.vogt@nordwerk.example"),
        "attendees": [("Anna Müller", "anna@kunde.example")],
        "now": NOW,
    }
    arguments.update(overrides)
    return meeting_invitation(**arguments)  # type: ignore[arg-type]


def unfold(text: str) -> list[str]:
    assert text.endswith("\r\n")
    assert "\n" not in text.replace("\r\n", "")
    return text[:-2].replace("\r\n ", "").replace("\r\n\t", "").split("\r\n")


def split_line(line: str) -> tuple[str, dict[str, str], str]:
    """`NAME;P="a:b";Q=c:value` -> (NAME, {P: a:b, Q: c}, value)."""
    quoted = False
    for index, char in enumerate(line):
        if char == '"':
            quoted = not quoted
        elif char == ":" and not quoted:
            head, value = line[:index], line[index + 1 :]
            break
    else:
        raise AssertionError(f"no value in {line!r}")
    name, *raw_params = _split_params(head)
    params = {}
    for raw in raw_params:
        key, _, param_value = raw.partition("=")
        params[key] = param_value
    return name, params, value


def _split_params(head: str) -> list[str]:
    parts, current, quoted = [], "", False
    for char in head:
        if char == '"':
            quoted = not quoted
        if char == ";" and not quoted:
            parts.append(current)
            current = ""
        else:
            current += char
    return [*parts, current]


def unescape(value: str) -> str:
    out, chars = [], iter(value)
    for char in chars:
        if char == "\\":
            following = next(chars)
            out.append("\n" if following in "nN" else following)
        else:
            out.append(char)
    return "".join(out)


def unquote_param(value: str) -> str:
    assert value.startswith('"') and value.endswith('"')
    inner, out, index = value[1:-1], [], 0
    while index < len(inner):
        if inner[index] == "^" and index + 1 < len(inner) and inner[index + 1] in "^n'":
            out.append({"^": "^", "n": "\n", "'": '"'}[inner[index + 1]])
            index += 2
        else:
            out.append(inner[index])
            index += 1
    return "".join(out)


def properties(text: str) -> list[tuple[str, dict[str, str], str]]:
    return [split_line(line) for line in unfold(text)]


def single(text: str, name: str) -> tuple[dict[str, str], str]:
    found = [(params, value) for key, params, value in properties(text) if key == name]
    assert len(found) == 1, name
    return found[0]


def test_structure_and_required_properties() -> None:
    text = invitation()
    names = [name for name, _params, _value in properties(text)]
    assert names[:5] == ["BEGIN", "PRODID", "VERSION", "CALSCALE", "METHOD"]
    assert names[-2:] == ["END", "END"]
    assert names.count("BEGIN") == 2 and names.count("ATTENDEE") == 1
    assert single(text, "METHOD")[1] == "REQUEST"
    assert single(text, "VERSION")[1] == "2.0"
    assert single(text, "UID")[1] == "handoff-42@lotse.example"
    assert single(text, "DTSTAMP")[1] == "20240301T090005Z"
    assert unescape(single(text, "SUMMARY")[1]) == "Erstgespräch"
    assert "LOCATION" not in names


def test_times_are_converted_to_utc_from_berlin() -> None:
    winter = invitation()
    assert single(winter, "DTSTART")[1] == "20240305T090000Z"
    assert single(winter, "DTEND")[1] == "20240305T093000Z"
    summer = invitation(
        start=datetime(2024, 7, 1, 14, 0, tzinfo=BERLIN),
        end=datetime(2024, 7, 1, 15, 0, tzinfo=BERLIN),
    )
    assert single(summer, "DTSTART")[1] == "20240701T120000Z"
    assert single(summer, "DTEND")[1] == "20240701T130000Z"


def test_text_values_are_escaped() -> None:
    nasty = 'Müller, Anna; "x"\n'
    text = invitation(summary=nasty, description="a\\b\r\nc", location=nasty)
    params, raw = single(text, "SUMMARY")
    assert raw == 'Müller\\, Anna\\; "x"\\n'
    assert unescape(raw) == nasty
    assert unescape(single(text, "DESCRIPTION")[1]) == "a\\b\nc"
    assert unescape(single(text, "LOCATION")[1]) == nasty


def test_names_in_parameters_are_quoted_and_addresses_are_mailto() -> None:
    nasty = 'Müller, Anna; "x"\n'
    text = invitation(
        organizer=(nasty, "jana@nordwerk.example"),
        attendees=[(nasty, "anna@kunde.example"), ("Bob", "bob@kunde.example")],
    )
    params, value = single(text, "ORGANIZER")
    assert unquote_param(params["CN"]) == nasty
    assert value == "mailto:jana@nordwerk.example"
    attendees = [(p, v) for name, p, v in properties(text) if name == "ATTENDEE"]
    assert [unquote_param(p["CN"]) for p, _v in attendees] == [nasty, "Bob"]
    assert [v for _p, v in attendees] == ["mailto:anna@kunde.example", "mailto:bob@kunde.example"]
    assert all(p["RSVP"] == "TRUE" and p["ROLE"] == "REQ-PARTICIPANT" for p, _v in attendees)


def test_long_lines_with_umlauts_are_folded_at_75_octets() -> None:
    description = ("Grüße aus Köln – Übergabe an den Vertrieb " * 5)[:200]
    assert len(description) == 200
    text = invitation(description=description)
    physical = text[:-2].split("\r\n")
    for line in physical:
        encoded = line.encode("utf-8")
        assert len(encoded) <= 75
        encoded.decode("utf-8")  # no multi-byte character was cut in half
    continuation = [line for line in physical if line.startswith(" ")]
    assert len(continuation) >= 3
    assert unescape(single(text, "DESCRIPTION")[1]) == description


def test_fold_never_splits_a_character_at_the_boundary() -> None:
    for prefix in range(70, 78):
        line = "D" * prefix + "ü€😀" * 30
        folded = fold(line)
        for part in folded.split("\r\n"):
            assert len(part.encode("utf-8")) <= 75
        assert folded.replace("\r\n ", "") == line
    assert fold("short") == "short"


def test_naive_datetimes_are_refused() -> None:
    naive = datetime(2024, 3, 5, 10, 0)
    with pytest.raises(ValueError, match="start"):
        invitation(start=naive)
    with pytest.raises(ValueError, match="end"):
        invitation(end=naive + timedelta(hours=1))
    with pytest.raises(ValueError, match="now"):
        invitation(now=naive)


def test_reversed_range_and_bad_addresses_are_refused() -> None:
    start = datetime(2024, 3, 5, 10, 0, tzinfo=BERLIN)
    with pytest.raises(ValueError, match="after"):
        invitation(start=start, end=start)
    with pytest.raises(ValueError, match="address"):
        invitation(attendees=[("Eve", "eve@x.example\r\nATTENDEE:mailto:mallory@x.example")])
    with pytest.raises(ValueError, match="address"):
        invitation(organizer=("Jana", "not-an-address"))


def test_default_stamp_is_now_in_utc() -> None:
    before = datetime.now(timezone.utc).replace(microsecond=0)
    stamp = single(invitation(now=None), "DTSTAMP")[1]
    parsed = datetime.strptime(stamp, "%Y%m%dT%H%M%SZ").replace(tzinfo=timezone.utc)
    assert before <= parsed <= datetime.now(timezone.utc)
