"""`lotse`: the operators' command line."""

from __future__ import annotations

import argparse
import signal
import sys
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING

from crm_adapter.crm_config import build_connectors, load_crm_config
from crm_adapter.delivery import ConnectorConfigError
from crm_adapter.port import CrmError
from crm_adapter.scoring_model import ScoringModelError
from dialogue.content import ContentError
from dialogue.qualification.questions import QuestionnaireError
from dialogue.qualification.replies import RepliesError
from lotse.settings import Settings, SettingsError, load_settings

if TYPE_CHECKING:
    from ops.runner import Stack

CONFIG_ERRORS = (
    ContentError, SettingsError, ScoringModelError, QuestionnaireError, RepliesError,
    ConnectorConfigError,
)  # fmt: skip


def cmd_build(args: argparse.Namespace) -> int:
    from ops.build import build
    from ops.documents_report import index_company_documents, report_lines

    content = build()
    print(
        f"content valid: {len(content.topics)} topics, {len(content.pages)} pages; "
        "derived files written to build/"
    )
    settings = load_settings()
    report = index_company_documents(settings)
    print("\n".join(report_lines(report, settings.files.documents_dir)))
    return 0  # an unreadable document is named; the others answer all the same


def cmd_train(args: argparse.Namespace) -> int:
    from ops.training import ensure_model

    print(ensure_model(force=args.force))
    return 0


def _interrupt(signum: int, frame: object) -> None:
    """SIGTERM stops `lotse run` the same way Ctrl-C does."""
    raise KeyboardInterrupt


def demo_logins(database_url: str) -> list[tuple[str, str]]:
    """On the very first start, logins for the demo company's staff (else none)."""
    from ops.staff_command import ensure_demo_staff
    from wiring.services import services_for

    return ensure_demo_staff(services_for(database_url).staff)


def cmd_run(args: argparse.Namespace) -> int:
    from ops.documents_report import index_company_documents, report_lines
    from ops.runner import Stack
    from ops.training import ensure_model
    from wiring.services import services_for

    settings = load_settings()
    crm_targets = [c.name for c in build_connectors(load_crm_config())]  # a mistake stops here
    model = ensure_model()
    stack = scaled_stack(settings, model, args.replicas) if args.scaled else Stack(settings, model)
    settings = stack.settings  # the scaled profile's database is PostgreSQL
    services_for(settings.database_url)  # the schema up to date before anyone writes
    documents = index_company_documents(settings)
    print("\n".join(report_lines(documents, settings.files.documents_dir)))
    logins = demo_logins(settings.database_url)
    channels = stack.channels()  # a malformed credentials.yml stops here
    signal.signal(signal.SIGTERM, _interrupt)
    try:
        stack.start()
        print("starting action server, Rasa server and demo website...", flush=True)
        stack.wait_ready()
        profile = f"scaled, {args.replicas} Rasa replicas" if args.scaled else "embedded"
        print(
            f"\nLotse is running ({profile}).\n"
            f"  Demo website with chat: http://{settings.host}:{settings.web_port}/\n"
            f"  Rasa REST channel:      {settings.rasa_url}/webhooks/rest/webhook\n"
            f"  Staff console:          http://{settings.host}:{settings.console_port}/console/\n"
            f"  Channels:               {', '.join(channels)}\n"
            f"  CRM delivery:           {', '.join(crm_targets) or 'none configured'}\n"
            f"Press Ctrl-C to stop.\n",
            flush=True,
        )
        if logins:
            print("First start: demo staff logins (shown once; `lotse staff` manages them):")
            for username, password in logins:
                print(f"  {username:<8} {password}")
            print(flush=True)
        stopped = stack.watch()
        print(f"{stopped} stopped unexpectedly; shutting down.", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        print("\nstopping...", flush=True)
        return 0
    finally:
        stack.stop()


def scaled_stack(settings: Settings, model: Path, replicas: int) -> Stack:
    """The scale-out profile; stops with a message naming what is unreachable."""
    from sqlalchemy.exc import OperationalError

    from ops.scaled_stack import ScaledStack

    stack = ScaledStack(settings, model, replicas=replicas)
    try:
        stack.services.ensure_database()
    except OperationalError as error:
        raise SettingsError(
            "the scaled profile needs PostgreSQL at "
            f"{stack.services.values['LOTSE_PG_HOST']}:{stack.services.values['LOTSE_PG_PORT']} "
            f"(LOTSE_PG_HOST, LOTSE_PG_PORT): {type(error.orig).__name__}"
        ) from error
    return stack


def cmd_eval(args: argparse.Namespace) -> int:
    from ops.eval_command import run_eval

    return run_eval(cross_validation=not args.no_cross_validation, folds=args.folds)


def cmd_eval_conversations(args: argparse.Namespace) -> int:
    from ops.eval_conversations_command import run_eval_conversations

    return run_eval_conversations(args.set, args.only, args.jobs)


def cmd_handoffs(args: argparse.Namespace) -> int:
    from wiring.services import services

    store = services().handoffs
    rows = store.open_handoffs() + store.recent_closed(args.limit)
    for h in sorted(rows, key=lambda h: h.id, reverse=True)[: args.limit]:
        stamp = h.requested_at.isoformat(timespec="seconds")
        print(
            f"{stamp}  {h.state:<8} {h.reason:<15} {h.language}  {h.team:<8} "
            f"{h.assignee or '-':<8} {h.rule or '-':<22} {h.channel or '-':<8} {h.conversation_id}"
        )
    return 0


def cmd_leads(args: argparse.Namespace) -> int:
    from ops.leads_command import run

    return run(args)


def cmd_deliveries(args: argparse.Namespace) -> int:
    from ops.deliveries_command import run

    return run(args)


def cmd_deliver(args: argparse.Namespace) -> int:
    from ops.deliver_command import run

    return run(args)


def cmd_privacy(args: argparse.Namespace) -> int:
    from ops.privacy_command import run

    return run(args)


def cmd_insights(args: argparse.Namespace) -> int:
    """`lotse insights rebuild`: the dashboard's summaries anew from the event log."""
    from wiring.services import services

    rebuilt = services().event_log.rebuild_summaries()
    print(f"insights: summaries of {rebuilt} conversation(s) rebuilt from the event log")
    return 0


def cmd_staff(args: argparse.Namespace) -> int:
    from ops.staff_command import run

    return run(args)


def parser() -> argparse.ArgumentParser:
    root = argparse.ArgumentParser(
        prog="lotse", description="Lotse, the B2B sales assistant: operator commands."
    )
    sub = root.add_subparsers(dest="command", required=True, metavar="COMMAND")
    commands: list[tuple[str, str, Callable[[argparse.Namespace], int]]] = [
        (
            "build",
            "validate content and write the derived files (spaCy pipelines, domain)",
            cmd_build,
        ),
        ("train", "train the model if its inputs changed", cmd_train),
        ("run", "start the bot, action server and demo website (Ctrl-C stops)", cmd_run),
        ("eval", "evaluate the NLU on held-out data (and cross-validation)", cmd_eval),
        (
            "eval-conversations",
            "simulated visitors hold the conversation corpus with the bot; print the figures",
            cmd_eval_conversations,
        ),
        ("handoffs", "list open and recent handoffs to people", cmd_handoffs),
        ("leads", "list, show, accept or reject leads in the CRM store", cmd_leads),
        ("staff", "add, list, disable or remove logins of the staff console", cmd_staff),
        ("privacy", "export or erase everything Lotse holds about a person (DSGVO)", cmd_privacy),
        (
            "insights",
            "rebuild the insights dashboard's summaries from the conversation event log "
            "(after an upgrade, or after editing bot/data/experiments.yml)",
            cmd_insights,
        ),
        (
            "deliveries",
            "list, retry or discard CRM events that could not be delivered",
            cmd_deliveries,
        ),
        (
            "deliver",
            "send queued events to the CRMs configured in crm: (runs until stopped)",
            cmd_deliver,
        ),  # fmt: skip
    ]
    for name, help_text, handler in commands:
        command = sub.add_parser(name, help=help_text, description=help_text)
        command.set_defaults(handler=handler)
        if name == "run":
            command.add_argument(
                "--scaled", action="store_true",
                help="the scale-out profile: replicas on PostgreSQL, Redis, RabbitMQ",
            )  # fmt: skip
            command.add_argument("--replicas", type=int, default=2, help="with --scaled")
        if name == "train":
            command.add_argument("--force", action="store_true", help="train even if current")
        if name == "eval":
            command.add_argument("--no-cross-validation", action="store_true")
            command.add_argument("--folds", type=int, default=3)
        if name == "insights":
            actions = command.add_subparsers(dest="insights_command", required=True)
            actions.add_parser("rebuild", help="every conversation's summaries anew")
        if name == "handoffs":
            command.add_argument("--limit", type=int, default=50)
        if name == "eval-conversations":
            from ops.eval_conversations_command import add_arguments as add_eval_arguments

            add_eval_arguments(command)
        if name == "leads":
            from ops.leads_command import add_arguments

            add_arguments(command)
        if name == "staff":
            from ops.staff_command import add_arguments as add_staff_arguments

            add_staff_arguments(command)
        if name == "deliveries":
            from ops.deliveries_command import add_arguments as add_delivery_arguments

            add_delivery_arguments(command)
        if name == "privacy":
            from ops.privacy_command import add_arguments as add_privacy_arguments

            add_privacy_arguments(command)
        if name == "deliver":
            from ops.deliver_command import add_arguments as add_deliver_arguments

            add_deliver_arguments(command)
    return root


def main(argv: list[str] | None = None) -> int:
    args = parser().parse_args(argv)
    try:
        return args.handler(args)
    except CONFIG_ERRORS as exc:
        print(f"lotse: {exc}", file=sys.stderr)
        return 2
    except CrmError as exc:
        print(f"lotse: the CRM store failed: {exc}", file=sys.stderr)
        return 1


if __name__ == "__main__":
    sys.exit(main())
