"""The handoff desk and store: ownership states, who may do what, races, timeouts.

Run on SQLite and on PostgreSQL (the scaled profile's store): a claim race between two
agents in two threads has exactly one winner on both.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from datetime import datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from handoff.desk import Actor, Ask, BadTarget, Desk, NotAllowed, Queued, Unavailable
from handoff.ownership import IllegalTransition, Reader, may_read, next_state
from handoff.routing import RoutingRequest
from handoff.routing_model import load_routing_model
from handoff.store import Conflict, HandoffStore, UnknownHandoff
from handoff.texts import load_handoff_texts
from lotse.migrate import migrated_engine
from tests.integration.test_crm_store import postgres_database

BERLIN = ZoneInfo("Europe/Berlin")
TUESDAY_10 = datetime(2026, 11, 24, 10, 0, tzinfo=BERLIN)
ANNA = Actor("anna", "agent", "anna")
JONAS = Actor("jonas", "agent", "jonas")
TIM = Actor("tim", "agent", "tim")
ADMIN = Actor("admin", "admin", None)


class Clock:
    def __init__(self, now: datetime) -> None:
        self.now = now

    def __call__(self) -> datetime:
        return self.now


class FakeBot:
    """Records which intents it was asked to act on; says one line each."""

    def __init__(self) -> None:
        self.triggered: list[tuple[str, str]] = []

    def trigger(self, conversation_id: str, intent: str) -> list[dict]:
        self.triggered.append((conversation_id, intent))
        return [{"text": f"bot after {intent}", "buttons": [{"title": "Ok", "payload": "/affirm"}]}]


@pytest.fixture(params=["sqlite", "postgresql"])
def store_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'handoff.db'}"
    else:
        with postgres_database() as url:
            yield url


@pytest.fixture
def clock() -> Clock:
    return Clock(TUESDAY_10)


@pytest.fixture
def bot() -> FakeBot:
    return FakeBot()


@pytest.fixture
def desk(store_url: str, clock: Clock, bot: FakeBot) -> Desk:
    store = HandoffStore(migrated_engine(store_url))
    return Desk(store, load_routing_model(), load_handoff_texts(), bot=bot, clock=clock)


def ask(conversation: str = "web-1", **routing: object) -> Ask:
    request = RoutingRequest(**{"language": "de", **routing})  # type: ignore[arg-type]
    return Ask(conversation, "visitor_asked", request, channel="rest", page="presses")


def queued(desk: Desk, conversation: str = "web-1", **routing: object) -> Queued:
    result = desk.request(ask(conversation, **routing))
    assert isinstance(result, Queued)
    return result


def online(desk: Desk, *staff: str) -> None:
    for staff_id in staff:
        desk.store.touch_presence(staff_id, "available", desk.clock())


def test_the_state_machine_allows_only_its_transitions():
    assert next_state("bot", "request") == "waiting"
    assert next_state("waiting", "claim") == "human"
    assert next_state("human", "hand_back") == "bot"
    assert next_state("human", "close") == "closed"
    assert next_state("human", "transfer") == "waiting"
    for state, event in (("bot", "claim"), ("human", "claim"), ("closed", "hand_back"),
                         ("waiting", "hand_back"), ("human", "cancel")):  # fmt: skip
        with pytest.raises(IllegalTransition):
            next_state(state, event)


def test_a_request_in_office_hours_is_routed_and_queued_with_position_and_wait(desk: Desk):
    online(desk, "anna")
    first = queued(desk, country="DE", postal_code="33602")
    assert first.handoff.assignee == "anna" and first.handoff.rule == "germany_0_3"
    assert (first.position, first.minutes) == (1, 2)
    assert "Anna, Vertrieb" in first.text
    second = queued(desk, "web-2")
    assert (second.position, second.minutes) == (2, 4)
    events = desk.store.events(first.handoff.id)
    assert [e.kind for e in events] == ["request"]


def test_outside_office_hours_nothing_is_queued(desk: Desk, clock: Clock):
    clock.now = datetime(2026, 12, 25, 10, 0, tzinfo=BERLIN)  # Christmas Day
    result = desk.request(ask(country="DE", postal_code="50667"))
    assert isinstance(result, Unavailable)
    assert result.person == "jonas" and desk.store.open_handoffs() == []
    assert result.next_opening == datetime(2026, 12, 28, 8, 0, tzinfo=BERLIN)
    assert "Mo 28.12. 8:00" in result.text


def test_the_queue_shows_each_agent_their_own_and_their_teams_unassigned(desk: Desk):
    online(desk, "anna")
    mine = queued(desk, "web-1", country="DE", postal_code="10115").handoff
    team = queued(desk, "web-2").handoff  # no facts: the sales team queue
    service = queued(desk, "web-3", need="service").handoff
    assert {h.id for h in desk.visible(ANNA)} == {mine.id, team.id}
    assert {h.id for h in desk.visible(JONAS)} == {team.id}
    assert {h.id for h in desk.visible(TIM)} == {service.id}
    assert {h.id for h in desk.visible(ADMIN)} == {mine.id, team.id, service.id}


def test_claim_reply_hand_back_and_the_bot_speaks_again(desk: Desk, bot: FakeBot):
    handoff = queued(desk).handoff
    claimed = desk.claim(handoff.id, JONAS)
    assert (claimed.state, claimed.assignee) == ("human", "jonas")
    desk.reply(handoff.id, JONAS, "Guten Tag, hier Jonas.")
    with pytest.raises(NotAllowed):
        desk.reply(handoff.id, ANNA, "Ich bin es nicht.")
    back = desk.hand_back(handoff.id, JONAS)
    assert (back.state, back.outcome) == ("bot", "handed_back")
    assert desk.store.open_handoff("web-1") is None
    assert bot.triggered == [("web-1", "handed_back")]
    feed = desk.store.messages("web-1")
    assert [(m.sender, m.author_label) for m in feed] == [
        ("system", None), ("agent", "Jonas, Vertrieb"), ("bot", None),
    ]  # fmt: skip
    assert feed[0].text == "Jonas, Vertrieb hat das Gespräch übernommen."
    assert feed[2].buttons == [{"title": "Ok", "payload": "/affirm"}]


def test_two_agents_claiming_at_once_have_exactly_one_winner(desk: Desk):
    handoff = queued(desk).handoff
    barrier = threading.Barrier(2)
    results: list[str] = []

    def claim(actor: Actor) -> None:
        barrier.wait()
        try:
            desk.claim(handoff.id, actor)
            results.append(f"won:{actor.username}")
        except (Conflict, IllegalTransition):
            results.append("conflict")

    threads = [threading.Thread(target=claim, args=(a,)) for a in (ANNA, JONAS)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sorted(r.split(":")[0] for r in results) == ["conflict", "won"]
    winner = results[0].removeprefix("won:") if results[0] != "conflict" else results[1][4:]
    assert desk.store.get(handoff.id).assignee == winner
    assert [e.kind for e in desk.store.events(handoff.id)].count("claim") == 1


def test_a_second_claim_after_the_first_is_a_conflict_not_a_takeover(desk: Desk):
    handoff = queued(desk).handoff
    desk.claim(handoff.id, ANNA)
    with pytest.raises(Conflict):
        desk.claim(handoff.id, JONAS)
    assert desk.store.get(handoff.id).assignee == "anna"


def test_transfer_to_a_colleague_or_a_team_puts_it_back_in_the_queue(desk: Desk):
    handoff = queued(desk).handoff
    desk.claim(handoff.id, ANNA)
    moved = desk.transfer(handoff.id, ANNA, to_staff="nina")
    assert (moved.state, moved.assignee, moved.team) == ("waiting", "nina", "sales")
    assert handoff.id not in {h.id for h in desk.visible(ANNA)}
    desk.claim(handoff.id, Actor("nina", "agent", "nina"))
    to_service = desk.transfer(handoff.id, Actor("nina", "agent", "nina"), to_team="service")
    assert (to_service.assignee, to_service.team) == (None, "service")
    assert handoff.id in {h.id for h in desk.visible(TIM)}
    desk.claim(handoff.id, TIM)
    with pytest.raises(BadTarget):
        desk.transfer(handoff.id, TIM, to_staff="nobody")


def test_close_with_an_outcome_and_notes_stay_internal(desk: Desk):
    handoff = queued(desk).handoff
    desk.claim(handoff.id, ANNA)
    desk.note(handoff.id, ANNA, "Kunde will Angebot für P400")
    closed = desk.close(handoff.id, ANNA, "resolved", "Angebot zugesagt")
    assert (closed.state, closed.outcome, closed.outcome_reason) == (
        "closed", "resolved", "Angebot zugesagt",
    )  # fmt: skip
    assert [n.text for n in desk.store.notes(handoff.id)] == ["Kunde will Angebot für P400"]
    visitor_sees = [
        m.text for m in desk.store.messages("web-1", senders=("agent", "bot", "system"))
    ]
    assert not any("P400" in text for text in visitor_sees)
    assert "Anna, Vertrieb hat das Gespräch beendet." in visitor_sees[-1]


def test_an_unclaimed_wait_times_out_to_the_bot_which_offers_a_callback(
    desk: Desk, clock: Clock, bot: FakeBot
):
    handoff = queued(desk).handoff
    assert desk.expire() == []
    clock.now = TUESDAY_10 + timedelta(seconds=121)
    [expired] = desk.expire()
    assert (expired.id, expired.state, expired.outcome) == (handoff.id, "bot", "timed_out")
    assert bot.triggered == [("web-1", "handoff_timed_out")]
    assert desk.expire() == []  # done once, whichever replica sweeps


def test_capacity_counts_open_conversations(desk: Desk):
    online(desk, "anna")
    for number in range(3):
        handoff = queued(desk, f"web-{number}", country="DE", postal_code="10115").handoff
        assert handoff.assignee == "anna"
    fourth = queued(desk, "web-9", country="DE", postal_code="10115").handoff
    assert fourth.assignee is None
    assert any("capacity 3/3" in line for line in fourth.explanation)


def test_texts_are_bounded_and_kept_verbatim(desk: Desk):
    handoff = queued(desk).handoff
    desk.claim(handoff.id, ANNA)
    hostile = "<script>alert(1)</script>" + "x" * 5000
    message = desk.reply(handoff.id, ANNA, hostile)
    assert message.text.startswith("<script>") and len(message.text) == 2000


def test_the_expected_wait_learns_from_recent_claims(desk: Desk, clock: Clock):
    assert queued(desk, "web-a").minutes == 2  # nothing on record: the configured default
    first = desk.store.open_handoff("web-a")
    clock.now = TUESDAY_10 + timedelta(minutes=6)
    desk.claim(first.id, JONAS)  # claimed after six minutes
    assert queued(desk, "web-b").minutes == 6
    assert queued(desk, "web-c").minutes == 12  # second in the queue


# -- who may read a handoff's conversation (issue 18: no reading through an old id) --

SALES_DE = Reader("anna", team="sales", languages=frozenset({"de", "en"}))


@pytest.mark.parametrize(
    ("reader", "state", "assignee", "team", "language", "allowed"),
    [
        (SALES_DE, "human", "anna", "sales", "de", True),  # hers now
        (SALES_DE, "waiting", "anna", "sales", "de", True),  # routed to her, not yet claimed
        (SALES_DE, "waiting", None, "sales", "de", True),  # her team's queue, her language
        (SALES_DE, "waiting", None, "sales", "fr", False),  # not her language
        (SALES_DE, "waiting", None, "service", "de", False),  # another team's queue
        (SALES_DE, "waiting", "jonas", "sales", "de", False),  # routed or moved to a colleague
        (SALES_DE, "human", "jonas", "sales", "de", False),  # a colleague's
        (SALES_DE, "bot", "anna", "sales", "de", False),  # handed back, timed out, cancelled
        (SALES_DE, "closed", "anna", "sales", "de", False),  # closed
        (Reader(None), "waiting", None, "sales", "de", False),  # a login that is no staff
        (Reader(None, admin=True), "closed", "anna", "sales", "de", True),  # admins: all
        (Reader(None, admin=True), "bot", None, "service", "fr", True),
    ],
)
def test_who_may_read_a_handoff_is_one_rule(
    reader: Reader, state: str, assignee: str | None, team: str, language: str, allowed: bool
):
    assert may_read(reader, state, assignee, team, language) is allowed


def test_a_former_assignee_reads_nothing_more_through_the_old_handoff(desk: Desk):
    first = queued(desk).handoff
    assert desk.may_see(ANNA, desk.claim(first.id, ANNA))
    back = desk.hand_back(first.id, ANNA)
    assert not desk.may_see(ANNA, back)
    for act in (
        lambda: desk.readable(first.id, ANNA),
        lambda: desk.note(first.id, ANNA, "noch eine Notiz"),
        lambda: desk.reply(first.id, ANNA, "noch eine Antwort"),
    ):
        with pytest.raises(NotAllowed):
            act()
    second = queued(desk).handoff  # the visitor asks again: a new handoff, Jonas takes it
    desk.claim(second.id, JONAS)
    assert desk.readable(second.id, JONAS).id == second.id
    for handoff_id in (first.id, second.id):
        with pytest.raises(NotAllowed):
            desk.readable(handoff_id, ANNA)
        assert desk.readable(handoff_id, ADMIN).id == handoff_id
    with pytest.raises(NotAllowed):  # Jonas reads his handoff, not the old one
        desk.readable(first.id, JONAS)


def test_after_a_transfer_or_a_close_the_former_assignee_reads_nothing(desk: Desk):
    moved = queued(desk, "web-t").handoff
    desk.claim(moved.id, ANNA)
    desk.transfer(moved.id, ANNA, to_staff="nina")
    with pytest.raises(NotAllowed):
        desk.readable(moved.id, ANNA)
    closed = queued(desk, "web-c").handoff
    desk.claim(closed.id, ANNA)
    desk.close(closed.id, ANNA, "resolved")
    with pytest.raises(NotAllowed):
        desk.readable(closed.id, ANNA)
    with pytest.raises(UnknownHandoff):
        desk.readable(10**6, ANNA)
