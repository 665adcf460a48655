"""Results cut to what a language model can use: at most N rows and N bytes of JSON, with a
note that says so (seed 000: "results truncated to 200 rows of 12,541; ask a more specific
question"). Shared by the MCP tools and the guarded agent."""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

__all__ = ["Rows", "cut", "dumps"]


@dataclass(frozen=True)
class Rows:
    """A query's answer before cutting: columns, rows, and whether the server's own row cap
    already cut it (then the true total is larger than ``len(rows)``)."""

    columns: list[dict[str, Any]]
    rows: list[list[Any]]
    capped: bool = False
    warnings: tuple[str, ...] = ()  # what the request had that was ignored


def dumps(value: Any) -> str:
    return json.dumps(value, separators=(",", ":"), ensure_ascii=False, default=str)


def _fits(body: dict[str, Any], max_bytes: int) -> bool:
    return len(dumps(body).encode("utf-8")) <= max_bytes


def cut(
    rows: Rows, max_rows: int, max_bytes: int, extra: dict[str, Any] | None = None
) -> dict[str, Any]:
    """``{"columns", "rows", "row_count"}`` (plus ``extra``), cut to ``max_rows`` rows and
    ``max_bytes`` of JSON; when cut, ``"truncated": true`` and a ``note`` for the model."""
    total = len(rows.rows)
    kept: Sequence[list[Any]] = rows.rows[:max_rows]
    body: dict[str, Any] = {**(extra or {}), "columns": rows.columns}
    if rows.warnings:
        body["warnings"] = list(rows.warnings)

    def shaped(n: int) -> dict[str, Any]:
        out = {**body, "rows": list(kept[:n]), "row_count": n}
        if n < total or rows.capped:
            of = f"{total:,}{' or more' if rows.capped else ''}"
            out["truncated"] = True
            out["note"] = f"results truncated to {n:,} rows of {of}; ask a more specific question"
        return out

    n = len(kept)
    if not _fits(shaped(n), max_bytes):
        low, high = 0, n  # the most rows that fit
        while low < high:
            middle = (low + high + 1) // 2
            if _fits(shaped(middle), max_bytes):
                low = middle
            else:
                high = middle - 1
        n = low
    return shaped(n)
