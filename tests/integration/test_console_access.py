"""Who reads a conversation in the console (issue 18): only through a handoff that is
theirs now. An agent who handed a conversation back, closed it or passed it on reads
nothing more through the old handoff id (later messages, the bot's transcript, the
lead card, notes); the one who has it now does; admins read everything. Over real HTTP
against the console's server; the rule itself is `handoff.ownership.may_read`
(tested alone in test_handoff_desk.py)."""

from __future__ import annotations

from collections.abc import Iterator
from zoneinfo import ZoneInfo

import pytest
import requests

from crm_adapter.port import Visit
from handoff.desk import Ask, Desk
from handoff.routing import RoutingRequest
from handoff.routing_model import load_routing_model
from handoff.store import HandoffStore
from handoff.texts import load_handoff_texts
from lotse.migrate import migrated_engine
from tests.conftest import set_clock
from tests.integration.test_console_api import TUESDAY_10
from tests.support.console_client import Staff, add_users, console_server, logged_in
from wiring.services import services_for

BERLIN = ZoneInfo("Europe/Berlin")
LATER = "Meine Nummer ist übrigens die 0151 2345678"


@pytest.fixture(scope="module")
def database(tmp_path_factory: pytest.TempPathFactory) -> str:
    url = f"sqlite:///{tmp_path_factory.mktemp('access') / 'lotse.db'}"
    add_users(url)  # on the schema as `lotse run` brings it up
    return url


@pytest.fixture(scope="module")
def base(database: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    clock = tmp_path_factory.mktemp("clock") / "clock"
    set_clock(clock, TUESDAY_10)
    with console_server(database, {"LOTSE_TEST_CLOCK_FILE": str(clock)}) as url:
        yield url


@pytest.fixture
def desk(database: str) -> Desk:
    store = HandoffStore(migrated_engine(database))
    return Desk(store, load_routing_model(), load_handoff_texts(), clock=lambda: TUESDAY_10)


def waiting(desk: Desk, conversation: str, lead_id: int | None) -> int:
    ask = Ask(conversation, "visitor_asked", RoutingRequest(language="de"), "rest", None, lead_id)
    return desk.request(ask).handoff.id  # type: ignore[union-attr]


def reads(staff: Staff, handoff_id: int) -> dict[str, int]:
    """What each way of reading a handoff answers `staff` (status codes)."""
    path = f"/console/api/handoffs/{handoff_id}"
    return {
        "detail": staff.get(path).status_code,  # transcript, bot part, lead card, notes
        "lead_card": staff.post(
            f"{path}/answers", {"attribute": "employees", "text": "80"}
        ).status_code,
        "note": staff.post(f"{path}/notes", {"text": "noch etwas"}).status_code,
        "reply": staff.post(f"{path}/messages", {"text": "noch etwas"}).status_code,
        "verdict": staff.post(
            f"{path}/close", {"outcome": "lead_rejected", "lead_verdict": "reject", "reason": "x"}
        ).status_code,
    }


def refused(answers: dict[str, int]) -> bool:
    return all(status in (403, 404) for status in answers.values())


def test_an_agent_who_handed_back_reads_nothing_more_through_the_old_id(
    base: str, desk: Desk, database: str
) -> None:
    lead = services_for(database).crm.lead_for(Visit("web-former", "rest", None, "de"))
    first = waiting(desk, "web-former", lead.lead_id)
    anna, jonas, admin = (logged_in(base, name) for name in ("anna", "jonas", "admin"))
    assert anna.post(f"/console/api/handoffs/{first}/claim").ok
    mine = anna.get(f"/console/api/handoffs/{first}")
    assert mine.status_code == 200 and mine.json()["lead"]["lead_id"] == lead.lead_id
    assert anna.post(f"/console/api/handoffs/{first}/hand-back").ok

    second = waiting(desk, "web-former", lead.lead_id)  # the visitor asks again; Jonas takes it
    assert second != first
    assert jonas.post(f"/console/api/handoffs/{second}/claim").ok
    desk.store.add_message("web-former", "visitor", LATER, second)

    answers = reads(anna, first)
    assert refused(answers), answers
    assert anna.get(f"/console/api/handoffs/{second}").status_code == 403
    assert first not in {h["id"] for h in anna.get("/console/api/queue").json()["handoffs"]}
    assert LATER not in anna.get(f"/console/api/handoffs/{first}").text

    detail = jonas.get(f"/console/api/handoffs/{second}")
    assert detail.status_code == 200
    assert LATER in [line["text"] for line in detail.json()["transcript"]]
    assert detail.json()["lead"]["lead_id"] == lead.lead_id
    assert jonas.post(f"/console/api/handoffs/{second}/answers",
                      {"attribute": "employees", "text": "80"}).status_code == 200  # fmt: skip
    assert jonas.get(f"/console/api/handoffs/{first}").status_code == 403  # not his old one
    assert admin.get(f"/console/api/handoffs/{first}").status_code == 200  # admins: all


def test_after_a_close_or_a_transfer_the_former_assignee_reads_nothing(
    base: str, desk: Desk, database: str
) -> None:
    anna, nina = logged_in(base, "anna"), logged_in(base, "nina")
    lead = services_for(database).crm.lead_for(Visit("web-closed", "rest", None, "de"))
    closed = waiting(desk, "web-closed", lead.lead_id)
    assert anna.post(f"/console/api/handoffs/{closed}/claim").ok
    assert anna.post(f"/console/api/handoffs/{closed}/close", {"outcome": "resolved"}).ok
    answers = reads(anna, closed)
    assert refused(answers), answers

    moved = waiting(desk, "web-moved", None)
    assert anna.post(f"/console/api/handoffs/{moved}/claim").ok
    assert anna.post(f"/console/api/handoffs/{moved}/transfer", {"staff_id": "nina"}).ok
    assert anna.get(f"/console/api/handoffs/{moved}").status_code == 403
    assert nina.get(f"/console/api/handoffs/{moved}").status_code == 200


def test_the_change_feed_carries_only_event_ids(base: str) -> None:
    anna = logged_in(base, "anna")
    with requests.get(f"{base}/console/api/events", headers=anna.headers(False), stream=True,
                      timeout=30) as stream:  # fmt: skip
        lines = []
        for line in stream.iter_lines(decode_unicode=True):
            lines.append(line)
            if line.startswith("data:"):
                break
    assert lines[0] == "event: change" and lines[1].removeprefix("data: ").isdigit()
