"""Generated parameter values never let a sandboxed caller see a row outside its sandbox.

Each example runs the lab cards as ca-manager (PEOPLE and ORDERS limited to STATE = CA) and
as nostate (no attribute: no rows) and compares with hand SQL that writes the sandbox out.
"""

from __future__ import annotations

import datetime as _dt
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.cards.conftest import FROM_ORDERS, Classic

CA, NOSTATE = "ca-manager@example.com", "nostate@example.com"
STATES = ["CA", "NY", "TX", "WA", "OR", "ZZ", "ca"]
WORDS = ["wallet", "Pants", "a", "steel", "%", "'", "zz"]

_days = st.dates(min_value=_dt.date(2021, 12, 1), max_value=_dt.date(2026, 1, 31))


def _period(pair: tuple[_dt.date, _dt.date]) -> str:
    low, high = sorted(pair)
    return f"{low.isoformat()}~{high.isoformat()}"


PARAMETERS: dict[str, Any] = {
    "state": st.lists(st.sampled_from(STATES), min_size=1, max_size=3),
    "min_total": st.floats(min_value=0, max_value=400, allow_nan=False).map(lambda x: round(x, 2)),
    "max_total": st.integers(min_value=0, max_value=400),
    "quantity": st.lists(st.integers(min_value=0, max_value=12), min_size=1, max_size=3),
    "period": st.tuples(_days, _days).map(_period),
    "title": st.sampled_from(WORDS),
    "vendor_not": st.lists(st.sampled_from(["Castillo LLC", "Nguyen Inc"]), min_size=1),
}


def _where(values: dict[str, Any]) -> tuple[str, list[Any]]:
    """The hand-written meaning of the parameters, ANDed with the sandbox."""
    parts, params = ["p.\"STATE\" = 'CA'"], []
    for slug, value in values.items():
        if slug == "state":
            parts.append(f'p."STATE" IN ({", ".join("?" for _ in value)})')
            params += value
        elif slug == "min_total":
            parts.append('o."TOTAL" >= ?')
            params.append(value)
        elif slug == "max_total":
            parts.append('o."TOTAL" <= ?')
            params.append(value)
        elif slug == "quantity":
            parts.append(f'o."QUANTITY" IN ({", ".join("?" for _ in value)})')
            params += value
        elif slug == "period":
            low, high = value.split("~")
            parts.append('CAST(o."CREATED_AT" AS DATE) BETWEEN CAST(? AS DATE) AND CAST(? AS DATE)')
            params += [low, high]
        elif slug == "title":
            parts.append('contains(lower(pr."TITLE"), lower(?))')
            params.append(value)
        elif slug == "vendor_not":
            marks = ", ".join("?" for _ in value)
            parts.append(f'(pr."VENDOR" IS NULL OR pr."VENDOR" NOT IN ({marks}))')
            params += value
    return " AND ".join(f"({p})" for p in parts), params


@settings(
    max_examples=40,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(values=st.fixed_dictionaries({}, optional=PARAMETERS))
def test_parameters_never_widen_a_sandbox(
    classic: Classic, hand: Any, values: dict[str, Any]
) -> None:
    where, params = _where(values)
    ids = sorted(r[0] for r in classic.rows(CA, "Parameter Lab Rows", **values))
    expected = sorted(r[0] for r in hand(f'SELECT o."ID" {FROM_ORDERS} WHERE {where}', params))
    assert ids == expected
    assert classic.rows(CA, "Parameter Lab", **values) == [[len(expected)]]
    assert classic.rows(NOSTATE, "Parameter Lab Rows", **values) == []
