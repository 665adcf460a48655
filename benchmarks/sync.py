"""Sync of TPC-H at a scale factor: wall time, table scans and peak memory.

    .venv/bin/python benchmarks/sync.py --scale-factor 1     # 6 million lineitem rows
    .venv/bin/python benchmarks/sync.py --scale-factor 10    # 60 million (about 10 GB of disk)

The data comes from ``tpchgen-cli`` (Parquet, cached under ``~/.cache/sextant-bench/``) loaded
into one DuckDB file with the model of ``tests/tpch.py``. Sync runs in a child process so that
its peak resident memory is its own (``ru_maxrss``); so does the baseline, in the same run:
hand SQL computing count(DISTINCT), min and max of every column of every table — the least a
fingerprint must read, exactly. Targets (issue 18): SF1 under 500 MB, SF10 under 2 GB.

``SEXTANT_EXACT_STATISTICS_ROWS=0 SEXTANT_SYNC_MEMORY_LIMIT=off`` measures the one-scan
statistics of every table with DuckDB's default memory (Sextant before bounded sync).
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]

# every step runs in a child of this small process: a child's peak (ru_maxrss) starts from
# its parent's resident size at the fork, so the parent must not hold the data itself
BUILD = f"""
import sys
sys.path.insert(0, {str(ROOT)!r})
from pathlib import Path
from tests.tpch import build
print(build(float(sys.argv[1]), Path(sys.argv[2]), parquet_cache=Path(sys.argv[3])))
"""

SYNC = """
import json, os, sys
from pathlib import Path
from sextant.service import Sextant
from sextant.settings import Settings
model = Path(sys.argv[1])
environ = {"SEXTANT_JWT_SECRET": "x" * 32, **os.environ}
settings = Settings.from_env(environ, data_dir=model.parent)
service = Sextant(settings)
report = service.sync(model)
service.close()
print(json.dumps({"seconds": report.seconds, "fingerprint_seconds": report.fingerprint_seconds,
                  "scans": report.scans, "tables": report.tables, "columns": report.columns}))
"""

BASELINE = """
import sys, time, duckdb
started = time.perf_counter()
with duckdb.connect(sys.argv[1], read_only=True) as con:
    con.execute("SET enable_progress_bar = false")
    for (table,) in con.execute("SELECT table_name FROM duckdb_tables()").fetchall():
        columns = [r[0] for r in con.execute(f'DESCRIBE "{table}"').fetchall()]
        parts = ", ".join(f'count(DISTINCT "{c}"), min("{c}"), max("{c}")' for c in columns)
        con.execute(f'SELECT count(*), {parts} FROM "{table}"').fetchall()
print(time.perf_counter() - started)
"""


def child(code: str, *args: str) -> tuple[str, float, float]:
    """(stdout, wall seconds, peak RSS in MB) of ``python -c code args``: the peak of that
    child alone (``wait4``), not of every child so far."""
    with tempfile.TemporaryFile("w+") as out:
        started = time.perf_counter()
        process = subprocess.Popen([sys.executable, "-c", code, *args], stdout=out)
        _, status, usage = os.wait4(process.pid, 0)
        wall = time.perf_counter() - started
        process.returncode = os.waitstatus_to_exitcode(status)
        if process.returncode != 0:
            raise SystemExit(f"child failed with {process.returncode}")
        out.seek(0)
        return out.read(), wall, usage.ru_maxrss / 1024


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--scale-factor", type=float, default=1.0)
    args = parser.parse_args()
    cache = Path(os.environ.get("XDG_CACHE_HOME", Path.home() / ".cache")) / "sextant-bench"
    parquet = cache / f"tpch-sf{args.scale_factor:g}"
    with tempfile.TemporaryDirectory() as tmp:
        out, built, _ = child(BUILD, str(args.scale_factor), tmp, str(parquet))
        model = Path(out.strip().splitlines()[-1])
        print(f"TPC-H SF{args.scale_factor:g}: data ready in {built:.1f} s")
        out, _, base_peak = child(BASELINE, str(Path(tmp) / "warehouse.duckdb"))
        base_seconds = float(out.strip().splitlines()[-1])
        print(f"baseline hand SQL (distinct/min/max per column): {base_seconds:.1f} s, "
              f"peak RSS {base_peak:.0f} MB")  # fmt: skip
        out, _, peak = child(SYNC, str(model))
    report = json.loads(out.strip().splitlines()[-1])
    print(
        f"sync: {report['seconds']:.1f} s ({report['fingerprint_seconds']:.1f} s fingerprints) "
        f"for {report['tables']} tables, {report['columns']} columns, {report['scans']} scans; "
        f"peak RSS {peak:.0f} MB"
    )
    print(
        f"ratios sync / baseline: time {report['fingerprint_seconds'] / base_seconds:.2f}x, "
        f"peak memory {peak / base_peak:.2f}x"
    )


if __name__ == "__main__":
    main()
