"""The scaled profile's load balancer: real HAProxy with the profile's configuration
(ops/haproxy_config.py) in front of two tiny local HTTP servers; and how the profile
is put together (ops/scaled_stack.py, endpoints.scaled.yml)."""

from __future__ import annotations

import subprocess
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest
import requests
from rasa.core.utils import read_endpoints_from_path

from lotse.settings import Settings, SettingsError
from ops.haproxy_config import Pool, haproxy_config
from ops.scaled_stack import ENDPOINTS, ScaledStack, ServiceAddresses
from tests.support.console_client import free_port
from tests.support.fake_servers import ServedInThread
from tests.support.haproxy import haproxy_binary, running_haproxy, wait_for_states


class Named(BaseHTTPRequestHandler):
    """Answers with its server's name and the body it got, and shows what it was sent;
    `/die` closes the connection without an answer. Records each request's path and the
    port it came from."""

    def log_message(self, *args: object) -> None:
        pass

    def _answer(self) -> None:
        self.server.seen.append((self.path, self.client_address[1]))  # type: ignore[attr-defined]
        if self.path == "/die":
            self.close_connection = True
            return
        body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
        reply = self.server.name.encode() + b":" + body  # type: ignore[attr-defined]
        self.send_response(200)
        self.send_header("Content-Length", str(len(reply)))
        self.send_header("X-Seen-Auth", self.headers.get("Authorization", ""))
        self.send_header("X-Seen-Path", self.path)
        hops = self.headers.get_all("X-Forwarded-For") or []
        self.send_header("X-Seen-Forwarded-For", ", ".join(hops))
        self.end_headers()
        self.wfile.write(reply)

    do_GET = do_POST = _answer  # noqa: N815


class KeptAlive(Named):
    protocol_version = "HTTP/1.1"  # connections stay open between requests


class NamedServer(ServedInThread):
    def __init__(self, name: str, handler: type[Named] = Named) -> None:
        server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
        server.daemon_threads = True
        server.name = name  # type: ignore[attr-defined]
        server.seen = []  # type: ignore[attr-defined]
        self.port = server.server_address[1]
        self.seen: list[tuple[str, int]] = server.seen  # type: ignore[attr-defined]
        self._serve(server)


@pytest.fixture
def balanced(tmp_path: Path, request) -> Iterator[tuple[str, int, NamedServer, NamedServer]]:
    """HAProxy on a free port in front of servers "a" and "b"; yields (its URL, its stats
    port, a, b). `@pytest.mark.parametrize("balanced", [KeptAlive], indirect=True)`
    makes the servers keep connections open."""
    handler = getattr(request, "param", Named)
    with NamedServer("a", handler) as a, NamedServer("b", handler) as b:
        port = free_port()
        pool = Pool("rasa", "127.0.0.1", port, (f"127.0.0.1:{a.port}", f"127.0.0.1:{b.port}"), "/")
        with running_haproxy([pool], tmp_path) as stats_port:
            yield f"http://127.0.0.1:{port}", stats_port, a, b


def test_requests_take_turns_with_body_and_headers(balanced) -> None:
    url, _stats, _a, _b = balanced
    answers = [requests.post(f"{url}/webhooks/rest/webhook", data=b"hallo", timeout=5,
                             headers={"Authorization": "Bearer t"}) for _ in range(4)]  # fmt: skip
    assert [a.text for a in answers] in (["a:hallo", "b:hallo"] * 2, ["b:hallo", "a:hallo"] * 2)
    assert all(a.headers["X-Seen-Auth"] == "Bearer t" for a in answers)


def test_the_path_goes_on_as_the_client_wrote_it(balanced) -> None:
    url, _stats, _a, _b = balanced
    answer = requests.get(f"{url}/conversations/twilio%3Awhatsapp%2F1/tracker?x=%2F", timeout=5)
    assert answer.headers["X-Seen-Path"] == "/conversations/twilio%3Awhatsapp%2F1/tracker?x=%2F"


def test_a_stopped_backend_is_skipped_without_an_error(balanced) -> None:
    url, stats, a, _b = balanced
    a.__exit__(None, None, None)  # stops listening; the health check has not noticed yet
    answers = [requests.get(f"{url}/x", timeout=5) for _ in range(6)]
    assert [r.status_code for r in answers] == [200] * 6
    assert {r.text for r in answers} == {"b:"}
    wait_for_states(stats, {"rasa/rasa-1": "DOWN", "rasa/rasa-2": "UP"})  # then it has


def test_a_backend_failing_while_it_holds_a_request_answers_502(balanced) -> None:
    url, _stats, a, b = balanced
    statuses = [requests.get(f"{url}/die", timeout=5).status_code for _ in range(2)]
    assert statuses == [502, 502]
    dying = [path for server in (a, b) for path, _port in server.seen if path == "/die"]
    assert dying == ["/die", "/die"]  # each sent once: it may have had effects


def test_x_forwarded_for_carries_the_client_address(balanced) -> None:
    url, _stats, _a, _b = balanced
    seen = requests.get(f"{url}/x", timeout=5).headers["X-Seen-Forwarded-For"]
    assert seen == "127.0.0.1"
    seen = requests.get(f"{url}/x", headers={"X-Forwarded-For": "203.0.113.9"},
                        timeout=5).headers["X-Seen-Forwarded-For"]  # fmt: skip
    assert seen == "203.0.113.9, 127.0.0.1"  # the client's claim stays in front


def test_bodies_over_the_bound_are_refused(balanced) -> None:
    url, _stats, a, b = balanced
    answer = requests.post(f"{url}/x", data=b"x" * (1024 * 1024 + 1), timeout=10)
    assert answer.status_code == 413
    assert not [p for server in (a, b) for p, _port in server.seen if p == "/x"]


@pytest.mark.parametrize("balanced", [KeptAlive], indirect=True)
def test_connections_to_the_servers_are_kept_alive(balanced) -> None:
    url, _stats, a, b = balanced
    with requests.Session() as session:
        for _ in range(6):
            assert session.get(f"{url}/kept", timeout=5).status_code == 200
    for server in (a, b):
        ports = [port for path, port in server.seen if path == "/kept"]
        assert len(ports) == 3 and len(set(ports)) == 1  # three requests, one connection


def test_the_stats_page_answers(balanced) -> None:
    _url, stats, _a, _b = balanced
    page = requests.get(f"http://127.0.0.1:{stats}/", timeout=5)
    assert page.status_code == 200 and "rasa-1" in page.text
    metrics = requests.get(f"http://127.0.0.1:{stats}/metrics", timeout=5)
    assert "haproxy_backend_active_servers" in metrics.text


def settings() -> Settings:
    return Settings(database_url="", rasa_port=5005, action_port=5055, web_port=8080,
                    host="127.0.0.1", console_port=8090)  # fmt: skip


def scaled(tmp_path: Path, haproxy: str = "/opt/haproxy") -> ScaledStack:
    addresses = ServiceAddresses.from_environment({"LOTSE_PG_DB": "lotse_x"})
    return ScaledStack(settings(), Path("model.tar.gz"), data_dir=tmp_path, replicas=2,
                       services=addresses, haproxy=haproxy)  # fmt: skip


def test_the_scaled_profile_runs_replicas_behind_haproxy(tmp_path: Path) -> None:
    stack = scaled(tmp_path)
    commands = stack.commands()
    assert {"rasa-1", "rasa-2", "actions-1", "actions-2", "balancer", "events", "website",
            "console", "purge"} <= set(commands)  # fmt: skip
    assert commands["rasa-2"][commands["rasa-2"].index("--port") + 1] == "5007"
    assert commands["rasa-1"][commands["rasa-1"].index("--endpoints") + 1] == str(ENDPOINTS)
    assert commands["actions-2"][commands["actions-2"].index("--port") + 1] == "5057"
    assert commands["balancer"] == ["/opt/haproxy", "-f", str(tmp_path / "haproxy.cfg"), "-db"]
    assert stack.pools() == [
        Pool("rasa", "127.0.0.1", 5005, ("127.0.0.1:5006", "127.0.0.1:5007"), "/"),
        Pool("actions", "127.0.0.1", 5055, ("127.0.0.1:5056", "127.0.0.1:5057"), "/health"),
    ]
    assert stack.stats_port == 5004
    env = stack.environment()
    assert env["LOTSE_DATABASE_URL"] == "postgresql+psycopg2://postgres@127.0.0.1:5432/lotse_x"
    assert env["LOTSE_TRACKER_URL"] == env["LOTSE_DATABASE_URL"]
    assert set(stack.health_urls()) >= {"rasa-1", "rasa-2", "actions-1", "balancer"}
    assert stack.health_urls()["balancer"] == "http://127.0.0.1:5005/webhooks/rest/"


def test_haproxy_accepts_the_profiles_configuration(tmp_path: Path) -> None:
    stack = scaled(tmp_path, haproxy_binary())
    config = tmp_path / "haproxy.cfg"
    config.write_text(haproxy_config(stack.pools(), stack.stats_port), encoding="utf-8")
    check = subprocess.run([stack.haproxy, "-c", "-f", str(config)], capture_output=True,
                           text=True, timeout=30)  # fmt: skip
    assert check.returncode == 0, check.stdout + check.stderr
    assert "[WARNING]" not in check.stdout + check.stderr


def test_bad_service_settings_are_refused_with_their_name() -> None:
    with pytest.raises(SettingsError, match="LOTSE_REDIS_PORT"):
        ServiceAddresses.from_environment({"LOTSE_REDIS_PORT": "sechs"})
    with pytest.raises(SettingsError, match="at least one replica"):
        ScaledStack(
            settings(), Path("m"), replicas=0, services=ServiceAddresses.from_environment({})
        )


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
