"""Lotse against a bare `rasa init` bot under the same load, in the same run.

Usage: .venv/bin/python bench/latency.py [--concurrency 10 50] [--messages 20]

Trains a fresh `rasa init` bot (the baseline) in a temporary folder, then runs N
concurrent simulated visitors over the REST channel against each bot in turn and
prints p50/p95/p99 latency, messages per second, errors and the Rasa server's peak
resident memory, with Lotse/baseline ratios. Targets (issue 2): Lotse's throughput
>= 1.0x the bare bot's at 10 and 50 concurrent conversations, its p95 no worse, its
Rasa server under 1.2 GB resident. Prints figures; asserts nothing.
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import requests

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench.load import LoadResult, Script, faq_script, run_load  # noqa: E402
from lotse.settings import Settings  # noqa: E402
from ops.runner import Stack  # noqa: E402
from ops.training import ensure_model  # noqa: E402

LOTSE_PORTS = (35005, 35055, 38080)
BASELINE_PORT = 36005
# The handoff desk's clock: a Sunday, outside office hours. A visitor who asks for a person
# is offered a callback and the bot goes on answering the mix. In office hours the
# conversation would wait for a person and the bot stay silent (empty replies, far less
# work per message), so the figures would depend on the time of day the bench runs.
SUNDAY_11 = "2026-11-22T11:00:00+01:00"


def wait_for(url: str, timeout: float = 240) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            if requests.get(url, timeout=2).status_code == 200:
                return
        except requests.RequestException:
            pass
        time.sleep(0.5)
    raise TimeoutError(url)


@contextmanager
def running_stack(
    data_dir: Path, database: str = "lotse.db"
) -> Iterator[tuple[Settings, str, int]]:
    """Lotse started as `lotse run` does, warmed up: (settings, REST URL, Rasa's pid)."""
    rasa, actions, web = LOTSE_PORTS
    settings = Settings(
        f"sqlite:///{data_dir / database}", rasa, actions, web, "127.0.0.1", console_port=38090
    )
    data_dir.mkdir(parents=True, exist_ok=True)
    clock = data_dir / "clock"
    clock.write_text(SUNDAY_11, encoding="utf-8")
    stack = Stack(settings, ensure_model(), data_dir=data_dir, quiet=True,
                  extra_env={"LOTSE_TEST_CLOCK_FILE": str(clock)})  # fmt: skip
    stack.start()
    try:
        stack.wait_ready()
        url = f"{settings.rasa_url}/webhooks/rest/webhook"
        pid = stack.processes["rasa"].pid
        run_load(url, 2, 3, pid)  # warm-up
        yield settings, url, pid
    finally:
        stack.stop()


def bench_stack(
    levels: list[int], messages: int, data_dir: Path, scripts: dict[str, Script]
) -> dict[str, list[LoadResult]]:
    """Starts Lotse as `lotse run` does and runs each script at each concurrency."""
    with running_stack(data_dir) as (_, url, pid):
        return {
            name: [run_load(url, c, messages, pid, script) for c in levels]
            for name, script in scripts.items()
        }


def bench_baseline(levels: list[int], messages: int, folder: Path) -> list[LoadResult]:
    env = dict(os.environ, TF_CPP_MIN_LOG_LEVEL="2")
    print("training the bare `rasa init` baseline...", flush=True)
    subprocess.run(
        [sys.executable, "-m", "rasa", "init", "--no-prompt", "--init-dir", str(folder)],
        check=True,
        cwd=folder,
        env=env,
        stdout=subprocess.DEVNULL,
    )
    server = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "rasa",
            "run",
            "--model",
            "models",
            "--port",
            str(BASELINE_PORT),
            "--interface",
            "127.0.0.1",
        ],
        cwd=folder,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        wait_for(f"http://127.0.0.1:{BASELINE_PORT}/webhooks/rest/")
        url = f"http://127.0.0.1:{BASELINE_PORT}/webhooks/rest/webhook"
        run_load(url, 2, 3, server.pid)
        return [run_load(url, c, messages, server.pid) for c in levels]
    finally:
        server.terminate()
        server.wait(timeout=30)


def parse_args(description: str) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=description)
    parser.add_argument("--concurrency", type=int, nargs="+", default=[10, 50])
    parser.add_argument("--messages", type=int, default=20, help="messages per visitor")
    return parser.parse_args()


def measure(
    levels: list[int], messages: int, scripts: dict[str, Script]
) -> tuple[list[LoadResult], dict[str, list[LoadResult]]]:
    """The bare baseline, then Lotse with each script, in one run (temporary folders)."""
    with tempfile.TemporaryDirectory(prefix="lotse-bench-") as tmp:
        base = Path(tmp)
        (base / "lotse").mkdir()
        (base / "baseline").mkdir()
        baseline = bench_baseline(levels, messages, base / "baseline")
        return baseline, bench_stack(levels, messages, base / "lotse", scripts)


def main() -> None:
    args = parse_args(__doc__.splitlines()[0])
    baseline, results = measure(args.concurrency, args.messages, {"faq": faq_script})
    lotse = results["faq"]
    print()
    for ours, theirs in zip(lotse, baseline, strict=True):
        print(ours.row("lotse"))
        print(ours.kinds())
        print(theirs.row("rasa-init"))
        print(theirs.kinds())
        print(
            f"{'ratio':<10} c={ours.concurrency:<3} "
            f"throughput x{ours.throughput / theirs.throughput:.2f} "
            f"(target >= 1.0), p95 x{ours.percentile(0.95) / theirs.percentile(0.95):.2f} "
            f"(target <= 1.0), lotse rss {ours.peak_rss_mb:.0f} MB (target < 1229 MB)"
        )
        print()


if __name__ == "__main__":
    main()
