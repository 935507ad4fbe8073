"""The scale-out profile under load: 1 against 2 Rasa replicas, measured with Locust.

Usage: .venv/bin/python bench/scaled.py [--users 200] [--spawn-rate 20] [--seconds 120]
       [--replicas 1 2] [--think 0] [--locust .venv-bench/bin/locust]
(`make bench-scaled` makes the Locust environment, .venv-bench, first.)

For each replica count: the scaled profile (`ops.scaled_stack`: Rasa replicas and
action servers behind HAProxy, PostgreSQL tracker and CRM store in a database of
its own, Redis locks, RabbitMQ events) on bench ports, then Locust with `--users`
simulated visitors (bench/locustfile.py: half over the REST channel with a full
qualification, half over the widget's protocol, some asking for a person) until each
for `--seconds` (a visitor whose conversation ends starts the next, so `--users`
conversations are open all the time). With `--think 0` (the default) each visitor sends
its next message as soon as it has the answer: the ceiling; `--think 0.5-2` paces them
like people. Messages per second are the answered messages over the time from the
first message sent to the last answer received. Prints per run: messages, errors,
p50/p95/p99, messages per second, peak memory per process; then checks in the tracker
store that every answered message is there once and in order; then the ratio of the
two runs' message rates. Both runs share the machine's two cores with Locust itself:
the figures say where the CPU-bound ceiling is. Asserts nothing.
"""

from __future__ import annotations

import argparse
import csv
import json
import os
import resource
import subprocess
import sys
import tempfile
import threading
from collections import Counter
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import contextlib

from sqlalchemy import create_engine, text  # noqa: E402

from bench.load import rss_mb  # noqa: E402
from lotse.settings import ROOT, Settings  # noqa: E402
from ops.scaled_stack import ScaledStack, ServiceAddresses  # noqa: E402
from ops.training import ensure_model  # noqa: E402
from tests.support.private_services import delete_queue  # noqa: E402

LOCUSTFILE = ROOT / "bench" / "locustfile.py"
QUEUE = "lotse_bench_events"


def bench_settings() -> Settings:
    return Settings(database_url="", rasa_port=35005, action_port=35055, web_port=38080,
                    host="127.0.0.1", console_port=38090)  # fmt: skip


def fresh_database(services: ServiceAddresses) -> None:
    name = services.values["LOTSE_PG_DB"]
    admin = create_engine(services.pg_url("postgres"), isolation_level="AUTOCOMMIT")
    with admin.connect() as connection:
        connection.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    admin.dispose()


class MemoryPeaks:
    """Samples each child's resident memory twice a second; keeps the peak."""

    def __init__(self, stack: ScaledStack) -> None:
        self.stack = stack
        self.peaks: dict[str, float] = {}
        self.done = threading.Event()
        self.thread = threading.Thread(target=self._sample, daemon=True)

    def _sample(self) -> None:
        while not self.done.wait(0.5):
            for name, process in self.stack.processes.items():
                with contextlib.suppress(OSError):
                    self.peaks[name] = max(self.peaks.get(name, 0.0), rss_mb(process.pid))

    def __enter__(self) -> MemoryPeaks:
        self.thread.start()
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.done.set()
        self.thread.join()


def conversations_of(sent_file: Path) -> list[dict]:
    return [json.loads(line) for line in sent_file.read_text().splitlines() if line]


def span_seconds(conversations: list[dict]) -> float:
    """From the first message sent to the last answer received."""
    firsts = [c["first"] for c in conversations if c["first"]]
    lasts = [c["last"] for c in conversations if c["last"]]
    return max(lasts) - min(firsts) if firsts and lasts else 0.0


def cpu_seconds(pid: int) -> float:
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def machine_busy() -> tuple[float, float]:
    """(busy, total) CPU jiffies of the whole machine so far."""
    values = [int(v) for v in Path("/proc/stat").read_text().splitlines()[0].split()[1:]]
    idle = values[3] + values[4]
    return sum(values) - idle, sum(values)


def check_order(database_url: str, conversations: list[dict]) -> tuple[int, int, int]:
    """(conversations, messages checked, conversations whose tracker differs)."""
    engine = create_engine(database_url)
    wrong = checked = 0
    with engine.connect() as connection:
        for conversation in conversations:
            rows = connection.execute(
                text("SELECT data FROM events WHERE sender_id = :s AND type_name = 'user' "
                     "ORDER BY id"), {"s": conversation["sender"]},
            ).scalars().all()  # fmt: skip
            in_tracker = [json.loads(row).get("text") for row in rows]
            checked += len(conversation["sent"])
            # A message is in the tracker once it was answered; an unanswered one (an
            # error, counted above) may or may not be.
            answered = conversation["sent"]
            if [t for t in in_tracker if t in set(answered)] != answered:
                wrong += 1
    engine.dispose()
    return len(conversations), checked, wrong


def locust_figures(prefix: Path) -> dict[str, object]:
    """Chat messages and errors of both kinds of visitor, and p50/p95/p99 of each kind
    (the visitor-id and feed calls apart: a feed read is a long poll)."""
    with open(f"{prefix}_stats.csv", encoding="utf-8") as stats:
        rows = {row["Name"]: row for row in csv.DictReader(stats)}
    chat = {name: rows[name] for name in ("rest", "widget: chat") if name in rows}
    other_errors = sum(int(r["Failure Count"]) for n, r in rows.items()
                       if n not in chat and n != "Aggregated")  # fmt: skip
    return {
        "messages": sum(int(r["Request Count"]) for r in chat.values()),
        "errors": sum(int(r["Failure Count"]) for r in chat.values()) + other_errors,
        "latency": {name: (float(r["50%"]), float(r["95%"]), float(r["99%"]))
                    for name, r in chat.items()},
    }  # fmt: skip


def run(replicas: int, args: argparse.Namespace, folder: Path) -> dict[str, object]:
    env = {"LOTSE_PG_DB": f"lotse_bench_{replicas}", "LOTSE_REDIS_DB": "3",
           "LOTSE_EVENTS_QUEUE": QUEUE, "LOTSE_RATE_VISITOR": "off", "LOTSE_RATE_IP": "off",
           "LOTSE_RATE_ISSUE": "off"}  # fmt: skip
    services = ServiceAddresses.from_environment(env)
    fresh_database(services)
    data_dir = folder / f"r{replicas}"
    log = data_dir / "stack.log"
    stack = ScaledStack(bench_settings(), ensure_model(), data_dir=data_dir, log_file=log,
                        secure_cookies=False, extra_env=env, services=services,
                        replicas=replicas)  # fmt: skip
    stack.start()
    try:
        stack.wait_ready()
        s = stack.settings
        sent = data_dir / "sent.jsonl"
        prefix = data_dir / "locust"
        locust_env = {**os.environ, "LOTSE_BENCH_RASA": s.rasa_url,
                      "LOTSE_BENCH_WEB": f"http://{s.host}:{s.web_port}",
                      "LOTSE_BENCH_SENT": str(sent), "LOTSE_BENCH_THINK": args.think}  # fmt: skip
        command = [args.locust, "-f", str(LOCUSTFILE), "--headless", "--users", str(args.users),
                   "--spawn-rate", str(args.spawn_rate), "--run-time", f"{args.seconds}s",
                   "--host", s.rasa_url, "--csv", str(prefix), "--only-summary",
                   "--stop-timeout", "120", "--loglevel", "WARNING"]  # fmt: skip
        before = {name: cpu_seconds(p.pid) for name, p in stack.processes.items()}
        busy_before, total_before = machine_busy()
        locust_before = resource.getrusage(resource.RUSAGE_CHILDREN)
        with MemoryPeaks(stack) as memory:
            subprocess.run(command, env=locust_env, check=False, stdout=subprocess.DEVNULL,
                           stderr=subprocess.DEVNULL)  # fmt: skip
        locust_after = resource.getrusage(resource.RUSAGE_CHILDREN)
        busy_after, total_after = machine_busy()
        cpu = {name: cpu_seconds(p.pid) - before[name] for name, p in stack.processes.items()}
        cpu["locust"] = (locust_after.ru_utime + locust_after.ru_stime
                         - locust_before.ru_utime - locust_before.ru_stime)  # fmt: skip
        busy = (busy_after - busy_before) / max(1, total_after - total_before)
        figures = locust_figures(prefix)
        held = conversations_of(sent)
        seconds = span_seconds(held)
        conversations, checked, wrong = check_order(s.database_url, held)
        answered = sum(len(c["sent"]) for c in held)
        problems = Counter(
            line.split(" - ", 1)[-1][:70] for line in log.read_text(errors="replace").splitlines()
            if " ERROR " in line or " WARNING " in line
        )  # fmt: skip
        rate = answered / seconds if seconds else 0.0
        return {**figures, "seconds": seconds, "problems": problems.most_common(5), "rate": rate,
                "cpu": cpu, "busy": busy,
                "conversations": conversations, "checked": checked, "misordered": wrong,
                "memory": memory.peaks}  # fmt: skip
    finally:
        stack.stop()
        fresh_database(services)
        delete_queue(QUEUE)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--users", type=int, default=200)
    parser.add_argument("--spawn-rate", type=float, default=20)
    parser.add_argument("--seconds", type=int, default=120)
    parser.add_argument("--replicas", type=int, nargs="+", default=[1, 2])
    parser.add_argument("--think", default="0", help='seconds between messages: "0" or "0.5-2"')
    parser.add_argument("--locust", default=str(ROOT / ".venv-bench" / "bin" / "locust"))
    args = parser.parse_args()
    results = {}
    with tempfile.TemporaryDirectory(prefix="lotse-bench-scaled-") as folder:
        for replicas in args.replicas:
            result = run(replicas, args, Path(folder))
            results[replicas] = result
            latency = result["latency"]
            assert isinstance(latency, dict)
            print(f"replicas={replicas} users={args.users}: messages={result['messages']} "
                  f"errors={result['errors']} rate={result['rate']:.1f}/s "
                  f"({result['seconds']:.0f}s); tracker: {result['conversations']} conversations, "
                  f"{result['checked']} messages, misordered or lost {result['misordered']}",
                  flush=True)  # fmt: skip
            for name, (p50, p95, p99) in latency.items():
                print(f"  {name:<13} p50={p50:.0f}ms p95={p95:.0f}ms p99={p99:.0f}ms")
            memory = result["memory"]
            assert isinstance(memory, dict)
            peaks = ", ".join(f"{k} {v:.0f}" for k, v in sorted(memory.items()))
            print(f"  peak memory MB: {peaks}", flush=True)
            cpu = result["cpu"]
            assert isinstance(cpu, dict)
            used = ", ".join(f"{k} {v:.0f}" for k, v in sorted(cpu.items(), key=lambda kv: -kv[1]))
            print(f"  CPU seconds: {used}; machine busy {float(result['busy']):.0%}", flush=True)
            for problem, count in result["problems"]:  # type: ignore[attr-defined]
                print(f"  log: {count} x {problem}", flush=True)
    if 1 in results and 2 in results:
        ratio = float(results[2]["rate"]) / float(results[1]["rate"])  # type: ignore[arg-type]
        print(
            f"2 replicas / 1 replica, messages per second: x{ratio:.2f} (target >= 1.6 where "
            f"CPU allows; this machine has {os.cpu_count()} cores, shared with Locust)"
        )


if __name__ == "__main__":
    main()
