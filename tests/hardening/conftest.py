"""A warehouse made to hurt: a table big enough for a query to run for a while, a view that
fails inside the engine when read, and a small table for trivial queries — on DuckDB and on
PostgreSQL — served by a real uvicorn server, with two users."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import duckdb
import httpx
import pytest

from sextant.auth.tokens import make_jwt
from sextant.http import create_app
from sextant.service import Sextant
from tests.conftest import TEST_SECRET, fresh_postgres_database, make_settings
from tests.servers import serve

A, B = "a@example.com", "b@example.com"
BIG_ROWS = 5_000_000

MODEL = """
version: 1
settings:
  jwt: {{secret: "${{SEXTANT_JWT_SECRET}}"}}
databases:
  - name: Lab
    url: {url}
groups:
  - {{name: Users}}
users:
  - {{email: a@example.com, groups: [Users], attributes: {{team: x}}}}
  - {{email: b@example.com, groups: [Users], attributes: {{team: y}}}}
permissions:
  data:
    - {{group: Users, tables: "*", access: query}}
"""


def build_duckdb(path: Path) -> None:
    with duckdb.connect(str(path)) as con:
        con.execute(
            f"CREATE TABLE BIG AS SELECT range AS id, (range % 1000)::INTEGER AS k, "
            f"md5(range::VARCHAR) AS t FROM range({BIG_ROWS})"
        )
        con.execute("CREATE TABLE SMALL AS SELECT range AS id, 'n' || range AS name FROM range(10)")
        con.execute("CREATE TABLE TXT AS SELECT * FROM (VALUES (1, '1'), (2, 'x')) v(id, t)")
        con.execute("CREATE VIEW BAD AS SELECT id, CAST(t AS INTEGER) AS n FROM TXT")


def build_postgres(url: str) -> None:
    import psycopg

    with psycopg.connect(url, autocommit=True) as con:
        con.execute(
            'CREATE TABLE "BIG" AS SELECT g AS id, (g % 1000)::integer AS k, md5(g::text) AS t '
            f"FROM generate_series(0, {BIG_ROWS - 1}) g"
        )
        con.execute(
            "CREATE TABLE \"SMALL\" AS SELECT g AS id, 'n' || g AS name "
            "FROM generate_series(0, 9) g"
        )
        con.execute('CREATE TABLE "TXT" (id integer, t text)')
        con.execute("INSERT INTO \"TXT\" VALUES (1, '1'), (2, 'x')")
        con.execute('CREATE VIEW "BAD" AS SELECT id, t::integer AS n FROM "TXT"')
        con.execute('ANALYZE "BIG"')


@dataclass
class Lab:
    url: str
    service: Sextant

    def table(self, name: str) -> int:
        return next(t.id for t in self.service.snapshot().tables.values() if t.name == name)

    def post(self, email: str, path: str, body: Any, timeout: float = 120) -> httpx.Response:
        headers = {"Authorization": f"Bearer {make_jwt(TEST_SECRET, email)}"}
        return httpx.post(self.url + path, json=body, headers=headers, timeout=timeout)

    def token(self, email: str, body: dict[str, Any]) -> str:
        built = self.post(email, "/api/agent/v1/construct-query", body)
        assert built.status_code == 200, built.text
        return str(built.json()["query"])

    def execute(self, email: str, token: str, timeout: float = 120) -> dict[str, Any]:
        answer = self.post(email, "/api/agent/v1/execute", {"query": token}, timeout)
        assert answer.status_code == 202, answer.text
        return dict(answer.json())

    def slow(self) -> dict[str, Any]:
        """A query that keeps the engine busy for a second or more."""
        big = self.table("BIG")
        return {
            "table_id": big,
            "aggregations": [{"function": "count-distinct", "field_id": f"t{big}-2"}],
            "group_by": [{"field_id": f"t{big}-1"}],
        }

    def failing(self) -> dict[str, Any]:
        """A query the engine refuses while running (a cast of 'x' to an integer)."""
        bad = self.table("BAD")
        return {"table_id": bad, "aggregations": [{"function": "sum", "field_id": f"t{bad}-1"}]}

    def trivial(self) -> dict[str, Any]:
        return {"table_id": self.table("SMALL"), "aggregations": [{"function": "count"}]}


@contextmanager
def _lab(tmp: Path, url: str, **settings: Any) -> Iterator[Lab]:
    tmp.mkdir(parents=True, exist_ok=True)
    model = tmp / "lab.yaml"
    model.write_text(MODEL.format(url=url))
    service = Sextant(make_settings(tmp, config=model, auth_max_failures=0, **settings))
    service.apply()
    try:
        with serve(create_app(service.settings, service)) as base:
            yield Lab(base, service)
    finally:
        service.close()


@pytest.fixture(scope="session")
def duckdb_lab_file(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("lab") / "lab.duckdb"
    build_duckdb(path)
    return path


@pytest.fixture(scope="session")
def postgres_lab_url(postgres_server: str) -> Iterator[str]:
    with fresh_postgres_database(postgres_server, "sextant_lab") as url:
        build_postgres(url)
        yield url


LabFactory = Callable[..., Any]


@pytest.fixture(params=["duckdb", "postgres"])
def lab_factory(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Callable[..., Any]]:
    """Make a lab server on the parametrized engine with the given settings (a context)."""
    engine = str(request.param)
    url = (
        f"duckdb://{request.getfixturevalue('duckdb_lab_file')}"
        if engine == "duckdb"
        else request.getfixturevalue("postgres_lab_url")
    )
    counter = iter(range(1000))

    def make(**settings: Any) -> Any:
        return _lab(tmp_path / f"app{next(counter)}", url, **settings)

    yield make


def in_thread(call: Callable[[], Any]) -> tuple[threading.Thread, list[Any]]:
    out: list[Any] = []

    def run() -> None:
        started = time.monotonic()
        try:
            out.append(call())
        except Exception as exc:  # reported by the test
            out.append(exc)
        out.append(time.monotonic() - started)

    thread = threading.Thread(target=run, daemon=True)
    thread.start()
    return thread, out
