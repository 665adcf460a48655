"""The Python client (sync and async) against a real server: typed answers equal to the REST
API's, errors with the server's code and message, a fresh JWT per request, bounded retry."""

from __future__ import annotations

import shutil
import threading
import time
from typing import Any

import anyio
import pytest

from sextant.client import AgentClient, ApiError, AsyncAgentClient, QueryFailed
from sextant.operations.shapes import QueryResult, TableDetail
from sextant.service import Sextant
from tests.conftest import TEST_SECRET
from tests.tooling.conftest import Live

ANALYST, CA = "analyst@example.com", "ca-manager@example.com"


def test_sync_client_answers_like_the_rest_api(live: Live) -> None:
    orders = live.table_id("ORDERS")
    with AgentClient(live.url, jwt_secret=TEST_SECRET, email=ANALYST) as client:
        assert client.ping() == {"message": "pong"}
        table = client.table(orders, with_measures=True)
        assert isinstance(table, TableDetail)
        rest = live.rest("GET", f"/api/agent/v1/table/{orders}?with-measures=true", ANALYST).json()
        assert table.model_dump(exclude_unset=True) == rest
        total = next(f.field_id for f in table.fields if f.name == "TOTAL")
        body = {"table_id": orders, "aggregations": [{"function": "sum", "field_id": total}]}
        result = client.query(body)
        assert isinstance(result, QueryResult) and result.cols[0].name == "sum"
        token = client.construct_query(body)
        rest_rows = live.rest("POST", "/api/agent/v1/execute", ANALYST, json={"query": token})
        assert result.rows == rest_rows.json()["data"]["rows"]
        found = client.search(["orders"])
        rest_found = live.rest(
            "POST", "/api/agent/v1/search", ANALYST, json={"term_queries": ["orders"]}
        )
        assert found.model_dump(exclude_unset=True) == rest_found.json()
        assert "ORDERS" in [item.name for item in found.data]
        values = client.field_values("table", orders, total, limit=5)
        assert values.statistics["distinct_count"] > 5
        assert client.current_user().email == ANALYST
        assert [d.name for d in client.databases().data] == ["Sample Shop"]
        curated = next(c for c in client.collections() if c.name == "Curated")
        items = client.collection_items(curated.id, models=["card"])
        assert items.total == 6
        by_state = client.run_card(live.card_id("Revenue by State"), {"state": ["CA", "NY"]})
        assert [r["STATE"] for r in by_state.records()] == ["CA", "NY"]
        card = client.card(live.card_id("Top Products"))
        assert card.parameters[0].values == ["Doohickey", "Gadget", "Gizmo", "Widget"]


def test_pages_and_listings(live: Live) -> None:
    reviews = live.table_id("REVIEWS")
    body = {"table_id": reviews, "limit": 450}
    with AgentClient(live.url, jwt_secret=TEST_SECRET, email=ANALYST) as client:
        pages = list(client.pages(body, page_size=100))
        assert [p.row_count for p in pages] == [100, 100, 100, 100, 50]
        assert pages[-1].continuation_token is None
        rows = [row for p in pages for row in p.rows]
        assert len({repr(r) for r in rows}) == 450  # REVIEWS rows are distinct
        again = client.query_page(continuation_token=pages[2].continuation_token)
        assert again.rows == pages[3].rows
        tables = client.tables(limit=2)
        assert [t.name for t in tables.data] == ["ORDERS", "PEOPLE"] and tables.total_count == 4
        rest = live.rest("GET", "/api/agent/v1/metrics", ANALYST).json()
        assert client.metrics().model_dump(exclude_unset=True) == rest

    async def go() -> list[int]:
        async with AsyncAgentClient(live.url, jwt_secret=TEST_SECRET, email=ANALYST) as client:
            return [p.row_count async for p in client.pages(body, page_size=200)]

    assert anyio.run(go) == [200, 200, 50]


def test_async_client_and_sandboxes(live: Live) -> None:
    async def go() -> tuple[Any, Any, list[Any]]:
        async with AsyncAgentClient(live.url, jwt_secret=TEST_SECRET, email=CA) as client:
            rows = await client.run_card(live.card_id("Revenue by State"))
            cards = await client.curated_cards()
            async with AsyncAgentClient(live.url, api_key=live.key) as keyed:
                key_cards = await keyed.curated_cards()
            return rows, cards, key_cards

    rows, cards, key_cards = anyio.run(go)
    assert [r[0] for r in rows.rows] == ["CA"]
    assert {c.name for c in cards} == {c.name for c in key_cards}
    assert all(c.collection == "/Curated" for c in cards)


def test_errors_carry_the_servers_code_and_message(live: Live) -> None:
    outsider = AgentClient(live.url, jwt_secret=TEST_SECRET, email="outsider@example.com")
    with outsider as client, pytest.raises(ApiError) as refused:
        client.table(live.table_id("ORDERS"))
    assert (refused.value.status, refused.value.error) == (403, "forbidden")
    assert refused.value.message == "You don't have permissions to do that."
    with (
        AgentClient(live.url, api_key="sxt_00000000_nope") as client,
        pytest.raises(ApiError) as bad,
    ):
        client.ping()
    assert bad.value.status == 401
    with AgentClient(live.url, api_key=live.key) as client, pytest.raises(ApiError) as invalid:
        client.run_card(live.card_id("Top Products"), {"category": "Gizmos"})
    assert (
        invalid.value.status == 400 and "'Gizmos' is not an allowed value" in invalid.value.message
    )
    with pytest.raises(ValueError, match="exactly one"):
        AgentClient(live.url, api_key="a", session="b")


def test_a_fresh_jwt_for_every_request(live: Live, monkeypatch: pytest.MonkeyPatch) -> None:
    """A token minted once would be refused 200 s later; the client mints one per request."""
    with AgentClient(live.url, jwt_secret=TEST_SECRET, email=ANALYST) as client:
        assert client.ping() == {"message": "pong"}
        stale = client.credentials.headers()  # what a client reusing its token would send
        real = time.time
        monkeypatch.setattr(time, "time", lambda: real() + 200)  # client and server alike
        assert client.ping() == {"message": "pong"}
        assert live.rest("GET", "/api/agent/v1/ping", headers=stale).status_code == 401


def test_query_failed_on_a_failed_202(demo_service: Sextant, live_server: str) -> None:
    with AgentClient(live_server, jwt_secret=TEST_SECRET, email=ANALYST) as client:
        products = next(
            t.id for t in demo_service.snapshot().tables.values() if t.name == "PRODUCTS"
        )
        token = client.construct_query(
            {"table_id": products, "aggregations": [{"function": "count"}]}
        )
        demo_service.warehouses.close()
        demo_service.queries.forget_plans()
        warehouse = demo_service.settings.data_dir / "warehouse.duckdb"
        moved = warehouse.with_suffix(".away")
        shutil.move(warehouse, moved)
        try:
            with pytest.raises(QueryFailed) as failed:
                client.execute(token)
        finally:
            shutil.move(moved, warehouse)
        assert failed.value.status == 202 and "warehouse" in failed.value.message.lower()
        assert client.execute(token).rows == [[200]]


def test_429_is_retried_after_retry_after_a_bounded_number_of_times(
    demo: Any, services: Any
) -> None:
    from sextant.http import create_app
    from tests.conftest import make_settings
    from tests.servers import serve

    service = services(
        make_settings(
            demo.data_dir, config=demo.model, max_queries_per_user=1, max_queued_queries=0
        )
    )
    service.sync()
    card = next(m.id for m in service.snapshot().metrics.values() if m.name == "Order Count")
    analyst = service.credentials.principal_for(ANALYST)
    with serve(create_app(service.settings, service)) as url:
        held = service.queries.gate.admit(analyst.user_id)
        with AgentClient(url, jwt_secret=TEST_SECRET, email=ANALYST, retries=0) as client:
            with pytest.raises(ApiError) as busy:
                client.run_card(card)
            assert busy.value.status == 429
        threading.Timer(0.5, held.release).start()
        started = time.monotonic()
        with AgentClient(url, jwt_secret=TEST_SECRET, email=ANALYST, retries=3) as client:
            assert client.run_card(card).rows == [[18760]]
        assert 0.9 <= time.monotonic() - started < 10  # waited Retry-After (1 s), then ran
