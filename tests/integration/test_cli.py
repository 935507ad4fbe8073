"""The `lotse` command line, as an operator runs it."""

from __future__ import annotations

import subprocess
import sys

import pytest

from ops import cli


def test_help_lists_the_commands():
    result = subprocess.run(
        [sys.executable, "-m", "ops.cli", "--help"], capture_output=True, text=True, timeout=120
    )
    assert result.returncode == 0
    for command in ("build", "train", "run", "eval", "handoffs"):
        assert command in result.stdout


def test_a_bad_setting_is_named_and_exits_2(monkeypatch, capsys):
    monkeypatch.setenv("LOTSE_WEB_PORT", "eighty")
    assert cli.main(["handoffs"]) == 2
    assert "LOTSE_WEB_PORT must be a TCP port number" in capsys.readouterr().err


def test_broken_content_is_reported_not_raised(monkeypatch, capsys, tmp_path):
    from dialogue import content

    broken = tmp_path / "faq.yml"
    broken.write_text("topics:\n  warranty: {title: {de: Garantie}}\n", encoding="utf-8")
    monkeypatch.setattr(content, "CONTENT_FILE", broken)
    monkeypatch.setattr("ops.build.load_content", lambda: content.load_content(broken))
    assert cli.main(["build"]) == 2
    assert "topics.warranty.title: the 'en' text is missing" in capsys.readouterr().err


def test_handoffs_lists_open_and_recent_handoffs(capsys):
    from datetime import timedelta

    from handoff.store import NewHandoff
    from lotse.settings import load_settings
    from wiring.services import services_for

    store = services_for(load_settings().database_url).handoffs
    store.request(
        NewHandoff("web-abc", "out_of_depth", "en", "service", "service", timedelta(minutes=2),
                   "rest", "presses", rule="technical_service")
    )  # fmt: skip
    assert cli.main(["handoffs"]) == 0
    line = capsys.readouterr().out.strip()
    for shown in ("waiting", "out_of_depth", "service", "technical_service", "web-abc"):
        assert shown in line


def test_unknown_command_is_a_usage_error():
    with pytest.raises(SystemExit) as exit_:
        cli.main(["frobnicate"])
    assert exit_.value.code == 2


HEAVY = ("rasa", "tensorflow", "spacy", "thinc")


def loaded(modules: tuple[str, ...]) -> str:
    """A script that runs `lotse` with its arguments and prints which of `modules` it
    loaded."""
    return (
        "import sys\n"
        "from ops.cli import main\n"
        "try:\n"
        "    code = main(sys.argv[1:])\n"
        "except SystemExit as done:\n"
        "    code = done.code\n"
        f"print(sorted(m for m in {modules!r} if m in sys.modules))\n"
        "sys.exit(code)\n"
    )


LOADED = loaded(HEAVY)


@pytest.mark.parametrize("argv", [["--help"], ["leads", "list"], ["staff", "list"],
                                  ["deliveries", "dead"], ["leads", "--help"]])  # fmt: skip
def test_commands_that_need_no_model_load_no_rasa_spacy_or_tensorflow(argv) -> None:
    result = subprocess.run([sys.executable, "-c", LOADED, *argv], capture_output=True,
                            text=True, timeout=120)  # fmt: skip
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip().splitlines()[-1] == "[]", result.stdout
    assert "Traceback" not in result.stderr


def test_leads_list_on_sqlite_loads_no_postgresql_dialect_phone_plans_or_uuid():
    """Issue 21's start under 0.5 s: on SQLite, `lotse leads list` loads neither
    SQLAlchemy's PostgreSQL dialect nor libphonenumber's tables nor `uuid` (together 9 %
    of its instructions)."""
    unwanted = ("sqlalchemy.dialects.postgresql", "phonenumbers", "uuid")
    for _run in ("creates the schema", "finds it at head"):  # the migrations load both
        result = subprocess.run([sys.executable, "-c", loaded(unwanted), "leads", "list"],
                                capture_output=True, text=True, timeout=120)  # fmt: skip
        assert result.returncode == 0, result.stderr
    assert result.stdout.strip().splitlines()[-1] == "[]", result.stdout


def test_the_terminal_shows_no_third_party_warnings(tmp_path) -> None:
    """`lotse --help` and `lotse leads list` as an operator types them: nothing on stderr
    (no TensorFlow start-up lines, no libraries' deprecation warnings)."""
    import os

    env = {k: v for k, v in os.environ.items()
           if k not in ("TF_CPP_MIN_LOG_LEVEL", "PYTHONWARNINGS")}  # fmt: skip
    for argv in (["--help"], ["leads", "list"]):
        result = subprocess.run([sys.executable, "-m", "ops.cli", *argv], capture_output=True,
                                text=True, timeout=120, env=env)  # fmt: skip
        assert result.returncode == 0, result.stderr
        assert result.stderr == "", result.stderr


def test_the_banner_names_the_workers_health_ports() -> None:
    import argparse

    from lotse.settings import load_settings

    settings = load_settings({"LOTSE_OPS_PORT": "9300", "LOTSE_RASA_PORT": "5005"})
    embedded, scaled = argparse.Namespace(scaled=False), argparse.Namespace(scaled=True)
    assert cli.worker_ports(embedded, settings, delivering=False) == ""
    assert cli.worker_ports(embedded, settings, delivering=True) == (
        " (CRM delivery worker: port 9301)")
    assert cli.worker_ports(scaled, settings, delivering=False) == (
        " (event consumer: port 9300; HAProxy's stats: http://127.0.0.1:5004/)")
