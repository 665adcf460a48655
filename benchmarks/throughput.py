"""Throughput of ping, table detail and a small execute with 1 and 2 workers, under a bounded
load from a second process on loopback (threads, fixed duration), with p50/p99.

    .venv/bin/python benchmarks/throughput.py [--seconds 8] [--concurrency 16]

The machine has 2 cores shared by the server and this load generator, so figures are a floor.
"""

from __future__ import annotations

import argparse
import os
import signal
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

import httpx

from sextant.auth.tokens import make_jwt
from sextant.demo.setup import prepare_demo

SECRET = "benchmark-secret-0123456789abcdef0123456789"
PORT = 8791


def load(
    url: str, method: str, body: dict[str, object] | None, seconds: float, concurrency: int
) -> tuple[float, float, float, int]:
    samples: list[float] = []
    errors = 0
    lock = threading.Lock()
    stop = time.monotonic() + seconds

    def worker() -> None:
        nonlocal errors
        headers = {"Authorization": f"Bearer {make_jwt(SECRET, 'analyst@example.com')}"}
        with httpx.Client(timeout=30) as client:
            while time.monotonic() < stop:
                started = time.perf_counter()
                try:
                    response = client.request(method, url, json=body, headers=headers)
                    ok = response.status_code < 300
                except httpx.HTTPError:
                    ok = False
                elapsed = (time.perf_counter() - started) * 1000
                with lock:
                    samples.append(elapsed)
                    errors += not ok

    threads = [threading.Thread(target=worker) for _ in range(concurrency)]
    began = time.monotonic()
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    duration = time.monotonic() - began
    samples.sort()
    p99 = samples[max(0, int(len(samples) * 0.99) - 1)]
    return len(samples) / duration, statistics.median(samples), p99, errors


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--seconds", type=float, default=8.0)
    parser.add_argument("--concurrency", type=int, default=16)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        files = prepare_demo(Path(tmp))
        env = {k: v for k, v in os.environ.items() if not k.startswith("SEXTANT_")}
        env |= {"SEXTANT_JWT_SECRET": SECRET, "SEXTANT_LOG_LEVEL": "warning"}
        # one benchmark user: measure the server, not its per-user limits
        env |= {"SEXTANT_USER_REQUESTS_PER_MINUTE": "0", "SEXTANT_USER_QUERIES_PER_MINUTE": "0"}
        print(f"{args.concurrency} concurrent clients, {args.seconds:g} s per line")
        print(
            f"{'workers':>7} {'endpoint':24} {'req/s':>8} {'p50 ms':>8} {'p99 ms':>8} {'errors':>6}"
        )
        for workers in (1, 2):
            server = subprocess.Popen(
                [
                    sys.executable,
                    "-m",
                    "sextant",
                    "serve",
                    "--config",
                    str(files.model),
                    "--data-dir",
                    tmp,
                    "--port",
                    str(PORT),
                    "--workers",
                    str(workers),
                ],
                env=env,
                stdout=subprocess.DEVNULL,
                stderr=subprocess.DEVNULL,
            )
            base = f"http://127.0.0.1:{PORT}/api/agent/v1"
            try:
                headers = {"Authorization": f"Bearer {make_jwt(SECRET, 'analyst@example.com')}"}
                for _ in range(600):
                    try:
                        if httpx.get(f"{base}/ping", headers=headers).status_code == 200:
                            break
                    except httpx.TransportError:
                        time.sleep(0.1)
                products = 3  # table ids are stable: PRODUCTS is the third table of the demo
                token = httpx.post(
                    f"{base}/construct-query",
                    headers=headers,
                    json={"table_id": products, "aggregations": [{"function": "count"}]},
                ).json()["query"]
                for name, method, path, body in (
                    ("ping", "GET", "/ping", None),
                    ("table detail", "GET", "/table/1", None),
                    ("execute (small)", "POST", "/execute", {"query": token}),
                ):
                    rate, p50, p99, errors = load(
                        base + path, method, body, args.seconds, args.concurrency
                    )
                    print(f"{workers:>7} {name:24} {rate:8.0f} {p50:8.1f} {p99:8.1f} {errors:>6}")
            finally:
                server.send_signal(signal.SIGINT)
                server.wait(30)


if __name__ == "__main__":
    main()
