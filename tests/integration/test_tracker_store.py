"""The SQLite tracker store: one row per conversation, kept across restarts."""

from __future__ import annotations

import asyncio
import sqlite3
from pathlib import Path

import pytest
from rasa.core.brokers.broker import EventBroker
from rasa.shared.core.domain import Domain
from rasa.shared.core.events import ActionExecuted, BotUttered, SlotSet, UserUttered
from rasa.shared.core.trackers import DialogueStateTracker

from bot.tracker_store import SQLiteTrackerStore


def conversation(sender: str) -> DialogueStateTracker:
    tracker = DialogueStateTracker(sender, [])
    for event in (
        ActionExecuted("action_listen"),
        UserUttered("Grüß Gott, was kostet die P400? 🙂", {"name": "faq_press_price"}),
        BotUttered("ab 140.000 EUR"),
        SlotSet("qualification", {"asking": "need", "noted": {"need": "presses"}}),
    ):
        tracker.update(event)
    return tracker


def test_a_conversation_survives_a_restart(tmp_path: Path) -> None:
    db = str(tmp_path / "var" / "tracker.db")

    async def scenario() -> DialogueStateTracker | None:
        await SQLiteTrackerStore(Domain.empty(), db=db).save(conversation("visitor-1"))
        restarted = SQLiteTrackerStore(Domain.empty(), db=db)
        assert list(await restarted.keys()) == ["visitor-1"]
        assert await restarted.retrieve("nobody") is None
        return await restarted.retrieve("visitor-1")

    tracker = asyncio.run(scenario())
    assert tracker is not None
    assert tracker.latest_message.text == "Grüß Gott, was kostet die P400? 🙂"
    assert [e.as_dict()["event"] for e in tracker.events] == ["action", "user", "bot", "slot"]
    with sqlite3.connect(db) as connection:
        assert connection.execute("PRAGMA journal_mode").fetchone()[0] == "wal"


def test_saving_again_replaces_the_row(tmp_path: Path) -> None:
    store = SQLiteTrackerStore(Domain.empty(), db=str(tmp_path / "t.db"))
    tracker = conversation("v")

    async def scenario() -> int:
        await store.save(tracker)
        tracker.update(BotUttered("noch etwas?"))
        await store.save(tracker)
        again = await store.retrieve("v")
        return len(again.events) if again else 0

    assert asyncio.run(scenario()) == 5
    assert len(store.store) == 1


class RecordingBroker(EventBroker):
    def __init__(self) -> None:
        self.published: list[dict] = []

    def publish(self, event: dict) -> None:
        self.published.append(event)


def test_each_event_is_published_once_without_reading_the_conversation_back(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    broker = RecordingBroker()
    store = SQLiteTrackerStore(Domain.empty(), db=str(tmp_path / "t.db"), event_broker=broker)
    tracker = conversation("v")
    reads: list[str] = []
    retrieve = store.retrieve

    async def counted(sender_id: str) -> DialogueStateTracker | None:
        reads.append(sender_id)
        return await retrieve(sender_id)

    monkeypatch.setattr(store, "retrieve", counted)

    async def scenario() -> None:
        await store.save(tracker)  # unknown to this process: Rasa's way, one read
        tracker.update(BotUttered("noch etwas?"))
        tracker.update(UserUttered("nein danke", {"name": "deny"}))
        await store.save(tracker)  # known: no read
        await store.save(tracker)  # nothing new

    asyncio.run(scenario())
    assert reads == ["v"]
    assert [e["event"] for e in broker.published] == ["action", "user", "bot", "slot", "bot",
                                                      "user"]  # fmt: skip
    assert {e["sender_id"] for e in broker.published} == {"v"}


def test_a_conversation_begun_anew_under_the_same_id_is_published_whole(tmp_path: Path) -> None:
    broker = RecordingBroker()
    store = SQLiteTrackerStore(Domain.empty(), db=str(tmp_path / "t.db"), event_broker=broker)

    async def scenario() -> None:
        await store.save(conversation("v"))
        del store.store["v"]  # an erasure (privacy/erasure.py)
        again = DialogueStateTracker("v", [])
        for text in ("eins", "zwei", "drei", "vier", "fünf"):  # longer than the first
            again.update(UserUttered(text, {"name": "greet"}))
        await store.save(again)

    asyncio.run(scenario())
    texts = [e.get("text") for e in broker.published if e["event"] == "user"]
    assert texts == ["Grüß Gott, was kostet die P400? 🙂", "eins", "zwei", "drei", "vier",
                     "fünf"]  # fmt: skip


def test_after_a_failed_save_the_events_are_published_again(tmp_path: Path) -> None:
    broker = RecordingBroker()
    store = SQLiteTrackerStore(Domain.empty(), db=str(tmp_path / "t.db"), event_broker=broker)
    tracker = conversation("v")
    texts = store.store

    class Failing(dict):
        def __setitem__(self, key: str, value: str) -> None:
            raise sqlite3.OperationalError("disk I/O error")

    async def scenario() -> None:
        await store.save(tracker)
        tracker.update(BotUttered("noch etwas?"))
        store.store = Failing()  # type: ignore[assignment]
        with pytest.raises(sqlite3.OperationalError):
            await store.save(tracker)
        store.store = texts
        await store.save(tracker)

    asyncio.run(scenario())
    kinds = [e["event"] for e in broker.published]
    assert kinds == ["action", "user", "bot", "slot", "bot", "bot"]  # the last one twice


def test_the_saved_tracker_is_handed_on_once_to_the_next_turn(tmp_path: Path) -> None:
    store = SQLiteTrackerStore(Domain.empty(), db=str(tmp_path / "t.db"))
    tracker = conversation("v")

    async def scenario() -> tuple[object, object, object]:
        await store.save(tracker)
        first = await store.retrieve("v")
        second = await store.retrieve("v")  # not saved since: read back
        return first, second, await store.retrieve("nobody")

    first, second, nobody = asyncio.run(scenario())
    assert first is tracker
    assert second is not tracker and second is not None
    assert [e.as_dict() for e in second.events] == [e.as_dict() for e in tracker.events]
    assert nobody is None


def test_a_held_tracker_is_the_tracker_rasa_would_read_back(tmp_path: Path) -> None:
    """What the next turn sees is the same whether handed on or read back: its
    state, its latest message and action, its slots and a pending follow-up action."""
    from rasa.shared.core.events import ActiveLoop, FollowupAction, SessionStarted

    domain = Domain.from_yaml(
        "version: '3.1'\nslots:\n  qualification:\n    type: any\n    mappings: []\n"
    )
    db = str(tmp_path / "t.db")
    store = SQLiteTrackerStore(domain, db=db)
    tracker = DialogueStateTracker.from_events("v", [], domain.slots)
    for event in (
        ActionExecuted("action_session_start"),
        SessionStarted(),
        ActionExecuted("action_listen"),
        UserUttered("was kostet die P400", {"name": "faq_press_price", "confidence": 0.9}),
        SlotSet("qualification", {"asking": "need"}),
        ActiveLoop("qualification_form"),
        FollowupAction("qualification_form"),
    ):
        tracker.update(event)

    async def scenario() -> tuple[DialogueStateTracker | None, DialogueStateTracker | None]:
        await store.save(tracker)
        held = await store.retrieve("v")
        read = await SQLiteTrackerStore(domain, db=db).retrieve("v")
        return held, read

    held, read = asyncio.run(scenario())
    assert held is tracker and read is not None
    assert held.current_state() == read.current_state()
    assert held.latest_action == read.latest_action
    assert held.followup_action == read.followup_action == "qualification_form"
    assert held.active_loop == read.active_loop
    assert held.get_slot("qualification") == read.get_slot("qualification")


def test_a_conversation_changed_elsewhere_is_read_back_not_handed_on(tmp_path: Path) -> None:
    """An erasure or another writer (the console, the command) changes the stored text:
    the tracker held from the last save is not used."""
    db = str(tmp_path / "t.db")
    store = SQLiteTrackerStore(Domain.empty(), db=db)
    tracker = conversation("v")

    async def scenario() -> tuple[object, object]:
        await store.save(tracker)
        with sqlite3.connect(db) as other:  # another process erases it
            other.execute("DELETE FROM conversations WHERE sender_id = 'v'")
        erased = await store.retrieve("v")
        await store.save(tracker)
        rewritten = DialogueStateTracker("v", [])
        rewritten.update(UserUttered("neu", {"name": "greet"}))
        other_store = SQLiteTrackerStore(Domain.empty(), db=db)
        await other_store.save(rewritten)
        return erased, await store.retrieve("v")

    erased, again = asyncio.run(scenario())
    assert erased is None
    assert again is not tracker and again is not None
    assert [e.as_dict().get("text") for e in again.events] == ["neu"]


def test_events_added_after_the_save_are_not_handed_on(tmp_path: Path) -> None:
    store = SQLiteTrackerStore(Domain.empty(), db=str(tmp_path / "t.db"))
    tracker = conversation("v")

    async def scenario() -> DialogueStateTracker | None:
        await store.save(tracker)
        tracker.update(BotUttered("nie gespeichert"))  # a turn that failed before its save
        return await store.retrieve("v")

    again = asyncio.run(scenario())
    assert again is not tracker and again is not None
    assert len(again.events) == 4


def test_a_tracker_that_began_a_new_session_is_read_back_to_its_last_session(
    tmp_path: Path,
) -> None:
    from rasa.shared.core.events import SessionStarted

    store = SQLiteTrackerStore(Domain.empty(), db=str(tmp_path / "t.db"))
    tracker = conversation("v")
    for event in (ActionExecuted("action_session_start"), SessionStarted(),
                  ActionExecuted("action_listen")):  # fmt: skip
        tracker.update(event)

    async def scenario() -> tuple[DialogueStateTracker | None, DialogueStateTracker | None]:
        await store.save(tracker)
        return await store.retrieve("v"), await store.retrieve_full_tracker("v")

    last, full = asyncio.run(scenario())
    assert last is not tracker and last is not None and full is not None
    assert [e.as_dict()["event"] for e in last.events] == ["action", "session_started", "action"]
    assert len(full.events) == 7


def test_forgetting_drops_the_held_tracker_and_the_row(tmp_path: Path) -> None:
    store = SQLiteTrackerStore(Domain.empty(), db=str(tmp_path / "t.db"))

    async def scenario() -> DialogueStateTracker | None:
        await store.save(conversation("v"))
        store.forget("v")
        return await store.retrieve("v")

    assert asyncio.run(scenario()) is None
    assert store.held == {} and "v" not in store.store


def test_held_trackers_are_bounded_and_dropped_with_another_model(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import bot.tracker_store as module

    monkeypatch.setattr(module, "HELD_CONVERSATIONS", 3)
    store = SQLiteTrackerStore(Domain.empty(), db=str(tmp_path / "t.db"))

    async def scenario() -> None:
        for n in range(5):
            await store.save(conversation(f"v{n}"))

    asyncio.run(scenario())
    assert list(store.held) == ["v2", "v3", "v4"]
    store.domain = Domain.empty()
    assert store.held == {}


def test_the_text_written_is_rasas_serialisation_to_the_byte(tmp_path: Path) -> None:
    """Turn after turn (the tracker handed on, only the new events serialised), and for
    a tracker read back, the stored text is Rasa's own `serialise_tracker`."""
    store = SQLiteTrackerStore(Domain.empty(), db=str(tmp_path / "t.db"))
    written: list[bool] = []

    async def scenario() -> None:
        await store.save(conversation("v"))
        for n in range(3):
            tracker = await store.retrieve("v")
            assert tracker is not None
            tracker.update(UserUttered(f"Frage {n} – „Preis“?", {"name": "faq_press_price"}))
            tracker.update(BotUttered(f"Antwort {n} 🙂", {"elements": None}))
            await store.save(tracker)
            written.append(store.store["v"] == SQLiteTrackerStore.serialise_tracker(tracker))
        fresh = SQLiteTrackerStore(Domain.empty(), db=str(tmp_path / "t.db"))
        again = await fresh.retrieve("v")
        assert again is not None
        again.update(BotUttered("noch etwas?"))
        await fresh.save(again)
        written.append(fresh.store["v"] == SQLiteTrackerStore.serialise_tracker(again))

    asyncio.run(scenario())
    assert written == [True, True, True, True]
