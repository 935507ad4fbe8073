"""Shared fixtures: a clean environment per test, and (for `model`/`browser` tests)
one running Lotse stack per session on ports of its own."""

from __future__ import annotations

import os
from collections.abc import Iterator
from datetime import datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from lotse.settings import Settings
from tests.support import fake_messengers as fm
from tests.support.fake_hubspot import FakeHubSpot
from tests.support.faulty_messengers import FaultyMessengers

# The Playwright tests' `browser` (test_browser.py keeps a Selenium one of its own).
pytest_plugins = ["tests.support.playwright_browser"]


@pytest.fixture(autouse=True)
def clean_environment(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    """No test depends on the developer's shell: Lotse variables are cleared, and the
    store lives in the test's own temporary folder."""
    for name in list(os.environ):
        if name.startswith("LOTSE_"):
            monkeypatch.delenv(name)
    monkeypatch.setenv("LOTSE_DATABASE_URL", f"sqlite:///{tmp_path / 'lotse.db'}")
    from bot.channels.ownership_gate import ownership_gate
    from crm_adapter.crm_config import configured_names
    from wiring.services import forget

    forget()  # the composition root builds anew, from this test's settings
    for cache in (ownership_gate, configured_names):
        cache.cache_clear()


IN_OFFICE_HOURS = datetime(2026, 11, 24, 10, 0, tzinfo=ZoneInfo("Europe/Berlin"))  # a Tuesday


def set_clock(path: Path, moment: datetime) -> None:
    """Sets the running stack's clock (office hours, claim deadlines) to `moment`."""
    path.write_text(moment.isoformat(), encoding="utf-8")


STACK_HUBSPOT_TOKEN = "pat-stack-token"


@pytest.fixture(scope="session")
def stack_hubspot() -> Iterator[FakeHubSpot]:
    """The fake HubSpot that the session's stack delivers its CRM events to."""
    with FakeHubSpot(STACK_HUBSPOT_TOKEN) as fake:
        yield fake


@pytest.fixture(scope="session")
def stack_messengers() -> Iterator[FaultyMessengers]:
    """The fake messenger platforms the session's stack has all five channels on (they
    answer normally unless a test scripts a fault or an outage)."""
    with FaultyMessengers() as fake:
        yield fake


def messenger_environment(fake: fm.FakeMessengers, rasa_url: str) -> dict[str, str]:
    """Every messenger channel on, each platform's API at the fake (credentials.yml)."""
    return {
        "TELEGRAM_TOKEN": fm.TELEGRAM_TOKEN, "TELEGRAM_BOT_NAME": fm.TELEGRAM_BOT_NAME,
        "TELEGRAM_WEBHOOK_URL": f"{rasa_url}/webhooks/telegram/webhook",
        "TELEGRAM_SECRET_TOKEN": fm.TELEGRAM_SECRET,
        "LOTSE_TELEGRAM_API_URL": f"{fake.url}/telegram",
        "FACEBOOK_VERIFY_TOKEN": fm.FACEBOOK_VERIFY_TOKEN,
        "FACEBOOK_APP_SECRET": fm.FACEBOOK_APP_SECRET,
        "FACEBOOK_PAGE_TOKEN": fm.FACEBOOK_PAGE_TOKEN,
        "LOTSE_FACEBOOK_API_URL": f"{fake.url}/facebook",
        "TWILIO_ACCOUNT_SID": fm.TWILIO_SID, "TWILIO_AUTH_TOKEN": fm.TWILIO_TOKEN,
        "TWILIO_WHATSAPP_NUMBER": fm.TWILIO_NUMBER,
        "TWILIO_WEBHOOK_URL": f"{rasa_url}/webhooks/twilio/webhook",
        "LOTSE_TWILIO_API_URL": f"{fake.url}/twilio",
        "SLACK_BOT_TOKEN": fm.SLACK_TOKEN, "SLACK_SIGNING_SECRET": fm.SLACK_SECRET,
        "LOTSE_SLACK_API_URL": f"{fake.url}/slack/api",
        "TEAMS_APP_ID": fm.TEAMS_APP_ID, "TEAMS_APP_PASSWORD": fm.TEAMS_PASSWORD,
        "LOTSE_BOTFRAMEWORK_OPENID_URL": f"{fake.url}/botframework/openid",
        "LOTSE_BOTFRAMEWORK_TOKEN_URL": f"{fake.url}/botframework/token",
    }  # fmt: skip


@pytest.fixture(scope="session")
def stack(
    tmp_path_factory: pytest.TempPathFactory,
    stack_hubspot: FakeHubSpot,
    stack_messengers: fm.FakeMessengers,
) -> Iterator[Settings]:
    """The whole bot (Rasa with every channel on against `stack_messengers`, action
    server, website, console, and the CRM delivery worker with a HubSpot connector to
    `stack_hubspot`) on test ports, started once."""
    from ops.runner import Stack
    from ops.training import ensure_model

    data_dir = tmp_path_factory.mktemp("stack")
    crm_config = data_dir / "crm.yml"
    crm_config.write_text(
        "crm:\n  connectors:\n    - type: hubspot\n"
        f"      base_url: {stack_hubspot.url}\n      token_env: STACK_HUBSPOT_TOKEN\n"
        "  delivery: {poll_seconds: 0.2}\n",
        encoding="utf-8",
    )
    settings = Settings(
        database_url=f"sqlite:///{data_dir / 'lotse.db'}",
        rasa_port=int(os.environ.get("LOTSE_TEST_RASA_PORT", "15005")),
        action_port=int(os.environ.get("LOTSE_TEST_ACTION_PORT", "15055")),
        web_port=int(os.environ.get("LOTSE_TEST_WEB_PORT", "18080")),
        host="127.0.0.1",
        console_port=int(os.environ.get("LOTSE_TEST_CONSOLE_PORT", "18090")),
        ops_port=int(os.environ.get("LOTSE_TEST_OPS_PORT", "19190")),
    )
    clock = data_dir / "clock"
    set_clock(clock, IN_OFFICE_HOURS)
    running = Stack(
        settings, ensure_model(), data_dir=data_dir, log_file=data_dir / "stack.log",
        extra_env={"LOTSE_TEST_CLOCK_FILE": str(clock), "LOTSE_CRM_CONFIG": str(crm_config),
                   "STACK_HUBSPOT_TOKEN": STACK_HUBSPOT_TOKEN,
                   # Every test visitor comes from 127.0.0.1 and types at machine speed;
                   # the limits are tested on their own
                   # (tests/integration/test_website_security.py).
                   "LOTSE_RATE_VISITOR": "off", "LOTSE_RATE_IP": "off",
                   "LOTSE_RATE_ISSUE": "off",
                   # The console behind a proxy on this machine: a test's X-Forwarded-For
                   # names a client elsewhere (tests/e2e/test_attacks.py guesses passwords
                   # from such addresses without locking this machine's logins out).
                   "LOTSE_CONSOLE_TRUSTED_PROXY": "127.0.0.1",
                   **messenger_environment(stack_messengers, settings.rasa_url)},
    )  # fmt: skip
    running.start()
    try:
        running.wait_ready()
        yield settings
    finally:
        running.stop()


@pytest.fixture
def stack_clock(stack: Settings) -> Iterator[Path]:
    """The running stack's clock file; put back to office hours after the test."""
    path = Path(stack.database_url.removeprefix("sqlite:///")).parent / "clock"
    yield path
    set_clock(path, IN_OFFICE_HOURS)
