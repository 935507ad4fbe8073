"""The composition root (wiring/services.py): one engine per database and process, the
schema migrated once, every store built on it."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import inspect

import lotse.database
import lotse.migrate
from wiring.services import forget, services, services_for


@pytest.fixture
def counted(monkeypatch: pytest.MonkeyPatch) -> Iterator[dict[str, int]]:
    """How many engines were created and schemas migrated since the fixture began."""
    counts = {"engines": 0, "migrations": 0}
    create, upgrade = lotse.database.create_engine, lotse.migrate._upgrade

    def counting_create(*args: Any, **kwargs: Any) -> Any:
        counts["engines"] += 1
        return create(*args, **kwargs)

    def counting_upgrade(engine: Any) -> None:
        counts["migrations"] += 1
        upgrade(engine)

    monkeypatch.setattr(lotse.database, "create_engine", counting_create)
    monkeypatch.setattr(lotse.migrate, "_upgrade", counting_upgrade)
    forget()
    yield counts
    forget()


def test_every_store_of_the_action_server_shares_one_engine(counted: dict[str, int]) -> None:
    from bot.actions.leads import crm
    from bot.actions.privacy import personal_stores
    from bot.actions.unanswered import unanswered_questions
    from bot.channels.ownership_gate import OwnershipGate
    from bot.loud_tracker_store import erased_conversations
    from wiring.services import desk

    root = services()
    stores = [crm(), desk().store, unanswered_questions(), erased_conversations(),
              personal_stores(), root.addresses, root.event_log, root.staff]  # fmt: skip
    assert OwnershipGate(desk()).desk is desk()
    assert counted == {"engines": 1, "migrations": 1}
    assert {id(engine_of(store)) for store in stores} == {id(root.engine)}


def engine_of(store: Any) -> Any:
    return getattr(store, "engine", None) or store._engine


def test_the_console_opens_one_pool_and_migrates_once(counted: dict[str, int]) -> None:
    from console.server import context

    made = context()
    assert counted == {"engines": 1, "migrations": 1}
    assert made.privacy is not None and made.privacy.engine is services().engine
    assert engine_of(made.desk.store) is engine_of(made.auth) is services().engine


def test_a_fresh_database_gets_its_schema_when_first_used(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'fresh.db'}"
    root = services_for(url)
    tables = set(inspect(root.engine).get_table_names())
    assert {"crm_contacts", "handoffs", "conversation_events", "channel_addresses"} <= tables
    assert services_for(url) is root  # built once per process


def test_the_configured_database_follows_the_settings_until_forgotten(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    first = services()
    monkeypatch.setenv("LOTSE_DATABASE_URL", f"sqlite:///{tmp_path / 'other.db'}")
    assert services() is first  # read once: the message path does not read settings again
    forget()
    assert services() is not first and services().database_url.endswith("other.db")
