"""The scoring model file, fit and interest scores and their explanation lines."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone
from pathlib import Path

import pytest

from crm_adapter.scoring import FitFacts, InterestEvent, fit_score, interest_score
from crm_adapter.scoring_model import (
    SCORING_FILE,
    ScoringModelError,
    load_scoring_model,
    parse_scoring_model,
)

MODEL = load_scoring_model()
NOW = datetime(2026, 11, 25, 12, 0, tzinfo=timezone.utc)


def test_the_shipped_model_has_the_demo_company_figures() -> None:
    bands = {band.describe(): band.points for band in MODEL.fit.size_bands}
    assert bands == {
        "50-70": 100,
        "25-49": 50,
        "71-100": 75,
        "101-500": 60,
        ">= 501": 40,
        "<= 24": 10,
    }
    assert MODEL.fit.industry_points == {
        "metalworking": 100,
        "automotive_supplier": 100,
        "mechanical_engineering": 100,
        "other_manufacturing": 60,
    }
    assert MODEL.fit.industry_otherwise == 10
    assert MODEL.fit.role_points["owner_md"] == 100
    assert MODEL.fit.role_points["engineer"] == 60
    assert MODEL.fit.role_points["student"] == 0
    assert {"DE", "AT", "CH", "NL", "BE", "LU", "DK", "SE", "NO", "FI"} <= MODEL.fit.service_area
    points = {key: kind.points for key, kind in MODEL.interest.events.items()}
    assert points == {
        "asked_price": 15,
        "asked_delivery_time": 10,
        "asked_case_study": 15,
        "requested_demo": 30,
        "requested_callback": 25,
        "short_timeline": 20,
        "returning_visitor": 10,
        "opened_software_trial": 20,
    }
    assert (MODEL.interest.cap, MODEL.interest.decay_after_days) == (100, 30)
    assert MODEL.interest.decay_factor == 0.5
    assert (MODEL.mql.fit, MODEL.mql.interest, MODEL.sql.fit, MODEL.sql.interest) == (
        60,
        30,
        75,
        60,
    )


@pytest.mark.parametrize(
    ("employees", "points"),
    [
        (1, 10),
        (24, 10),
        (25, 50),
        (49, 50),
        (50, 100),
        (60, 100),
        (70, 100),
        (71, 75),
        (100, 75),
        (101, 60),
        (500, 60),
        (501, 40),
        (10_000, 40),
    ],
)
def test_company_size_bands(employees: int, points: int) -> None:
    assert fit_score(MODEL, FitFacts(employees=employees)).value == points


def test_bielefeld_metalworking_managing_director_fits_100() -> None:
    facts = FitFacts(employees=60, industry="metalworking", role="owner_md", country="DE")
    score = fit_score(MODEL, facts)
    assert score.value == 100
    assert [line.text(MODEL.fit.labels[line.attribute]["en"]) for line in score.lines] == [
        "company size 60 (50-70): 100",
        "industry metalworking (listed): 100",
        "role owner_md (listed): 100",
        "region DE (service area): 100",
    ]


def test_fit_is_the_average_of_what_is_known() -> None:
    assert fit_score(MODEL, FitFacts()).value is None
    assert fit_score(MODEL, FitFacts(employees=30, industry="retail")).value == 30
    assert fit_score(MODEL, FitFacts(role="engineer", country="US")).value == 30
    # A role the model does not list does not count at all.
    assert fit_score(MODEL, FitFacts(employees=60, role="other")).value == 100


def test_interest_adds_points_and_caps() -> None:
    kinds = [
        "asked_price",
        "requested_demo",
        "requested_callback",
        "short_timeline",
        "asked_case_study",
        "opened_software_trial",
    ]
    events = [
        InterestEvent(kind, NOW - timedelta(minutes=10 - i), "c1") for i, kind in enumerate(kinds)
    ]
    score = interest_score(MODEL, events, NOW)
    assert score.value == 100
    assert [round(line.total) for line in score.lines] == [15, 45, 70, 90, 100, 100]
    assert score.lines[-1].change == 0


def test_a_kind_counts_once_per_conversation() -> None:
    events = [InterestEvent("asked_price", NOW - timedelta(minutes=m), "c1") for m in (3, 2)]
    events.append(InterestEvent("asked_price", NOW - timedelta(minutes=1), "c2"))
    assert interest_score(MODEL, events, NOW).value == 30


def test_interest_halves_after_30_quiet_days() -> None:
    start = NOW - timedelta(days=65)
    events = [
        InterestEvent("requested_demo", start, "c1"),
        InterestEvent("requested_callback", start, "c1"),
    ]
    score = interest_score(MODEL, events, NOW)
    assert score.value == 14  # 55 halved twice (two full 30-day periods)
    assert score.lines[-1].kind is None and score.lines[-1].total == pytest.approx(13.75)
    assert interest_score(MODEL, events, start + timedelta(days=29)).value == 55


def test_a_new_event_after_a_quiet_period_adds_to_the_decayed_score() -> None:
    events = [
        InterestEvent("requested_demo", NOW - timedelta(days=31), "c1"),
        InterestEvent("asked_price", NOW, "c2"),
    ]
    assert interest_score(MODEL, events, NOW).value == 30  # 30 / 2 + 15


def test_unknown_event_kinds_add_nothing() -> None:
    assert interest_score(MODEL, [InterestEvent("waved", NOW, "c1")], NOW).value == 0


def broken(tmp_path: Path, old: str, new: str) -> str:
    text = SCORING_FILE.read_text(encoding="utf-8")
    assert old in text
    path = tmp_path / "scoring.yml"
    path.write_text(text.replace(old, new, 1), encoding="utf-8")
    with pytest.raises(ScoringModelError) as error:
        parse_scoring_model(path.read_text(encoding="utf-8"), path)
    return str(error.value)


def line_of(old: str) -> int:
    lines = SCORING_FILE.read_text(encoding="utf-8").splitlines()
    return next(number for number, line in enumerate(lines, 1) if old in line)


@pytest.mark.parametrize(
    ("old", "new", "message"),
    [
        ("metalworking: 100", "metalworking: hundert", "must be a whole number, not 'hundert'"),
        ("other_manufacturing: 60", "other_manufacturing: 160", "must be 0-100, not 160"),
        ("  industry:\n", "  industri:\n", "unknown key 'industri' in fit"),
        ("asked_price: {points: 15", "asked_price: {pionts: 15", "unknown key 'pionts'"),
        ("{min: 71, max: 100, points: 75}", "{min: 65, max: 100, points: 75}", "overlaps"),
        ("factor: 0.5", "factor: 2", "between 0 and 1"),
        (
            "marketing_qualified_lead: {fit: 60, interest: 30}",
            "marketing_qualified_lead: {fit: 60}",
            "needs 'interest'",
        ),
        ("inside: [DE,", "inside: [Deutschland,", "not a two-letter country code"),
    ],
)
def test_a_mistake_names_its_line(tmp_path: Path, old: str, new: str, message: str) -> None:
    error = broken(tmp_path, old, new)
    assert message in error
    assert f"scoring.yml:{line_of(old.splitlines()[0])}:" in error


def test_broken_yaml_and_an_empty_file_are_reported(tmp_path: Path) -> None:
    assert "not valid YAML" in broken(tmp_path, "fit:\n", "fit: [\n")
    with pytest.raises(ScoringModelError, match="empty"):
        parse_scoring_model("", tmp_path / "scoring.yml")
