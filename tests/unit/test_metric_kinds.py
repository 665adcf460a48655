"""Pure logic of metric kinds: periods, their fit to a breakout, expressions, expansion."""

from __future__ import annotations

import pytest

from sextant.model.metric_kinds import (
    Binary,
    Number,
    Period,
    Ref,
    Unary,
    card_granularity,
    cycle,
    expand,
    index_units,
    parse_expression,
    parse_period,
    render,
    stored,
)


@pytest.mark.parametrize(
    ("text", "period"),
    [
        ("1 month", Period(1, "month")),
        ("30 days", Period(30, "day")),
        (" 2 Quarters ", Period(2, "quarter")),
    ],
)
def test_periods_parse(text: str, period: Period) -> None:
    assert parse_period(text) == period


@pytest.mark.parametrize(
    ("text", "needle"),
    [
        ("month", "write a count and a unit"),
        ("1 fortnight", "'fortnight' is not a unit"),
        ("0 days", "at least 1"),
        ("-1 day", "write a count and a unit"),
    ],
)
def test_bad_periods_are_refused_in_words(text: str, needle: str) -> None:
    with pytest.raises(ValueError, match=needle):
        parse_period(text)


@pytest.mark.parametrize(
    ("period", "granularity", "units"),
    [
        (Period(1, "month"), "month", 1),
        (Period(1, "year"), "month", 12),
        (Period(1, "year"), "quarter", 12),
        (Period(2, "quarter"), "year", None),
        (Period(4, "quarter"), "year", 12),
        (Period(1, "week"), "day", 7),
        (Period(14, "day"), "week", 14),
        (Period(10, "day"), "week", None),
        (Period(1, "month"), "week", None),
        (Period(1, "day"), "month", None),
        (Period(1, "day"), "hour", None),
    ],
)
def test_periods_fit_breakouts_in_whole_periods(
    period: Period, granularity: str, units: int | None
) -> None:
    if units is None:
        with pytest.raises(ValueError):
            index_units(period, granularity)
    else:
        assert index_units(period, granularity) == units


def test_expressions_parse_to_terms_and_render_back() -> None:
    term = parse_expression("revenue / last_month \u2212 1")
    assert term == Binary("-", Binary("/", Ref("revenue"), Ref("last_month")), Number(1.0))
    assert parse_expression(render(term)) == term
    assert parse_expression("-(a \u00d7 2) \u00f7 b") == Binary(
        "/", Unary(Binary("*", Ref("a"), Number(2.0))), Ref("b")
    )


@pytest.mark.parametrize(
    "text", ["a ** 2", "f(a)", "a.b", "a[0]", "'x'", "a if b else c", "a // b", "True", "a +"]
)
def test_anything_but_arithmetic_is_refused(text: str) -> None:
    with pytest.raises(ValueError):
        parse_expression(text)


DEFINITIONS = {
    "Revenue": {"aggregation": {"function": "sum", "column": "TOTAL"}},
    "Bulk": {
        "aggregation": {"function": "sum", "column": "TOTAL"},
        "filters": [{"column": "QUANTITY", "operation": "greater-than", "value": 2}],
    },
    "Share": {
        "type": "ratio",
        "numerator": {"metric": "Bulk"},
        "denominator": {"function": "sum", "column": "TOTAL"},
    },
    "Share Growth": {
        "type": "derived",
        "expression": "s / before - 1",
        "metrics": [
            {"metric": "Share", "alias": "s"},
            {"metric": "Share", "alias": "before", "offset": "1 year"},
        ],
    },
}


def test_derived_inputs_expand_to_parts_with_their_filters_and_offsets() -> None:
    parts, term = expand(DEFINITIONS, "Share Growth")
    assert set(parts) == {
        "s__numerator",
        "s__denominator",
        "before__numerator",
        "before__denominator",
    }
    assert parts["s__numerator"].filters == tuple(DEFINITIONS["Bulk"]["filters"])  # type: ignore[arg-type]
    assert parts["s__denominator"].filters == ()
    assert parts["before__numerator"].offset == "1 year"
    assert render(term) == (
        "(((s__numerator / s__denominator) / (before__numerator / before__denominator)) - 1.0)"
    )
    kept = stored(DEFINITIONS, "Share Growth")
    assert kept["type"] == "derived" and set(kept["parts"]) == set(parts)
    assert card_granularity(kept) == "year"
    assert card_granularity(stored(DEFINITIONS, "Share")) is None


def test_cycles_are_found_from_each_member() -> None:
    definitions = {
        "A": {"type": "derived", "metrics": [{"metric": "B"}]},
        "B": {"type": "derived", "metrics": [{"metric": "C"}, {"metric": "A"}]},
        "C": {"type": "simple"},
    }
    assert cycle(definitions, "A") == ["A", "B", "A"]
    assert cycle(definitions, "B") == ["B", "A", "B"]
    assert cycle(definitions, "C") is None


@pytest.mark.parametrize(
    "text",
    [
        "1e999",
        "9" * 400,
        "-" * 50_000 + "a",
        "+".join(["r"] * 3_000),
    ],
)
def test_hostile_expressions_are_refused_in_words(text: str) -> None:
    with pytest.raises(ValueError):
        parse_expression(text)


def test_a_card_groups_by_the_coarsest_unit_every_offset_fits() -> None:
    def offsets(*texts: str) -> dict[str, object]:
        return {"type": "derived", "parts": {str(i): {"offset": t} for i, t in enumerate(texts)}}

    assert card_granularity(offsets("1 year", "1 month")) == "month"
    assert card_granularity(offsets("1 year")) == "year"
    assert card_granularity(offsets("2 quarters", "1 year")) == "quarter"
    assert card_granularity(offsets("1 week", "3 days")) == "day"


def test_counting_parts_of_a_deep_chain_is_quick() -> None:
    from sextant.model.metric_kinds import part_count

    definitions: dict[str, dict[str, object]] = {"m0": {"type": "simple"}}
    for i in range(1, 60):
        definitions[f"m{i}"] = {
            "type": "derived",
            "metrics": [{"metric": f"m{i - 1}"}, {"metric": f"m{i - 1}"}],
        }
    assert part_count(definitions, "m59") == 2**59
    assert cycle(definitions, "m59") is None
