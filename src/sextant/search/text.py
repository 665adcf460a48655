"""Turning names and questions into search tokens: case, underscores, plurals, small typos."""

from __future__ import annotations

import difflib
import re
from collections.abc import Iterable
from functools import lru_cache

import Stemmer

__all__ = ["STOPWORDS", "correct", "tokens", "words"]

_WORD = re.compile(r"[A-Za-z0-9]+")
_CAMEL = re.compile(r"(?<=[a-z0-9])(?=[A-Z])")
_STEMMER = Stemmer.Stemmer("english")

STOPWORDS = frozenset(
    {
        "a",
        "an",
        "and",
        "are",
        "as",
        "at",
        "be",
        "by",
        "did",
        "do",
        "does",
        "for",
        "from",
        "how",
        "i",
        "in",
        "is",
        "it",
        "many",
        "much",
        "of",
        "on",
        "or",
        "our",
        "the",
        "their",
        "there",
        "this",
        "to",
        "was",
        "we",
        "were",
        "what",
        "when",
        "where",
        "which",
        "who",
        "why",
        "with",
        "you",
        "your",
        "me",
        "my",
        "show",
        "give",
        "list",
        "tell",
        "find",
        "get",
    }
)


@lru_cache(maxsize=65536)
def _stem(word: str) -> str:
    return str(_STEMMER.stemWord(word))


def words(text: str) -> list[str]:
    """Lower-cased words without stopwords; ``ORDER_ITEMS`` and ``orderItems`` split."""
    out = []
    for raw in _WORD.findall(_CAMEL.sub(" ", text.replace("_", " "))):
        word = raw.lower()
        if word in STOPWORDS or (len(word) < 2 and not word.isdigit()):
            continue
        out.append(word)
    return out


def tokens(text: str) -> list[str]:
    """Stemmed words: ``customers`` and ``Customer`` give the same token."""
    return [_stem(w) for w in words(text)]


def correct(
    query_words: Iterable[str], stems: dict[str, int], vocabulary: Iterable[str]
) -> list[str]:
    """Stems of the query's words; a word with a small typo (``custmers``) is replaced by the
    closest word of the indexed text. Short words are never corrected (``make`` ≠ ``market``)."""
    known = list(vocabulary)
    out = []
    for word in query_words:
        stem = _stem(word)
        if stem in stems:
            out.append(stem)
            continue
        if len(word) < 5:
            continue
        candidates = [w for w in known if abs(len(w) - len(word)) <= 2]
        close = difflib.get_close_matches(word, candidates, n=1, cutoff=0.85)
        if close and _stem(close[0]) in stems:
            out.append(_stem(close[0]))
    return out
