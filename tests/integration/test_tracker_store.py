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
