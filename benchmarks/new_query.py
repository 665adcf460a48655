"""What a new question costs against a repeated one, and a small query against hand SQL.

    .venv/bin/python benchmarks/new_query.py [--scale 1] [--repeat 200]

A `sextant serve` of the demo (one worker) is asked, over loopback HTTP and one request at a
time, for revenue by month of the orders over a threshold:

- repeated: construct-query + execute with the same threshold every time;
- new: the same, with a new threshold each time (a plan compiled for the first is reused:
  ``sextant.query.plans``);
- small: execute of a ready token counting the orders over the threshold (wrk, one
  connection, 5 s), against the same count written by hand and run with DuckDB's own driver on
  the same file (target: p50 within 2 ms of it).

Prints p50/p95 in ms and the ratios new / repeated (target 1.3 at most).
"""

from __future__ import annotations

import argparse
import sys
import tempfile
from pathlib import Path
from typing import Any

import duckdb
import httpx
from common import free_ports, percentiles, sextant_env, wrk
from throughput import bearer, serve, stop, wait_ready

from sextant.demo.setup import prepare_demo


def fields(client: httpx.Client, api: str) -> dict[str, str]:
    detail = client.get(f"{api}/table/1", headers=bearer()).json()  # ORDERS
    return {f["name"]: f["field_id"] for f in detail["fields"]}


def revenue_by_month(f: dict[str, str], threshold: float) -> dict[str, Any]:
    return {
        "table_id": 1,
        "aggregations": [{"function": "sum", "field_id": f["TOTAL"]}],
        "group_by": [{"field_id": f["CREATED_AT"], "temporal_unit": "month"}],
        "filters": [{"field_id": f["TOTAL"], "operation": "greater-than", "value": threshold}],
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--scale", type=int, default=1)
    parser.add_argument("--repeat", type=int, default=200)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        files = prepare_demo(Path(tmp) / "demo", scale=args.scale)
        port = free_ports(1)[0]
        server = serve(
            [sys.executable, "-m", "sextant", "serve", "--config", str(files.model),
             "--data-dir", str(files.data_dir), "--port", str(port)],
            sextant_env(),
        )  # fmt: skip
        api = f"http://127.0.0.1:{port}/api/agent/v1"
        try:
            wait_ready(f"{api}/ping", bearer())
            with httpx.Client(timeout=60) as client:
                f = fields(client, api)
                headers = bearer()

                def ask(threshold: float) -> None:
                    body = revenue_by_month(f, threshold)
                    made = client.post(f"{api}/construct-query", headers=headers, json=body)
                    done = client.post(f"{api}/execute", headers=headers, json=made.json())
                    assert done.json()["status"] == "completed", done.text

                counter = [0]

                def new() -> None:
                    counter[0] += 1
                    ask(50.5 + counter[0] / 1000)

                repeated = percentiles(lambda: ask(50.5), args.repeat)
                fresh = percentiles(new, args.repeat)
                over = {"field_id": f["TOTAL"], "operation": "greater-than", "value": 50.5}
                small = {"table_id": 1, "aggregations": [{"function": "count"}], "filters": [over]}
                token = client.post(f"{api}/construct-query", headers=headers, json=small).json()

                # one connection of wrk (a C client: the latency is the server's)
                got = wrk(
                    f"{api}/execute",
                    method="POST",
                    headers=headers,
                    body=token,
                    seconds=5,
                    connections=1,
                )
                ready = (got["p50"], got["p99"])
        finally:
            stop(server)
        sql = 'SELECT COUNT(*) FROM "ORDERS" WHERE "TOTAL" > 50.5'
        with duckdb.connect(str(files.warehouse), read_only=True) as con:
            hand = percentiles(lambda: con.execute(sql).fetchall(), args.repeat)
    print(f"demo scale {args.scale}, {args.repeat} sequential requests per line, loopback HTTP")
    print(f"{'':44} {'p50 ms':>8} {'p95 ms':>8}")
    for name, got in (
        ("revenue by month, repeated (construct+execute)", repeated),
        ("revenue by month, new threshold each time", fresh),
        ("count, ready token execute (wrk, p50/p99)", ready),
        ("count, hand SQL on DuckDB's driver", hand),
    ):
        print(f"{name:44} {got[0]:8.2f} {got[1]:8.2f}")
    print(f"new / repeated, p50: {fresh[0] / repeated[0]:.2f}x (target at most 1.3x)")
    print(f"ready execute - hand SQL, p50: {ready[0] - hand[0]:+.2f} ms (target at most +2 ms)")


if __name__ == "__main__":
    main()
