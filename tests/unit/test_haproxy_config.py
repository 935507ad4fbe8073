"""The scaled profile's HAProxy configuration (ops/haproxy_config.py), read as text: what
it promises about turns, health checks, retries, keep-alive, forwarded addresses,
timeouts, stats and logging. `tests/integration/test_balancer.py` runs it for real."""

from __future__ import annotations

from pathlib import Path

import pytest

from lotse.settings import SettingsError
from ops.haproxy_config import (
    MAX_BODY_BYTES,
    Pool,
    find_haproxy,
    haproxy_command,
    haproxy_config,
)

RASA = Pool("rasa", "127.0.0.1", 5005, ("127.0.0.1:5006", "127.0.0.1:5007"), "/")
ACTIONS = Pool("actions", "127.0.0.1", 5055, ("127.0.0.1:5056", "127.0.0.1:5057"), "/health")


def sections(config: str) -> dict[str, list[str]]:
    """'frontend rasa' -> its lines (stripped, comments left out)."""
    found: dict[str, list[str]] = {}
    current: list[str] = []
    for line in config.splitlines():
        if not line.strip() or line.lstrip().startswith("#"):
            continue
        if not line.startswith(" "):
            current = found.setdefault(line.strip(), [])
        else:
            current.append(" ".join(line.split()))
    return found


@pytest.fixture
def config() -> dict[str, list[str]]:
    return sections(haproxy_config([RASA, ACTIONS], stats_port=5004))


def test_each_pool_listens_on_its_port_in_front_of_its_servers(config) -> None:
    assert "bind 127.0.0.1:5005" in config["frontend rasa"]
    assert "default_backend rasa" in config["frontend rasa"]
    assert "bind 127.0.0.1:5055" in config["frontend actions"]
    assert "balance roundrobin" in config["backend rasa"]
    servers = [line for line in config["backend actions"] if line.startswith("server ")]
    assert servers == ["server actions-1 127.0.0.1:5056 check",
                       "server actions-2 127.0.0.1:5057 check"]  # fmt: skip


def test_every_server_is_health_checked_on_what_it_serves(config) -> None:
    assert "http-check send meth GET uri /" in config["backend rasa"]
    assert "http-check send meth GET uri /health" in config["backend actions"]
    for backend in ("backend rasa", "backend actions"):
        assert {"option httpchk", "http-check expect status 200"} <= set(config[backend])
    assert "default-server inter 1s fall 2 rise 2" in config["defaults"]


def test_only_connection_failures_are_tried_again_on_another_server(config) -> None:
    defaults = config["defaults"]
    assert "retry-on conn-failure" in defaults  # not empty-response: the request was sent
    assert [line for line in defaults if line.startswith("retry-on")] == ["retry-on conn-failure"]
    assert "retries 3" in defaults and "option redispatch 1" in defaults


def test_connections_are_kept_alive_both_ways(config) -> None:
    lines = [line for section in config.values() for line in section]
    assert "option http-keep-alive" in config["defaults"]
    assert "http-reuse safe" in config["defaults"]
    assert not any(o in line for line in lines for o in ("http-server-close", "httpclose"))


def test_the_client_address_is_appended_to_x_forwarded_for(config) -> None:
    for frontend in ("frontend rasa", "frontend actions"):
        lines = config[frontend]
        assert "option forwardfor if-none" in lines
        assert ('http-request set-header X-Forwarded-For "%[req.fhdr(x-forwarded-for)], '
                '%[src]" if { req.fhdr_cnt(x-forwarded-for) eq 1 }') in lines  # fmt: skip
        assert ('http-request set-header X-Forwarded-For "unknown, %[src]" '
                "if { req.fhdr_cnt(x-forwarded-for) gt 1 }") in lines  # fmt: skip


def test_timeouts_and_bodies_are_bounded(config) -> None:
    timeouts = dict(line.split()[1:3] for line in config["defaults"] if line.startswith("timeout"))
    assert int(timeouts["server"].removesuffix("s")) >= 330  # Rasa waits 300 s for actions
    assert timeouts["connect"] == "2s" and timeouts["http-request"] == "10s"
    assert "option http-buffer-request" in config["defaults"]
    deny = ("http-request deny deny_status 413 if "
            f"{{ req.hdr_val(content-length) gt {MAX_BODY_BYTES} }}")  # fmt: skip
    assert deny in config["frontend rasa"] and deny in config["frontend actions"]


def test_stats_only_on_loopback_whatever_the_host() -> None:
    everywhere = Pool("rasa", "0.0.0.0", 5005, ("0.0.0.0:5006",), "/")
    config = sections(haproxy_config([everywhere], stats_port=7004))
    assert "bind 0.0.0.0:5005" in config["frontend rasa"]
    stats = config["listen stats"]
    assert "bind 127.0.0.1:7004" in stats and "stats enable" in stats
    assert "http-request use-service prometheus-exporter if { path /metrics }" in stats


def test_no_request_is_logged(config) -> None:
    lines = [line for section in config.values() for line in section]
    assert not [line for line in lines if line.startswith(("log ", "option httplog"))]


def test_the_binary_is_found_on_path_or_where_debian_puts_it(tmp_path: Path) -> None:
    on_path = tmp_path / "bin" / "haproxy"
    on_path.parent.mkdir()
    on_path.write_text("#!/bin/sh\n")
    on_path.chmod(0o755)
    nowhere = tmp_path / "missing"
    assert find_haproxy(path=str(on_path.parent), debian=nowhere) == str(on_path)
    assert find_haproxy(path=str(tmp_path), debian=on_path) == str(on_path)
    with pytest.raises(SettingsError, match=r"make run-scaled.*apt-get install haproxy"):
        find_haproxy(path=str(tmp_path), debian=nowhere)


def test_haproxy_runs_in_the_foreground() -> None:
    assert haproxy_command("/usr/sbin/haproxy", Path("var/haproxy.cfg")) == [
        "/usr/sbin/haproxy", "-f", "var/haproxy.cfg", "-db"]  # fmt: skip
