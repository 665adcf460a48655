"""Latency of discovery on the demo over real HTTP (uvicorn on loopback), with baselines.

    .venv/bin/python benchmarks/discovery.py [--scale 1] [--requests 200]

Baselines: `ping` through the same stack (authentication + HTTP, no work), and the hand SQL a
field-values answer needs, run directly on DuckDB.
"""

from __future__ import annotations

import argparse
import statistics
import tempfile
import threading
import time
from collections.abc import Callable
from pathlib import Path

import duckdb
import httpx
import uvicorn

from sextant.auth.tokens import make_jwt
from sextant.demo.setup import prepare_demo
from sextant.http import create_app
from sextant.service import Sextant
from sextant.settings import Settings

SECRET = "benchmark-secret-0123456789abcdef0123456789"


def measure(call: Callable[[], object], n: int) -> tuple[float, float]:
    samples = []
    for _ in range(n):
        started = time.perf_counter()
        call()
        samples.append((time.perf_counter() - started) * 1000)
    samples.sort()
    return statistics.median(samples), samples[int(len(samples) * 0.95) - 1]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--scale", type=int, default=1)
    parser.add_argument("--requests", type=int, default=200)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        files = prepare_demo(Path(tmp), args.scale)
        settings = Settings(
            data_dir=Path(tmp),
            env={"SEXTANT_JWT_SECRET": SECRET},
            jwt_secret=SECRET,
            config=files.model,
            log_level="warning",
        )
        service = Sextant(settings)
        service.sync()
        server = uvicorn.Server(
            uvicorn.Config(
                create_app(settings, service), port=8765, log_level="warning", lifespan="off"
            )
        )
        threading.Thread(target=server.run, daemon=True).start()
        while not server.started:
            time.sleep(0.05)
        snap = service.snapshot()
        orders = next(t.id for t in snap.tables.values() if t.name == "ORDERS")
        people = next(t.id for t in snap.tables.values() if t.name == "PEOPLE")
        state = 6  # PEOPLE.STATE among PEOPLE's visible columns
        client = httpx.Client(base_url="http://127.0.0.1:8765/api/agent/v1")

        def get(path: str, email: str) -> Callable[[], object]:
            headers = {"Authorization": f"Bearer {make_jwt(SECRET, email)}"}
            return lambda: client.get(path, headers=headers).raise_for_status()

        n = args.requests
        rows = [
            ("ping (baseline)", get("/ping", "analyst@example.com")),
            ("table detail ORDERS", get(f"/table/{orders}", "analyst@example.com")),
            (
                "table detail ORDERS, field values",
                get(f"/table/{orders}?with-field-values=true", "analyst@example.com"),
            ),
            (
                "field values PEOPLE.STATE",
                get(f"/table/{people}/field/t{people}-{state}/values", "analyst@example.com"),
            ),
            (
                "field values, sandboxed (cached)",
                get(f"/table/{people}/field/t{people}-{state}/values", "ca-manager@example.com"),
            ),
        ]
        results = {name: measure(call, n) for name, call in rows}
        con = duckdb.connect(str(files.warehouse), read_only=True)
        hand = measure(
            lambda: con.execute('SELECT DISTINCT "STATE" FROM "PEOPLE" ORDER BY 1').fetchall(), n
        )
        cold = measure(
            lambda: (
                service.fingerprint_cache.clear(),
                get(f"/table/{people}/field/t{people}-{state}/values", "ca-manager@example.com")(),
            ),
            max(5, n // 10),
        )
        server.should_exit = True
    base = results["ping (baseline)"][0]
    print(f"demo scale {args.scale}, {n} sequential requests each, loopback HTTP")
    print(f"{'what':40} {'p50 ms':>8} {'p95 ms':>8} {'p50/ping':>9}")
    for name, (p50, p95) in results.items():
        print(f"{name:40} {p50:8.2f} {p95:8.2f} {p50 / base:9.2f}")
    name = "field values, sandboxed (cold: computes)"
    print(f"{name:40} {cold[0]:8.2f} {cold[1]:8.2f} {cold[0] / base:9.2f}")
    print(f"{'hand SQL: SELECT DISTINCT STATE':40} {hand[0]:8.2f} {hand[1]:8.2f}")


if __name__ == "__main__":
    main()
