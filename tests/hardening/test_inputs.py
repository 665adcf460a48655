"""Inputs that crashed a request or slipped through to the engine: each is now a clear 4xx
(findings 5-12 and 14 of the security review), checked through the HTTP app."""

from __future__ import annotations

import base64
import json
import time
from collections.abc import Callable
from typing import Any

import jwt as pyjwt
import pytest

from sextant.demo.setup import DemoFiles
from sextant.service import Sextant
from sextant.settings import Settings
from tests.agent_client import AgentClient
from tests.conftest import TEST_SECRET, make_settings

ANALYST = "analyst@example.com"


@pytest.fixture(scope="module")
def api(shared_service: Sextant) -> AgentClient:
    return AgentClient(shared_service)


def _orders(api: AgentClient) -> int:
    return api.table_id("ORDERS")


def test_a_token_of_deeply_nested_json_is_invalid_not_a_500(api: AgentClient) -> None:
    for payload in (b"[" * 5000, b'{"v": 1, "q": ' + b"[" * 5000 + b"}", b'{"v":1,"q":{"kind":1}}'):
        token = base64.urlsafe_b64encode(payload).decode()
        answer = api.execute(ANALYST, token)
        assert answer.status_code == 400, answer.text
        assert answer.json()["error"] == "invalid_query"


def test_a_deeply_nested_body_is_400(api: AgentClient) -> None:
    for path in ("/construct-query", "/search", "/execute"):
        answer = api.request(
            "POST",
            path,
            ANALYST,
            content=b"[" * 100_000,
            headers={"Content-Type": "application/json"},
        )
        assert answer.status_code == 400, (path, answer.text)


@pytest.mark.parametrize("limit", ["²", "①", "٣", "1_0", " 5x", "-1"])
def test_limits_take_ascii_digits_only(api: AgentClient, limit: str) -> None:
    orders = _orders(api)
    values = api.get(f"/table/{orders}/field/t{orders}-0/values", ANALYST, params={"limit": limit})
    assert values.status_code == 400 and "limit" in values.json()["errors"], values.text
    search = api.request("POST", "/search", ANALYST, params={"limit": limit}, json={})
    assert search.status_code == 400 and "limit" in search.json()["errors"], search.text


def test_field_ids_take_ascii_digits_only(api: AgentClient) -> None:
    orders = _orders(api)
    for field in (f"t{orders}-\u0665", f"t{orders}-\uff15", f"t{orders}-\u00b2"):
        body = {"table_id": orders, "fields": [{"field_id": field}]}
        answer = api.construct(ANALYST, body)
        assert answer.status_code == 400, answer.text
        assert f"Invalid field_id format: {field}" in answer.text


@pytest.mark.parametrize(
    "value", ["9999-12-31T23:00:00-02:00", "0001-01-01T00:00:00+01:00", "9999-12-31T23:59:59-14:00"]
)
def test_datetimes_past_the_ends_of_the_calendar(api: AgentClient, value: str) -> None:
    orders = _orders(api)
    created = api.field(ANALYST, "ORDERS", "CREATED_AT")
    body = {
        "table_id": orders,
        "filters": [{"field_id": created, "operation": "greater-than", "value": value}],
    }
    answer = api.construct(ANALYST, body)
    assert answer.status_code == 400, answer.text
    assert "out of range" in answer.json()["message"]


def test_a_query_too_large_is_refused_at_construction(api: AgentClient) -> None:
    orders = _orders(api)
    title = api.field(ANALYST, "ORDERS", "TITLE", via="PRODUCT_ID")
    heavy = {
        "table_id": orders,
        "filters": [
            {
                "field_id": title,
                "operation": "string-not-contains",
                "values": [f"v{i}-{j}" for j in range(200)],
            }
            for i in range(50)
        ],
    }
    answer = api.construct(ANALYST, heavy)
    assert answer.status_code == 400, answer.text
    errors = answer.json()["errors"]
    assert errors["filters.values"].startswith("too many filter values: 10,000 (at most 1,000)")
    assert errors["filters.patterns"].startswith("too many values in text-pattern filters")
    long_text = {
        "table_id": orders,
        "filters": [{"field_id": title, "operation": "equals", "values": ["x" * 900] * 100}],
    }
    answer = api.construct(ANALYST, long_text)
    assert answer.status_code == 400 and "filters.text" in answer.json()["errors"]
    # the largest query that passes makes a token execute accepts
    largest = {
        "table_id": orders,
        "filters": [{"field_id": title, "operation": "equals", "values": ["y" * 655] * 100}],
    }
    built = api.construct(ANALYST, largest)
    assert built.status_code == 200, built.text
    assert api.execute(ANALYST, built.json()["query"]).json()["status"] == "completed"


@pytest.mark.parametrize(
    ("column", "operation", "value", "message"),
    [
        ("TITLE", "equals", "a\x00b", "must not contain NUL characters"),
        ("TITLE", "string-contains", "\ud800", "valid Unicode"),
        ("QUANTITY", "equals", 10**30, "out of range"),
        ("QUANTITY", "equals", 2**63, "out of range"),
        ("QUANTITY", "greater-than", 2**31, "out of range (-2147483648 to 2147483647)"),
        ("ID", "equals", 2**63, "out of range"),
        ("TOTAL", "greater-than", "NaN", "expected a number"),
        ("TOTAL", "greater-than", "1e999", "finite"),
        ("CREATED_AT", "year-equals", 1e20, "year must be between 1 and 9999"),
    ],
)
def test_values_the_engine_cannot_take_are_400_naming_the_field(
    api: AgentClient, column: str, operation: str, value: Any, message: str
) -> None:
    via = "PRODUCT_ID" if column == "TITLE" else None
    field = api.field(ANALYST, "ORDERS", column, via=via)
    body = {
        "table_id": _orders(api),
        "filters": [{"field_id": field, "operation": operation, "value": value}],
    }
    answer = api.request(
        "POST",
        "/construct-query",
        ANALYST,
        content=json.dumps(body).encode(),
        headers={"Content-Type": "application/json"},
    )
    assert answer.status_code == 400, answer.text
    problem = answer.json()["errors"]["filters[0].value"]
    assert message in problem and column in problem, problem


def test_failures_never_echo_engine_internals(
    demo: DemoFiles, services: Callable[[Settings], Sextant]
) -> None:
    service = services(make_settings(demo.data_dir, config=demo.model))
    service.sync()
    api = AgentClient(service)
    token = api.construct(ANALYST, {"table_id": _orders(api), "limit": 1}).json()["query"]
    service.warehouses.close()
    service.queries.forget_plans()
    warehouse = demo.data_dir / "warehouse.duckdb"
    warehouse.rename(demo.data_dir / "away.duckdb")
    try:
        failed = api.execute(ANALYST, token).json()
    finally:
        (demo.data_dir / "away.duckdb").rename(warehouse)
    assert failed["status"] == "failed"
    assert failed["error"].startswith("The warehouse is unavailable; try again later (reference ")
    assert "duckdb" not in failed["error"].lower() and str(demo.data_dir) not in failed["error"]


@pytest.mark.parametrize("claim", ["iat", "exp", "nbf"])
@pytest.mark.parametrize("value", [float("nan"), float("inf"), float("-inf"), 1.5])
def test_non_finite_or_fractional_times_are_refused(
    api: AgentClient, claim: str, value: float
) -> None:
    now = int(time.time())
    claims: dict[str, Any] = {"iat": now, "email": ANALYST, "exp": now + 60, "nbf": now - 1}
    claims[claim] = value
    token = pyjwt.encode(claims, TEST_SECRET.encode(), algorithm="HS256")
    answer = api.request("GET", "/ping", headers={"Authorization": f"Bearer {token}"})
    assert answer.status_code == 401 and answer.json()["error"] == "invalid_jwt"
    session = api.app_request("POST", "/auth/sso", json={"jwt": token})
    assert session.status_code == 401


def test_every_failed_credential_counts(
    demo: DemoFiles, services: Callable[[Settings], Sextant]
) -> None:
    service = services(make_settings(demo.data_dir, config=demo.model, auth_max_failures=3))
    service.apply()
    api = AgentClient(service)
    from sextant.auth.tokens import make_jwt

    good = f"Bearer {make_jwt(TEST_SECRET, ANALYST)}"
    for _ in range(3):  # a valid JWT does not hide bad guesses next to it
        answer = api.request(
            "GET", "/ping", headers={"Authorization": good, "X-Metabase-Session": "guess"}
        )
        assert answer.status_code == 200
    blocked = api.request("GET", "/ping", headers={"Authorization": good})
    assert blocked.status_code == 429 and blocked.headers["retry-after"]


def test_a_chunked_body_over_the_limit_is_413(
    demo: DemoFiles, services: Callable[[Settings], Sextant]
) -> None:
    service = services(make_settings(demo.data_dir, config=demo.model, max_request_bytes=1000))
    service.apply()
    api = AgentClient(service)

    async def chunks() -> Any:
        for _ in range(10):
            yield b" " * 500

    async def small_body() -> Any:
        for part in (b'{"table_id": ', str(_orders(api)).encode(), b', "limit": 1}'):
            yield part

    answer = api.request(
        "POST",
        "/construct-query",
        ANALYST,
        content=chunks(),
        headers={"Content-Type": "application/json"},
    )
    assert answer.status_code == 413 and answer.json()["error"] == "request_too_large"
    small = api.request(
        "POST",
        "/construct-query",
        ANALYST,
        content=small_body(),
        headers={"Content-Type": "application/json"},
    )
    assert small.status_code == 200, small.text


def test_405_says_allow_and_openapi_says_400(api: AgentClient) -> None:
    wrong = api.request("PUT", "/execute", ANALYST, json={})
    assert wrong.status_code == 405 and wrong.headers["allow"] == "POST"
    document = api.app_request("GET", "/openapi.json").json()
    responses = [
        op.get("responses", {}) for ops in document["paths"].values() for op in ops.values()
    ]
    assert not any("422" in r for r in responses)
    construct = document["paths"]["/api/agent/v1/construct-query"]["post"]["responses"]
    assert construct["400"]["content"]["application/json"]["schema"] == {
        "$ref": "#/components/schemas/ErrorBody"
    }


def test_auth_answers_are_not_stored(api: AgentClient) -> None:
    from sextant.auth.tokens import make_jwt

    ok = api.app_request("POST", "/auth/sso", json={"jwt": make_jwt(TEST_SECRET, ANALYST)})
    assert ok.status_code == 200 and ok.headers["cache-control"] == "no-store"
    refused = api.app_request("POST", "/auth/sso", json={"jwt": "nope"})
    assert refused.status_code == 401 and refused.headers["cache-control"] == "no-store"
    assert "cache-control" not in api.get("/ping", ANALYST).headers
