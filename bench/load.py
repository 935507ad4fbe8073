"""Simulated visitors over Rasa's REST channel, and the figures a load run yields."""

from __future__ import annotations

import threading
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import requests

QUESTIONS = [
    ("de", "Hallo"),
    ("de", "Was kostet eine P400?"),
    ("de", "Wie lange dauert die Lieferung einer Presse?"),
    ("en", "Do you offer leasing?"),
    ("en", "How long is the warranty?"),
    ("de", "Wie wird das Wetter morgen?"),
    ("en", "What does NW-Connect cost per month?"),
    ("de", "Ich möchte mit einem Menschen sprechen"),
    # Answered from the documents (issue 20): a product's property, a software's fact.
    ("de", "Wie schwer ist die P400?"),
    ("en", "Where is NW-Connect hosted?"),
]


@dataclass(frozen=True)
class LoadResult:
    concurrency: int
    latencies: list[float]
    errors: int
    empty: int
    seconds: float
    peak_rss_mb: float
    by_kind: dict[str, list[float]] = field(default_factory=dict)

    def percentile(self, q: float) -> float:
        return percentile_ms(self.latencies, q)

    def kinds(self) -> str:
        """p50/p95 per kind of message, slowest first: where the tail comes from."""
        rows = sorted(
            self.by_kind.items(), key=lambda item: percentile_ms(item[1], 0.95), reverse=True
        )
        return "\n".join(
            f"    {kind:<48} n={len(values):<4} p50={percentile_ms(values, 0.5):7.1f}ms "
            f"p95={percentile_ms(values, 0.95):7.1f}ms"
            for kind, values in rows
        )

    @property
    def throughput(self) -> float:
        return len(self.latencies) / self.seconds if self.seconds else 0.0

    def row(self, name: str) -> str:
        return (
            f"{name:<10} c={self.concurrency:<3} msgs={len(self.latencies):<5} "
            f"err={self.errors:<3} empty={self.empty:<4} p50={self.percentile(0.50):7.1f}ms "
            f"p95={self.percentile(0.95):7.1f}ms p99={self.percentile(0.99):7.1f}ms "
            f"rate={self.throughput:6.1f}/s rss={self.peak_rss_mb:6.0f}MB"
        )


def percentile_ms(values: list[float], q: float) -> float:
    if not values:
        return float("nan")
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))] * 1000


def rss_mb(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return 0.0


Script = Callable[[int, int], tuple[str, str]]


def faq_script(number: int, i: int) -> tuple[str, str]:
    """Visitor `number`'s message `i`: the product-question mix, each visitor shifted."""
    return QUESTIONS[(number + i) % len(QUESTIONS)]


def run_load(
    url: str, concurrency: int, messages_each: int, pid: int, script: Script = faq_script
) -> LoadResult:
    """`concurrency` visitors each send `messages_each` messages, one after another."""
    latencies: list[float] = []
    by_kind: dict[str, list[float]] = {}
    errors = [0]
    empty = [0]
    lock = threading.Lock()
    peak = [rss_mb(pid)]
    done = threading.Event()

    def visitor(number: int) -> None:
        session = requests.Session()
        sender = f"bench-{uuid.uuid4().hex[:10]}"
        for i in range(messages_each):
            language, text = script(number, i)
            start = time.perf_counter()
            replies = None
            try:
                reply = session.post(
                    url,
                    json={"sender": sender, "message": text, "metadata": {"language": language}},
                    timeout=60,
                )
                if reply.status_code == 200:
                    replies = reply.json()
            except (requests.RequestException, ValueError):
                pass
            elapsed = time.perf_counter() - start
            with lock:
                if replies is None:
                    errors[0] += 1
                    continue
                latencies.append(elapsed)
                kind = "first message" if i == 0 else text
                by_kind.setdefault(kind, []).append(elapsed)
                empty[0] += not replies  # a 200 without any message: the bot said nothing

    def sample_memory() -> None:
        while not done.wait(0.5):
            peak[0] = max(peak[0], rss_mb(pid))

    sampler = threading.Thread(target=sample_memory, daemon=True)
    sampler.start()
    threads = [threading.Thread(target=visitor, args=(n,)) for n in range(concurrency)]
    started = time.perf_counter()
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    seconds = time.perf_counter() - started
    done.set()
    return LoadResult(concurrency, latencies, errors[0], empty[0], seconds, peak[0], by_kind)
