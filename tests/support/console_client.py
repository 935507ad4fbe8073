"""Helpers for tests of the staff console: start its server, log in, call the API."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field

import requests

from lotse.settings import ROOT
from wiring.services import services_for

PASSWORD = "correct horse battery"
USERS = (("admin", "admin", None), ("anna", "agent", "anna"), ("jonas", "agent", "jonas"),
         ("tim", "agent", "tim"), ("nina", "agent", "nina"))  # fmt: skip


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def add_users(database_url: str) -> None:
    auth = services_for(database_url).staff
    existing = {u.username for u in auth.users()}
    for username, role, staff_id in USERS:
        if username not in existing:
            auth.add_user(username, PASSWORD, role, staff_id)


@contextmanager
def console_server(database_url: str, env: dict[str, str] | None = None) -> Iterator[str]:
    """The console on a free port, serving `database_url`; yields its base URL."""
    port = free_port()
    environment = {**os.environ, "LOTSE_DATABASE_URL": database_url, **(env or {})}
    process = subprocess.Popen(
        [sys.executable, "-m", "console.server", "--port", str(port)],
        cwd=ROOT, env=environment, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
    )  # fmt: skip
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 60
        while True:
            if process.poll() is not None:
                raise RuntimeError(f"console exited: {process.stderr.read().decode()[-2000:]}")
            try:
                if requests.get(f"{base}/console/", timeout=2).status_code == 200:
                    break
            except requests.RequestException:
                pass
            if time.monotonic() > deadline:
                raise TimeoutError("console not ready")
            time.sleep(0.2)
        yield base
    finally:
        process.terminate()
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()


@dataclass
class Staff:
    """A logged-in console user (the session cookie is sent by hand: it is Secure)."""

    base: str
    username: str
    cookie: str = ""
    csrf: str = ""
    session: requests.Session = field(default_factory=requests.Session)

    def login(self, password: str = PASSWORD) -> requests.Response:
        reply = self.session.post(
            f"{self.base}/console/api/login",
            json={"username": self.username, "password": password}, timeout=30,
        )  # fmt: skip
        if reply.ok:
            self.cookie = reply.cookies.get("lotse_console") or ""
            self.csrf = reply.json()["csrf_token"]
        return reply

    def headers(self, csrf: bool = True) -> dict[str, str]:
        headers = {"Cookie": f"lotse_console={self.cookie}"}
        if csrf:
            headers["X-CSRF-Token"] = self.csrf
        return headers

    def get(self, path: str) -> requests.Response:
        return requests.get(f"{self.base}{path}", headers=self.headers(False), timeout=30)

    def post(self, path: str, body: dict | None = None, csrf: bool = True) -> requests.Response:
        return requests.post(
            f"{self.base}{path}", json=body or {}, headers=self.headers(csrf), timeout=30
        )

    def put(self, path: str, body: dict) -> requests.Response:
        return requests.put(f"{self.base}{path}", json=body, headers=self.headers(), timeout=30)


def logged_in(base: str, username: str) -> Staff:
    staff = Staff(base, username)
    reply = staff.login()
    assert reply.status_code == 200, reply.text
    return staff
