"""Sandboxes and tokens at execution (issue 5): rows limited for the *executing* user."""

from __future__ import annotations

import base64
from typing import Any

import duckdb
import pytest

from sextant.service import Sextant
from tests.agent_client import AgentClient

ANALYST, FINANCE, CA, NOSTATE = (
    "analyst@example.com",
    "finance@example.com",
    "ca-manager@example.com",
    "nostate@example.com",
)


@pytest.fixture(scope="module")
def api(shared_service: Sextant) -> AgentClient:
    return AgentClient(shared_service)


def hand(api: AgentClient, sql: str) -> list[tuple[Any, ...]]:
    path = api.service.settings.data_dir / "warehouse.duckdb"
    with duckdb.connect(str(path), read_only=True) as con:
        return [tuple(r) for r in con.execute(sql).fetchall()]


def revenue_by_state(api: AgentClient, email: str) -> dict[str, Any]:
    orders = api.table_id("ORDERS")
    return {
        "table_id": orders,
        "aggregations": [{"field_id": api.field(email, "ORDERS", "TOTAL"), "function": "sum"}],
        "group_by": [{"field_id": api.field(email, "ORDERS", "STATE", via="USER_ID")}],
    }


def test_revenue_by_state_for_ca_manager_is_only_california(api: AgentClient) -> None:
    result = api.run(CA, revenue_by_state(api, CA))
    (expected,) = hand(
        api,
        'SELECT sum(o."TOTAL") FROM "ORDERS" o JOIN "PEOPLE" p ON p."ID" = o."USER_ID" '
        "WHERE p.\"STATE\" = 'CA'",
    )
    assert [r[0] for r in result["data"]["rows"]] == ["CA"]
    assert result["data"]["rows"][0][1] == pytest.approx(expected[0], rel=1e-9)
    everyone = api.run(ANALYST, revenue_by_state(api, ANALYST))
    assert len(everyone["data"]["rows"]) == 49


def test_people_and_raw_orders_for_ca_manager(api: AgentClient) -> None:
    people = api.run(
        CA,
        {
            "table_id": api.table_id("PEOPLE"),
            "fields": [{"field_id": api.field(CA, "PEOPLE", "STATE")}],
        },
    )
    assert {r[0] for r in people["data"]["rows"]} == {"CA"}
    (count,) = hand(api, 'SELECT count(*) FROM "PEOPLE" WHERE "STATE" = \'CA\'')
    assert people["row_count"] == count[0]
    orders = api.run(
        CA,
        {
            "table_id": api.table_id("ORDERS"),
            "fields": [
                {"field_id": api.field(CA, "ORDERS", "ID")},
                {"field_id": api.field(CA, "ORDERS", "STATE", via="USER_ID")},
            ],
        },
    )
    assert {r[1] for r in orders["data"]["rows"]} == {"CA"}
    (ca_orders,) = hand(
        api,
        'SELECT count(*) FROM "ORDERS" o JOIN "PEOPLE" p '
        'ON p."ID" = o."USER_ID" WHERE p."STATE" = \'CA\'',
    )
    assert orders["row_count"] == min(ca_orders[0], 2000)


def test_total_revenue_metric_for_ca_manager(api: AgentClient) -> None:
    metric = api.metric_id("Total Revenue")
    detail = api.get(f"/metric/{metric}", CA).json()
    created = next(
        d["field_id"] for d in detail["queryable_dimensions"] if d["name"] == "CREATED_AT"
    )
    result = api.run(
        CA, {"metric_id": metric, "group_by": [{"field_id": created, "field_granularity": "year"}]}
    )
    rows = hand(
        api,
        'SELECT date_trunc(\'year\', o."CREATED_AT"), sum(o."TOTAL") FROM "ORDERS" o '
        'JOIN "PEOPLE" p ON p."ID" = o."USER_ID" WHERE p."STATE" = \'CA\' GROUP BY 1 ORDER BY 1',
    )
    assert [r[0] for r in result["data"]["rows"]] == [r[0].isoformat() + "Z" for r in rows]
    for got, want in zip(result["data"]["rows"], rows, strict=True):
        assert got[1] == pytest.approx(want[1], rel=1e-9)


def test_nostate_gets_zero_rows(api: AgentClient) -> None:
    assert api.run(NOSTATE, revenue_by_state(api, NOSTATE))["data"]["rows"] == []
    count = api.run(
        NOSTATE, {"table_id": api.table_id("ORDERS"), "aggregations": [{"function": "count"}]}
    )
    assert count["data"]["rows"] == [[0]]
    products = api.run(
        NOSTATE, {"table_id": api.table_id("PRODUCTS"), "aggregations": [{"function": "count"}]}
    )
    assert products["data"]["rows"] == [[200]]  # PRODUCTS is not sandboxed


def test_a_token_runs_as_the_executing_user(api: AgentClient) -> None:
    token = api.construct(ANALYST, revenue_by_state(api, ANALYST)).json()["query"]
    for _ in range(2):  # a checked token is remembered per caller, never across callers
        as_analyst = api.execute(ANALYST, token).json()
        as_ca = api.execute(CA, token).json()
        assert len(as_analyst["data"]["rows"]) == 49
        assert [r[0] for r in as_ca["data"]["rows"]] == ["CA"]


def test_a_finance_token_is_403_for_the_analyst(api: AgentClient) -> None:
    metric = api.metric_id("Gross Sales")
    token = api.construct(FINANCE, {"metric_id": metric}).json()["query"]
    assert api.execute(FINANCE, token).json()["status"] == "completed"
    assert api.execute(FINANCE, token).json()["status"] == "completed"  # remembered
    refused = api.execute(ANALYST, token)
    assert refused.status_code == 403
    assert refused.json() == {
        "error": "forbidden",
        "message": "You don't have permissions to do that.",
    }
    assert api.construct(ANALYST, {"metric_id": metric}).status_code == 403


def test_a_changed_token_is_400(api: AgentClient) -> None:
    token = api.construct(ANALYST, revenue_by_state(api, ANALYST)).json()["query"]
    raw = bytearray(base64.urlsafe_b64decode(token))
    for position in (10, len(raw) // 2, len(raw) - 5):
        changed = bytearray(raw)
        changed[position] ^= 0x01
        forged = base64.urlsafe_b64encode(bytes(changed)).decode()
        response = api.execute(ANALYST, forged)
        assert response.status_code == 400, position
        assert response.json()["error"] == "invalid_query"
    flipped = token[:20] + ("A" if token[20] != "A" else "B") + token[21:]
    assert api.execute(ANALYST, flipped).status_code == 400
    for junk in ("", "not base64!", "e30=", "a" * 10):
        assert api.execute(ANALYST, junk).status_code == 400


def test_sandbox_also_applies_through_joins_from_an_unsandboxed_table(api: AgentClient) -> None:
    """REVIEWS is not sandboxed; PRODUCTS neither: a join sees everything. ORDERS -> PEOPLE
    is: grouping ORDERS by PEOPLE.SOURCE as ca-manager counts only Californian orders."""
    body = {
        "table_id": api.table_id("ORDERS"),
        "aggregations": [{"function": "count"}],
        "group_by": [{"field_id": api.field(CA, "ORDERS", "SOURCE", via="USER_ID")}],
    }
    rows = api.run(CA, body)["data"]["rows"]
    expected = hand(
        api,
        'SELECT p."SOURCE", count(*) FROM "ORDERS" o JOIN "PEOPLE" p '
        'ON p."ID" = o."USER_ID" WHERE p."STATE" = \'CA\' GROUP BY 1 ORDER BY 1',
    )
    assert [tuple(r) for r in rows] == expected
