"""Discovery on the demo through HTTP, as each demo user (issue 4)."""

from __future__ import annotations

import json
import math
from typing import Any

import duckdb
import pytest

from sextant.service import Sextant
from tests.agent_client import AgentClient

ANALYST = "analyst@example.com"
FINANCE = "finance@example.com"
ADMIN = "admin@example.com"
CA = "ca-manager@example.com"
NOSTATE = "nostate@example.com"
OUTSIDER = "outsider@example.com"
EVERYONE = (ADMIN, ANALYST, FINANCE, CA, NOSTATE, OUTSIDER)

ORDERS_OWN = [
    "ID",
    "USER_ID",
    "PRODUCT_ID",
    "SUBTOTAL",
    "TAX",
    "TOTAL",
    "DISCOUNT",
    "CREATED_AT",
    "QUANTITY",
]
PEOPLE_VISIBLE = [
    "ID",
    "ADDRESS",
    "EMAIL",
    "NAME",
    "CITY",
    "LONGITUDE",
    "STATE",
    "SOURCE",
    "BIRTH_DATE",
    "ZIP",
    "LATITUDE",
    "CREATED_AT",
]
PRODUCTS = ["ID", "EAN", "TITLE", "CATEGORY", "VENDOR", "PRICE", "RATING", "CREATED_AT"]


@pytest.fixture(scope="module")
def api(shared_service: Sextant) -> AgentClient:
    return AgentClient(shared_service)


def hand(service: Sextant, sql: str, *params: Any) -> list[tuple[Any, ...]]:
    path = service.settings.data_dir / "warehouse.duckdb"
    with duckdb.connect(str(path), read_only=True) as con:
        return [tuple(r) for r in con.execute(sql, list(params)).fetchall()]


def test_orders_detail_numbering_and_related_tables(api: AgentClient) -> None:
    orders, people, products = (api.table_id(n) for n in ("ORDERS", "PEOPLE", "PRODUCTS"))
    body = api.get(f"/table/{orders}", ANALYST).json()
    assert [f["name"] for f in body["fields"]] == ORDERS_OWN
    assert [f["field_id"] for f in body["fields"]] == [f"t{orders}-{i}" for i in range(9)]
    assert {k: body[k] for k in ("type", "id", "name", "display_name", "database_engine")} == {
        "type": "table",
        "id": orders,
        "name": "ORDERS",
        "display_name": "Orders",
        "database_engine": "duckdb",
    }
    related = {t["name"]: t for t in body["related_tables"]}
    assert list(related) == ["PEOPLE", "PRODUCTS"]
    assert related["PEOPLE"]["related_by"] == "USER_ID" and related["PEOPLE"]["id"] == people
    assert (
        related["PRODUCTS"]["related_by"] == "PRODUCT_ID" and related["PRODUCTS"]["id"] == products
    )
    ids = [f["field_id"] for f in related["PEOPLE"]["fields"]]
    assert [f["name"] for f in related["PEOPLE"]["fields"]] == PEOPLE_VISIBLE
    assert ids == [f"t{orders}-{i}" for i in range(9, 9 + len(PEOPLE_VISIBLE))]
    start = 9 + len(PEOPLE_VISIBLE)
    assert [f["field_id"] for f in related["PRODUCTS"]["fields"]] == [
        f"t{orders}-{i}" for i in range(start, start + len(PRODUCTS))
    ]
    category = next(f for f in related["PRODUCTS"]["fields"] if f["name"] == "CATEGORY")
    assert category["type"] == "string" and category["semantic_type"] == "type/Category"
    total = body["fields"][5]
    assert total == {
        "field_id": f"t{orders}-5",
        "name": "TOTAL",
        "display_name": "Total",
        "type": "number",
        "description": "What the customer paid: subtotal plus tax minus discount (revenue).",
        "database_type": "DOUBLE",
        "semantic_type": "type/Currency",
    }
    assert "field_values" not in total  # with-field-values defaults to false
    metrics = {m["name"]: m for m in body["metrics"]}
    assert sorted(metrics) == [
        "Average Order Value",
        "Cumulative Revenue",
        "Order Count",
        "Revenue Growth",
        "Revenue per Buyer",
        "Tax Rate",
        "Total Revenue",
    ]
    revenue = metrics["Total Revenue"]
    assert revenue["default_time_dimension_field_id"] == f"c{revenue['id']}-7"
    assert "measures" not in body and "segments" not in body


def test_types_dates_and_flags(api: AgentClient) -> None:
    people = api.table_id("PEOPLE")
    body = api.get(f"/table/{people}?with-related-tables=false&with-metrics=false", ANALYST).json()
    types = {f["name"]: f["type"] for f in body["fields"]}
    assert types["BIRTH_DATE"] == "date" and types["CREATED_AT"] == "datetime"
    assert types["LATITUDE"] == "number" and types["STATE"] == "string"
    assert "related_tables" not in body and "metrics" not in body
    bare = api.get(f"/table/{people}?with-fields=FALSE", ANALYST).json()
    assert bare["fields"] == []


def test_measures_segments_and_field_values_flags(api: AgentClient) -> None:
    orders = api.table_id("ORDERS")
    body = api.get(
        f"/table/{orders}?with-measures=true&with-segments=true&with-field-values=true", ANALYST
    ).json()
    assert [m["name"] for m in body["measures"]] == ["Sum of Total", "Total Tax"]
    assert [s["name"] for s in body["segments"]] == ["Large Orders"]
    assert set(body["segments"][0]) == {"id", "name", "display_name", "description"}
    quantity = next(f for f in body["fields"] if f["name"] == "QUANTITY")
    assert (
        quantity["field_values"] == sorted(quantity["field_values"])
        and 1 in quantity["field_values"]
    )
    assert "field_values" not in next(f for f in body["fields"] if f["name"] == "TOTAL")
    state = next(f for t in body["related_tables"] for f in t["fields"] if f["name"] == "STATE")
    assert len(state["field_values"]) == 49


def test_password_never_appears(api: AgentClient) -> None:
    people = api.table_id("PEOPLE")
    orders = api.table_id("ORDERS")
    secrets = {r[0] for r in hand(api.service, 'SELECT "PASSWORD" FROM "PEOPLE" LIMIT 50')}
    paths = [
        f"/table/{people}?with-field-values=true&with-segments=true&with-measures=true",
        f"/table/{orders}?with-field-values=true",
        *(
            f"/metric/{m}?with-field-values=true&with-segments=true"
            for m in api.service.snapshot().metrics
        ),
        *(f"/table/{people}/field/t{people}-{i}/values?limit=1000" for i in range(13)),
    ]
    for email in EVERYONE:
        for path in paths:
            text = api.get(path, email).text
            assert "PASSWORD" not in text and "Password" not in text, (email, path)
            assert not any(secret in text for secret in secrets), (email, path)


def test_metric_details(api: AgentClient) -> None:
    orders = api.table_id("ORDERS")
    expected_verified = {"Total Revenue": True, "Order Count": True, "Average Order Value": False}
    for name, verified in expected_verified.items():
        metric = api.metric_id(name)
        body = api.get(f"/metric/{metric}", ANALYST).json()
        assert body["type"] == "metric" and body["name"] == name and body["verified"] is verified
        dims = body["queryable_dimensions"]
        assert [d["field_id"] for d in dims] == [f"c{metric}-{i}" for i in range(len(dims))]
        assert [d["name"] for d in dims] == ORDERS_OWN + PEOPLE_VISIBLE + PRODUCTS
        assert body["default_time_dimension_field_id"] == f"c{metric}-7"
        assert "segments" not in body
    with_segments = api.get(f"/metric/{api.metric_id('Order Count')}?with-segments=true", ANALYST)
    assert [s["name"] for s in with_segments.json()["segments"]] == ["Large Orders"]
    lean = api.get(
        f"/metric/{api.metric_id('Order Count')}?with-default-temporal-breakout=false"
        "&with-queryable-dimensions=false",
        ANALYST,
    ).json()
    assert "default_time_dimension_field_id" not in lean and "queryable_dimensions" not in lean
    assert lean["verified"] is True
    del orders


FORBIDDEN = {"error": "forbidden", "message": "You don't have permissions to do that."}


def test_collection_permissions_on_metrics(api: AgentClient) -> None:
    gross, bulk = api.metric_id("Gross Sales"), api.metric_id("Bulk Revenue")
    assert api.get(f"/metric/{gross}", ANALYST).status_code == 403
    assert api.get(f"/metric/{gross}", ANALYST).json() == FORBIDDEN
    assert api.get(f"/metric/{gross}", FINANCE).status_code == 200
    for email in EVERYONE:
        assert api.get(f"/metric/{bulk}", email).status_code == (200 if email == ADMIN else 403)
    assert api.get(f"/metric/{gross}/field/c{gross}-0/values", ANALYST).status_code == 403
    orders = api.table_id("ORDERS")
    listed = {m["name"] for m in api.get(f"/table/{orders}", FINANCE).json()["metrics"]}
    assert "Gross Sales" in listed and "Bulk Revenue" not in listed
    listed_admin = {m["name"] for m in api.get(f"/table/{orders}", ADMIN).json()["metrics"]}
    assert {"Gross Sales", "Bulk Revenue"} <= listed_admin


def test_outsider_is_refused_everywhere(api: AgentClient) -> None:
    for table in api.service.snapshot().tables:
        response = api.get(f"/table/{table}", OUTSIDER)
        assert (response.status_code, response.json()) == (403, FORBIDDEN)
        assert api.get(f"/table/{table}/field/t{table}-0/values", OUTSIDER).status_code == 403
    for metric in api.service.snapshot().metrics:
        assert api.get(f"/metric/{metric}", OUTSIDER).status_code == 403


def test_unknown_ids_are_404(api: AgentClient) -> None:
    not_found = {"error": "not_found", "message": "Not found."}
    for path in (
        "/table/99999",
        "/metric/99999",
        "/table/abc",
        "/table/1.5",
        "/metric/-1",
        "/table/99999/field/t99999-0/values",
    ):
        response = api.get(path, ANALYST)
        assert (response.status_code, response.json()) == (404, not_found), path


def values(
    api: AgentClient, email: str, table: str, column: str, limit: int = 1000
) -> dict[str, Any]:
    table_id = api.table_id(table)
    body = api.get(f"/table/{table_id}", ADMIN).json()
    index = next(f["field_id"] for f in body["fields"] if f["name"] == column)
    response = api.get(f"/table/{table_id}/field/{index}/values?limit={limit}", email)
    assert response.status_code == 200, response.text
    return dict(response.json())


def test_state_values_per_user(api: AgentClient) -> None:
    analyst = values(api, ANALYST, "PEOPLE", "STATE")
    assert len(analyst["values"]) == 49 and analyst["statistics"]["distinct_count"] == 49
    ca = values(api, CA, "PEOPLE", "STATE")
    assert ca["values"] == ["CA"] and ca["statistics"]["distinct_count"] == 1
    nostate = values(api, NOSTATE, "PEOPLE", "STATE")
    assert nostate["values"] == [] and nostate["statistics"]["distinct_count"] == 0


def test_total_statistics_for_ca_manager_match_hand_sql(api: AgentClient) -> None:
    stats = values(api, CA, "ORDERS", "TOTAL")["statistics"]
    (row,) = hand(
        api.service,
        'SELECT count(DISTINCT o."TOTAL"), min(o."TOTAL"), max(o."TOTAL"), avg(o."TOTAL"), '
        'quantile_cont(o."TOTAL", 0.25), quantile_cont(o."TOTAL", 0.75), stddev_samp(o."TOTAL") '
        'FROM "ORDERS" o JOIN "PEOPLE" p ON p."ID" = o."USER_ID" WHERE p."STATE" = ?',
        "CA",
    )
    assert stats["distinct_count"] == row[0]
    for key, expected in zip(("min", "max", "avg", "q1", "q3", "sd"), row[1:], strict=True):
        assert math.isclose(stats[key], expected, rel_tol=1e-9), key
    everyone = values(api, ANALYST, "ORDERS", "TOTAL")["statistics"]
    assert everyone["distinct_count"] > stats["distinct_count"]


def test_related_field_values_use_the_related_tables_sandbox(api: AgentClient) -> None:
    orders = api.table_id("ORDERS")
    state = 9 + PEOPLE_VISIBLE.index("STATE")
    body = api.get(f"/table/{orders}/field/t{orders}-{state}/values", CA).json()
    assert body == {
        "field_id": f"t{orders}-{state}",
        "statistics": body["statistics"],
        "values": ["CA"],
        "has_more_values": False,
    }
    metric = api.metric_id("Total Revenue")
    via_metric = api.get(f"/metric/{metric}/field/c{metric}-{state}/values", CA).json()
    assert via_metric["values"] == ["CA"]


def test_field_id_errors(api: AgentClient) -> None:
    orders, people = api.table_id("ORDERS"), api.table_id("PEOPLE")
    cases = {
        "bad": (400, "invalid_request", "Invalid field_id format: bad"),
        f"t{orders}-x": (400, "invalid_request", f"Invalid field_id format: t{orders}-x"),
        f"t{people}-1": (
            400,
            "invalid_request",
            f"field t{people}-1 does not match expected prefix t{orders}-",
        ),
        f"c{orders}-1": (
            400,
            "invalid_request",
            f"field c{orders}-1 does not match expected prefix t{orders}-",
        ),
        f"t{orders}-999": (
            404,
            "not_found",
            f"field t{orders}-999 not found - no column at index 999",
        ),
    }
    for field, (status, code, message) in cases.items():
        response = api.get(f"/table/{orders}/field/{field}/values", ANALYST)
        assert response.status_code == status, field
        assert response.json() == {"error": code, "message": message}


def test_limits_and_flags_are_validated(api: AgentClient) -> None:
    people = api.table_id("PEOPLE")
    state = PEOPLE_VISIBLE.index("STATE")
    five = api.get(f"/table/{people}/field/t{people}-{state}/values?limit=5", ANALYST).json()
    assert len(five["values"]) == 5 and five["values"] == sorted(five["values"])
    default = api.get(f"/table/{people}/field/t{people}-{state}/values", ANALYST).json()
    assert len(default["values"]) == 30
    for query in ("limit=0", "limit=abc", "limit=1001", "limit=-1"):
        response = api.get(f"/table/{people}/field/t{people}-{state}/values?{query}", ANALYST)
        assert response.status_code == 400, query
        assert "limit" in response.json()["errors"]
    response = api.get(f"/table/{people}?with-fields=maybe&with-metrics=1", ANALYST)
    assert response.status_code == 400
    assert set(response.json()["errors"]) == {"with-fields", "with-metrics"}
    assert (
        api.get(f"/metric/{api.metric_id('Order Count')}?with-segments=yes", ANALYST).status_code
        == 400
    )


def test_high_cardinality_fields_have_no_values(api: AgentClient) -> None:
    body = values(api, ANALYST, "PEOPLE", "EMAIL")
    assert "values" not in body and body["statistics"]["percent_email"] == 1.0


def test_details_are_json_with_no_nulls(api: AgentClient) -> None:
    orders = api.table_id("ORDERS")
    body = api.get(f"/table/{orders}", ANALYST).json()

    def walk(node: Any) -> None:
        if isinstance(node, dict):
            for key, value in node.items():
                assert value is not None or key == "type", key
                walk(value)
        elif isinstance(node, list):
            for item in node:
                walk(item)

    walk(body)
    json.dumps(body)


def test_details_list_values_of_category_like_columns_only(api: AgentClient) -> None:
    """Found: ID, EAN and titles came with value lists in details (200 distinct of 200 rows).
    Now: declared categories and booleans, and columns whose values repeat (distinct values
    at most half the non-null rows, counted here by hand SQL); never keys."""
    products = api.table_id("PRODUCTS")
    body = api.get(f"/table/{products}?with-field-values=true", ANALYST).json()
    listed = {f["name"] for f in body["fields"] if "field_values" in f}
    expected = set()
    for field in body["fields"]:
        name = field["name"]
        distinct, non_null = hand(
            api.service, f'SELECT count(DISTINCT "{name}"), count("{name}") FROM "PRODUCTS"'
        )[0]
        keys = field.get("semantic_type") in {"type/PK", "type/FK"}
        category = field.get("semantic_type") == "type/Category" or field["type"] == "boolean"
        if not keys and distinct <= 1000 and (category or distinct <= non_null / 2):
            expected.add(name)
    assert listed == expected
    assert {"ID", "EAN", "TITLE"}.isdisjoint(listed) and "CATEGORY" in listed
    # the values endpoint still answers for any column, keys included
    ean = next(f["field_id"] for f in body["fields"] if f["name"] == "EAN")
    values = api.get(f"/table/{products}/field/{ean}/values?limit=500", ANALYST).json()
    assert len(values["values"]) == 200
