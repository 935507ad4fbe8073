"""Which channels are on (ops/channel_credentials.py): a channel whose every variable is
set; the file Rasa gets keeps the ${...} references, so no secret is written to disk."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from lotse.settings import ROOT
from ops.channel_credentials import CredentialsError, enabled, short_name, write_enabled

TELEGRAM = {"TELEGRAM_TOKEN": "7123:abc", "TELEGRAM_BOT_NAME": "nordwerk_bot",
            "TELEGRAM_WEBHOOK_URL": "https://bot.example/webhooks/telegram/webhook",
            "TELEGRAM_SECRET_TOKEN": "s3cret"}  # fmt: skip


def test_with_no_variables_only_the_website_is_on(tmp_path: Path) -> None:
    target = tmp_path / "credentials.yml"
    assert write_enabled(ROOT / "credentials.yml", target, {}) == ["website"]
    assert list(yaml.safe_load(target.read_text())) == ["bot.channels.rest.LotseRestInput"]


def test_a_channel_is_on_when_all_its_variables_are_set_and_keeps_the_references(
    tmp_path: Path,
) -> None:
    target = tmp_path / "credentials.yml"
    assert write_enabled(ROOT / "credentials.yml", target, TELEGRAM) == ["website", "telegram"]
    written = target.read_text()
    assert "${TELEGRAM_TOKEN}" in written and "7123:abc" not in written and "s3cret" not in written
    partly = {k: v for k, v in TELEGRAM.items() if k != "TELEGRAM_SECRET_TOKEN"}
    assert write_enabled(ROOT / "credentials.yml", target, partly) == ["website"]
    blank = {**TELEGRAM, "TELEGRAM_SECRET_TOKEN": "  "}
    assert write_enabled(ROOT / "credentials.yml", target, blank) == ["website"]


def test_every_shipped_channel_can_be_switched_on(tmp_path: Path) -> None:
    channels = yaml.safe_load((ROOT / "credentials.yml").read_text())
    environ = {name: "x" for name in _variables(channels)}
    names = [short_name(c) for c in enabled(channels, environ)]
    assert names == ["website", "telegram", "facebook", "twilio", "slack", "botframework"]


def test_a_malformed_file_is_a_clear_error(tmp_path: Path) -> None:
    bad = tmp_path / "bad.yml"
    bad.write_text("- just\n- a list\n")
    with pytest.raises(CredentialsError, match="expected channel classes"):
        write_enabled(bad, tmp_path / "out.yml", {})


def _variables(channels: dict) -> set[str]:
    from ops.channel_credentials import referenced

    return set().union(*(referenced(v) for v in channels.values()))
