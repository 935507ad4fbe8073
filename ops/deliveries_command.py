"""`lotse deliveries dead|retry|discard`: the dead letters of the CRM delivery outbox.

`dead` lists events that could not be delivered (id, connector, contact, kind,
attempts, when, the error: its kind and the connector's message, which names the
operation and the HTTP status, never personal data); `retry ID` makes one due again
from zero attempts, `retry --all` every one (after an outage, say); `discard ID` gives
it up for good, which lets the contact's later events go. The store is the one
LOTSE_DATABASE_URL names. Prints no payloads (they hold personal data).
"""

from __future__ import annotations

import argparse
import json
import sys
from datetime import datetime, timezone

from crm_adapter.store.crm_events import EventOutbox
from wiring.services import services


def add_arguments(command: argparse.ArgumentParser) -> None:
    actions = command.add_subparsers(dest="deliveries_command", required=True, metavar="ACTION")
    listing = actions.add_parser("dead", help="list the dead letters")
    listing.add_argument("--json", action="store_true")
    for name, text in (("retry", "try a dead letter again"), ("discard", "give it up for good")):
        action = actions.add_parser(name, help=text)
        which = action.add_mutually_exclusive_group(required=True)
        which.add_argument("id", type=int, nargs="?", help="the dead letter's id (from `dead`)")
        if name == "retry":
            which.add_argument("--all", action="store_true", help="every dead letter")


def run(args: argparse.Namespace) -> int:
    outbox = EventOutbox(services().engine)
    now = datetime.now(timezone.utc)
    if args.deliveries_command == "dead":
        letters = outbox.dead_letters()
        if args.json:
            print(json.dumps(letters, default=str, indent=2))
        for letter in [] if args.json else letters:
            print(f"{letter['id']:>6}  {letter['connector']:<10} lead {letter['contact_id']:<6} "
                  f"{letter['kind']:<20} "
                  f"{letter['attempts']} tries  {letter['dead_at']:%Y-%m-%d %H:%M}  "
                  f"{letter['last_error']}")  # fmt: skip
        return 0
    change = outbox.revive if args.deliveries_command == "retry" else outbox.discard
    if getattr(args, "all", False):
        revived = sum(change(letter["id"], now) for letter in outbox.dead_letters())
        print(f"{revived} dead letters due again")
        return 0
    if not change(args.id, now):
        print(f"lotse: {args.id} is not a dead letter", file=sys.stderr)
        return 1
    print(f"{args.id}: {'due again' if args.deliveries_command == 'retry' else 'discarded'}")
    return 0
