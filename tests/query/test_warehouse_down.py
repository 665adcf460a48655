"""A warehouse that disappears gives clean failures, and Sextant recovers when it is back."""

from __future__ import annotations

import shutil

from sextant.service import Sextant
from tests.agent_client import AgentClient

ANALYST = "analyst@example.com"


def test_missing_warehouse_then_recovery(demo_service: Sextant) -> None:
    api = AgentClient(demo_service)
    people = api.table_id("PEOPLE")
    body = {"table_id": api.table_id("PRODUCTS"), "aggregations": [{"function": "count"}]}
    token = api.construct(ANALYST, body).json()["query"]
    demo_service.warehouses.close()  # an open DuckDB file stays readable; start cold
    demo_service.fingerprint_cache.clear()
    demo_service.queries.forget_plans()
    warehouse = demo_service.settings.data_dir / "warehouse.duckdb"
    moved = warehouse.with_suffix(".away")
    shutil.move(warehouse, moved)
    try:
        answer = api.execute(ANALYST, token)
        assert answer.status_code == 202
        body_failed = answer.json()
        assert body_failed["status"] == "failed" and "warehouse" in body_failed["error"].lower()
        values = api.get(f"/table/{people}/field/t{people}-6/values", "ca-manager@example.com")
        assert values.status_code == 503
        assert values.json()["error"] == "warehouse_unavailable"
        assert values.headers["retry-after"] == "5"
    finally:
        shutil.move(moved, warehouse)
    assert api.execute(ANALYST, token).json()["data"]["rows"] == [[200]]
    assert api.get(f"/table/{people}/field/t{people}-6/values", "ca-manager@example.com").json()[
        "values"
    ] == ["CA"]
