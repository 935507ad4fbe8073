"""`lotse eval-conversations`: the conversation evaluation against a running Lotse.

Starts Lotse (trained model, embedded profile) on ports of its own with a fresh store
in a temporary folder, in office hours on its clock, without rate limits; runs the
corpus (`ops.conversation_eval`); prints the figures and every miss; stops it.
`--set dev|test|all` picks the files, `--only ID` conversations, `--jobs N` how many
visitors talk at once. Exit code 0 unless the run itself fails: the figures are
judged by the suite's floors (`tests/e2e/test_eval_conversations.py`).
"""

from __future__ import annotations

import argparse
import tempfile
from datetime import datetime, timezone
from functools import lru_cache
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import requests
import yaml

from dialogue.content import load_content
from dialogue.experiments import load_experiments
from dialogue.qualification.questions import load_questionnaire
from dialogue.qualification.replies import reply_texts
from lotse.settings import Settings
from ops.build import GENERATED_DOMAIN
from ops.conversation_corpus import Conversation, corpus_files, load_corpus
from ops.conversation_eval import Scored, evaluate, format_results
from ops.leads_command import lead_of_conversation, shown_lead
from ops.runner import Stack
from ops.simulated_visitor import BotTexts, Sender
from ops.training import ensure_model
from wiring.services import services_for

IN_OFFICE_HOURS = datetime(2026, 11, 24, 10, 0, tzinfo=ZoneInfo("Europe/Berlin"))  # a Tuesday
PORTS = {"rasa": 26005, "action": 26055, "web": 26080, "console": 26090}
REQUEST_TIMEOUT_SECONDS = 60


def add_arguments(command: argparse.ArgumentParser) -> None:
    command.add_argument("--set", default="all", choices=("dev", "test", "all"))
    command.add_argument("--only", action="append", metavar="ID", help="only this conversation")
    command.add_argument("--jobs", type=int, default=4, help="visitors talking at once")


def corpus(which: str = "all", only: list[str] | None = None) -> list[Conversation]:
    questionnaire = load_questionnaire()
    conversations = load_corpus(corpus_files(which), questionnaire.keys, load_content().topics)
    return [c for c in conversations if not only or c.id in only]


@lru_cache(maxsize=1)
def bot_texts() -> BotTexts:
    domain = yaml.safe_load(GENERATED_DOMAIN.read_text(encoding="utf-8"))
    return BotTexts.of(load_questionnaire(), reply_texts(), load_content(), load_experiments(),
                       domain.get("responses") or {})  # fmt: skip


def optional_questions() -> frozenset[str]:
    return frozenset(q.key for q in load_questionnaire().questions if q.optional)


def rest_sender(rasa_url: str) -> Sender:
    session = requests.Session()

    def send_as(sender: str, text: str, metadata: dict[str, Any]) -> list[dict[str, Any]]:
        answer = session.post(
            f"{rasa_url}/webhooks/rest/webhook",
            json={"sender": sender, "message": text, "metadata": metadata},
            timeout=REQUEST_TIMEOUT_SECONDS,
        )
        answer.raise_for_status()
        return answer.json()

    return send_as


def lead_reader(database_url: str):  # noqa: ANN201 - a LeadOf
    store = services_for(database_url).crm

    def lead_of(conversation_id: str) -> dict[str, Any] | None:
        lead = lead_of_conversation(store, conversation_id)
        return None if lead is None else shown_lead(lead, datetime.now(timezone.utc))

    return lead_of


def run_against(settings: Settings, conversations: list[Conversation], jobs: int) -> list[Scored]:
    """The corpus against a stack that runs already (the suite's, or our own)."""
    return evaluate(conversations, bot_texts(), rest_sender(settings.rasa_url),
                    lead_reader(settings.database_url), optional_questions(), jobs)  # fmt: skip


def run_eval_conversations(which: str = "all", only: list[str] | None = None,
                           jobs: int = 4) -> int:  # fmt: skip
    conversations = corpus(which, only)
    with tempfile.TemporaryDirectory(prefix="lotse-eval-") as folder:
        data_dir = Path(folder)
        clock = data_dir / "clock"
        clock.write_text(IN_OFFICE_HOURS.isoformat(), encoding="utf-8")
        settings = Settings(
            database_url=f"sqlite:///{data_dir / 'lotse.db'}", rasa_port=PORTS["rasa"],
            action_port=PORTS["action"], web_port=PORTS["web"], host="127.0.0.1",
            console_port=PORTS["console"],
        )  # fmt: skip
        stack = Stack(
            settings, ensure_model(), data_dir=data_dir, log_file=data_dir / "stack.log",
            extra_env={"LOTSE_TEST_CLOCK_FILE": str(clock), "LOTSE_RATE_VISITOR": "off",
                       "LOTSE_RATE_IP": "off", "LOTSE_RATE_ISSUE": "off",
                       "LOTSE_RATE_CONVERSATION": "off"},
        )  # fmt: skip
        stack.start()
        try:
            stack.wait_ready()
            print(f"running {len(conversations)} conversations with {jobs} visitors at once...")
            results = run_against(settings, conversations, jobs)
        finally:
            stack.stop()
    print(format_results(results))
    return 0
