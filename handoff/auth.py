"""Staff logins for the handoff console: users, password hashes, sessions, login limits.

The framework-free core of the console's authentication: SQLAlchemy Core on SQLite or
PostgreSQL, tables `handoff_users`, `handoff_sessions` and `handoff_login_attempts`
(created by the Alembic migrations of the shared schema, `lotse/migrations/`, which the
composition root runs, `wiring.services`). Build the engine with
`lotse.database.make_engine`: on SQLite its `BEGIN IMMEDIATE` for writers is what
makes the login limits hold under parallel attempts, also from several console
processes (on PostgreSQL, transaction-level advisory locks per username and per client
do).

Login throttling (`LoginLimits`) slows a guesser without locking out the real user:
- per client address: after `per_client` failed logins (of any names) within `window`
  the address is refused until the oldest of them is out of the window; other
  addresses are not affected;
- per login: once it has `free_failures` failures within the window (from anywhere),
  an address that has itself failed it within the window waits a delay doubling with
  each further failure (`backoff_base`, at most `backoff_cap`) after its own last
  failure. An address that has not failed it is not delayed: the right password from
  a new address always gets in, and a wrong one is answered as wrong (and counted).
A refusal comes before the password is checked (a refused guess learns nothing) and is
not counted; a success forgives only its own address's failures of that login. Unknown
and impossible usernames are counted and throttled exactly like real ones, and the
answers are the same (no account enumeration). Which address a request comes from is
the web layer's business (`console.web.client_address`: X-Forwarded-For only
from a trusted proxy). No rate-limit library: those count requests in buckets of their
own, while these limits count failures, take back a success's reservation and share
the migrated table and the transaction (a few indexed queries).

Errors:
    AuthError                  the base of everything below
      BadCredentials           wrong username, wrong password or inactive user (one message)
      TooManyAttempts          throttled (see above); `.retry_after` in seconds
      UnknownUser              user management named a login that does not exist
      InvalidSession           unknown, expired or logged-out token, or an inactive user
    ValueError                 invalid input to user management (username, password, role,
                               language)
Database errors propagate as SQLAlchemy errors.

Personal data: usernames and display names of staff, and the client address (IP, an
IPv6 one as its /64) and username of each failed login, kept for `LoginLimits.window`
(pruned at the next login). Nothing here logs a username or an address. Passwords are
stored only as argon2id hashes (argon2-cffi, RFC 9106's low-memory profile: t=3, 64 MiB,
p=4); a scrypt hash of an older Lotse (N=2^14) still verifies and is replaced by an
argon2id one in the same transaction as the session of its next successful login (so
is an argon2id hash of other costs). A stored hash that is malformed, of another
scheme or of implausible cost never verifies: the login is refused, nothing raises.
Session tokens are stored only as SHA-256 hashes.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import logging
import math
import re
import secrets
from collections.abc import Callable, Mapping
from dataclasses import asdict, dataclass, field
from datetime import datetime, timedelta, timezone
from functools import cache
from typing import Any

from argon2 import PasswordHasher, Type, extract_parameters
from argon2.exceptions import Argon2Error
from argon2.profiles import RFC_9106_LOW_MEMORY
from sqlalchemy import (
    Boolean,
    Column,
    ForeignKey,
    Index,
    Integer,
    MetaData,
    String,
    Table,
    delete,
    func,
    insert,
    select,
    update,
)
from sqlalchemy.engine import Connection, Engine
from sqlalchemy.exc import IntegrityError

from crm_adapter.store.models import UtcDateTime, as_utc
from lotse.database import writer
from lotse.translations import LANGUAGES

ROLES = ("agent", "admin")
USERNAME = re.compile(r"[a-z0-9._-]{3,64}")
STAFF_ID = re.compile(r"[a-z0-9._-]{1,64}")
MIN_PASSWORD_CHARS = 10
MAX_PASSWORD_CHARS = 1024
MAX_NAME_CHARS = 100
MAX_CLIENT_CHARS = 128
MAX_TOKEN_CHARS = 128
PASSWORD_HASHER = PasswordHasher.from_parameters(RFC_9106_LOW_MEMORY)
ARGON2_PREFIX = "$argon2id$"
# The most a stored argon2id hash may ask for, so that a tampered row cannot make a
# login cost unbounded memory or time (today's profile asks 64 MiB, t=3, p=4).
ARGON2_MAX_MEMORY_KIB, ARGON2_MAX_TIME_COST, ARGON2_MAX_PARALLELISM = 256 * 1024, 10, 8
SCRYPT_MAXMEM = 64 * 1024 * 1024  # legacy hashes only: verified, never made
BAD_CREDENTIALS = "wrong username or password"
INVALID_NAME = "(invalid)"  # what a login attempt under an impossible username is counted as

log = logging.getLogger(__name__)

metadata = MetaData()

users_table = Table(
    "handoff_users",
    metadata,
    Column("username", String(64), primary_key=True),
    Column("password_hash", String(200), nullable=False),
    Column("role", String(16), nullable=False),
    Column("staff_id", String(64), nullable=True),
    Column("display_name", String(MAX_NAME_CHARS), nullable=False),
    Column("active", Boolean, nullable=False),
    Column("created_at", UtcDateTime, nullable=False),
    # The console's language ("de", "en"); None: the browser's (console/i18n.py).
    Column("language", String(8), nullable=True),
)

sessions_table = Table(
    "handoff_sessions",
    metadata,
    Column("token_hash", String(64), primary_key=True),
    Column(
        "username",
        String(64),
        ForeignKey("handoff_users.username", ondelete="CASCADE"),
        nullable=False,
        index=True,
    ),
    Column("csrf_token", String(64), nullable=False),
    Column("created_at", UtcDateTime, nullable=False),
    Column("expires_at", UtcDateTime, nullable=False, index=True),
)

attempts_table = Table(
    "handoff_login_attempts",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("username", String(64), nullable=False),
    Column("client", String(MAX_CLIENT_CHARS), nullable=False),
    Column("attempted_at", UtcDateTime, nullable=False, index=True),
    Index("ix_handoff_login_attempts_username_at", "username", "attempted_at"),
    Index("ix_handoff_login_attempts_client_at", "client", "attempted_at"),
)


class AuthError(Exception):
    """Base of the authentication errors."""


class BadCredentials(AuthError):
    """Wrong username or password, or an inactive user: deliberately one message."""


class TooManyAttempts(AuthError):
    """Throttled: the client address is over its limit, or it failed this login and
    the login's backoff has not passed yet; try after `retry_after` seconds."""

    def __init__(self, retry_after: float) -> None:
        super().__init__(f"too many failed logins; try again in {math.ceil(retry_after)} s")
        self.retry_after = retry_after


class UnknownUser(AuthError):
    """No staff login of that name."""


class InvalidSession(AuthError):
    """The token names no live session of an active user."""


def utc_now() -> datetime:
    return datetime.now(timezone.utc)


@dataclass(frozen=True)
class LoginLimits:
    """How failed logins are throttled (the module docstring says how they combine)."""

    window: timedelta = timedelta(minutes=15)  # how long a failure counts
    per_client: int = 10  # failures from one address, of any logins, within the window
    free_failures: int = 3  # failures of a login before its backoff starts
    backoff_base: timedelta = timedelta(seconds=1)  # the first delay; doubles per failure
    backoff_cap: timedelta = timedelta(minutes=5)

    def __post_init__(self) -> None:
        if min(self.window, self.backoff_base, self.backoff_cap) <= timedelta(0):
            raise ValueError("the window and the backoff's base and cap must be positive")
        if self.per_client < 1 or self.free_failures < 0:
            raise ValueError("per_client must be at least 1, free_failures at least 0")

    def backoff(self, failures: int) -> timedelta:
        """The delay after a login's `failures`-th failure within the window."""
        if failures < self.free_failures:
            return timedelta(0)
        doublings = min(failures - self.free_failures, 40)  # the cap is reached long before
        return min(self.backoff_cap, self.backoff_base * 2**doublings)


@dataclass(frozen=True)
class StaffUser:
    username: str
    staff_id: str | None
    role: str
    display_name: str
    active: bool
    language: str | None = None


@dataclass(frozen=True)
class Session:
    """A logged-in staff member. `token` is the raw cookie value, set only by `login`."""

    token: str = field(repr=False)
    username: str
    role: str
    staff_id: str | None
    csrf_token: str = field(repr=False)
    expires_at: datetime
    language: str | None = None  # the user's console language, None: the browser's


def _secret(password: str) -> bytes:
    # surrogatepass: a lone surrogate from JSON is hashed, not an encoding error
    return password.encode("utf-8", "surrogatepass")


def hash_password(password: str) -> str:
    """An argon2id hash in PHC form, `$argon2id$v=19$m=65536,t=3,p=4$salt$hash`, with a
    fresh 16-byte salt."""
    return PASSWORD_HASHER.hash(_secret(password))


def verify_password(password: str, encoded: str) -> bool:
    """Whether `password` matches `encoded`, an argon2id hash or a legacy scrypt one
    (`scrypt$n$r$p$salt_b64$hash_b64`). False for a hash that is malformed, of
    another scheme or of implausible cost; never raises."""
    if encoded.startswith(ARGON2_PREFIX):
        return _verify_argon2id(password, encoded)
    if encoded.startswith("scrypt$"):
        return _verify_scrypt(password, encoded)
    return False


def needs_rehash(encoded: str) -> bool:
    """Whether a hash that has just verified should be replaced by `hash_password`'s:
    a legacy scrypt hash, or an argon2id hash of other costs than today's."""
    if not encoded.startswith(ARGON2_PREFIX):
        return True
    try:
        return PASSWORD_HASHER.check_needs_rehash(encoded)
    except ValueError:  # InvalidHashError is one; a fresh hash is the cure either way
        return True


def _verify_argon2id(password: str, encoded: str) -> bool:
    try:
        parameters = extract_parameters(encoded)
    except ValueError:  # InvalidHashError is one
        return False
    plausible = (
        parameters.type is Type.ID
        and parameters.version == 19
        and 1 <= parameters.time_cost <= ARGON2_MAX_TIME_COST
        and 1 <= parameters.parallelism <= ARGON2_MAX_PARALLELISM
        and parameters.memory_cost <= ARGON2_MAX_MEMORY_KIB
    )
    if not plausible:
        return False
    try:
        return PASSWORD_HASHER.verify(encoded, _secret(password))
    except (Argon2Error, ValueError):  # a mismatch, or a hash argon2 cannot read
        return False


def _verify_scrypt(password: str, encoded: str) -> bool:
    try:
        scheme, n_text, r_text, p_text, salt_text, digest_text = encoded.split("$")
        n, r, p = int(n_text), int(r_text), int(p_text)
        salt = base64.b64decode(salt_text, validate=True)
        expected = base64.b64decode(digest_text, validate=True)
    except ValueError:  # binascii.Error is one
        return False
    plausible = (
        scheme == "scrypt"
        and 2 <= n <= 2**16
        and n & (n - 1) == 0  # a power of two
        and 1 <= r <= 16
        and 1 <= p <= 4
        and 128 * n * r <= SCRYPT_MAXMEM // 2  # a tampered row must not cost unbounded work
        and salt
        and 16 <= len(expected) <= 64
    )
    if not plausible:
        return False
    digest = hashlib.scrypt(
        _secret(password), salt=salt, n=n, r=r, p=p, dklen=len(expected), maxmem=SCRYPT_MAXMEM
    )
    return hmac.compare_digest(digest, expected)


@cache
def _dummy_hash() -> str:
    """Verified against when the username is unknown, so the work done is the same."""
    return hash_password(secrets.token_urlsafe(16))


def normalise_username(username: str) -> str:
    """The stored form of a username (lowercased); ValueError if it cannot be one."""
    name = username.strip().lower()
    if not USERNAME.fullmatch(name):
        raise ValueError("a username has 3 to 64 characters out of a-z, 0-9, '.', '_' and '-'")
    return name


def _known_name(username: str) -> str:
    """The stored form of a username to look up; UnknownUser if it cannot exist."""
    name = username.strip().lower()
    if not USERNAME.fullmatch(name):
        raise UnknownUser(f"no staff login named {username[:64]!r}")
    return name


def _check_password(password: str) -> None:
    if not MIN_PASSWORD_CHARS <= len(password) <= MAX_PASSWORD_CHARS:
        raise ValueError(f"a password has {MIN_PASSWORD_CHARS} to {MAX_PASSWORD_CHARS} characters")


def _display_name(display_name: str | None, username: str) -> str:
    printable = "".join(ch for ch in display_name or "" if ch.isprintable())
    return " ".join(printable.split())[:MAX_NAME_CHARS] or username


def _token_hash(token: str) -> str:
    return hashlib.sha256(token.encode("utf-8", "surrogatepass")).hexdigest()


def _lock_key(kind: str, value: str) -> int:
    digest = hashlib.sha256(f"lotse.handoff.login:{kind}:{value}".encode()).digest()
    return int.from_bytes(digest[:8], "big", signed=True)


def _user(row: Mapping[str, Any]) -> StaffUser:
    return StaffUser(
        row["username"], row["staff_id"], row["role"], row["display_name"], bool(row["active"]),
        row["language"],
    )  # fmt: skip


class StaffAuth:
    """Staff logins and their sessions on one database (see the module docstring)."""

    def __init__(
        self,
        engine: Engine,
        session_lifetime: timedelta = timedelta(hours=12),
        limits: LoginLimits = LoginLimits(),
        clock: Callable[[], datetime] = utc_now,
    ) -> None:
        if session_lifetime <= timedelta(0):
            raise ValueError("session_lifetime must be positive")
        self._engine = engine
        self._writer = writer(engine)
        self._lifetime = session_lifetime
        self._limits = limits
        self._clock = clock

    def prepare(self) -> None:
        """Makes the hash an unknown username is checked against, so the first one
        costs no extra hashing (the console does it at its start; a command that logs
        nobody in, `lotse staff list`, need not spend the 0.1 s)."""
        _dummy_hash()

    def _now(self) -> datetime:
        return as_utc(self._clock())

    # -- user management (not rate limited: for operators and admins) --

    def add_user(
        self,
        username: str,
        password: str,
        role: str,
        staff_id: str | None = None,
        display_name: str | None = None,
    ) -> StaffUser:
        name = normalise_username(username)
        _check_password(password)
        if role not in ROLES:
            raise ValueError(f"the role is one of {', '.join(ROLES)}, not {role!r}")
        if staff_id is not None and not STAFF_ID.fullmatch(staff_id):
            raise ValueError("a staff id has 1 to 64 characters out of a-z, 0-9, '.', '_' and '-'")
        user = StaffUser(name, staff_id, role, _display_name(display_name, name), True)
        row = {**asdict(user), "password_hash": hash_password(password), "created_at": self._now()}
        try:
            with self._writer.begin() as connection:
                connection.execute(insert(users_table).values(**row))
        except IntegrityError:
            raise ValueError(f"a staff login named {name!r} exists already") from None
        return user

    def set_password(self, username: str, password: str) -> None:
        """Changes the password and ends the user's sessions."""
        _check_password(password)
        self._change(username, password_hash=hash_password(password))

    def set_active(self, username: str, active: bool) -> None:
        """Deactivating also ends the user's sessions."""
        self._change(username, active=active)

    def set_language(self, username: str, language: str | None) -> None:
        """The console's language for the user ("de", "en"; None: the browser's).
        Idempotent; the user's sessions go on (their next request sees it)."""
        if language is not None and language not in LANGUAGES:
            raise ValueError(f"the language is one of {', '.join(LANGUAGES)}, not {language!r}")
        self._change(username, language=language)

    def _change(self, username: str, **values: Any) -> None:
        name = _known_name(username)
        ends_sessions = "password_hash" in values or values.get("active") is False
        with self._writer.begin() as connection:
            changed = connection.execute(
                update(users_table).where(users_table.c.username == name).values(**values)
            ).rowcount
            if changed and ends_sessions:  # a new password or deactivation
                self._end_sessions(connection, name)
        if not changed:
            raise UnknownUser(f"no staff login named {name!r}")

    @staticmethod
    def _end_sessions(connection: Connection, username: str) -> None:
        connection.execute(delete(sessions_table).where(sessions_table.c.username == username))

    def remove_user(self, username: str) -> None:
        name = _known_name(username)
        with self._writer.begin() as connection:
            self._end_sessions(connection, name)
            removed = connection.execute(
                delete(users_table).where(users_table.c.username == name)
            ).rowcount
        if not removed:
            raise UnknownUser(f"no staff login named {name!r}")

    def users(self) -> list[StaffUser]:
        with self._engine.connect() as connection:
            rows = connection.execute(select(users_table).order_by(users_table.c.username))
            return [_user(row) for row in rows.mappings()]

    def user(self, username: str) -> StaffUser:
        name = _known_name(username)
        query = select(users_table).where(users_table.c.username == name)
        with self._engine.connect() as connection:
            row = connection.execute(query).mappings().first()
        if row is None:
            raise UnknownUser(f"no staff login named {name!r}")
        return _user(row)

    # -- logging in and sessions --

    def login(self, username: str, password: str, client: str) -> Session:
        """A new session, or BadCredentials / TooManyAttempts (throttling, module docstring).

        `client` is the request's client address as the web layer determined it. The
        throttle is checked before the password. An attempt it lets through is recorded
        as a failure before the password is checked (so parallel guesses cannot get past
        the limits), and a success deletes the failures of this username from this
        client, its own included; an attempt refused is not recorded, so waiting
        `retry_after` is enough."""
        name = username.strip().lower()
        name = name if USERNAME.fullmatch(name) else INVALID_NAME
        client = "".join(ch for ch in (client or "")[:MAX_CLIENT_CHARS] if ch.isprintable()) or "-"
        now = self._now()
        with self._writer.begin() as connection:
            retry_after = self._reserve_attempt(connection, name, client, now)
            row = (
                connection.execute(select(users_table).where(users_table.c.username == name))
                .mappings()
                .first()
            )
        if retry_after is not None:
            log.warning("a console login was refused: too many failed logins")  # nobody named
            raise TooManyAttempts(retry_after)
        stored = row["password_hash"] if row else _dummy_hash()
        matches = verify_password(password, stored)
        if not (matches and row is not None and row["active"]):
            raise BadCredentials(BAD_CREDENTIALS)
        # Hashed before the transaction, so no writer waits on argon2's work.
        upgrade = hash_password(password) if needs_rehash(stored) else None
        return self._start_session(row, client, now, upgrade)

    def _start_session(
        self, user: Mapping[str, Any], client: str, now: datetime, upgrade: str | None
    ) -> Session:
        """Starts the session and, in the same transaction, stores `upgrade` (the
        argon2id hash replacing a legacy one). BadCredentials if the user was
        deactivated or removed, or the password changed, while it was checked: the user
        row is locked (FOR UPDATE on PostgreSQL; SQLite's writers run one at a time),
        so a change of password either comes first and refuses this login or comes
        after and ends its session."""
        name = user["username"]
        token, csrf_token = secrets.token_urlsafe(32), secrets.token_urlsafe(32)
        session = Session(
            token, name, user["role"], user["staff_id"], csrf_token, now + self._lifetime
        )
        row = {"token_hash": _token_hash(token), "username": name, "csrf_token": csrf_token}
        users, attempts, sessions = users_table.c, attempts_table.c, sessions_table.c
        with self._writer.begin() as connection:
            current = connection.execute(
                select(users.active, users.password_hash)
                .where(users.username == name)
                .with_for_update()
            ).first()
            still_valid = (
                current is not None
                and current.active
                and current.password_hash == user["password_hash"]
            )
            if still_valid:
                if upgrade is not None:
                    connection.execute(
                        update(users_table)
                        .where(users.username == name)
                        .values(password_hash=upgrade)
                    )
                connection.execute(  # a guesser's failures elsewhere still count
                    delete(attempts_table).where(
                        attempts.username == name, attempts.client == client
                    )
                )
                connection.execute(delete(sessions_table).where(sessions.expires_at <= now))
                connection.execute(
                    insert(sessions_table).values(
                        **row, created_at=now, expires_at=session.expires_at
                    )
                )
        if not still_valid:
            raise BadCredentials(BAD_CREDENTIALS)
        return session

    def _reserve_attempt(
        self, connection: Connection, name: str, client: str, now: datetime
    ) -> float | None:
        """Seconds to wait if the attempt is throttled; otherwise records it (as a failure)."""
        if connection.dialect.name == "postgresql":
            for key in sorted({_lock_key("user", name), _lock_key("client", client)}):
                connection.execute(select(func.pg_advisory_xact_lock(key)))
        attempts, limits = attempts_table.c, self._limits
        cutoff = now - limits.window
        connection.execute(delete(attempts_table).where(attempts.attempted_at <= cutoff))
        recent = attempts.attempted_at > cutoff
        waits = []
        from_client = (
            connection.execute(
                select(attempts.attempted_at)
                .where(attempts.client == client, recent)
                .order_by(attempts.attempted_at.desc())
                .limit(limits.per_client)
            )
            .scalars()
            .all()
        )
        if len(from_client) >= limits.per_client:  # free when the oldest of these expires
            waits.append(from_client[-1] + limits.window - now)
        last_here = connection.execute(
            select(func.max(attempts.attempted_at)).where(
                attempts.username == name, attempts.client == client, recent
            )
        ).scalar()
        if last_here is not None:  # this address failed this login: the login's backoff
            failures = connection.execute(
                select(func.count()).where(attempts.username == name, recent)
            ).scalar_one()
            waits.append(as_utc(last_here) + limits.backoff(failures) - now)
        wait = max(waits, default=timedelta(0))
        if wait > timedelta(0):
            return wait.total_seconds()
        connection.execute(
            insert(attempts_table).values(username=name, client=client, attempted_at=now)
        )
        return None

    def session(self, token: str) -> Session:
        """The live session of `token` (with `token=""`), or InvalidSession."""
        if not token or len(token) > MAX_TOKEN_CHARS:
            raise InvalidSession("no valid session")
        now = self._now()
        users, sessions = users_table.c, sessions_table.c
        query = (
            select(sessions.csrf_token, sessions.expires_at, users.username, users.role)
            .add_columns(users.staff_id, users.active, users.language)
            .join_from(sessions_table, users_table, sessions.username == users.username)
            .where(sessions.token_hash == _token_hash(token))
        )
        with self._engine.connect() as connection:
            row = connection.execute(query).mappings().first()
        if row is None or not row["active"] or row["expires_at"] <= now:
            raise InvalidSession("no valid session")
        return Session(
            "", row["username"], row["role"], row["staff_id"], row["csrf_token"], row["expires_at"],
            row["language"],
        )  # fmt: skip

    def logout(self, token: str) -> None:
        """Ends the session of `token`; idempotent."""
        if not token or len(token) > MAX_TOKEN_CHARS:
            return
        with self._writer.begin() as connection:
            connection.execute(
                delete(sessions_table).where(sessions_table.c.token_hash == _token_hash(token))
            )

    def check_csrf(self, session: Session, presented: str | None) -> bool:
        """Whether `presented` is the session's CSRF token (compared in constant time)."""
        if not presented or not session.csrf_token:
            return False
        expected = session.csrf_token.encode("utf-8", "surrogatepass")
        return hmac.compare_digest(presented.encode("utf-8", "surrogatepass"), expected)
