"""The settings: one typed object (`lotse.settings.Settings`) reads every LOTSE_*
variable; nothing else in the product reads one from the environment.

The source checks parse the product's Python files (no import): a LOTSE_* name in a
string anywhere outside the kernel's settings modules must be one those modules read,
and only the listed modules touch `os.environ` at all, each for a stated reason.
"""

from __future__ import annotations

import ast
import re
from pathlib import Path

import pytest

from lotse.rate_limit import Limit
from lotse.settings import ROOT, SettingsError, load_settings

PRODUCT = ("lotse", "crm_adapter", "dialogue", "conversations", "handoff", "insights",
           "privacy", "wiring", "bot", "console", "website", "ops")  # fmt: skip
READERS = {"lotse/settings.py", "lotse/setting_values.py", "lotse/notify_settings.py",
           "lotse/service_addresses.py"}  # fmt: skip
# Modules that touch the environment for something other than reading a LOTSE_* setting.
ENVIRONMENT_USERS = {
    "ops/runner.py": "hands the environment on to the processes it starts",
    "bot/rasa_server.py": "sets Sanic's SANIC_REQUEST_MAX_SIZE before Rasa builds its app",
    "ops/cli.py": "keeps TensorFlow's start-up lines off the terminal (TF_CPP_MIN_LOG_LEVEL)",
    "crm_adapter/crm_config.py": "a connector's secrets, in the variables its config names",
    "lotse/log_redaction.py": "the secret variables' values, to keep them out of every log line",
}
# A name the company's config may choose instead (a connector's secret_env default).
CONFIG_NAMED = {"LOTSE_WEBHOOK_SECRET"}
NAME = re.compile(r"\bLOTSE_[A-Z0-9]+(?:_[A-Z0-9]+)*\b")


def product_files() -> list[Path]:
    return [path for folder in PRODUCT for path in sorted((ROOT / folder).rglob("*.py"))
            if "migrations" not in path.parts]  # fmt: skip


def relative(path: Path) -> str:
    return path.relative_to(ROOT).as_posix()


def strings(path: Path) -> list[str]:
    tree = ast.parse(path.read_text(encoding="utf-8"))
    docstrings = {
        id(node.body[0].value)
        for node in ast.walk(tree)
        if isinstance(node, (ast.Module, ast.ClassDef, ast.FunctionDef, ast.AsyncFunctionDef))
        and node.body and isinstance(node.body[0], ast.Expr)
        and isinstance(node.body[0].value, ast.Constant)
    }  # fmt: skip
    return [node.value for node in ast.walk(tree) if isinstance(node, ast.Constant)
            and isinstance(node.value, str) and id(node) not in docstrings]  # fmt: skip


def names_read_by_the_settings() -> set[str]:
    found: set[str] = set()
    for name in READERS:
        found |= {m for s in strings(ROOT / name) for m in NAME.findall(s)}
    return found


def test_every_lotse_variable_in_the_code_is_one_the_settings_read() -> None:
    read = names_read_by_the_settings()
    assert {"LOTSE_DATABASE_URL", "LOTSE_TRACKER_DB", "LOTSE_RATE_CONVERSATION",
            "LOTSE_TELEGRAM_API_URL", "LOTSE_SMTP_HOST", "LOTSE_PG_HOST"} <= read  # fmt: skip
    elsewhere = {
        (relative(path), name)
        for path in product_files() if relative(path) not in READERS
        for text in strings(path) for name in NAME.findall(text)
        if name not in read and name not in CONFIG_NAMED
    }  # fmt: skip
    assert elsewhere == set()


def test_only_the_settings_and_the_listed_modules_touch_the_environment() -> None:
    touching = {
        relative(path)
        for path in product_files()
        if re.search(r"os\.environ|os\.getenv|getenv\(", path.read_text(encoding="utf-8"))
    }
    assert touching - READERS == set(ENVIRONMENT_USERS)


def test_the_defaults_need_no_variable() -> None:
    settings = load_settings({})
    assert settings.database_url.startswith("sqlite:///") and settings.rasa_port == 5005
    assert settings.files.tracker_db.name == "tracker.db" and settings.files.crm_config is None
    assert settings.limits.per_conversation == Limit(1.0, 30)
    assert settings.limits.turn_concurrency == 4 and settings.web.site_origins == frozenset()
    assert settings.notify.smtp_host is None and settings.messengers.telegram is None
    assert settings.services.values["LOTSE_PG_HOST"] == "127.0.0.1"


def test_every_group_is_read_from_the_given_environment(tmp_path: Path) -> None:
    env = {
        "LOTSE_DATABASE_URL": "postgresql://db/lotse",
        "LOTSE_TRACKER_DB": str(tmp_path / "t.db"),
        "LOTSE_CRM_CONFIG": str(tmp_path / "crm.yml"),
        "LOTSE_RATE_CONVERSATION": "off",
        "LOTSE_TURN_CONCURRENCY": "9",
        "LOTSE_EVENT_FILL_SECONDS": "30",
        "LOTSE_SITE_ORIGINS": "https://www.nordwerk.example/",
        "LOTSE_CONSOLE_INSECURE_COOKIES": "1",
        "LOTSE_TELEGRAM_API_URL": "http://127.0.0.1:9/",
        "LOTSE_SMTP_HOST": "mail.nordwerk.example",
        "LOTSE_ACTION_SECRET": "action-secret-value",
        "LOTSE_PG_PASSWORD": "pg-secret-value",
    }
    settings = load_settings(env)
    assert settings.database_url == "postgresql://db/lotse"
    assert settings.files.tracker_db == tmp_path / "t.db"
    assert settings.files.crm_config == tmp_path / "crm.yml"
    assert settings.limits.per_conversation is None
    assert (settings.limits.turn_concurrency, settings.limits.event_fill_seconds) == (9, 30.0)
    assert settings.web.site_origins == {"https://www.nordwerk.example"}
    assert settings.web.console_insecure_cookies is True
    assert settings.messengers.telegram == "http://127.0.0.1:9/"
    assert settings.notify.smtp_host == "mail.nordwerk.example"
    assert settings.secrets.action_secret == "action-secret-value"
    assert "secret-value" not in repr(settings)


@pytest.mark.parametrize(("name", "value"), [
    ("LOTSE_RASA_PORT", "99999"), ("LOTSE_TURN_CONCURRENCY", "0"),
    ("LOTSE_EVENT_FILL_SECONDS", "soon"), ("LOTSE_RATE_CONVERSATION", "viel"),
    ("LOTSE_CONSOLE_INSECURE_COOKIES", "ja"), ("LOTSE_TELEGRAM_API_URL", "telegram"),
    ("LOTSE_TRUSTED_PROXY", "proxy"), ("LOTSE_SMTP_PORT", "smtp"), ("LOTSE_PG_PORT", "pg"),
    ("LOTSE_REST_ACCESS", "everyone"),
])  # fmt: skip
def test_a_bad_value_is_an_error_naming_its_variable(name: str, value: str) -> None:
    with pytest.raises(SettingsError, match=name):
        load_settings({name: value})
