"""Prepared answers for the staff console (`bot/data/canned_responses.yml`): loaded,
checked, rendered and written back. Pure Python apart from reading and writing the file.

`load_canned_responses(path)` reads the file; every mistake raises
`CannedResponsesError` (a ValueError) naming the file, its line and the entry: an
unknown key, a missing language, a text too long, a placeholder that is not one of
`PLACEHOLDERS`. `parse_response(key, title, text)` checks one entry an admin sends the
same way (`CannedResponsesError` naming the entry). `save_canned_responses` writes the
whole file atomically (a temporary file in the same folder, then a rename): a reader
sees the old file or the new one, never half of one. Not safe against two writers in
different processes at once; the last rename wins.

Placeholders: `{visitor_name}`, `{company}`, `{product}`, `{agent_name}` and nothing
else. A brace around something that looks like a name (`{price}`, `{visitor_name.__class__}`,
`{0}`, `{name!r}`) is refused when the file is loaded, so no text ever reaches a
format-string engine; other braces (`{}`, `{ a, b }`) are kept as written.
`render(template, values)` replaces the placeholders in one pass with a regular
expression (no `str.format`, no attribute access); a value missing or empty makes the
placeholder empty and takes the space before it along ("Hello {visitor_name}," ->
"Hello,"). The console's `canned.js` renders the same way in the browser, where the
conversation's data is.

Personal data: none in the file; a rendered text holds the visitor's name and company,
for the agent's reply box only, never for logs.
"""

from __future__ import annotations

import os
import re
import stat
import tempfile
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

import yaml
from yaml.nodes import Node, SequenceNode

from lotse.yaml_model import LANGUAGES, NodeReader

CANNED_FILE = Path(__file__).resolve().parents[1] / "bot" / "data" / "canned_responses.yml"
PLACEHOLDERS = ("visitor_name", "company", "product", "agent_name")
KEY = re.compile(r"^[a-z0-9_]{1,40}$")
# Anything in braces that starts like a name, number or field: a placeholder or refused.
FIELD = re.compile(r"\{([A-Za-z0-9_][^{}\s]*)\}")
PLACEHOLDER = re.compile(r"( ?)\{(" + "|".join(PLACEHOLDERS) + r")\}")
# Control characters but tab and newline, and lone surrogates (JSON can carry them).
CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f-\x9f\ud800-\udfff]")
MAX_RESPONSES = 100
MAX_PRODUCTS = 20
MAX_TITLE_CHARS = 80
MAX_TEXT_CHARS = 2000  # the console's reply box
MAX_VALUE_CHARS = 200
MAX_FILE_BYTES = 256 * 1024
HEADER = """\
# Prepared answers for the staff console: an agent types "/" at the start of the
# reply box, picks one, and its text lands in the reply box (it is not sent by itself).
# Admins edit them in the console too, which rewrites this file: it keeps this header
# and drops other comments.
# Placeholders in braces are filled from what the console knows of the conversation,
# and left empty when it knows nothing (the agent reads the text before sending it):
# {visitor_name} the lead's name, {company} the lead's company, {product} the product
# line the lead named (its name from `products`), {agent_name} the agent's own name.
# Other braces with a name in them ("{price}", "{name.x}") are refused.
"""


class CannedResponsesError(ValueError):
    """The prepared answers are not usable; the message names the file or the entry."""


@dataclass(frozen=True)
class CannedResponse:
    key: str
    title: dict[str, str]  # by language
    text: dict[str, str]  # by language, with placeholders


@dataclass(frozen=True)
class CannedResponses:
    responses: tuple[CannedResponse, ...]
    products: dict[str, dict[str, str]]  # product line -> its name by language

    def as_json(self) -> dict[str, object]:
        return {
            "responses": [{"key": r.key, "title": r.title, "text": r.text} for r in self.responses],
            "products": self.products,
            "placeholders": list(PLACEHOLDERS),
        }

    def replaced(self, response: CannedResponse) -> CannedResponses:
        """These answers with `response` added, or replacing the one with its key."""
        kept = [r if r.key != response.key else response for r in self.responses]
        if all(r.key != response.key for r in self.responses):
            if len(kept) >= MAX_RESPONSES:
                raise CannedResponsesError(f"at most {MAX_RESPONSES} prepared answers")
            kept.append(response)
        return CannedResponses(tuple(kept), self.products)

    def without(self, key: str) -> CannedResponses:
        """These answers without `key`; KeyError when there is none."""
        if all(r.key != key for r in self.responses):
            raise KeyError(f"no prepared answer {key!r}")
        return CannedResponses(tuple(r for r in self.responses if r.key != key), self.products)


def check_text(text: str, where: str, limit: int = MAX_TEXT_CHARS) -> str:
    """`text` stripped, if it is within `limit` and names only known placeholders."""
    text = text.strip()
    if not text:
        raise CannedResponsesError(f"{where} must not be empty")
    if len(text) > limit:
        raise CannedResponsesError(f"{where} has {len(text)} characters (at most {limit})")
    if CONTROL.search(text):
        raise CannedResponsesError(f"{where} holds a control character")
    for found in FIELD.finditer(text):
        if found.group(1) not in PLACEHOLDERS:
            allowed = ", ".join("{" + p + "}" for p in PLACEHOLDERS)
            raise CannedResponsesError(
                f"{where}: unknown placeholder {found.group(0)!r} (allowed: {allowed})"
            )
    return text


def parse_response(key: object, title: object, text: object) -> CannedResponse:
    """One prepared answer as an admin sends it (JSON), checked like the file's."""
    if not isinstance(key, str) or not KEY.match(key):
        raise CannedResponsesError("the key must be 1-40 characters: a-z, 0-9, _")
    where = f"prepared answer {key!r}"
    return CannedResponse(key, _by_language(title, f"{where}: title", MAX_TITLE_CHARS),
                          _by_language(text, f"{where}: text", MAX_TEXT_CHARS))  # fmt: skip


def _by_language(value: object, where: str, limit: int) -> dict[str, str]:
    if not isinstance(value, dict) or set(value) != set(LANGUAGES):
        raise CannedResponsesError(f"{where} needs exactly a text for de and en")
    texts = {}
    for lang in LANGUAGES:
        if not isinstance(value[lang], str):
            raise CannedResponsesError(f"{where}.{lang} must be a text")
        texts[lang] = check_text(value[lang], f"{where}.{lang}", limit)
    return texts


def render(template: str, values: Mapping[str, object]) -> str:
    """`template` with its placeholders filled from `values` (text, bounded); a missing
    or empty value leaves the placeholder empty and drops the space before it. Never
    fails on the values; other braces stay as they are."""

    def fill(found: re.Match[str]) -> str:
        value = values.get(found.group(2))
        shown = " ".join(str(value).split())[:MAX_VALUE_CHARS] if value is not None else ""
        return found.group(1) + shown if shown else ""

    return PLACEHOLDER.sub(fill, template)


class _Reader(NodeReader):
    error = CannedResponsesError

    def text_within(self, node: Node, what: str, limit: int) -> str:
        try:
            return check_text(self.text(node, what), what, limit)
        except CannedResponsesError as bad:
            if str(bad).startswith(str(self.path)):
                raise
            raise self.fail(node, str(bad)) from None

    def languages(self, node: Node, what: str, limit: int) -> dict[str, str]:
        items = self.mapping(node, what, set(LANGUAGES))
        missing = [lang for lang in LANGUAGES if lang not in items]
        if missing:
            raise self.fail(node, f"{what} needs a text for {', '.join(missing)}")
        return {lang: self.text_within(items[lang], f"{what}.{lang}", limit) for lang in LANGUAGES}


def load_canned_responses(path: Path = CANNED_FILE) -> CannedResponses:
    """The prepared answers of `path`; CannedResponsesError naming the file, line and
    entry for any mistake (also a missing or oversized file)."""
    reader = _Reader(path)
    try:
        raw = path.read_bytes()
    except OSError as error:
        raise CannedResponsesError(f"{path}: cannot be read ({error.strerror})") from None
    if len(raw) > MAX_FILE_BYTES:
        raise CannedResponsesError(f"{path}: larger than {MAX_FILE_BYTES} bytes")
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError:
        raise CannedResponsesError(f"{path}: not UTF-8 text") from None
    root = reader.root(text)
    # The list is "answers", not "responses": Rasa reads every YAML file under bot/data
    # and takes one with "responses" for a domain (`rasa data validate` fails on it).
    top = reader.mapping(root, "the file", {"version", "products", "answers"})
    if "version" in top:
        reader.integer(top["version"], "version", 1, 1)
    products: dict[str, dict[str, str]] = {}
    if "products" in top:
        for line, node in reader.mapping(top["products"], "products").items():
            if not KEY.match(line):
                raise reader.fail(node, f"product line {line!r} must be a-z, 0-9, _")
            products[line] = reader.labels(node, f"products.{line}")
        if len(products) > MAX_PRODUCTS:
            raise reader.fail(top["products"], f"at most {MAX_PRODUCTS} products")
    listed = reader.require(root, top, "answers", "the file")
    if not isinstance(listed, SequenceNode):
        raise reader.fail(listed, "answers must be a list")
    if len(listed.value) > MAX_RESPONSES:
        raise reader.fail(listed, f"at most {MAX_RESPONSES} prepared answers")
    responses: list[CannedResponse] = []
    for position, node in enumerate(listed.value, start=1):
        items = reader.mapping(node, f"response {position}", {"key", "title", "text"})
        key = reader.text(reader.require(node, items, "key", f"response {position}"), "key")
        if not KEY.match(key):
            raise reader.fail(items["key"], f"key {key!r} must be 1-40 characters: a-z, 0-9, _")
        if any(r.key == key for r in responses):
            raise reader.fail(items["key"], f"key {key!r} appears twice")
        where = f"response '{key}'"
        title = reader.require(node, items, "title", where)
        body = reader.require(node, items, "text", where)
        responses.append(CannedResponse(
            key, reader.languages(title, f"{where}: title", MAX_TITLE_CHARS),
            reader.languages(body, f"{where}: text", MAX_TEXT_CHARS),
        ))  # fmt: skip
    return CannedResponses(tuple(responses), products)


def save_canned_responses(answers: CannedResponses, path: Path = CANNED_FILE) -> None:
    """Writes `answers` to `path` atomically, after reading the new file back: it must
    load as `answers` (else CannedResponsesError). OSError when the folder cannot be
    written. On any error the old file stays."""
    document = {
        "version": 1,
        "products": answers.products,
        "answers": [{"key": r.key, "title": r.title, "text": r.text} for r in answers.responses],
    }
    text = HEADER + yaml.safe_dump(document, allow_unicode=True, sort_keys=False, width=100)
    handle, temporary = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        if path.exists():  # mkstemp's file is the owner's only; keep the file's mode
            os.chmod(temporary, stat.S_IMODE(path.stat().st_mode))
        with os.fdopen(handle, "w", encoding="utf-8") as file:
            file.write(text)
            file.flush()
            os.fsync(file.fileno())
        if load_canned_responses(Path(temporary)) != answers:  # never a file that reads wrong
            raise CannedResponsesError(f"{path}: the answers would not read back as saved")
        os.replace(temporary, path)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise
