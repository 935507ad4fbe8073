"""Start and stop Lotse's processes: action server, Rasa server, the demo website, the
staff console, the daily retention purge, and the CRM delivery worker when a connector
is configured. Rasa gets
the input channels whose credentials are all set (`ops.channel_credentials`).

`Stack` is used by `lotse run` and by the test suite. Children inherit stdout and
stderr; `stop()` sends SIGTERM to every child, waits, then kills what is left, so
Ctrl-C never leaves a process behind.
"""

from __future__ import annotations

import os
import secrets
import signal
import subprocess
import sys
import time
from contextlib import ExitStack
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO

import requests

from crm_adapter.crm_config import load_crm_config
from lotse.settings import ROOT, Settings, load_settings
from ops.channel_credentials import write_enabled

READY_TIMEOUT_SECONDS = 180
PURGE_EVERY_SECONDS = 24 * 3600


@dataclass
class Stack:
    settings: Settings
    model: Path
    data_dir: Path = ROOT / "var"
    quiet: bool = False
    log_file: Path | None = None  # children's output appended here (instead of quiet)
    processes: dict[str, subprocess.Popen] = field(default_factory=dict)
    # Rasa's HTTP API token, shared with the console (hand-back, timeouts); made up per
    # run unless LOTSE_RASA_TOKEN sets one. A secret: never printed.
    rasa_token: str = field(default_factory=lambda: secrets.token_hex(32), repr=False)
    # What the Rasa server shows the action server (endpoints.yml); made up per run
    # unless LOTSE_ACTION_SECRET sets one. A secret: never printed.
    action_secret: str = field(default_factory=lambda: secrets.token_hex(32), repr=False)
    # What the website's proxy shows Rasa's REST channel (`bot.channels.rest_access`);
    # made up per run unless LOTSE_REST_TOKEN sets one. A secret: never printed.
    rest_token: str = field(default_factory=lambda: secrets.token_hex(32), repr=False)

    # Off only where the console is reached over plain HTTP (tests on 127.0.0.1).
    secure_cookies: bool = True
    extra_env: dict[str, str] = field(default_factory=dict)  # e.g. a test clock

    def __post_init__(self) -> None:
        if self.settings.rasa_token:
            self.rasa_token = self.settings.rasa_token
        if self.settings.secrets.action_secret:
            self.action_secret = self.settings.secrets.action_secret
        if self.settings.rest_token:
            self.rest_token = self.settings.rest_token

    def environment(self) -> dict[str, str]:
        env = dict(os.environ)
        env.update(
            LOTSE_ACTION_PORT=str(self.settings.action_port),
            LOTSE_TRACKER_DB=str(self.data_dir / "tracker.db"),
            LOTSE_DATABASE_URL=self.settings.database_url,
            LOTSE_RASA_PORT=str(self.settings.rasa_port),
            LOTSE_OPS_PORT=str(self.settings.ops_port),
            LOTSE_HOST=self.settings.host,
            LOTSE_RASA_TOKEN=self.rasa_token,
            LOTSE_ACTION_SECRET=self.action_secret,
            LOTSE_REST_TOKEN=self.rest_token,
            # Without an SMTP server, notification emails are written here as .eml files.
            LOTSE_MAIL_DIR=str(self.settings.notify.mail_dir or self.data_dir / "mail"),
            LOTSE_CONSOLE_INSECURE_COOKIES="0" if self.secure_cookies else "1",
            PYTHONUNBUFFERED="1",
            TF_CPP_MIN_LOG_LEVEL="2",
        )
        # One malloc arena per process instead of 8 per core: glibc's arenas held ~170 MB
        # more of Rasa's memory under load (bench/latency.py, docs/nlu.md); an operator's
        # own setting stays.
        env.setdefault("MALLOC_ARENA_MAX", "1")
        # TensorFlow's thread pools (one thread per core each) spin while they wait: the
        # one small model DIET runs per message gains nothing from them, and Rasa spent
        # about a tenth more CPU under load with them (bench/handoff.py, docs/handoff.md).
        env.setdefault("TF_INTRA_OP_PARALLELISM_THREADS", "1")
        env.setdefault("TF_INTER_OP_PARALLELISM_THREADS", "1")
        # TensorFlow's oneDNN kernels keep their own buffers: Rasa 75 MB more resident
        # with the model loaded (1,069 against 994 MB), and DIET's small matrices gain
        # nothing from them; the held-out sets' predictions are the same either way.
        env.setdefault("TF_ENABLE_ONEDNN_OPTS", "0")
        env.update(self.extra_env)
        return env

    def commands(self) -> dict[str, list[str]]:
        s = self.settings
        return {
            "actions": [
                sys.executable,
                "-m",
                "bot.action_server",
                "--host",
                s.host,
                "--port",
                str(s.action_port),
            ],
            "rasa": [
                sys.executable,
                "-m",
                "bot.rasa_server",
                "run",
                "--model",
                str(self.model),
                "--endpoints",
                str(ROOT / "endpoints.yml"),
                "--credentials",
                str(self.credentials_file),
                "--interface",
                s.host,
                "--port",
                str(s.rasa_port),
                "--enable-api",
                f"--auth-token={self.rasa_token}",  # one argument: a token may start with "-"
            ],
            "website": [
                sys.executable,
                "-m",
                "website.server",
                "--host",
                s.host,
                "--port",
                str(s.web_port),
                "--rasa-url",
                s.rasa_url,
                "--data-dir",  # its visitor.key, unless LOTSE_VISITOR_KEY is set
                str(self.data_dir),
            ],
            "console": [
                sys.executable,
                "-m",
                "console.server",
                "--host",
                s.host,
                "--port",
                str(s.console_port),
            ],
            # The retention purge (bot/data/retention.yml), at start and then daily.
            "purge": [
                sys.executable,
                "-m",
                "ops.privacy_command",
                "purge",
                "--every",
                str(PURGE_EVERY_SECONDS),
            ],  # fmt: skip
            **self._delivery(),
        }

    def _delivery(self) -> dict[str, list[str]]:
        """The CRM delivery worker, when a connector is configured (crm: in endpoints.yml
        or the file LOTSE_CRM_CONFIG names in the children's environment)."""
        named = load_settings(self.environment()).files.crm_config
        if not load_crm_config(named).connectors:
            return {}
        return {"deliver": [sys.executable, "-m", "ops.deliver_command"]}

    def health_urls(self) -> dict[str, str]:
        s = self.settings
        return {
            "actions": f"http://{s.host}:{s.action_port}/health",
            "rasa": f"{s.rasa_url}/webhooks/rest/",
            "website": f"http://{s.host}:{s.web_port}/",
            "console": f"http://{s.host}:{s.console_port}/console/",
        }

    @property
    def credentials_file(self) -> Path:
        return self.data_dir / "credentials.yml"

    def channels(self) -> list[str]:
        """Writes the channels that are on (every variable of theirs set) for Rasa;
        returns their names (`ops.channel_credentials`)."""
        return write_enabled(ROOT / "credentials.yml", self.credentials_file, self.environment())

    def start(self) -> None:
        self.data_dir.mkdir(parents=True, exist_ok=True)
        self.channels()
        for name in self.commands():
            self.start_one(name)

    def start_one(self, name: str) -> None:
        """Starts (or starts again, after it stopped) the child called `name`."""
        with ExitStack() as files:
            output: int | IO[bytes] | None = subprocess.DEVNULL if self.quiet else None
            if self.log_file is not None:  # each child keeps its own descriptor
                output = files.enter_context(self.log_file.open("ab"))
            self.processes[name] = subprocess.Popen(
                self.commands()[name], cwd=ROOT, env=self.environment(), stdout=output,
                stderr=output,
            )  # fmt: skip

    def wait_ready(self, timeout: float = READY_TIMEOUT_SECONDS) -> None:
        """Poll each health URL until it answers; raise if a process dies or time runs out."""
        deadline = time.monotonic() + timeout
        pending = dict(self.health_urls())
        while pending:
            for name, url in list(pending.items()):
                process = self.processes[name]
                if process.poll() is not None:
                    raise RuntimeError(f"{name} exited with code {process.returncode}")
                try:
                    if requests.get(url, timeout=2).status_code == 200:
                        del pending[name]
                except requests.RequestException:
                    pass
            if pending and time.monotonic() > deadline:
                raise TimeoutError(f"not ready after {timeout:.0f}s: {', '.join(pending)}")
            if pending:
                time.sleep(0.5)

    def stop(self, grace: float = 15) -> None:
        for process in self.processes.values():
            if process.poll() is None:
                process.send_signal(signal.SIGTERM)
        deadline = time.monotonic() + grace
        for process in self.processes.values():
            try:
                process.wait(timeout=max(0.1, deadline - time.monotonic()))
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()
        self.processes.clear()

    def watch(self) -> str:
        """Block until a child exits; return its name."""
        while True:
            for name, process in self.processes.items():
                if process.poll() is not None:
                    return name
            time.sleep(0.5)
