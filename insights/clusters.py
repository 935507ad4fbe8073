"""Groups short visitor questions the bot could not answer, so editors see what is missing.

Contract of `cluster_texts`:
- Pure and deterministic: the same texts in any order give the same clusters. Texts
  are visitor input, so they are bounded (cut to `MAX_TEXT_CHARS`) and never logged;
  escaping them for HTML is the caller's job.
- Identical texts (after collapsing whitespace) are counted, not repeated; blank texts
  are ignored.
- Each text is normalised to a set of content tokens: Unicode NFKC, case-folded, split on
  everything that is not a letter or digit, German and English stop words dropped,
  tokens shorter than 3 characters dropped, then one crude suffix cut (longest listed
  ending first, only if the stem keeps at least 4 characters), so "Lieferung" and
  "Lieferungen" both become "liefer".
- Texts with the same token set form one group; groups are visited once, most frequent
  first (ties by the sorted tokens). A group joins the existing cluster whose *seed*
  (the token set of the cluster's first group) is most similar by Jaccard, if that
  similarity is at least `threshold` (ties go to the older cluster); otherwise it seeds a
  new cluster. Comparing with the seed, not the growing union of members, keeps a cluster
  from drifting into an unrelated topic one overlapping question at a time.
- Only seeds that can reach the threshold are compared: seeds are indexed by the rarest
  tokens of their token set (prefix filtering, exact, see `_prefix`), so 10,000 short
  questions take well under a second rather than comparing every text with every cluster.
- Texts with no content tokens left form one cluster labelled `NO_CONTENT_LABEL`.
- A cluster's label is its 3 most frequent tokens (weighted by text count, ties
  alphabetical), each shown as its most frequent spelling, joined by " / ".
- The result is sorted by count (descending), then label.
"""

from __future__ import annotations

import math
import re
import unicodedata
from collections import Counter, defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

MAX_TEXT_CHARS = 500
MAX_EXAMPLES = 5
LABEL_TOKENS = 3
NO_CONTENT_LABEL = "(no content words)"
MIN_TOKEN_CHARS = 3
MIN_STEM_CHARS = 4
# Longest first, so "lieferungen" loses "ungen", not just "en".
ENDINGS = ("ungen", "ings", "ung", "ing", "en", "er", "es", "et", "ed", "e", "s")

_GERMAN = """
der die das den dem des ein eine einer eines einem einen kein keine keinen keiner
ich du er sie es wir ihr mich mir dich dir uns euch ihnen ihm ihn sich man
mein meine meinen meinem meiner dein deine unser unsere euer eure ihre ihren sein seine
und oder aber doch denn sondern weil wenn dass daß ob als auch noch schon nur sehr mal
was wer wie wo wann warum weshalb wieso welche welcher welches welchen woher wohin womit
ist sind bin bist seid war waren wird werden wurde wurden wäre hat habe haben hast hatte
kann können kannst könnte muss müssen soll sollen sollte will wollen möchte möchten gibt
nicht bitte danke hallo gerne ja nein in im an am auf aus bei mit nach von vom zu zum zur
für über unter vor durch gegen ohne um bis hier da dort so dann jetzt etwa etwas alle
alles viel mehr dies diese dieser dieses jemand
"""
_ENGLISH = """
the a an this that these those i you he she it we they me him her us them my your our
their its and or but if because as than so what who whom which where when why how whose
is are was were be been being am do does did doing have has had having can could will
would shall should may might must not no yes please thanks thank hello hi in on at to
from by with about for of into over under up down out off there here then now also just
very some any all more most much many get got need want like know tell don doesn didn
isn aren won cannot anyone someone something anything one still
"""
STOP_WORDS: frozenset[str] = frozenset(
    unicodedata.normalize("NFKC", word).casefold() for word in (_GERMAN + _ENGLISH).split()
)

_SEPARATORS = re.compile(r"[\W_]+")
_WHITESPACE = re.compile(r"\s+")
# A lazy stem of at least MIN_STEM_CHARS takes the longest ending that fits.
_STEMMABLE = re.compile(rf"(.{{{MIN_STEM_CHARS},}}?)(?:{'|'.join(ENDINGS)})", re.DOTALL)


@dataclass(frozen=True)
class Cluster:
    """Questions about one topic: `count` is the total of all members, `texts` the most
    frequent distinct texts (at most `MAX_EXAMPLES`) with their counts."""

    label: str
    count: int
    texts: tuple[tuple[str, int], ...]


def stem(word: str) -> str:
    """Cuts the longest listed ending if at least `MIN_STEM_CHARS` remain."""
    match = _STEMMABLE.fullmatch(word)
    return match.group(1) if match else word


def content_words(text: str) -> list[tuple[str, str]]:
    """(stem, spelling) for each content word of `text`, in order, stems repeated."""
    folded = unicodedata.normalize("NFKC", text).casefold()
    words = (word for word in _SEPARATORS.split(folded) if len(word) >= MIN_TOKEN_CHARS)
    return [(stem(word), word) for word in words if word not in STOP_WORDS]


def _display(text: str) -> str:
    return _WHITESPACE.sub(" ", text[:MAX_TEXT_CHARS]).strip()


Words = dict[str, list[tuple[str, str]]]  # distinct text -> its content words


def _group_by_tokens(texts: Iterable[str]) -> tuple[dict[tuple[str, ...], Counter[str]], Words]:
    """Distinct texts with their counts, grouped by their sorted set of stems."""
    counts = Counter(shown for shown in map(_display, texts) if shown)
    groups: dict[tuple[str, ...], Counter[str]] = defaultdict(Counter)
    words = {text: content_words(text) for text in counts}
    for text, count in counts.items():
        groups[tuple(sorted({token for token, _ in words[text]}))][text] += count
    return groups, words


def _jaccard(shared: int, size_a: int, size_b: int) -> float:
    return shared / (size_a + size_b - shared)


def _prefix(key: Sequence[str], threshold: float) -> Sequence[str]:
    """The tokens (rarest first) among which any set at Jaccard >= threshold shares one.

    Two sets with Jaccard >= t share at least ceil(t * |x|) tokens, so with every set
    sorted in the same global order they meet within the first |x| - ceil(t * |x|) + 1
    tokens of each (prefix filtering). The epsilon keeps float noise from shortening it.
    """
    return key[: len(key) - math.ceil(threshold * len(key) - 1e-9) + 1]


def _assign(keys: Sequence[tuple[str, ...]], threshold: float) -> list[list[tuple[str, ...]]]:
    """Greedy single pass over `keys` (already in visiting order), see module docstring."""
    frequency = Counter(token for key in keys for token in key)
    rarest_first = {token: (frequency[token], token) for token in frequency}
    members: list[list[tuple[str, ...]]] = []
    seeds: list[frozenset[str]] = []
    by_token: dict[str, list[int]] = defaultdict(list)
    for key in keys:
        tokens = frozenset(key)
        prefix = _prefix(sorted(key, key=rarest_first.__getitem__), threshold)
        candidates = {c for token in prefix for c in by_token.get(token, ())}
        scored = (
            (_jaccard(len(tokens & seeds[c]), len(tokens), len(seeds[c])), -c) for c in candidates
        )
        best = max(scored, default=None)
        if best is not None and best[0] >= threshold:
            members[-best[1]].append(key)
            continue
        for token in prefix:
            by_token[token].append(len(members))
        members.append([key])
        seeds.append(tokens)
    return members


def _label(texts: Counter[str], words: Words) -> str:
    stem_counts: Counter[str] = Counter()
    spellings: dict[str, Counter[str]] = defaultdict(Counter)
    for text, count in texts.items():
        for token in {token for token, _ in words[text]}:
            stem_counts[token] += count
        for token, word in words[text]:
            spellings[token][word] += count
    shown = {token: _most_frequent(spellings[token])[0] for token in stem_counts}
    ranked = sorted(stem_counts, key=lambda token: (-stem_counts[token], shown[token]))
    return " / ".join(shown[token] for token in ranked[:LABEL_TOKENS])


def _most_frequent(counts: Counter[str]) -> list[str]:
    return sorted(counts, key=lambda item: (-counts[item], item))


def _cluster(label: str, texts: Counter[str]) -> Cluster:
    examples = tuple((text, texts[text]) for text in _most_frequent(texts)[:MAX_EXAMPLES])
    return Cluster(label=label, count=sum(texts.values()), texts=examples)


def cluster_texts(texts: Sequence[str], threshold: float = 0.34) -> list[Cluster]:
    """Clusters of similar texts, largest first; see the module docstring for the rules.

    ValueError unless 0 < threshold <= 1.
    """
    if not 0 < threshold <= 1:
        raise ValueError(f"threshold must be in (0, 1], got {threshold}")
    groups, words = _group_by_tokens(texts)
    empty = groups.pop((), None)
    keys = sorted(groups, key=lambda key: (-sum(groups[key].values()), key))
    clusters = []
    for cluster_keys in _assign(keys, threshold):
        members: Counter[str] = Counter()
        for key in cluster_keys:
            members.update(groups[key])
        clusters.append(_cluster(_label(members, words), members))
    if empty:
        clusters.append(_cluster(NO_CONTENT_LABEL, empty))
    return sorted(clusters, key=lambda cluster: (-cluster.count, cluster.label))
