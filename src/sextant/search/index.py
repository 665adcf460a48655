"""The search index of one model version, answering for one caller at a time.

Keyword lists come from BM25 (bm25s) over the documents the caller may see — the index is
built per set of groups, so an entity the caller cannot see changes neither scores (IDF) nor
counts. Semantic lists rank the same visible documents by cosine similarity to the question.
Each query string is its own list; lists are fused by reciprocal rank.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

import bm25s
import numpy as np
import numpy.typing as npt
from sqlalchemy import Engine

from sextant.auth.principal import Principal
from sextant.cache import LRU
from sextant.permissions.decide import metric_access, table_access
from sextant.search.documents import Doc, documents, keyword_text
from sextant.search.embedding import Embedder
from sextant.search.fusion import rrf
from sextant.search.text import correct, tokens, words
from sextant.store.snapshot import Snapshot
from sextant.store.vectors import vectors_for

__all__ = ["SearchIndex"]

_QUESTIONS: LRU[npt.NDArray[np.float32]] = LRU(2048)
"""Query embeddings by (embedder, text), shared by the indexes of this process."""

log = logging.getLogger("sextant.search")

SEMANTIC_FLOOR = 0.15  # below this cosine similarity a document is not a semantic match


@dataclass(frozen=True)
class _Keyword:
    retriever: Any
    stems: dict[str, int]  # the index's vocabulary (stemmed)
    words: frozenset[str]  # the words before stemming, to correct typos against
    positions: list[int]  # index in the caller's visible docs -> index in all docs


class SearchIndex:
    def __init__(
        self, snapshot: Snapshot, engine: Engine, embedder: Callable[[], Embedder]
    ) -> None:
        self.snapshot = snapshot
        self.engine = engine
        self._embedder = embedder
        self.docs = documents(snapshot)
        self._keyword: LRU[_Keyword] = LRU(64)
        self._views: LRU[list[int]] = LRU(64)
        self._matrices: LRU[npt.NDArray[np.float32]] = LRU(16)
        self._vectors: npt.NDArray[np.float32] | None = None
        self._lock = threading.Lock()
        self.embedded = 0  # how many texts the last vector refresh had to embed

    # -- what the caller may see -----------------------------------------------------------
    def visible(self, principal: Principal) -> list[int]:
        """Positions of the documents the caller may see (cached per set of groups)."""
        key = (principal.groups, principal.is_admin)
        found = self._views.get(key)
        if found is None:
            found = self._visible(principal)
            self._views.put(key, found)
        return found

    def _visible(self, principal: Principal) -> list[int]:
        out = []
        for i, doc in enumerate(self.docs):
            if doc.kind == "table":
                allowed = table_access(principal, self.snapshot, doc.id).allowed
            else:
                allowed = metric_access(
                    principal, self.snapshot, self.snapshot.metrics[doc.id]
                ).allowed
            if allowed:
                out.append(i)
        return out

    def _keyword_index(self, principal: Principal, positions: list[int]) -> _Keyword:
        key = (principal.groups, principal.is_admin)
        found = self._keyword.get(key)
        if found is not None:
            return found
        corpus = []
        seen: set[str] = set()
        for i in positions:
            doc = self.docs[i]
            hidden = (
                table_access(principal, self.snapshot, doc.id).hidden_columns
                if doc.kind == "table"
                else frozenset()
            )
            text = keyword_text(doc, self.snapshot, hidden)
            seen.update(words(text))
            corpus.append(tokens(text) or [""])
        retriever = bm25s.BM25()
        if corpus:
            retriever.index(corpus, show_progress=False)
        stems = dict(getattr(retriever, "vocab_dict", {}) or {})
        built = _Keyword(retriever, stems, frozenset(seen), positions)
        self._keyword.put(key, built)
        return built

    # -- vectors ---------------------------------------------------------------------------
    def vectors(self) -> npt.NDArray[np.float32]:
        """One normalized row per document, embedded only where text or model changed."""
        with self._lock:
            if self._vectors is None:
                embedder = self._embedder()
                texts = {doc.key: doc.semantic_text for doc in self.docs}
                found, self.embedded = vectors_for(
                    self.engine, embedder.name, texts, embedder.embed
                )
                dim = next(iter(found.values())).shape[0] if found else 384
                matrix = np.zeros((len(self.docs), dim), dtype=np.float32)
                for i, doc in enumerate(self.docs):
                    matrix[i] = found[doc.key]
                self._vectors = matrix
            return self._vectors

    # -- ranking ---------------------------------------------------------------------------
    def _keyword_list(self, index: _Keyword, query: str) -> list[int]:
        found = correct(words(query), index.stems, index.words)
        if not found or not index.positions:
            return []
        scores = index.retriever.get_scores(found)
        order = sorted(
            (j for j in range(len(index.positions)) if scores[j] > 0),
            key=lambda j: (
                -float(scores[j]),
                self.docs[index.positions[j]].name,
                index.positions[j],
            ),
        )
        return [index.positions[j] for j in order]

    def _visible_vectors(
        self, principal: Principal, positions: list[int]
    ) -> npt.NDArray[np.float32]:
        key = (principal.groups, principal.is_admin)
        found = self._matrices.get(key)
        if found is None:
            found = np.ascontiguousarray(self.vectors()[positions])
            self._matrices.put(key, found)
        return found

    def _questions(self, queries: Sequence[str]) -> dict[str, npt.NDArray[np.float32]]:
        """The embedding of each query, from the cache or computed together in one batch."""
        found: dict[str, npt.NDArray[np.float32]] = {}
        missing = []
        for query in dict.fromkeys(q for q in queries if q.strip()):
            cached = _QUESTIONS.get((self._embedder_name(), query))
            if cached is None:
                missing.append(query)
            else:
                found[query] = cached
        if missing:
            vectors = self._embedder().embed(missing)
            for query, vector in zip(missing, vectors, strict=True):
                _QUESTIONS.put((self._embedder_name(), query), vector)
                found[query] = vector
        return found

    def _embedder_name(self) -> str:
        embedder = self._embedder()
        model = getattr(embedder, "model", None) or getattr(embedder, "name", "")
        return f"{type(embedder).__name__}:{model}"

    def _semantic_lists(
        self, principal: Principal, positions: list[int], queries: Sequence[str], limit: int
    ) -> list[list[int]]:
        if not positions or not queries:
            return [[] for _ in queries]
        try:
            matrix = self._visible_vectors(principal, positions)
            questions = self._questions(queries)
        except Exception as exc:  # an unreachable embedding endpoint: keep keyword search
            log.warning("semantic search unavailable, answering with keywords only: %s", exc)
            return [[] for _ in queries]
        return [
            self._ranked(positions, matrix @ questions[q], limit) if q in questions else []
            for q in queries
        ]

    def _ranked(self, positions: list[int], sims: npt.NDArray[np.float32], limit: int) -> list[int]:
        order = sorted(
            (j for j in range(len(positions)) if sims[j] >= SEMANTIC_FLOOR),
            key=lambda j: (-float(sims[j]), self.docs[positions[j]].name, positions[j]),
        )
        return [positions[j] for j in order[:limit]]

    def search(
        self,
        principal: Principal,
        term_queries: Sequence[str],
        semantic_queries: Sequence[str],
        limit: int,
    ) -> list[Doc]:
        positions = self.visible(principal)
        lists: list[list[int]] = []
        if term_queries:
            index = self._keyword_index(principal, positions)
            lists += [self._keyword_list(index, q) for q in term_queries]
        lists += self._semantic_lists(principal, positions, semantic_queries, max(limit, 50))
        fused = rrf(lists, tie=lambda i: (self.docs[i].name, self.docs[i].id))
        return [self.docs[i] for i in fused[:limit]]
