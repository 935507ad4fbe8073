"""The insights dashboard's parts, each on its own: the summary of one conversation's
events, the summary rows the event log keeps in step (SQLite and PostgreSQL), the
filters, scoring feedback, the report on hand-made data, its CSV, and the store of
unanswered questions. The whole thing through a running bot is tests/e2e/test_insights_e2e.py.
"""

from __future__ import annotations

import asyncio
import contextlib
import csv
import io
from collections.abc import Iterator
from datetime import date, datetime, timedelta, timezone
from pathlib import Path
from typing import Any

import pytest
from rasa.shared.core.events import ActionExecuted, BotUttered, SlotSet, UserUttered
from rasa.shared.core.trackers import DialogueStateTracker
from sqlalchemy import select
from sqlalchemy.engine import Engine

from console.insights import to_csv
from crm_adapter.port import Answer, Feedback, StageRecord, Visit
from crm_adapter.scoring import FitFacts
from crm_adapter.scoring_model import load_scoring_model
from dialogue.experiments import Experiment, Variant
from handoff.store import HandoffStore, NewHandoff
from insights.conversation_summary import Event, Step, sessions, slot_event_name, summarise
from insights.event_log import EventLog
from insights.filters import Filters
from insights.report import Insights
from insights.report_tables import SECTIONS, tables
from insights.scoring_feedback import Judged, band_report, bands, rule_keys, rule_report
from insights.stats import difference_interval, wilson_interval
from insights.unanswered import UnansweredQuestions
from lotse.migrate import migrated_engine
from lotse.shared_tables import steps, summaries, unanswered, variants
from tests.integration.test_crm_store import postgres_database
from tests.integration.test_event_log import tracker_store
from wiring.services import services_for

MODEL = load_scoring_model()
RESPONSES = {"enquiry_offer": "utter_offer_enquiry", "old_test": "utter_old"}
SECRET = "Anna Muster, anna@mueller-metallbau.example"
UTC = timezone.utc


# --- helpers: events as Rasa's broker publishes them -----------------------------------


def user(sender: str, at: float, intent: str, channel: str | None = "rest") -> dict[str, Any]:
    return {"sender_id": sender, "event": "user", "timestamp": at, "text": SECRET,
            "parse_data": {"intent": {"name": intent, "confidence": 0.9}, "text": SECRET},
            "input_channel": channel}  # fmt: skip


def slot(sender: str, at: float, name: str, value: object) -> dict[str, Any]:
    return {"sender_id": sender, "event": "slot", "timestamp": at, "name": name, "value": value}


def action(sender: str, at: float, name: str) -> dict[str, Any]:
    return {"sender_id": sender, "event": "action", "timestamp": at, "name": name}


def step(sender: str, at: float, value: str) -> dict[str, Any]:
    return slot(sender, at, "qualification_step", value)


def new_session(sender: str, at: float) -> list[dict[str, Any]]:
    """What Rasa publishes when a session (a visit) starts, before its slots."""
    return [action(sender, at, "action_session_start"),
            {"sender_id": sender, "event": "session_started", "timestamp": at}]  # fmt: skip


def events(*rows: tuple[str, float, str] | tuple[str, float, str, str]) -> list[Event]:
    return [Event(*row) for row in rows]


@pytest.fixture(params=["sqlite", "postgresql"])
def url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    """A new, empty database per test (on PostgreSQL: a database of its own, dropped)."""
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'insights.db'}"
        return
    with postgres_database() as found:
        yield found


@pytest.fixture
def event_log(url: str) -> Iterator[EventLog]:
    log = EventLog(migrated_engine(url), responses=RESPONSES)
    yield log
    log.engine.dispose()


REPEATED = ("started_at", "channel", "language")  # a conversation's, on its steps and variants


def rows_of(engine: Engine, table: Any, repeated: bool = False) -> list[dict[str, Any]]:
    """The table's rows; of steps and variants without what they repeat of their
    conversation (unless `repeated`)."""
    key = [table.c.conversation_id] + [
        c for c in table.primary_key.columns if c.name != "conversation_id"
    ]
    with engine.connect() as connection:
        rows = [dict(row._mapping) for row in connection.execute(select(table).order_by(*key))]
    if table is summaries or repeated:
        return rows
    return [{k: v for k, v in row.items() if k not in REPEATED} for row in rows]


def summary_row(conversation_id: str, started_at: float, last_at: float, **values: Any) -> dict:
    row = {"conversation_id": conversation_id, "started_at": started_at, "last_at": last_at,
           "channel": "unknown", "language": "unknown", "user_messages": 0, "engaged": False,
           "fallbacks": 0, "unanswered": 0, "handoff": False, "rating": None,
           "rating_after_handoff": None}  # fmt: skip
    return row | values


def step_row(conversation_id: str, question: str, *states: str) -> dict[str, Any]:
    flags = ("asked", "answered", "declined", "dropped")
    return {"conversation_id": conversation_id, "question": question,
            **{flag: flag in states for flag in flags}}  # fmt: skip


# --- summarise: one conversation's events ----------------------------------------------


def test_no_events_no_summary() -> None:
    assert summarise("web-1", [], RESPONSES) is None


def test_visitor_messages_leave_out_lotses_own_intents_and_small_talk_is_not_engagement() -> None:
    found = summarise("web-1", events(
        ("action", 5.0, "action_session_start"),
        ("user", 6.0, "handed_back", "socketio"),  # sent by Lotse, not the visitor
        ("user", 7.0, "greet", "telegram"),
        ("user", 8.0, "faq_press_price", "rest"),
        ("user", 9.0, "handoff_timed_out", "rest"),
    ), RESPONSES)  # fmt: skip
    assert found is not None
    assert (found.started_at, found.last_at) == (5.0, 9.0)
    assert (found.user_messages, found.engaged, found.channel) == (2, True, "telegram")

    chat = [
        ("user", float(i), intent, "rest")
        for i, intent in enumerate(["greet", "thanks", "rate", "empty_message", "", "goodbye"])
    ]
    small_talk = summarise("web-2", events(*chat), RESPONSES)
    assert small_talk is not None
    assert (small_talk.user_messages, small_talk.engaged) == (6, False)

    only_lotse = summarise("web-3", events(("user", 1.0, "handed_back", "rest")), RESPONSES)
    assert only_lotse is not None
    assert (only_lotse.user_messages, only_lotse.engaged, only_lotse.channel) == (
        0,
        False,
        "unknown",
    )


def test_unanswered_and_fallbacks_count_only_what_the_bot_could_not_answer() -> None:
    found = summarise("web-1", events(
        ("user", 1.0, "nlu_fallback"),
        ("action", 2.0, "action_note_unanswered"),  # not understood: unanswered, a fallback
        ("user", 3.0, "out_of_scope"),
        ("action", 4.0, "action_note_unanswered"),  # understood, outside: unanswered only
        ("user", 5.0, "nlu_fallback"),
        ("action", 6.0, "qualification_form"),  # a free-text answer the form took
        ("user", 7.0, "nlu_fallback"),
        ("action", 9.0, "action_note_unanswered"),
        ("user", 10.0, "faq_press_price"),
        ("action", 11.0, "utter_faq_press_price"),
    ), RESPONSES)  # fmt: skip
    assert found is not None
    assert (found.unanswered, found.fallbacks, found.user_messages) == (3, 2, 5)


def test_lotses_own_intent_between_a_message_and_its_answer_keeps_it_a_fallback() -> None:
    found = summarise("web-1", events(
        ("user", 1.0, "nlu_fallback"),
        ("user", 2.0, "handoff_timed_out"),  # Lotse's own, between message and answer
        ("action", 3.0, "action_note_unanswered"),
    ), RESPONSES)  # fmt: skip
    assert found is not None
    assert (found.unanswered, found.fallbacks, found.user_messages) == (1, 1, 1)


def test_a_forms_free_text_answers_are_neither_unanswered_nor_fallbacks() -> None:
    found = summarise("web-1", events(
        ("user", 1.0, "nlu_fallback"), ("action", 2.0, "qualification_form"),
        ("user", 3.0, "nlu_fallback"), ("action", 4.0, "qualification_form"),
    ), RESPONSES)  # fmt: skip
    assert found is not None
    assert (found.unanswered, found.fallbacks, found.engaged) == (0, 0, True)


def test_language_is_the_last_value_and_unknown_without_one() -> None:
    found = summarise("web-1", events(
        ("slot", 1.0, "language=de"), ("slot", 2.0, "language"),  # a value not kept
        ("slot", 3.0, "language=en"), ("slot", 4.0, "language="),
    ), RESPONSES)  # fmt: skip
    assert found is not None and found.language == "en"
    none = summarise("web-2", events(("user", 1.0, "greet")), RESPONSES)
    assert none is not None and none.language == "unknown"


def test_a_handoff_is_when_the_bot_asked_for_a_person() -> None:
    asked = summarise("web-1", events(
        ("user", 1.0, "request_human"),
        ("slot", 2.0, "handoff_requested=True"), ("slot", 3.0, "handoff_requested=False"),
    ), RESPONSES)  # fmt: skip
    assert asked is not None and asked.handoff is True
    never = summarise("web-2", events(
        ("user", 1.0, "greet"), ("slot", 2.0, "handoff_requested=False"),
    ), RESPONSES)  # fmt: skip
    assert never is not None and never.handoff is False


def test_a_handoff_is_read_in_postgresqls_spelling_too() -> None:
    """The SQL fill names a JSON true `true` (`data::json ->> 'value'`)."""
    found = summarise("web-1", events(
        ("user", 1.0, "request_human"), ("slot", 2.0, "handoff_requested=true"),
    ), RESPONSES)  # fmt: skip
    assert found is not None and found.handoff is True
    never = summarise("web-2", events(
        ("user", 1.0, "greet"), ("slot", 2.0, "handoff_requested=false"),
    ), RESPONSES)  # fmt: skip
    assert never is not None and never.handoff is False


def test_slots_set_before_the_first_message_count_only_language_and_variant() -> None:
    """Slots before a session's first visitor message were carried over from the visit
    before (action_session_start): a handoff, a rating or a step asked then is not this
    visit's; the language and the A/B variant are."""
    found = summarise("web-1", events(
        ("action", 1.0, "action_session_start"),
        ("session_started", 1.0, ""),
        ("slot", 2.0, "language=en"),
        ("slot", 2.0, "handoff_requested=true"),
        ("slot", 2.0, "rating=end:5"),
        ("slot", 2.0, "rating=handoff:1"),
        ("slot", 2.0, "qualification_step=company:asked"),
        ("slot", 2.0, "ab_enquiry_offer=direct"),
        ("action", 3.0, "action_listen"),
        ("user", 4.0, "greet"),
        ("slot", 5.0, "rating=end:3"),
    ), RESPONSES)  # fmt: skip
    assert found is not None
    assert (found.language, found.variants, found.handoff, found.rating,
            found.rating_after_handoff, found.steps) == (
        "en", {"enquiry_offer": "direct"}, False, 3, None, {})  # fmt: skip


def test_ratings_keep_the_last_at_the_end_and_after_a_handoff_and_ignore_garbage() -> None:
    found = summarise("web-1", events(
        ("user", 0.5, "rate"),
        ("slot", 1.0, "rating=end:4"), ("slot", 2.0, "rating=handoff:2"),
        ("slot", 3.0, "rating=end:5"),
        *[("slot", 4.0 + i, f"rating={bad}") for i, bad in enumerate(
            ["end:9", "end:0", "handoff:6", "end:5x", "middle:3", "5", "end:", "end:-1"])],
        ("slot", 20.0, "rating"),
    ), RESPONSES)  # fmt: skip
    assert found is not None
    assert (found.rating, found.rating_after_handoff) == (5, 2)
    unrated = summarise("web-2", events(("user", 0.5, "rate"), ("slot", 1.0, "rating=end:7")),
                        RESPONSES)  # fmt: skip
    assert unrated is not None and (unrated.rating, unrated.rating_after_handoff) == (None, None)


def test_qualification_steps_asked_answered_declined_and_only_the_last_dropped() -> None:
    found = summarise("web-1", events(
        ("user", 0.5, "faq_press_price"),
        ("slot", 1.0, "qualification_step=company:asked"),
        ("slot", 2.0, "qualification_step=company:answered"),
        ("slot", 3.0, "qualification_step=employees:asked"),
        ("slot", 4.0, "qualification_step=employees:declined"),
        ("slot", 5.0, "qualification_step=role:asked"),  # the talk went on: skipped
        ("slot", 6.0, "qualification_step=timeline:asked"),  # left here: dropped off
        ("slot", 7.0, "qualification_step=timeline:maybe"),
        ("slot", 8.0, "qualification_step=:asked"),
        ("slot", 9.0, "qualification_step=company"),
    ), RESPONSES)  # fmt: skip
    assert found is not None
    assert found.steps == {
        "company": Step("company", asked=True, answered=True),
        "employees": Step("employees", asked=True, declined=True),
        "role": Step("role", asked=True),
        "timeline": Step("timeline", asked=True, dropped=True),
    }
    finished = summarise("web-2", events(
        ("user", 0.5, "faq_press_price"),
        ("slot", 1.0, "qualification_step=company:asked"),
        ("slot", 2.0, "qualification_step=consent:asked"),
        ("slot", 3.0, "qualification_step=consent:answered"),
    ), RESPONSES)  # fmt: skip
    assert finished is not None
    assert [s for s in finished.steps.values() if s.dropped] == []
    assert finished.steps["company"] == Step("company", asked=True)


def test_a_variant_counts_as_exposed_only_once_its_experiments_response_ran() -> None:
    found = summarise("web-1", events(
        ("slot", 1.0, "ab_enquiry_offer=direct"), ("slot", 2.0, "ab_old_test=x"),
        ("action", 3.0, "utter_old_other"), ("action", 4.0, "utter_offer_enquiry"),
    ), RESPONSES)  # fmt: skip
    assert found is not None
    assert found.variants == {"enquiry_offer": "direct", "old_test": "x"}
    assert found.exposed == {"enquiry_offer"}
    unseen = summarise("web-2", events(("slot", 1.0, "ab_enquiry_offer=control")), RESPONSES)
    assert unseen is not None
    assert (unseen.variants, unseen.exposed) == ({"enquiry_offer": "control"}, set())


# --- sessions: a sender's visits ----------------------------------------------------------

V = 1_800_000_000.0  # a first visit; the second two hours later (a new Rasa session)


def session_start(at: float, language: str, *variants: str) -> list[tuple[str, float, str]]:
    """What Rasa logs when a session starts (bot/actions/session.py): the action, then
    `session_started`, the carried and assigned slots, and the listen."""
    return [("action", at, "action_session_start"), ("session_started", at, ""),
            ("slot", at, f"language={language}"),
            *[("slot", at, f"ab_{variant}") for variant in variants],
            ("action", at, "action_listen")]  # fmt: skip


def two_visits() -> list[Event]:
    return events(
        *session_start(V, "de", "enquiry_offer=control"),
        ("user", V + 1, "faq_press_price", "rest"),
        ("action", V + 2, "utter_offer_enquiry"),
        ("user", V + 3, "nlu_fallback", "rest"),
        ("action", V + 4, "action_note_unanswered"),
        ("slot", V + 5, "handoff_requested=true"),
        *session_start(V + 7200, "en", "enquiry_offer=control", "old_test=x"),
        ("slot", V + 7200, "handoff_requested=true"),  # carried over: not this visit's
        ("user", V + 7201, "greet", "rest"),
        ("user", V + 7202, "faq_press_price", "rest"),
        ("action", V + 7203, "utter_old"),
        ("user", V + 7204, "rate", "rest"),
        ("slot", V + 7205, "rating=end:4"),
    )  # fmt: skip


def test_a_senders_events_split_into_visits_each_with_its_own_figures() -> None:
    first, second = sessions("web-1", two_visits(), RESPONSES)
    visit = ("conversation_id", "started_at", "channel", "language", "user_messages", "engaged",
             "fallbacks", "unanswered", "handoff", "rating", "variants", "exposed")  # fmt: skip
    assert {k: getattr(first, k) for k in visit} == {
        "conversation_id": "web-1", "started_at": V, "channel": "rest", "language": "de",
        "user_messages": 2, "engaged": True, "fallbacks": 1, "unanswered": 1, "handoff": True,
        "rating": None, "variants": {"enquiry_offer": "control"}, "exposed": {"enquiry_offer"},
    }  # fmt: skip
    assert {k: getattr(second, k) for k in visit} == {
        "conversation_id": "web-1", "started_at": V + 7200, "channel": "rest", "language": "en",
        "user_messages": 3, "engaged": True, "fallbacks": 0, "unanswered": 0, "handoff": False,
        "rating": 4, "variants": {"enquiry_offer": "control", "old_test": "x"},
        "exposed": {"old_test"},
    }  # fmt: skip
    assert second.last_at == V + 7205


def test_a_part_without_a_visitor_message_is_no_session() -> None:
    only_started = events(*session_start(V, "de", "enquiry_offer=direct"))
    assert sessions("web-1", only_started, RESPONSES) == []
    assert sessions("web-1", [], RESPONSES) == []
    # A session start with no message yet does not split a visit: it is part of it.
    restarted = events(*session_start(V, "de"), *session_start(V + 1, "de"),
                       ("user", V + 2, "greet", "rest"))  # fmt: skip
    (one,) = sessions("web-1", restarted, RESPONSES)
    assert (one.user_messages, one.last_at) == (1, V + 2)


def test_a_visit_ends_with_its_own_last_event() -> None:
    first, _ = sessions("web-1", two_visits(), RESPONSES)
    assert first.last_at == V + 5


def test_an_earlier_session_without_messages_does_not_move_the_next_visits_start() -> None:
    earlier = events(*session_start(V - 86400, "de"))  # a day before, no message
    found = sessions("web-1", earlier + two_visits(), RESPONSES)
    assert [s.started_at for s in found] == [V, V + 7200]


def test_a_session_with_only_lotses_own_intents_is_no_visit() -> None:
    handed_back = events(
        *session_start(V + 4 * 3600, "en"),
        ("user", V + 4 * 3600, "handed_back", "rest"),
        ("action", V + 4 * 3600 + 1, "utter_handed_back_en"),
    )  # fmt: skip
    found = sessions("web-1", two_visits() + handed_back, RESPONSES)
    assert len(found) == 2


@pytest.mark.parametrize(
    ("slot_name", "value", "expected"),
    [
        ("language", "de", "language=de"),
        ("qualification_step", "company:asked", "qualification_step=company:asked"),
        ("rating", "end:5", "rating=end:5"),
        ("handoff_requested", True, "handoff_requested=true"),  # as PostgreSQL's JSON has it
        ("handoff_requested", False, "handoff_requested=false"),
        ("ab_enquiry_offer", "direct", "ab_enquiry_offer=direct"),
        ("ab_x", "a" * 32, "ab_x=" + "a" * 32),
        ("ab_x", "Var-2_b", "ab_x=Var-2_b"),
        ("language", None, "language"),
        ("language", "de en", "language"),
        ("language", "de\n", "language"),
        ("language", "Deutsch<b>", "language"),
        ("rating", "<script>", "rating"),
        ("language", "dé", "language"),
        ("ab_x", "a" * 33, "ab_x"),
        ("ab_x", "a.b", "ab_x"),
        # Only the few values an insight slot may hold (a typed payload could set others):
        ("language", "fr", "language"),
        ("rating", "end:9", "rating"),
        ("rating", "middle:3", "rating"),
        ("handoff_requested", "yes", "handoff_requested"),
        ("qualification_step", "company:maybe", "qualification_step"),
        ("qualification_step", "Company:asked", "qualification_step"),
        ("email", "anna@mueller-metallbau.example", "email"),
        ("name", "Anna", "name"),
        ("qualification_answer", "60", "qualification_answer"),
        ("abc", "x", "abc"),  # not an A/B slot: no `ab_` prefix
    ],
)
def test_slot_event_names_keep_only_plain_values_of_insight_slots(
    slot_name: str, value: object, expected: str
) -> None:
    assert slot_event_name(slot_name, value) == expected


# --- the event log keeps the summaries (SQLite and PostgreSQL) -------------------------


def two_conversations() -> list[dict[str, Any]]:
    return [
        action("web-1", 100.0, "action_session_start"),
        slot("web-1", 101.0, "language", "de"),
        slot("web-1", 102.0, "ab_enquiry_offer", "direct"),
        user("web-1", 103.0, "greet"),
        user("web-1", 104.0, "faq_press_price"),
        action("web-1", 105.0, "utter_offer_enquiry"),
        step("web-1", 106.0, "company:asked"),
        user("web-1", 107.0, "nlu_fallback"),  # the company's name, taken by the form
        step("web-1", 108.0, "company:answered"),
        step("web-1", 109.0, "employees:asked"),
        slot("web-1", 110.0, "email", "anna@mueller-metallbau.example"),
        user("tg-2", 200.0, "greet", "telegram"),
        user("tg-2", 201.0, "nlu_fallback", "telegram"),
        action("tg-2", 202.0, "action_note_unanswered"),
        slot("tg-2", 203.0, "handoff_requested", True),
        slot("tg-2", 204.0, "rating", "handoff:4"),
        slot("tg-2", 205.0, "language", "en"),
        slot("tg-2", 206.0, "ab_enquiry_offer", "control"),
    ]


WEB_1 = summary_row("web-1", 100.0, 110.0, channel="rest", language="de", user_messages=3,
                    engaged=True)  # fmt: skip
TG_2 = summary_row("tg-2", 200.0, 206.0, channel="telegram", language="en", user_messages=2,
                   engaged=True, fallbacks=1, unanswered=1, handoff=True,
                   rating_after_handoff=4)  # fmt: skip


def test_recording_events_writes_one_summary_per_conversation(event_log: EventLog) -> None:
    assert event_log.record(two_conversations()) == 18
    engine = event_log.engine
    assert rows_of(engine, summaries) == [TG_2, WEB_1]
    assert rows_of(engine, steps) == [
        step_row("web-1", "company", "asked", "answered"),
        step_row("web-1", "employees", "asked", "dropped"),
    ]
    assert rows_of(engine, variants) == [
        {"conversation_id": "tg-2", "experiment": "enquiry_offer", "variant": "control",
         "exposed": False},
        {"conversation_id": "web-1", "experiment": "enquiry_offer", "variant": "direct",
         "exposed": True},
    ]  # fmt: skip
    names = [row["name"] for row in event_log.events_of("web-1")]
    assert names[1:3] == ["language=de", "ab_enquiry_offer=direct"] and names[-1] == "email"
    assert "anna" not in repr(rows_of(engine, summaries) + event_log.events_of("web-1"))


def test_recording_the_same_events_twice_changes_nothing(event_log: EventLog) -> None:
    event_log.record(two_conversations())
    before = [rows_of(event_log.engine, t) for t in (summaries, steps, variants)]
    event_log.record(two_conversations())
    event_log.record(two_conversations()[5:9])
    assert [rows_of(event_log.engine, t) for t in (summaries, steps, variants)] == before
    assert len(event_log.events_of("web-1")) == 11 and len(event_log.events_of("tg-2")) == 7


def test_late_events_correct_the_summary(event_log: EventLog) -> None:
    event_log.record(two_conversations())
    event_log.record([
        user("tg-2", 199.0, "faq_press_price", "rest"),  # came late, but happened first
        slot("tg-2", 207.0, "rating", "end:5"),
        step("web-1", 111.0, "employees:answered"),
    ])  # fmt: skip
    assert rows_of(event_log.engine, summaries) == [
        TG_2 | {"started_at": 199.0, "last_at": 207.0, "channel": "rest", "user_messages": 3,
                "rating": 5},
        WEB_1 | {"last_at": 111.0},
    ]  # fmt: skip
    assert rows_of(event_log.engine, steps)[1] == step_row(
        "web-1", "employees", "asked", "answered"
    )


def test_rename_moves_the_summary_its_steps_and_variants(event_log: EventLog) -> None:
    event_log.record(two_conversations())
    event_log.rename("web-1", "erased:1")
    assert rows_of(event_log.engine, summaries) == [WEB_1 | {"conversation_id": "erased:1"}, TG_2]
    assert {r["conversation_id"] for r in rows_of(event_log.engine, steps)} == {"erased:1"}
    assert [(r["conversation_id"], r["variant"]) for r in rows_of(event_log.engine, variants)] == [
        ("erased:1", "direct"), ("tg-2", "control")]  # fmt: skip


def test_delete_before_re_derives_the_summaries_whose_old_events_went(
    event_log: EventLog,
) -> None:
    event_log.record([*two_conversations(), user("old-3", 50.0, "greet"),
                      slot("old-3", 51.0, "rating", "end:1")])  # fmt: skip
    assert event_log.delete_before(105.5) == 8  # web-1's first six, old-3's two
    assert rows_of(event_log.engine, summaries) == [
        TG_2,  # untouched
        summary_row("web-1", 106.0, 110.0, channel="rest", user_messages=1, engaged=True),
    ]
    assert rows_of(event_log.engine, steps) == [
        # "company:asked" (106) now comes before the first message left (107): taken
        # as carried over from a visit before, it no longer counts.
        step_row("web-1", "company", "answered"),
        step_row("web-1", "employees", "asked", "dropped"),
    ]
    assert [r["conversation_id"] for r in rows_of(event_log.engine, variants)] == ["tg-2"]


def visits_of(sender: str) -> list[dict[str, Any]]:
    """Two visits of a sender as the broker publishes them: a handoff in the first, the
    flag carried into the second (bot/actions/session.py), which is not a handoff."""

    def started(at: float, language: str) -> list[dict[str, Any]]:
        return [*new_session(sender, at), slot(sender, at, "language", language),
                slot(sender, at, "ab_enquiry_offer", "direct"),
                action(sender, at, "action_listen")]  # fmt: skip

    return [*started(V, "de"), user(sender, V + 1, "request_human"),
            action(sender, V + 2, "utter_offer_enquiry"), step(sender, V + 3, "company:asked"),
            slot(sender, V + 4, "handoff_requested", True),
            *started(V + 7200, "en"), slot(sender, V + 7200, "handoff_requested", True),
            slot(sender, V + 7200, "qualification_step", "company:asked"),
            user(sender, V + 7201, "greet"), user(sender, V + 7202, "faq_press_price")]  # fmt: skip


def test_a_handoff_carried_into_a_new_visit_does_not_make_it_a_handoff(
    event_log: EventLog,
) -> None:
    event_log.record(visits_of("web-1"))
    assert rows_of(event_log.engine, summaries) == [
        summary_row("web-1", V, V + 4, channel="rest", language="de", user_messages=1,
                    engaged=True, handoff=True),
        summary_row("web-1", V + 7200, V + 7202, channel="rest", language="en",
                    user_messages=2, engaged=True),
    ]  # fmt: skip
    assert rows_of(event_log.engine, steps, repeated=True) == [
        step_row("web-1", "company", "asked", "dropped")
        | {"started_at": V, "channel": "rest", "language": "de"}
    ]
    assert [(r["started_at"], r["language"], r["exposed"])
            for r in rows_of(event_log.engine, variants, repeated=True)] == [
        (V, "de", True), (V + 7200, "en", False)]  # fmt: skip
    day = Filters(date(2027, 1, 15), date(2027, 1, 15))  # V is 2027-01-15 08:00 UTC
    overview = Insights(event_log.engine, MODEL, [], []).report(day)["overview"]
    assert (overview["conversations"], overview["conversations_with_handoff"]) == (2, 1)


def test_an_exposure_stays_after_its_experiment_ended(event_log: EventLog) -> None:
    event_log.record(visits_of("web-1") + visits_of("web-2")[:9])
    ended = EventLog(event_log.engine, responses={})  # the experiment left experiments.yml
    ended.record([user("web-1", V + 5, "thanks"), user("web-2", V + 5, "thanks"),  # late
                  action("web-3", V, "utter_offer_enquiry"), user("web-3", V + 1, "greet"),
                  slot("web-3", V + 2, "ab_enquiry_offer", "control")])  # fmt: skip
    assert [(r["conversation_id"], r["started_at"], r["variant"], r["exposed"])
            for r in rows_of(event_log.engine, variants, repeated=True)] == [
        ("web-1", V, "direct", True), ("web-1", V + 7200, "direct", False),
        ("web-2", V, "direct", True), ("web-3", V, "control", False)]  # fmt: skip
    assert [(r["conversation_id"], r["user_messages"])
            for r in rows_of(event_log.engine, summaries)] == [
        ("web-1", 2), ("web-1", 2), ("web-2", 2), ("web-3", 1)]  # fmt: skip


def rasa_conversation(sender: str, *extra: Any) -> DialogueStateTracker:
    tracker = DialogueStateTracker(sender, [])
    intent = {"name": "faq_press_price", "confidence": 0.93}
    for event in (
        ActionExecuted("action_session_start", timestamp=1.0),
        SlotSet("language", "de", timestamp=2.0),
        SlotSet("ab_enquiry_offer", "direct", timestamp=3.0),
        UserUttered(SECRET, intent, parse_data={"intent": intent}, timestamp=4.0,
                    input_channel="rest"),
        ActionExecuted("utter_offer_enquiry", timestamp=5.0),
        SlotSet("qualification_step", "company:asked", timestamp=6.0),
        SlotSet("email", "anna@mueller-metallbau.example", timestamp=7.0),
        SlotSet("language", "Deutsch bitte", timestamp=8.0),
        SlotSet("rating", "end:4", timestamp=9.0),
        BotUttered("Die P400 ab 140.000 EUR", timestamp=10.0),
        *extra,
    ):  # fmt: skip
        tracker.update(event)
    return tracker


def published(tracker: DialogueStateTracker) -> list[dict[str, Any]]:
    return [{"sender_id": tracker.sender_id, **event.as_dict()} for event in tracker.events]


@contextlib.contextmanager
def filled_and_recorded(
    tracker: DialogueStateTracker, tmp_path: Path
) -> Iterator[tuple[EventLog, EventLog]]:
    """The tracker's events into a PostgreSQL event log from Rasa's `events` table in the
    same database (made in SQL), and into a SQLite one as the broker publishes them."""
    with postgres_database() as url:
        store = tracker_store(url)
        asyncio.run(store.save(tracker))
        filled = EventLog(migrated_engine(url), responses=RESPONSES)
        recorded = EventLog(migrated_engine(f"sqlite:///{tmp_path / 'recorded.db'}"), RESPONSES)
        try:
            assert filled._shares_database(store.engine)
            assert filled.fill_from_tracker(store.engine) == len(tracker.events)
            recorded.record(published(tracker))
            yield filled, recorded
        finally:
            for engine in (store.engine, filled.engine, recorded.engine):
                engine.dispose()


def test_filling_in_postgresql_names_insight_slots_with_values_as_record_does(
    tmp_path: Path,
) -> None:
    with filled_and_recorded(rasa_conversation("web-1"), tmp_path) as (filled, recorded):
        rows = filled.events_of("web-1")
        assert [row["name"] for row in rows] == [
            "action_session_start", "language=de", "ab_enquiry_offer=direct", "faq_press_price",
            "utter_offer_enquiry", "qualification_step=company:asked", "email", "language",
            "rating=end:4", "",
        ]  # fmt: skip
        assert "anna" not in repr(rows) and "P400" not in repr(rows)
        strip = [{k: v for k, v in row.items() if k != "id"} for row in rows]
        assert strip == [{k: v for k, v in r.items() if k != "id"}
                         for r in recorded.events_of("web-1")]  # fmt: skip
        expected = summary_row("web-1", 1.0, 10.0, channel="rest", language="de",
                               user_messages=1, engaged=True, rating=4)  # fmt: skip
        for log in (filled, recorded):
            assert rows_of(log.engine, summaries) == [expected]
            assert rows_of(log.engine, steps) == [step_row("web-1", "company", "asked", "dropped")]
            assert rows_of(log.engine, variants) == [{"conversation_id": "web-1",
                "experiment": "enquiry_offer", "variant": "direct", "exposed": True}]  # fmt: skip


def test_filling_in_postgresql_keeps_a_handoff_as_record_does(tmp_path: Path) -> None:
    tracker = rasa_conversation("web-1", SlotSet("handoff_requested", True, timestamp=11.0))
    with filled_and_recorded(tracker, tmp_path) as (filled, recorded):
        assert rows_of(recorded.engine, summaries)[0]["handoff"] is True
        assert rows_of(filled.engine, summaries) == rows_of(recorded.engine, summaries)


def test_the_broker_and_the_tracker_fill_keep_a_boolean_slot_event_once() -> None:
    tracker = rasa_conversation("web-1", SlotSet("handoff_requested", True, timestamp=11.0))
    with postgres_database() as url:
        store = tracker_store(url)
        asyncio.run(store.save(tracker))
        log = EventLog(migrated_engine(url), responses=RESPONSES)
        try:
            log.record(published(tracker))  # the broker came first
            log.fill_from_tracker(store.engine)
            assert len(log.events_of("web-1")) == len(tracker.events)
        finally:
            log.engine.dispose()
            store.engine.dispose()


# --- filters ---------------------------------------------------------------------------

TODAY = date(2026, 11, 26)


def test_filters_default_to_the_last_thirty_days_up_to_today() -> None:
    found = Filters.parse({}, TODAY)
    assert found == Filters(date(2026, 10, 28), TODAY, None, None)
    assert found.as_dict() == {"from": "2026-10-28", "to": "2026-11-26", "channel": None,
                               "language": None}  # fmt: skip
    assert Filters.parse({"from": " ", "to": "", "channel": " "}, TODAY) == found


def test_the_last_day_is_included() -> None:
    found = Filters.parse({"from": "2026-11-01", "to": "2026-11-02", "channel": " Telegram ",
                           "language": "DE"}, TODAY)  # fmt: skip
    assert (found.channel, found.language) == ("telegram", "de")
    assert found.start == datetime(2026, 11, 1, tzinfo=UTC).timestamp()
    assert found.end == datetime(2026, 11, 3, tzinfo=UTC).timestamp()
    assert (found.start_time, found.end_time) == (datetime(2026, 11, 1, tzinfo=UTC),
                                                  datetime(2026, 11, 3, tzinfo=UTC))  # fmt: skip
    one_day = Filters.parse({"from": "2026-11-02", "to": "2026-11-02"}, TODAY)
    assert one_day.end - one_day.start == 86400
    only_to = Filters.parse({"to": "2026-02-10"}, TODAY)
    assert (only_to.first_day, only_to.last_day) == (date(2026, 1, 12), date(2026, 2, 10))


@pytest.mark.parametrize(
    ("args", "message"),
    [
        ({"from": "26.11.2026"}, "`from` must be a day like 2026-11-26"),
        ({"to": "2026-02-30"}, "`to` must be a day like 2026-11-26"),
        ({"from": "2026-11-27", "to": "2026-11-26"}, "`from` must not be after `to`"),
        ({"channel": "web site"}, "`channel` must be a name like 'website' or 'de'"),
        ({"channel": "1rest"}, "`channel` must be a name like 'website' or 'de'"),
        ({"language": "de;drop"}, "`language` must be a name like 'website' or 'de'"),
        ({"from": "2016-11-15", "to": "2026-11-26"}, "the date range may span at most 3660 days"),
    ],
)
def test_bad_filters_are_refused_with_a_message(args: dict[str, str], message: str) -> None:
    with pytest.raises(ValueError) as refused:
        Filters.parse(args, TODAY)
    assert str(refused.value) == message


def test_a_range_of_3660_days_is_allowed() -> None:
    first = date(2016, 11, 26)
    last = first + timedelta(days=3660)
    assert (
        Filters.parse({"from": first.isoformat(), "to": last.isoformat()}, TODAY).last_day == last
    )
    with pytest.raises(ValueError):
        Filters.parse({"from": first.isoformat(), "to": (last + timedelta(1)).isoformat()}, TODAY)


# --- scoring feedback ------------------------------------------------------------------


def test_rule_keys_of_a_known_lead_with_the_default_model() -> None:
    facts = FitFacts(employees=60, industry="metalworking", role="owner_md", country="de")
    assert rule_keys(MODEL, facts, ["asked_price", "requested_demo", "not_a_kind"]) == {
        "company size 50-70", "industry metalworking", "role owner_md", "region service area",
        "interest asked_price", "interest requested_demo",
    }  # fmt: skip
    other = FitFacts(employees=12, industry="bakery", role="astronaut", country="US")
    assert rule_keys(MODEL, other, ()) == {
        "company size <= 24",
        "industry any other",
        "region outside the service area",
    }
    assert rule_keys(MODEL, FitFacts(employees=900), ()) == {"company size >= 501"}
    assert rule_keys(MODEL, FitFacts(), ()) == set()


def test_bands_split_at_the_models_lifecycle_thresholds() -> None:
    assert bands(MODEL) == {
        "fit": [("0-59", 0, 59), ("60-74", 60, 74), ("75-100", 75, 100)],
        "interest": [("0-29", 0, 29), ("30-59", 30, 59), ("60-100", 60, 100)],
    }


def judged(decision: str, fit: int | None, interest: int, *rules: str) -> Judged:
    return Judged(decision, fit, interest, frozenset(rules))


def test_band_report_counts_verdicts_per_band_and_unknown_fit() -> None:
    verdicts = [judged("accept", 100, 60), judged("accept", 75, 30), judged("reject", 74, 29),
                judged("reject", 0, 0), judged("accept", None, 59)]  # fmt: skip
    rows = {(r["axis"], r["band"]): r for r in band_report(MODEL, verdicts)}
    assert list(rows) == [
        ("fit", "0-59"),
        ("fit", "60-74"),
        ("fit", "75-100"),
        ("fit", "unknown"),
        ("interest", "0-29"),
        ("interest", "30-59"),
        ("interest", "60-100"),
    ]
    counts = {key: (r["verdicts"], r["accepted"], r["rejected"]) for key, r in rows.items()}
    assert counts == {
        ("fit", "0-59"): (1, 0, 1), ("fit", "60-74"): (1, 0, 1), ("fit", "75-100"): (2, 2, 0),
        ("fit", "unknown"): (1, 1, 0), ("interest", "0-29"): (2, 0, 2),
        ("interest", "30-59"): (2, 2, 0), ("interest", "60-100"): (1, 1, 0),
    }  # fmt: skip
    assert rows[("fit", "75-100")]["acceptance_rate"] == 1.0
    assert (rows[("fit", "75-100")]["acceptance_low"], rows[("fit", "75-100")]["acceptance_high"]) \
        == wilson_interval(2, 2)  # fmt: skip
    empty = band_report(MODEL, [])
    assert len(empty) == 6 and {r["verdicts"] for r in empty} == {0}
    assert {r["acceptance_rate"] for r in empty} == {None}


def test_rule_findings() -> None:
    verdicts = (
        [judged("accept", 90, 40, "good", "coin")] * 10
        + [judged("reject", 20, 10, "bad")] * 10
        + [judged("accept", 50, 10, "coin")] * 2
        + [judged("reject", 50, 10, "coin")] * 3
        + [judged("reject", 50, 10, "rare")] * 2
    )  # 27 verdicts: coin 15 with (12 accepted), rare 2 with
    rows = {r["rule"]: r for r in rule_report(verdicts, ["good", "never"])}
    assert sorted(rows) == ["bad", "coin", "good", "never", "rare"]
    assert {rule: r["finding"] for rule, r in rows.items()} == {
        "good": "predicts acceptance", "bad": "predicts rejection",
        "coin": "predicts acceptance", "rare": "too few verdicts", "never": "too few verdicts",
    }  # fmt: skip
    good = rows["good"]
    assert (good["verdicts_with"], good["accepted_with"], good["verdicts_without"],
            good["accepted_without"]) == (10, 10, 17, 2)  # fmt: skip
    assert (good["difference_low"], good["difference_high"]) == difference_interval(10, 10, 2, 17)
    assert rows["never"]["verdicts_with"] == 0 and rows["never"]["difference_low"] is None
    assert rows["never"]["acceptance_with"] is None

    balanced = ([judged("accept", 50, 10, "x")] * 3 + [judged("reject", 50, 10, "x")] * 2
                + [judged("accept", 50, 10)] * 2 + [judged("reject", 50, 10)] * 3)  # fmt: skip
    (row,) = rule_report(balanced, [])
    assert (row["rule"], row["finding"], row["acceptance_with"], row["acceptance_without"]) == (
        "x", "no clear link", 0.6, 0.4)  # fmt: skip
    assert row["difference_low"] < 0 < row["difference_high"]

    two = [judged("accept", 50, 10, "y")] * 2 + [judged("reject", 50, 10)] * 20
    assert rule_report(two, [])[0]["finding"] == "too few verdicts"  # 2 with it, however clear


# --- the report ------------------------------------------------------------------------

EXPERIMENT = Experiment(
    "enquiry_offer",
    "utter_offer_enquiry",
    (Variant("control", 50, None), Variant("direct", 50, {"de": "Direkt?", "en": "Direct?"})),
)
NOVEMBER = Filters(date(2026, 11, 1), date(2026, 11, 30))
START = datetime(2026, 11, 24, 8, 0, tzinfo=UTC)
T = START.timestamp()
DAY = 86400.0
OLD = T - 40 * DAY  # 2026-10-15


def days_with_conversations(report: dict[str, Any]) -> list[dict[str, Any]]:
    """The report's daily rows, one per day of the range: those with a conversation
    (after checking that the others are all zeros)."""
    daily = report["daily"]
    first = date.fromisoformat(report["filters"]["from"])
    last = date.fromisoformat(report["filters"]["to"])
    assert [row["day"] for row in daily] == [
        (first + timedelta(days=n)).isoformat() for n in range((last - first).days + 1)
    ]
    zero = {"conversations": 0, "engaged": 0, "with_handoff": 0}
    rest = [row for row in daily if row["conversations"]]
    assert all(row | zero == row for row in daily if row not in rest)
    return rest


def nothing(rate_of: str) -> dict[str, Any]:
    return {"moment": rate_of, "ratings": 0, "average": None, "satisfied_rate": None,
            **{f"rated_{r}": 0 for r in range(1, 6)}}  # fmt: skip


def variant_row(
    variant: str,
    counts: tuple[int, int, int],
    running: bool = True,
    weight: int | None = 50,
    name: str = "enquiry_offer",
) -> dict[str, Any]:
    exposed, leads, mql = counts
    lead, qualified = wilson_interval(leads, exposed), wilson_interval(mql, exposed)
    return {
        "experiment": name, "response": "utter_offer_enquiry" if running else None,
        "variant": variant, "weight": weight, "running": running, "conversations": exposed,
        "leads": leads, "lead_rate": leads / exposed if exposed else None,
        "lead_low": lead[0] if lead else None, "lead_high": lead[1] if lead else None,
        "mql": mql, "mql_rate": mql / exposed if exposed else None,
        "mql_low": qualified[0] if qualified else None,
        "mql_high": qualified[1] if qualified else None,
    }  # fmt: skip


def test_the_report_of_an_empty_database_is_zeros_and_nothing(event_log: EventLog) -> None:
    insights = Insights(event_log.engine, MODEL, ["company"], [EXPERIMENT])
    report = insights.report(NOVEMBER)
    assert report["filters"] == {"from": "2026-11-01", "to": "2026-11-30", "channel": None,
                                 "language": None}  # fmt: skip
    assert report["overview"] == {
        "conversations": 0, "engaged_conversations": 0, "visitor_messages": 0, "leads": 0,
        "mql": 0, "sql": 0, "accepted_by_sales": 0, "rejected_by_sales": 0, "handoffs": 0,
        "handoffs_claimed": 0, "conversations_with_handoff": 0, "containment_rate": None,
        "fallback_rate": None, "handoff_rate": None, "median_wait_seconds": None,
    }  # fmt: skip
    assert days_with_conversations(report) == [] and len(report["daily"]) == 30
    assert report["funnel"] == []
    assert report["csat"] == [nothing("end"), nothing("handoff")]
    assert report["unanswered"] == {"total": 0, "by_kind": [], "with_text": 0,
                                    "without_consent": 0, "clusters": []}  # fmt: skip
    assert report["scoring"]["verdicts"] == 0 and len(report["scoring"]["bands"]) == 6
    assert {r["finding"] for r in report["scoring"]["rules"]} == {"too few verdicts"}
    assert report["experiments"] == [variant_row("control", (0, 0, 0)),
                                     variant_row("direct", (0, 0, 0))]  # fmt: skip
    assert set(tables(report)) == set(SECTIONS)
    assert to_csv(tables(report)["funnel"]) == ""
    assert insights.choices() == {"channels": [], "languages": []}


def conversation_a() -> list[dict[str, Any]]:
    """Qualified (accepted by sales), saw the direct offer, rated the end 5."""
    c = "web-a"
    return [slot(c, T, "language", "de"), slot(c, T + 1, "ab_enquiry_offer", "direct"),
            user(c, T + 2, "faq_press_price"), action(c, T + 3, "utter_offer_enquiry"),
            step(c, T + 4, "company:asked"), user(c, T + 5, "nlu_fallback"),
            step(c, T + 6, "company:answered"), step(c, T + 7, "employees:asked"),
            user(c, T + 8, "nlu_fallback"), step(c, T + 9, "employees:answered"),
            user(c, T + 10, "goodbye"), user(c, T + 11, "rate"), slot(c, T + 12, "rating", "end:5"),
            slot(c, T + 13, "ab_old_test", "x"), action(c, T + 14, "utter_old")]  # fmt: skip


def conversation_b() -> list[dict[str, Any]]:
    """English, the control offer, declined the company, left at the employees; two
    questions not answered, a handoff rated 3; rejected by sales."""
    c = "web-b"
    return [slot(c, T + 100, "language", "en"), slot(c, T + 101, "ab_enquiry_offer", "control"),
            user(c, T + 102, "faq_press_price"), action(c, T + 103, "utter_offer_enquiry"),
            step(c, T + 104, "company:asked"), user(c, T + 105, "deny"),
            step(c, T + 106, "company:declined"), step(c, T + 107, "employees:asked"),
            user(c, T + 108, "out_of_scope"), action(c, T + 109, "action_note_unanswered"),
            user(c, T + 110, "nlu_fallback"), action(c, T + 111, "action_note_unanswered"),
            slot(c, T + 112, "handoff_requested", True), user(c, T + 113, "rate"),
            slot(c, T + 114, "rating", "handoff:3")]  # fmt: skip


def conversation_c() -> list[dict[str, Any]]:
    """Telegram small talk, assigned `direct` but never offered, rated the end 2."""
    c = "tg-c"
    return [slot(c, T + 200, "language", "de"), slot(c, T + 201, "ab_enquiry_offer", "direct"),
            user(c, T + 202, "greet", "telegram"), user(c, T + 203, "goodbye", "telegram"),
            user(c, T + 204, "rate", "telegram"), slot(c, T + 205, "rating", "end:2")]  # fmt: skip


def old_conversation() -> list[dict[str, Any]]:
    """October: outside the range, its lead accepted, its question unanswered."""
    at = OLD
    return [slot("web-old", at, "language", "de"), user("web-old", at + 1, "faq_press_price"),
            step("web-old", at + 2, "company:asked")]  # fmt: skip


def lead(crm: Any, conversation_id: str, channel: str, stages: list[str], at: float = T) -> int:
    """The conversation's lead, moved through `stages` a second apart from `at`."""
    lead_id = crm.lead_for(Visit(conversation_id, channel)).lead_id
    old = None
    for offset, stage in enumerate(stages):
        crm.change_stage(lead_id, StageRecord(old, stage, "test", moment(at + offset)))
        old = stage
    return lead_id


def moment(at: float) -> datetime:
    return datetime.fromtimestamp(at, UTC)


def crm_world(url: str) -> None:
    """The leads of the conversations, qualified while they talked, judged later."""
    crm = services_for(url).crm
    a = lead(crm, "web-a", "rest", ["lead", "marketing_qualified_lead", "sales_qualified_lead"],
             T + 9)  # fmt: skip
    for attribute, value, at in (("employees", {"count": 60}, T + 8),
                                 ("industry", {"key": "metalworking"}, T + 9)):  # fmt: skip
        crm.save_answer(
            a, Answer(attribute, value, "answered", moment(at), conversation_id="web-a")
        )
    crm.record_feedback(a, Feedback("accept", "fits", 100, 65, "sales", moment(T + DAY)))
    b = lead(crm, "web-b", "rest", ["lead"], T + 106)
    crm.save_answer(b, Answer("employees", {"count": 10}, "answered", moment(T + 108)))
    crm.record_feedback(b, Feedback("reject", "too small", 10, 15, "sales", moment(T + DAY)))
    lead(crm, "tg-c", "telegram", [])  # anonymous: no stage
    old = lead(crm, "web-old", "rest", ["lead", "marketing_qualified_lead"], OLD + 2)
    crm.record_feedback(old, Feedback("accept", "", 80, 40, "sales", moment(OLD + DAY)))


@pytest.fixture
def world(event_log: EventLog, url: str) -> Insights:
    event_log.record(conversation_a() + conversation_b() + conversation_c() + old_conversation())
    crm_world(url)
    questions = UnansweredQuestions(event_log.engine)
    questions.add("web-b", T + 108, "out_of_scope", "Wie wird das Wetter morgen?")
    questions.add("web-b", T + 110, "nlu_fallback", None)  # no consent: counted only
    questions.add("web-old", OLD + 1, "out_of_scope", "Alte Frage")
    handoffs = HandoffStore(event_log.engine)
    asked = START + timedelta(seconds=112)
    opened = handoffs.request(NewHandoff("web-b", "not_understood", "en", "general", "sales",
                                         timedelta(minutes=5)), now=asked)  # fmt: skip
    handoffs.transition(opened, "claim", "anna", asked + timedelta(seconds=90),
                        assignee="anna", claimed_at=asked + timedelta(seconds=90))  # fmt: skip
    return Insights(event_log.engine, MODEL, ["company", "employees"], [EXPERIMENT])


def test_the_report_counts_hand_recorded_conversations(world: Insights) -> None:
    report = world.report(NOVEMBER)
    assert report["overview"] == {
        "conversations": 3, "engaged_conversations": 2, "visitor_messages": 13, "leads": 2,
        "mql": 1, "sql": 1, "accepted_by_sales": 1, "rejected_by_sales": 1, "handoffs": 1,
        "handoffs_claimed": 1, "conversations_with_handoff": 1, "containment_rate": 2 / 3,
        "fallback_rate": 1 / 13, "handoff_rate": 1 / 3, "median_wait_seconds": 90.0,
    }  # fmt: skip
    assert days_with_conversations(report) == [{"day": "2026-11-24", "conversations": 3,
                                                "engaged": 2, "with_handoff": 1}]  # fmt: skip
    assert report["csat"] == [
        nothing("end") | {"ratings": 2, "average": 3.5, "satisfied_rate": 0.5, "rated_2": 1,
                          "rated_5": 1},
        nothing("handoff") | {"ratings": 1, "average": 3.0, "satisfied_rate": 0.0, "rated_3": 1},
    ]  # fmt: skip
    assert report["funnel"] == [
        {"question": "company", "asked": 2, "answered": 1, "declined": 1, "dropped_off": 0,
         "skipped": 0, "reached_mql": 1, "reached_sql": 1, "accepted": 1},
        {"question": "employees", "asked": 2, "answered": 1, "declined": 0, "dropped_off": 1,
         "skipped": 0, "reached_mql": 1, "reached_sql": 1, "accepted": 1},
    ]  # fmt: skip
    assert report["experiments"] == [
        variant_row("control", (1, 1, 0)),
        variant_row("direct", (1, 1, 1)),
        variant_row("x", (1, 1, 1), running=False, weight=None, name="old_test"),
    ]
    found = report["unanswered"]
    assert (found["total"], found["with_text"], found["without_consent"]) == (2, 1, 1)
    assert found["by_kind"] == [{"kind": "nlu_fallback", "count": 1},
                                {"kind": "out_of_scope", "count": 1}]  # fmt: skip
    assert [c["texts"] for c in found["clusters"]] == [
        [{"text": "Wie wird das Wetter morgen?", "count": 1}]
    ]
    scoring = report["scoring"]
    assert scoring["verdicts"] == 2
    fit = {
        r["band"]: (r["verdicts"], r["accepted"]) for r in scoring["bands"] if r["axis"] == "fit"
    }
    assert fit == {"0-59": (1, 0), "60-74": (0, 0), "75-100": (1, 1)}
    rules = {r["rule"]: (r["verdicts_with"], r["accepted_with"]) for r in scoring["rules"]}
    assert (rules["company size 50-70"], rules["company size <= 24"]) == ((1, 1), (1, 0))
    assert (rules["industry metalworking"], rules["role owner_md"]) == ((1, 1), (0, 0))
    assert world.choices() == {"channels": ["rest", "telegram"], "languages": ["de", "en"]}


def test_the_reports_filters_choose_conversations_and_their_leads(world: Insights) -> None:
    telegram = world.report(Filters(NOVEMBER.first_day, NOVEMBER.last_day, channel="telegram"))
    assert (telegram["overview"]["conversations"], telegram["overview"]["leads"]) == (1, 0)
    english = world.report(Filters(NOVEMBER.first_day, NOVEMBER.last_day, language="en"))
    overview = english["overview"]
    assert (overview["conversations"], overview["leads"], overview["rejected_by_sales"],
            overview["handoffs"]) == (1, 1, 1, 1)  # fmt: skip
    assert [r["question"] for r in english["funnel"]] == ["company", "employees"]
    october = world.report(Filters(date(2026, 10, 1), date(2026, 10, 31)))
    assert october["overview"] == {
        "conversations": 1, "engaged_conversations": 1, "visitor_messages": 1, "leads": 1,
        "mql": 1, "sql": 0, "accepted_by_sales": 1, "rejected_by_sales": 0, "handoffs": 0,
        "handoffs_claimed": 0, "conversations_with_handoff": 0, "containment_rate": 1.0,
        "fallback_rate": 0.0, "handoff_rate": 0.0, "median_wait_seconds": None,
    }  # fmt: skip
    assert october["funnel"] == [{
        "question": "company", "asked": 1, "answered": 0, "declined": 0, "dropped_off": 1,
        "skipped": 0, "reached_mql": 1, "reached_sql": 0, "accepted": 1}]  # fmt: skip
    assert october["unanswered"]["total"] == 1


def test_the_daily_figures_count_a_conversation_on_the_day_it_started(
    event_log: EventLog,
) -> None:
    """In the afternoon (UTC) too: PostgreSQL rounds a cast to integer, SQLite truncates."""
    afternoon = datetime(2026, 11, 24, 14, 0, tzinfo=UTC).timestamp()
    evening = afternoon + 9 * 3600 + 59 * 60  # 23:59
    event_log.record([user("web-1", afternoon, "faq_press_price"), user("web-2", evening, "greet")])
    daily = days_with_conversations(Insights(event_log.engine, MODEL, [], []).report(NOVEMBER))
    assert daily == [{"day": "2026-11-24", "conversations": 2, "engaged": 1, "with_handoff": 0}]


def returning_world(event_log: EventLog, url: str) -> Insights:
    """Two returning visitors, each first in October and again on 2026-11-24: web-r
    became an MQL in October; web-n was a lead in October and became an MQL in November."""
    for sender, at, variant in (("web-r", OLD, "direct"), ("web-n", OLD + 3600, "control")):
        event_log.record([
            *new_session(sender, at), slot(sender, at, "ab_enquiry_offer", variant),
            user(sender, at + 1, "faq_press_price"), step(sender, at + 2, "company:asked"),
            *new_session(sender, T), slot(sender, T, "ab_enquiry_offer", variant),
            user(sender, T + 1, "faq_press_price"),
            action(sender, T + 2, "utter_offer_enquiry"), step(sender, T + 3, "employees:asked"),
        ])  # fmt: skip
    crm = services_for(url).crm
    lead(crm, "web-r", "rest", ["lead", "marketing_qualified_lead"], OLD + 10)
    n = lead(crm, "web-n", "rest", ["lead"], OLD + 3600 + 10)
    crm.change_stage(n, StageRecord("lead", "marketing_qualified_lead", "test", moment(T + 10)))
    return Insights(event_log.engine, MODEL, ["company", "employees"], [EXPERIMENT])


def test_a_returning_mql_is_not_counted_again_for_a_later_visit(
    event_log: EventLog, url: str
) -> None:
    insights = returning_world(event_log, url)
    november = insights.report(NOVEMBER)
    overview = november["overview"]
    assert (overview["conversations"], overview["leads"], overview["mql"], overview["sql"]) == (
        2, 0, 1, 0)  # fmt: skip
    assert november["experiments"] == [variant_row("control", (1, 0, 1)),
                                       variant_row("direct", (1, 0, 0))]  # fmt: skip
    assert november["funnel"] == [
        {"question": "employees", "asked": 2, "answered": 0, "declined": 0, "dropped_off": 2,
         "skipped": 0, "reached_mql": 1, "reached_sql": 0, "accepted": 0}]  # fmt: skip
    both = insights.report(Filters(date(2026, 10, 1), NOVEMBER.last_day))["overview"]
    assert (both["conversations"], both["leads"], both["mql"]) == (4, 2, 2)  # each lead once


def test_a_handoff_or_question_before_the_range_is_not_counted(
    event_log: EventLog,
) -> None:
    """web-h's October visit asked a question and a person; it is back in November.
    web-k asked a person in November."""
    event_log.record([
        *new_session("web-h", OLD - 1), user("web-h", OLD, "out_of_scope"),
        action("web-h", OLD + 1, "action_note_unanswered"),
        slot("web-h", OLD + 2, "handoff_requested", True),
        *new_session("web-h", T), slot("web-h", T, "handoff_requested", True),  # carried
        user("web-h", T + 1, "greet"),
        user("web-k", T, "request_human"), slot("web-k", T + 1, "handoff_requested", True),
    ])  # fmt: skip
    questions = UnansweredQuestions(event_log.engine)
    questions.add("web-h", OLD, "out_of_scope", "Alte Frage")
    questions.add("web-k", T + 2, "out_of_scope", "Was kostet die Wartung?")
    handoffs = HandoffStore(event_log.engine)
    for conversation, at in (("web-h", OLD + 2), ("web-k", T + 1)):
        handoffs.request(NewHandoff(conversation, "asked", "de", "general", "sales",
                                    timedelta(minutes=5)), now=moment(at))  # fmt: skip
    report = Insights(event_log.engine, MODEL, [], []).report(NOVEMBER)
    overview = report["overview"]
    assert (overview["conversations"], overview["handoffs"], overview["handoffs_claimed"],
            overview["conversations_with_handoff"]) == (2, 1, 0, 1)  # fmt: skip
    assert report["unanswered"] == {
        "total": 1, "by_kind": [{"kind": "out_of_scope", "count": 1}], "with_text": 1,
        "without_consent": 0,
        "clusters": [{"label": report["unanswered"]["clusters"][0]["label"], "count": 1,
                      "texts": [{"text": "Was kostet die Wartung?", "count": 1}]}],
    }  # fmt: skip
    october = Insights(event_log.engine, MODEL, [], []).report(
        Filters(date(2026, 10, 1), date(2026, 10, 31)))["overview"]  # fmt: skip
    assert (october["conversations"], october["handoffs"]) == (1, 1)


# --- CSV -------------------------------------------------------------------------------


def test_csv_has_a_header_and_a_line_per_row_with_none_empty() -> None:
    rows = [{"metric": "conversations", "value": 3}, {"metric": "median_wait_seconds",
                                                      "value": None}]  # fmt: skip
    assert to_csv(rows) == "metric,value\r\nconversations,3\r\nmedian_wait_seconds,\r\n"
    assert to_csv([]) == ""


@pytest.mark.parametrize("formula", ["=HYPERLINK(\"http://x.example\",\"hi\")", "+1+1", "-2+3",
                                     "@SUM(A1)", "\tx", "\r=1"])  # fmt: skip
def test_csv_cells_a_spreadsheet_would_run_get_an_apostrophe(formula: str) -> None:
    text = to_csv([{"text": formula, "count": -2}])
    (row,) = list(csv.DictReader(io.StringIO(text)))
    assert row == {"text": "'" + formula, "count": "-2"}


def test_csv_text_with_comma_quote_and_newline_round_trips() -> None:
    said = 'Preis, "P400"\nund Lieferzeit?'
    text = to_csv([{"text": said, "count": 2}, {"text": "plain", "count": 1}])
    assert list(csv.DictReader(io.StringIO(text))) == [
        {"text": said, "count": "2"},
        {"text": "plain", "count": "1"},
    ]


# --- unanswered questions ------------------------------------------------------------------


def unanswered_rows(engine: Engine) -> list[tuple[str, float, str, str | None]]:
    with engine.connect() as connection:
        query = select(unanswered.c.conversation_id, unanswered.c.at, unanswered.c.kind,
                       unanswered.c.text).order_by(unanswered.c.id)  # fmt: skip
        return [tuple(row) for row in connection.execute(query)]


def test_unanswered_questions_keep_a_bounded_collapsed_text(event_log: EventLog) -> None:
    questions = UnansweredQuestions(event_log.engine)
    questions.add("web-1", 1.0, "out_of_scope", "  Wie   wird\n\tdas Wetter?  ")
    questions.add("web-1", 2.0, "nlu_fallback", None)
    questions.add("web-1", 3.0, "made_up_kind", "   ")
    questions.add("web-2", 4.0, "out_of_depth", "abcdefghij   " * 50)
    questions.add("x" * 300, 5.0, "out_of_scope", "ü" * 400)
    rows = unanswered_rows(event_log.engine)
    assert rows[:3] == [("web-1", 1.0, "out_of_scope", "Wie wird das Wetter?"),
                        ("web-1", 2.0, "nlu_fallback", None),
                        ("web-1", 3.0, "nlu_fallback", None)]  # fmt: skip
    assert rows[3] == ("web-2", 4.0, "out_of_depth", ("abcdefghij " * 28)[:300])
    assert len(rows[3][3]) == 300
    assert rows[4] == ("x" * 255, 5.0, "out_of_scope", "ü" * 300)


def test_unanswered_questions_go_with_erasure_and_retention(event_log: EventLog) -> None:
    """(A withdrawal of consent takes the texts in the CRM store's transaction:
    tests/integration/test_privacy.py.)"""
    questions = UnansweredQuestions(event_log.engine)
    for at, conversation in enumerate(["web-1", "web-2", "web-3", "web-1"]):
        questions.add(conversation, float(at), "out_of_scope", f"Frage {at}")
    assert questions.delete_conversations([]) == 0
    assert questions.delete_conversations(["web-2", "nobody"]) == 1
    assert unanswered_rows(event_log.engine) == [
        ("web-1", 0.0, "out_of_scope", "Frage 0"), ("web-3", 2.0, "out_of_scope", "Frage 2"),
        ("web-1", 3.0, "out_of_scope", "Frage 3")]  # fmt: skip
    assert questions.delete_before(2.5) == 2
    assert unanswered_rows(event_log.engine) == [("web-1", 3.0, "out_of_scope", "Frage 3")]


def test_steps_and_variants_repeat_their_conversations_start_channel_and_language(
    event_log: EventLog,
) -> None:
    event_log.record(two_conversations())
    conversation = {row["conversation_id"]: {k: row[k] for k in REPEATED}
                    for row in rows_of(event_log.engine, summaries)}  # fmt: skip
    for table in (steps, variants):
        found = rows_of(event_log.engine, table, repeated=True)
        assert found
        for row in found:
            assert {k: row[k] for k in REPEATED} == conversation[row["conversation_id"]]
