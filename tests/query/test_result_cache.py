"""The result cache: repeated executions skip the warehouse, never across sandboxes."""

from __future__ import annotations

from collections.abc import Callable

import pytest
import redis
from sqlalchemy import select

from sextant.demo.setup import DemoFiles
from sextant.service import Sextant
from sextant.settings import Settings
from sextant.store import schema as s
from tests.agent_client import AgentClient
from tests.conftest import make_settings

ANALYST, CA = "analyst@example.com", "ca-manager@example.com"


def cached_flags(service: Sextant) -> list[bool]:
    service.queries.audit.flush()
    with service.engine.connect() as conn:
        details = conn.execute(
            select(s.audit_log.c.detail)
            .where(s.audit_log.c.action == "query.execute")
            .order_by(s.audit_log.c.id)
        ).scalars()
        return [bool(d and d.get("cached")) for d in details]


@pytest.mark.parametrize("shared", [False, True], ids=["memory", "redis"])
def test_cache_hits_and_sandbox_separation(
    demo: DemoFiles,
    services: Callable[[Settings], Sextant],
    shared: bool,
    request: pytest.FixtureRequest,
) -> None:
    redis_url = request.getfixturevalue("redis_url") if shared else None
    if redis_url:
        client = redis.Redis.from_url(redis_url)
        for key in client.scan_iter("sextant:result:*"):
            client.delete(key)
        client.close()
    service = services(
        make_settings(
            demo.data_dir, config=demo.model, result_cache_seconds=30, redis_url=redis_url
        )
    )
    service.sync()
    api = AgentClient(service)
    body = {
        "table_id": api.table_id("ORDERS"),
        "aggregations": [{"field_id": api.field(ANALYST, "ORDERS", "TOTAL"), "function": "sum"}],
        "group_by": [{"field_id": api.field(ANALYST, "ORDERS", "STATE", "USER_ID")}],
    }
    token = api.construct(ANALYST, body).json()["query"]
    first = api.execute(ANALYST, token).json()
    second = api.execute(ANALYST, token).json()
    assert first == second and len(first["data"]["rows"]) == 49
    as_ca = api.execute(CA, token).json()  # same token, other sandbox: other SQL, no hit
    assert [r[0] for r in as_ca["data"]["rows"]] == ["CA"]
    assert cached_flags(service) == [False, True, False]
