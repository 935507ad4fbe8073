"""The console's language over real HTTP (issue 22, item 1): the catalogues are served
to anyone (the login page needs them), a staff member's setting is stored with the
login and told by /me, changed only with the CSRF token, and the insights dashboard
speaks it, else the browser's Accept-Language. The walk through every page in a
German browser: tests/e2e/test_console_german.py."""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path

import pytest
import requests

from console.i18n import translator
from lotse.settings import ROOT
from tests.support.console_client import PASSWORD, add_users, console_server, logged_in
from wiring.services import services_for


def error_templates() -> list[str]:
    """The templates console/static/api.js translates the server's messages with values by."""
    source = (ROOT / "console" / "static" / "api.js").read_text(encoding="utf-8")
    block = re.search(r"const ERROR_TEMPLATES = \[(.*?)\];", source, re.DOTALL)
    assert block is not None
    return re.findall(r'N_\("((?:[^"\\]|\\.)*)"\)', block.group(1))


def fits(template: str, text: str) -> bool:
    """Whether `text` is `template` filled (api.js's matchTemplate, in Python)."""
    pattern = re.sub(r"\\\{(\w+)\\\}", "(.+?)", re.escape(template))
    return re.fullmatch(pattern, text, re.DOTALL) is not None


@pytest.fixture(scope="module")
def console(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    url = f"sqlite:///{tmp_path_factory.mktemp('language') / 'lotse.db'}"
    add_users(url)
    with console_server(url) as base:
        yield base


def test_the_catalogues_are_public_json(console: str) -> None:
    german = requests.get(f"{console}/console/locale/de.json", timeout=10)
    assert german.status_code == 200 and german.json()["language"] == "de"
    assert german.json()["messages"]["Log in"] == "Anmelden"
    english = requests.get(f"{console}/console/locale/en.json", timeout=10).json()
    assert english == {"language": "en", "messages": {}}  # the msgids are the English
    for wrong in ("fr.json", "de", "de.po", "..%2Fde.json"):
        assert requests.get(f"{console}/console/locale/{wrong}", timeout=10).status_code == 404


def test_the_setting_is_stored_told_and_needs_the_csrf_token(console: str) -> None:
    anna = logged_in(console, "anna")
    assert anna.get("/console/api/me").json()["language"] is None  # the browser's
    assert anna.put("/console/api/me/language", {"language": "de"}).json() == {"language": "de"}
    assert anna.get("/console/api/me").json()["language"] == "de"
    again = logged_in(console, "anna")  # a new session: the setting stays with the login
    assert again.get("/console/api/me").json()["language"] == "de"
    assert anna.put("/console/api/me/language", {"language": "fr"}).status_code == 422
    assert anna.put("/console/api/me/language", {"language": None}).json() == {"language": None}
    assert anna.get("/console/api/me").json()["language"] is None
    forged = requests.put(
        f"{console}/console/api/me/language", json={"language": "en"}, timeout=10,
        headers={"Cookie": f"lotse_console={anna.cookie}"},
    )  # fmt: skip
    assert forged.status_code == 403
    assert requests.put(f"{console}/console/api/me/language", json={"language": "de"},
                        timeout=10).status_code == 401  # fmt: skip


def test_changing_the_language_keeps_the_sessions(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'sessions.db'}"
    add_users(url)
    auth = services_for(url).staff
    session = auth.login("jonas", "correct horse battery", "127.0.0.1")
    auth.set_language("jonas", "en")
    assert auth.session(session.token).language == "en"
    assert auth.user("jonas").language == "en"
    with pytest.raises(ValueError, match="language"):
        auth.set_language("jonas", "fr")


def test_the_dashboard_speaks_the_setting_else_the_browser(console: str) -> None:
    admin = logged_in(console, "admin")
    page = requests.get(f"{console}/console/insights", timeout=30, headers={
        **admin.headers(False), "Accept-Language": "de-AT,de;q=0.9"})  # fmt: skip
    # Without the insights service this console answers 503, in the reader's language.
    if page.status_code == 503:
        assert "Die Auswertungen sind nicht verfügbar." in page.text
    else:
        assert page.status_code == 200 and '<html lang="de">' in page.text
        assert "Vom Bot gelöst" in page.text and "Containment rate</span>" not in page.text
    assert admin.put("/console/api/me/language", {"language": "en"}).ok
    page = requests.get(f"{console}/console/insights", timeout=30, headers={
        **admin.headers(False), "Accept-Language": "de-DE"})  # fmt: skip
    if page.status_code == 503:
        assert "The insights are not available." in page.text
    else:
        assert '<html lang="en">' in page.text and "Containment rate</span>" in page.text
    anna = logged_in(console, "anna")
    refused = requests.get(f"{console}/console/insights", timeout=30, headers={
        **anna.headers(False), "Accept-Language": "de-CH"})  # fmt: skip
    assert refused.status_code == 403 and "Nur Admins" in refused.text


def test_the_servers_refusals_with_values_fit_a_template_of_the_catalogue(console: str) -> None:
    # The console shows these as their template's translation (api.js, translateError).
    admin = logged_in(console, "admin")
    answer = {"title": {"de": "Leer", "en": "Empty"}, "text": {"de": "Hallo", "en": "Hello"}}
    refusals = [
        admin.post("/console/api/users", {"username": "neu", "password": "kurz", "role": "agent"}),
        admin.post("/console/api/users", {"username": "anna", "password": PASSWORD,
                                          "role": "agent"}),
        admin.post("/console/api/privacy/export", {"phone": "+49 " + "1" * 70}),
        admin.put("/console/api/canned-responses/leer",
                  {**answer, "title": {"de": " ", "en": "Empty"}}),
        admin.put("/console/api/canned-responses/leer",
                  {**answer, "text": {"de": "Hallo {visitor_name}", "en": "Hello {price}"}}),
    ]  # fmt: skip
    templates, german = error_templates(), translator("de").messages
    for refused in refusals:
        message = refused.json()["error"]
        assert 400 <= refused.status_code < 500, message
        fitting = [template for template in templates if fits(template, message)]
        assert len(fitting) == 1 and fitting[0] in german, message
