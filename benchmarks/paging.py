"""Fetching one page of `POST /v1/query` against executing the whole result.

    .venv/bin/python benchmarks/paging.py [--scale 10] [--repeat 50]

A 2,000-row result (the first 2,000 ORDERS: id, total, created at; unordered, then ordered
by a non-unique column) is read three ways over loopback HTTP: `POST /v1/execute` of the
whole (with a ready token), page 1 of `POST /v1/query` (200 rows, from the request body) and
page 10 (the last 200 rows, from a continuation token). p50 / p95 in ms; ratio = page p50 /
whole p50. Each page is one ORDER BY … LIMIT … OFFSET statement over the total order (the
requested keys, then every output column): page 10 makes the engine sort and skip 1,800
rows. The pages are checked to concatenate to the whole first.
"""

from __future__ import annotations

import argparse
from collections import Counter
from typing import Any

import httpx
from common import SECRET, percentiles, served_demo

from sextant.auth.tokens import make_jwt

EMAIL = "analyst@example.com"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--scale", type=int, default=10)
    parser.add_argument("--repeat", type=int, default=50)
    args = parser.parse_args()
    with (
        served_demo(args.scale, 8768) as (service, _, base_url),
        httpx.Client(base_url=base_url, timeout=60) as http,
    ):

        def headers() -> dict[str, str]:
            return {"Authorization": f"Bearer {make_jwt(SECRET, EMAIL)}"}

        orders = next(t.id for t in service.snapshot().tables.values() if t.name == "ORDERS")
        detail = http.get(f"/api/agent/v1/table/{orders}", headers=headers()).json()
        ids = {f["name"]: f["field_id"] for f in detail["fields"]}
        fields = [{"field_id": ids[n]} for n in ("ID", "TOTAL", "CREATED_AT")]
        first_2000 = [{"field_id": ids["ID"], "operation": "less-than-or-equal", "value": 2000}]
        shapes: dict[str, dict[str, Any]] = {
            "unordered": {"table_id": orders, "fields": fields, "filters": first_2000},
            "by month (ties)": {
                "table_id": orders,
                "fields": fields,
                "filters": first_2000,
                "order_by": [{"field": {"field_id": ids["CREATED_AT"], "bucket": "month"}}],
            },
        }
        print(f"demo at --scale {args.scale}, {args.repeat} runs each, p50 / p95 in ms")
        print(f"{'result':<16} {'execute whole':>15} {'page 1':>15} {'page 10':>15} {'ratios':>12}")
        for name, body in shapes.items():
            _measure(http, headers, name, body, args.repeat)


def _measure(http: httpx.Client, headers: Any, name: str, body: dict[str, Any], n: int) -> None:
    token = http.post("/api/agent/v1/construct-query", json=body, headers=headers()).json()
    whole = http.post("/api/agent/v1/execute", json=token, headers=headers()).json()
    assert whole["row_count"] == 2000, whole.get("error")
    rows, request, tokens = [], {**body, "page_size": 200}, []
    while True:
        page = http.post("/api/agent/v1/query", json=request, headers=headers()).json()
        rows += page["data"]["rows"]
        if "continuation_token" not in page:
            break
        tokens.append(page["continuation_token"])
        request = {"continuation_token": page["continuation_token"]}
    key = repr
    assert len(tokens) == 9 and Counter(map(key, rows)) == Counter(map(key, whole["data"]["rows"]))

    def execute() -> Any:
        return http.post("/api/agent/v1/execute", json=token, headers=headers()).json()

    def first() -> Any:
        return http.post("/api/agent/v1/query", json=body | {"page_size": 200}, headers=headers())

    def tenth() -> Any:
        last = {"continuation_token": tokens[-1]}
        return http.post("/api/agent/v1/query", json=last, headers=headers())

    e50, e95 = percentiles(execute, n)
    p50, p95 = percentiles(first, n)
    t50, t95 = percentiles(tenth, n)
    print(
        f"{name:<16} {e50:7.1f} / {e95:5.1f} {p50:7.1f} / {p95:5.1f} {t50:7.1f} / {t95:5.1f} "
        f"{p50 / e50:5.2f} {t50 / e50:5.2f}"
    )


if __name__ == "__main__":
    main()
