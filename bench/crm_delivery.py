"""CRM delivery: events per second to a fake HubSpot with 50 ms latency, the time to
drain a backlog of 10,000 events after an outage, and whether the worker keeps up with
the bot at its peak message rate, all in one run.

Usage: .venv/bin/python bench/crm_delivery.py [--backlog 10000] [--latency 0.05]
       [--concurrency 50] [--messages 20] [--skip-bot]

1. The bot (trained model, `lotse run`'s processes on bench ports) under the
   product-question mix at `--concurrency` visitors, first without a connector (the
   baseline), then with the delivery worker among its processes: its peak message
   rate. Then whole qualifications at the same concurrency, each writing to
   the CRM store and queueing events, while the worker delivers them to the fake
   HubSpot: events queued and delivered per second during the load, the backlog when
   the load ends and how long it takes to drain.
2. A backlog of `--backlog` events (1 contact per 10 events, as contact.identified and
   answers) queued while HubSpot was down, then `lotse deliver` started: time to
   drain it and events per second.

Prints the figures and the ratio of the worker's rate to the bot's peak message rate
(target >= 1.0: even if every message made an event the worker would keep up). Each
event costs the connector 3 to 5 HubSpot requests. Asserts nothing.
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
import time
from datetime import datetime, timezone
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from sqlalchemy import func, select  # noqa: E402

from bench.latency import running_stack  # noqa: E402
from bench.load import faq_script, run_load  # noqa: E402
from bench.qualification import qualification_script  # noqa: E402
from crm_adapter.store.crm_events import EventOutbox, enqueue  # noqa: E402
from crm_adapter.store.models import CrmEventRow  # noqa: E402
from lotse.database import make_engine
from lotse.migrate import migrate
from lotse.settings import ROOT  # noqa: E402
from tests.support.fake_hubspot import FakeHubSpot  # noqa: E402

TOKEN = "pat-bench-token"


def write_config(folder: Path, fake: FakeHubSpot) -> Path:
    path = folder / "crm.yml"
    path.write_text(
        f"crm:\n  connectors:\n    - type: hubspot\n      base_url: {fake.url}\n"
        f"      token_env: BENCH_HUBSPOT_TOKEN\n  delivery: {{poll_seconds: 0.2}}\n",
        encoding="utf-8",
    )
    return path


def contact(n: int) -> dict:
    return {"email": f"bench{n}@kunde.example", "name": "Anna Muster", "phone": None,
            "company": f"Firma {n % 200} GmbH", "stage": "lead", "fit": 75, "interest": 10,
            "consent": {"purpose": "sales_contact", "text_version": "v1",
                        "given_at": "2026-11-26T10:00:00+00:00",
                        "legal_basis": "consent, Art. 6(1)(a) GDPR"},
            "answers": {"need": "presses", "employees": "60"}, "owner": None}  # fmt: skip


def queue_backlog(url: str, events: int) -> None:
    engine = make_engine(url)
    now = datetime.now(timezone.utc)
    with engine.begin() as c:
        for i in range(events):
            n, k = divmod(i, 10)
            kind, change = ("contact.identified", {}) if k == 0 else ("answer.saved", {
                "attribute": "timeline", "value": f"{k} months", "status": "answered",
                "source": "bot"})  # fmt: skip
            enqueue(c, n + 1, kind, {"contact": contact(n), "change": change}, now, ("hubspot",))
    engine.dispose()


def drain(outbox: EventOutbox, deadline: float = 3600) -> float:
    started = time.perf_counter()
    while outbox.pending_count() and time.perf_counter() - started < deadline:
        time.sleep(0.2)
    return time.perf_counter() - started


def backlog_run(folder: Path, events: int, latency: float) -> tuple[float, int]:
    url = f"sqlite:///{folder / 'backlog.db'}"
    migrate(url)
    queue_backlog(url, events)
    outbox = EventOutbox(make_engine(url), connector="hubspot")
    with FakeHubSpot(TOKEN, latency=latency) as fake:
        env = {**os.environ, "BENCH_HUBSPOT_TOKEN": TOKEN, "LOTSE_DATABASE_URL": url,
               "LOTSE_CRM_CONFIG": str(write_config(folder, fake))}  # fmt: skip
        worker = subprocess.Popen([sys.executable, "-m", "ops.deliver_command"], cwd=ROOT,
                                  env=env, stderr=subprocess.DEVNULL)  # fmt: skip
        try:
            seconds = drain(outbox)
        finally:
            worker.terminate()
            worker.wait(timeout=60)
        return seconds, len(fake.requests)


def bot_alone(folder: Path, concurrency: int, messages: int) -> float:
    """The bot's peak message rate with no connector configured (the baseline)."""
    os.environ.pop("LOTSE_CRM_CONFIG", None)
    with running_stack(folder / "alone") as (_, url, pid):
        return run_load(url, concurrency, messages, pid, faq_script).throughput


def live_run(folder: Path, latency: float, concurrency: int, messages: int) -> dict[str, float]:
    """The bot's peak message rate, then qualifications with the worker delivering."""
    with FakeHubSpot(TOKEN, latency=latency) as fake:
        os.environ["BENCH_HUBSPOT_TOKEN"] = TOKEN
        os.environ["LOTSE_CRM_CONFIG"] = str(write_config(folder, fake))
        with running_stack(folder) as (settings, url, pid):
            peak = run_load(url, concurrency, messages, pid, faq_script)
            qualify = run_load(url, concurrency, messages, pid, qualification_script)
            outbox = EventOutbox(make_engine(settings.database_url), connector="hubspot")
            backlog = outbox.pending_count()
            seconds = drain(outbox)
    return {"peak_messages": peak.throughput, "qualify_messages": qualify.throughput,
            "queued": total_events(folder), "qualify_seconds": qualify.seconds,
            "backlog_at_end": backlog, "drain_after": seconds}  # fmt: skip


def total_events(folder: Path) -> int:
    engine = make_engine(f"sqlite:///{folder / 'lotse.db'}")
    with engine.connect() as c:
        return int(c.execute(select(func.count()).select_from(CrmEventRow)).scalar_one())


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--backlog", type=int, default=10_000)
    parser.add_argument("--latency", type=float, default=0.05)
    parser.add_argument("--concurrency", type=int, default=50)
    parser.add_argument("--messages", type=int, default=20)
    parser.add_argument("--skip-bot", action="store_true", help="only the backlog part")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="lotse-crm-bench-") as tmp:
        folder = Path(tmp)
        alone = None if args.skip_bot else bot_alone(folder, args.concurrency, args.messages)
        live = None if args.skip_bot else live_run(folder, args.latency, args.concurrency,
                                                   args.messages)  # fmt: skip
        seconds, requests_made = backlog_run(folder, args.backlog, args.latency)
    rate = args.backlog / seconds
    print(f"\nfake HubSpot latency {args.latency * 1000:.0f} ms per request")
    print(f"backlog: {args.backlog} events drained in {seconds:.1f} s = {rate:.1f} events/s "
          f"({requests_made / args.backlog:.1f} HubSpot requests per event)")  # fmt: skip
    if live and alone:
        print(
            f"bot alone (no connector): {alone:.1f} messages/s; with the worker running: "
            f"{live['peak_messages']:.1f} messages/s (x{live['peak_messages'] / alone:.2f})"
        )
        peak = max(alone, live["peak_messages"])
        print(f"ratio: worker {rate:.1f} events/s / bot peak {peak:.1f} messages/s = "
              f"x{rate / peak:.2f} (target >= 1.0)")  # fmt: skip
        print(
            f"bot: peak {live['peak_messages']:.1f} messages/s (product questions, "
            f"c={args.concurrency}); qualifications {live['qualify_messages']:.1f} messages/s"
        )
        print(f"live: {live['queued']:.0f} events queued during the run; backlog when the "
              f"qualification load ended: {live['backlog_at_end']:.0f} events, drained "
              f"{live['drain_after']:.1f} s later")  # fmt: skip


if __name__ == "__main__":
    main()
