"""Golden SQL per dialect for representative queries; `pytest --update-golden` rewrites them."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from sextant.query.sql import DIALECTS
from sextant.service import Sextant
from tests.agent_client import AgentClient

GOLDEN = Path(__file__).parent / "golden"
ADMIN, CA = "admin@example.com", "ca-manager@example.com"


def _cases(api: AgentClient) -> dict[str, tuple[str, dict[str, Any]]]:
    def f(table: str, column: str, via: str | None = None, email: str = ADMIN) -> str:
        return api.field(email, table, column, via)

    orders = api.table_id("ORDERS")
    bulk = api.metric_id("Bulk Revenue")
    bulk_created = f"c{bulk}-" + f("ORDERS", "CREATED_AT").split("-")[1]
    return {
        "raw_filtered_ordered": (
            ADMIN,
            {
                "table_id": orders,
                "fields": [{"field_id": f("ORDERS", "ID")}, {"field_id": f("ORDERS", "TOTAL")}],
                "filters": [
                    {"field_id": f("ORDERS", "TOTAL"), "operation": "greater-than", "value": 100},
                    {"field_id": f("ORDERS", "DISCOUNT"), "operation": "is-null"},
                ],
                "order_by": [{"field": {"field_id": f("ORDERS", "TOTAL")}, "direction": "desc"}],
                "limit": 10,
            },
        ),
        "revenue_by_month": (
            ADMIN,
            {
                "table_id": orders,
                "aggregations": [
                    {"field_id": f("ORDERS", "TOTAL"), "function": "sum", "sort_order": "desc"},
                    {"function": "count"},
                ],
                "group_by": [{"field_id": f("ORDERS", "CREATED_AT"), "field_granularity": "month"}],
            },
        ),
        "joined_category_contains": (
            ADMIN,
            {
                "table_id": orders,
                "filters": [
                    {
                        "field_id": f("ORDERS", "TITLE", "PRODUCT_ID"),
                        "operation": "string-contains",
                        "value": "Steel",
                    }
                ],
                "aggregations": [
                    {"field_id": f("ORDERS", "USER_ID"), "function": "count-distinct"}
                ],
                "group_by": [{"field_id": f("ORDERS", "CATEGORY", "PRODUCT_ID")}],
            },
        ),
        "weekday_extraction_filter": (
            ADMIN,
            {
                "table_id": orders,
                "filters": [
                    {
                        "field_id": f("ORDERS", "CREATED_AT"),
                        "operation": "month-equals",
                        "values": [1, 2],
                    },
                    {
                        "field_id": f("ORDERS", "CREATED_AT"),
                        "operation": "greater-than",
                        "value": "2024-01",
                        "bucket": "month",
                    }
                    if False
                    else {
                        "field_id": f("ORDERS", "CREATED_AT"),
                        "operation": "greater-than",
                        "value": "2024-01-01",
                        "bucket": "month",
                    },
                ],
                "aggregations": [{"function": "avg", "field_id": f("ORDERS", "QUANTITY")}],
                "group_by": [
                    {"field_id": f("ORDERS", "CREATED_AT"), "field_granularity": "day-of-week"}
                ],
            },
        ),
        "metric_with_own_filter": (
            ADMIN,
            {
                "metric_id": bulk,
                "group_by": [{"field_id": bulk_created, "field_granularity": "quarter"}],
            },
        ),
        "sandboxed_revenue_by_state": (
            CA,
            {
                "table_id": orders,
                "aggregations": [{"field_id": f("ORDERS", "TOTAL", email=CA), "function": "sum"}],
                "group_by": [{"field_id": f("ORDERS", "STATE", "USER_ID", CA)}],
            },
        ),
    }


@pytest.fixture(scope="module")
def compiled(shared_service: Sextant) -> Callable[[str, str], str]:
    api = AgentClient(shared_service)
    cases = _cases(api)

    def sql(name: str, dialect: str) -> str:
        email, body = cases[name]
        token = api.construct(email, body).json()["query"]
        principal = shared_service.credentials.principal_for(email)
        return shared_service.explain(principal, token, dialect).strip() + "\n"

    return sql


NAMES = [
    "raw_filtered_ordered",
    "revenue_by_month",
    "joined_category_contains",
    "weekday_extraction_filter",
    "metric_with_own_filter",
    "sandboxed_revenue_by_state",
]


@pytest.mark.parametrize("dialect", sorted(DIALECTS))
@pytest.mark.parametrize("name", NAMES)
def test_golden_sql(
    compiled: Callable[[str, str], str], name: str, dialect: str, request: pytest.FixtureRequest
) -> None:
    path = GOLDEN / f"{name}.{dialect}.sql"
    actual = compiled(name, dialect)
    if request.config.getoption("--update-golden"):
        path.parent.mkdir(exist_ok=True)
        path.write_text(actual)
    assert path.exists(), f"missing {path}; run pytest --update-golden"
    assert actual == path.read_text(), f"{path} differs; if intended, run pytest --update-golden"
