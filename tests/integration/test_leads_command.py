"""`lotse leads list|show|accept|reject`, human and --json output, on the configured store."""

from __future__ import annotations

import json
import os

import pytest

from ops.cli import main
from tests.integration.test_recording import qualify
from wiring.services import forget, services_for

EMAIL = "anna@mueller-metall.example"


@pytest.fixture()
def seeded() -> None:
    qualify(services_for(os.environ["LOTSE_DATABASE_URL"]).crm)


def run_json(capsys: pytest.CaptureFixture[str], *argv: str) -> object:
    assert main(["leads", *argv, "--json"]) == 0
    return json.loads(capsys.readouterr().out)


def test_list_and_show(seeded: None, capsys: pytest.CaptureFixture[str]) -> None:
    [row] = run_json(capsys, "list")
    assert (row["email"].lower(), row["fit"], row["interest"], row["stage"]) == (
        EMAIL, 100, 35, "marketing_qualified_lead")  # fmt: skip
    assert row["answers"]["employees"]["value"]["count"] == 60
    assert run_json(capsys, "list", "--stage", "sales_qualified_lead") == []
    shown = run_json(capsys, "show", "ANNA@Mueller-Metall.example")
    assert shown["consent"]["version"] == "2026-11-01"
    assert "fit = average of 4 known attribute(s) = 100" in shown["explanation"]["fit"]
    assert main(["leads", "show", EMAIL]) == 0
    text = capsys.readouterr().out
    assert "stage marketing_qualified_lead   fit 100   interest 35" in text
    assert "company size 60 (50-70): 100" in text


def test_accept_then_reject_with_reasons(seeded: None, capsys: pytest.CaptureFixture[str]) -> None:
    accepted = run_json(
        capsys, "accept", EMAIL, "--reason", "called, real project", "--by", "Anna Becker"
    )
    assert accepted["stage"] == "sales_qualified_lead"
    rejected = run_json(capsys, "reject", EMAIL, "--reason", "no budget this year")
    assert rejected["stage"] == "lead"
    shown = run_json(capsys, "show", EMAIL)
    verdicts = [(f["decision"], f["reason"], f["fit"]) for f in shown["feedback"]]
    assert verdicts == [
        ("accept", "called, real project", 100),
        ("reject", "no budget this year", 100),
    ]
    events = [entry["event"] for entry in shown["timeline"]]
    assert "stage lead -> sales_qualified_lead" not in events
    assert any("rejected by sales: no budget this year" in event for event in events)


def test_unknown_email_and_empty_reason(seeded: None, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["leads", "show", "nobody@example.com"]) == 1
    assert "no lead" in capsys.readouterr().err
    assert main(["leads", "reject", EMAIL, "--reason", "   "]) == 2
    assert "--reason" in capsys.readouterr().err


def test_an_empty_store_lists_nothing(capsys: pytest.CaptureFixture[str]) -> None:
    assert run_json(capsys, "list") == []


def test_the_commands_work_against_postgresql(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    from tests.integration.test_crm_store import postgres_database

    with postgres_database() as url:
        monkeypatch.setenv("LOTSE_DATABASE_URL", url)
        qualify(services_for(url).crm)
        [row] = run_json(capsys, "list")
        assert (row["fit"], row["stage"]) == (100, "marketing_qualified_lead")
        assert run_json(capsys, "accept", EMAIL, "--reason", "met them")["stage"] == (
            "sales_qualified_lead"
        )
        forget()
