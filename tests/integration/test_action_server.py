"""The action server (bot/action_server.py) answers only who shows the shared secret;
`/health` stays open; no CORS headers for a browser. And Rasa sends the secret:
endpoints.yml names it in the action endpoint's headers."""

from __future__ import annotations

import asyncio
import contextlib
import os
import subprocess
import sys
import time
from collections.abc import Iterator

import pytest
import requests
from rasa.core.utils import read_endpoints_from_path
from rasa_sdk.executor import ActionExecutor
from sanic import Sanic

from bot.action_server import SECRET_HEADER, ActionTookTooLong, bound
from lotse.settings import ACTION_TIME_LIMIT, ROOT, SettingsError, load_settings
from tests.support.console_client import free_port

SECRET = "s3cr3t-shared-with-rasa"
CALL = {"next_action": "action_session_start", "sender_id": "web-1", "version": "3.6.0",
        "tracker": {"sender_id": "web-1", "slots": {}, "events": [], "latest_message": {}},
        "domain": {}}  # fmt: skip


@pytest.fixture(scope="module")
def server() -> Iterator[str]:
    port = free_port()
    env = {**os.environ, "LOTSE_ACTION_SECRET": SECRET}
    command = [sys.executable, "-m", "bot.action_server", "--port", str(port)]
    process = subprocess.Popen(command, env=env, stdout=subprocess.DEVNULL,
                               stderr=subprocess.DEVNULL)  # fmt: skip
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            with contextlib.suppress(requests.RequestException):
                if requests.get(f"{base}/health", timeout=1).ok:
                    break
            time.sleep(0.2)
        yield base
    finally:
        process.terminate()
        process.wait(timeout=15)


def test_only_the_shared_secret_opens_the_action_server(server) -> None:
    assert requests.get(f"{server}/health", timeout=10).status_code == 200
    webhook = f"{server}/webhook"
    assert requests.post(webhook, json=CALL, timeout=10).status_code == 401
    wrong = requests.post(webhook, json=CALL, headers={SECRET_HEADER: "guess"}, timeout=10)
    assert wrong.status_code == 403
    right = requests.post(webhook, json=CALL, headers={SECRET_HEADER: SECRET}, timeout=30)
    assert right.status_code == 200 and "events" in right.json()


def test_no_cors_headers_for_a_browser(server) -> None:
    answer = requests.get(f"{server}/health", headers={"Origin": "https://evil.example"},
                          timeout=10)  # fmt: skip
    assert "access-control-allow-origin" not in {k.lower() for k in answer.headers}


def test_rasa_sends_the_secret_from_the_environment(monkeypatch) -> None:
    monkeypatch.setenv("LOTSE_ACTION_SECRET", SECRET)
    monkeypatch.setenv("LOTSE_ACTION_PORT", "5055")
    monkeypatch.setenv("LOTSE_TRACKER_DB", "var/tracker.db")
    endpoints = read_endpoints_from_path(ROOT / "endpoints.yml")
    assert endpoints.action.headers == {SECRET_HEADER: SECRET}


class Sleepy(ActionExecutor):
    """An executor whose action blocks its thread for `sleep` seconds, as a stuck
    database call would."""

    async def run(self, action_call: dict) -> dict:
        time.sleep(action_call["sleep"])
        return {"events": [], "responses": [{"text": action_call["next_action"]}]}


def test_an_action_call_ends_at_the_time_limit_and_others_go_on() -> None:
    bound(Sanic(f"bounded{os.getpid()}"), Sleepy, limit=0.5)
    executor = Sleepy()

    async def both() -> tuple:
        stuck = executor.run({"next_action": "action_stuck", "sleep": 3})
        quick = executor.run({"next_action": "action_quick", "sleep": 0.05})
        return await asyncio.gather(stuck, quick, return_exceptions=True)

    started = time.monotonic()
    stuck, quick = asyncio.run(both())
    assert time.monotonic() - started < 2  # not the 3 s the stuck action takes
    assert isinstance(stuck, ActionTookTooLong) and str(stuck) == "action_stuck"
    assert quick == {"events": [], "responses": [{"text": "action_quick"}]}


def test_the_time_limit_is_read_and_checked() -> None:
    def time_limit(env: dict[str, str]) -> float:
        return load_settings(env).limits.action_time_limit

    assert time_limit({}) == ACTION_TIME_LIMIT
    assert time_limit({"LOTSE_ACTION_TIME_LIMIT": "2.5"}) == 2.5
    for wrong in ("0", "-1", "60", "soon"):
        with pytest.raises(SettingsError, match="LOTSE_ACTION_TIME_LIMIT"):
            time_limit({"LOTSE_ACTION_TIME_LIMIT": wrong})


def test_a_call_that_waited_past_the_limit_for_a_thread_never_runs() -> None:
    ran: list[str] = []

    class Recording(ActionExecutor):
        async def run(self, action_call: dict) -> dict:
            time.sleep(action_call["sleep"])
            ran.append(action_call["next_action"])
            return {"events": []}

    bound(Sanic(f"queued{os.getpid()}"), Recording, limit=0.5)
    executor = Recording()

    async def crowd() -> list:
        stuck = [executor.run({"next_action": f"stuck{n}", "sleep": 1.5}) for n in range(8)]
        queued = executor.run({"next_action": "queued", "sleep": 0})
        return await asyncio.gather(*stuck, queued, return_exceptions=True)

    outcomes = asyncio.run(crowd())
    assert all(isinstance(o, ActionTookTooLong) for o in outcomes)
    time.sleep(2)  # the stuck ones finish; the queued one must not run after its turn failed
    assert "queued" not in ran and len(ran) == 8
