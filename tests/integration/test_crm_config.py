"""The `crm:` section (crm_adapter/crm_config.py): connectors chosen and configured in
YAML, secrets from the environment, clear errors at start that never quote a secret;
`lotse run` starts the delivery worker only when a connector is configured."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from crm_adapter.crm_config import (
    DeliverySettings,
    build_connectors,
    load_crm_config,
)
from crm_adapter.delivery import ConnectorConfigError
from crm_adapter.webhook import WebhookConnector
from lotse.settings import ROOT, load_settings
from ops.runner import Stack

SECRET = "webhook-secret-of-enough-length-42"
FULL = """
crm:
  connectors:
    - type: webhook
      name: n8n
      url: https://hooks.example/lotse
      secret_env: N8N_SECRET
    - type: hubspot
      token_env: HS_TOKEN
      precedence: lotse
    - type: dynamics
      base_url: https://contoso.crm4.dynamics.com
      tenant_id: contoso
      client_id: 00000000-0000-0000-0000-000000000001
      client_secret_env: D365_SECRET
  delivery:
    threads: 4
    max_attempts: 6
"""
ENV = {"N8N_SECRET": SECRET, "HS_TOKEN": "pat-eu1-token-value", "D365_SECRET": "d365-secret-value"}


def write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "endpoints.yml"
    path.write_text(text, encoding="utf-8")
    return path


def test_without_a_crm_section_nothing_is_configured():
    config = load_crm_config(ROOT / "endpoints.yml")
    assert config.connectors == () and config.delivery == DeliverySettings()


def test_every_connector_type_is_built_from_config_and_the_environment(tmp_path: Path):
    config = load_crm_config(write(tmp_path, FULL))
    assert config.names == ("n8n", "hubspot", "dynamics")
    assert config.delivery == DeliverySettings(threads=4, batch=100, max_attempts=6)
    connectors = build_connectors(config, ENV)
    assert [c.name for c in connectors] == ["n8n", "hubspot", "dynamics"]
    assert isinstance(connectors[0], WebhookConnector)
    assert connectors[0].secret == SECRET.encode()
    for connector in connectors:
        assert all(secret not in repr(connector) for secret in ENV.values())


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("crm: {connectors: [{type: salesforce}]}", "type must be one of hubspot, dynamics"),
        ("crm: {connectors: [{type: webhook}, {type: webhook}]}", "used twice"),
        ("crm: {connectors: [{type: webhook, name: 'Bad Name'}]}", "name must be lower-case"),
        ("crm: {connectors: {type: webhook}}", "must be a list"),
        ("crm: {delivery: {threads: 0}}", "threads must be a positive number"),
        ("crm: {delivery: {speed: 3}}", "unknown key 'speed'"),
        ("crm: {other: 1}", "holds only connectors: and delivery:"),
        ("crm: [", "cannot be read"),
    ],
)
def test_a_bad_section_says_what_is_wrong(tmp_path: Path, text: str, expected: str):
    with pytest.raises(ConnectorConfigError, match=expected):
        build_connectors(load_crm_config(write(tmp_path, text)), ENV)


@pytest.mark.parametrize(
    ("entry", "env", "expected"),
    [
        ("{type: webhook, url: https://h.example}", {}, "LOTSE_WEBHOOK_SECRET must hold"),
        ("{type: webhook, url: ftp://h.example}", ENV, "url must be an http"),
        ("{type: webhook, url: https://h.example, secret: x}", ENV, "unknown config keys: secret"),
        ("{type: hubspot}", {}, "HUBSPOT_TOKEN"),
        ("{type: dynamics, tenant_id: t, client_id: c}", ENV, "base_url"),
    ],
)
def test_a_bad_connector_names_the_entry_or_variable_and_no_secret(
    tmp_path: Path, entry: str, env: dict[str, str], expected: str
):
    config = load_crm_config(write(tmp_path, f"crm: {{connectors: [{entry}]}}"))
    with pytest.raises(ConnectorConfigError, match=expected) as raised:
        build_connectors(config, env)
    assert raised.value.args[0].startswith("crm connector ")
    assert all(secret not in str(raised.value) for secret in ENV.values())


def test_lotse_run_starts_the_delivery_worker_only_with_a_connector(tmp_path, monkeypatch):
    stack = Stack(load_settings(), model=tmp_path / "model.tar.gz")
    assert "deliver" not in stack.commands()
    monkeypatch.setenv("LOTSE_CRM_CONFIG", str(write(tmp_path, FULL)))
    assert stack.commands()["deliver"][-1] == "ops.deliver_command"


def test_the_worker_refuses_to_start_with_a_bad_config_and_says_why(tmp_path: Path):
    config = write(tmp_path, "crm: {connectors: [{type: hubspot, token_env: HS_TOKEN}]}")
    env = {"PATH": "/usr/bin:/bin", "LOTSE_CRM_CONFIG": str(config),
           "LOTSE_DATABASE_URL": f"sqlite:///{tmp_path / 'crm.db'}"}  # fmt: skip
    done = subprocess.run(
        [sys.executable, "-m", "ops.deliver_command", "--once"], cwd=ROOT, env=env,
        capture_output=True, text=True, timeout=120,
    )  # fmt: skip
    assert done.returncode == 2
    assert "HS_TOKEN" in done.stderr and "Traceback" not in done.stderr


def test_rasa_reads_an_endpoints_file_with_a_crm_section(tmp_path: Path, monkeypatch):
    from rasa.core.utils import AvailableEndpoints

    monkeypatch.setenv("LOTSE_ACTION_PORT", "5055")
    monkeypatch.setenv("LOTSE_ACTION_SECRET", "a-shared-secret")
    monkeypatch.setenv("LOTSE_TRACKER_DB", str(tmp_path / "tracker.db"))
    text = (ROOT / "endpoints.yml").read_text(encoding="utf-8") + FULL
    endpoints = AvailableEndpoints.read_endpoints(str(write(tmp_path, text)))
    assert endpoints.action.url == "http://127.0.0.1:5055/webhook"
    assert load_crm_config(tmp_path / "endpoints.yml").names == ("n8n", "hubspot", "dynamics")
