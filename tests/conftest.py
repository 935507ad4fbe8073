"""Shared fixtures: a clean environment per test, and (for `model`/`browser` tests)
one running Lotse stack per session on ports of its own."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest

from lotse.settings import Settings


@pytest.fixture(autouse=True)
def clean_environment(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    """No test depends on the developer's shell: Lotse variables are cleared, and the
    store lives in the test's own temporary folder."""
    for name in list(os.environ):
        if name.startswith("LOTSE_"):
            monkeypatch.delenv(name)
    monkeypatch.setenv("LOTSE_DATABASE_URL", f"sqlite:///{tmp_path / 'lotse.db'}")
    from bot.actions.handoff import handoff_store
    from bot.actions.qualification import crm
    from crm_adapter.connect import open_crm

    handoff_store.cache_clear()
    crm.cache_clear()
    open_crm.cache_clear()


@pytest.fixture(scope="session")
def stack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Settings]:
    """The whole bot (Rasa, action server, website) on test ports, started once."""
    from lotse.runner import Stack
    from lotse.training import ensure_model

    data_dir = tmp_path_factory.mktemp("stack")
    settings = Settings(
        database_url=f"sqlite:///{data_dir / 'lotse.db'}",
        rasa_port=int(os.environ.get("LOTSE_TEST_RASA_PORT", "15005")),
        action_port=int(os.environ.get("LOTSE_TEST_ACTION_PORT", "15055")),
        web_port=int(os.environ.get("LOTSE_TEST_WEB_PORT", "18080")),
        host="127.0.0.1",
    )
    running = Stack(settings, ensure_model(), data_dir=data_dir, quiet=True)
    running.start()
    try:
        running.wait_ready()
        yield settings
    finally:
        running.stop()
