"""The insights dashboard's server time at 10,000, 100,000 and 1,000,000 stored events.

Usage: .venv/bin/python bench/insights.py [--sizes 10000,100000,1000000] [--runs 7]
       [--database postgresql://127.0.0.1:5432/lotse_bench_insights] [--sqlite-up-to N]

Fills a fresh PostgreSQL database (dropped and created; the server of `--database`,
trust auth) with synthetic conversations written the way the bot writes them: Rasa
events through the event log (`EventLog.record`, so every conversation gets its
summary rows), plus, for the conversations that become leads, the CRM rows (contacts,
lifecycle stages, answers, interest events, sales verdicts), handoffs and unanswered
questions. Sizes grow in place (10k, then 90k more, ...). At each size it times what
`GET /console/insights` does on the server: the report for the last 30 days (every
conversation), the filter choices and the HTML with its charts; also the JSON report
with a channel filter. Median and fastest of `--runs` runs after one warm-up, and the
ratio to the smallest size measured in the same run (these machines are noisy).
The same on SQLite (the embedded profile) up to `--sqlite-up-to` events.

Target: under 300 ms at 1,000,000 events on PostgreSQL. Prints figures; asserts nothing.
"""

from __future__ import annotations

import argparse
import gc
import random
import statistics
import sys
import tempfile
import time
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date, datetime, timedelta, timezone
from pathlib import Path
from typing import Any

from sqlalchemy import create_engine, insert, text
from sqlalchemy.engine import Engine, make_url

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from crm_adapter.store.models import (  # noqa: E402
    AnswerRow,
    Contact,
    Conversation,
    FeedbackRow,
    InterestEventRow,
    StageRow,
)
from dialogue.experiments import load_experiments  # noqa: E402
from handoff.store import HandoffStore, handoffs  # noqa: E402
from insights.dashboard_page import render  # noqa: E402
from insights.event_log import EventLog  # noqa: E402
from insights.filters import Filters  # noqa: E402
from insights.report import Insights, question_order  # noqa: E402
from lotse.database import make_engine  # noqa: E402
from lotse.shared_tables import unanswered  # noqa: E402

DEFAULT_DATABASE = "postgresql://postgres@127.0.0.1:5432/lotse_bench_insights"
CHANNELS = ("rest", "rest", "rest", "telegram", "twilio", "facebook")
QUESTIONS = tuple(question_order())  # the questionnaire's, then the consent
FAQ = ("faq_price", "faq_delivery_time", "faq_warranty", "faq_service", "faq_software")
INTEREST = ("asked_price", "asked_delivery_time", "requested_demo", "short_timeline")
UNANSWERED = (
    "Habt ihr auch Kantinenessen?",
    "Wie wird das Wetter morgen?",
    "Liefert ihr nach Polen?",
    "Do you ship to Poland?",
    "Gibt es Jobs bei euch?",
)
BATCH_CONVERSATIONS = 400


@dataclass
class Synthetic:
    """One synthetic conversation: its events and what it became."""

    conversation_id: str
    channel: str
    started: float
    events: list[dict[str, Any]]
    lead: bool = False
    stage: str | None = None
    handoff: bool = False
    unanswered: int = 0


def conversation(index: int, now: float, rng: random.Random) -> Synthetic:
    cid = f"bench-{index:08d}"
    channel = rng.choice(CHANNELS)
    at = now - rng.uniform(60, 29 * 86400)
    started = at
    events: list[dict[str, Any]] = []

    def add(kind: str, **fields: Any) -> None:
        nonlocal at
        at += rng.uniform(0.05, 4)
        events.append({"sender_id": cid, "event": kind, "timestamp": at, **fields})

    def user(intent: str) -> None:
        add(
            "user",
            parse_data={"intent": {"name": intent, "confidence": 0.9}},
            input_channel=channel,
        )

    def bot(action: str) -> None:
        add("action", name=action)
        add("bot")

    add("action", name="action_session_start")
    add("session_started")
    add("slot", name="language", value=rng.choice(("de", "de", "en")))
    experiment = load_experiments()[0]
    add("slot", name=experiment.slot, value=experiment.assign(cid))
    add("action", name="action_listen")
    user("greet")
    bot("utter_greet")
    add("action", name="action_listen")
    made = Synthetic(cid, channel, started, events)
    if rng.random() < 0.15:  # greeting only
        return made
    for _ in range(rng.randint(1, 3)):
        user(rng.choice(FAQ))
        bot("utter_" + rng.choice(FAQ))
        add("action", name="action_listen")
    if rng.random() < 0.1:
        user("nlu_fallback")
        add("action", name="action_note_unanswered")
        bot("utter_ask_rephrase")
        made.unanswered += 1
    bot(experiment.response)
    if rng.random() < 0.35:
        qualify(made, user, add, rng)
    if rng.random() < 0.05:
        user("request_human")
        add("action", name="action_request_handoff")
        add("slot", name="handoff_requested", value=True)
        made.handoff = True
    if rng.random() < 0.25:
        user("goodbye")
        bot("utter_goodbye")
        user("rate")
        add("slot", name="rating", value=f"end:{rng.randint(1, 5)}")
    return made


def qualify(made: Synthetic, user: Any, add: Any, rng: random.Random) -> None:
    user("affirm")
    add("active_loop", name="qualification_form")
    stop = rng.randint(2, len(QUESTIONS) + 3)
    for number, question in enumerate(QUESTIONS):
        add("slot", name="qualification_step", value=f"{question}:asked")
        if number >= stop:
            return
        user("nlu_fallback")
        state = "declined" if rng.random() < 0.08 else "answered"
        add("slot", name="qualification_step", value=f"{question}:{state}")
    made.lead = True
    made.stage = rng.choices(
        ("lead", "marketing_qualified_lead", "sales_qualified_lead"), (5, 4, 1)
    )[0]


def generated(count: int, start: int, now: float, seed: int) -> Iterator[Synthetic]:
    rng = random.Random(seed)
    for index in range(start, start + count):
        yield conversation(index, now, rng)


def crm_rows(engine: Engine, made: list[Synthetic], rng: random.Random) -> None:
    """Leads, stages, answers, interest, verdicts, handoffs, unanswered questions."""
    now = datetime.now(timezone.utc)
    with engine.begin() as connection:
        for item in made:
            if item.unanswered:
                text_ = rng.choice(UNANSWERED) if rng.random() < 0.4 else None
                connection.execute(
                    insert(unanswered).values(
                        conversation_id=item.conversation_id,
                        at=item.started + 30,
                        kind="nlu_fallback",
                        text=text_,
                    )
                )
            if item.handoff:
                requested = now - timedelta(seconds=rng.uniform(3600, 86400 * 20))
                claimed = requested + timedelta(seconds=rng.uniform(10, 600))
                connection.execute(
                    insert(handoffs).values(
                        conversation_id=item.conversation_id,
                        state="closed",
                        reason="visitor_asked",
                        language="de",
                        channel=item.channel,
                        need="sales",
                        team="sales",
                        responsible=[],
                        explanation=[],
                        requested_at=requested,
                        claim_deadline=requested + timedelta(minutes=5),
                        claimed_at=claimed,
                        closed_at=claimed,
                        version=3,
                        updated_at=claimed,
                    )
                )
            if item.lead:
                lead(connection, item, now, rng)


def lead(connection: Any, item: Synthetic, now: datetime, rng: random.Random) -> None:
    contact_id = connection.execute(
        insert(Contact.__table__).values(
            email=f"{item.conversation_id}@example.org",
            freemail=False,
            stage=item.stage,
            accepted=False,
            rejected=False,
            created_at=now,
            updated_at=now,
        )
    ).inserted_primary_key[0]
    connection.execute(
        insert(Conversation.__table__).values(
            conversation_id=item.conversation_id,
            channel=item.channel,
            language="de",
            contact_id=contact_id,
            started_at=now,
            last_seen_at=now,
        )
    )
    for stage in ("lead", "marketing_qualified_lead", "sales_qualified_lead"):
        connection.execute(
            insert(StageRow.__table__).values(
                contact_id=contact_id,
                old_stage=None,
                new_stage=stage,
                cause="bench",
                actor="bot",
                at=now,
            )
        )
        if stage == item.stage:
            break
    for attribute, value in (
        ("employees", {"count": rng.choice((20, 60, 90, 300, 900))}),
        ("industry", {"key": rng.choice(("metalworking", "food"))}),
        ("role", {"key": rng.choice(("owner_md", "engineer"))}),
        ("location", {"country": rng.choice(("DE", "AT", "US"))}),
    ):
        connection.execute(
            insert(AnswerRow.__table__).values(
                contact_id=contact_id,
                conversation_id=item.conversation_id,
                attribute=attribute,
                value=value,
                status="answered",
                source="bot",
                created_at=now,
            )
        )
    for kind in rng.sample(INTEREST, rng.randint(1, 3)):
        connection.execute(
            insert(InterestEventRow.__table__).values(
                contact_id=contact_id, kind=kind, at=now, conversation_id=item.conversation_id
            )
        )
    if rng.random() < 0.3:
        decision = "accept" if rng.random() < 0.5 else "reject"
        connection.execute(
            insert(FeedbackRow.__table__).values(
                contact_id=contact_id,
                decision=decision,
                reason="bench",
                fit=rng.randint(0, 100),
                interest=rng.randint(0, 100),
                actor="sales",
                at=now,
            )
        )
        column = "accepted" if decision == "accept" else "rejected"
        connection.execute(
            text(f"UPDATE crm_contacts SET {column} = true WHERE id = :id"), {"id": contact_id}
        )


def fill(engine: Engine, log: EventLog, events_wanted: int, state: dict[str, int]) -> None:
    """Adds conversations until the event log holds `events_wanted` events."""
    rng = random.Random(state["next"])
    now = time.time()
    while state["events"] < events_wanted:
        batch = list(generated(BATCH_CONVERSATIONS, state["next"], now, state["next"]))
        events = [event for item in batch for event in item.events]
        overshoot = state["events"] + len(events) - events_wanted
        if overshoot > 0:  # the last conversations only partly, to land on the size
            events = events[: len(events) - overshoot]
            batch = [
                item for item in batch if item.conversation_id in {e["sender_id"] for e in events}
            ]
        log.record(events)
        crm_rows(engine, batch, rng)
        state["events"] += len(events)
        state["next"] += BATCH_CONVERSATIONS


def timed(work: Any, runs: int) -> tuple[float, float]:
    work()  # warm-up
    times = []
    for _ in range(runs):
        start = time.perf_counter()
        work()
        times.append((time.perf_counter() - start) * 1000)
    return statistics.median(times), min(times)


def measure(engine: Engine, runs: int) -> dict[str, tuple[float, float]]:
    # As the console does once started (console/server.py): what is loaded stays,
    # so the collector's full passes do not walk it during a request.
    gc.collect()
    gc.freeze()
    insights = Insights(engine, questions=question_order())
    today = datetime.now(timezone.utc).date()
    everything = Filters.parse({}, today)
    telegram = Filters.parse({"channel": "telegram"}, today)

    def page() -> None:
        render(insights.report(everything), insights.choices())

    return {
        "page": timed(page, runs),
        "json, channel filter": timed(lambda: insights.report(telegram), runs),
    }


def counts(engine: Engine) -> dict[str, int]:
    with engine.connect() as connection:
        return {
            table: connection.execute(text(f"SELECT count(*) FROM {table}")).scalar_one()
            for table in (
                "conversation_events",
                "conversation_summaries",
                "crm_contacts",
                "crm_feedback",
                "conversation_steps",
            )
        }


def fresh_postgres(url: str) -> Engine:
    parsed = make_url(url)
    admin = create_engine(parsed.set(database="postgres"), isolation_level="AUTOCOMMIT")
    with admin.connect() as connection:
        connection.execute(text(f'DROP DATABASE IF EXISTS "{parsed.database}" WITH (FORCE)'))
        connection.execute(text(f'CREATE DATABASE "{parsed.database}"'))
    admin.dispose()
    return make_engine(url)


def run(engine: Engine, sizes: list[int], runs: int, label: str) -> None:
    HandoffStore(engine)  # the whole schema
    log = EventLog(engine)
    state = {"events": 0, "next": 0}
    baseline: float | None = None
    print(f"\n{label}")
    print(
        f"{'events':>10} {'conversations':>14} {'leads':>7} {'fill s':>8} "
        f"{'page ms (median/min)':>22} {'ratio':>6} {'json+filter ms':>16}"
    )
    for size in sizes:
        started = time.perf_counter()
        fill(engine, log, size, state)
        filled = time.perf_counter() - started
        with engine.begin() as connection:
            connection.execute(text("ANALYZE"))  # fresh statistics, as autovacuum keeps them
        figures = measure(engine, runs)
        numbers = counts(engine)
        page_median, page_min = figures["page"]
        baseline = baseline or page_median
        json_median, _ = figures["json, channel filter"]
        print(
            f"{numbers['conversation_events']:>10,} {numbers['conversation_summaries']:>14,} "
            f"{numbers['crm_contacts']:>7,} {filled:>8.1f} "
            f"{page_median:>11.1f} / {page_min:>7.1f} {page_median / baseline:>6.2f} "
            f"{json_median:>16.1f}",
            flush=True,
        )


def clustering() -> None:
    """Clustering 10,000 unanswered questions (the dashboard clusters the latest 5,000):
    pairs compared all against all would take minutes."""
    from insights.clusters import cluster_texts

    rng = random.Random(1)
    letters = "abcdefghijklmnopqrstuvwxyz"
    words = ["".join(rng.choices(letters, k=rng.randint(4, 9))) for _ in range(800)]
    topics = [rng.sample(words, k=rng.randint(2, 4)) for _ in range(300)]
    texts = ["Wie " + " ".join(rng.sample(t, k=rng.randint(1, len(t))) + rng.choices(words))
             for t in rng.choices(topics, k=10_000)]  # fmt: skip
    times = []
    for _ in range(5):
        started = time.perf_counter()
        cluster_texts(texts)
        times.append(1000 * (time.perf_counter() - started))
    print(f"clustering 10,000 unanswered questions: median {statistics.median(times):.0f} ms, "
          f"fastest {min(times):.0f} ms (target: under 1 s)")  # fmt: skip


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", default="10000,100000,1000000")
    parser.add_argument("--runs", type=int, default=7)
    parser.add_argument("--database", default=DEFAULT_DATABASE)
    parser.add_argument("--sqlite-up-to", type=int, default=100_000)
    args = parser.parse_args()
    sizes = [int(s) for s in args.sizes.split(",")]
    print(
        f"insights bench, {date.today()}; target: page under 300 ms at 1,000,000 events "
        "on PostgreSQL"
    )
    clustering()
    run(fresh_postgres(args.database), sizes, args.runs, "PostgreSQL")
    small = [s for s in sizes if s <= args.sqlite_up_to]
    if small:
        with tempfile.TemporaryDirectory() as folder:
            engine = make_engine(f"sqlite:///{folder}/bench.db")
            run(engine, small, args.runs, "SQLite (embedded profile)")


if __name__ == "__main__":
    main()
