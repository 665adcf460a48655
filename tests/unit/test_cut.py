"""Cutting results for a model (pure): rows, bytes, and the note."""

from __future__ import annotations

import json

from sextant.operations.cut import Rows, cut

COLUMNS = [{"name": "x", "base_type": "type/Text"}]


def test_small_results_are_untouched() -> None:
    body = cut(Rows(COLUMNS, [["a"], ["b"]]), 200, 30_000)
    assert body == {"columns": COLUMNS, "rows": [["a"], ["b"]], "row_count": 2}


def test_cut_by_rows_with_the_note() -> None:
    body = cut(Rows(COLUMNS, [[str(i)] for i in range(12_541)]), 200, 1_000_000)
    assert body["row_count"] == 200 and body["truncated"] is True
    assert body["note"] == "results truncated to 200 rows of 12,541; ask a more specific question"


def test_cut_by_bytes_keeps_the_most_rows_that_fit() -> None:
    rows = [["x" * 100] for _ in range(150)]
    body = cut(Rows(COLUMNS, rows, capped=True), 200, 5_000, {"card": {"id": 1}})
    size = len(json.dumps(body, separators=(",", ":")).encode())
    assert size <= 5_000 and body["card"] == {"id": 1}
    one_more = cut(Rows(COLUMNS, rows[: body["row_count"] + 1]), 200, 10**9)
    assert len(json.dumps(one_more, separators=(",", ":"))) > 5_000 - 200
    assert body["note"].endswith("rows of 150 or more; ask a more specific question")
