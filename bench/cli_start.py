"""How fast the `lotse` command starts (issue 21: `lotse --help` and `lotse leads list`
under 0.5 s): each command run RUNS times as a whole process against a fresh SQLite
database, next to the bare interpreter (`python -c pass`) measured in the same run;
prints the median and the slowest wall time of each and the ratio to the interpreter."""

from __future__ import annotations

import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
RUNS = 9
COMMANDS = {
    "python -c pass": [sys.executable, "-c", "pass"],
    "lotse --help": [sys.executable, "-m", "ops.cli", "--help"],
    "lotse leads list": [sys.executable, "-m", "ops.cli", "leads", "list"],
    "lotse staff list": [sys.executable, "-m", "ops.cli", "staff", "list"],
}


def wall_times(command: list[str], env: dict[str, str]) -> list[float]:
    times = []
    for _ in range(RUNS + 1):  # the first run warms the file cache and is not counted
        started = time.perf_counter()
        subprocess.run(command, cwd=ROOT, env=env, check=True, capture_output=True)
        times.append(time.perf_counter() - started)
    return times[1:]


def main() -> int:
    with tempfile.TemporaryDirectory() as folder:
        env = {**os.environ, "LOTSE_DATABASE_URL": f"sqlite:///{folder}/lotse.db"}
        # As a user's shell runs it: the modules' bytecode cached after the first run (a
        # shell with PYTHONDONTWRITEBYTECODE would compile Lotse's modules every time).
        env.pop("PYTHONDONTWRITEBYTECODE", None)
        subprocess.run(COMMANDS["lotse leads list"], cwd=ROOT, env=env, check=True,
                       capture_output=True)  # fmt: skip  # the schema made once
        figures = {name: wall_times(command, env) for name, command in COMMANDS.items()}
    bare = statistics.median(figures["python -c pass"])
    print(f"command start ({RUNS} runs each, wall seconds; target under 0.5 s):")
    for name, times in figures.items():
        median = statistics.median(times)
        print(f"  {name:<18} median {median:.3f} s  max {max(times):.3f} s  "
              f"({median / bare:.1f}x the bare interpreter)")  # fmt: skip
    return 0


if __name__ == "__main__":
    sys.exit(main())
