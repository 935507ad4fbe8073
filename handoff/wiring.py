"""The composition root of the handoff desk: store, routing, texts and bot, from settings."""

from __future__ import annotations

import os
import time
from collections.abc import Callable
from datetime import datetime, timedelta
from functools import lru_cache
from pathlib import Path

from crm_adapter.crm_config import configured_names
from handoff.bot_port import RasaBot
from handoff.desk import Desk
from handoff.routing_model import load_routing_model
from handoff.store import HandoffStore, utc_now
from handoff.texts import load_handoff_texts
from lotse.database import make_engine
from lotse.settings import load_settings


@lru_cache(maxsize=4)
def handoff_store(url: str) -> HandoffStore:
    return HandoffStore(make_engine(url), configured_names())


def rasa_bot() -> RasaBot | None:
    settings = load_settings()
    return RasaBot(settings.rasa_url, settings.rasa_token) if settings.rasa_token else None


TEST_CLOCK_VARIABLE = "LOTSE_TEST_CLOCK_FILE"


def file_clock(path: Path) -> Callable[[], datetime]:
    """For tests of the running stack only: the file holds an ISO instant that was "now"
    when the file was written; time runs on from there. Rewriting the file moves the
    clock of every process (office hours, claim deadlines) at once."""

    def now() -> datetime:
        written = path.stat().st_mtime
        start = datetime.fromisoformat(path.read_text(encoding="utf-8").strip())
        return start + timedelta(seconds=time.time() - written)

    return now


def desk_clock() -> Callable[[], datetime]:
    path = os.environ.get(TEST_CLOCK_VARIABLE)
    return file_clock(Path(path)) if path else utc_now


@lru_cache(maxsize=1)
def desk() -> Desk:
    settings = load_settings()
    return Desk(
        handoff_store(settings.database_url),
        load_routing_model(),
        load_handoff_texts(),
        bot=rasa_bot(),
        clock=desk_clock(),
    )
