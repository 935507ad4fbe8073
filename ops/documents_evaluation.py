"""Held-out evaluation of the answers from documents (`make eval`, issue 20).

Reads `tests/documents_heldout/{dev,test}.yml`: questions written apart from the
documents' wording and from the vocabulary, `answerable` ones with the facts the answer
must quote (`expect`) and the document (`source`), `unanswerable` ones the documents
do not answer (`faq`, if set, names the FAQ topic whose answer does answer it).

Each question goes through the trained model's NLU (the message reader decides between
an FAQ topic, the documents and the fallbacks) and, if sent to the documents, through
the answerer, as the bot would answer it:
- an answerable question counts as answered when the answer holds every expected
  fact and names the expected document (or an FAQ topic's answer holds the facts);
- an unanswerable one counts as honest when the bot says it does not know (the
  documents hold nothing, or the NLU's fallbacks), or gives the FAQ topic `faq` names.
"""

from __future__ import annotations

import asyncio
import time
from dataclasses import dataclass, field
from pathlib import Path

import yaml

from dialogue.content import FAQ_INTENT_PREFIX, load_content

CORPUS = Path(__file__).resolve().parents[1] / "tests" / "documents_heldout"
DOCUMENT_INTENT = "document_question"


@dataclass(frozen=True)
class Outcome:
    question: str
    language: str
    answerable: bool
    good: bool
    intent: str
    reply: str  # what the bot would say (the answer, a topic's key, or nothing)


@dataclass
class DocumentsReport:
    outcomes: list[Outcome] = field(default_factory=list)
    retrieval_ms: list[float] = field(default_factory=list)

    def share(self, answerable: bool, language: str | None = None) -> float:
        picked = [o for o in self.outcomes if o.answerable == answerable
                  and (language is None or o.language == language)]  # fmt: skip
        return sum(o.good for o in picked) / len(picked) if picked else 0.0

    def p95_ms(self) -> float:
        times = sorted(self.retrieval_ms)
        return times[min(len(times) - 1, int(len(times) * 0.95))] if times else 0.0


def load_corpus(split: str, directory: Path = CORPUS) -> dict:
    return yaml.safe_load((directory / f"{split}.yml").read_text(encoding="utf-8"))


def evaluate(model: Path, split: str) -> DocumentsReport:
    import logging

    from rasa.core.agent import Agent
    from rasa.utils.log_utils import configure_structlog

    from wiring.services import services

    configure_structlog(logging.WARNING)  # Rasa's debug log would print every text
    agent = Agent.load(str(model))
    corpus = load_corpus(split)
    answers = {key: {lang: text for lang, text in t.answer.items()}
               for key, t in load_content().topics.items()}  # fmt: skip
    documents = services().documents
    result = DocumentsReport()

    async def run() -> None:
        for answerable, items in ((True, corpus["answerable"]), (False, corpus["unanswerable"])):
            for item in items:
                question, language = item["q"], item["lang"]
                parsed = await agent.parse_message(question)
                intent = parsed["intent"]["name"]
                reply, source = "", None
                if intent == DOCUMENT_INTENT:
                    started = time.perf_counter()
                    found = documents.answer(question, language)
                    result.retrieval_ms.append(1000 * (time.perf_counter() - started))
                    if found is not None:
                        reply, source = found.text, found.source.document
                elif intent.startswith(FAQ_INTENT_PREFIX):
                    topic = intent[len(FAQ_INTENT_PREFIX):]
                    reply, source = answers.get(topic, {}).get(language, ""), "faq:" + topic
                good = _judge(item, answerable, reply, source)
                result.outcomes.append(Outcome(question, language, answerable, good, intent,
                                               reply))  # fmt: skip

    asyncio.run(run())
    return result


def _judge(item: dict, answerable: bool, reply: str, source: str | None) -> bool:
    if answerable:
        facts = all(fact in reply for fact in item["expect"])
        return facts and (source == item["source"] or (source or "").startswith("faq:"))
    if source is None:
        return True  # "I do not know, shall I ask a colleague?"
    return item.get("faq") is not None and source == "faq:" + item["faq"]


def format_documents_report(name: str, report: DocumentsReport) -> str:
    lines = [f"== answers from documents, {name} =="]
    for language in ("de", "en", None):
        label = language or "both"
        lines.append(f"{label}: answered right {report.share(True, language):.1%}, "
                     f"honest on unanswerable {report.share(False, language):.1%}")  # fmt: skip
    lines.append(f"retrieval per question: p95 {report.p95_ms():.1f} ms "
                 f"({len(report.retrieval_ms)} searches)")  # fmt: skip
    for o in report.outcomes:
        if not o.good:
            kind = "MISS" if o.answerable else "NOT HONEST"
            lines.append(f"  {kind} [{o.language}] {o.question!r} -> {o.intent}: {o.reply[:80]!r}")
    return "\n".join(lines)
