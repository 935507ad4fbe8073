"""The scaled profile's load balancer: HAProxy, from Debian's `haproxy` package (`make
balancer-deps`, which `make run-scaled`, `make test` and `make bench-scaled` run first),
configured here from the stack's settings.

`haproxy_config` returns the text of haproxy.cfg (a pure function); `ops.scaled_stack`
writes it to `var/haproxy.cfg` at each start and runs `haproxy -f var/haproxy.cfg -db`
(in the foreground) as its `balancer` process. What the configuration promises:

- Round robin over a pool's servers and no stickiness: a conversation's state is in the
  shared stores, so any replica takes any message.
- Health checks: each server is asked every second (Rasa `GET /`, an action server
  `GET /health`); two failed checks take it out of the turn, two answered bring it back.
- A connection that is refused or not made within 2 s is tried again on another server
  (`retry-on conn-failure`, `retries`, `option redispatch`): nothing was sent, so this
  is always safe. A server that fails while it holds a request gives 502 and the request
  is not sent again: it may have had effects (an action ran); the client decides.
- Keep-alive with the clients and with the servers (`http-reuse safe`: a client's first
  request always gets a server connection of its own).
- `X-Forwarded-For`: the address the balancer was connected from is appended to what
  the client sent, as one header line (`option forwardfor` when the client sent none).
  Rasa's REST channel serves requests without its token only to this machine and reads
  the hops from that line (`bot.channels.rest_access`). A client that sent several lines
  has them replaced by "unknown": not this machine, so the REST channel wants its token.
- Bodies declared larger than MAX_BODY_BYTES get 413; a request's headers and body must
  arrive within 10 s (the body is buffered before a server is chosen); a server has
  SERVER_TIMEOUT_SECONDS to answer.
- The stats page (HTML, `/;csv`) and HAProxy's Prometheus metrics (`/metrics`) on
  127.0.0.1 only, whatever LOTSE_HOST says.
- No `log` line: HAProxy logs no request, so no path, address or body reaches a log;
  servers going down and up are printed on stderr.

Errors: `find_haproxy` raises `SettingsError` naming the make target when the binary is
not installed.
"""

from __future__ import annotations

import shutil
from dataclasses import dataclass
from pathlib import Path

from lotse.settings import SettingsError

MAX_BODY_BYTES = 1024 * 1024  # as Rasa's own bound (bot/rasa_server.py)
SERVER_TIMEOUT_SECONDS = 330  # Rasa's own wait for an action server is 300 s
CONNECT_TIMEOUT_SECONDS = 2
RETRIES = 3
DEBIAN_BINARY = Path("/usr/sbin/haproxy")  # not on a non-root user's PATH


@dataclass(frozen=True)
class Pool:
    """One listening address in front of interchangeable servers (`host:port` each)."""

    name: str
    host: str
    port: int
    servers: tuple[str, ...]
    health_path: str  # answered with 200 by a server that can take requests


def haproxy_config(pools: list[Pool], stats_port: int) -> str:
    """The text of haproxy.cfg: a frontend and a backend for each pool, and the stats
    listener on 127.0.0.1:`stats_port`."""
    sections = [_GLOBAL_AND_DEFAULTS]
    for pool in pools:
        sections.append(_frontend(pool))
        sections.append(_backend(pool))
    sections.append(_stats(stats_port))
    return "\n".join(sections)


_GLOBAL_AND_DEFAULTS = f"""\
# Written by `lotse run --scaled` (ops/haproxy_config.py) at each start: edits are lost.
global
    # No `log` line: no request is logged (paths and bodies carry what visitors wrote).
    hard-stop-after 10s

defaults
    mode http
    option http-keep-alive
    http-reuse safe
    option http-buffer-request
    # Connections refused or not made are tried again on another server; a request that
    # was sent never is (retry-on names only conn-failure).
    retries {RETRIES}
    retry-on conn-failure
    option redispatch 1
    timeout connect {CONNECT_TIMEOUT_SECONDS}s
    timeout http-request 10s
    # Longer than aiohttp keeps an idle client connection (15 s): such a client closes first.
    timeout http-keep-alive 60s
    timeout client {SERVER_TIMEOUT_SECONDS}s
    timeout server {SERVER_TIMEOUT_SECONDS}s
    timeout queue 30s
    timeout check 2s
    default-server inter 1s fall 2 rise 2
"""


def _frontend(pool: Pool) -> str:
    return f"""\
frontend {pool.name}
    bind {pool.host}:{pool.port}
    http-request deny deny_status 413 if {{ req.hdr_val(content-length) gt {MAX_BODY_BYTES} }}
    # One X-Forwarded-For line: the client's hops, then the address it connected from.
    http-request set-header X-Forwarded-For "%[req.fhdr(x-forwarded-for)], %[src]" if {{ req.fhdr_cnt(x-forwarded-for) eq 1 }}
    http-request set-header X-Forwarded-For "unknown, %[src]" if {{ req.fhdr_cnt(x-forwarded-for) gt 1 }}
    option forwardfor if-none
    default_backend {pool.name}
"""  # noqa: E501


def _backend(pool: Pool) -> str:
    servers = "".join(
        f"    server {pool.name}-{i} {address} check\n"
        for i, address in enumerate(pool.servers, start=1)
    )
    return f"""\
backend {pool.name}
    balance roundrobin
    option httpchk
    http-check send meth GET uri {pool.health_path}
    http-check expect status 200
{servers}"""


def _stats(port: int) -> str:
    return f"""\
listen stats
    bind 127.0.0.1:{port}
    stats enable
    stats uri /
    stats refresh 5s
    http-request use-service prometheus-exporter if {{ path /metrics }}
"""


def find_haproxy(path: str | None = None, debian: Path = DEBIAN_BINARY) -> str:
    """The haproxy binary: on `path` (the process's PATH when None), else Debian's."""
    found = shutil.which("haproxy", path=path)
    if found:
        return found
    if debian.exists():
        return str(debian)
    raise SettingsError(
        "the scaled profile's balancer is HAProxy, which is not installed: `make run-scaled` "
        "installs it (`make balancer-deps`; as root: apt-get install haproxy)"
    )


def haproxy_command(binary: str, config: Path) -> list[str]:
    """HAProxy in the foreground (-db): SIGTERM stops it, its alerts go to stderr."""
    return [binary, "-f", str(config), "-db"]
