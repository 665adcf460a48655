"""Concurrent queries on a server warehouse: one connection against a pool.

    .venv/bin/python benchmarks/pool.py [--engine postgres|mysql] [--scale 10] [--clients 4]

``--clients`` threads each send the same large execute (revenue by customer state, a join)
at once over loopback HTTP, five rounds; the figure is the median wall time of a round. With
``SEXTANT_MAX_CONCURRENT_QUERIES=1`` every query waits for the one before it (what a single
shared connection gives); with ``--clients`` the pool gives each query its own connection.
The baseline is the same round with one connection.
"""

from __future__ import annotations

import argparse
import statistics
import threading
import time

import httpx
from common import SECRET, served_demo

from sextant.auth.tokens import make_jwt

EMAIL = "analyst@example.com"
URLS = {
    "postgres": "postgresql://postgres@127.0.0.1:5432/sextant_bench",
    "mysql": "mysql://root@127.0.0.1:3306/sextant_bench",
}


def round_ms(base_url: str, token: str, clients: int) -> float:
    def one() -> None:
        headers = {"Authorization": f"Bearer {make_jwt(SECRET, EMAIL)}"}
        with httpx.Client(base_url=f"{base_url}/api/agent/v1", timeout=120) as client:
            answer = client.post("/execute", json={"query": token}, headers=headers).json()
            assert answer["status"] == "completed", answer

    threads = [threading.Thread(target=one) for _ in range(clients)]
    started = time.perf_counter()
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return (time.perf_counter() - started) * 1000


def measure(engine: str, scale: int, clients: int, connections: int) -> float:
    overrides = {"max_concurrent_queries": connections, "max_queries_per_user": clients}
    with served_demo(scale, 8767, engine, URLS[engine], **overrides) as (service, _, base_url):
        headers = {"Authorization": f"Bearer {make_jwt(SECRET, EMAIL)}"}
        api = httpx.Client(base_url=f"{base_url}/api/agent/v1", timeout=120)
        table = {t.name: t.id for t in service.snapshot().tables.values()}["ORDERS"]
        detail = api.get(f"/table/{table}", headers=headers).json()
        total = next(f["field_id"] for f in detail["fields"] if f["name"] == "TOTAL")
        state = next(
            f["field_id"]
            for t in detail["related_tables"]
            if t["related_by"] == "USER_ID"
            for f in t["fields"]
            if f["name"] == "STATE"
        )
        body = {
            "table_id": table,
            "aggregations": [{"field_id": total, "function": "sum"}],
            "group_by": [{"field_id": state}],
        }
        token = api.post("/construct-query", json=body, headers=headers).json()["query"]
        round_ms(base_url, token, clients)  # warm
        return statistics.median(round_ms(base_url, token, clients) for _ in range(5))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--engine", default="postgres", choices=sorted(URLS))
    parser.add_argument("--scale", type=int, default=10)
    parser.add_argument("--clients", type=int, default=4)
    args = parser.parse_args()
    single = measure(args.engine, args.scale, args.clients, 1)
    pooled = measure(args.engine, args.scale, args.clients, args.clients)
    print(f"{args.engine}, scale {args.scale}, {args.clients} concurrent executes per round")
    print(
        f"one connection: {single:8.1f} ms   pool: {pooled:8.1f} ms   ratio {pooled / single:.2f}"
    )


if __name__ == "__main__":
    main()
