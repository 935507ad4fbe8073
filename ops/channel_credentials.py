"""Which input channels are on: those whose every `${VARIABLE}` is set in the environment.

`credentials.yml` lists every channel Lotse has, with its credentials as environment
variable references (`${TELEGRAM_TOKEN}`). A channel whose variables are not all set
(and non-empty) is simply off: `write_enabled` copies the sections that are on to the
file Rasa is started with, references unexpanded, so Rasa reads the secrets from the
environment and none is written to disk. A channel without variables (the website's
REST channel) is always on.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import yaml

VARIABLE = re.compile(r"\$\{([A-Za-z_][A-Za-z0-9_]*)\}")


class CredentialsError(ValueError):
    """credentials.yml is not a mapping of channel classes to their settings."""


def referenced(settings: object) -> set[str]:
    """The environment variables a channel's settings name."""
    if isinstance(settings, str):
        return set(VARIABLE.findall(settings))
    if isinstance(settings, Mapping):
        return set().union(*(referenced(v) for v in settings.values()))
    if isinstance(settings, list):
        return set().union(*(referenced(v) for v in settings))
    return set()


def enabled(channels: Mapping[str, Any], environ: Mapping[str, str]) -> dict[str, Any]:
    return {
        name: settings
        for name, settings in channels.items()
        if all(environ.get(variable, "").strip() for variable in referenced(settings))
    }


def read_channels(path: Path) -> dict[str, Any]:
    loaded = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
    if not isinstance(loaded, dict) or not all(isinstance(k, str) for k in loaded):
        raise CredentialsError(f"{path}: expected channel classes mapped to their settings")
    return loaded


def write_enabled(source: Path, target: Path, environ: Mapping[str, str]) -> list[str]:
    """Writes the channels that are on to `target`; returns their short names."""
    channels = enabled(read_channels(source), environ)
    target.parent.mkdir(parents=True, exist_ok=True)
    target.write_text(yaml.safe_dump(channels, sort_keys=False), encoding="utf-8")
    return [short_name(name) for name in channels]


def short_name(channel_class: str) -> str:
    """`bot.channels.telegram.LotseTelegramInput` -> `telegram`; `...rest...` -> `website`."""
    module = channel_class.rsplit(".", 2)[-2] if channel_class.count(".") >= 2 else channel_class
    return "website" if module == "rest" else module
