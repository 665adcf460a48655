"""One operation table: scopes and limits are declared once, beside the operations, and the
HTTP routes and the MCP tools both enforce them."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import anyio
import pytest

from sextant.auth.principal import SCOPES
from sextant.operations.api import AgentAPI
from sextant.operations.table import OPERATIONS
from tests.tooling.conftest import Live
from tests.tooling.test_mcp import ANALYST, bearer, http_session

SRC = Path(__file__).resolve().parents[2] / "src" / "sextant"
TRANSPORTS = ["http", "mcp", "client", "cli"]


def test_every_operation_is_declared_once_with_its_scopes() -> None:
    marked = {
        getattr(AgentAPI, name).operation.name
        for name in dir(AgentAPI)
        if hasattr(getattr(AgentAPI, name), "operation")
    }
    assert marked == set(OPERATIONS)
    for op in OPERATIONS.values():
        assert set(op.scopes) <= set(SCOPES), op
    assert OPERATIONS["query"].scopes == ("agent:query:construct", "agent:query:execute")
    assert OPERATIONS["ping"].scopes == () and OPERATIONS["current_user"].scopes == ()


@pytest.mark.parametrize("package", TRANSPORTS)
def test_transports_declare_no_scope_and_no_limit(package: str) -> None:
    for path in (SRC / package).rglob("*.py"):
        text = path.read_text()
        # a scope as a value ("agent:search"); help texts may quote one as an example
        assert not re.search(r'"agent:(table|metric|search|query|\*)', text), path
        assert not re.search(r"\b(ge|le|max_length)=\d", text), path


def _mcp(live: Live, headers: dict[str, str], name: str, args: dict[str, Any]) -> Any:
    async def go() -> Any:
        async with http_session(live, headers) as session:
            return await session.call_tool(name, args)

    return anyio.run(go)


CASES = [
    # (operation, scope it needs, HTTP request, MCP tool call)
    (
        "table_detail",
        "agent:table:read",
        ("GET", "/api/agent/v1/table/{orders}", None),
        ("get_table", {"table_id": "{orders}"}),
    ),
    (
        "metric_detail",
        "agent:metric:read",
        ("GET", "/api/agent/v1/metric/{metric}", None),
        ("get_metric", {"metric_id": "{metric}"}),
    ),
    (
        "search",
        "agent:search",
        ("POST", "/api/agent/v1/search", {"term_queries": ["x"]}),
        ("search", {"term_queries": ["x"]}),
    ),
    ("query", "agent:query:execute", None, ("query", {"table_id": "{orders}", "limit": 1})),
    (
        "construct_query",
        "agent:query:construct",
        ("POST", "/api/agent/v1/construct-query", {"table_id": "{orders}"}),
        None,
    ),
    (
        "curated_cards",
        "agent:metric:read",
        ("GET", "/api/agent/v1/cards", None),
        ("list_cards", {}),
    ),
    (
        "run_card",
        "agent:query:execute",
        ("POST", "/api/card/{card}/query", {}),
        ("run_card", {"card_id": "{card}"}),
    ),
    ("cards", "agent:metric:read", ("GET", "/api/card", None), None),
    ("databases", "agent:table:read", ("GET", "/api/database", None), None),
]


def _fill(value: Any, ids: dict[str, int]) -> Any:
    if isinstance(value, str) and value.startswith("{") and value.endswith("}"):
        return ids[value[1:-1]]
    if isinstance(value, str):
        return value.format(**ids)
    if isinstance(value, dict):
        return {k: _fill(v, ids) for k, v in value.items()}
    if isinstance(value, list):
        return [_fill(v, ids) for v in value]
    return value


@pytest.mark.parametrize(("operation", "scope", "http", "tool"), CASES, ids=[c[0] for c in CASES])
def test_http_and_mcp_enforce_the_same_scope(
    live: Live, operation: str, scope: str, http: Any, tool: Any
) -> None:
    assert scope in OPERATIONS[operation].scopes
    ids = {
        "orders": live.table_id("ORDERS"),
        "metric": live.card_id("Total Revenue"),
        "card": live.card_id("Revenue by Month"),
    }
    without = " ".join(s for s in SCOPES if s != scope)
    if http is not None:
        method, path, body = _fill(list(http), ids)
        refused = live.rest(method, path, json=body, headers=bearer(ANALYST, without))
        assert (refused.status_code, refused.json()["error"]) == (403, "unsupported_scope")
        allowed = live.rest(method, path, json=body, headers=bearer(ANALYST, scope))
        assert allowed.status_code in (200, 202), allowed.text
    if tool is not None:
        name, args = _fill(list(tool), ids)
        result = _mcp(live, bearer(ANALYST, without), name, args)
        assert (
            result.is_error and result.content[0].text == "Insufficient scope for this operation."
        )
        result = _mcp(live, bearer(ANALYST, "agent:*"), name, args)
        assert not result.is_error, result.content


def test_limits_are_the_same_over_http_and_mcp(live: Live) -> None:
    orders = live.table_id("ORDERS")
    field = f"t{orders}-0"
    http = live.rest(
        "GET", f"/api/agent/v1/table/{orders}/field/{field}/values?limit=1001", ANALYST
    )
    assert http.status_code == 400 and "limit" in http.json()["errors"]
    tool = _mcp(
        live,
        bearer(ANALYST),
        "get_field_values",
        {"entity_type": "table", "entity_id": orders, "field_id": field, "limit": 1001},
    )
    assert (
        tool.is_error
        and "limit: Input should be less than or equal to 1000" in tool.content[0].text
    )
    too_many = {"term_queries": ["x"] * 21}
    assert live.rest("POST", "/api/agent/v1/search", ANALYST, json=too_many).status_code == 400
    tool = _mcp(live, bearer(ANALYST), "search", too_many)
    assert tool.is_error and "term_queries" in tool.content[0].text
