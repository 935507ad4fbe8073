"""The scale-out profile: `lotse run --scaled` (`make run-scaled`).

Several Rasa replicas and action servers, each kind behind HAProxy (the `balancer`
process, `ops.haproxy_config`), on the stores Rasa is built for
(`endpoints.scaled.yml`): the conversations in Rasa's SQL tracker store on PostgreSQL,
the conversation locks in Redis (`bot.lock_store`), conversation events to RabbitMQ
with a consumer (`bot.event_consumer`); the CRM store, the outbox and the handoff state
in the same PostgreSQL database. The website, the console, the CRM delivery worker and
the purge are the embedded profile's, pointed at PostgreSQL.

Ports: the balancer takes LOTSE_RASA_PORT for Rasa (so the website, the console and the
messenger webhooks see one Rasa), replica i listens on LOTSE_RASA_PORT + i; it takes
LOTSE_ACTION_PORT for the action servers, action server i LOTSE_ACTION_PORT + i. Its
stats page is on 127.0.0.1 at LOTSE_RASA_PORT - 1 (`stats_port`).

The balancer's configuration is written to `<data_dir>/haproxy.cfg` at each start. A
missing haproxy binary stops the profile before anything starts (`SettingsError`).
"""

from __future__ import annotations

import sys
from dataclasses import dataclass, field, replace
from pathlib import Path

from lotse.service_addresses import ServiceAddresses
from lotse.settings import ROOT, Settings, SettingsError, load_settings
from ops.haproxy_config import Pool, find_haproxy, haproxy_command, haproxy_config
from ops.runner import Stack

ENDPOINTS = ROOT / "endpoints.scaled.yml"
DEFAULT_REPLICAS = 2


@dataclass
class ScaledStack(Stack):
    replicas: int = DEFAULT_REPLICAS
    services: ServiceAddresses = field(default_factory=lambda: load_settings().services)
    haproxy: str = ""  # the binary; found on PATH or at /usr/sbin/haproxy when empty

    def __post_init__(self) -> None:
        super().__post_init__()
        if self.replicas < 1:
            raise SettingsError("the scaled profile needs at least one replica")
        self.settings = _with_database(self.settings, self.services.database_url)
        self.haproxy = self.haproxy or find_haproxy()

    def environment(self) -> dict[str, str]:
        env = super().environment()
        env.update(self.services.values)
        # The privacy commands and the consumer read the transcripts from here.
        env["LOTSE_TRACKER_URL"] = self.services.database_url
        # The replicas share their rate limits (`lotse.shared_rate_limit`), unless the
        # operator chose otherwise.
        env.setdefault("LOTSE_RATE_STORE", "redis")
        return env

    def replica_ports(self, base: int) -> list[int]:
        return [base + i for i in range(1, self.replicas + 1)]

    def commands(self) -> dict[str, list[str]]:
        s = self.settings
        single = super().commands()
        rasa, actions = single.pop("rasa"), single.pop("actions")
        commands: dict[str, list[str]] = {}
        for i, port in enumerate(self.replica_ports(s.action_port), start=1):
            commands[f"actions-{i}"] = _with_option(actions, "--port", str(port))
        for i, port in enumerate(self.replica_ports(s.rasa_port), start=1):
            replica = _with_option(rasa, "--port", str(port))
            commands[f"rasa-{i}"] = _with_option(replica, "--endpoints", str(ENDPOINTS))
        commands["balancer"] = haproxy_command(self.haproxy, self.balancer_config)
        commands["events"] = [sys.executable, "-m", "bot.event_consumer"]
        return {**commands, **single}

    @property
    def balancer_config(self) -> Path:
        return self.data_dir / "haproxy.cfg"

    @property
    def stats_port(self) -> int:
        return self.settings.rasa_port - 1

    def pools(self) -> list[Pool]:
        """Rasa's replicas (healthy when `GET /` answers) and the action servers (`GET
        /health`), each on the port the single profile gives that kind."""
        s = self.settings

        def servers(base: int) -> tuple[str, ...]:
            return tuple(f"{s.host}:{port}" for port in self.replica_ports(base))

        return [
            Pool("rasa", s.host, s.rasa_port, servers(s.rasa_port), health_path="/"),
            Pool("actions", s.host, s.action_port, servers(s.action_port), "/health"),
        ]

    def health_urls(self) -> dict[str, str]:
        s = self.settings
        urls = {
            name: url
            for name, url in super().health_urls().items()
            if name not in {"rasa", "actions"}
        }
        for i, port in enumerate(self.replica_ports(s.action_port), start=1):
            urls[f"actions-{i}"] = f"http://{s.host}:{port}/health"
        for i, port in enumerate(self.replica_ports(s.rasa_port), start=1):
            urls[f"rasa-{i}"] = f"http://{s.host}:{port}/webhooks/rest/"
        urls["balancer"] = f"{s.rasa_url}/webhooks/rest/"
        return urls

    def start(self) -> None:
        self.services.ensure_database()
        self.data_dir.mkdir(parents=True, exist_ok=True)
        self.balancer_config.write_text(
            haproxy_config(self.pools(), self.stats_port), encoding="utf-8"
        )
        super().start()


def _with_option(command: list[str], option: str, value: str) -> list[str]:
    index = command.index(option)
    return [*command[: index + 1], value, *command[index + 2 :]]


def _with_database(settings: Settings, database_url: str) -> Settings:
    return replace(settings, database_url=database_url)
