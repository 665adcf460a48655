"""Sextant's own scans on DuckDB (the catalog, statistics) never import pandas: Ibis'
``to_pyarrow`` there does, and it cost every server process 50 MB resident."""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap
from pathlib import Path

import duckdb

from sextant.demo.setup import DemoFiles
from tests.conftest import TEST_SECRET, cli_env


def test_sync_leaves_pandas_unimported(demo: DemoFiles) -> None:
    script = textwrap.dedent(f"""
        import sys
        from sextant.cli.main import main
        sys.argv = ["sextant", "sync", {str(demo.model)!r}]
        try:
            main()
        except SystemExit as exc:
            assert not exc.code, exc.code
        assert "pandas" not in sys.modules, "sync imported pandas"
        print("no pandas")
    """)
    env = os.environ | cli_env(demo.data_dir, SEXTANT_JWT_SECRET=TEST_SECRET)
    done = subprocess.run(
        [sys.executable, "-c", script], env=env, capture_output=True, text=True, timeout=120
    )
    assert done.returncode == 0, done.stderr
    assert "no pandas" in done.stdout


def test_own_scans_are_typed_as_ibis_types_them_whatever_the_host_zone(tmp_path: Path) -> None:
    """A cursor's session keeps the host's time zone and sums integers as decimals: what the
    scans read is cast to the expression's schema (UTC instants, integers), as Ibis did."""
    path = tmp_path / "zones.duckdb"
    with duckdb.connect(str(path)) as con:
        con.execute(
            "CREATE TABLE t AS SELECT TIMESTAMPTZ '2024-03-01 12:00:00+00' AS at, 3 AS n "
            "UNION ALL SELECT TIMESTAMPTZ '2024-03-02 08:30:00+00', 4"
        )
    script = textwrap.dedent(f"""
        import ibis
        from sextant.warehouse.runner import arrow_of
        t = ibis.duckdb.connect({str(path)!r}, read_only=True).table("t")
        row = arrow_of(t.aggregate(first=t.at.min(), total=t.n.sum())).to_pylist()[0]
        print(row["first"].isoformat(), type(row["total"]).__name__, row["total"])
    """)
    env = os.environ | {"TZ": "America/New_York"}
    done = subprocess.run(
        [sys.executable, "-c", script], env=env, capture_output=True, text=True, timeout=60
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout.split() == ["2024-03-01T12:00:00+00:00", "int", "7"]
