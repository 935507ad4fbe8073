"""`lotse leads`: list, show, accept and reject leads in the configured CRM store.

Each subcommand prints a table or text for people, or JSON with `--json` (the fields
`fit`, `interest`, `stage` and `answers` at least). The store is the one
LOTSE_DATABASE_URL names (SQLite by default, PostgreSQL by URL). Output contains
personal data of leads: it is meant for sales staff.
"""

from __future__ import annotations

import argparse
import json
import sys
from datetime import datetime, timezone

from crm_adapter import lifecycle
from crm_adapter.explanation import lead_report, report_lines
from crm_adapter.port import CrmPort, Lead, Visit
from crm_adapter.scoring_model import load_scoring_model
from crm_adapter.verdict import give_verdict
from wiring.services import services

MAX_ID_CHARS = 128  # the store's id length


def add_arguments(command: argparse.ArgumentParser) -> None:
    actions = command.add_subparsers(dest="leads_command", required=True, metavar="ACTION")
    listing = actions.add_parser("list", help="leads by stage, then fit and interest")
    listing.add_argument("--stage", choices=lifecycle.STAGES, help="only leads at this stage")
    show = actions.add_parser("show", help="one lead: answers, score explanation, consent")
    show.add_argument("email", nargs="?", help="the lead's email address")
    show.add_argument(
        "--conversation", metavar="ID",
        help="the lead of this conversation instead (a lead without an email, e.g. no consent)",
    )  # fmt: skip
    for name in ("accept", "reject"):
        verdict = actions.add_parser(name, help=f"sales {name}s a lead, with a reason")
        verdict.add_argument("email")
        verdict.add_argument("--reason", required=True)
        verdict.add_argument("--by", default="sales", help="who decides (kept with the verdict)")
    for sub in (listing, show, *[actions.choices[n] for n in ("accept", "reject")]):
        sub.add_argument("--json", action="store_true", help="machine-readable output")


def run(args: argparse.Namespace) -> int:
    crm = services().crm
    now = datetime.now(timezone.utc)
    if args.leads_command == "list":
        return _list(crm, args, now)
    if args.leads_command == "show" and args.conversation:
        lead = lead_of_conversation(crm, args.conversation)
        if lead is None:
            print("lotse: no lead for that conversation", file=sys.stderr)
            return 1
        return _show(lead, args, now)
    if not args.email:
        print("lotse: give the lead's email (or --conversation ID)", file=sys.stderr)
        return 2
    lead = crm.find_by_email(args.email)
    if lead is None:
        print(f"lotse: no lead with the email {args.email!r}", file=sys.stderr)
        return 1
    if args.leads_command == "show":
        return _show(lead, args, now)
    return _verdict(crm, lead, args, now)


def lead_of_conversation(crm: CrmPort, conversation_id: str) -> Lead | None:
    """The lead a conversation belongs to (by its id, on any channel); None if none."""
    return crm.find_lead(Visit(conversation_id[:MAX_ID_CHARS], "any"))


def shown_lead(lead: Lead, now: datetime) -> dict:
    """What `lotse leads show --json` prints for a lead."""
    return lead_report(lead, load_scoring_model(), now)


def _summary(lead: Lead, now: datetime) -> dict:
    report = lead_report(lead, load_scoring_model(), now)
    keys = ("email", "name", "stage", "fit", "interest", "answers")
    return {key: report[key] for key in keys}


def _list(crm: CrmPort, args: argparse.Namespace, now: datetime) -> int:
    rows = [_summary(lead, now) for lead in crm.leads(args.stage)]
    rows.sort(key=lambda r: (-lifecycle.rank(r["stage"]), -(r["fit"] or 0), -r["interest"]))
    if args.json:
        print(json.dumps(rows, ensure_ascii=False, indent=2))
        return 0
    print(f"{'stage':<27} {'fit':>4} {'interest':>8}  email")
    for row in rows:
        fit = "-" if row["fit"] is None else row["fit"]
        print(f"{row['stage'] or '-':<27} {fit:>4} {row['interest']:>8}  {row['email']}")
    return 0


def _show(lead: Lead, args: argparse.Namespace, now: datetime) -> int:
    report = shown_lead(lead, now)
    print(
        json.dumps(report, ensure_ascii=False, indent=2)
        if args.json
        else "\n".join(report_lines(report))
    )
    return 0


def _verdict(crm: CrmPort, lead: Lead, args: argparse.Namespace, now: datetime) -> int:
    if not " ".join(args.reason.split()):
        print("lotse: --reason must not be empty", file=sys.stderr)
        return 2
    try:
        updated = give_verdict(
            crm, lead, args.leads_command, args.reason, args.by, load_scoring_model(), now
        )
    except ValueError as error:
        print(f"lotse: {error}", file=sys.stderr)
        return 1
    result = _summary(updated, now)
    if args.json:
        print(json.dumps(result, ensure_ascii=False, indent=2))
    else:
        print(f"{updated.email}: {args.leads_command}ed, stage {updated.stage}")
    return 0
