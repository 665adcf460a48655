"""Throughput of Sextant's endpoints against the floor of their own stack, measured with wrk.

Each line is wrk (a C load generator, so the generator is not the bottleneck) for a fixed time
at a fixed number of connections against a server started for the run. Baselines in the same
run: a bare FastAPI + PyJWT endpoint on the same uvicorn options (`floor_app.py`), and, for
execute, the same SQL run by 8 threads straight on DuckDB.

    .venv/bin/python benchmarks/throughput.py [--seconds 8] [--connections 16] [--scale 1]

Needs `wrk` (Debian package; `make bench-tools` installs it). The machine's cores are shared by
the server and wrk, so the figures are a floor; compare ratios, not absolute numbers.
"""

from __future__ import annotations

import argparse
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

import duckdb
import httpx
from common import SECRET, free_ports, settle, sextant_env, wrk

from sextant.auth.tokens import make_jwt
from sextant.demo.setup import prepare_demo

HERE = Path(__file__).resolve().parent


def bearer() -> dict[str, str]:
    """A fresh token (Sextant refuses tokens issued more than a few minutes ago)."""
    return {"Authorization": f"Bearer {make_jwt(SECRET, 'analyst@example.com')}"}


def wait_ready(url: str, headers: dict[str, str]) -> None:
    for _ in range(900):
        try:
            if httpx.get(url, headers=headers, timeout=2).status_code == 200:
                return
        except httpx.TransportError:
            pass
        time.sleep(0.1)
    raise SystemExit(f"{url} did not come up")


def duckdb_threads(warehouse: Path, sql: str, seconds: float, threads: int = 8) -> float:
    """Queries per second of ``sql`` run by ``threads`` cursors on one DuckDB connection."""
    con = duckdb.connect(str(warehouse), read_only=True)
    count = 0
    lock = threading.Lock()
    stop = time.monotonic() + seconds

    def work() -> None:
        nonlocal count
        cursor = con.cursor()
        done = 0
        while time.monotonic() < stop:
            cursor.execute(sql).fetchall()
            done += 1
        with lock:
            count += done

    workers = [threading.Thread(target=work) for _ in range(threads)]
    began = time.monotonic()
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join()
    con.close()
    return count / (time.monotonic() - began)


def serve(command: list[str], env: dict[str, str]) -> subprocess.Popen[bytes]:
    return subprocess.Popen(command, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)


def stop(process: subprocess.Popen[bytes]) -> None:
    process.send_signal(signal.SIGINT)
    try:
        process.wait(30)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait()


def line(workers: int, name: str, got: dict[str, float], floor: float, extra: str = "") -> None:
    print(
        f"{workers:>7} {name:28} {got['rate']:8.0f} {got['p50']:8.2f} {got['p99']:8.2f} "
        f"{got['bad']:7.0f} {got['rate'] / floor:9.2f}{extra}"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=8.0)
    parser.add_argument("--connections", type=int, default=16)
    parser.add_argument("--scale", type=int, default=1)
    args = parser.parse_args()
    if shutil.which("wrk") is None:
        raise SystemExit("wrk is not installed: `make bench-tools` (or apt-get install wrk)")
    headers = bearer()
    env = sextant_env() | {"FLOOR_JWT_SECRET": SECRET}
    print(
        f"wrk, {args.connections} connections, {args.seconds:g} s per line, demo scale {args.scale}"
    )
    print(
        f"{'workers':>7} {'endpoint':28} {'req/s':>8} {'p50 ms':>8} {'p99 ms':>8} "
        f"{'non-2xx':>7} {'vs floor':>9}"
    )
    with tempfile.TemporaryDirectory() as tmp:
        files = prepare_demo(Path(tmp) / "demo", scale=args.scale)
        direct = duckdb_threads(files.warehouse, 'SELECT COUNT(*) FROM "PRODUCTS"', args.seconds)
        print(f"{'':>7} {'DuckDB, 8 threads, same SQL':28} {direct:8.0f}")
        for workers in (1, 2):
            port = free_ports(1)[0]
            floor = serve(
                [sys.executable, "-m", "uvicorn", "floor_app:app", "--app-dir", str(HERE),
                 "--port", str(port), "--workers", str(workers), "--log-level", "warning",
                 "--no-access-log"],
                env,
            )  # fmt: skip
            try:
                wait_ready(f"http://127.0.0.1:{port}/ping", headers)
                base = wrk(
                    f"http://127.0.0.1:{port}/ping",
                    headers=bearer(),
                    seconds=args.seconds,
                    connections=args.connections,
                )
            finally:
                stop(floor)
            line(workers, "floor: FastAPI + PyJWT ping", base, base["rate"])
            server = serve(
                [sys.executable, "-m", "sextant", "serve", "--config", str(files.model),
                 "--data-dir", str(files.data_dir), "--port", str(port), "--workers", str(workers)],
                env,
            )  # fmt: skip
            api = f"http://127.0.0.1:{port}/api/agent/v1"
            try:
                wait_ready(f"{api}/ping", headers)
                settle(server.pid)
                headers = bearer()
                orders = 1  # table ids are stable: ORDERS is the first table of the demo
                body = {"table_id": 3, "aggregations": [{"function": "count"}]}
                token = httpx.post(f"{api}/construct-query", headers=headers, json=body).json()[
                    "query"
                ]
                lines = [
                    ("ping", "GET", "/ping", None),
                    ("table detail (ORDERS)", "GET", f"/table/{orders}", None),
                    ("keyword search", "POST", "/search", {"term_queries": ["orders"]}),
                    ("execute count, ready token", "POST", "/execute", {"query": token}),
                ]
                for name, method, path, payload in lines:
                    got = wrk(
                        api + path,
                        method=method,
                        headers=bearer(),
                        body=payload,
                        seconds=args.seconds,
                        connections=args.connections,
                    )
                    extra = f"  {got['rate'] / direct:.2f}x DuckDB" if path == "/execute" else ""
                    line(workers, name, got, base["rate"], extra)
            finally:
                stop(server)


if __name__ == "__main__":
    main()
