"""`/healthz`, `/readyz` and `/metrics` on every process of the running stack (Rasa, the
action server, the website, the console, the CRM delivery worker), and the metrics a
conversation and a refused login leave (issue 21)."""

from __future__ import annotations

import pytest
import requests

from lotse.settings import Settings
from tests.support.rest_client import Visitor


def _urls(stack: Settings) -> dict[str, str]:
    host = stack.host
    return {
        "rasa": stack.rasa_url,
        "actions": f"http://{host}:{stack.action_port}",
        "website": f"http://{host}:{stack.web_port}",
        "console": f"http://{host}:{stack.console_port}",
        "deliver": f"http://{host}:{stack.ops_port + 1}",
    }


@pytest.mark.model
@pytest.mark.parametrize("process", ["rasa", "actions", "website", "console", "deliver"])
def test_every_process_is_alive_ready_and_measured(stack: Settings, process: str) -> None:
    base = _urls(stack)[process]
    assert requests.get(f"{base}/healthz", timeout=10).json() == {"status": "ok"}
    assert requests.get(f"{base}/readyz", timeout=30).json() == {"status": "ready"}
    metrics = requests.get(f"{base}/metrics", timeout=30)
    assert metrics.status_code == 200
    assert "# TYPE lotse_turns_total counter" in metrics.text


@pytest.mark.model
def test_a_turn_a_fallback_and_a_refused_login_are_counted(stack: Settings) -> None:
    urls = _urls(stack)
    Visitor(stack.rasa_url).say("asdkjh qwe zzkx")  # nothing the bot understands
    rasa = requests.get(f"{urls['rasa']}/metrics", timeout=30).text
    assert 'lotse_turns_total{channel="rest",status="2xx"}' in rasa
    assert 'lotse_turn_seconds_count{channel="rest"}' in rasa
    assert "lotse_fallbacks_total{kind=" in rasa
    wrong = {"username": "nobody-here", "password": "wrong"}
    refused = requests.post(f"{urls['console']}/console/api/login", json=wrong, timeout=30)
    assert refused.status_code in (401, 429)
    console = requests.get(f"{urls['console']}/metrics", timeout=30).text
    assert "lotse_logins_refused_total{reason=" in console
    assert "lotse_handoffs_waiting " in console
