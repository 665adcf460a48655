"""Ratio, derived and cumulative metrics grouped by month against hand-written SQL.

    .venv/bin/python benchmarks/metric_kinds.py [--scale 100] [--repeat 30]

For each of the demo's four metrics beyond one aggregation (Revenue per Buyer, Tax Rate,
Cumulative Revenue, Revenue Growth), grouped by month: p50 of `POST /execute` with a ready
token over loopback HTTP, p50 of the SQL Sextant compiles (`sextant explain`) run with DuckDB's
driver, and p50 of the SQL an analyst would write by hand (window functions, LAG) on the same
file. Answers are checked equal first. Target (issue 17): Sextant's SQL at most 1.2 times
the hand SQL.
"""

from __future__ import annotations

import argparse
import math

import httpx
from common import SECRET, percentiles, served_demo
from execute import direct_runner

from sextant.auth.tokens import make_jwt

EMAIL = "analyst@example.com"
MONTH = "date_trunc('month', CREATED_AT)"
PER_MONTH = (
    f"SELECT {MONTH} AS m, sum(TOTAL) AS s FROM ORDERS WHERE CREATED_AT IS NOT NULL GROUP BY 1"
)
HAND = {
    "Revenue per Buyer": f"SELECT {MONTH}, sum(TOTAL) / NULLIF(count(DISTINCT USER_ID), 0) "
    "FROM ORDERS GROUP BY 1 ORDER BY 1",
    "Tax Rate": f"SELECT {MONTH}, sum(TAX) / NULLIF(sum(SUBTOTAL), 0) FROM ORDERS "
    "GROUP BY 1 ORDER BY 1",
    "Cumulative Revenue": f"SELECT m, sum(s) OVER (ORDER BY m ROWS UNBOUNDED PRECEDING) "
    f"FROM ({PER_MONTH}) t ORDER BY 1",
    # LAG is right here because the demo has orders every month
    "Revenue Growth": f"SELECT m, s / NULLIF(lag(s) OVER (ORDER BY m), 0) - 1 "
    f"FROM ({PER_MONTH}) t ORDER BY 1",
}


def same(ours: list[list[object]], theirs: list[tuple[object, ...]]) -> bool:
    def close(a: object, b: object) -> bool:
        if a is None or b is None:
            return a is b
        return math.isclose(float(a), float(b), rel_tol=1e-9)  # type: ignore[arg-type]

    return len(ours) == len(theirs) and all(
        close(a[1], b[1]) for a, b in zip(ours, theirs, strict=True)
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--scale", type=int, default=100)
    parser.add_argument("--repeat", type=int, default=30)
    args = parser.parse_args()
    with served_demo(args.scale, 8767) as (service, warehouse, base_url):
        direct = direct_runner("duckdb", warehouse, None)
        client = httpx.Client(base_url=f"{base_url}/api/agent/v1", timeout=120)
        headers = {"Authorization": f"Bearer {make_jwt(SECRET, EMAIL)}"}
        principal = service.credentials.principal_for(EMAIL)
        snap = service.snapshot()
        print(
            f"DuckDB, demo scale {args.scale} ({18760 * args.scale:,} orders), p50 of {args.repeat}"
        )
        print(
            f"{'metric by month':22} {'HTTP ms':>8} {'SQL ms':>8} {'hand ms':>8} "
            f"{'SQL/hand':>9} {'HTTP/hand':>10}"
        )
        for name, hand_sql in HAND.items():
            metric = next(m for m in snap.metrics.values() if m.name == name)
            detail = client.get(f"/metric/{metric.id}", headers=headers).json()
            created = next(d for d in detail["queryable_dimensions"] if d["name"] == "CREATED_AT")
            body = {
                "metric_id": metric.id,
                "group_by": [{"field_id": created["field_id"], "field_granularity": "month"}],
            }
            token = client.post("/construct-query", json=body, headers=headers).json()["query"]
            sql = service.explain(principal, token)

            def via_http(token: str = token) -> list[list[object]]:
                headers["Authorization"] = f"Bearer {make_jwt(SECRET, EMAIL)}"
                answer = client.post("/execute", json={"query": token}, headers=headers).json()
                assert answer["status"] == "completed", answer
                rows: list[list[object]] = answer["data"]["rows"]
                return rows

            expected = direct(hand_sql)
            assert same(via_http(), expected), f"{name}: answers differ from the hand SQL"  # type: ignore[arg-type]
            http = percentiles(via_http, args.repeat)[0]
            ours = percentiles(lambda sql=sql: direct(sql), args.repeat)[0]
            theirs = percentiles(lambda hand_sql=hand_sql: direct(hand_sql), args.repeat)[0]
            print(
                f"{name:22} {http:8.2f} {ours:8.2f} {theirs:8.2f} {ours / theirs:9.2f} "
                f"{http / theirs:10.2f}"
            )


if __name__ == "__main__":
    main()
