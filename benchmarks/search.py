"""Search latency (p50/p95) on the demo catalog and on a generated catalog of 10,000 tables
and 2,000 metrics, plus the latter's index build time.

    .venv/bin/python benchmarks/search.py [--tables 10000] [--metrics 2000] [--requests 200]

The generated catalog is written straight into an app database (no warehouse needed); the
index is the real one (bm25s + the built-in embedding model, vectors stored and reused).
"""

from __future__ import annotations

import argparse
import random
import tempfile
import time
from pathlib import Path

from common import percentiles

from sextant.auth.principal import Principal
from sextant.demo.setup import prepare_demo
from sextant.search.embedding import MiniLM
from sextant.search.index import SearchIndex
from sextant.service import Sextant
from sextant.settings import Settings
from sextant.store.snapshot import (
    CollectionRow,
    DatabaseRow,
    FieldRow,
    MetricRow,
    Snapshot,
    TableRow,
)

WORDS = [
    "order",
    "customer",
    "invoice",
    "payment",
    "refund",
    "shipment",
    "product",
    "inventory",
    "supplier",
    "warehouse",
    "campaign",
    "click",
    "session",
    "visit",
    "subscription",
    "churn",
    "revenue",
    "margin",
    "cost",
    "budget",
    "forecast",
    "employee",
    "payroll",
    "ticket",
    "support",
    "lead",
    "opportunity",
    "account",
    "contract",
    "region",
    "store",
]


def generated(tables: int, metrics: int, seed: int = 7) -> Snapshot:
    rng = random.Random(seed)
    table_rows: dict[int, TableRow] = {}
    fields: dict[int, FieldRow] = {}
    field_id = 0
    for t in range(1, tables + 1):
        a, b = rng.sample(WORDS, 2)
        cols = []
        for position, name in enumerate(
            ["ID", f"{a.upper()}_ID", f"{b.upper()}_AMOUNT", "CREATED_AT"]
        ):
            field_id += 1
            base = "type/DateTime" if name == "CREATED_AT" else "type/Float"
            row = FieldRow(
                field_id,
                t,
                name,
                position,
                name.title(),
                f"The {name.lower()} of the {a}",
                "DOUBLE",
                base,
                None,
                "normal",
                None,
            )
            cols.append(row)
            fields[field_id] = row
        table_rows[t] = TableRow(
            t,
            1,
            "main",
            f"{a.upper()}_{b.upper()}_{t}",
            f"{a.title()} {b.title()} {t}",
            f"{a.title()} records by {b}, table {t}.",
            "normal",
            tuple(cols),
        )
    collections = {1: CollectionRow(1, "Curated", None)}
    metric_rows = {}
    for m in range(1, metrics + 1):
        table = table_rows[rng.randint(1, tables)]
        word = rng.choice(WORDS)
        metric_rows[m] = MetricRow(
            m,
            f"{word.title()} {rng.choice(['Total', 'Count', 'Rate'])} {m}",
            f"How much {word} we see, metric {m}.",
            1,
            table.id,
            {"aggregation": {"function": "count"}},
            None,
            m % 3 == 0,
        )
    by_table: dict[int, list[MetricRow]] = {}
    for metric in metric_rows.values():
        by_table.setdefault(metric.table_id, []).append(metric)
    half = {t: {"Half": "query"} for t in table_rows if t % 2 == 0}
    return Snapshot(
        1,
        {1: DatabaseRow(1, "gen", "duckdb", "main")},
        table_rows,
        fields,
        collections,
        metric_rows,
        {},
        {},
        half,
        {1: {"All Users": "read"}},
        {},
        {k: tuple(v) for k, v in by_table.items()},
    )


QUERIES = [
    (["revenue"], []),
    (["customer refunds", "payment"], []),
    ([], ["how much money we refunded"]),
    (["churn rate"], ["which subscriptions did we lose"]),
]


def report(label: str, index: SearchIndex, who: Principal, n: int) -> None:
    for terms, semantic in QUERIES:
        index.search(who, terms, semantic, 50)  # warm: the caller's keyword index is built once
        p50, p95 = percentiles(lambda t=terms, s=semantic: index.search(who, t, s, 50), n)
        kind = "fused" if terms and semantic else ("keyword" if terms else "semantic")
        print(f"{label:34} {kind:9} p50 {p50:7.2f} ms  p95 {p95:7.2f} ms")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--tables", type=int, default=10_000)
    parser.add_argument("--metrics", type=int, default=2_000)
    parser.add_argument("--requests", type=int, default=200)
    args = parser.parse_args()
    model = MiniLM()
    admin = Principal(1, "admin@example.com", frozenset({"All Users", "Administrators"}))
    half = Principal(2, "half@example.com", frozenset({"All Users", "Half"}))
    with tempfile.TemporaryDirectory() as tmp:
        files = prepare_demo(Path(tmp) / "demo")
        service = Sextant(
            Settings(
                data_dir=Path(tmp) / "demo",
                config=files.model,
                env={"SEXTANT_JWT_SECRET": "x" * 40},
            )
        )
        service.apply()
        demo_index = service.search_index()
        report("demo catalog (9 entities), admin", demo_index, admin, args.requests)
        snapshot = generated(args.tables, args.metrics)
        app = Sextant(Settings(data_dir=Path(tmp) / "gen"))
        started = time.perf_counter()
        index = SearchIndex(snapshot, app.engine, lambda: model)
        index.vectors()
        build = time.perf_counter() - started
        print(
            f"generated catalog: {args.tables:,} tables + {args.metrics:,} metrics; "
            f"index build {build:.1f} s ({index.embedded:,} texts embedded)"
        )
        started = time.perf_counter()
        again = SearchIndex(snapshot, app.engine, lambda: model)
        again.vectors()
        print(
            f"rebuild with stored vectors: {time.perf_counter() - started:.2f} s "
            f"({again.embedded} embedded)"
        )
        cold = time.perf_counter()
        index.search(half, ["revenue"], [], 50)
        print(
            f"first keyword search for a new set of groups (builds BM25): "
            f"{(time.perf_counter() - cold) * 1000:.0f} ms"
        )
        report("generated catalog, admin", index, admin, args.requests)
        report("generated catalog, half the tables", index, half, args.requests)
        service.close()
        app.close()


if __name__ == "__main__":
    main()
