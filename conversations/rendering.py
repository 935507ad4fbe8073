"""How one bot message looks on each messenger: parts within the platform's limits.

A bot message is a text and optional buttons. `render` turns it into the list of
`Part`s a channel wrapper sends one by one: the text split so that every part fits the
platform's message length, and the buttons either as native buttons on the last part
or, where the platform has none (or fewer than the message needs), as a numbered menu
in the text. `chosen_payload` maps a visitor's reply to such a menu back to the payload.

Lengths are counted in UTF-16 code units, the strictest count any of these platforms
uses: an emoji outside the Basic Multilingual Plane counts 2. Parts are cut between
user-perceived characters (extended grapheme clusters, Unicode UAX #29, via the
`regex` module pinned in requirements.lock), so no emoji with a skin tone or a
zero-width joiner sequence, and no letter with a combining mark, is ever torn apart.
The one exception: a single cluster longer than the whole limit is cut between code
points, because the limit is a hard one.

Pure functions on immutable values; no I/O, no Rasa. Text is returned exactly as given
(no Unicode normalisation, no escaping): escaping for a platform's markup is the
sender's job. Bot texts may carry slot values a visitor gave (a name, a company), so
callers keep rendered parts out of logs like any other conversation text.
"""

from __future__ import annotations

import re
from bisect import bisect_right
from collections.abc import Iterator
from dataclasses import dataclass

import regex

ELLIPSIS = "…"
# Bounds for raw buttons from the domain; `render` shortens titles further per platform.
MAX_TITLE_UNITS = 200
# A payload is an intent with a little JSON; cutting one would trigger the wrong intent,
# so longer payloads are dropped. 1000 stays below Slack's 2000-character button value.
MAX_PAYLOAD_CHARS = 1000
# Replies longer than this are not menu choices; bounds the work done on visitor text.
MAX_REPLY_CHARS = 200

_CLUSTER = regex.compile(r"\X")
# Break candidates in order of preference, each with the group whose start is the cut.
# Spaces that forbid a line break (no-break, figure, narrow no-break) are not breaks.
_BREAKS = (
    re.compile(r"(\r?\n)[^\S\n]*\n"),  # paragraph: a blank line
    re.compile(r"(\r?\n)"),  # line break
    re.compile(r"[.!?…][\"'»«“”’)\]]*()(?=\s)"),  # sentence end (cut after the mark)
    re.compile(r"([^\S\xa0\u2007\u202f])"),  # any other breaking space
)
_MENU_CHOICE = re.compile(r"\s*([0-9]{1,3})\s*[.)]?\s*")


@dataclass(frozen=True)
class Button:
    title: str
    payload: str


@dataclass(frozen=True)
class ChannelLimits:
    """What one message may hold on a platform.

    text_units: the longest text of one message, in UTF-16 code units.
    max_buttons: how many native buttons one message may carry; 0 = none.
    button_title_units: the longest button title, in UTF-16 code units.
    payload_bytes: the longest payload in UTF-8 bytes, if the platform has a limit
        small enough to matter; a message with a longer payload gets a numbered menu.
    """

    text_units: int
    max_buttons: int
    button_title_units: int
    payload_bytes: int | None = None


@dataclass(frozen=True)
class Part:
    text: str
    buttons: tuple[Button, ...] = ()


LIMITS: dict[str, ChannelLimits] = {
    # sendMessage text "1-4096 characters after entities parsing" and
    # InlineKeyboardButton callback_data "1-64 bytes" (core.telegram.org/bots/api).
    # The Bot API documents no count or title length for inline buttons: 8 and 64 are
    # our choice, enough for a menu that still fits a phone screen.
    "telegram": ChannelLimits(
        text_units=4096, max_buttons=8, button_title_units=64, payload_bytes=64
    ),
    # Quick replies: "up to 13 buttons", titles "up to 20 characters before being
    # truncated" (developers.facebook.com, Messenger/Instagram quick replies). 2000 is
    # the Send API's text limit as our brief states it; not re-checked against a copy.
    "facebook": ChannelLimits(text_units=2000, max_buttons=13, button_title_units=20),
    # Messages API body "up to 1600 characters", emoji counting as several
    # (twilio.com/docs/api/errors/21617, 14103). The plain Messages API sends no
    # WhatsApp buttons, so every menu is numbered text.
    "twilio": ChannelLimits(text_units=1600, max_buttons=0, button_title_units=0),
    # Section block text "maximum length ... 3000 characters" (api.slack.com/reference/
    # block-kit/blocks#section); actions block up to 25 elements and button text up to
    # 75 characters (Block Kit limits, as encoded by slackblocks and python-slack-sdk
    # PR #1253). 10 buttons is our choice: 25 is a wall of buttons, not a question.
    "slack": ChannelLimits(text_units=3000, max_buttons=10, button_title_units=75),
    # Teams: the bot message size limit is on the whole payload encoded as UTF-16, 40 KB
    # and later about 100 KB (learn.microsoft.com, "Format your bot messages"); about
    # 28 KB per the Teams connector docs. 4000 units keeps a part readable. Up to 6 hero
    # card buttons and 50-unit titles are the figures of our brief: the stored Teams
    # cards reference did not state a button count, so 6 is unconfirmed here.
    "botframework": ChannelLimits(text_units=4000, max_buttons=6, button_title_units=50),
}


def utf16_units(text: str) -> int:
    """Length of `text` in UTF-16 code units: 2 for a code point above U+FFFF, else 1."""
    # surrogatepass: a lone surrogate (malformed input) counts 1 instead of raising.
    return len(text.encode("utf-16-le", "surrogatepass")) // 2


def buttons_from(raw: list[dict] | None) -> tuple[Button, ...]:
    """Buttons from Rasa's raw button dicts, skipping any without a usable title and payload.

    Titles and payloads are stripped; a title over MAX_TITLE_UNITS is shortened with "…",
    a payload over MAX_PAYLOAD_CHARS drops its button (a cut payload would be a wrong one).
    """
    buttons = []
    for entry in raw or ():
        if not isinstance(entry, dict):
            continue
        title, payload = entry.get("title"), entry.get("payload")
        if not isinstance(title, str) or not isinstance(payload, str):
            continue
        title, payload = title.strip(), payload.strip()
        if title and payload and len(payload) <= MAX_PAYLOAD_CHARS:
            buttons.append(Button(shorten(title, MAX_TITLE_UNITS), payload))
    return tuple(buttons)


def render(text: str, buttons: tuple[Button, ...], limits: ChannelLimits) -> list[Part]:
    """The parts to send for one bot message, in order; none is empty.

    Every part's text fits `limits.text_units`. Buttons the platform can carry go on the
    last part with shortened titles; that part's text is empty only when the message had
    no text, and the sender must then supply what its platform needs. Otherwise the
    buttons become a numbered menu (see `numbered_menu`) after the text, in a part of its
    own if it does not fit. A message without text or buttons yields no parts.
    """
    parts = split_text(text, limits.text_units)
    if not buttons:
        return [Part(part) for part in parts]
    if _fits_natively(buttons, limits):
        native = tuple(
            Button(shorten(button.title, limits.button_title_units), button.payload)
            for button in buttons
        )
        last = parts.pop() if parts else ""
        return [Part(part) for part in parts] + [Part(last, native)]
    return [Part(part) for part in _with_menu(parts, numbered_menu(buttons), limits.text_units)]


def numbered_menu(buttons: tuple[Button, ...]) -> str:
    """The buttons as lines "1. Title", "2. Title", ... for platforms without buttons."""
    return "\n".join(f"{number}. {button.title}" for number, button in enumerate(buttons, 1))


def chosen_payload(reply: str, buttons: tuple[Button, ...]) -> str | None:
    """The payload of the button a visitor chose by replying to a numbered menu.

    Accepts the button's number ("2", " 2 ", "2.", "2)") or its exact title, compared
    case-insensitively; anything else, including 0 and numbers past the menu, is None.
    """
    if len(reply) > MAX_REPLY_CHARS:
        return None
    number = _MENU_CHOICE.fullmatch(reply)
    if number:
        index = int(number.group(1))
        return buttons[index - 1].payload if 1 <= index <= len(buttons) else None
    wanted = reply.strip().casefold()
    for button in buttons:
        if button.title.strip().casefold() == wanted:
            return button.payload
    return None


def shorten(text: str, max_units: int) -> str:
    """`text` if it fits `max_units`, else its longest whole-character prefix plus "…"."""
    if utf16_units(text) <= max_units:
        return text
    if max_units < 1:
        raise ValueError(f"max_units must be at least 1, not {max_units}")
    kept, used = [], utf16_units(ELLIPSIS)
    for atom in _atoms(text, max(max_units - used, 1)):
        used += utf16_units(atom)
        if used > max_units:
            break
        kept.append(atom)
    return "".join(kept).rstrip() + ELLIPSIS


def split_text(text: str, max_units: int) -> list[str]:
    """`text` cut into stripped, non-empty pieces of at most `max_units` UTF-16 units.

    Each cut is at the last paragraph break, else line break, else sentence end, else
    space that leaves the piece at least half full; failing that, at the last break of
    any kind; failing that, inside a word, between two characters.
    """
    if max_units < 2:  # below 2 a character outside the BMP could never fit
        raise ValueError(f"max_units must be at least 2, not {max_units}")
    atoms = _atoms(text, max_units)
    offsets, units = [0], [0]
    for atom in atoms:
        offsets.append(offsets[-1] + len(atom))
        units.append(units[-1] + utf16_units(atom))
    return list(_pieces(text, atoms, offsets, units, max_units))


def _pieces(
    text: str, atoms: list[str], offsets: list[int], units: list[int], max_units: int
) -> Iterator[str]:
    boundary = {offset: index for index, offset in enumerate(offsets)}
    start = 0
    while True:
        while start < len(atoms) and atoms[start].isspace():
            start += 1
        if start == len(atoms):
            return
        if units[-1] - units[start] <= max_units:
            end = len(atoms)
        else:
            furthest = bisect_right(units, units[start] + max_units) - 1
            end = _cut(text, offsets, units, boundary, start, furthest)
        piece = atoms[start:end]
        while piece[-1].isspace():
            piece.pop()
        yield "".join(piece)
        start = end


def _cut(
    text: str,
    offsets: list[int],
    units: list[int],
    boundary: dict[int, int],
    start: int,
    furthest: int,
) -> int:
    """Index of the atom before which the piece starting at atom `start` ends."""
    half_full = units[start] + (units[furthest] - units[start]) // 2
    candidates = []
    for pattern in _BREAKS:
        cuts = [
            boundary[match.start(1)]
            for match in pattern.finditer(
                text, offsets[start], min(offsets[furthest] + 1, len(text))
            )
            if match.start(1) in boundary and start < boundary[match.start(1)] <= furthest
        ]
        if cuts and units[cuts[-1]] >= half_full:
            return cuts[-1]
        candidates.extend(cuts)
    return max(candidates, default=furthest)


def _atoms(text: str, max_units: int) -> list[str]:
    """The grapheme clusters of `text`, any cluster longer than `max_units` cut in code points."""
    atoms: list[str] = []
    for cluster in _CLUSTER.findall(text):
        if 2 * len(cluster) <= max_units or utf16_units(cluster) <= max_units:
            atoms.append(cluster)
            continue
        chunk = ""
        for char in cluster:
            if chunk and utf16_units(chunk + char) > max_units:
                atoms.append(chunk)
                chunk = ""
            chunk += char
        atoms.append(chunk)
    return atoms


def _fits_natively(buttons: tuple[Button, ...], limits: ChannelLimits) -> bool:
    if not 0 < len(buttons) <= limits.max_buttons:
        return False
    if limits.payload_bytes is None:
        return True
    # surrogatepass: as in `utf16_units`, a lone surrogate is counted, not raised on.
    return all(
        len(button.payload.encode("utf-8", "surrogatepass")) <= limits.payload_bytes
        for button in buttons
    )


def _with_menu(parts: list[str], menu: str, max_units: int) -> list[str]:
    if parts:
        joined = f"{parts[-1]}\n\n{menu}"
        if utf16_units(joined) <= max_units:
            return parts[:-1] + [joined]
    return parts + split_text(menu, max_units)
