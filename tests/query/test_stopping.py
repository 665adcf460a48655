"""Timeouts and disconnects really stop the warehouse's work; limits on concurrent queries."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import duckdb
import httpx
import pytest
from sqlalchemy import select

from sextant.auth.tokens import make_jwt
from sextant.service import Sextant
from sextant.settings import Settings
from sextant.store import schema as s
from tests.agent_client import AgentClient
from tests.conftest import TEST_SECRET, make_settings
from tests.servers import serve

MODEL = """
databases:
  - name: big
    url: duckdb://slow.duckdb
users:
  - {email: admin@example.com, groups: [Administrators]}
  - {email: other@example.com, groups: [Administrators]}
"""
ADMIN = "admin@example.com"


def build(path: Path) -> None:
    with duckdb.connect(str(path)) as con:
        # ten billion rows computed on the fly: any distinct count over it takes minutes
        con.execute(
            "CREATE VIEW SLOW AS SELECT range AS N, range % 97 AS K FROM range(10000000000)"
        )
        con.execute("CREATE TABLE SMALL AS SELECT range AS N FROM range(10)")


@pytest.fixture
def slow(
    request: pytest.FixtureRequest, tmp_path: Path, services: Callable[[Settings], Sextant]
) -> Sextant:
    """The slow warehouse; ``request.param`` (indirect) sets the query timeout."""
    timeout = float(getattr(request, "param", 1.0))
    build(tmp_path / "slow.duckdb")
    (tmp_path / "model.yaml").write_text(MODEL)
    service = services(
        make_settings(
            tmp_path,
            config=tmp_path / "model.yaml",
            query_timeout_seconds=timeout,
            max_queries_per_user=1,
            max_concurrent_queries=2,
            max_queued_queries=1,
        )
    )
    service.apply()
    return service


def slow_query(api: AgentClient) -> dict[str, object]:
    table = api.table_id("SLOW")
    return {
        "table_id": table,
        "aggregations": [{"field_id": api.field(ADMIN, "SLOW", "N"), "function": "count-distinct"}],
    }


def audits(service: Sextant) -> list[tuple[str, int | None]]:
    service.queries.audit.flush()
    with service.engine.connect() as conn:
        rows = conn.execute(
            select(s.audit_log.c.status, s.audit_log.c.duration_ms)
            .where(s.audit_log.c.action == "query.execute")
            .order_by(s.audit_log.c.id)
        ).all()
    return [(r.status, r.duration_ms) for r in rows]


def test_timeout_stops_the_query(slow: Sextant) -> None:
    api = AgentClient(slow)
    token = api.construct(ADMIN, slow_query(api)).json()["query"]
    started = time.monotonic()
    response = api.execute(ADMIN, token)
    elapsed = time.monotonic() - started
    assert response.status_code == 202
    assert response.json() == {
        "status": "failed",
        "error": "The query ran longer than 1 s and was stopped.",
    }
    # execute returns only once the DuckDB statement has ended: the interrupt stopped it
    assert elapsed < 5, elapsed
    assert audits(slow) == [("timeout", audits(slow)[0][1])]
    small = api.run(
        ADMIN, {"table_id": api.table_id("SMALL"), "aggregations": [{"function": "count"}]}
    )
    assert small["data"]["rows"] == [[10]]


@pytest.fixture
def live(slow: Sextant) -> Iterator[str]:
    from sextant.http import create_app

    with serve(create_app(slow.settings, slow)) as url:
        yield url + "/api/agent/v1"


@pytest.mark.parametrize("slow", [60.0], indirect=True)  # only the disconnect can stop it
def test_disconnect_cancels_the_query(slow: Sextant, live: str) -> None:
    api = AgentClient(slow)
    token = api.construct(ADMIN, slow_query(api)).json()["query"]
    headers = {"Authorization": f"Bearer {make_jwt(TEST_SECRET, ADMIN)}"}
    with pytest.raises(httpx.ReadTimeout):
        httpx.post(f"{live}/execute", json={"query": token}, headers=headers, timeout=0.7)
    deadline = time.monotonic() + 10
    while not audits(slow) and time.monotonic() < deadline:
        time.sleep(0.05)
    recorded = audits(slow)
    assert recorded and recorded[0][0] == "cancelled", recorded
    assert recorded[0][1] is not None and recorded[0][1] < 5000  # stopped, not run to the end
    assert slow.queries.gate.running == 0


def test_concurrency_limit_queues_then_refuses(slow: Sextant) -> None:
    api = AgentClient(slow)
    token = api.construct(ADMIN, slow_query(api)).json()["query"]
    results: list[int] = []

    def run() -> None:
        results.append(api.execute(ADMIN, token).status_code)

    first = threading.Thread(target=run)
    first.start()
    deadline = time.monotonic() + 5
    while slow.queries.gate.running == 0 and time.monotonic() < deadline:
        time.sleep(0.01)
    second = threading.Thread(target=run)  # per-user limit 1: waits in the queue (size 1)
    second.start()
    time.sleep(0.2)
    refused = api.execute(ADMIN, token)  # queue full
    assert refused.status_code == 429
    assert refused.headers["retry-after"] == "1"
    other = AgentClient(slow).construct("other@example.com", slow_query(api))
    assert other.status_code == 200
    first.join(10)
    second.join(10)
    assert results == [202, 202]


@pytest.mark.parametrize("slow", [60.0], indirect=True)  # only closing can stop it
def test_closing_stops_the_queries_under_way(slow: Sextant, live: str) -> None:
    """A server shutting down does not wait a query's whole time limit: closing the query
    engine stops what runs and returns once it has ended."""
    api = AgentClient(slow)
    token = api.construct(ADMIN, slow_query(api)).json()["query"]
    headers = {"Authorization": f"Bearer {make_jwt(TEST_SECRET, ADMIN)}"}
    answers: list[object] = []

    def run() -> None:
        answer = httpx.post(f"{live}/execute", json={"query": token}, headers=headers, timeout=30)
        answers.append(answer.json())

    thread = threading.Thread(target=run)
    thread.start()
    deadline = time.monotonic() + 5
    while slow.queries.gate.running == 0 and time.monotonic() < deadline:
        time.sleep(0.01)
    time.sleep(0.2)  # into DuckDB
    started = time.monotonic()
    slow.queries.close()
    assert time.monotonic() - started < 5
    thread.join(10)
    assert answers == [{"status": "failed", "error": "The query was cancelled."}]
    assert slow.queries.gate.running == 0
