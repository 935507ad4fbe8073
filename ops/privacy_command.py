"""`lotse privacy export|erase|purge`: a person's DSGVO rights, and the retention purge.

`export` prints (or writes with `--out`) everything Lotse holds about a person, found
by email or phone number, as one JSON document (`privacy/export.py`); `erase`
erases it everywhere (`privacy/erasure.py`, with VACUUM) and prints only counts
(exit 1 if a database file was kept in use and is not scrubbed yet); both are
audited with `--by` as who asked, as the console's admin export and erasure are with
the admin's login. `purge` deletes what is past its retention period
(`bot/data/retention.yml`, `privacy/purge.py`), once or every `--every` seconds.
The stores are the configured ones (`privacy/personal_stores.py`).
"""

from __future__ import annotations

import argparse
import sys
import time
from datetime import datetime, timezone
from pathlib import Path

from privacy.erasure import DataErasure
from privacy.export import DataExport, as_text
from privacy.purge import DataPurge
from privacy.retention import load_retention_policy
from wiring.services import services


def add_arguments(command: argparse.ArgumentParser) -> None:
    actions = command.add_subparsers(dest="privacy_command", required=True, metavar="ACTION")
    export = actions.add_parser("export", help="everything about a person as JSON (Art. 15/20)")
    erase = actions.add_parser("erase", help="erase a person everywhere (Art. 17)")
    for action in (export, erase):
        who = action.add_mutually_exclusive_group(required=True)
        who.add_argument("--email")
        who.add_argument("--phone")
        action.add_argument("--by", default="operator", help="who asked (kept in the audit)")
    export.add_argument("--out", type=Path, help="write to this file (default: print)")
    purge = actions.add_parser("purge", help="delete what is past its retention period")
    purge.add_argument("--dry-run", action="store_true", help="count, delete nothing")
    purge.add_argument("--every", type=float, metavar="SECONDS",
                       help="run again every SECONDS until stopped (lotse run: daily)")  # fmt: skip


def run(args: argparse.Namespace) -> int:
    stores = services().personal_stores
    if args.privacy_command == "purge":
        return _purge(DataPurge(stores, load_retention_policy()), args)
    if args.privacy_command == "erase":
        erased = DataErasure(stores, vacuum=True).erase(email=args.email, phone=args.phone,
                                                         requested_by=args.by)  # fmt: skip
        if not erased.leads and not erased.mails:
            return _nobody()
        print(f"erased: {erased.leads} lead(s), {erased.conversations} conversation(s), "
              f"{erased.mails} email(s) in the mail folder")  # fmt: skip
        if erased.busy:
            print(f"lotse: erased, but {', '.join(erased.busy)} was kept in use and is not "
                  "scrubbed yet: `lotse privacy purge` finishes it", file=sys.stderr)  # fmt: skip
            return 1
        return 0
    document = DataExport(stores).export(email=args.email, phone=args.phone, requested_by=args.by)
    if not document["leads"]:
        return _nobody()
    text = as_text(document)
    if args.out:
        args.out.write_text(text + "\n", encoding="utf-8")
        print(f"written: {args.out} ({len(document['leads'])} lead(s))")
    else:
        print(text)
    return 0


def _nobody() -> int:
    print("lotse: nobody with that email or phone in the CRM store", file=sys.stderr)
    return 1


def _purge(purge: DataPurge, args: argparse.Namespace) -> int:
    while True:
        try:
            done = purge.run(datetime.now(timezone.utc), dry_run=args.dry_run)
        except Exception as error:  # noqa: BLE001 - a daily job: try again at the next round
            if not args.every:
                raise
            print(f"lotse privacy purge: failed ({type(error).__name__}); next round in "
                  f"{args.every} s", file=sys.stderr, flush=True)  # fmt: skip
        else:
            verb = "due" if args.dry_run else "purged"
            leads = ", ".join(f"{n} {reason}" for reason, n in sorted(done.leads.items())) or "0"
            print(f"{verb}: leads {leads}; transcripts {done.transcripts}; "
                  f"handoff messages {done.handoff_messages}; "
                  f"conversation events {done.conversation_events}", flush=True)  # fmt: skip
            if done.busy:
                print(f"lotse privacy purge: {', '.join(done.busy)} still in use, not fully "
                      "scrubbed; next round tries again", file=sys.stderr, flush=True)  # fmt: skip
        if not args.every:
            return 0
        time.sleep(args.every)


if __name__ == "__main__":
    command = argparse.ArgumentParser(prog="lotse privacy")
    add_arguments(command)
    sys.exit(run(command.parse_args()))
