"""Sync of the demo at a given scale: wall time, table scans, and a hand-SQL baseline.

    .venv/bin/python benchmarks/sync_demo.py --scale 10

The baseline runs, per table, one hand-written DuckDB query computing count(DISTINCT),
min and max of every column: the least a fingerprint must read.
"""

from __future__ import annotations

import argparse
import tempfile
import time
from pathlib import Path

import duckdb

from sextant.demo.setup import prepare_demo
from sextant.service import Sextant
from sextant.settings import Settings


def baseline(warehouse: Path) -> float:
    started = time.perf_counter()
    with duckdb.connect(str(warehouse), read_only=True) as con:
        tables = [r[0] for r in con.execute("SELECT table_name FROM duckdb_tables()").fetchall()]
        for table in tables:
            columns = [r[0] for r in con.execute(f'DESCRIBE "{table}"').fetchall()]
            parts = ", ".join(
                f'count(DISTINCT "{c}"), min("{c}"), max("{c}")' for c in columns if c != "PASSWORD"
            )
            con.execute(f'SELECT count(*), {parts} FROM "{table}"').fetchall()
    return time.perf_counter() - started


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--scale", type=int, default=10)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        data_dir = Path(tmp)
        started = time.perf_counter()
        files = prepare_demo(data_dir, args.scale)
        build = time.perf_counter() - started
        settings = Settings(data_dir=data_dir, env={"SEXTANT_JWT_SECRET": "x" * 32})
        service = Sextant(settings)
        report = service.sync(files.model)
        service.close()
        base = baseline(files.warehouse)
    print(f"scale {args.scale}: build {build:.2f} s")
    print(
        f"sync: {report.seconds:.2f} s for {report.tables} tables, {report.columns} columns, "
        f"{report.scans} table scans ({report.by_table})"
    )
    print(f"  of which fingerprints (scans + storing): {report.fingerprint_seconds:.2f} s")
    print(f"baseline hand SQL (distinct/min/max per column): {base:.2f} s")
    print(f"ratio fingerprints / baseline: {report.fingerprint_seconds / base:.2f}x")


if __name__ == "__main__":
    main()
