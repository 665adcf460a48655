"""PostgreSQL as a warehouse: the demo loaded there, introspection, fingerprints, sandboxes,
timeouts that stop the statement in the server, and recovery after an outage."""

from __future__ import annotations

import math
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import psycopg
import pytest

from sextant.demo.setup import prepare_demo
from sextant.service import Sextant
from sextant.settings import Settings
from tests.agent_client import AgentClient
from tests.conftest import make_settings

CA, ANALYST, ADMIN = "ca-manager@example.com", "analyst@example.com", "admin@example.com"


def plain(url: str) -> str:
    return url.replace("postgresql+psycopg://", "postgresql://")


@pytest.fixture
def pg_demo(
    postgres_database: str, tmp_path: Path, services: Callable[[Settings], Sextant]
) -> tuple[Sextant, str]:
    url = plain(postgres_database)
    files = prepare_demo(tmp_path / "demo", engine="postgres", warehouse_url=url)
    service = services(make_settings(files.data_dir, config=files.model))
    service.sync()
    return service, url


def hand(url: str, sql: str, *params: Any) -> list[tuple[Any, ...]]:
    with psycopg.connect(url) as conn:
        return [tuple(r) for r in conn.execute(sql, params).fetchall()]  # type: ignore[arg-type]


def test_demo_on_postgres_has_the_same_shop(pg_demo: tuple[Sextant, str]) -> None:
    service, url = pg_demo
    orders = hand(url, 'SELECT count(*) FROM "ORDERS"')
    people = hand(url, 'SELECT count(*) FROM "PEOPLE"')
    counts = {"ORDERS": orders[0][0], "PEOPLE": people[0][0]}
    assert counts == {"ORDERS": 18760, "PEOPLE": 2500}
    assert hand(url, 'SELECT count(DISTINCT "STATE") FROM "PEOPLE"') == [(49,)]
    snapshot = service.snapshot()
    fks = {
        (snapshot.tables[f.table_id].name, f.name): snapshot.fields[f.fk_target_field_id].name
        for f in snapshot.fields.values()
        if f.fk_target_field_id
    }
    assert fks == {
        ("ORDERS", "USER_ID"): "ID",
        ("ORDERS", "PRODUCT_ID"): "ID",
        ("REVIEWS", "PRODUCT_ID"): "ID",
    }
    assert {d.engine for d in snapshot.databases.values()} == {"postgres"}


def test_fingerprints_and_sandboxed_values_match_hand_sql(pg_demo: tuple[Sextant, str]) -> None:
    service, url = pg_demo
    api = AgentClient(service)
    orders = api.table_id("ORDERS")
    total = api.field(ANALYST, "ORDERS", "TOTAL")
    for email, where in ((ANALYST, "TRUE"), (CA, "p.\"STATE\" = 'CA'")):
        stats = api.get(f"/table/{orders}/field/{total}/values", email).json()["statistics"]
        (row,) = hand(
            url,
            'SELECT count(DISTINCT o."TOTAL"), min(o."TOTAL"), max(o."TOTAL"), '
            'avg(o."TOTAL"), percentile_cont(0.25) WITHIN GROUP (ORDER BY o."TOTAL"), '
            'stddev_samp(o."TOTAL") FROM "ORDERS" o JOIN "PEOPLE" p '
            f'ON p."ID" = o."USER_ID" WHERE {where}',
        )
        assert stats["distinct_count"] == row[0]
        for key, want in zip(("min", "max", "avg", "q1", "sd"), row[1:], strict=True):
            assert math.isclose(stats[key], float(want), rel_tol=1e-9), (email, key)
    people = api.table_id("PEOPLE")
    state = api.field(CA, "PEOPLE", "STATE")
    assert api.get(f"/table/{people}/field/{state}/values", CA).json()["values"] == ["CA"]


def test_queries_and_sandboxes_on_postgres(pg_demo: tuple[Sextant, str]) -> None:
    service, url = pg_demo
    api = AgentClient(service)
    body = {
        "table_id": api.table_id("ORDERS"),
        "aggregations": [
            {"field_id": api.field(CA, "ORDERS", "TOTAL"), "function": "sum"},
            {"function": "count"},
        ],
        "group_by": [{"field_id": api.field(CA, "ORDERS", "STATE", "USER_ID")}],
    }
    rows = api.run(CA, body)["data"]["rows"]
    (want,) = hand(
        url,
        'SELECT sum(o."TOTAL"), count(*) FROM "ORDERS" o JOIN "PEOPLE" p '
        'ON p."ID" = o."USER_ID" WHERE p."STATE" = \'CA\'',
    )
    assert [r[0] for r in rows] == ["CA"]
    assert rows[0][1] == pytest.approx(float(want[0])) and rows[0][2] == want[1]
    token = api.construct(
        ANALYST,
        body | {"group_by": [{"field_id": api.field(ANALYST, "ORDERS", "STATE", "USER_ID")}]},
    ).json()["query"]
    assert len(api.execute(ANALYST, token).json()["data"]["rows"]) == 49
    assert [r[0] for r in api.execute(CA, token).json()["data"]["rows"]] == ["CA"]
    nostate = api.run(
        "nostate@example.com",
        {"table_id": api.table_id("ORDERS"), "aggregations": [{"function": "count"}]},
    )
    assert nostate["data"]["rows"] == [[0]]


SLOW_MODEL = """
databases:
  - name: pg
    url: {url}
users:
  - {{email: admin@example.com, groups: [Administrators]}}
"""


@pytest.fixture
def slow_pg(
    postgres_database: str, tmp_path: Path, services: Callable[[Settings], Sextant]
) -> Iterator[tuple[Sextant, str]]:
    url = plain(postgres_database)
    with psycopg.connect(url, autocommit=True) as conn:
        conn.execute('CREATE VIEW "SLOW" AS SELECT g AS "N" FROM generate_series(1, 10000000000) g')
        conn.execute('CREATE TABLE "SMALL" AS SELECT g AS "N" FROM generate_series(1, 10) g')
    (tmp_path / "model.yaml").write_text(SLOW_MODEL.format(url=url))
    service = services(
        make_settings(tmp_path, config=tmp_path / "model.yaml", query_timeout_seconds=1.0)
    )
    service.apply()
    yield service, url


def active(url: str) -> list[str]:
    return [
        r[0]
        for r in hand(
            url,
            "SELECT query FROM pg_stat_activity WHERE datname = "
            "current_database() AND state = 'active' AND pid <> pg_backend_pid()",
        )
    ]


def test_timeout_cancels_the_statement_in_postgres(slow_pg: tuple[Sextant, str]) -> None:
    service, url = slow_pg
    api = AgentClient(service)
    body = {
        "table_id": api.table_id("SLOW"),
        "aggregations": [{"field_id": api.field(ADMIN, "SLOW", "N"), "function": "count-distinct"}],
    }
    token = api.construct(ADMIN, body).json()["query"]
    started = time.monotonic()
    answer = api.execute(ADMIN, token).json()
    assert answer == {"status": "failed", "error": "The query ran longer than 1 s and was stopped."}
    assert time.monotonic() - started < 5
    deadline = time.monotonic() + 3  # the server acknowledges a cancel within moments
    while [q for q in active(url) if "SLOW" in q] and time.monotonic() < deadline:
        time.sleep(0.05)
    assert not [q for q in active(url) if "SLOW" in q]  # nothing left running in the server
    small = {"table_id": api.table_id("SMALL"), "aggregations": [{"function": "count"}]}
    assert api.run(ADMIN, small)["data"]["rows"] == [[10]]


def test_outage_and_recovery_without_restart(pg_demo: tuple[Sextant, str]) -> None:
    service, url = pg_demo
    api = AgentClient(service)
    name = url.rsplit("/", 1)[1]
    products = {"table_id": api.table_id("PRODUCTS"), "aggregations": [{"function": "count"}]}
    token = api.construct(ANALYST, products).json()["query"]
    assert api.execute(ANALYST, token).json()["data"]["rows"] == [[200]]
    people = api.table_id("PEOPLE")
    state = api.field(CA, "PEOPLE", "STATE")
    admin = url.rsplit("/", 1)[0] + "/postgres"
    with psycopg.connect(admin, autocommit=True) as conn:
        conn.execute(f'ALTER DATABASE "{name}" ALLOW_CONNECTIONS false')
        conn.execute(
            "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = %s", (name,)
        )
    try:
        service.fingerprint_cache.clear()
        down = api.execute(ANALYST, token)
        assert down.status_code == 202 and down.json()["status"] == "failed"
        values = api.get(f"/table/{people}/field/{state}/values", CA)
        assert values.status_code == 503 and values.json()["error"] == "warehouse_unavailable"
    finally:
        with psycopg.connect(admin, autocommit=True) as conn:
            conn.execute(f'ALTER DATABASE "{name}" ALLOW_CONNECTIONS true')
    assert api.execute(ANALYST, token).json()["data"]["rows"] == [[200]]
    assert api.get(f"/table/{people}/field/{state}/values", CA).json()["values"] == ["CA"]
