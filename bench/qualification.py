"""Throughput and p95 with the qualification running, against issue 2's figures.

Usage: .venv/bin/python bench/qualification.py [--concurrency 10 50] [--messages 20]

In one run: the bare `rasa init` baseline and Lotse with the product-question mix (the
figures of bench/latency.py), then Lotse with every visitor going through a whole
German qualification (offer accepted, ten answers, consent, summary: each turn
reads and writes the CRM store) and starting again. Prints p50/p95/p99, messages per
second and the ratios to both. Target (issue 3): with qualification, throughput still
>= 1.0x the bare bot's. Prints figures; asserts nothing.
"""

from __future__ import annotations

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench.latency import measure, parse_args  # noqa: E402
from bench.load import faq_script  # noqa: E402

QUALIFICATION = [
    "Was kostet eine P400?",
    "Ja",  # the need is the presses of the price question
    "Müller Metallbau GmbH",
    "rund 60 Leute",
    "Metallbau",
    "Geschäftsführer",
    "33602 Bielefeld",
    "in zwei Monaten",
    "Ja",
    "Anna Muster",
    "{email}",
    "Ja, passt",
]


def qualification_script(number: int, i: int) -> tuple[str, str]:
    text = QUALIFICATION[i % len(QUALIFICATION)]
    return "de", text.format(email=f"bench.{number}.{i // len(QUALIFICATION)}@metall.example")


def main() -> None:
    args = parse_args(__doc__.splitlines()[0])
    scripts = {"faq": faq_script, "qualify": qualification_script}
    baseline, lotse = measure(args.concurrency, args.messages, scripts)
    print()
    for bare, faq, qualify in zip(baseline, lotse["faq"], lotse["qualify"], strict=True):
        print(bare.row("rasa-init"))
        print(faq.row("lotse-faq"))
        print(qualify.row("qualify"))
        print(qualify.kinds())
        print(
            f"{'ratio':<10} c={qualify.concurrency:<3} qualification throughput "
            f"x{qualify.throughput / bare.throughput:.2f} the bare bot's (target >= 1.0), "
            f"x{qualify.throughput / faq.throughput:.2f} Lotse's FAQ load; p95 "
            f"x{qualify.percentile(0.95) / bare.percentile(0.95):.2f} the bare bot's"
        )
        print()


if __name__ == "__main__":
    main()
