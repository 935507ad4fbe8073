"""`lotse insights rebuild`: summaries anew from the event log (an upgrade's old events)."""

from __future__ import annotations

from pathlib import Path

import pytest
from sqlalchemy import delete, func, select

from insights.event_log import EventLog
from lotse.migrate import migrated_engine
from lotse.shared_tables import summaries
from ops.cli import main


def test_rebuild_makes_the_summaries_of_events_that_have_none(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    url = f"sqlite:///{tmp_path / 'lotse.db'}"
    monkeypatch.setenv("LOTSE_DATABASE_URL", url)
    log = EventLog(migrated_engine(url))
    log.record([
        {"sender_id": f"web-{n}", "event": "user", "timestamp": 1_795_000_000.0 + n,
         "parse_data": {"intent": {"name": "faq_price"}}, "input_channel": "rest"}
        for n in range(3)
    ])  # fmt: skip
    with log.engine.begin() as connection:  # as before the upgrade: events, no summaries
        connection.execute(delete(summaries))
    assert main(["insights", "rebuild"]) == 0
    assert "summaries of 3 conversation(s) rebuilt" in capsys.readouterr().out
    with log.engine.connect() as connection:
        rows = connection.execute(
            select(summaries.c.conversation_id, summaries.c.engaged).order_by("conversation_id")
        ).all()
        assert [tuple(r) for r in rows] == [("web-0", True), ("web-1", True), ("web-2", True)]
        assert connection.execute(select(func.count()).select_from(summaries)).scalar() == 3
