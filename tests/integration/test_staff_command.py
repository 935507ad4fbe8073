"""`lotse staff add|list|passwd|disable|enable|remove` and the demo logins, on the
configured store (the test's own SQLite file; one test on PostgreSQL)."""

from __future__ import annotations

import json
import os
from collections.abc import Iterator

import pytest

from handoff.auth import BadCredentials, StaffAuth, StaffUser
from lotse.migrate import migrated_engine
from ops.cli import main
from ops.staff_command import DEMO_STAFF, PASSWORD_VARIABLE, ensure_demo_staff

PASSWORD = "a long secret 1"
NEW_PASSWORD = "another long secret 2"


@pytest.fixture
def auth() -> Iterator[StaffAuth]:
    """The store the command works on, for looking behind it."""
    engine = migrated_engine(os.environ["LOTSE_DATABASE_URL"])
    yield StaffAuth(engine)
    engine.dispose()


def staff(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    code = main(["staff", *argv])
    out, err = capsys.readouterr()
    assert PASSWORD not in out + err and NEW_PASSWORD not in out + err
    return code, out, err


def listed(capsys: pytest.CaptureFixture[str]) -> list[dict]:
    code, out, _ = staff(capsys, "list", "--json")
    assert code == 0
    return json.loads(out)


@pytest.fixture
def anna(monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> None:
    monkeypatch.setenv(PASSWORD_VARIABLE, PASSWORD)
    code, out, err = staff(
        capsys, "add", "Anna", "--role", "agent", "--staff-id", "anna", "--name", "Anna Becker"
    )
    assert (code, out, err) == (0, "added agent anna (Anna Becker, staff member anna)\n", "")


def test_add_and_list(anna: None, capsys: pytest.CaptureFixture[str], auth: StaffAuth) -> None:
    assert listed(capsys) == [
        {
            "username": "anna",
            "staff_id": "anna",
            "role": "agent",
            "display_name": "Anna Becker",
            "active": True,
            "language": None,  # the console's language: the browser's until chosen
        }
    ]
    code, out, _ = staff(capsys, "list")
    assert code == 0
    assert out.splitlines()[1].split() == ["anna", "agent", "anna", "yes", "Anna", "Becker"]
    assert auth.login("anna", PASSWORD, "127.0.0.1").staff_id == "anna"


def test_passwd_replaces_the_password(
    anna: None, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch, auth: StaffAuth
) -> None:
    monkeypatch.setenv(PASSWORD_VARIABLE, NEW_PASSWORD)
    assert staff(capsys, "passwd", "ANNA")[:2] == (
        0,
        "password of anna changed; their sessions were ended\n",
    )
    with pytest.raises(BadCredentials):
        auth.login("anna", PASSWORD, "127.0.0.1")
    assert auth.login("anna", NEW_PASSWORD, "127.0.0.1").username == "anna"


def test_disable_enable_and_remove(
    anna: None, capsys: pytest.CaptureFixture[str], auth: StaffAuth
) -> None:
    session = auth.login("anna", PASSWORD, "127.0.0.1")
    assert staff(capsys, "disable", "anna")[:2] == (0, "anna disabled; their sessions were ended\n")
    assert listed(capsys)[0]["active"] is False
    with pytest.raises(BadCredentials):
        auth.login("anna", PASSWORD, "127.0.0.1")
    assert staff(capsys, "enable", "anna")[:2] == (0, "anna enabled\n")
    assert auth.user("anna") == StaffUser("anna", "anna", "agent", "Anna Becker", True)
    assert auth.login("anna", PASSWORD, "127.0.0.1").token != session.token
    assert staff(capsys, "remove", "anna")[:2] == (0, "anna removed\n")
    assert listed(capsys) == []


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["add", "anna", "--role", "admin"], "a staff login named 'anna' exists already"),
        (["add", "jo", "--role", "agent"], "a username has 3 to 64 characters"),
        (["add", "jonas", "--role", "agent", "--staff-id", "Jonas W"], "a staff id has"),
        (["passwd", "nobody"], "no staff login named 'nobody'"),
        (["disable", "nobody"], "no staff login named 'nobody'"),
        (["enable", "nobody"], "no staff login named 'nobody'"),
        (["remove", "nobody"], "no staff login named 'nobody'"),
    ],
)
def test_bad_input_is_one_line_and_exit_1(
    anna: None, capsys: pytest.CaptureFixture[str], argv: list[str], message: str
) -> None:
    code, out, err = staff(capsys, *argv)
    assert (code, out) == (1, "")
    assert err.startswith(f"lotse: {message}") and err.endswith("\n") and err.count("\n") == 1


def test_a_short_password_is_refused(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv(PASSWORD_VARIABLE, "short")
    code, out, err = staff(capsys, "add", "jonas", "--role", "agent")
    assert (code, out, err) == (1, "", "lotse: a password has 10 to 1024 characters\n")
    assert "short" not in err.replace("lotse: a password", "")
    assert listed(capsys) == []


def test_without_the_variable_the_password_is_asked_twice(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch, auth: StaffAuth
) -> None:
    answers = iter([PASSWORD, PASSWORD + "x", PASSWORD, PASSWORD])
    prompts: list[str] = []

    def fake_getpass(prompt: str = "Password: ") -> str:
        prompts.append(prompt)
        return next(answers)

    monkeypatch.setattr("getpass.getpass", fake_getpass)
    assert staff(capsys, "add", "jonas", "--role", "admin")[::2] == (
        1,
        "lotse: the two passwords differ\n",
    )
    assert staff(capsys, "add", "jonas", "--role", "admin")[0] == 0
    assert prompts == ["new password for jonas: ", "the same again: "] * 2
    assert auth.login("jonas", PASSWORD, "127.0.0.1").role == "admin"


def test_demo_staff_are_made_once(auth: StaffAuth) -> None:
    made = ensure_demo_staff(auth)
    assert [name for name, _ in made] == [entry[0] for entry in DEMO_STAFF]
    assert len({password for _, password in made}) == len(made)
    assert all(len(password) >= 16 for _, password in made)
    users = {user.username: user for user in auth.users()}
    assert users["admin"] == StaffUser("admin", None, "admin", "Administrator", True)
    assert users["anna"] == StaffUser("anna", "anna", "agent", "Anna Becker", True)
    assert {users[name].staff_id for name in ("tim", "jonas", "lea", "marco", "sofie")} == {
        "tim", "jonas", "lea", "marco", "sofie"}  # fmt: skip
    assert {users[name].staff_id for name in ("paul", "nina", "eva")} == {"paul", "nina", "eva"}
    passwords = dict(made)
    assert auth.login("tim", passwords["tim"], "127.0.0.1").staff_id == "tim"
    assert ensure_demo_staff(auth) == []
    assert len(auth.users()) == len(DEMO_STAFF)


def test_no_demo_staff_beside_existing_logins(auth: StaffAuth) -> None:
    auth.add_user("chef", PASSWORD, "admin")
    assert ensure_demo_staff(auth) == []
    assert [user.username for user in auth.users()] == ["chef"]


def test_the_commands_work_against_postgresql(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    from tests.integration.test_crm_store import postgres_database

    with postgres_database() as url:
        monkeypatch.setenv("LOTSE_DATABASE_URL", url)
        monkeypatch.setenv(PASSWORD_VARIABLE, PASSWORD)
        assert staff(capsys, "add", "eva", "--role", "agent", "--staff-id", "eva")[0] == 0
        assert staff(capsys, "disable", "eva")[0] == 0
        assert [(u["username"], u["active"]) for u in listed(capsys)] == [("eva", False)]
        assert staff(capsys, "add", "eva", "--role", "agent")[0] == 1
