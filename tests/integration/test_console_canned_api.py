"""The prepared answers over real HTTP: every logged-in staff member reads them, only
admins change them, a bad answer is a 422 naming the mistake, and what an admin saves
is in the file (LOTSE_CANNED_RESPONSES, a copy here) and read back. The loading and
rendering rules are tested in tests/unit/test_canned_responses.py."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
import requests

from handoff.canned_responses import CANNED_FILE, load_canned_responses
from tests.support.console_client import Staff, add_users, console_server, logged_in

PATH = "/console/api/canned-responses"
THANKS = {"title": {"de": "Dank", "en": "Thanks"},
          "text": {"de": "Danke, {visitor_name}!", "en": "Thank you, {visitor_name}!"}}  # fmt: skip


@pytest.fixture(scope="module")
def canned(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("canned") / "canned_responses.yml"
    path.write_bytes(CANNED_FILE.read_bytes())
    return path


@pytest.fixture(scope="module")
def base(canned: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    url = f"sqlite:///{tmp_path_factory.mktemp('canned_console') / 'lotse.db'}"
    add_users(url)
    with console_server(url, {"LOTSE_CANNED_RESPONSES": str(canned)}) as served:
        yield served


def delete(staff: Staff, path: str) -> requests.Response:
    return requests.delete(f"{staff.base}{path}", json={}, headers=staff.headers(), timeout=30)


def test_an_agent_lists_the_answers_with_their_placeholders(base: str):
    reply = logged_in(base, "anna").get(PATH)
    assert reply.status_code == 200, reply.text
    body = reply.json()
    keys = [answer["key"] for answer in body["responses"]]
    assert keys[:2] == ["greeting", "ask_phone"]
    assert body["placeholders"] == ["visitor_name", "company", "product", "agent_name"]
    assert body["products"]["presses"]["de"] == "NW-Press"
    assert requests.get(f"{base}{PATH}", timeout=30).status_code == 401


def test_an_admin_adds_changes_and_removes_an_answer_in_the_file(base: str, canned: Path):
    admin = logged_in(base, "admin")
    added = admin.put(f"{PATH}/thanks", THANKS)
    assert added.status_code == 200, added.text
    assert added.json()["responses"][-1] == {"key": "thanks", **THANKS}
    assert load_canned_responses(canned).responses[-1].text == THANKS["text"]

    changed = admin.put(f"{PATH}/thanks", {**THANKS, "title": {"de": "Danke", "en": "Thanks"}})
    assert changed.status_code == 200, changed.text
    assert [a["key"] for a in changed.json()["responses"]].count("thanks") == 1
    assert logged_in(base, "anna").get(PATH).json()["responses"][-1]["title"]["de"] == "Danke"

    removed = delete(admin, f"{PATH}/thanks")
    assert removed.status_code == 200, removed.text
    assert "thanks" not in [r.key for r in load_canned_responses(canned).responses]
    assert delete(admin, f"{PATH}/thanks").status_code == 404


def test_an_agent_may_not_change_the_answers(base: str, canned: Path):
    before = canned.read_bytes()
    anna = logged_in(base, "anna")
    assert anna.put(f"{PATH}/thanks", THANKS).status_code == 403
    assert delete(anna, f"{PATH}/greeting").status_code == 403
    assert canned.read_bytes() == before


@pytest.mark.parametrize(
    ("key", "body", "named"),
    [
        ("hack", {**THANKS, "text": {"de": "{visitor_name.__class__}", "en": "x"}},
         "unknown placeholder '{visitor_name.__class__}'"),
        ("price", {**THANKS, "text": {"de": "{price}", "en": "x"}},
         "unknown placeholder '{price}'"),
        ("half", {**THANKS, "title": {"de": "Nur deutsch"}}, "needs exactly a text for de and en"),
        ("empty", {**THANKS, "text": {"de": "  ", "en": "x"}}, "must not be empty"),
        ("long", {**THANKS, "text": {"de": "x" * 2001, "en": "x"}}, "at most 2000"),
        ("Bad-Key", THANKS, "the key must be"),
    ],
)  # fmt: skip
def test_a_bad_answer_is_refused_with_its_mistake(base: str, canned: Path, key, body, named):
    before = canned.read_bytes()
    reply = logged_in(base, "admin").put(f"{PATH}/{key}", body)
    assert reply.status_code == 422, reply.text
    assert named in reply.json()["error"]
    assert canned.read_bytes() == before
