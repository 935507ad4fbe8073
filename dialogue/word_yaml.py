"""YAML for the word lists a company edits, read the way people write them.

PyYAML follows YAML 1.1, where `yes`, `no`, `on`, `off`, `y` and `n` are booleans and
`NO` (Norway) is false: a word list `[ja, yes, no, nein]` would hold `True` and
`False`. `load_words` reads YAML 1.2's way instead: only `true` and `false` are
booleans, every other plain word stays a word. Safe loading otherwise.
"""

from __future__ import annotations

import re
from typing import Any

import yaml

_BOOL = "tag:yaml.org,2002:bool"


class WordsLoader(yaml.SafeLoader):
    """SafeLoader without YAML 1.1's yes/no/on/off booleans."""


WordsLoader.yaml_implicit_resolvers = {
    first: [(tag, pattern) for tag, pattern in resolvers if tag != _BOOL]
    for first, resolvers in yaml.SafeLoader.yaml_implicit_resolvers.items()
}
WordsLoader.add_implicit_resolver(
    _BOOL, re.compile(r"^(?:true|True|TRUE|false|False|FALSE)$"), list("tTfF")
)


def load_words(text: str) -> Any:
    """The YAML document in `text`; raises `yaml.YAMLError` like `yaml.safe_load`."""
    return yaml.load(text, Loader=WordsLoader)  # noqa: S506 - a SafeLoader subclass
