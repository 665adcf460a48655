"""The MCP server through the official SDK's client, over streamable HTTP and over stdio:
every tool answers what the REST API answers for the same caller."""

from __future__ import annotations

import json
import os
import sys
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from typing import Any

import anyio
import httpx
import httpx2
import pytest
from mcp.client.session import ClientSession
from mcp.client.stdio import StdioServerParameters, stdio_client
from mcp.client.streamable_http import streamable_http_client

from sextant.auth.tokens import make_jwt
from sextant.operations.arguments import (
    CardRunArguments,
    FieldValuesArguments,
    MetricArguments,
    SearchArguments,
    TableArguments,
)
from sextant.query.spec import QueryRequest
from tests.conftest import TEST_SECRET
from tests.tooling.conftest import Live

ANALYST, CA, OUTSIDER = "analyst@example.com", "ca-manager@example.com", "outsider@example.com"
TOOL_NAMES = [
    "search",
    "get_table",
    "get_metric",
    "get_field_values",
    "query",
    "list_cards",
    "run_card",
]


def bearer(email: str, scope: str | None = None) -> dict[str, str]:
    claims = {"scope": scope} if scope is not None else {}
    return {"Authorization": f"Bearer {make_jwt(TEST_SECRET, email, **claims)}"}


@asynccontextmanager
async def http_session(live: Live, headers: dict[str, str]) -> AsyncIterator[ClientSession]:
    async with (
        httpx2.AsyncClient(headers=headers, timeout=60) as http,
        streamable_http_client(live.url + "/mcp", http_client=http) as (read, write),
        ClientSession(read, write) as session,
    ):
        await session.initialize()
        yield session


def run(body: Callable[[], Awaitable[Any]]) -> Any:
    return anyio.run(body)


def structured(result: Any) -> Any:
    assert not result.is_error, result.content
    assert json.loads(result.content[0].text) == result.structured_content
    return result.structured_content


def test_tools_are_listed_read_only_with_the_apis_schemas(live: Live) -> None:
    async def go() -> Any:
        async with http_session(live, bearer(ANALYST)) as session:
            return (await session.list_tools()).tools

    tools = run(go)
    assert [t.name for t in tools] == TOOL_NAMES
    for tool in tools:
        assert tool.annotations.read_only_hint is True
        assert tool.annotations.destructive_hint is False
    schemas = {t.name: t.input_schema for t in tools}
    assert schemas["query"] == QueryRequest.model_json_schema()
    assert schemas["get_table"] == TableArguments.model_json_schema()
    assert schemas["get_metric"] == MetricArguments.model_json_schema()
    assert schemas["search"] == SearchArguments.model_json_schema()
    assert schemas["get_field_values"] == FieldValuesArguments.model_json_schema()
    assert schemas["run_card"] == CardRunArguments.model_json_schema()


def test_every_tool_answers_like_the_rest_api(live: Live) -> None:
    orders = live.table_id("ORDERS")
    metric = live.card_id("Total Revenue")
    table = live.rest("GET", f"/api/agent/v1/table/{orders}", ANALYST).json()
    total = next(f["field_id"] for f in table["fields"] if f["name"] == "TOTAL")
    state = next(
        f["field_id"]
        for t in table["related_tables"]
        if t["related_by"] == "USER_ID"
        for f in t["fields"]
        if f["name"] == "STATE"
    )
    body = {
        "table_id": orders,
        "aggregations": [{"field_id": total, "function": "sum"}],
        "group_by": [{"field_id": state}],
    }
    token = live.rest("POST", "/api/agent/v1/construct-query", ANALYST, json=body).json()["query"]
    executed = live.rest("POST", "/api/agent/v1/execute", ANALYST, json={"query": token}).json()
    card = live.card_id("Revenue by State")
    card_run = live.rest(
        "POST",
        f"/api/card/{card}/query",
        ANALYST,
        json={"parameters": [{"slug": "state", "value": ["CA", "TX"]}]},
    ).json()
    rest = {
        "search": live.rest(
            "POST", "/api/agent/v1/search?limit=5", ANALYST, json={"term_queries": ["revenue"]}
        ).json(),
        "get_table": table,
        "get_metric": live.rest("GET", f"/api/agent/v1/metric/{metric}", ANALYST).json(),
        "get_field_values": live.rest(
            "GET", f"/api/agent/v1/table/{orders}/field/{state}/values?limit=10", ANALYST
        ).json(),
        "list_cards": live.rest("GET", "/api/agent/v1/cards", ANALYST).json(),
    }

    async def go() -> dict[str, Any]:
        async with http_session(live, bearer(ANALYST)) as session:
            calls = {
                "search": ("search", {"term_queries": ["revenue"], "limit": 5}),
                "get_table": ("get_table", {"table_id": orders}),
                "get_metric": ("get_metric", {"metric_id": metric}),
                "get_field_values": (
                    "get_field_values",
                    {"entity_type": "table", "entity_id": orders, "field_id": state, "limit": 10},
                ),
                "list_cards": ("list_cards", {}),
                "query": ("query", body),
                "run_card": (
                    "run_card",
                    {"card_id": card, "parameters": [{"slug": "state", "value": ["CA", "TX"]}]},
                ),
            }
            return {
                key: structured(await session.call_tool(name, args))
                for key, (name, args) in calls.items()
            }

    got = run(go)
    for key, expected in rest.items():
        answer = got[key]["cards"] if key == "list_cards" else got[key]
        assert answer == expected, key
    assert got["query"]["rows"] == executed["data"]["rows"]
    assert [c["name"] for c in got["query"]["columns"]] == ["STATE", "sum"]
    assert got["query"]["row_count"] == 49 and "truncated" not in got["query"]
    assert got["run_card"]["rows"] == card_run["data"]["rows"]
    assert got["run_card"]["card"] == {"id": card, "name": "Revenue by State"}


def test_sandboxes_forbidden_tables_and_unknown_cards_over_mcp(live: Live) -> None:
    orders, people = live.table_id("ORDERS"), live.table_id("PEOPLE")
    detail = live.rest("GET", f"/api/agent/v1/table/{people}", CA).json()
    state = next(f["field_id"] for f in detail["fields"] if f["name"] == "STATE")

    async def go() -> tuple[Any, ...]:
        async with http_session(live, bearer(CA)) as session:
            by_state = await session.call_tool(
                "run_card", {"card_id": live.card_id("Revenue by State")}
            )
            rows = await session.call_tool(
                "query", {"table_id": people, "fields": [{"field_id": state}]}
            )
        async with http_session(live, bearer(OUTSIDER)) as session:
            forbidden = await session.call_tool("get_table", {"table_id": orders})
            query = await session.call_tool("query", {"table_id": orders})
        async with http_session(live, {"X-API-Key": live.key}) as session:
            unknown = await session.call_tool("run_card", {"card_id": 99999})
            finance = await session.call_tool(
                "run_card", {"card_id": live.card_id("Gross Sales by Quarter")}
            )
            bad = await session.call_tool("query", {"table_id": "ORDERS"})
            wrong = await session.call_tool(
                "run_card",
                {
                    "card_id": live.card_id("Top Products"),
                    "parameters": [{"slug": "category", "value": "Gizmos"}],
                },
            )
        return by_state, rows, forbidden, query, unknown, finance, bad, wrong

    by_state, rows, forbidden, query, unknown, finance, bad, wrong = run(go)
    assert [r[0] for r in structured(by_state)["rows"]] == ["CA"]
    assert {r[0] for r in structured(rows)["rows"]} == {"CA"}
    for refused in (forbidden, query):
        assert refused.is_error
        assert refused.content[0].text == "You don't have permissions to do that."
    assert unknown.is_error
    assert unknown.content[0].text == "card_id 99999 is not in the allowed card list"
    assert finance.is_error  # outside the curated collection: not in the list at all
    assert "is not in the allowed card list" in finance.content[0].text
    assert bad.is_error and bad.content[0].text.startswith("Invalid arguments: table_id")
    assert wrong.is_error and "'Gizmos' is not an allowed value" in wrong.content[0].text


def test_results_are_cut_to_200_rows_and_30_kb_with_a_note(live: Live) -> None:
    orders, people = live.table_id("ORDERS"), live.table_id("PEOPLE")

    async def go() -> tuple[Any, Any]:
        async with http_session(live, bearer(ANALYST)) as session:
            narrow = await session.call_tool(
                "query", {"table_id": orders, "fields": [{"field_id": f"t{orders}-0"}]}
            )
            wide = await session.call_tool("query", {"table_id": people})
        return structured(narrow), structured(wide)

    narrow, wide = run(go)
    assert narrow["row_count"] == len(narrow["rows"]) == 200 and narrow["truncated"] is True
    assert narrow["note"] == (
        "results truncated to 200 rows of 2,000 or more; ask a more specific question"
    )
    size = len(json.dumps(wide, separators=(",", ":"), ensure_ascii=False).encode())
    assert size <= 30_000 and 0 < wide["row_count"] < 200, size
    assert wide["note"].startswith(f"results truncated to {wide['row_count']} rows of 2,000")


def test_scopes_declared_once_hold_over_mcp_too(live: Live) -> None:
    orders = live.table_id("ORDERS")
    everything_but_execute = "agent:table:read agent:metric:read agent:search agent:query:construct"

    async def go() -> tuple[Any, Any, Any]:
        async with http_session(live, bearer(ANALYST, everything_but_execute)) as session:
            query = await session.call_tool("query", {"table_id": orders, "limit": 1})
            card = await session.call_tool(
                "run_card", {"card_id": live.card_id("Revenue by Month")}
            )
            table = await session.call_tool("get_table", {"table_id": orders})
        return query, card, table

    query, card, table = run(go)
    for refused in (query, card):
        assert refused.is_error
        assert refused.content[0].text == "Insufficient scope for this operation."
    assert not table.is_error
    token = live.rest(
        "POST", "/api/agent/v1/construct-query", ANALYST, json={"table_id": orders, "limit": 1}
    ).json()["query"]
    rest = live.rest(
        "POST",
        "/api/agent/v1/execute",
        json={"query": token},
        headers=bearer(ANALYST, everything_but_execute),
    )
    assert rest.status_code == 403 and rest.json()["error"] == "unsupported_scope"


def test_the_http_endpoint_answers_401_like_the_rest_api(live: Live) -> None:
    body = {"jsonrpc": "2.0", "id": 1, "method": "tools/list"}
    for headers, code in (
        ({}, "missing_authorization"),
        ({"Authorization": "Basic x"}, "invalid_authorization_format"),
        ({"Authorization": "Bearer nope"}, "invalid_jwt"),
        ({"X-API-Key": "sxt_00000000_nope"}, None),
    ):
        response = httpx.post(live.url + "/mcp", json=body, headers=headers, timeout=10)
        assert response.status_code == 401, headers
        if code is not None:
            assert response.json()["error"] == code
        assert response.headers["www-authenticate"] == "Bearer"


def test_stdio_server_through_the_client(live: Live) -> None:
    env = {k: v for k, v in os.environ.items() if not k.startswith("SEXTANT_")}
    parameters = StdioServerParameters(
        command=sys.executable,
        args=["-m", "sextant", "mcp", "--url", live.url, "--api-key", live.key],
        env=env,
    )
    card = live.card_id("Revenue by State")

    async def go() -> tuple[Any, ...]:
        async with (
            stdio_client(parameters) as (read, write),
            ClientSession(read, write) as session,
        ):
            await session.initialize()
            tools = (await session.list_tools()).tools
            cards = await session.call_tool("list_cards", {})
            ran = await session.call_tool(
                "run_card", {"card_id": card, "parameters": [{"slug": "state", "value": ["CA"]}]}
            )
            unknown = await session.call_tool("run_card", {"card_id": 99999})
            return tools, cards, ran, unknown

    tools, cards, ran, unknown = run(go)
    assert [t.name for t in tools] == TOOL_NAMES
    rest_cards = httpx.get(
        live.url + "/api/agent/v1/cards", headers={"X-API-Key": live.key}, timeout=10
    ).json()
    assert structured(cards)["cards"] == rest_cards
    assert [r[0] for r in structured(ran)["rows"]] == ["CA"]
    assert unknown.is_error and "not in the allowed card list" in unknown.content[0].text


@pytest.mark.parametrize("how", ["api-key", "jwt"])
def test_sextant_mcp_refuses_missing_credentials(how: str, live: Live) -> None:
    import subprocess

    args = [sys.executable, "-m", "sextant", "mcp", "--url", live.url]
    if how == "jwt":
        args += ["--email", ANALYST]  # an email without a secret
    env = {k: v for k, v in os.environ.items() if not k.startswith("SEXTANT_")}
    done = subprocess.run(args, env=env, capture_output=True, text=True, timeout=60, check=False)
    assert done.returncode == 2 and "give --api-key" in done.stderr


def test_the_http_server_loads_the_mcp_sdk_only_when_asked() -> None:
    """The SDK costs ~20 MB resident: a server nobody speaks MCP to never imports it (the
    tests above show /mcp working once it is asked for)."""
    import subprocess

    script = (
        "import sys, sextant.http.app, sextant.service; "
        "print(sorted(m for m in sys.modules if m == 'mcp' or m.startswith('mcp.')))"
    )
    done = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, timeout=60, check=True
    )
    assert done.stdout.strip() == "[]", done.stdout
