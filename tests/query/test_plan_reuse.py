"""Plans reused across queries that differ only in their values (sextant.query.plans): the SQL
of a reused plan is exactly the SQL a fresh compilation writes, for every dialect and for
generated values (quotes, backslashes, signs, exponents); the compilation is skipped."""

from __future__ import annotations

from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import sextant.query.executor as executor
from sextant.auth.principal import Principal
from sextant.query.compile import Compiled, compile_query
from sextant.query.plans import PlanShapes
from sextant.query.resolve import Resolved, resolve
from sextant.query.spec import QueryRequest
from sextant.query.sql import DIALECTS, to_sql
from sextant.service import Sextant
from tests.agent_client import AgentClient

ANALYST = "analyst@example.com"
CA = "ca-manager@example.com"  # sandboxed to California

NUMBERS = st.integers(-(10**12), 10**12) | st.floats(
    -1e15, 1e15, allow_nan=False, allow_infinity=False
)
TEXTS = st.text(st.characters(exclude_categories=("Cs",), exclude_characters="\x00"), max_size=12)


def _principal(service: Sextant, email: str) -> Principal:
    return service.authenticate({"authorization": f"Bearer {_jwt(email)}"}, "test", None)


def _jwt(email: str) -> str:
    from sextant.auth.tokens import make_jwt
    from tests.conftest import TEST_SECRET

    return make_jwt(TEST_SECRET, email)


def _resolved(service: Sextant, who: Principal, body: dict[str, Any]) -> Resolved:
    norm, _ = service.queries.normalize(who, QueryRequest.model_validate(body))
    return resolve(norm, who, service.snapshot())


def _bodies(api: AgentClient, total: Any, state: Any, category: Any) -> list[dict[str, Any]]:
    orders = api.table_id("ORDERS")
    f = {
        name: api.field(ANALYST, "ORDERS", name)
        for name in ("TOTAL", "QUANTITY", "CREATED_AT", "ID")
    }
    people_state = api.field(ANALYST, "ORDERS", "STATE", via="USER_ID")
    product_category = api.field(ANALYST, "ORDERS", "CATEGORY", via="PRODUCT_ID")
    return [
        {  # a threshold and a breakout by month
            "table_id": orders,
            "aggregations": [{"function": "sum", "field_id": f["TOTAL"]}],
            "group_by": [{"field_id": f["CREATED_AT"], "temporal_unit": "month"}],
            "filters": [{"field_id": f["TOTAL"], "operation": "greater-than", "value": total}],
        },
        {  # lists of values through foreign keys, and a text test that is not reused
            "table_id": orders,
            "aggregations": [{"function": "count"}],
            "group_by": [{"field_id": people_state}],
            "filters": [
                {"field_id": people_state, "operation": "equals", "values": [state, "TX"]},
                {"field_id": product_category, "operation": "not-equals", "value": category},
                {"field_id": product_category, "operation": "string-contains", "value": "g"},
                {"field_id": f["QUANTITY"], "operation": "less-than-or-equal", "value": 3},
            ],
        },
        {  # raw rows, ordered, limited
            "table_id": orders,
            "fields": [{"field_id": f["ID"]}, {"field_id": f["TOTAL"]}],
            "filters": [{"field_id": f["TOTAL"], "operation": "equals", "values": [total, 1]}],
            "order_by": [{"field": {"field_id": f["ID"]}, "direction": "desc"}],
            "limit": 20,
        },
    ]


def _builder(service: Sextant, who: Principal) -> Any:
    snapshot = service.snapshot()
    database = next(iter(snapshot.databases.values()))
    opener = service.queries.schemas.opener(database.name, snapshot.version)

    def build(query: Resolved) -> Compiled:
        return compile_query(query, who, snapshot, opener, raw_cap=2000, aggregated_cap=10000)

    return build


@pytest.fixture(scope="module")
def api(shared_service: Sextant) -> AgentClient:
    return AgentClient(shared_service)


@settings(
    max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(total=NUMBERS, state=TEXTS, category=TEXTS, email=st.sampled_from([ANALYST, CA]))
def test_a_reused_plan_writes_what_a_fresh_compilation_writes(
    api: AgentClient, total: Any, state: str, category: str, email: str
) -> None:
    service = api.service
    who = _principal(service, email)
    build = _builder(service, who)
    shapes = PlanShapes()
    learn = _bodies(api, type(total)(7), "CA", "Widget")  # a shape is per type of value
    built: list[int] = []

    def counted(query: Resolved) -> Compiled:
        built.append(1)
        return build(query)

    for body, later in zip(learn, _bodies(api, total, state, category), strict=True):
        for engine in DIALECTS:
            shapes.compiled(_resolved(service, who, body), email, engine, counted)  # learns
            fresh = build(_resolved(service, who, later))
            built.clear()
            reused = shapes.compiled(_resolved(service, who, later), email, engine, counted)
            assert built == [], (engine, body)  # the plan was reused, not compiled
            assert reused.sql == to_sql(fresh.expr, engine), (engine, body)
            assert reused.columns == fresh.columns


def test_a_known_shape_is_not_compiled_again(
    api: AgentClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    service = api.service
    who = _principal(service, ANALYST)
    calls: list[int] = []
    real = executor.compile_query

    def counted(*args: Any, **kwargs: Any) -> Compiled:
        calls.append(1)
        return real(*args, **kwargs)

    monkeypatch.setattr(executor, "compile_query", counted)
    for n, value in enumerate([10.5, 20.75, 30.25, -4.5, 1e9 + 0.5]):
        body = _bodies(api, value, f"state {n}", "x")[0]
        service.queries._compile(who, _resolved(service, who, body), service.snapshot())
    assert len(calls) == 2  # the first: itself and its shape; the next four: none
