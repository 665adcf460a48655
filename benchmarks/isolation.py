"""One user's heavy queries against another user's trivial one.

    .venv/bin/python benchmarks/isolation.py [--rows 5000000] [--samples 60]

A DuckDB warehouse with a large table (BIG: id, k, t = md5(id)) and a small one. User A keeps
N heavy queries in flight (a distinct count of t by k over BIG, ~0.5-2 s each), for N = 0, 4
and 16; meanwhile user B runs a trivial count over the small table, one after another, over
loopback HTTP. Printed: p50 and p99 of B's query for each N, and the ratio to N = 0 (target:
p99 at most 3x on 2 cores).
"""

from __future__ import annotations

import argparse
import statistics
import tempfile
import threading
import time
from pathlib import Path
from typing import Any

import duckdb
import httpx
from common import SECRET, serve

from sextant.auth.tokens import make_jwt
from sextant.http import create_app
from sextant.service import Sextant
from sextant.settings import Settings

MODEL = """
version: 1
settings: {{jwt: {{secret: "${{SEXTANT_JWT_SECRET}}"}}}}
databases: [{{name: Lab, url: "duckdb://{path}"}}]
groups: [{{name: Users}}]
users:
  - {{email: a@example.com, groups: [Users]}}
  - {{email: b@example.com, groups: [Users]}}
permissions: {{data: [{{group: Users, tables: "*", access: query}}]}}
"""


def build(path: Path, rows: int) -> None:
    with duckdb.connect(str(path)) as con:
        con.execute(
            "CREATE TABLE BIG AS SELECT range AS id, (range % 1000)::INTEGER AS k, "
            f"md5(range::VARCHAR) AS t FROM range({rows})"
        )
        con.execute("CREATE TABLE SMALL AS SELECT range AS id FROM range(10)")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--rows", type=int, default=5_000_000)
    parser.add_argument("--samples", type=int, default=60)
    parser.add_argument(
        "--per-user", type=int, default=2, help="SEXTANT_MAX_QUERIES_PER_USER (default 2)"
    )
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        warehouse = Path(tmp) / "lab.duckdb"
        build(warehouse, args.rows)
        model = Path(tmp) / "lab.yaml"
        model.write_text(MODEL.format(path=warehouse))
        settings = Settings(
            data_dir=Path(tmp),
            config=model,
            env={"SEXTANT_JWT_SECRET": SECRET},
            jwt_secret=SECRET,
            log_level="warning",
            max_queries_per_user=args.per_user,
            max_queued_queries=64,
            user_requests_per_minute=0,  # the gate is measured, not the per-user limits
            user_queries_per_minute=0,
        )
        service = Sextant(settings)
        service.apply()
        snapshot = service.snapshot()
        big = next(t.id for t in snapshot.tables.values() if t.name == "BIG")
        small = next(t.id for t in snapshot.tables.values() if t.name == "SMALL")
        try:
            with serve(create_app(settings, service), 8769) as url:
                measure(url, big, small, args.samples)
        finally:
            service.close()


def _post(url: str, email: str, path: str, body: Any) -> Any:
    headers = {"Authorization": f"Bearer {make_jwt(SECRET, email)}"}
    return httpx.post(url + path, json=body, headers=headers, timeout=300).json()


def measure(url: str, big: int, small: int, samples: int) -> None:
    heavy = _post(
        url,
        "a@example.com",
        "/api/agent/v1/construct-query",
        {
            "table_id": big,
            "aggregations": [{"function": "count-distinct", "field_id": f"t{big}-2"}],
            "group_by": [{"field_id": f"t{big}-1"}],
        },
    )["query"]
    trivial = _post(
        url,
        "b@example.com",
        "/api/agent/v1/construct-query",
        {
            "table_id": small,
            "aggregations": [{"function": "count"}],
        },
    )["query"]
    started = time.perf_counter()
    _post(url, "a@example.com", "/api/agent/v1/execute", {"query": heavy})
    print(f"one heavy query alone: {time.perf_counter() - started:.2f} s")
    baseline = None
    print(f"{'N heavy':>8} {'B p50 ms':>9} {'B p99 ms':>9} {'p99 / N=0':>10}")
    for n in (0, 4, 16):
        stop = threading.Event()

        def load(stop: threading.Event = stop) -> None:
            while not stop.is_set():
                _post(url, "a@example.com", "/api/agent/v1/execute", {"query": heavy})

        threads = [threading.Thread(target=load, daemon=True) for _ in range(n)]
        for thread in threads:
            thread.start()
        time.sleep(1.0 if n else 0)
        times = []
        for _ in range(samples):
            began = time.perf_counter()
            answer = _post(url, "b@example.com", "/api/agent/v1/execute", {"query": trivial})
            assert answer["status"] == "completed", answer
            times.append((time.perf_counter() - began) * 1000)
        stop.set()
        for thread in threads:
            thread.join(300)
        times.sort()
        p50 = statistics.median(times)
        p99 = times[min(len(times) - 1, int(len(times) * 0.99))]
        baseline = baseline or p99
        print(f"{n:>8} {p50:>9.1f} {p99:>9.1f} {p99 / baseline:>10.2f}")


if __name__ == "__main__":
    main()
