"""Embedding vectors of searchable entities, kept in the app database and reused while the
entity's text and the model stay the same."""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Mapping, Sequence

import numpy as np
import numpy.typing as npt
from sqlalchemy import Engine, delete, insert, select

from sextant.store import schema as s

__all__ = ["text_hash", "vectors_for"]

Key = tuple[str, int]


def text_hash(text: str) -> str:
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def vectors_for(
    engine: Engine,
    model: str,
    texts: Mapping[Key, str],
    embed: Callable[[Sequence[str]], npt.NDArray[np.float32]],
) -> tuple[dict[Key, npt.NDArray[np.float32]], int]:
    """Vectors for every key; only new or changed texts are embedded (their count is returned)."""
    with engine.connect() as conn:
        stored = {
            (r.entity_type, r.entity_id): r
            for r in conn.execute(select(s.search_vectors).where(s.search_vectors.c.model == model))
        }
    out: dict[Key, npt.NDArray[np.float32]] = {}
    missing: list[Key] = []
    for key, text in texts.items():
        row = stored.get(key)
        if row is not None and row.text_hash == text_hash(text):
            out[key] = np.frombuffer(row.vector, dtype="<f4").copy()
        else:
            missing.append(key)
    if missing:
        made = embed([texts[k] for k in missing])
        with engine.begin() as conn:
            for kind in sorted({k[0] for k in missing}):
                ids = [k[1] for k in missing if k[0] == kind]
                for start in range(0, len(ids), 500):
                    conn.execute(
                        delete(s.search_vectors).where(
                            s.search_vectors.c.entity_type == kind,
                            s.search_vectors.c.entity_id.in_(ids[start : start + 500]),
                        )
                    )
            conn.execute(
                insert(s.search_vectors),
                [
                    {
                        "entity_type": k[0],
                        "entity_id": k[1],
                        "model": model,
                        "text_hash": text_hash(texts[k]),
                        "vector": np.asarray(v, dtype="<f4").tobytes(),
                    }
                    for k, v in zip(missing, made, strict=True)
                ],
            )
        for k, v in zip(missing, made, strict=True):
            out[k] = np.asarray(v, dtype=np.float32)
    return out, len(missing)
