"""PostgreSQL and Redis servers of a test's own, which it may restart for real.

The machine's shared servers must not be restarted under other tests; these run from
the same binaries on free ports with their data in a temporary folder. PostgreSQL
refuses to run as root, so as root it runs as the `postgres` user. `available()` says
why one cannot start here, for a clear skip message.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import pwd
import shutil
import socket
import subprocess
import tempfile
import time
from pathlib import Path
from types import TracebackType

from tests.support.console_client import free_port


def rabbitmq_reachable(host: str = "127.0.0.1", port: int = 5672) -> bool:
    """Whether the machine's RabbitMQ answers (tests using it skip, saying so, if not)."""
    try:
        socket.create_connection((host, port), timeout=2).close()
        return True
    except OSError:
        return False


def delete_queue(queue: str, url: str = "amqp://guest:guest@127.0.0.1:5672/") -> None:
    """Deletes a queue a test or bench bound to Rasa's fanout exchange: left behind, it
    would collect every event of every later run."""
    import aio_pika

    async def delete() -> None:
        connection = await aio_pika.connect(url)
        async with connection:
            await (await connection.channel()).queue_delete(queue)

    asyncio.run(delete())


PG_BIN_DIRS = sorted(Path("/usr/lib/postgresql").glob("*/bin"), reverse=True)


def _pg_bin(name: str) -> str | None:
    for folder in PG_BIN_DIRS:
        if (folder / name).exists():
            return str(folder / name)
    return shutil.which(name)


class PrivatePostgres:
    """`with PrivatePostgres() as pg:` a PostgreSQL server on `pg.port` (trust auth,
    user postgres); `pg.restart()` stops it (fast: connections are cut) and starts it."""

    def __init__(self) -> None:
        # Its own folder right under /tmp: the postgres user cannot enter pytest's.
        self.folder = Path(tempfile.mkdtemp(prefix="lotse-pg-"))
        self.data = self.folder / "data"
        self.port = free_port()
        self._as_user: list[str] = []
        if os.geteuid() == 0:
            self._as_user = ["runuser", "-u", "postgres", "--"]

    @staticmethod
    def available() -> str | None:
        if not _pg_bin("initdb") or not _pg_bin("pg_ctl"):
            return "PostgreSQL's initdb/pg_ctl are not installed"
        if os.geteuid() == 0:
            try:
                pwd.getpwnam("postgres")
            except KeyError:
                return "running as root without a postgres user to run a private server"
        return None

    def _run(self, *command: str) -> None:
        subprocess.run([*self._as_user, *command], check=True, capture_output=True, timeout=60)

    def _ctl(self, action: str) -> None:
        options = f"-p {self.port} -k {self.folder} -c listen_addresses=127.0.0.1 -c fsync=off"
        self._run(_pg_bin("pg_ctl") or "pg_ctl", "-D", str(self.data), "-m", "fast", "-w",
                  "-o", options, "-l", str(self.folder / "server.log"), action)  # fmt: skip

    def __enter__(self) -> PrivatePostgres:
        if self._as_user:
            shutil.chown(self.folder, user="postgres")
        self._run(_pg_bin("initdb") or "initdb", "-D", str(self.data), "-A", "trust",
                  "-U", "postgres")  # fmt: skip
        self._ctl("start")
        return self

    def stop(self) -> None:
        self._ctl("stop")

    def start(self) -> None:
        self._ctl("start")

    def restart(self) -> None:
        self._ctl("restart")

    def __exit__(self, kind: type | None, error: BaseException | None, tb: TracebackType | None):
        with contextlib.suppress(subprocess.CalledProcessError):
            self.stop()
        shutil.rmtree(self.folder, ignore_errors=True)


class PrivateRedis:
    """`with PrivateRedis() as redis:` a Redis server on `redis.port`, nothing persisted;
    `restart()` kills it (its keys are gone, as after a crash) and starts it again."""

    def __init__(self) -> None:
        self.port = free_port()
        self.process: subprocess.Popen | None = None

    @staticmethod
    def available() -> str | None:
        return None if shutil.which("redis-server") else "redis-server is not installed"

    def start(self) -> None:
        self.process = subprocess.Popen(
            ["redis-server", "--port", str(self.port), "--bind", "127.0.0.1", "--save", "",
             "--appendonly", "no"],
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
        )  # fmt: skip
        import redis

        deadline = time.monotonic() + 10
        while True:
            try:
                redis.Redis(port=self.port).ping()
                return
            except redis.ConnectionError:
                if time.monotonic() > deadline:
                    raise
                time.sleep(0.05)

    def stop(self) -> None:
        if self.process is not None:
            self.process.kill()
            self.process.wait()
            self.process = None

    def restart(self) -> None:
        self.stop()
        self.start()

    def __enter__(self) -> PrivateRedis:
        self.start()
        return self

    def __exit__(self, kind: type | None, error: BaseException | None, tb: TracebackType | None):
        self.stop()
