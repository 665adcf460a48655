"""Execute latency and overhead against the same SQL run directly on the same engine.

    .venv/bin/python benchmarks/execute.py [--scale 10] [--repeat 30]
        [--engine duckdb|sqlite|mysql|postgres|spark] [--warehouse-url URL]

For each query shape: p50 of `POST /execute` with a ready token over loopback HTTP, and p50 of
the SQL that token compiles to (`sextant explain`) run with the engine's own driver (duckdb,
sqlite3, mysqlclient, psycopg, the same SparkSession) on the same data, all rows fetched.
Overhead = Sextant / direct (ratio) and Sextant - direct (ms). Server engines load the demo
into a ``sextant_bench`` database on the local server unless ``--warehouse-url`` names another.
"""

from __future__ import annotations

import argparse
from collections.abc import Callable
from pathlib import Path
from typing import Any

import duckdb
import httpx
from common import SECRET, percentiles, served_demo

from sextant.auth.tokens import make_jwt
from sextant.service import Sextant

EMAIL = "analyst@example.com"


def p50(call: Callable[[], object], repeat: int) -> float:
    return percentiles(call, repeat)[0]


def shapes(ids: Callable[..., str], orders: int, products: int) -> dict[str, dict[str, Any]]:
    return {
        "small: count PRODUCTS": {"table_id": products, "aggregations": [{"function": "count"}]},
        "small: 10 raw orders": {"table_id": orders, "limit": 10},
        "medium: 2,000 raw orders (cap)": {"table_id": orders},
        "large: revenue by month": {
            "table_id": orders,
            "aggregations": [{"field_id": ids("TOTAL"), "function": "sum"}],
            "group_by": [{"field_id": ids("CREATED_AT"), "field_granularity": "month"}],
        },
        "large: revenue by state (join)": {
            "table_id": orders,
            "aggregations": [{"field_id": ids("TOTAL"), "function": "sum"}],
            "group_by": [{"field_id": ids("STATE", "USER_ID")}],
        },
        "large: distinct buyers by category, weekday": {
            "table_id": orders,
            "aggregations": [{"field_id": ids("USER_ID"), "function": "count-distinct"}],
            "group_by": [
                {"field_id": ids("CATEGORY", "PRODUCT_ID")},
                {"field_id": ids("CREATED_AT"), "field_granularity": "day-of-week"},
            ],
        },
        "large: quantiles-free scan with text filter": {
            "table_id": orders,
            "filters": [
                {
                    "field_id": ids("TITLE", "PRODUCT_ID"),
                    "operation": "string-contains",
                    "value": "steel",
                }
            ],
            "aggregations": [{"function": "count"}, {"field_id": ids("TOTAL"), "function": "avg"}],
            "group_by": [{"field_id": ids("SOURCE", "USER_ID")}],
        },
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--scale", type=int, default=10)
    parser.add_argument("--repeat", type=int, default=30)
    parser.add_argument("--engine", default="duckdb", choices=["duckdb", *sorted(_DEFAULT_URLS)])
    parser.add_argument("--warehouse-url")
    args = parser.parse_args()
    url = args.warehouse_url or _DEFAULT_URLS.get(args.engine)
    with served_demo(args.scale, 8766, args.engine, url) as (service, warehouse, base_url):
        compare(service, direct_runner(args.engine, warehouse, url), base_url, args)


_DEFAULT_URLS = {
    "sqlite": None,
    "spark": None,
    "mysql": "mysql://root@127.0.0.1:3306/sextant_bench",
    "postgres": "postgresql://postgres@127.0.0.1:5432/sextant_bench",
}


def direct_runner(engine: str, warehouse: Path, url: str | None) -> Callable[[str], object]:
    """Run SQL with the engine's own driver and fetch every row."""
    if engine == "duckdb":
        con = duckdb.connect(str(warehouse), read_only=True)
        return lambda sql: con.execute(sql).fetchall()
    if engine == "sqlite":
        import sqlite3

        lite = sqlite3.connect(f"{warehouse.resolve().as_uri()}?mode=ro", uri=True)
        return lambda sql: lite.execute(sql).fetchall()
    if engine == "spark":
        from pyspark.sql import SparkSession

        session = SparkSession.builder.getOrCreate()  # the one the service started
        return lambda sql: session.sql(sql).toArrow()
    assert url is not None
    if engine == "mysql":
        import MySQLdb

        from sextant.warehouse.connection import mysql_params

        my = MySQLdb.connect(**mysql_params(url))

        def run_mysql(sql: str) -> object:
            cursor = my.cursor()
            cursor.execute(sql)
            return cursor.fetchall()

        return run_mysql
    import psycopg

    pg = psycopg.connect(url, autocommit=True)
    return lambda sql: pg.execute(sql).fetchall()


def compare(
    service: Sextant, direct: Callable[[str], object], base_url: str, args: argparse.Namespace
) -> None:
    client = httpx.Client(base_url=f"{base_url}/api/agent/v1", timeout=120)
    headers = {"Authorization": f"Bearer {make_jwt(SECRET, EMAIL)}"}
    snap = service.snapshot()
    table = {t.name: t.id for t in snap.tables.values()}
    detail = client.get(f"/table/{table['ORDERS']}", headers=headers).json()

    def ids(column: str, via: str | None = None) -> str:
        fields = (
            detail["fields"]
            if via is None
            else next(t["fields"] for t in detail["related_tables"] if t["related_by"] == via)
        )
        return str(next(f["field_id"] for f in fields if f["name"] == column))

    principal = service.credentials.principal_for(EMAIL)
    print(
        f"{args.engine}, demo scale {args.scale} ({18760 * args.scale:,} orders), "
        f"p50 of {args.repeat} runs"
    )
    print(f"{'shape':46} {'sextant ms':>10} {'direct ms':>10} {'ratio':>6} {'+ms':>6}")
    for name, body in shapes(ids, table["ORDERS"], table["PRODUCTS"]).items():
        token = client.post("/construct-query", json=body, headers=headers).json()["query"]
        sql = service.explain(principal, token)

        def via_sextant(token: str = token) -> None:
            headers["Authorization"] = f"Bearer {make_jwt(SECRET, EMAIL)}"
            answer = client.post("/execute", json={"query": token}, headers=headers).json()
            assert answer["status"] == "completed", answer

        def via_driver(sql: str = sql) -> None:
            direct(sql)

        ours, theirs = p50(via_sextant, args.repeat), p50(via_driver, args.repeat)
        print(f"{name:46} {ours:10.2f} {theirs:10.2f} {ours / theirs:6.2f} {ours - theirs:6.2f}")


if __name__ == "__main__":
    main()
