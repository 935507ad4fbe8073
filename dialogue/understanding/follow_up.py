"""Elliptical follow-ups: "und die große?", "and how long for that one?".

Contract: `looks_like_follow_up(words)` is True for a short message (at most
`follow_up.max_words` words) that begins with a continuation ("und", "and", "what
about") or refers back ("die große", "that one"). `follow_up_answer(...)` decides what
answers it: the topic the message names, else the previous answer's topic; the product
the message names (by name or by the words of `products` in `content/faq.yml`: "die
große" is the P800), else the previous product; a topic asked of another product line
is that line's topic ("und was kostet das?" after the software). Pure.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass

from dialogue.understanding.conversation_words import conversation_words
from dialogue.understanding.patterns import Phrase, first_match


def looks_like_follow_up(words: Sequence[str]) -> bool:
    lexicon = conversation_words()
    if not words or len(words) > lexicon.follow_up_max_words:
        return False
    for phrase in lexicon.follow_up_continue:
        if phrase.find(list(words[: len(phrase.words)])) == (0, len(phrase.words)):
            return True
    return first_match(lexicon.follow_up_refer, words) is not None


def says_more(words: Sequence[str], products: dict[str, tuple[Phrase, ...]]) -> bool:
    """Whether the follow-up says more than "and that one?": words beyond the
    continuation, the reference, the product and fillers ("und wie lange dauert die
    Lieferung dafür?" names a topic of its own; "und die große?" does not)."""
    lexicon = conversation_words()
    taken = [False] * len(words)
    phrases = [*lexicon.follow_up_continue, *lexicon.follow_up_refer, *lexicon.fillers,
               *lexicon.follow_up_generic,
               *(p for group in products.values() for p in group)]  # fmt: skip
    for phrase in phrases:
        start = 0
        while (found := phrase.find(words, start)) is not None:
            first, end = found
            for i in range(first, end):
                taken[i] = True
            start = first + 1
    return not all(taken)


@dataclass(frozen=True)
class FollowUp:
    topic: str
    product: str | None


def named_product_in(words: Sequence[str], products: dict[str, tuple[Phrase, ...]]) -> str | None:
    """The product the words name, by its name or its words ("die größte" -> P800)."""
    best: tuple[int, str] | None = None
    for product, phrases in products.items():
        found = first_match((*phrases,), words)
        if found is not None and (best is None or found[1] < best[0]):
            best = (found[1], product)
    return best[1] if best else None


def follow_up_answer(
    words: Sequence[str],
    products: dict[str, tuple[Phrase, ...]],
    named_topic: str | None,
    previous: FollowUp | None,
    *,
    entity_product: str | None = None,
    named_line: str | None = None,
    line_of: Callable[[str | None, str | None], str | None] = lambda topic, product: None,
    on_line: Callable[[str, str | None], str] = lambda topic, line: topic,
) -> FollowUp | None:
    """What answers the follow-up, or None when there is nothing to follow up on.

    The topic is the one the message names, else the previous one; the product the one
    the message names, else the previous one. A topic asked of another product line
    becomes that line's topic (`on_line`: "und was kostet das?" after the software is
    the software's price; "und die P800?" after the software's price, the presses').
    """
    named_product = entity_product or named_product_in(words, products)
    topic = named_topic or (previous.topic if previous else None)
    if topic is None:
        return None
    product = named_product or (previous.product if previous else None)
    if named_product is not None:
        line = line_of(None, named_product)
    elif named_line is not None:
        line = named_line  # "what about the presses?" after the software's price
    elif previous is not None:
        line = line_of(previous.topic, previous.product)
    else:
        line = None
    return FollowUp(on_line(topic, line), product)
