"""Latency of discovery on the demo over real HTTP (uvicorn on loopback), with baselines.

    .venv/bin/python benchmarks/discovery.py [--scale 1] [--requests 200]

Baselines: `ping` through the same stack (authentication + HTTP, no work), and the hand SQL a
field-values answer needs, run directly on DuckDB.
"""

from __future__ import annotations

import argparse
from collections.abc import Callable
from pathlib import Path

import duckdb
import httpx
from common import SECRET, percentiles, served_demo

from sextant.auth.tokens import make_jwt
from sextant.service import Sextant


def report(service: Sextant, warehouse: Path, base_url: str, n: int, scale: int) -> None:
    snap = service.snapshot()
    orders = next(t.id for t in snap.tables.values() if t.name == "ORDERS")
    people = next(t.id for t in snap.tables.values() if t.name == "PEOPLE")
    state = 6  # PEOPLE.STATE among PEOPLE's visible columns
    client = httpx.Client(base_url=f"{base_url}/api/agent/v1")

    def get(path: str, email: str) -> Callable[[], object]:
        headers = {"Authorization": f"Bearer {make_jwt(SECRET, email)}"}
        return lambda: client.get(path, headers=headers).raise_for_status()

    values = f"/table/{people}/field/t{people}-{state}/values"
    rows = {
        "ping (baseline)": get("/ping", "analyst@example.com"),
        "table detail ORDERS": get(f"/table/{orders}", "analyst@example.com"),
        "table detail ORDERS, field values": get(
            f"/table/{orders}?with-field-values=true", "analyst@example.com"
        ),
        "field values PEOPLE.STATE": get(values, "analyst@example.com"),
        "field values, sandboxed (cached)": get(values, "ca-manager@example.com"),
    }
    results = {name: percentiles(call, n) for name, call in rows.items()}
    sandboxed = get(values, "ca-manager@example.com")

    def cold_call() -> None:
        service.fingerprint_cache.clear()
        sandboxed()

    results["field values, sandboxed (cold: computes)"] = percentiles(cold_call, max(5, n // 10))
    with duckdb.connect(str(warehouse), read_only=True) as con:
        hand = percentiles(
            lambda: con.execute('SELECT DISTINCT "STATE" FROM "PEOPLE" ORDER BY 1').fetchall(), n
        )
    base = results["ping (baseline)"][0]
    print(f"demo scale {scale}, {n} sequential requests each, loopback HTTP")
    print(f"{'what':42} {'p50 ms':>8} {'p95 ms':>8} {'p50/ping':>9}")
    for name, (p50, p95) in results.items():
        print(f"{name:42} {p50:8.2f} {p95:8.2f} {p50 / base:9.2f}")
    print(f"{'hand SQL: SELECT DISTINCT STATE':42} {hand[0]:8.2f} {hand[1]:8.2f}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--scale", type=int, default=1)
    parser.add_argument("--requests", type=int, default=200)
    args = parser.parse_args()
    with served_demo(args.scale, 8765) as (service, warehouse, base_url):
        report(service, warehouse, base_url, args.requests, args.scale)


if __name__ == "__main__":
    main()
