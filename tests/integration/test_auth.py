"""Staff logins (`handoff.auth`) on SQLite and on PostgreSQL.

Every test that touches the database runs on both backends; the PostgreSQL ones use a
database of their own (see `tests.integration.test_crm_store.postgres_database`) and are skipped,
naming the URL, if the server is unreachable. Time is an injected clock.
"""

from __future__ import annotations

import base64
import hashlib
import itertools
import threading
import time
from collections.abc import Callable, Iterator
from datetime import datetime, timedelta, timezone
from pathlib import Path

import pytest
from argon2 import PasswordHasher
from sqlalchemy import select, update
from sqlalchemy.engine import Engine

from handoff import auth as auth_module
from handoff.auth import (
    BadCredentials,
    InvalidSession,
    LoginLimits,
    Session,
    StaffAuth,
    StaffUser,
    TooManyAttempts,
    UnknownUser,
    hash_password,
    metadata,
    sessions_table,
    users_table,
    verify_password,
)
from lotse.database import make_engine
from lotse.migrate import migrate, migrated_engine
from tests.integration.test_crm_store import postgres_database

T0 = datetime(2025, 3, 3, 9, 0, tzinfo=timezone.utc)
PASSWORD = "correct horse battery"
DEADLINE = 60.0


class Clock:
    def __init__(self) -> None:
        self.now = T0

    def __call__(self) -> datetime:
        return self.now

    def advance(self, **delta: float) -> None:
        self.now += timedelta(**delta)


@pytest.fixture(scope="module")
def postgres_url() -> Iterator[str]:
    with postgres_database() as url:
        yield url


@pytest.fixture(params=["sqlite", "postgresql"])
def engine(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Engine]:
    if request.param == "sqlite":
        engine = migrated_engine(f"sqlite:///{tmp_path / 'auth.db'}")
    else:
        engine = migrated_engine(request.getfixturevalue("postgres_url"))
        migrate(engine)
        with engine.begin() as connection:  # each test starts without logins
            for table in reversed(metadata.sorted_tables):
                connection.execute(table.delete())
    yield engine
    engine.dispose()


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture
def auth(engine: Engine, clock: Clock) -> StaffAuth:
    staff = StaffAuth(engine, clock=clock)
    staff.add_user("Anna", PASSWORD, "agent", staff_id="anna", display_name="Anna  Becker\n")
    return staff


def fail(auth: StaffAuth, username: str = "anna", client: str = "10.0.0.1") -> None:
    with pytest.raises(BadCredentials):
        auth.login(username, "wrong password!", client)


def run_together(target: Callable[[], object], parties: int) -> tuple[list, list]:
    """Runs `target` in `parties` threads released at once; (results, errors)."""
    barrier = threading.Barrier(parties)
    results: list = []
    errors: list = []

    def party() -> None:
        barrier.wait()
        try:
            results.append(target())
        except Exception as error:  # collected for the assertions
            errors.append(error)

    threads = [threading.Thread(target=party) for _ in range(parties)]
    for thread in threads:
        thread.start()
    deadline = time.monotonic() + DEADLINE
    for thread in threads:
        thread.join(max(0.0, deadline - time.monotonic()))
    assert not any(thread.is_alive() for thread in threads)
    return results, errors


# -- password hashes (no database) --


def scrypt_hash(password: str, n: int = 2**14) -> str:
    """A hash as Lotse made them before argon2id: `scrypt$n$r$p$salt$hash`, r=8, p=1."""
    salt = hashlib.sha256(password.encode()).digest()[:16]
    digest = hashlib.scrypt(password.encode(), salt=salt, n=n, r=8, p=1, dklen=32)
    encoded = (base64.b64encode(part).decode("ascii") for part in (salt, digest))
    return "$".join(("scrypt", str(n), "8", "1", *encoded))


def test_a_hash_is_argon2id_verifies_and_every_hash_has_its_own_salt() -> None:
    first, second = hash_password(PASSWORD), hash_password(PASSWORD)
    assert first != second
    assert verify_password(PASSWORD, first) and verify_password(PASSWORD, second)
    assert not verify_password("correct horse battery.", first)
    empty, scheme, version, costs, salt, digest = first.split("$")
    assert (empty, scheme, version, costs) == ("", "argon2id", "v=19", "m=65536,t=3,p=4")
    assert len(base64.b64decode(salt + "==")) == 16
    assert PASSWORD not in first


def test_a_legacy_scrypt_hash_still_verifies() -> None:
    legacy = scrypt_hash(PASSWORD)
    assert verify_password(PASSWORD, legacy)
    assert not verify_password("correct horse battery.", legacy)


def test_a_tampered_or_malformed_hash_is_rejected() -> None:
    encoded = hash_password(PASSWORD)
    empty, scheme, version, costs, salt, digest = encoded.split("$")
    flipped = digest[:5] + ("A" if digest[5] != "A" else "B") + digest[6:]
    other_salt = hash_password(PASSWORD).split("$")[4]
    argon2_bad = [
        "$".join((empty, scheme, version, costs, salt, flipped)),
        "$".join((empty, scheme, version, costs, other_salt, digest)),
        "$".join((empty, scheme, version, "m=32768,t=3,p=4", salt, digest)),
        "$".join((empty, "argon2i", version, costs, salt, digest)),  # not argon2id
        "$".join((empty, scheme, version, "m=1073741824,t=3,p=4", salt, digest)),  # 1 TiB
        "$".join((empty, scheme, version, "m=65536,t=100000,p=4", salt, digest)),
        "$".join((empty, scheme, version, "m=65536,t=3,p=255", salt, digest)),
        "$".join((empty, scheme, version, "m=8,t=1,p=1", salt, digest)),  # argon2 refuses
        "$".join((empty, scheme, "v=16", costs, salt, digest)),
        "$".join((empty, scheme, version, "m=65536,t=3", salt, digest)),
        "$".join((empty, scheme, version, costs, salt, digest[:8])),
        "$".join((empty, scheme, version, costs, "not base64!", digest)),
        "$".join((empty, scheme, version, costs, "ä" + salt, digest)),
        encoded + "$",
    ]
    legacy = scrypt_hash(PASSWORD)
    scheme, n, r, p, salt, digest = legacy.split("$")
    flipped = digest[:5] + ("A" if digest[5] != "A" else "B") + digest[6:]
    scrypt_bad = [
        "$".join((scheme, n, r, p, salt, flipped)),
        "$".join((scheme, n, r, p, scrypt_hash("another password").split("$")[4], digest)),
        "$".join((scheme, "8192", r, p, salt, digest)),
        "$".join(("bcrypt", n, r, p, salt, digest)),
        "$".join((scheme, str(2**30), r, p, salt, digest)),  # would cost unbounded work
        "$".join((scheme, n, r, p, salt, digest[:8])),
        "$".join((scheme, n, r, p, "not base64!", digest)),
        legacy + "$",
    ]
    for bad in [*argon2_bad, *scrypt_bad, "", "$", "$argon2id$", PASSWORD]:
        assert not verify_password(PASSWORD, bad), bad


# -- users --


def test_users_are_stored_lowercased_with_a_clean_display_name(auth: StaffAuth) -> None:
    anna = StaffUser("anna", "anna", "agent", "Anna Becker", True)
    assert auth.user("ANNA") == anna
    admin = auth.add_user("root.admin", "0123456789", "admin")
    assert admin == StaffUser("root.admin", None, "admin", "root.admin", True)
    assert auth.users() == [anna, admin]
    with pytest.raises(UnknownUser, match="nobody"):
        auth.user("nobody")


@pytest.mark.parametrize(
    ("username", "password", "role", "staff_id", "message"),
    [
        ("ab", PASSWORD, "agent", None, "3 to 64"),
        ("a" * 65, PASSWORD, "agent", None, "3 to 64"),
        ("anna becker", PASSWORD, "agent", None, "3 to 64"),
        ("anna!", PASSWORD, "agent", None, "3 to 64"),
        ("jürgen", PASSWORD, "agent", None, "3 to 64"),
        ("jonas", "123456789", "agent", None, "10 to 1024"),
        ("jonas", "x" * 1025, "agent", None, "10 to 1024"),
        ("jonas", PASSWORD, "boss", None, "agent, admin"),
        ("jonas", PASSWORD, "agent", "Jonas Weber", "staff id"),
        ("ANNA", PASSWORD, "agent", None, "exists already"),
    ],
)
def test_invalid_users_are_refused(
    auth: StaffAuth, username: str, password: str, role: str, staff_id: str, message: str
) -> None:
    with pytest.raises(ValueError, match=message):
        auth.add_user(username, password, role, staff_id=staff_id)
    assert [user.username for user in auth.users()] == ["anna"]


def test_unknown_users_cannot_be_changed(auth: StaffAuth) -> None:
    for change in (
        lambda: auth.set_password("nobody", PASSWORD),
        lambda: auth.set_active("nobody", False),
        lambda: auth.remove_user("nobody"),
        lambda: auth.user("no body\x00"),
    ):
        with pytest.raises(UnknownUser):
            change()


# -- logging in --


def test_login_gives_a_session_that_the_token_finds(auth: StaffAuth, clock: Clock) -> None:
    session = auth.login(" Anna ", PASSWORD, "10.0.0.1")
    assert (session.username, session.role, session.staff_id) == ("anna", "agent", "anna")
    assert session.expires_at == T0 + timedelta(hours=12)
    assert len(session.token) >= 43 and len(session.csrf_token) >= 43
    assert session.token not in repr(session) and session.csrf_token not in repr(session)
    found = auth.session(session.token)
    assert found == Session("", "anna", "agent", "anna", session.csrf_token, session.expires_at)


def test_a_wrong_password_and_an_unknown_user_look_the_same(auth: StaffAuth) -> None:
    with pytest.raises(BadCredentials) as wrong_password:
        auth.login("anna", "not the password", "10.0.0.1")
    with pytest.raises(BadCredentials) as unknown_user:
        auth.login("annette", PASSWORD, "10.0.0.1")
    with pytest.raises(BadCredentials) as impossible_name:
        auth.login("x\x00" * 100, PASSWORD, "10.0.0.1\x00")
    assert str(wrong_password.value) == str(unknown_user.value) == str(impossible_name.value)


def test_an_unknown_user_costs_the_same_hashing_work(
    auth: StaffAuth, monkeypatch: pytest.MonkeyPatch
) -> None:
    auth.add_user("tim", PASSWORD, "agent")
    auth.set_active("tim", False)
    calls: list[str] = []
    real = auth_module._verify_argon2id

    def counting(password: str, encoded: str) -> bool:
        calls.append(encoded.rsplit("$", 2)[0])  # the scheme and its costs
        return real(password, encoded)

    monkeypatch.setattr(auth_module, "_verify_argon2id", counting)
    for username in ("anna", "annette", "tim"):  # wrong password, unknown, inactive
        with pytest.raises(BadCredentials):
            auth.login(username, "not the password", f"10.0.0.{len(calls)}")
    assert calls == ["$argon2id$v=19$m=65536,t=3,p=4"] * 3


def test_an_inactive_user_cannot_log_in_until_enabled(auth: StaffAuth) -> None:
    auth.set_active("anna", False)
    assert auth.user("anna").active is False
    with pytest.raises(BadCredentials, match="wrong username or password"):
        auth.login("anna", PASSWORD, "10.0.0.1")
    auth.set_active("anna", True)
    assert auth.login("anna", PASSWORD, "10.0.0.1").username == "anna"


# -- upgrading old hashes at the next login (issue 21) --


def stored_hash(engine: Engine, username: str = "anna") -> str:
    query = select(users_table.c.password_hash).where(users_table.c.username == username)
    with engine.connect() as connection:
        return connection.execute(query).scalar_one()


def store_hash(engine: Engine, encoded: str, username: str = "anna") -> None:
    with engine.begin() as connection:
        connection.execute(
            update(users_table)
            .where(users_table.c.username == username)
            .values(password_hash=encoded)
        )


def test_a_legacy_scrypt_hash_logs_in_and_is_upgraded_to_argon2id(
    auth: StaffAuth, engine: Engine
) -> None:
    legacy = scrypt_hash(PASSWORD)
    store_hash(engine, legacy)
    assert auth.login("anna", PASSWORD, "10.0.0.1").username == "anna"
    upgraded = stored_hash(engine)
    assert upgraded != legacy
    assert upgraded.startswith("$argon2id$v=19$m=65536,t=3,p=4$")
    assert verify_password(PASSWORD, upgraded)
    assert auth.login("anna", PASSWORD, "10.0.0.2").username == "anna"
    assert stored_hash(engine) == upgraded  # today's hash is left alone


def test_a_wrong_password_against_a_legacy_hash_is_refused_and_not_upgraded(
    auth: StaffAuth, engine: Engine
) -> None:
    legacy = scrypt_hash(PASSWORD)
    store_hash(engine, legacy)
    fail(auth)
    assert stored_hash(engine) == legacy


def test_an_argon2id_hash_of_weaker_costs_is_upgraded_at_login(
    auth: StaffAuth, engine: Engine
) -> None:
    weaker = PasswordHasher(time_cost=1, memory_cost=8192, parallelism=1).hash(PASSWORD)
    store_hash(engine, weaker)
    auth.login("anna", PASSWORD, "10.0.0.1")
    assert stored_hash(engine).startswith("$argon2id$v=19$m=65536,t=3,p=4$")


@pytest.mark.parametrize(
    "malformed",
    [
        "scrypt$16384$8$1$not base64!$AAAA",
        "$argon2id$v=19$m=1073741824,t=3,p=4$c2FsdHNhbHRzYWx0$aGFzaGhhc2hoYXNoaGFzaA",
        "$argon2id$v=19$m=8,t=1,p=1$c2FsdHNhbHRzYWx0$aGFzaGhhc2hoYXNoaGFzaA",
        "$2b$12$R9h/cIPz0gi.URNNX3kh2OPST9/PgBkqquzi.Ss7KIUgO2t0jWMUW",  # bcrypt
        "",
    ],
)
def test_a_malformed_stored_hash_fails_closed(
    auth: StaffAuth, engine: Engine, malformed: str
) -> None:
    store_hash(engine, malformed)
    with pytest.raises(BadCredentials):
        auth.login("anna", PASSWORD, "10.0.0.1")
    assert stored_hash(engine) == malformed


def test_a_password_changed_while_a_legacy_login_is_checked_wins(
    auth: StaffAuth, engine: Engine, monkeypatch: pytest.MonkeyPatch
) -> None:
    # The upgrade's hash is made between the check of the old password and the
    # session; an admin setting a new password right then must win: no session with
    # the old password, and the new hash is not overwritten by the upgrade.
    store_hash(engine, scrypt_hash(PASSWORD))
    real = auth_module.hash_password

    def admin_changes_the_password_meanwhile(password: str) -> str:
        monkeypatch.setattr(auth_module, "hash_password", real)
        auth.set_password("anna", "a new password!")
        return real(password)

    monkeypatch.setattr(auth_module, "hash_password", admin_changes_the_password_meanwhile)
    with pytest.raises(BadCredentials):
        auth.login("anna", PASSWORD, "10.0.0.1")
    assert verify_password("a new password!", stored_hash(engine))
    assert auth.login("anna", "a new password!", "10.0.0.2").username == "anna"


# -- login throttling: a guesser is slowed, the real user is not locked out (issue 18) --


def refused(auth: StaffAuth, username: str = "anna", client: str = "10.0.0.1",
            password: str = "wrong password!") -> float:  # fmt: skip
    with pytest.raises(TooManyAttempts) as refusal:
        auth.login(username, password, client)
    return refusal.value.retry_after


def test_a_correct_password_from_a_new_address_passes_the_accounts_backoff(
    auth: StaffAuth, clock: Clock
) -> None:
    for _ in range(3):
        fail(auth, client="203.0.113.9")
    assert refused(auth, client="203.0.113.9", password=PASSWORD) > 0  # the guesser, even right
    for n in range(20):  # and guessers at twenty more addresses, one guess each
        fail(auth, client=f"198.51.100.{n}")
        clock.advance(seconds=1)
    assert auth.login("anna", PASSWORD, "10.0.2.1").username == "anna"  # the real user, at once


def test_the_accounts_backoff_grows_for_every_address_that_failed_it(
    auth: StaffAuth, clock: Clock
) -> None:
    limits = LoginLimits()
    assert (limits.free_failures, limits.backoff_base) == (3, timedelta(seconds=1))
    fail(auth, client="192.0.2.1")  # one slip from a second address, early on
    fail(auth, client="203.0.113.9")
    fail(auth, client="203.0.113.9")  # no delay for the first free_failures
    waits = []
    for _ in range(5):
        waits.append(refused(auth, client="203.0.113.9"))
        clock.advance(seconds=waits[-1])
        fail(auth, client="203.0.113.9")  # after the wait, one more guess
    assert waits == [1.0, 2.0, 4.0, 8.0, 16.0]  # doubling with the account's failures
    # The other address that failed this account waits the account's delay too (8
    # failures: 32 s), counted from its own last failure (31 s ago).
    assert refused(auth, client="192.0.2.1") == 1.0
    clock.advance(seconds=1)
    fail(auth, client="192.0.2.1")
    assert refused(auth, client="192.0.2.1") == 64.0
    # A wrong password from an address new to the account is checked and answered as wrong.
    fail(auth, client="10.0.9.9")


def test_the_backoff_is_capped_and_refused_attempts_do_not_prolong_it(
    engine: Engine, clock: Clock
) -> None:
    limits = LoginLimits(per_client=100, backoff_cap=timedelta(seconds=30))
    auth = StaffAuth(engine, limits=limits, clock=clock)
    auth.add_user("anna", PASSWORD, "agent")
    for _ in range(12):
        clock.advance(minutes=1)
        fail(auth, client="203.0.113.9")
    assert refused(auth, client="203.0.113.9") == 30.0
    clock.advance(seconds=20)
    assert refused(auth, client="203.0.113.9", password=PASSWORD) == 10.0  # not counted
    clock.advance(seconds=10)
    assert auth.login("anna", PASSWORD, "203.0.113.9").username == "anna"


def test_an_address_that_keeps_guessing_is_refused_other_addresses_are_not(
    auth: StaffAuth, clock: Clock
) -> None:
    names = ["anna", "jonas", "lea", "marco", "sofie", "tim", "eva", "nina", "paul", "admin"]
    assert len(names) == LoginLimits().per_client
    for name in names:  # one guess per account: no account backoff, the address's own limit
        fail(auth, username=name, client="192.0.2.7")
        clock.advance(seconds=30)
    wait = refused(auth, username="anna", client="192.0.2.7", password=PASSWORD)
    assert wait == 15 * 60 - 10 * 30  # until its oldest failure is out of the window
    assert refused(auth, username="nobody", client="192.0.2.7") == wait  # for any name
    assert auth.login("anna", PASSWORD, "192.0.2.8").username == "anna"  # another address
    clock.advance(seconds=wait)
    assert auth.login("anna", PASSWORD, "192.0.2.7").username == "anna"


def test_a_success_forgives_only_its_own_addresss_failures(auth: StaffAuth) -> None:
    for _ in range(3):
        fail(auth, client="203.0.113.9")
    fail(auth, client="10.0.0.1")  # the real user mistypes once
    assert auth.login("anna", PASSWORD, "10.0.0.7").username == "anna"
    assert refused(auth, client="203.0.113.9") > 0  # the guesser is still slowed
    with pytest.raises(TooManyAttempts):  # and so is the address that mistyped, for now
        auth.login("anna", PASSWORD, "10.0.0.1")


def test_unknown_accounts_are_throttled_exactly_like_real_ones(auth: StaffAuth) -> None:
    for username in ("anna", "annette"):
        for _ in range(3):
            fail(auth, username=username, client=f"203.0.113.{len(username)}")
        assert refused(auth, username=username, client=f"203.0.113.{len(username)}") == 1.0


def test_a_refusal_is_logged_without_the_name_or_the_address(
    auth: StaffAuth, caplog: pytest.LogCaptureFixture
) -> None:
    for _ in range(3):
        fail(auth, client="203.0.113.9")
    with caplog.at_level("DEBUG"):
        refused(auth, client="203.0.113.9")
    assert "too many failed logins" in caplog.text
    assert "anna" not in caplog.text.lower() and "203.0.113" not in caplog.text


def test_parallel_guesses_from_two_processes_get_past_neither_limit(
    engine: Engine, clock: Clock
) -> None:
    # Two StaffAuth on two engines: two console processes sharing the database.
    other = make_engine(engine.url.render_as_string(hide_password=False))
    try:
        first = StaffAuth(engine, clock=clock)
        second = StaffAuth(other, clock=clock)
        first.add_user("anna", PASSWORD, "agent")
        turn = iter(range(1000))

        def guess(username: str = "anna") -> object:
            auth = (first, second)[next(turn) % 2]
            return auth.login(username, "a guess, wrong", "203.0.113.9")

        results, errors = run_together(guess, 8)
        assert results == []
        assert sorted(type(error).__name__ for error in errors) == (
            ["BadCredentials"] * 3 + ["TooManyAttempts"] * 5  # the account's free failures
        )
        numbers = itertools.count()
        results, errors = run_together(lambda: guess(f"user{next(numbers)}"), 12)
        assert sorted(type(error).__name__ for error in errors) == (
            ["BadCredentials"] * 7 + ["TooManyAttempts"] * 5  # the address's 10 in all
        )
    finally:
        other.dispose()


def test_two_parallel_logins_get_two_sessions(auth: StaffAuth) -> None:
    sessions, errors = run_together(lambda: auth.login("anna", PASSWORD, "10.0.0.1"), 2)
    assert errors == []
    assert len({session.token for session in sessions}) == 2
    assert len({session.csrf_token for session in sessions}) == 2
    for session in sessions:
        assert auth.session(session.token).username == "anna"


# -- sessions --


def test_a_session_expires(auth: StaffAuth, clock: Clock) -> None:
    session = auth.login("anna", PASSWORD, "10.0.0.1")
    clock.advance(hours=12, seconds=-1)
    assert auth.session(session.token).username == "anna"
    clock.advance(seconds=1)
    with pytest.raises(InvalidSession):
        auth.session(session.token)


def test_logout_ends_only_that_session(auth: StaffAuth) -> None:
    first = auth.login("anna", PASSWORD, "10.0.0.1")
    second = auth.login("anna", PASSWORD, "10.0.0.2")
    auth.logout(first.token)
    auth.logout(first.token)  # idempotent
    auth.logout("")
    with pytest.raises(InvalidSession):
        auth.session(first.token)
    assert auth.session(second.token).username == "anna"


def test_unknown_tokens_are_invalid(auth: StaffAuth) -> None:
    for token in ("", "x", "y" * 10_000, "\udcff"):
        with pytest.raises(InvalidSession):
            auth.session(token)


def test_tokens_are_stored_only_as_hashes(auth: StaffAuth, engine: Engine) -> None:
    session = auth.login("anna", PASSWORD, "10.0.0.1")
    with engine.connect() as connection:
        rows = connection.execute(select(sessions_table)).mappings().all()
    [row] = rows
    assert row["token_hash"] == hashlib.sha256(session.token.encode()).hexdigest()
    assert all(session.token not in str(value) for value in row.values())


def test_deactivating_a_user_ends_their_sessions(auth: StaffAuth) -> None:
    sessions = [auth.login("anna", PASSWORD, f"10.0.0.{n}") for n in range(2)]
    auth.set_active("anna", False)
    auth.set_active("anna", True)  # enabling again does not bring the sessions back
    for session in sessions:
        with pytest.raises(InvalidSession):
            auth.session(session.token)


def test_a_new_password_ends_sessions_and_replaces_the_old_one(auth: StaffAuth) -> None:
    session = auth.login("anna", PASSWORD, "10.0.0.1")
    auth.set_password("anna", "a new password")
    with pytest.raises(InvalidSession):
        auth.session(session.token)
    with pytest.raises(BadCredentials):
        auth.login("anna", PASSWORD, "10.0.0.1")
    assert auth.login("anna", "a new password", "10.0.0.1").username == "anna"


def test_removing_a_user_ends_their_sessions_and_login(auth: StaffAuth) -> None:
    session = auth.login("anna", PASSWORD, "10.0.0.1")
    auth.remove_user("ANNA")
    with pytest.raises(InvalidSession):
        auth.session(session.token)
    with pytest.raises(BadCredentials):
        auth.login("anna", PASSWORD, "10.0.0.1")
    assert auth.users() == []


def test_the_csrf_token_is_checked(auth: StaffAuth) -> None:
    login = auth.login("anna", PASSWORD, "10.0.0.1")
    found = auth.session(login.token)
    assert auth.check_csrf(login, login.csrf_token)
    assert auth.check_csrf(found, login.csrf_token)
    other = auth.login("anna", PASSWORD, "10.0.0.1")
    for presented in (None, "", other.csrf_token, login.csrf_token[:-1], "ä" * 43, "\udcff"):
        assert not auth.check_csrf(found, presented)


def test_the_unknown_usernames_hash_is_made_when_prepared_not_on_every_start(
    engine: Engine,
) -> None:
    auth_module._dummy_hash.cache_clear()
    auth = StaffAuth(engine)  # what `lotse staff list` builds: no hashing
    assert auth_module._dummy_hash.cache_info().currsize == 0
    auth.prepare()  # the console, at its start
    assert auth_module._dummy_hash.cache_info().currsize == 1
    with pytest.raises(BadCredentials):
        auth.login("nobody-here", "some password", client="10.0.0.9")
    assert auth_module._dummy_hash.cache_info().currsize == 1
