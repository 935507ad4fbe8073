"""`lotse run` (what `make run` starts): prints the URL, serves, and Ctrl-C stops all."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time

import pytest
import requests

from ops.training import ensure_model
from tests.support.rest_client import website_visitor_id

pytestmark = pytest.mark.model
# Every port of its own, none shared with the test session's stack or a developer's run.
PORTS = {
    "LOTSE_RASA_PORT": 25005, "LOTSE_ACTION_PORT": 25055, "LOTSE_WEB_PORT": 28080,
    "LOTSE_CONSOLE_PORT": 28090, "LOTSE_OPS_PORT": 29190,
}  # fmt: skip


def port_open(port: int) -> bool:
    with socket.socket() as sock:
        sock.settimeout(0.5)
        return sock.connect_ex(("127.0.0.1", port)) == 0


def read_until(process: subprocess.Popen, marker: str, timeout: float) -> str:
    deadline = time.monotonic() + timeout
    seen = []
    while time.monotonic() < deadline:
        line = process.stdout.readline()
        if not line and process.poll() is not None:
            break
        seen.append(line)
        if marker in line:
            return "".join(seen)
    raise AssertionError(f"{marker!r} not printed in time; got:\n{''.join(seen)[-2000:]}")


def test_run_prints_the_url_serves_the_chat_and_ctrl_c_stops_everything(tmp_path):
    ensure_model()
    env = dict(os.environ, **{k: str(v) for k, v in PORTS.items()})
    env["LOTSE_DATABASE_URL"] = f"sqlite:///{tmp_path / 'lotse.db'}"
    errors = (tmp_path / "stderr.log").open("w")
    process = subprocess.Popen(
        [sys.executable, "-m", "ops.cli", "run"],
        stdout=subprocess.PIPE,
        stderr=errors,
        text=True,
        env=env,
        start_new_session=True,
    )
    try:
        output = read_until(process, "Press Ctrl-C to stop", timeout=240)
        assert "http://127.0.0.1:28080/" in output
        assert "http://127.0.0.1:25005/webhooks/rest/webhook" in output
        sender = website_visitor_id("http://127.0.0.1:28080")
        reply = requests.post(
            "http://127.0.0.1:28080/api/chat",
            json={"sender": sender, "message": "/faq_warranty", "metadata": {"language": "de"}},
            timeout=60,
        )
        assert "24 Monate" in reply.json()[0]["text"]
        os.killpg(process.pid, signal.SIGINT)  # what a terminal's Ctrl-C does
        code = process.wait(timeout=60)
        assert code == 0, (tmp_path / "stderr.log").read_text()[-3000:]
        deadline = time.monotonic() + 20
        while any(port_open(p) for p in PORTS.values()) and time.monotonic() < deadline:
            time.sleep(0.5)
        assert not [p for p in PORTS.values() if port_open(p)]
    finally:
        if process.poll() is None:
            os.killpg(process.pid, signal.SIGKILL)
        errors.close()


def test_the_rasa_api_token_is_one_argument_even_when_it_starts_with_a_dash(tmp_path):
    from lotse.settings import Settings
    from ops.runner import Stack

    settings = Settings(f"sqlite:///{tmp_path / 'x.db'}", 1, 2, 3, "127.0.0.1")
    stack = Stack(settings, tmp_path / "model.tar.gz", data_dir=tmp_path, rasa_token="-abc")
    rasa = stack.commands()["rasa"]
    assert "--auth-token=-abc" in rasa and "-abc" not in rasa
    assert stack.environment()["LOTSE_RASA_TOKEN"] == "-abc"
    assert "abc" not in repr(stack)


def test_tensorflow_runs_on_one_thread_unless_the_operator_says_otherwise(tmp_path, monkeypatch):
    from lotse.settings import Settings
    from ops.runner import Stack

    settings = Settings(f"sqlite:///{tmp_path / 'x.db'}", 1, 2, 3, "127.0.0.1")
    monkeypatch.delenv("TF_INTRA_OP_PARALLELISM_THREADS", raising=False)
    monkeypatch.setenv("TF_INTER_OP_PARALLELISM_THREADS", "4")
    env = Stack(settings, tmp_path / "model.tar.gz", data_dir=tmp_path).environment()
    assert env["TF_INTRA_OP_PARALLELISM_THREADS"] == "1"
    assert env["TF_INTER_OP_PARALLELISM_THREADS"] == "4"


def test_tensorflows_onednn_kernels_are_off_unless_the_operator_says_otherwise(
    tmp_path, monkeypatch
):
    from lotse.settings import Settings
    from ops.runner import Stack

    settings = Settings(f"sqlite:///{tmp_path / 'x.db'}", 1, 2, 3, "127.0.0.1")
    monkeypatch.delenv("TF_ENABLE_ONEDNN_OPTS", raising=False)
    stack = Stack(settings, tmp_path / "model.tar.gz", data_dir=tmp_path)
    assert stack.environment()["TF_ENABLE_ONEDNN_OPTS"] == "0"
    monkeypatch.setenv("TF_ENABLE_ONEDNN_OPTS", "1")
    assert stack.environment()["TF_ENABLE_ONEDNN_OPTS"] == "1"
