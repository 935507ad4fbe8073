"""`lotse`: the operators' command line.

Starts fast: a command imports what it needs when it runs, so `lotse --help` and
`lotse leads list` load neither Rasa nor spaCy (whose thinc loads TensorFlow), and a
command's arguments are defined only when that command is asked for. TensorFlow's
C++ log lines and third-party deprecation warnings stay off the terminal.
"""

from __future__ import annotations

import argparse
import os
import signal
import sys
import warnings
from collections.abc import Callable
from importlib import import_module
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from lotse.settings import Settings
    from ops.runner import Stack


def config_errors() -> tuple[type[Exception], ...]:
    """The errors of a wrong setting or content file: the message is all one needs."""
    from crm_adapter.delivery import ConnectorConfigError
    from crm_adapter.scoring_model import ScoringModelError
    from dialogue.content import ContentError
    from dialogue.qualification.questions import QuestionnaireError
    from dialogue.qualification.replies import RepliesError
    from handoff.routing_model import RoutingModelError
    from lotse.settings import SettingsError

    return (ContentError, SettingsError, ScoringModelError, QuestionnaireError, RepliesError,
            ConnectorConfigError, RoutingModelError)  # fmt: skip


def quiet_third_parties() -> None:
    """No TensorFlow start-up lines and no other libraries' deprecation warnings."""
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
    for category in (DeprecationWarning, PendingDeprecationWarning, FutureWarning):
        warnings.filterwarnings("ignore", category=category)
    warnings.filterwarnings("ignore", module="rasa")
    warnings.filterwarnings("ignore", message=".*TensorRT.*")


def cmd_build(args: argparse.Namespace) -> int:
    from lotse.settings import load_settings
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
    from crm_adapter.crm_config import build_connectors, load_crm_config
    from lotse.settings import load_settings
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
    # A shell starts a background job with Ctrl-C ignored; Python then keeps ignoring it
    # while the children stop on it: the run would call their stop unexpected.
    signal.signal(signal.SIGINT, signal.default_int_handler)
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
            f"  Health and metrics:     /healthz, /readyz, /metrics on each of the above"
            f"{worker_ports(args, settings, bool(crm_targets))}\n"
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


def worker_ports(args: argparse.Namespace, settings: Settings, delivering: bool) -> str:
    """Where the processes without a web server of their own answer the same routes."""
    found = []
    if delivering:
        found.append(f"CRM delivery worker: port {settings.ops_port + 1}")
    if args.scaled:
        found.append(f"event consumer: port {settings.ops_port}")
        found.append(f"HAProxy's stats: http://127.0.0.1:{settings.rasa_port - 1}/")
    return f" ({'; '.join(found)})" if found else ""


def scaled_stack(settings: Settings, model: Path, replicas: int) -> Stack:
    """The scale-out profile; stops with a message naming what is unreachable."""
    from sqlalchemy.exc import OperationalError

    from lotse.settings import SettingsError
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


# The commands: name, help, handler, and the module whose `add_arguments(parser)` defines
# the command's own arguments (imported only when that command is asked for).
COMMANDS: list[tuple[str, str, Callable[[argparse.Namespace], int], str | None]] = [
    ("build", "validate content and write the derived files (spaCy pipelines, domain)",
     cmd_build, None),
    ("train", "train the model if its inputs changed", cmd_train, None),
    ("run", "start the bot, action server and demo website (Ctrl-C stops)", cmd_run, None),
    ("eval", "evaluate the NLU on held-out data (and cross-validation)", cmd_eval, None),
    ("eval-conversations",
     "simulated visitors hold the conversation corpus with the bot; print the figures",
     cmd_eval_conversations, "ops.eval_conversations_command"),
    ("handoffs", "list open and recent handoffs to people", cmd_handoffs, None),
    ("leads", "list, show, accept or reject leads in the CRM store", cmd_leads,
     "ops.leads_command"),
    ("staff", "add, list, disable or remove logins of the staff console", cmd_staff,
     "ops.staff_command"),
    ("privacy", "export or erase everything Lotse holds about a person (DSGVO)", cmd_privacy,
     "ops.privacy_command"),
    ("insights", "rebuild the insights dashboard's summaries from the conversation event log "
     "(after an upgrade, or after editing bot/data/experiments.yml)", cmd_insights, None),
    ("deliveries", "list, retry or discard CRM events that could not be delivered",
     cmd_deliveries, "ops.deliveries_command"),
    ("deliver", "send queued events to the CRMs configured in crm: (runs until stopped)",
     cmd_deliver, "ops.deliver_command"),
]  # fmt: skip


def parser(argv: list[str] | None = None) -> argparse.ArgumentParser:
    """The command line; the arguments of the command `argv` names (all of them when
    `argv` is None)."""
    root = argparse.ArgumentParser(
        prog="lotse", description="Lotse, the B2B sales assistant: operator commands."
    )
    sub = root.add_subparsers(dest="command", required=True, metavar="COMMAND")
    wanted = None if argv is None else next((a for a in argv if not a.startswith("-")), "")
    for name, help_text, handler, arguments in COMMANDS:
        command = sub.add_parser(name, help=help_text, description=help_text)
        command.set_defaults(handler=handler)
        _add_own_arguments(name, command)
        if arguments is not None and wanted in (None, name):
            import_module(arguments).add_arguments(command)
    return root


def _add_own_arguments(name: str, command: argparse.ArgumentParser) -> None:
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


def main(argv: list[str] | None = None) -> int:
    if argv is None:  # the process's own command line (tests call with theirs)
        quiet_third_parties()
        argv = sys.argv[1:]
    args = parser(argv).parse_args(argv)
    try:
        return args.handler(args)
    except Exception as exc:
        from crm_adapter.port import CrmError

        if isinstance(exc, config_errors()):
            print(f"lotse: {exc}", file=sys.stderr)
            return 2
        if isinstance(exc, CrmError):
            print(f"lotse: the CRM store failed: {exc}", file=sys.stderr)
            return 1
        raise


if __name__ == "__main__":
    sys.exit(main())
