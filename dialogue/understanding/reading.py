"""What a visitor's message is, decided from the NLU's intent and the conversation rules.

`decide(text, intent, ...)` returns a `Decision`: the intent the dialogue acts on, and
the kind of request the message makes. In this order:

1. Intents the bot or its buttons send (`FIXED_INTENTS`) and "no" stay as they are.
   A withdrawal stands only when the words ask to erase or withdraw, and not as a
   question how to ("An wen wende ich mich, wenn ...?" is a data-protection question).
   A one-time code typed back (six digits and at most CODE_WORDS words, no question)
   is `CODE_INTENT`, checked against the code sent to an email address.
2. A request (`dialogue.understanding.requests`: a quote, demo, appointment, callback,
   purchase or trial) starts the enquiry: with a product question the NLU is sure of,
   that question keeps its intent and the request rides along (its answer first, then
   the questions); otherwise the intent becomes `REQUEST_INTENT`, whatever the
   greeting, thanks, language switch or misunderstanding the NLU saw. A question
   whether something exists ("Gibt es eine Testphase?") asks about it, not for it.
3. Small talk only (`dialogue.understanding.small_talk`) is greeting, thanks, goodbye or
   acknowledgement (taken as "yes": "alles klar" after an offer accepts it), never a
   misunderstanding or a product question. A question is never a yes or a no: it is
   the product question the NLU ranks next, or not understood.
4. A statement about the visitor's own company with facts ("Wir sind ein Metallbauer
   aus Linz mit 60 Leuten") is `INFORM_INTENT`: the facts are noted, the enquiry
   offered. `facts` is called only here (it runs the answer parsers).
5. A short message that continues the previous answer ("und die große?", "und was
   kostet das?") is `FOLLOW_UP_INTENT`, answered for the previous product or topic;
   not when the NLU is sure of a question whose answer is the same for every product.
6. A greeting, thanks or goodbye with more in the message ("Hallo, gibt es auch
   Förderbänder für schwere Teile?"), or a message the NLU did not understand that
   begins with a greeting, is the product question the NLU ranks next.
Otherwise the NLU's intent stands. Pure: no Rasa, no I/O.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass

from crm_adapter.identity_code import code_in
from dialogue.understanding.conversation_words import conversation_words
from dialogue.understanding.follow_up import looks_like_follow_up
from dialogue.understanding.patterns import first_match
from dialogue.understanding.questions import asks_how, asks_whether, is_question
from dialogue.understanding.requests import request_kind
from dialogue.understanding.small_talk import (
    greeting_end,
    leading_small_talk,
    small_talk_kind,
    small_talk_kinds,
)
from dialogue.understanding.words import words_of

REQUEST_INTENT = "request_enquiry"
INFORM_INTENT = "inform"
FOLLOW_UP_INTENT = "follow_up"
FALLBACK_INTENT = "nlu_fallback"
WITHDRAW_INTENT = "withdraw_consent"
SWITCH_INTENT = "switch_language"
FAQ_PREFIX = "faq_"
FIXED_INTENTS = frozenset({
    "erase_everything", "rate", "cancel_handoff", "handed_back", "handoff_timed_out",
    "request_callback", "request_meeting", "empty_message", "deny",
})  # fmt: skip
SMALL_TALK_INTENTS = {
    "greeting": "greet", "thanks": "thanks", "goodbye": "goodbye", "acknowledge": "affirm",
    "agree": "affirm", "refuse": "deny",
}  # fmt: skip
NOT_UNDERSTOOD = frozenset({FALLBACK_INTENT, "out_of_scope", "out_of_depth", "bot_challenge"})
"""What the NLU says of a message it could not place; small talk and facts replace it."""
POLITE = frozenset({"greet", "thanks", "goodbye"})
INTRODUCTION_REPLACES = NOT_UNDERSTOOD | POLITE
RANKED_FAQ_CONFIDENCE = 0.1
"""A greeting with a question: the question's topic is taken from the NLU's ranking
from this confidence on (the greeting took most of it)..."""
SAYS_ENOUGH = 4
"""...or whatever its confidence, when the message says this many words besides the
greeting: a product question is likelier than a greeting of that length."""
DATA_PROTECTION_INTENT = "faq_data_protection"
UNSURE = 0.5
"""Below this, the NLU's second guess is no guess."""
SURE = 0.9
"""From this confidence on, the NLU's product question stands after a "thanks"."""
SHORT_TAIL = 6
CODE_INTENT = "confirm_code"
CODE_WORDS = 3
"""A one-time code typed back: its digits and at most this many words ("Der Code ist
123456"); a longer message that happens to hold six digits says something else."""

Ranking = Sequence[tuple[str, float]]


@dataclass(frozen=True)
class Decision:
    intent: str
    request: str | None = None  # the kind of request, when the message makes one
    changed: bool = False


def decide(
    text: str,
    intent: str,
    ranking: Ranking = (),
    *,
    confidence: float = 0.0,
    says_human: Callable[[str], bool] = lambda text: False,
    says_withdraw: Callable[[str], bool] = lambda text: False,
    facts: Callable[[str], bool] = lambda text: False,
    starts_enquiry: Callable[[str], bool] = lambda intent: True,
    answer_varies: Callable[[str], bool] = lambda intent: True,
) -> Decision:
    """The intent to act on (see the module docstring).

    `says_human(text)`: the words ask for a person; `says_withdraw(text)`: the words ask
    to withdraw consent or erase data; `facts(text)`: the text states facts about the
    visitor's company; `starts_enquiry(intent)`: a request with this FAQ intent starts
    the enquiry (False for topics such as spare parts); `answer_varies(intent)`: the
    FAQ's answer differs by product line or product, so a follow-up may change it.
    """
    if not text or text.startswith("/"):
        return Decision(intent)
    words = words_of(text)
    if intent == "deny" and small_talk_kinds(words) == {"agree"}:
        return Decision("affirm", changed=True)  # "Ja, warum ned": a yes the NLU took for no
    if intent in FIXED_INTENTS:
        return Decision(intent)
    if _is_code(text, words):
        return Decision(CODE_INTENT, changed=intent != CODE_INTENT)
    if intent == WITHDRAW_INTENT or says_withdraw(text):
        withdrawal = _withdrawal(text, words, intent, ranking, says_withdraw)
        if withdrawal is not None:
            return withdrawal
        intent = _next_best(ranking, exclude=WITHDRAW_INTENT, least=UNSURE) or FALLBACK_INTENT
        rules = _Rules(says_human, facts, starts_enquiry, answer_varies)
        return _settled(text, words, intent, 0.0, ranking, rules, changed=True)
    rules = _Rules(says_human, facts, starts_enquiry, answer_varies)
    return _settled(text, words, intent, confidence, ranking, rules, changed=False)


def _is_code(text: str, words: list[str]) -> bool:
    if code_in(text) is None or "?" in text:
        return False
    return sum(1 for word in words if not word.isdigit()) <= CODE_WORDS


def _withdrawal(
    text: str, words: list[str], intent: str, ranking: Ranking, says_withdraw: Callable[[str], bool]
) -> Decision | None:
    """The withdrawal, if it is one; None when the NLU's guess does not hold."""
    if not says_withdraw(text):
        return None
    if asks_how(text, words):
        return Decision(DATA_PROTECTION_INTENT, changed=True)
    return Decision(WITHDRAW_INTENT, changed=intent != WITHDRAW_INTENT)


@dataclass(frozen=True)
class _Rules:
    """The callables `decide` is given (see there)."""

    says_human: Callable[[str], bool]
    facts: Callable[[str], bool]
    starts_enquiry: Callable[[str], bool]
    answer_varies: Callable[[str], bool]


def _settled(
    text: str,
    words: list[str],
    intent: str,
    confidence: float,
    ranking: Ranking,
    rules: _Rules,
    *,
    changed: bool,
) -> Decision:
    kind = _request(text)
    if kind is not None and not (intent == "request_human" and rules.says_human(text)):
        if intent.startswith(FAQ_PREFIX):
            return Decision(intent, kind if rules.starts_enquiry(intent) else None, changed)
        return Decision(REQUEST_INTENT, kind, changed=True)
    if intent in ("request_human", SWITCH_INTENT):
        return Decision(intent, changed=changed)
    talk = small_talk_kind(words)
    if talk is not None:
        if intent in NOT_UNDERSTOOD or intent.startswith(FAQ_PREFIX):
            return Decision(SMALL_TALK_INTENTS[talk], changed=True)
        kinds = small_talk_kinds(words)
        if intent == "affirm" and "thanks" in kinds and "agree" not in kinds:
            return Decision("thanks", changed=True)  # "alles klar, danke": no yes to an offer
        return Decision(intent, changed=changed)
    if intent in ("affirm", "deny") and is_question(text, words):
        # "was macht ihr eigentlich genau": a question, though "genau" says yes
        topic = _next_best(ranking, exclude=intent, prefix=FAQ_PREFIX, least=RANKED_FAQ_CONFIDENCE)
        return Decision(topic or FALLBACK_INTENT, changed=True)
    closing = _thanks_and_a_few_words(text, words, intent, confidence)
    if closing is not None:
        return Decision(closing, changed=True)
    replaceable = intent in INTRODUCTION_REPLACES or intent.startswith(FAQ_PREFIX)
    if (
        replaceable
        and not is_question(text, words)
        and _about_themselves(words)
        and rules.facts(text)
    ):
        return Decision(INFORM_INTENT, changed=True)
    if _follows_up(intent, confidence, words, rules):
        return Decision(FOLLOW_UP_INTENT, changed=True)
    greeting = greeting_end(words)
    greeted = intent in POLITE or (intent == FALLBACK_INTENT and greeting > 0)
    said = len(words) - greeting  # words besides the greeting
    if greeted and said > 0:
        # Only words after a greeting seen in the words are sure to say something else
        # ("Einen schönen guten Morgen" is a greeting the word lists do not cover).
        least = 0.0 if greeting and said >= SAYS_ENOUGH else RANKED_FAQ_CONFIDENCE
        topic = _next_best(ranking, exclude=intent, prefix=FAQ_PREFIX, least=least)
        if topic is not None:
            return Decision(topic, changed=True)
    return Decision(intent, changed=changed)


def _follows_up(intent: str, confidence: float, words: list[str], rules: _Rules) -> bool:
    """A short message that continues the previous answer, unless the NLU is sure of a
    question whose answer is the same for every product ("Und wie lange speichern Sie
    meine Daten?" asks about data protection, whatever was answered before)."""
    if intent != FALLBACK_INTENT and not intent.startswith(FAQ_PREFIX):
        return False
    if intent.startswith(FAQ_PREFIX) and confidence >= SURE and not rules.answer_varies(intent):
        return False
    return looks_like_follow_up(words)


def _request(text: str) -> str | None:
    """The request the message makes, sentence by sentence: a question whether a thing
    exists asks about it ("Gibt es eine Testphase?"), and a question how to order or
    try it asks how ("Wie kann ich das bestellen?"); the answer tells. "Wir wollen eine
    P800 kaufen. Wie läuft das ab?" asks to buy."""
    for sentence in _SENTENCE_END.split(text):
        words = words_of(sentence)
        if not words or asks_whether(sentence, words):
            continue
        kind = request_kind(words)
        if kind in ("purchase", "trial") and asks_how(sentence, words):
            continue
        if kind is not None:
            return kind
    return None


_SENTENCE_END = re.compile(r"(?<=[.!?])\s+")


def _thanks_and_a_few_words(
    text: str, words: list[str], intent: str, confidence: float
) -> str | None:
    """ "Danke, das reicht mir erst mal": thanks or goodbye with a short tail that asks
    nothing, which the NLU is not sure about, is the thanks or the goodbye."""
    kind, end = leading_small_talk(words)
    if kind not in ("thanks", "goodbye") or len(words) - end > SHORT_TAIL:
        return None
    if is_question(text, words) or not (intent in NOT_UNDERSTOOD or intent.startswith(FAQ_PREFIX)):
        return None
    return SMALL_TALK_INTENTS[kind] if confidence < SURE else None


def _next_best(
    ranking: Ranking, *, exclude: str, prefix: str = "", least: float = 0.0
) -> str | None:
    for name, confidence in ranking:
        if name in (exclude, FALLBACK_INTENT) or not name.startswith(prefix):
            continue
        return name if confidence >= least else None
    return None


def _about_themselves(words: list[str]) -> bool:
    return first_match(conversation_words().self_words, words) is not None
