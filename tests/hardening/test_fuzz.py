"""Construct-query bodies, arbitrary and nearly valid: never a 500, every refusal in the
JSON error envelope, every acceptance a token that executes."""

from __future__ import annotations

import json
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from sextant.service import Sextant
from tests.agent_client import AgentClient

ANALYST = "analyst@example.com"

scalars = (
    st.none()
    | st.booleans()
    | st.integers(min_value=-(2**70), max_value=2**70)
    | st.floats(allow_nan=False)
    | st.text(max_size=30)
)
json_values = st.recursive(
    scalars,
    lambda inner: (
        st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=10), inner, max_size=4)
    ),
    max_leaves=20,
)
OPERATIONS = [
    "equals",
    "not-equals",
    "greater-than",
    "string-contains",
    "is-null",
    "year-equals",
    "month-equals",
    "bogus",
]
GRANULARITIES = ["day", "month", "day-of-week", "hour", "decade", None]


@pytest.fixture(scope="module")
def api(shared_service: Sextant) -> AgentClient:
    return AgentClient(shared_service)


def _check(api: AgentClient, body: Any) -> None:
    answer = api.request(
        "POST",
        "/construct-query",
        ANALYST,
        content=json.dumps(body).encode(),
        headers={"Content-Type": "application/json"},
    )
    assert answer.status_code < 500, (body, answer.text)
    if answer.status_code >= 400:
        envelope = answer.json()
        assert {"error", "message"} <= set(envelope) and envelope["message"], envelope
        return
    executed = api.execute(ANALYST, answer.json()["query"])
    assert executed.status_code == 202, executed.text
    result = executed.json()
    assert result["status"] in ("completed", "failed"), result
    if result["status"] == "failed":  # only engine refusals, never internals
        assert result["error"].startswith("The warehouse could not run the query (reference")


@settings(max_examples=150, deadline=None, suppress_health_check=list(HealthCheck))
@given(body=json_values)
def test_arbitrary_json(api: AgentClient, body: Any) -> None:
    _check(api, body)


@st.composite
def near_valid(draw: st.DrawFn, orders: int) -> dict[str, Any]:
    field = st.builds(
        lambda i, t: f"t{t}-{i}", st.integers(-1, 25), st.sampled_from([orders, orders + 1, 0])
    )
    value = json_values | st.sampled_from(["2024-01-01", "2024-01-01T10:00:00Z", "CA", 3])
    filt = st.fixed_dictionaries(
        {"field_id": field, "operation": st.sampled_from(OPERATIONS)},
        optional={
            "value": value,
            "values": st.lists(value, max_size=5),
            "bucket": st.sampled_from(["month", "day-of-week", "x"]),
        },
    )
    body: dict[str, Any] = {"table_id": draw(st.sampled_from([orders, orders, 999_999, -1]))}
    if draw(st.booleans()):
        body["filters"] = draw(st.lists(filt, max_size=4))
    if draw(st.booleans()):
        body["aggregations"] = draw(
            st.lists(
                st.fixed_dictionaries(
                    {"function": st.sampled_from(["count", "sum", "avg", "median"])},
                    optional={
                        "field_id": field,
                        "sort_order": st.sampled_from(["asc", "desc", "up"]),
                    },
                ),
                max_size=3,
            )
        )
    if draw(st.booleans()):
        body["group_by"] = draw(
            st.lists(
                st.fixed_dictionaries(
                    {"field_id": field},
                    optional={"field_granularity": st.sampled_from(GRANULARITIES)},
                ),
                max_size=3,
            )
        )
    if draw(st.booleans()):
        body["fields"] = draw(st.lists(st.fixed_dictionaries({"field_id": field}), max_size=3))
    if draw(st.booleans()):
        body["order_by"] = draw(
            st.lists(
                st.fixed_dictionaries(
                    {"field": st.fixed_dictionaries({"field_id": field})},
                    optional={"direction": st.sampled_from(["asc", "desc", "sideways"])},
                ),
                max_size=2,
            )
        )
    if draw(st.booleans()):
        body["limit"] = draw(st.integers(-2, 10**12) | st.text(max_size=3))
    if draw(st.booleans()):
        body[draw(st.text(min_size=1, max_size=8))] = draw(json_values)
    return body


@settings(max_examples=250, deadline=None, suppress_health_check=list(HealthCheck))
@given(data=st.data())
def test_nearly_valid_bodies(api: AgentClient, data: st.DataObject) -> None:
    _check(api, data.draw(near_valid(api.table_id("ORDERS"))))
