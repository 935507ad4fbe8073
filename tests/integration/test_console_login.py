"""Console login throttling over real HTTP (issue 18): a guessing address is slowed and
then refused, other addresses are not; the real user with the right password from a
new address gets in while their account is being guessed; behind a trusted proxy each
client counts by its own address (X-Forwarded-For), and a forged X-Forwarded-For from
anyone else is ignored. The rules themselves: tests/integration/test_auth.py."""

from __future__ import annotations

import ipaddress
from collections.abc import Iterator
from pathlib import Path

import pytest
import requests

from console.web import client_address
from lotse.settings import SettingsError, load_settings
from tests.support.console_client import PASSWORD, add_users, console_server

TRUSTED = (ipaddress.ip_network("10.0.0.5"), ipaddress.ip_network("192.168.7.0/24"))


@pytest.mark.parametrize(
    ("peer", "forwarded", "client"),
    [
        ("203.0.113.9", [], "203.0.113.9"),  # no proxy: the socket peer
        ("203.0.113.9", ["198.51.100.1"], "203.0.113.9"),  # forged by an untrusted peer
        ("10.0.0.5", ["198.51.100.1"], "198.51.100.1"),  # from the trusted proxy
        ("10.0.0.5", ["1.2.3.4, 198.51.100.1"], "198.51.100.1"),  # the hop the proxy added
        ("10.0.0.5", ["1.2.3.4", "198.51.100.1"], "198.51.100.1"),  # several header lines
        ("10.0.0.5", ["198.51.100.1, 192.168.7.3"], "198.51.100.1"),  # two trusted proxies
        ("10.0.0.5", ["not an address"], "10.0.0.5"),  # garbage: the proxy itself counts
        ("10.0.0.5", [], "10.0.0.5"),
        ("10.0.0.5", ["2001:db8:1:2:3:4:5:6"], "2001:db8:1:2::/64"),  # IPv6 by its /64
        ("::ffff:203.0.113.9", [], "203.0.113.9"),  # IPv4 mapped into IPv6
        ("", [], "unknown"),
    ],
)
def test_the_client_address_trusts_forwarded_for_only_from_a_trusted_proxy(
    peer: str, forwarded: list[str], client: str
) -> None:
    assert client_address(peer, forwarded, TRUSTED) == client


def test_trusted_proxies_are_a_validated_setting(monkeypatch: pytest.MonkeyPatch) -> None:
    assert load_settings().console_trusted_proxies == ()  # none by default
    monkeypatch.setenv("LOTSE_CONSOLE_TRUSTED_PROXY", "127.0.0.1, 10.1.0.0/16")
    assert load_settings().console_trusted_proxies == (
        ipaddress.ip_network("127.0.0.1/32"), ipaddress.ip_network("10.1.0.0/16"),
    )  # fmt: skip
    monkeypatch.setenv("LOTSE_CONSOLE_TRUSTED_PROXY", "proxy.internal")
    with pytest.raises(SettingsError, match="LOTSE_CONSOLE_TRUSTED_PROXY"):
        load_settings()


def login(base: str, username: str, password: str, forwarded: str | None = None):
    headers = {"X-Forwarded-For": forwarded} if forwarded else {}
    return requests.post(f"{base}/console/api/login", headers=headers, timeout=30,
                         json={"username": username, "password": password})  # fmt: skip


@pytest.fixture
def behind_proxy(tmp_path: Path) -> Iterator[str]:
    """A console whose direct peer (this test, 127.0.0.1) is its trusted proxy."""
    url = f"sqlite:///{tmp_path / 'proxied.db'}"
    add_users(url)
    with console_server(url, {"LOTSE_CONSOLE_TRUSTED_PROXY": "127.0.0.1"}) as base:
        yield base


@pytest.fixture
def direct(tmp_path: Path) -> Iterator[str]:
    """A console without a trusted proxy: every client counts by its socket address."""
    url = f"sqlite:///{tmp_path / 'direct.db'}"
    add_users(url)
    with console_server(url) as base:
        yield base


def test_the_real_user_gets_in_while_an_address_behind_the_proxy_guesses(
    behind_proxy: str,
) -> None:
    attacker = "203.0.113.9"
    statuses = [login(behind_proxy, "anna", "wrong password!", attacker).status_code
                for _ in range(4)]  # fmt: skip
    assert statuses == [401, 401, 401, 429]  # the account's backoff, for the guesser
    slowed = login(behind_proxy, "anna", PASSWORD, attacker)
    assert slowed.status_code == 429 and int(slowed.headers["Retry-After"]) >= 1
    for number in range(12):  # the guesser sprays other accounts until its address is refused
        login(behind_proxy, f"user{number}", "wrong password!", attacker)
    assert login(behind_proxy, "jonas", PASSWORD, attacker).status_code == 429
    assert login(behind_proxy, "anna", PASSWORD, "198.51.100.7").status_code == 200
    assert login(behind_proxy, "jonas", PASSWORD, "198.51.100.8").status_code == 200


def test_answers_name_neither_the_account_nor_the_reason(behind_proxy: str) -> None:
    for username in ("anna", "annette"):  # a login that exists, one that does not
        answers = [login(behind_proxy, username, "wrong password!", f"203.0.113.{len(username)}")
                   for _ in range(4)]  # fmt: skip
        assert [a.json() for a in answers[:3]] == [{"error": "wrong username or password"}] * 3
        assert answers[3].status_code == 429
        assert answers[3].json() == {"error": "too many attempts; try again in 1 s"}


def test_a_forged_forwarded_for_from_an_untrusted_peer_is_ignored(direct: str) -> None:
    # Each guess claims another address; all count as this peer's (127.0.0.1).
    statuses = [login(direct, f"user{n}", "wrong password!", f"198.51.100.{n}").status_code
                for n in range(11)]  # fmt: skip
    assert statuses == [401] * 10 + [429]
    assert login(direct, "anna", PASSWORD, "198.51.100.200").status_code == 429
