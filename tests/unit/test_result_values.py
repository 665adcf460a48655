"""Timestamps are written by Arrow in one pass for the UTC report zone: the same text the
value-by-value conversion writes, for every unit, zone and instant (generated); the execute
body is written in as few pieces as its size allows."""

from __future__ import annotations

import datetime as dt
import json

import pyarrow as pa
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from sextant.query.compile import OutputColumn
from sextant.query.results import QueryResult, _as_declared, _column_values, body_chunks

INSTANTS = st.datetimes(min_value=dt.datetime(1900, 1, 1), max_value=dt.datetime(2200, 1, 1))


@settings(max_examples=100, deadline=None)
@given(
    values=st.lists(st.none() | INSTANTS, max_size=20),
    unit=st.sampled_from(["s", "ms", "us", "ns"]),
    zone=st.sampled_from([None, "UTC", "America/New_York", "Asia/Kolkata", "+05:30"]),
)
def test_arrow_writes_what_python_writes(
    values: list[dt.datetime | None], unit: str, zone: str | None
) -> None:
    column = pa.chunked_array([pa.array(values, type=pa.timestamp("us", tz=zone))])
    column = column.cast(pa.timestamp(unit, tz=zone), safe=False)  # truncated to the unit
    one_by_one = [_as_declared("type/DateTime", "UTC")(v) for v in column.to_pylist()]
    assert _column_values(column, "type/DateTime", "UTC") == one_by_one
    assert all(t is None or t.endswith("Z") for t in one_by_one)


@pytest.mark.parametrize("rows", [0, 1, 499, 500, 501, 5000])
def test_the_body_is_one_piece_when_small_and_whole_when_joined(rows: int) -> None:
    columns = (OutputColumn("ID", "ID", "type/Integer"), OutputColumn("NAME", "Name", "type/Text"))
    values = [[n, f'name "{n}" é'] for n in range(rows)]
    result = QueryResult(columns, values, running_ms=3, truncated=True, row_limit=rows)
    pieces = list(body_chunks(result, {"database_id": 1}, chunk=4096))
    body = json.loads("".join(pieces))
    assert body["data"]["rows"] == values and body["row_count"] == rows
    assert body["truncated"] is True and body["database_id"] == 1
    if len("".join(pieces)) < 4096:
        assert len(pieces) == 1
    else:
        assert len(pieces) > 1 and all(len(p) < 4096 + 40_000 for p in pieces)


def test_values_that_do_not_fit_microseconds_keep_every_digit() -> None:
    column = pa.chunked_array([pa.array([1_000_000_001, -1, None], type=pa.timestamp("ns"))])
    assert _column_values(column, "type/DateTime", "UTC") == [
        "1970-01-01T00:00:01.000000001Z",
        "1969-12-31T23:59:59.999999999Z",
        None,
    ]


def _decimal_result(values: list[str | None], scale: int = 6) -> QueryResult:
    import decimal

    from sextant.query.results import result_from_arrow

    array = pa.array(
        [None if v is None else decimal.Decimal(v) for v in values], type=pa.decimal128(38, scale)
    )
    table = pa.table({"total": array, "n": pa.array(range(len(values)), type=pa.int64())})
    columns = (
        OutputColumn("total", "Total", "type/Decimal"),
        OutputColumn("n", "N", "type/Integer"),
    )
    return result_from_arrow(table, columns, row_cap=2000, cap_binds=True, running_ms=1)


def test_decimals_keep_every_digit_on_the_wire() -> None:
    result = _decimal_result(["55909065222.827692", None, "-0.000001", "12.500000"])
    body = "".join(body_chunks(result, batch=2))
    assert '"rows":[[55909065222.827692,0],[null,1],[-0.000001,2],[12.500000,3]]' in body
    parsed = json.loads(body, parse_float=str)
    assert parsed["data"]["rows"][0] == ["55909065222.827692", 0]
    assert result.rows[0][0] == pytest.approx(55909065222.827692)  # other consumers: floats
    again = QueryResult.from_cache(result.columns, json.loads(json.dumps(result.to_cache())))
    assert "".join(body_chunks(again)) == "".join(body_chunks(result))


def test_decimals_a_float_holds_are_written_as_before() -> None:
    result = _decimal_result(["1.5", "2.25", None])
    assert result.exact == {}
    body = "".join(body_chunks(result))
    assert '"rows":[[1.5,0],[2.25,1],[null,2]]' in body
