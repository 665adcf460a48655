"""A pipeline writes the DuckDB file while Sextant serves it.

Found: while `serve` ran, a loader opening the same file got ``Could not set lock on file``.
Sextant now serves private snapshots (:mod:`sextant.warehouse.snapshots`): writers are never
refused, and the next query after a commit sees it.
"""

from __future__ import annotations

import subprocess
import sys
import threading
from pathlib import Path
from typing import Any

import duckdb
import httpx
import pytest

from sextant.auth.tokens import make_jwt
from sextant.demo.setup import DemoFiles
from sextant.http.app import create_app
from sextant.service import Sextant
from tests.conftest import TEST_SECRET, make_settings
from tests.servers import serve

ANALYST = "analyst@example.com"

APPEND = """
import sys, duckdb
con = duckdb.connect(sys.argv[1])
con.execute(
    "INSERT INTO REVIEWS SELECT * REPLACE (ID + (SELECT max(ID) FROM REVIEWS) AS ID) "
    "FROM REVIEWS ORDER BY ID LIMIT 10"
)
print(con.execute("SELECT count(*) FROM REVIEWS").fetchone()[0])
con.close()
"""


def _write(warehouse: Path) -> int:
    """Append 10 rows from another process; the count it committed."""
    done = subprocess.run(
        [sys.executable, "-c", APPEND, str(warehouse)], capture_output=True, text=True, timeout=60
    )
    assert done.returncode == 0, done.stderr
    return int(done.stdout)


def _count(base: str, table_id: int) -> int:
    token = make_jwt(TEST_SECRET, ANALYST)
    body = {"table_id": table_id, "aggregations": [{"function": "count"}]}
    answer = httpx.post(
        f"{base}/api/agent/v1/query",
        json=body,
        headers={"Authorization": f"Bearer {token}"},
        timeout=30,
    )
    assert answer.status_code == 202, answer.text
    result = answer.json()
    assert result["status"] == "completed", result
    return int(result["data"]["rows"][0][0])


def _service(demo: DemoFiles, services: Any, **overrides: Any) -> Sextant:
    options = {"duckdb_refresh_seconds": 0.0, **overrides}
    service: Sextant = services(make_settings(demo.data_dir, config=demo.model, **options))
    service.apply()
    return service


def test_a_writer_appends_while_the_server_answers(demo: DemoFiles, services: Any) -> None:
    service = _service(demo, services)
    reviews = next(t.id for t in service.snapshot().tables.values() if t.name == "REVIEWS")
    with duckdb.connect(str(demo.warehouse), read_only=True) as con:
        row = con.execute("SELECT count(*) FROM REVIEWS").fetchone()
    assert row is not None
    start = int(row[0])
    seen: list[int] = []
    failures: list[BaseException] = []
    stop = threading.Event()
    with serve(create_app(service.settings, service)) as base:
        assert _count(base, reviews) == start

        def ask() -> None:
            while not stop.is_set():
                try:
                    seen.append(_count(base, reviews))
                except BaseException as exc:  # every failure is reported
                    failures.append(exc)
                    return

        readers = [threading.Thread(target=ask) for _ in range(3)]
        for reader in readers:
            reader.start()
        try:
            for round_ in range(1, 6):
                committed = _write(demo.warehouse)  # never "Could not set lock"
                assert committed == start + 10 * round_
                assert _count(base, reviews) == committed  # the next query sees the commit
        finally:
            stop.set()
            for reader in readers:
                reader.join(30)
    assert not failures, failures
    assert seen and min(seen) >= start and max(seen) <= start + 50
    snapshots = demo.data_dir / "snapshots"
    assert not snapshots.exists() or list(snapshots.iterdir()) == []  # nothing left behind


def test_a_long_transaction_of_a_writer_does_not_stop_queries(
    demo: DemoFiles, services: Any
) -> None:
    """dbt holds its connection for the whole run: queries go on from the last commit."""
    service = _service(demo, services)
    reviews = next(t.id for t in service.snapshot().tables.values() if t.name == "REVIEWS")
    with serve(create_app(service.settings, service)) as base:
        before = _count(base, reviews)
        writer = duckdb.connect(str(demo.warehouse))
        try:
            writer.execute("BEGIN")
            writer.execute("DELETE FROM REVIEWS")
            assert _count(base, reviews) == before  # uncommitted: not visible, no error
            writer.execute("COMMIT")
            assert _count(base, reviews) == 0  # committed (in the log): visible
        finally:
            writer.close()
        assert _count(base, reviews) == 0


def test_without_snapshots_the_file_is_held_and_a_writer_is_refused(
    demo: DemoFiles, services: Any
) -> None:
    """What `duckdb_snapshots = false` costs (and what the snapshots remove)."""
    service = _service(demo, services, duckdb_snapshots=False)
    reviews = next(t.id for t in service.snapshot().tables.values() if t.name == "REVIEWS")
    with serve(create_app(service.settings, service)) as base:
        _count(base, reviews)
        done = subprocess.run(
            [sys.executable, "-c", APPEND, str(demo.warehouse)], capture_output=True, text=True
        )
    assert done.returncode != 0 and "lock" in done.stderr.lower()


@pytest.mark.parametrize("refresh", [0.0, 3600.0])
def test_refresh_seconds_bound_how_often_the_file_is_looked_at(
    demo: DemoFiles, services: Any, refresh: float
) -> None:
    service = _service(demo, services, duckdb_refresh_seconds=refresh)
    reviews = next(t.id for t in service.snapshot().tables.values() if t.name == "REVIEWS")
    with serve(create_app(service.settings, service)) as base:
        before = _count(base, reviews)
        committed = _write(demo.warehouse)
        assert _count(base, reviews) == (committed if refresh == 0 else before)
