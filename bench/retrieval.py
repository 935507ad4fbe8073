"""The retrieval's own time per question (issue 20): the demo documents indexed into a
temporary SQLite database (FTS5), then every question of the documents' held-out dev
set answered 20 times; prints p50, p95 and max in ms (target: p95 under 30 ms), and the
same on PostgreSQL when it is reachable (LOTSE_TEST_POSTGRES_URL's server)."""

from __future__ import annotations

import os
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from knowledge.answering import DocumentAnswerer  # noqa: E402
from knowledge.index import passage_index  # noqa: E402
from knowledge.library import index_documents  # noqa: E402
from knowledge.matching import load_matcher  # noqa: E402
from lotse.migrate import migrate, migrated_engine  # noqa: E402
from lotse.settings import ROOT  # noqa: E402
from ops.documents_evaluation import load_corpus  # noqa: E402

ROUNDS = 20


def timings(url: str, questions: list[tuple[str, str]]) -> list[float]:
    migrate(url)
    engine = migrated_engine(url)
    matcher = load_matcher()
    index = passage_index(engine)
    index_documents(ROOT / "bot" / "data" / "documents", index, matcher)
    answerer = DocumentAnswerer(index, matcher)
    for question, language in questions:  # warm: caches, the database's pages
        answerer.answer(question, language)
    found = []
    for _ in range(ROUNDS):
        for question, language in questions:
            started = time.perf_counter()
            answerer.answer(question, language)
            found.append(1000 * (time.perf_counter() - started))
    engine.dispose()
    return sorted(found)


def line(name: str, times: list[float]) -> str:
    def at(q: float) -> float:
        return times[min(len(times) - 1, int(len(times) * q))]

    return (f"{name:<10} questions={len(times):<5} p50={at(0.5):6.1f}ms p95={at(0.95):6.1f}ms "
            f"max={times[-1]:6.1f}ms (target: p95 < 30 ms)")  # fmt: skip


def main() -> None:
    corpus = load_corpus("dev")
    questions = [(i["q"], i["lang"]) for i in corpus["answerable"] + corpus["unanswerable"]]
    with tempfile.TemporaryDirectory(prefix="lotse-retrieval-") as tmp:
        print(line("sqlite", timings(f"sqlite:///{Path(tmp) / 'bench.db'}", questions)))
    postgres = os.environ.get("LOTSE_TEST_POSTGRES_URL", "postgresql://postgres@127.0.0.1:5432/test")
    try:
        from tests.integration.test_crm_store import postgres_database

        with postgres_database() as url:
            print(line("postgresql", timings(url, questions)))
    except KeyboardInterrupt:
        raise
    except BaseException as error:  # noqa: BLE001 - no server (a test's skip): SQLite alone
        print(f"postgresql: not measured ({type(error).__name__}) at {postgres.split('@')[-1]}")


if __name__ == "__main__":
    main()
