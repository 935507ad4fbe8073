"""Which external CRMs get Lotse's events: the `crm:` section of endpoints.yml.

    crm:
      connectors:
        - type: hubspot            # hubspot | dynamics | webhook
          name: hubspot            # optional, default: the type; unique, at most 32 chars
          token_env: HUBSPOT_TOKEN # secrets come from environment variables, named here
          ...                      # the connector's own keys (README, "CRM connectors")
      delivery:
        threads: 16                # events of different contacts sent at once
        batch: 100                 # events claimed at once, shared by the threads
        max_attempts: 40           # tries before a dead letter (about 80 min of outage)
        poll_seconds: 1.0          # pause when nothing is due
        lease_seconds: 120         # a worker that died gives its events up after this

Without a `crm:` section (the default) no events are queued and no worker runs.
LOTSE_CRM_CONFIG names another YAML file holding the section (tests, staging).

`load_crm_config` checks the section's shape; `build_connectors` also checks each
connector's keys and reads its secrets from the environment. Both raise
`ConnectorConfigError` with a message naming the entry or the variable, never a secret.
"""

from __future__ import annotations

import math
import os
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field, replace
from functools import lru_cache
from pathlib import Path
from typing import Any

import yaml

from crm_adapter.delivery import Connector, ConnectorConfigError
from lotse.settings import load_settings

ROOT = Path(__file__).resolve().parents[1]
ENDPOINTS = ROOT / "endpoints.yml"
TYPES = ("hubspot", "dynamics", "webhook")
NAME = re.compile(r"^[a-z][a-z0-9_-]{0,31}$")
DELIVERY_KEYS = {"threads": int, "batch": int, "max_attempts": int, "poll_seconds": float,
                 "lease_seconds": float}  # fmt: skip


@dataclass(frozen=True)
class DeliverySettings:
    threads: int = 16
    batch: int = 100
    max_attempts: int = 40
    poll_seconds: float = 1.0
    lease_seconds: float = 120.0


@dataclass(frozen=True)
class ConnectorSpec:
    name: str
    type: str
    options: Mapping[str, Any] = field(repr=False)


@dataclass(frozen=True)
class CrmConfig:
    connectors: tuple[ConnectorSpec, ...] = ()
    delivery: DeliverySettings = DeliverySettings()

    @property
    def names(self) -> tuple[str, ...]:
        return tuple(spec.name for spec in self.connectors)


def config_path() -> Path:
    return load_settings().files.crm_config or ENDPOINTS


def load_crm_config(path: Path | None = None) -> CrmConfig:
    path = path or config_path()
    try:
        document = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
    except (OSError, yaml.YAMLError) as error:
        problem = type(error).__name__
        raise ConnectorConfigError(f"{path.name}: cannot be read ({problem})") from None
    section = document.get("crm") if isinstance(document, dict) else None
    if section is None:
        return CrmConfig()
    if not isinstance(section, dict) or set(section) - {"connectors", "delivery"}:
        raise ConnectorConfigError(f"{path.name}: crm: holds only connectors: and delivery:")
    return CrmConfig(_specs(section.get("connectors") or []), _delivery(section.get("delivery")))


def _specs(raw: Any) -> tuple[ConnectorSpec, ...]:
    if not isinstance(raw, list):
        raise ConnectorConfigError("crm.connectors must be a list")
    specs: list[ConnectorSpec] = []
    for number, entry in enumerate(raw, 1):
        if not isinstance(entry, dict) or entry.get("type") not in TYPES:
            raise ConnectorConfigError(
                f"crm.connectors[{number}]: type must be one of {', '.join(TYPES)}"
            )
        name = str(entry.get("name") or entry["type"])
        if not NAME.fullmatch(name):  # match() would let "hubspot\n" pass (`$`)
            raise ConnectorConfigError(
                f"crm.connectors[{number}]: name must be lower-case letters, digits, - or _ "
                "(at most 32)"
            )
        if name in (spec.name for spec in specs):
            raise ConnectorConfigError(f"crm.connectors: the name {name!r} is used twice")
        options = {k: v for k, v in entry.items() if k not in ("type", "name")}
        specs.append(ConnectorSpec(name, entry["type"], options))
    return tuple(specs)


def _delivery(raw: Any) -> DeliverySettings:
    if raw is None:
        return DeliverySettings()
    if not isinstance(raw, dict):
        raise ConnectorConfigError("crm.delivery must be a mapping")
    values: dict[str, Any] = {}
    for key, value in raw.items():
        kind = DELIVERY_KEYS.get(key)
        if kind is None:
            raise ConnectorConfigError(
                f"crm.delivery: unknown key {key!r} (known: {', '.join(DELIVERY_KEYS)})"
            )
        if (
            isinstance(value, bool)
            or not isinstance(value, (int, float))
            or not math.isfinite(value)  # YAML's .inf and .nan
            or value <= 0
        ):
            raise ConnectorConfigError(f"crm.delivery.{key} must be a positive number")
        if kind is int and value != int(value):
            raise ConnectorConfigError(f"crm.delivery.{key} must be a whole number")
        values[key] = kind(value)
    return DeliverySettings(**values)


def _builders() -> dict[str, Callable[..., Connector]]:
    from crm_adapter.connectors.dynamics import dynamics_from_config
    from crm_adapter.connectors.hubspot import hubspot_from_config
    from crm_adapter.webhook import webhook_from_config

    return {"hubspot": hubspot_from_config, "dynamics": dynamics_from_config,
            "webhook": webhook_from_config}  # fmt: skip


def build_connector(spec: ConnectorSpec, env: Mapping[str, str] | None = None) -> Connector:
    """The connector a spec describes, its secrets read from `env` (os.environ)."""
    build = _builders()[spec.type]
    try:
        connector = build(spec.options, os.environ if env is None else env)
    except ConnectorConfigError as error:
        raise ConnectorConfigError(f"crm connector {spec.name!r}: {error}") from None
    return connector if connector.name == spec.name else replace(connector, name=spec.name)


def build_connectors(config: CrmConfig, env: Mapping[str, str] | None = None) -> list[Connector]:
    return [build_connector(spec, env) for spec in config.connectors]


@lru_cache(maxsize=1)
def configured_names() -> tuple[str, ...]:
    """The connectors that get events (read once per process; names only, no secrets)."""
    return load_crm_config().names
