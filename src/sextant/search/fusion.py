"""Reciprocal rank fusion (spec §5): score = Σ 1 / (k + rank), ties by name then id."""

from __future__ import annotations

from collections.abc import Callable, Hashable, Sequence
from typing import TypeVar

__all__ = ["rrf"]

K = TypeVar("K", bound=Hashable)


def rrf(lists: Sequence[Sequence[K]], tie: Callable[[K], tuple[str, int]], k: int = 60) -> list[K]:
    """Items of the ranked ``lists`` (best first), fused; deterministic."""
    scores: dict[K, float] = {}
    for ranked in lists:
        for rank, item in enumerate(ranked, start=1):
            scores[item] = scores.get(item, 0.0) + 1.0 / (k + rank)
    return sorted(scores, key=lambda item: (-scores[item], *tie(item)))
