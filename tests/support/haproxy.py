"""Real HAProxy for tests: the scaled profile's configuration (`ops.haproxy_config`)
in front of servers a test chooses, in the foreground, stopped at the end.

Skips with a clear message where haproxy is not installed (`make balancer-deps`).
"""

from __future__ import annotations

import csv
import io
import subprocess
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest
import requests

from lotse.settings import SettingsError
from ops.haproxy_config import Pool, find_haproxy, haproxy_command, haproxy_config
from tests.support.fake_servers import unused_port


def haproxy_binary() -> str:
    try:
        return find_haproxy()
    except SettingsError:
        pytest.skip("haproxy is not installed (make balancer-deps installs it)")


def server_states(stats_port: int) -> dict[str, str]:
    """'backend/server' -> its state on the stats page ('UP', 'DOWN', 'UP 1/2', ...)."""
    page = requests.get(f"http://127.0.0.1:{stats_port}/;csv", timeout=2)
    page.raise_for_status()
    rows = csv.DictReader(io.StringIO(page.text.lstrip("# ")))
    servers = [row for row in rows if row["svname"] not in {"FRONTEND", "BACKEND"}]
    return {f"{row['pxname']}/{row['svname']}": row["status"] for row in servers}


def wait_for_states(
    stats_port: int,
    wanted: dict[str, str],
    timeout: float = 20,
    process: subprocess.Popen | None = None,
) -> None:
    """Polls the stats page until each named server is in the wanted state (and fails
    at once when HAProxy's `process` ends)."""
    deadline = time.monotonic() + timeout
    states: dict[str, str] = {}
    while time.monotonic() < deadline:
        if process is not None and process.poll() is not None:
            raise AssertionError(f"haproxy exited with code {process.returncode}")
        try:
            states = server_states(stats_port)
        except requests.RequestException:
            states = {}
        if all(states.get(name) == state for name, state in wanted.items()):
            return
        time.sleep(0.1)
    raise AssertionError(f"servers not {wanted} after {timeout:.0f}s: {states}")


@contextmanager
def running_haproxy(pools: list[Pool], folder: Path) -> Iterator[int]:
    """HAProxy with `pools`, every server up; yields the stats port. Its alerts go to
    `folder`/haproxy.log."""
    stats_port = unused_port()
    config = folder / "haproxy.cfg"
    config.write_text(haproxy_config(pools, stats_port), encoding="utf-8")
    with (folder / "haproxy.log").open("ab") as log:
        process = subprocess.Popen(
            haproxy_command(haproxy_binary(), config), stdout=log, stderr=log
        )
    try:
        servers = [f"{pool.name}/{pool.name}-{i}" for pool in pools
                   for i in range(1, len(pool.servers) + 1)]  # fmt: skip
        wait_for_states(stats_port, dict.fromkeys(servers, "UP"), process=process)
        yield stats_port
    finally:
        process.terminate()
        process.wait(timeout=10)
