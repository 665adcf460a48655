"""Bad input to construct-query and execute: a clear 4xx, never a 500, never code."""

from __future__ import annotations

from typing import Any

import pytest

from sextant.auth.tokens import make_jwt
from sextant.service import Sextant
from tests.agent_client import AgentClient
from tests.conftest import TEST_SECRET

ANALYST = "analyst@example.com"


@pytest.fixture(scope="module")
def api(shared_service: Sextant) -> AgentClient:
    return AgentClient(shared_service)


def construct(api: AgentClient, body: Any) -> tuple[int, dict[str, Any]]:
    response = api.construct(ANALYST, body)
    return response.status_code, response.json()


def test_malformed_json(api: AgentClient) -> None:
    for path in ("/construct-query", "/execute"):
        response = api.request(
            "POST",
            path,
            ANALYST,
            content=b'{"table_id": 1,',
            headers={"content-type": "application/json"},
        )
        assert response.status_code == 400
        assert response.json()["error"] == "invalid_request"


def test_wrong_types_are_all_reported_and_unknown_keys_ignored(api: AgentClient) -> None:
    orders = api.table_id("ORDERS")
    status, body = construct(
        api,
        {
            "table_id": str(orders),
            "limit": 0,
            "colour": "red",
            "filters": {"x": 1},
            "group_by": [{"field_granularity": 5}],
        },
    )
    assert status == 400
    assert {
        "table_id",
        "limit",
        "filters",
        "group_by.0.field_id",
        "group_by.0.field_granularity",
    } <= set(body["errors"])
    assert "colour" not in body["errors"]  # unknown keys are ignored, as Metabase ignores them
    status, body = construct(
        api,
        {
            "table_id": orders,
            "limit": 1,
            "colour": "red",
            "fields": [{"field_id": f"t{orders}-0", "size": "xl"}],
        },
    )
    assert status == 200
    assert body["warnings"] == [
        "unknown key colour was ignored",
        "unknown key fields[0].size was ignored",
    ]


@pytest.mark.parametrize(
    "body",
    [{}, {"filters": []}, [], "text", 5, None],
)
def test_neither_table_nor_metric(api: AgentClient, body: Any) -> None:
    status, answer = construct(api, body)
    assert status == 400 and answer["error"] == "invalid_request"


def test_unknown_table_and_metric(api: AgentClient) -> None:
    assert construct(api, {"table_id": 99999}) == (
        404,
        {"error": "not_found", "message": "No table found with table_id 99999"},
    )
    assert construct(api, {"metric_id": 99999})[0] == 404
    assert construct(api, {"table_id": api.table_id("ORDERS") * 0 + 99998})[0] == 404


def test_field_id_errors_keep_their_exact_wording(api: AgentClient) -> None:
    orders, people = api.table_id("ORDERS"), api.table_id("PEOPLE")
    base = {"table_id": orders}
    assert construct(api, base | {"fields": [{"field_id": "nope"}]}) == (
        400,
        {"error": "invalid_request", "message": "Invalid field_id format: nope"},
    )
    assert construct(api, base | {"fields": [{"field_id": f"t{people}-1"}]}) == (
        400,
        {
            "error": "invalid_request",
            "message": f"field t{people}-1 does not match expected prefix t{orders}-",
        },
    )
    assert construct(api, base | {"fields": [{"field_id": f"t{orders}-500"}]}) == (
        404,
        {
            "error": "not_found",
            "message": f"field t{orders}-500 not found - no column at index 500",
        },
    )


def test_typed_problems_all_at_once(api: AgentClient) -> None:
    orders = api.table_id("ORDERS")
    f = {name: api.field(ANALYST, "ORDERS", name) for name in ("TOTAL", "CREATED_AT", "QUANTITY")}
    products_segment = next(
        s.id for s in api.service.snapshot().segments.values() if s.name == "Widgets"
    )
    status, body = construct(
        api,
        {
            "table_id": orders,
            "filters": [
                {"field_id": f["TOTAL"], "operation": "greater-than", "value": "a lot"},
                {"field_id": f["CREATED_AT"], "operation": "month-equals", "value": 13},
                {"field_id": f["CREATED_AT"], "operation": "day-of-week-equals", "values": [0, 8]},
                {"field_id": f["TOTAL"], "operation": "string-contains", "value": "1"},
                {"field_id": f["TOTAL"], "operation": "equal", "value": 1},
                {"field_id": f["QUANTITY"], "operation": "is-true"},
                {"segment_id": products_segment},
                {"field_id": f["CREATED_AT"], "operation": "greater-than", "value": "yesterday"},
                {"field_id": f["TOTAL"], "operation": "is-null", "value": 3},
            ],
            "aggregations": [
                {"function": "median", "field_id": f["TOTAL"]},
                {"function": "sum", "field_id": f["CREATED_AT"]},
            ],
            "group_by": [
                {"field_id": f["TOTAL"], "field_granularity": "month"},
                {"field_id": f["CREATED_AT"], "field_granularity": "fortnight"},
            ],
        },
    )
    assert status == 400
    errors = body["errors"]
    assert errors["filters[0].value"] == "expected a number for TOTAL (number)"
    assert "between 1 and 12" in errors["filters[1].value"]
    assert "between 1 and 7" in errors["filters[2].value"]
    assert "does not apply to TOTAL" in errors["filters[3].operation"]
    assert "did you mean 'equals'?" in errors["filters[4].operation"]
    assert "does not apply to QUANTITY" in errors["filters[5].operation"]
    assert "belongs to another table" in errors["filters[6].segment_id"]
    assert "CREATED_AT" in errors["filters[7].value"]
    assert "takes no value" in errors["filters[8].value"]
    assert "did you mean 'median'" not in errors["aggregations[0].function"]
    assert "unknown aggregation function 'median'" in errors["aggregations[0].function"]
    assert "needs a number" in errors["aggregations[1].field_id"]
    assert "not a date or time" in errors["group_by[0].field_granularity"]
    assert "unknown granularity 'fortnight'" in errors["group_by[1].field_granularity"]
    assert len(errors) == 13
    assert "SELECT" not in str(body)


def test_structural_rules(api: AgentClient) -> None:
    orders = api.table_id("ORDERS")
    total, created = (api.field(ANALYST, "ORDERS", n) for n in ("TOTAL", "CREATED_AT"))
    mixed = construct(
        api,
        {
            "table_id": orders,
            "fields": [{"field_id": total}],
            "aggregations": [{"function": "count"}],
        },
    )
    assert mixed[0] == 400 and "fields" in mixed[1]["errors"]
    order = construct(
        api,
        {
            "table_id": orders,
            "aggregations": [{"function": "count"}],
            "order_by": [{"field": {"field_id": total}}],
        },
    )
    assert order[0] == 400 and "order_by[0]" in order[1]["errors"]
    metric = api.metric_id("Total Revenue")
    ignored = construct(
        api,
        {
            "metric_id": metric,
            "aggregations": [{"function": "count"}],
            "fields": [{"field_id": f"c{metric}-0"}],
            "order_by": [{"field": {"field_id": f"c{metric}-0"}}],
            "limit": 3,
        },
    )  # a metric query ignores what does not apply to it, as Metabase, and says so
    assert ignored[0] == 200, ignored
    assert ignored[1]["warnings"] == [
        f"{key} was ignored: a metric query takes only filters, group_by and sort_order "
        "(with limit)"
        for key in ("fields", "aggregations", "order_by", "limit")
    ]
    sorted_metric = construct(api, {"metric_id": metric, "sort_order": "desc", "limit": 3})
    assert sorted_metric[0] == 200 and "warnings" not in sorted_metric[1], sorted_metric
    on_a_table = construct(
        api, {"table_id": orders, "aggregations": [{"function": "count"}], "sort_order": "desc"}
    )
    assert on_a_table[0] == 200
    assert on_a_table[1]["warnings"] == [
        "sort_order was ignored: it orders a metric query; a table query's aggregations take "
        "their own sort_order"
    ]
    wrong = construct(api, {"metric_id": metric, "sort_order": "down"})
    assert wrong[0] == 400 and "sort_order" in str(wrong[1]), wrong
    both_ids = construct(api, {"table_id": orders, "metric_id": metric})
    assert both_ids[0] == 400
    assert both_ids[1]["message"] == "Give either table_id or metric_id, not both."
    both = construct(
        api,
        {
            "table_id": orders,
            "filters": [{"segment_id": 1, "field_id": created, "operation": "is-null"}],
        },
    )
    assert both[0] == 400
    negative = construct(api, {"table_id": orders, "limit": -5})
    assert negative[0] == 400 and "limit" in negative[1]["errors"]


def test_sql_in_values_is_just_a_value(api: AgentClient) -> None:
    title = api.field(ANALYST, "PRODUCTS", "TITLE")
    hostile = ['\'; DROP TABLE "PRODUCTS"; --', '" OR 1=1 --', "x') OR ('1'='1", "%", "_", "\\"]
    for value in hostile:
        for operation in ("equals", "string-contains", "string-starts-with"):
            result = api.run(
                ANALYST,
                {
                    "table_id": api.table_id("PRODUCTS"),
                    "filters": [{"field_id": title, "operation": operation, "value": value}],
                    "aggregations": [{"function": "count"}],
                },
            )
            assert result["data"]["rows"] == [[0]], (value, operation)
    still = api.run(
        ANALYST, {"table_id": api.table_id("PRODUCTS"), "aggregations": [{"function": "count"}]}
    )
    assert still["data"]["rows"] == [[200]]


def test_huge_bodies_are_refused(api: AgentClient) -> None:
    big = {"table_id": 1, "filters": [{"segment_id": 1}] * 10, "padding": "x" * 2_000_000}
    response = api.construct(ANALYST, big)
    assert response.status_code == 413
    assert response.json()["error"] == "request_too_large"
    many = {"table_id": api.table_id("ORDERS"), "filters": [{"segment_id": 1}] * 101}
    assert api.construct(ANALYST, many).status_code == 400


def test_execute_body_shapes(api: AgentClient) -> None:
    for body in ({}, {"query": 5}, {"query": ""}, {"query": "x", "extra": 1}, [], "q"):
        response = api.request("POST", "/execute", ANALYST, json=body)
        assert response.status_code == 400, body
        assert {"error", "message"} <= set(response.json())


def test_json_syntax_and_shape_errors_say_where_and_what(demo_service: Sextant) -> None:
    """Found: a trailing comma answered `{"33": "JSON decode error"}`; an object where a list
    goes answered "Input should be a valid list"."""
    api = AgentClient(demo_service)
    token = make_jwt(TEST_SECRET, "analyst@example.com")
    headers = {"Authorization": f"Bearer {token}", "Content-Type": "application/json"}
    broken = api.app_request(
        "POST",
        "/api/agent/v1/construct-query",
        content='{\n  "table_id": 1,\n  "limit": 5,\n}',
        headers=headers,
    )
    assert broken.status_code == 400
    message = broken.json()["errors"]["body"]
    assert message.startswith("not valid JSON at line 4, column 1:"), message
    shaped = api.app_request(
        "POST",
        "/api/agent/v1/construct-query",
        json={"table_id": 1, "filters": {"field_id": "t1-1"}},
        headers=headers,
    )
    assert shaped.status_code == 400
    assert shaped.json()["errors"]["filters"].startswith("write a list ("), shaped.json()
