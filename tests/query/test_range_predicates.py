"""``year-equals`` compiles to a range of the column, not ``EXTRACT(year …) IN (…)``, so
engines can prune partitions and use indexes; the rows are the same (the soundness suites
compare every year filter shape with hand SQL on each engine)."""

from __future__ import annotations

import re

import pytest

from sextant.service import Sextant
from tests.agent_client import AgentClient

ANALYST = "analyst@example.com"


@pytest.mark.parametrize("dialect", ["duckdb", "postgres", "mysql", "sqlite"])
@pytest.mark.parametrize(
    ("column", "operation"),
    [("CREATED_AT", "year-equals"), ("CREATED_AT", "year-not-equals")],
)
def test_year_filters_are_ranges(
    shared_service: Sextant, dialect: str, column: str, operation: str
) -> None:
    api = AgentClient(shared_service)
    body = {
        "table_id": api.table_id("ORDERS"),
        "filters": [
            {
                "field_id": api.field(ANALYST, "ORDERS", column),
                "operation": operation,
                "values": [2023, 2025],
            }
        ],
        "aggregations": [{"function": "count"}],
    }
    built = api.construct(ANALYST, body)
    assert built.status_code == 200, built.text
    principal = shared_service.credentials.principal_for(ANALYST)
    sql = shared_service.explain(principal, built.json()["query"], dialect)
    assert not re.search(r"EXTRACT\s*\(\s*YEAR|strftime\('%Y'|YEAR\s*\(", sql, re.I), sql
    for year in (2023, 2024, 2025, 2026):  # a literal, or DuckDB's constant MAKE_TIMESTAMP
        assert f"{year}-01-01" in sql or f"MAKE_TIMESTAMP({year}, 1, 1," in sql, (year, sql)
    assert ">=" in sql and "<" in sql


def test_a_month_filter_alone_still_extracts(shared_service: Sextant) -> None:
    """Months recur every year: no single range holds them (year + month prune by year)."""
    api = AgentClient(shared_service)
    body = {
        "table_id": api.table_id("ORDERS"),
        "filters": [
            {
                "field_id": api.field(ANALYST, "ORDERS", "CREATED_AT"),
                "operation": "month-equals",
                "values": [2],
            }
        ],
        "aggregations": [{"function": "count"}],
    }
    token = api.construct(ANALYST, body).json()["query"]
    principal = shared_service.credentials.principal_for(ANALYST)
    assert "EXTRACT" in shared_service.explain(principal, token, "duckdb").upper()
