"""Handoff latency under load: request -> agent sees it, agent -> visitor message.

Usage: .venv/bin/python bench/handoff.py [--handoffs 50]

Starts Lotse as `lotse run` does (its clock set to office hours), logs into the staff
console and opens its live event stream, then lets N visitors ask for a person at
once through the website (`/api/chat`). It measures:

- queue: from a visitor's request leaving to the console's live queue listing it
  (the agent's event stream says "changed", the console fetches the queue);
- reply: from an agent's message being posted to the visitor's widget receiving it
  (its long poll of `/api/chat/updates`), with all N conversations claimed and all N
  visitors listening at once.

The same two figures for a single handoff on the idle stack are the baseline of the
same run, printed as ratios. Target (issue 4): p95 under one second at 50 concurrent
handoffs. Prints figures; asserts nothing.
"""

from __future__ import annotations

import argparse
import contextlib
import os
import statistics
import sys
import tempfile
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from datetime import datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import requests

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from lotse.settings import Settings  # noqa: E402
from ops.runner import Stack  # noqa: E402
from ops.training import ensure_model  # noqa: E402
from tests.support.console_client import Staff, add_users, logged_in  # noqa: E402
from tests.support.rest_client import website_visitor_id  # noqa: E402
from wiring.services import services_for  # noqa: E402

PORTS = (45005, 45055, 48080, 48090)
TUESDAY_10 = datetime(2026, 11, 24, 10, 0, tzinfo=ZoneInfo("Europe/Berlin"))


class QueueWatcher:
    """The agent's view: follows the event stream and records when each conversation
    first shows in the queue. It fetches as the console's page does (`refresh` in
    console/static/console.js): one fetch at a time, and the changes that came during a
    fetch make one more fetch, not one each."""

    def __init__(self, admin: Staff) -> None:
        self.admin = admin
        self.seen: dict[str, float] = {}
        self.ready = threading.Event()
        self.dirty = threading.Event()
        threading.Thread(target=self._follow, daemon=True).start()
        threading.Thread(target=self._refresh, daemon=True).start()

    def _follow(self) -> None:
        with contextlib.suppress(requests.RequestException):  # the stack stopped
            self._stream()

    def _stream(self) -> None:
        with requests.get(
            f"{self.admin.base}/console/api/events", headers=self.admin.headers(False),
            stream=True, timeout=(5, 120),
        ) as stream:  # fmt: skip
            for line in stream.iter_lines():
                if line.startswith(b"event: change"):
                    self.ready.set()
                    self.dirty.set()

    def _refresh(self) -> None:
        with contextlib.suppress(requests.RequestException):  # the stack stopped
            while True:
                self.dirty.wait()
                self.dirty.clear()
                self._fetch()

    def _fetch(self) -> None:
        queue = self.admin.get("/console/api/queue").json()
        now = time.perf_counter()
        for handoff in queue["handoffs"]:
            self.seen.setdefault(handoff["conversation_id"], now)

    def wait_for(self, senders: list[str], timeout: float = 60) -> None:
        deadline = time.monotonic() + timeout
        while not all(s in self.seen for s in senders) and time.monotonic() < deadline:
            time.sleep(0.01)


def ask_for_person(web: str, sender: str) -> float:
    started = time.perf_counter()
    reply = requests.post(
        f"{web}/api/chat", timeout=60,
        json={"sender": sender, "message": "Ich möchte mit einem Menschen sprechen",
              "metadata": {"language": "de"}},
    )  # fmt: skip
    reply.raise_for_status()
    return started


def listen(web: str, sender: str, after: int, text: str) -> float:
    """Long-polls the visitor's feed until `text` arrives; returns when it did."""
    while True:
        update = requests.get(
            f"{web}/api/chat/updates", params={"sender": sender, "after": after}, timeout=60
        ).json()
        for message in update["messages"]:
            if message["text"] == text:
                return time.perf_counter()
        after = update["last_id"]


def round_of(
    web: str, watcher: QueueWatcher, agents: list[Staff], n: int, tag: str,
    pids: dict[str, int] | None = None,
) -> dict:  # fmt: skip
    senders = [website_visitor_id(web) for _ in range(n)]
    before = {name: cpu_seconds(pid) for name, pid in (pids or {}).items()}
    with ThreadPoolExecutor(max_workers=n) as pool:
        starts = dict(
            zip(senders, pool.map(lambda s: ask_for_person(web, s), senders), strict=True)
        )
    watcher.wait_for(senders)
    queue_cpu = {name: cpu_seconds(pid) - before[name] for name, pid in (pids or {}).items()}
    queue_ms = [(watcher.seen[s] - starts[s]) * 1000 for s in senders if s in watcher.seen]
    ids = {
        h["conversation_id"]: h["id"]
        for h in watcher.admin.get("/console/api/queue").json()["handoffs"]
    }
    owner = {s: agents[i % len(agents)] for i, s in enumerate(senders)}
    for sender in senders:
        claimed = owner[sender].post(f"/console/api/handoffs/{ids[sender]}/claim")
        claimed.raise_for_status()
    feed_after = {}
    for sender in senders:
        update = requests.get(f"{web}/api/chat/updates", params={"sender": sender, "after": 0},
                              timeout=60).json()  # fmt: skip
        feed_after[sender] = update["last_id"]
    reply_ms: list[float] = []
    with ThreadPoolExecutor(max_workers=n * 2) as pool:
        texts = {s: f"Hallo {s}, hier ist Ihr Ansprechpartner." for s in senders}
        listening = {s: pool.submit(listen, web, s, feed_after[s], texts[s]) for s in senders}
        time.sleep(0.5)  # every visitor is waiting in its long poll
        sent = {}
        for sender in senders:
            sent[sender] = time.perf_counter()
            pool.submit(owner[sender].post, f"/console/api/handoffs/{ids[sender]}/messages",
                        {"text": texts[sender]})  # fmt: skip
        for sender in senders:
            reply_ms.append((listening[sender].result(timeout=60) - sent[sender]) * 1000)
    for sender in senders:
        owner[sender].post(f"/console/api/handoffs/{ids[sender]}/close", {"outcome": "other"})
    return {"queue": queue_ms, "reply": reply_ms, "lost": n - len(queue_ms), "cpu": queue_cpu}


def cpu_seconds(pid: int) -> float:
    """User + system CPU time of a process so far (Linux /proc)."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def p(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(round(q * (len(ordered) - 1))))]


def show(name: str, values: list[float], baseline: list[float]) -> None:
    base = p(baseline, 0.95)
    print(f"  {name:<6} p50 {statistics.median(values):7.0f} ms   p95 {p(values, 0.95):7.0f} ms"
          f"   max {max(values):7.0f} ms   p95 vs idle {p(values, 0.95) / base:5.2f}x"
          f"   target p95 < 1000 ms: {'met' if p(values, 0.95) < 1000 else 'NOT met'}")  # fmt: skip


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--handoffs", type=int, default=50)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="lotse-bench-handoff-") as folder:
        data_dir = Path(folder)
        rasa, actions, web_port, console = PORTS
        url = f"sqlite:///{data_dir / 'lotse.db'}"
        settings = Settings(url, rasa, actions, web_port, "127.0.0.1", console_port=console)
        clock = data_dir / "clock"
        clock.write_text(TUESDAY_10.isoformat(), encoding="utf-8")
        services_for(url)  # the schema, before the stack starts
        add_users(url)
        stack = Stack(settings, ensure_model(), data_dir=data_dir, quiet=True,
                      extra_env={"LOTSE_TEST_CLOCK_FILE": str(clock),
                                 # N visitors from one address: per-address limits off
                                 "LOTSE_RATE_IP": "off", "LOTSE_RATE_ISSUE": "off"})  # fmt: skip
        stack.start()
        try:
            stack.wait_ready()
            base = f"http://127.0.0.1:{console}"
            web = f"http://127.0.0.1:{web_port}"
            admin = logged_in(base, "admin")
            agents = [logged_in(base, name) for name in ("anna", "jonas", "nina")]
            watcher = QueueWatcher(admin)
            watcher.ready.wait(10)
            round_of(web, watcher, agents, 2, "warm")
            idle = round_of(web, watcher, agents, 1, "idle")
            for _ in range(4):
                more = round_of(web, watcher, agents, 1, f"idle{_}")
                idle = {k: idle[k] + more[k] for k in ("queue", "reply")}
            pids = {name: process.pid for name, process in stack.processes.items()}
            loaded = round_of(web, watcher, agents, args.handoffs, "load", pids)
        finally:
            stack.stop()
    print(f"\nhandoff latency, {args.handoffs} concurrent handoffs (idle: 5 single handoffs):")
    show("queue", loaded["queue"], idle["queue"])
    show("reply", loaded["reply"], idle["reply"])
    idle_queue, idle_reply = p(idle["queue"], 0.95), p(idle["reply"], 0.95)
    print(f"  idle   queue p95 {idle_queue:.0f} ms, reply p95 {idle_reply:.0f} ms;"
          f" lost requests under load: {loaded['lost']}")  # fmt: skip
    print("  CPU seconds per process while the 50 requests were queued: "
          + ", ".join(f"{name} {s:.2f}" for name, s in loaded["cpu"].items()))  # fmt: skip


if __name__ == "__main__":
    main()
