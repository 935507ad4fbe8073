"""The scaled profile's load balancer (ops/balancer.py) and how the profile is put
together (ops/scaled_stack.py, endpoints.scaled.yml)."""

from __future__ import annotations

import subprocess
import sys
import time
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest
import requests
from rasa.core.utils import read_endpoints_from_path

from lotse.settings import Settings, SettingsError
from ops.balancer import Backends, parse_listen
from ops.scaled_stack import ENDPOINTS, ScaledStack, ServiceAddresses
from tests.support.console_client import free_port
from tests.support.fake_servers import ServedInThread


class Named(BaseHTTPRequestHandler):
    """Answers with its server's name and the body it got; `/die` closes the socket."""

    def log_message(self, *args: object) -> None:
        pass

    def _answer(self) -> None:
        if self.path == "/die":
            self.connection.close()
            return
        body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
        reply = self.server.name.encode() + b":" + body  # type: ignore[attr-defined]
        self.send_response(200)
        self.send_header("Content-Length", str(len(reply)))
        self.send_header("X-Seen-Auth", self.headers.get("Authorization", ""))
        self.send_header("X-Seen-Path", self.path)
        self.end_headers()
        self.wfile.write(reply)

    do_GET = do_POST = _answer  # noqa: N815


class NamedServer(ServedInThread):
    def __init__(self, name: str) -> None:
        server = ThreadingHTTPServer(("127.0.0.1", 0), Named)
        server.daemon_threads = True
        server.name = name  # type: ignore[attr-defined]
        self.port = server.server_address[1]
        self._serve(server)


@pytest.fixture
def balanced() -> Iterator[tuple[str, NamedServer, NamedServer]]:
    with NamedServer("a") as a, NamedServer("b") as b:
        port = free_port()
        process = subprocess.Popen(
            [sys.executable, "-m", "ops.balancer", "--listen",
             f"127.0.0.1:{port}=http://127.0.0.1:{a.port},http://127.0.0.1:{b.port}"],
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
        )  # fmt: skip
        url = f"http://127.0.0.1:{port}"
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            try:
                requests.get(url, timeout=1)
                break
            except requests.ConnectionError:
                time.sleep(0.1)
        try:
            yield url, a, b
        finally:
            process.terminate()
            process.wait(timeout=10)


def test_requests_take_turns_with_body_and_headers(balanced) -> None:
    url, _a, _b = balanced
    answers = [requests.post(f"{url}/webhooks/rest/webhook", data=b"hallo", timeout=5,
                             headers={"Authorization": "Bearer t"}) for _ in range(4)]  # fmt: skip
    assert sorted(a.text for a in answers) == ["a:hallo", "a:hallo", "b:hallo", "b:hallo"]
    assert all(a.headers["X-Seen-Auth"] == "Bearer t" for a in answers)


def test_the_path_goes_on_as_the_client_wrote_it(balanced) -> None:
    url, _a, _b = balanced
    answer = requests.get(f"{url}/conversations/twilio%3Awhatsapp%2F1/tracker?x=%2F", timeout=5)
    assert answer.headers["X-Seen-Path"] == "/conversations/twilio%3Awhatsapp%2F1/tracker?x=%2F"


def test_a_stopped_backend_is_skipped_without_an_error(balanced) -> None:
    url, a, _b = balanced
    a.__exit__(None, None, None)  # stops listening
    answers = [requests.get(f"{url}/x", timeout=5) for _ in range(6)]
    assert [r.status_code for r in answers] == [200] * 6
    assert {r.text for r in answers} == {"b:"}


def test_a_backend_failing_while_it_holds_a_request_answers_502(balanced) -> None:
    url, _a, _b = balanced
    statuses = {requests.get(f"{url}/die", timeout=5).status_code for _ in range(2)}
    assert statuses == {502}  # not retried elsewhere: it may have had effects


def test_rested_backends_come_last_and_return_after_a_while() -> None:
    now = [0.0]
    backends = Backends(["x", "y", "z"], clock=lambda: now[0])
    assert backends.order() == ["x", "y", "z"] and backends.order() == ["y", "z", "x"]
    assert backends.refused("y") is True and backends.refused("y") is False
    assert backends.order() == ["z", "x", "y"]
    now[0] = 5.0
    assert backends.order() == ["x", "y", "z"]


def test_listen_specs_are_checked() -> None:
    assert parse_listen("127.0.0.1:5005=http://h:1,http://h:2/") == (
        "127.0.0.1", 5005, ["http://h:1", "http://h:2"])  # fmt: skip
    for wrong in ("5005=http://h:1", "127.0.0.1:x=http://h:1", "127.0.0.1:5005="):
        with pytest.raises(Exception, match="HOST:PORT"):
            parse_listen(wrong)


def settings() -> Settings:
    return Settings(database_url="", rasa_port=5005, action_port=5055, web_port=8080,
                    host="127.0.0.1", console_port=8090)  # fmt: skip


def test_the_scaled_profile_runs_replicas_behind_the_balancers(tmp_path: Path) -> None:
    addresses = ServiceAddresses.from_environment({"LOTSE_PG_DB": "lotse_x"})
    stack = ScaledStack(settings(), Path("model.tar.gz"), data_dir=tmp_path, replicas=2,
                        services=addresses)  # fmt: skip
    commands = stack.commands()
    assert {"rasa-1", "rasa-2", "actions-1", "actions-2", "balancer", "events", "website",
            "console", "purge"} <= set(commands)  # fmt: skip
    assert commands["rasa-2"][commands["rasa-2"].index("--port") + 1] == "5007"
    assert commands["rasa-1"][commands["rasa-1"].index("--endpoints") + 1] == str(ENDPOINTS)
    assert commands["actions-2"][commands["actions-2"].index("--port") + 1] == "5057"
    listens = [commands["balancer"][i + 1] for i, a in enumerate(commands["balancer"])
               if a == "--listen"]  # fmt: skip
    assert listens == ["127.0.0.1:5005=http://127.0.0.1:5006,http://127.0.0.1:5007",
                       "127.0.0.1:5055=http://127.0.0.1:5056,http://127.0.0.1:5057"]  # fmt: skip
    env = stack.environment()
    assert env["LOTSE_DATABASE_URL"] == "postgresql+psycopg2://postgres@127.0.0.1:5432/lotse_x"
    assert env["LOTSE_TRACKER_URL"] == env["LOTSE_DATABASE_URL"]
    assert set(stack.health_urls()) >= {"rasa-1", "rasa-2", "actions-1", "balancer"}


def test_bad_service_settings_are_refused_with_their_name() -> None:
    with pytest.raises(SettingsError, match="LOTSE_REDIS_PORT"):
        ServiceAddresses.from_environment({"LOTSE_REDIS_PORT": "sechs"})
    with pytest.raises(SettingsError, match="at least one replica"):
        ScaledStack(settings(), Path("m"), replicas=0,
                    services=ServiceAddresses.from_environment({}))


def test_rasa_reads_the_scaled_endpoints(monkeypatch) -> None:
    for name, value in {**ServiceAddresses.from_environment({}).values, "LOTSE_ACTION_PORT": "5055",
                        "LOTSE_ACTION_SECRET": "s"}.items():  # fmt: skip
        monkeypatch.setenv(name, value)
    endpoints = read_endpoints_from_path(ENDPOINTS)
    assert endpoints.tracker_store.type == "SQL"
    assert endpoints.tracker_store.kwargs["dialect"] == "postgresql"
    assert endpoints.lock_store.type == "bot.lock_store.AtomicRedisLockStore"
    assert endpoints.event_broker.type == "pika"
    assert endpoints.event_broker.kwargs["queues"] == ["lotse_events"]
    assert endpoints.action.url == "http://127.0.0.1:5055/webhook"
