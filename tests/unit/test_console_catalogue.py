"""The console's translation catalogues (console/locale/<lang>/LC_MESSAGES/console.po).

Both catalogues hold the same msgids; every German msgstr is filled and keeps the
msgid's {placeholders}; and every text the code looks up is in them: each t("...")
and N_("...") literal of console/static/*.js, each `data-i18n` text and translated
attribute of console.html, and each catalogue lookup of the Python that renders for
staff (say(...), texts(...), gettext(...) with a literal, found with `ast`). The
Python side's reading (placeholders filled, Accept-Language, formats) is tested here
too.
"""

from __future__ import annotations

import ast
import re
from datetime import datetime
from pathlib import Path

import pytest
from babel.messages.pofile import read_po

from console.i18n import LOCALE, translator
from lotse.translations import from_accept_language, placeholders

ROOT = Path(__file__).resolve().parents[2]
STATIC = ROOT / "console" / "static"
# The Python modules whose words are the console's catalogue, and the names they call it by.
PYTHON_SOURCES = (
    "insights/dashboard_page.py",
    "insights/charts.py",
    "console/insights.py",
    "insights/filters.py",
    "insights/scoring_feedback.py",
    "console/lead_card.py",
    "console/routes/canned.py",
    "console/routes/privacy.py",
    "crm_adapter/explanation.py",
)
LOOKUPS = {"say", "texts", "gettext", "N_", "FilterError"}
JS_LITERAL = re.compile(r"""\b(?:t|N_)\(\s*(?:"((?:[^"\\]|\\.)*)"|'((?:[^'\\]|\\.)*)')""")
JS_COMMENT = re.compile(r"^\s*//.*$", re.MULTILINE)


def catalogue(language: str) -> dict[str, str]:
    with (LOCALE / language / "LC_MESSAGES" / "console.po").open("rb") as file:
        return {str(m.id): str(m.string) for m in read_po(file) if m.id}


def js_unescape(text: str) -> str:
    return re.sub(r"\\(.)", r"\1", text)


def js_msgids() -> dict[str, str]:
    found: dict[str, str] = {}
    for file in sorted(STATIC.glob("*.js")):
        source = JS_COMMENT.sub("", file.read_text(encoding="utf-8"))
        for match in JS_LITERAL.finditer(source):
            found.setdefault(js_unescape(match.group(1) or match.group(2) or ""), file.name)
    return found


def html_msgids() -> set[str]:
    html = (STATIC / "console.html").read_text(encoding="utf-8")
    texts = {
        m.group(1).strip()
        for m in re.finditer(r"<\w+[^>]*\sdata-i18n(?=[\s>])[^>]*>([^<]*)<", html)
    }
    for tag in re.finditer(r"<[^>]*data-i18n-attrs=\"([^\"]*)\"[^>]*>", html):
        for name in tag.group(1).split():
            value = re.search(rf'\s{re.escape(name)}="([^"]*)"', tag.group(0))
            if value:
                texts.add(value.group(1))
    return texts


def python_msgids() -> dict[str, str]:
    found: dict[str, str] = {}
    for name in PYTHON_SOURCES:
        tree = ast.parse((ROOT / name).read_text(encoding="utf-8"))
        for node in ast.walk(tree):
            if not isinstance(node, ast.Call) or not node.args:
                continue
            func = node.func
            called = func.id if isinstance(func, ast.Name) else (
                func.attr if isinstance(func, ast.Attribute) else ""
            )  # fmt: skip
            first = node.args[0]
            if (
                called in LOOKUPS
                and isinstance(first, ast.Constant)
                and isinstance(first.value, str)
            ):
                found.setdefault(first.value, name)
    return found


def test_both_catalogues_hold_the_same_msgids() -> None:
    german, english = catalogue("de"), catalogue("en")
    assert sorted(set(german) - set(english)) == []
    assert sorted(set(english) - set(german)) == []


def test_every_german_text_is_filled_and_keeps_the_placeholders() -> None:
    german = catalogue("de")
    assert [msgid for msgid, text in german.items() if not text.strip()] == []
    assert [
        msgid for msgid, text in german.items() if placeholders(msgid) != placeholders(text)
    ] == []


def test_english_texts_are_the_msgids_or_keep_their_placeholders() -> None:
    for msgid, text in catalogue("en").items():
        assert not text or placeholders(text) == placeholders(msgid), msgid


def test_every_text_of_the_console_page_and_scripts_is_in_the_catalogue() -> None:
    german = catalogue("de")
    used = js_msgids()
    assert len(used) > 200  # the scan finds the console's texts at all
    assert sorted(f"{file}: {msgid}" for msgid, file in used.items() if msgid not in german) == []
    assert sorted(html_msgids() - set(german)) == []


def test_every_catalogue_lookup_in_python_is_in_the_catalogue() -> None:
    german = catalogue("de")
    used = python_msgids()
    assert "Containment rate" in used and "No data" in used
    assert sorted(f"{file}: {msgid}" for msgid, file in used.items() if msgid not in german) == []


def test_no_english_text_is_left_in_a_script_outside_t() -> None:
    # A text node or attribute set from a plain English literal would escape the catalogue.
    plain = re.compile(
        r"""(?:text|placeholder|title|"aria-label"|label):\s*"([A-Z][a-z]+[^"]*)\""""
    )
    left = []
    for file in sorted(STATIC.glob("*.js")):
        for match in plain.finditer(JS_COMMENT.sub("", file.read_text(encoding="utf-8"))):
            left.append(f"{file.name}: {match.group(1)}")
    assert left == []


def test_the_python_side_translates_fills_and_formats() -> None:
    german, english = translator("de"), translator("en")
    assert german("Nobody is waiting right now.") == "Gerade wartet niemand."
    assert german("Transferred to {target}.", target="Anna") == "Weitergegeben an Anna."
    assert english("Transferred to {target}.", target="Anna") == "Transferred to Anna."
    assert german("a text no catalogue has") == "a text no catalogue has"
    assert german.percent(0.4567) == "45,7\u00a0%" and german.number(1234.5, 1) == "1.234,5"
    assert german.datetime(datetime(2026, 12, 7, 14, 5)) == "07.12.2026 14:05"
    assert english.datetime(datetime(2026, 12, 7, 14, 5)) == "2026-12-07 14:05"


@pytest.mark.parametrize(
    ("header", "language"),
    [
        ("de-DE,de;q=0.9,en;q=0.8", "de"),
        ("de-AT", "de"),
        ("de-CH, en;q=0.5", "de"),
        ("en-US,en;q=0.9,de;q=0.8", "en"),
        ("fr-FR, de;q=0.7", "de"),
        ("fr-FR", "en"),
        ("", "en"),
        (None, "en"),
        ("de;q=0, en", "en"),
        ("garbage;;q=x", "en"),
    ],
)
def test_the_browser_language_is_german_for_every_german_tag(header, language) -> None:
    assert from_accept_language(header) == language


def test_an_unknown_channel_in_the_dashboards_filter_is_worded_a_named_one_is_data() -> None:
    from insights.dashboard_page import _options

    german = _options("channel", "unknown", ["rest", "unknown"], translator("de"))
    assert '<option value="unknown" selected>unbekannt</option>' in german
    assert '<option value="rest">rest</option>' in german
    english = _options("language", None, ["unknown"], translator("en"))
    assert '<option value="unknown">unknown</option>' in english


def test_the_lead_cards_answers_are_shown_in_the_staff_members_words() -> None:
    from console.i18n import wording
    from console.lead_card import shown_answer

    german, english = wording(translator("de")), wording(translator("en"))
    values = {
        "need": {"product_line": "presses", "purpose": "Pressen"},
        "employees": {"count": 80, "low": 80, "high": 80, "band": "medium"},
        "industry": {"key": "metalworking", "nace_section": "C", "nace_division": "25"},
        "role": {"key": "owner_md"},
        "location": {"country": "DE", "postal_code": "33602", "town": "Bielefeld"},
        "timeline": {"months": 3},
        "budget": {"value": 100000, "currency": "EUR"},
        "company": {"name": "Müller GmbH", "legal_form": "GmbH"},
    }
    assert {key: shown_answer(key, value, german) for key, value in values.items()} == {
        "need": "Pressen", "employees": "80", "industry": "Metallverarbeitung",
        "role": "Inhaber/Geschäftsführung", "location": "DE 33602 Bielefeld",
        "timeline": "3 Monate", "budget": "100.000 EUR", "company": "Müller GmbH",
    }  # fmt: skip
    assert shown_answer("industry", values["industry"], english) == "metalworking"
    assert shown_answer("budget", values["budget"], english) == "100,000 EUR"
    assert shown_answer("timeline", {"months": 1}, german) == "1 Monat"
    # The visitor's own words where the bot kept them; a range; a shape unknown here.
    assert shown_answer("need", {"product_line": "other", "purpose": "Entgraten"}) == "Entgraten"
    assert shown_answer("role", {"key": "other", "words": "Prokurist"}, german) == "Prokurist"
    assert shown_answer("employees", {"count": 75, "low": 50, "high": 100}) == "50–100"
    assert shown_answer("industry", "metalworking", german) is None


def test_the_fit_lines_word_the_rule_and_the_value_in_the_language() -> None:
    from types import SimpleNamespace

    from console.i18n import wording
    from crm_adapter.explanation import fit_explanation
    from crm_adapter.scoring import FitFacts, fit_score
    from crm_adapter.scoring_model import load_scoring_model

    model = load_scoring_model()
    facts = FitFacts(employees=80, industry="metalworking", role="owner_md", country="DE")
    scores = SimpleNamespace(fit=fit_score(model, facts))
    german = fit_explanation(model, scores, wording(translator("de")))  # type: ignore[arg-type]
    assert "Branche Metallverarbeitung (in der Liste): 100" in german
    assert "Funktion Inhaber/Geschäftsführung (in der Liste): 100" in german
    assert "Region DE (im Liefergebiet): 100" in german
    english = fit_explanation(model, scores)  # type: ignore[arg-type]
    assert "industry metalworking (listed): 100" in english


def test_the_dashboards_scoring_rules_are_worded_in_the_language() -> None:
    from console.i18n import wording
    from crm_adapter.scoring_model import load_scoring_model
    from insights.dashboard_page import _scoring_section
    from insights.scoring_feedback import (
        Judged,
        band_report,
        model_rules,
        rule_report,
        rule_words,
    )

    model = load_scoring_model()
    judged = [Judged("accept", 94, 0, frozenset({"industry metalworking", "region service area",
                                                  "interest asked_price"}))]  # fmt: skip
    scoring = {"verdicts": 1, "bands": band_report(model, judged),
               "rules": rule_report(judged, model_rules(model))}  # fmt: skip
    german = translator("de")
    page = _scoring_section(scoring, german, rule_words(model, wording(german)))
    for worded in ("Branche Metallverarbeitung", "Region im Liefergebiet",
                   "Interesse: nach dem Preis gefragt"):  # fmt: skip
        assert worded in page
    assert "industry" not in page and "metalworking" not in page
    english = rule_words(model, wording(translator("en")))
    assert set(english) == set(model_rules(model))
    assert english["industry metalworking"] == "industry metalworking"


def test_what_visitors_wrote_on_the_dashboard_is_marked_as_data() -> None:
    from insights.dashboard_page import _unanswered_section

    unanswered = {
        "total": 3, "with_text": 2, "without_consent": 1,
        "by_kind": [{"kind": "document_question", "count": 3}],
        "clusters": [{"label": "paint colour", "count": 2,
                      "texts": [{"text": "What colour <b>are</b> the presses?", "count": 2}]}],
    }  # fmt: skip
    page = _unanswered_section(unanswered, translator("de"))
    assert '<span translate="no">paint colour</span>' in page
    assert '<span translate="no">What colour &lt;b&gt;are&lt;/b&gt; the presses? (2)</span>' in page
    assert re.search(r'<text [^>]*translate="no"[^>]*>paint colour</text>', page)
    assert "Fragen, die der Bot nicht beantworten konnte" in page  # the page's own text


def test_every_step_of_the_qualification_funnel_is_worded_in_german() -> None:
    from insights.report import question_order

    german = translator("de")
    assert [step for step in question_order() if german(step) == step] == []
