"""Tracker store failures (bot/loud_tracker_store.py): retried, then raised; never a
fresh conversation from a failed read, never a save into one process's memory. Once
with a store that fails on cue, once with Rasa's SQL tracker store on PostgreSQL whose
connections are cut (tests/support/tcp_proxy.py) and restored."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator

import pytest
from rasa.core.agent import Agent
from rasa.core.tracker_store import FailSafeTrackerStore, InMemoryTrackerStore, SQLTrackerStore
from rasa.shared.core.domain import Domain
from rasa.shared.core.events import SlotSet, UserUttered
from rasa.shared.core.trackers import DialogueStateTracker
from sqlalchemy.engine import make_url

from bot.loud_tracker_store import (
    LoudTrackerStore,
    TrackerStoreUnavailable,
    erased_conversations,
    install,
)
from tests.integration.test_crm_store import postgres_database
from tests.support.tcp_proxy import TcpProxy


class FailingOnCue(InMemoryTrackerStore):
    """An in-memory store that fails its next `failures` calls."""

    failures = 0

    def _maybe_fail(self) -> None:
        if self.failures:
            self.failures -= 1
            raise ConnectionError("database restarting")

    async def save(self, tracker: DialogueStateTracker) -> None:
        self._maybe_fail()
        await super().save(tracker)

    async def retrieve(self, sender_id: str) -> DialogueStateTracker | None:
        self._maybe_fail()
        return await super().retrieve(sender_id)


def said(text: str, sender: str = "web-1") -> DialogueStateTracker:
    return DialogueStateTracker.from_events(sender, [UserUttered(text)])


def texts(tracker: DialogueStateTracker | None) -> list[str]:
    assert tracker is not None
    return [e.text for e in tracker.events if isinstance(e, UserUttered)]


def test_rasas_fail_safe_store_forgets_a_conversation_on_a_failed_read() -> None:
    inner = FailingOnCue(Domain.empty())
    asyncio.run(inner.save(said("Hallo")))
    inner.failures = 1
    assert asyncio.run(FailSafeTrackerStore(inner).retrieve("web-1")) is None  # the gap


def test_a_passing_failure_is_retried_and_a_lasting_one_raised() -> None:
    inner = FailingOnCue(Domain.empty())
    store = LoudTrackerStore(inner, pause_seconds=0)
    inner.failures = 2
    asyncio.run(store.save(said("Hallo")))
    inner.failures = 2
    assert texts(asyncio.run(store.retrieve("web-1"))) == ["Hallo"]
    inner.failures = 3
    with pytest.raises(TrackerStoreUnavailable):
        asyncio.run(store.retrieve("web-1"))
    inner.failures = 3
    with pytest.raises(TrackerStoreUnavailable):
        asyncio.run(store.save(said("Noch da?")))
    assert store._fallback_tracker_store is None  # nothing went to memory instead
    assert texts(asyncio.run(store.retrieve("web-1"))) == ["Hallo"]


def test_rasa_agents_of_the_rasa_process_use_it() -> None:
    original = Agent.__dict__["_create_tracker_store"]  # the staticmethod itself
    try:
        install()
        created = Agent._create_tracker_store(InMemoryTrackerStore(Domain.empty()), Domain.empty())
        assert isinstance(created, LoudTrackerStore)
    finally:
        Agent._create_tracker_store = original


@pytest.fixture
def postgres_proxy() -> Iterator[tuple[str, TcpProxy]]:
    with postgres_database() as url:
        parsed = make_url(url)
        with TcpProxy(parsed.host or "127.0.0.1", parsed.port or 5432) as proxy:
            yield url, proxy


def test_sql_tracker_store_on_postgresql_cut_and_restored(postgres_proxy) -> None:
    url, proxy = postgres_proxy
    parsed = make_url(url)
    sql = SQLTrackerStore(Domain.empty(), dialect="postgresql", host="127.0.0.1",
                          port=proxy.port, db=parsed.database, username=parsed.username,
                          password=parsed.password)  # fmt: skip
    store = LoudTrackerStore(sql, pause_seconds=0.1)

    async def conversation() -> None:
        await store.save(said("Was kostet eine P400?"))
        proxy.cut()  # the pooled connection dies; new ones are refused
        with pytest.raises(TrackerStoreUnavailable):
            await store.retrieve("web-1")
        proxy.restore()
        tracker = await store.retrieve("web-1")  # a dead pooled connection is replaced
        assert texts(tracker) == ["Was kostet eine P400?"]
        tracker.update(UserUttered("Und die P200?"))
        await store.save(tracker)
        assert texts(await store.retrieve("web-1")) == ["Was kostet eine P400?", "Und die P200?"]

    try:
        asyncio.run(conversation())
    finally:
        sql.engine.dispose()


def erasable_domain() -> Domain:
    return Domain.from_dict(
        {"slots": {"erased": {"type": "bool", "mappings": [{"type": "custom"}]}}}
    )


def erased(tracker: DialogueStateTracker) -> DialogueStateTracker:
    """The tracker after the turn in which the visitor had everything erased."""
    tracker.update(SlotSet("erased", True))
    return tracker


def test_an_erased_conversation_is_deleted_instead_of_saved() -> None:
    domain = erasable_domain()
    memory = InMemoryTrackerStore(domain)
    store = LoudTrackerStore(memory)

    async def conversation() -> None:
        await store.save(said("anna@mueller-metallbau.example"))
        tracker = await store.retrieve("web-1")
        await store.save(erased(tracker))
        assert await store.retrieve("web-1") is None
        await store.save(said("Hallo", "web-2"))
        assert await store.retrieve("web-2") is not None  # others are kept

    asyncio.run(conversation())


def test_an_erased_conversation_leaves_rasas_sql_store_too() -> None:
    domain = erasable_domain()
    with postgres_database() as url:
        parsed = make_url(url)
        sql = SQLTrackerStore(domain, dialect="postgresql", host=parsed.host, port=parsed.port,
                              db=parsed.database, username=parsed.username,
                              password=parsed.password)  # fmt: skip
        store = LoudTrackerStore(sql)

        async def conversation() -> None:
            await store.save(said("anna@mueller-metallbau.example"))
            tracker = await store.retrieve("web-1")
            await store.save(erased(tracker))
            assert await sql.retrieve("web-1") is None
            assert "web-1" not in await sql.keys()

        try:
            asyncio.run(conversation())
        finally:
            sql.engine.dispose()


def test_a_conversation_erased_while_its_turn_ran_is_not_saved_back() -> None:
    """The command or the console erased it mid-turn: the turn's save deletes instead
    of writing the whole conversation back."""
    store = LoudTrackerStore(InMemoryTrackerStore(erasable_domain()))

    async def conversation() -> None:
        await store.save(said("anna@mueller-metallbau.example"))
        running = await store.retrieve("web-1")
        erased_conversations().mark(["web-1"])  # meanwhile, lotse privacy erase
        running.update(UserUttered("und noch etwas"))
        await store.save(running)
        assert await store.retrieve("web-1") is None
        await store.save(said("Hallo", "web-2"))
        assert await store.retrieve("web-2") is not None  # others are kept

    asyncio.run(conversation())
