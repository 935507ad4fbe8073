"""Reading a YAML file a company edits, so that every mistake names its line.

`NodeReader` walks PyYAML's node tree (which keeps line numbers) instead of loaded
Python values; each model loader (`crm_adapter.scoring_model`, `handoff.routing_model`)
subclasses it with the readers its file needs and its own error class. Pure Python.
"""

from __future__ import annotations

from pathlib import Path

import yaml
from yaml.nodes import MappingNode, Node, ScalarNode

LANGUAGES = ("de", "en")
NUMBER_TAGS = ("tag:yaml.org,2002:int", "tag:yaml.org,2002:float")


def number_value(node: Node) -> object:
    """The int or float a scalar node holds (plain, or tagged `!!int`/`!!float`), else None.

    Other tags (`!!bool 1`, `!x 3`) are no number; a number tag on something that is
    none (`!!int abc`, `!!int ''`) or more digits than Python converts is None too."""
    if not isinstance(node, ScalarNode) or node.tag not in NUMBER_TAGS:
        return None
    try:
        return yaml.safe_load(yaml.serialize(node))
    except (ValueError, IndexError):  # PyYAML's int/float constructors on a bad value
        return None


def shown(node: Node) -> str:
    """A node as an error message shows it: its value, or its kind."""
    return repr(node.value) if isinstance(node, ScalarNode) else f"a {node.tag.split(':')[-1]}"


class NodeReader:
    """Walks the YAML node tree so every error can name its line."""

    error: type[ValueError] = ValueError

    def __init__(self, path: Path) -> None:
        self.path = path

    def root(self, text: str) -> Node:
        """The file's top node; an error naming the line for invalid YAML or an empty file."""
        try:
            root = yaml.compose(text)
        except yaml.YAMLError as error:
            mark = getattr(error, "problem_mark", None)
            line = f":{mark.line + 1}" if mark is not None else ""
            raise self.error(f"{self.path}{line}: not valid YAML ({error})") from error
        if root is None:
            raise self.error(f"{self.path}: the file is empty")
        return root

    def fail(self, node: Node | None, message: str) -> ValueError:
        line = f":{node.start_mark.line + 1}" if node is not None else ""
        return self.error(f"{self.path}{line}: {message}")

    def mapping(self, node: Node, what: str, keys: set[str] | None = None) -> dict[str, Node]:
        if not isinstance(node, MappingNode):
            raise self.fail(node, f"{what} must be a mapping of keys to values")
        result: dict[str, Node] = {}
        for key_node, value_node in node.value:
            key = str(key_node.value)
            if keys is not None and key not in keys:
                allowed = ", ".join(sorted(keys))
                raise self.fail(key_node, f"unknown key '{key}' in {what} (allowed: {allowed})")
            if key in result:
                raise self.fail(key_node, f"'{key}' appears twice in {what}")
            result[key] = value_node
        return result

    def require(self, parent: Node, items: dict[str, Node], key: str, what: str) -> Node:
        if key not in items:
            raise self.fail(parent, f"{what} needs '{key}'")
        return items[key]

    def text(self, node: Node, what: str) -> str:
        if not isinstance(node, ScalarNode) or not str(node.value).strip():
            raise self.fail(node, f"{what} must be a text, not {shown(node)}")
        return str(node.value).strip()

    def integer(self, node: Node, what: str, low: int = 0, high: int | None = None) -> int:
        value = number_value(node)
        if not isinstance(value, int) or isinstance(value, bool):
            raise self.fail(node, f"{what} must be a whole number, not {shown(node)}")
        if value < low or (high is not None and value > high):
            limit = f"{low}-{high}" if high is not None else f">= {low}"
            raise self.fail(node, f"{what} must be {limit}, not {value}")
        return value

    def labels(self, node: Node, what: str) -> dict[str, str]:
        """A text per language (`de` and `en`)."""
        items = self.mapping(node, what, set(LANGUAGES))
        missing = [lang for lang in LANGUAGES if lang not in items]
        if missing:
            raise self.fail(node, f"{what} needs a text for {', '.join(missing)}")
        return {lang: self.text(items[lang], f"{what}.{lang}") for lang in LANGUAGES}
