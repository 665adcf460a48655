"""Generated queries executed by sandboxed users never return a row outside their sandbox.

Each generated query is run as ca-manager (PEOPLE and ORDERS limited to STATE = CA) and
compared with hand SQL over the same DuckDB file with the sandbox written out by hand.
"""

from __future__ import annotations

from typing import Any

import duckdb
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from sextant.service import Sextant
from tests.agent_client import AgentClient

CA = "ca-manager@example.com"
NOSTATE = "nostate@example.com"

# (table alias, column, via FK on ORDERS, sample values)
COLUMNS = {
    "TOTAL": ("o", "TOTAL", None, [10, 50, 100, 150]),
    "QUANTITY": ("o", "QUANTITY", None, [1, 2, 3, 5]),
    "SOURCE": ("p", "SOURCE", "USER_ID", ["Organic", "Google", "Twitter"]),
    "STATE": ("p", "STATE", "USER_ID", ["CA", "NY", "TX"]),
    "CATEGORY": ("pr", "CATEGORY", "PRODUCT_ID", ["Widget", "Gizmo"]),
}
OPS = {"equals": "=", "not-equals": "<>", "greater-than": ">", "less-than": "<"}


@pytest.fixture(scope="module")
def api(shared_service: Sextant) -> AgentClient:
    return AgentClient(shared_service)


@st.composite
def queries(draw: st.DrawFn) -> dict[str, Any]:
    filters = []
    for _ in range(draw(st.integers(0, 3))):
        name = draw(st.sampled_from(sorted(COLUMNS)))
        numeric = name in ("TOTAL", "QUANTITY")
        op = draw(st.sampled_from(sorted(OPS) if numeric else ["equals", "not-equals"]))
        filters.append((name, op, draw(st.sampled_from(COLUMNS[name][3]))))
    group = draw(st.one_of(st.none(), st.sampled_from(["STATE", "SOURCE", "CATEGORY", "QUANTITY"])))
    return {"filters": filters, "group": group, "raw": draw(st.booleans())}


def hand(api: AgentClient, sql: str, params: list[Any]) -> list[tuple[Any, ...]]:
    path = api.service.settings.data_dir / "warehouse.duckdb"
    with duckdb.connect(str(path), read_only=True) as con:
        return [tuple(r) for r in con.execute(sql, params).fetchall()]


def _sql_filter(name: str, op: str) -> str:
    alias, column, _, _ = COLUMNS[name]
    if op == "not-equals":
        return f'({alias}."{column}" IS NULL OR {alias}."{column}" <> ?)'
    return f'{alias}."{column}" {OPS[op]} ?'


@settings(
    max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(spec=queries())
def test_generated_queries_stay_in_the_sandbox(api: AgentClient, spec: dict[str, Any]) -> None:
    ids = {n: api.field(CA, "ORDERS", c[1], via=c[2]) for n, c in COLUMNS.items()}
    filters = [{"field_id": ids[n], "operation": op, "value": v} for n, op, v in spec["filters"]]
    body: dict[str, Any] = {"table_id": api.table_id("ORDERS"), "filters": filters}
    where = ["p.\"STATE\" = 'CA'"] + [_sql_filter(n, op) for n, op, _ in spec["filters"]]
    params = [v for _, _, v in spec["filters"]]
    joins = (
        'FROM "ORDERS" o JOIN "PEOPLE" p ON p."ID" = o."USER_ID" '
        'LEFT JOIN "PRODUCTS" pr ON pr."ID" = o."PRODUCT_ID" WHERE ' + " AND ".join(where)
    )
    if spec["raw"] and spec["group"] is None:
        body["fields"] = [{"field_id": api.field(CA, "ORDERS", "ID")}]
        got = api.run(CA, body)["data"]["rows"]
        allowed = {r[0] for r in hand(api, f'SELECT o."ID" {joins}', params)}
        assert {r[0] for r in got} <= allowed
        assert len(got) == min(len(allowed), 2000)
        return
    body["aggregations"] = [{"function": "count"}, {"function": "sum", "field_id": ids["TOTAL"]}]
    if spec["group"] is None:
        (expected,) = hand(api, f'SELECT count(*), sum(o."TOTAL") {joins}', params)
        (row,) = api.run(CA, body)["data"]["rows"]
        assert row[0] == expected[0]
        assert row[1] == pytest.approx(expected[1]) if expected[1] is not None else row[1] is None
        return
    alias, column, _, _ = COLUMNS[spec["group"]]
    body["group_by"] = [{"field_id": ids[spec["group"]]}]
    expected_rows = hand(
        api,
        f'SELECT {alias}."{column}", count(*), sum(o."TOTAL") {joins} '
        "GROUP BY 1 ORDER BY 1 NULLS LAST",
        params,
    )
    got = api.run(CA, body)["data"]["rows"]
    assert [(r[0], r[1]) for r in got] == [(r[0], r[1]) for r in expected_rows]
    if spec["group"] == "STATE":
        assert {r[0] for r in got} <= {"CA"}


@settings(
    max_examples=15, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(spec=queries())
def test_a_user_without_the_attribute_sees_nothing(api: AgentClient, spec: dict[str, Any]) -> None:
    body: dict[str, Any] = {
        "table_id": api.table_id("ORDERS"),
        "aggregations": [{"function": "count"}],
    }
    if spec["group"]:
        _, column, via, _ = COLUMNS[spec["group"]]
        body["group_by"] = [{"field_id": api.field(NOSTATE, "ORDERS", column, via=via)}]
    rows = api.run(NOSTATE, body)["data"]["rows"]
    assert rows == ([] if spec["group"] else [[0]])
