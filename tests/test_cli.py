"""The `lotse` command line, as an operator runs it."""

from __future__ import annotations

import subprocess
import sys

import pytest

from lotse import cli


def test_help_lists_the_commands():
    result = subprocess.run(
        [sys.executable, "-m", "lotse.cli", "--help"], capture_output=True, text=True, timeout=120
    )
    assert result.returncode == 0
    for command in ("build", "train", "run", "eval", "handoffs"):
        assert command in result.stdout


def test_a_bad_setting_is_named_and_exits_2(monkeypatch, capsys):
    monkeypatch.setenv("LOTSE_WEB_PORT", "eighty")
    assert cli.main(["handoffs"]) == 2
    assert "LOTSE_WEB_PORT must be a TCP port number" in capsys.readouterr().err


def test_broken_content_is_reported_not_raised(monkeypatch, capsys, tmp_path):
    from bot import content

    broken = tmp_path / "faq.yml"
    broken.write_text("topics:\n  warranty: {title: {de: Garantie}}\n", encoding="utf-8")
    monkeypatch.setattr(content, "CONTENT_FILE", broken)
    monkeypatch.setattr("lotse.build.load_content", lambda: content.load_content(broken))
    assert cli.main(["build"]) == 2
    assert "topics.warranty.title: the 'en' text is missing" in capsys.readouterr().err


def test_handoffs_lists_recorded_requests(capsys):
    from handoff.requests import HandoffRequest, HandoffRequests, make_engine
    from lotse.settings import load_settings

    store = HandoffRequests(make_engine(load_settings().database_url))
    store.record(HandoffRequest("web-abc", "out_of_depth", "en", "rest", "presses"))
    assert cli.main(["handoffs"]) == 0
    line = capsys.readouterr().out.strip()
    assert "out_of_depth" in line and "web-abc" in line and "presses" in line


def test_unknown_command_is_a_usage_error():
    with pytest.raises(SystemExit) as exit_:
        cli.main(["frobnicate"])
    assert exit_.value.code == 2
