"""`lotse staff add|list|passwd|disable|enable|remove`: the staff console's logins.

Works on the database LOTSE_DATABASE_URL names (SQLite by default, PostgreSQL by URL).
A new password is taken from LOTSE_STAFF_PASSWORD if that is set (for scripts and
tests), otherwise asked for twice without echo. Passwords are never printed. Bad input
(an existing or unknown login, a short password, an invalid name) is one line on
stderr and exit code 1. Output holds staff names, which are personal data.

`ensure_demo_staff` gives a fresh installation logins for the demo company's staff.
"""

from __future__ import annotations

import argparse
import getpass
import json
import secrets
import sys
from dataclasses import asdict

from sqlalchemy.exc import SQLAlchemyError

from handoff.auth import ROLES, AuthError, StaffAuth, normalise_username
from lotse.settings import load_settings
from wiring.services import services

PASSWORD_VARIABLE = "LOTSE_STAFF_PASSWORD"

# (username, role, staff id in bot/data/routing.yml, display name): Nordwerk's staff.
DEMO_STAFF = (
    ("admin", "admin", None, "Administrator"),
    ("anna", "agent", "anna", "Anna Becker"),
    ("tim", "agent", "tim", "Tim Krüger"),
    ("jonas", "agent", "jonas", "Jonas Weber"),
    ("lea", "agent", "lea", "Lea Hoffmann"),
    ("marco", "agent", "marco", "Marco Steiner"),
    ("sofie", "agent", "sofie", "Sofie Jansen"),
    ("paul", "agent", "paul", "Paul Richter"),
    ("nina", "agent", "nina", "Nina Schulz"),
    ("eva", "agent", "eva", "Eva Lange"),
)


def ensure_demo_staff(auth: StaffAuth) -> list[tuple[str, str]]:
    """Demo logins with random passwords, made only if there is no login at all.

    Returns the (username, password) pairs made, for printing once; [] if logins exist.
    """
    if auth.users():
        return []
    made = []
    for username, role, staff_id, name in DEMO_STAFF:
        password = secrets.token_urlsafe(12)
        auth.add_user(username, password, role, staff_id=staff_id, display_name=name)
        made.append((username, password))
    return made


def add_arguments(command: argparse.ArgumentParser) -> None:
    actions = command.add_subparsers(dest="staff_command", required=True, metavar="ACTION")
    add = actions.add_parser(
        "add", help=f"add a login (password from {PASSWORD_VARIABLE} or asked)"
    )
    add.add_argument("username")
    add.add_argument("--role", choices=ROLES, required=True)
    add.add_argument("--staff-id", help="the staff member in bot/data/routing.yml, e.g. anna")
    add.add_argument("--name", help="the name shown in the console")
    listing = actions.add_parser("list", help="all logins")
    listing.add_argument("--json", action="store_true", help="machine-readable output")
    for name, help_text in (
        ("passwd", "set a new password (ends the login's sessions)"),
        ("disable", "stop a login from logging in (ends its sessions)"),
        ("enable", "let a disabled login log in again"),
        ("remove", "delete a login"),
    ):
        actions.add_parser(name, help=help_text).add_argument("username")


def run(args: argparse.Namespace) -> int:
    try:
        return ACTIONS[args.staff_command](services().staff, args)
    except (AuthError, ValueError) as error:
        print(f"lotse: {error}", file=sys.stderr)
        return 1
    except SQLAlchemyError as error:
        first_line = str(error).splitlines()[0] if str(error) else type(error).__name__
        print(f"lotse: the staff database failed: {first_line}", file=sys.stderr)
        return 1


def _new_password(username: str) -> str:
    given = load_settings().secrets.staff_password
    if given is not None:
        return given
    try:
        first = getpass.getpass(f"new password for {username}: ")
        second = getpass.getpass("the same again: ")
    except EOFError:
        raise ValueError("no password given") from None
    if first != second:
        raise ValueError("the two passwords differ")
    return first


def _add(auth: StaffAuth, args: argparse.Namespace) -> int:
    name = normalise_username(args.username)
    if any(user.username == name for user in auth.users()):  # before asking for a password
        raise ValueError(f"a staff login named {name!r} exists already")
    user = auth.add_user(name, _new_password(name), args.role, args.staff_id, args.name)
    staff = f", staff member {user.staff_id}" if user.staff_id else ""
    print(f"added {user.role} {user.username} ({user.display_name}{staff})")
    return 0


def _list(auth: StaffAuth, args: argparse.Namespace) -> int:
    users = auth.users()
    if args.json:
        print(json.dumps([asdict(user) for user in users], ensure_ascii=False, indent=2))
        return 0
    print(f"{'username':<20} {'role':<6} {'staff':<12} {'active':<6} name")
    for user in users:
        active = "yes" if user.active else "no"
        print(
            f"{user.username:<20} {user.role:<6} {user.staff_id or '-':<12} {active:<6} "
            f"{user.display_name}"
        )
    return 0


def _passwd(auth: StaffAuth, args: argparse.Namespace) -> int:
    name = auth.user(args.username).username  # UnknownUser before asking for a password
    auth.set_password(name, _new_password(name))
    print(f"password of {name} changed; their sessions were ended")
    return 0


def _disable(auth: StaffAuth, args: argparse.Namespace) -> int:
    name = auth.user(args.username).username
    auth.set_active(name, False)
    print(f"{name} disabled; their sessions were ended")
    return 0


def _enable(auth: StaffAuth, args: argparse.Namespace) -> int:
    name = auth.user(args.username).username
    auth.set_active(name, True)
    print(f"{name} enabled")
    return 0


def _remove(auth: StaffAuth, args: argparse.Namespace) -> int:
    name = auth.user(args.username).username
    auth.remove_user(name)
    print(f"{name} removed")
    return 0


ACTIONS = {
    "add": _add,
    "list": _list,
    "passwd": _passwd,
    "disable": _disable,
    "enable": _enable,
    "remove": _remove,
}
