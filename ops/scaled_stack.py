"""The scale-out profile: `lotse run --scaled` (`make run-scaled`).

Several Rasa replicas and action servers, each pair behind a load balancer
(`ops.balancer`), on the stores Rasa is built for (`endpoints.scaled.yml`): the
conversations in Rasa's SQL tracker store on PostgreSQL, the conversation locks in
Redis (`bot.lock_store`), conversation events to RabbitMQ with a consumer
(`bot.event_consumer`); the CRM store, the outbox and the handoff state in the same
PostgreSQL database. The website, the console, the CRM delivery worker and the purge
are the embedded profile's, pointed at PostgreSQL.

Ports: the Rasa balancer takes LOTSE_RASA_PORT (so the website, the console and the
messenger webhooks see one Rasa), replica i listens on LOTSE_RASA_PORT + i; the action
balancer takes LOTSE_ACTION_PORT, action server i LOTSE_ACTION_PORT + i.
"""

from __future__ import annotations

import sys
from dataclasses import dataclass, field, replace

from lotse.service_addresses import ServiceAddresses
from lotse.settings import ROOT, Settings, SettingsError, load_settings
from ops.runner import Stack

ENDPOINTS = ROOT / "endpoints.scaled.yml"
DEFAULT_REPLICAS = 2


@dataclass
class ScaledStack(Stack):
    replicas: int = DEFAULT_REPLICAS
    services: ServiceAddresses = field(
        default_factory=lambda: load_settings().services
    )

    def __post_init__(self) -> None:
        super().__post_init__()
        if self.replicas < 1:
            raise SettingsError("the scaled profile needs at least one replica")
        self.settings = _with_database(self.settings, self.services.database_url)

    def environment(self) -> dict[str, str]:
        env = super().environment()
        env.update(self.services.values)
        # The privacy commands and the consumer read the transcripts from here.
        env["LOTSE_TRACKER_URL"] = self.services.database_url
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
        commands["balancer"] = [
            sys.executable, "-m", "ops.balancer",
            "--listen", self._listen(s.rasa_port), "--listen", self._listen(s.action_port),
        ]  # fmt: skip
        commands["events"] = [sys.executable, "-m", "bot.event_consumer"]
        return {**commands, **single}

    def _listen(self, port: int) -> str:
        host = self.settings.host
        backends = ",".join(f"http://{host}:{p}" for p in self.replica_ports(port))
        return f"{host}:{port}={backends}"

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
        super().start()


def _with_option(command: list[str], option: str, value: str) -> list[str]:
    index = command.index(option)
    return [*command[: index + 1], value, *command[index + 2 :]]


def _with_database(settings: Settings, database_url: str) -> Settings:
    return replace(settings, database_url=database_url)
