"""`check` on expressions in measures, metrics and segments: each refusal named on its line."""

from __future__ import annotations

import pytest

from sextant.checking import check_model
from sextant.demo.setup import DemoFiles

ENV = {"SEXTANT_JWT_SECRET": "x" * 32}

# (what the model says, what check must say about it)
REFUSED = [
    (
        "aggregation: {function: sum, expression: 'sum(TOTAL) * 2'}",
        "no aggregation inside an expression",
    ),
    (
        "aggregation: {function: sum, expression: 'upper(TOTAL)'}",
        "upper is not allowed here",
    ),
    ("aggregation: {function: sum, expression: 'TOTAL; drop table ORDERS'}", "no ';'"),
    ("aggregation: {function: sum, expression: '(select 1)'}", "subquery is not allowed"),
    ("aggregation: {function: sum, expression: 'TOTL * 2'}", "table ORDERS has no column 'TOTL'"),
    (
        "aggregation: {function: sum, expression: 'PRODUCTS.CATEGORY * 2'}",
        "* takes numbers; PRODUCTS.CATEGORY is string",
    ),
    (
        "aggregation: {function: sum, expression: \"case when TOTAL > 1 then 'a' else 'b' end\"}",
        "cannot sum a string expression",
    ),
    (
        "aggregation: {function: sum, expression: 'REVIEWS.RATING'}",
        "ORDERS has no chain of at most 2 foreign keys to REVIEWS",
    ),
    ("aggregation: {function: sum, expression: 'NOPE.X'}", "unknown table 'NOPE'"),
    (
        "aggregation: {function: sum, expression: 'TOTAL + CREATED_AT'}",
        "+ takes numbers; CREATED_AT is temporal",
    ),
    (
        "aggregation: {function: count, expression: \"TOTAL = 'x'\"}",
        "= compares values of one kind; TOTAL is number, 'x' is string",
    ),
    ("aggregation: {function: sum, expression: 'TOTAL = null'}", "write is null"),
]


def _measure(aggregation: str) -> str:
    return f"  - {{name: Probe, table: ORDERS, {aggregation}}}\n"


def _checked(demo: DemoFiles, extra_measures: str = "", extra_segments: str = "") -> str:
    text = demo.model.read_text()
    text = text.replace("\nmeasures:\n", "\nmeasures:\n" + extra_measures, 1)
    text = text.replace("\nsegments:\n", "\nsegments:\n" + extra_segments, 1)
    demo.model.write_text(text)
    return "\n".join(check_model(demo.model, ENV).render())


@pytest.mark.parametrize(("aggregation", "said"), REFUSED)
def test_a_measure_expression_that_cannot_be_used_is_refused_on_its_line(
    demo: DemoFiles, aggregation: str, said: str
) -> None:
    rendered = _checked(demo, _measure(aggregation))
    line = demo.model.read_text().splitlines().index(_measure(aggregation).rstrip("\n")) + 1
    assert said in rendered, rendered
    assert f"sextant.yaml:{line}: measures[0].aggregation.expression" in rendered, rendered


def test_good_expressions_and_conditions_pass(demo: DemoFiles) -> None:
    measures = (
        "  - {name: A, table: ORDERS, aggregation: "
        "{function: sum, expression: 'QUANTITY * PRODUCTS.PRICE - coalesce(DISCOUNT, 0)'}}\n"
        "  - {name: B, table: ORDERS, aggregation: {function: count-distinct, expression: "
        "\"case when PRODUCTS.CATEGORY in ('Widget') then USER_ID end\"}}\n"
        "  - {name: C, table: ORDERS, aggregation: {function: max, expression: "
        "\"coalesce(CREATED_AT, timestamp '2020-01-01 00:00:00')\"}}\n"
    )
    segments = (
        "  - {name: S, table: ORDERS, condition: "
        "\"TOTAL > SUBTOTAL or not (PEOPLE.STATE in ('CA', 'NY')) and DISCOUNT is null\"}\n"
        "  - {name: T, table: ORDERS, condition: \"CREATED_AT >= date '2024-01-01'\"}\n"
    )
    _checked(demo, measures, segments)
    assert check_model(demo.model, ENV).issues == ()


def test_a_segment_condition_must_be_true_or_false(demo: DemoFiles) -> None:
    segments = (
        "  - {name: S, table: ORDERS, condition: 'TOTAL * 2'}\n"
        "  - {name: T, table: ORDERS, condition: 'TOTAL > 1 and TAX'}\n"
    )
    rendered = _checked(demo, extra_segments=segments)
    assert "segments[0].condition: a condition is true or false, not a number" in rendered
    assert "segments[1].condition: and takes conditions; TAX is number" in rendered


def test_a_segment_needs_filters_or_a_condition(demo: DemoFiles) -> None:
    rendered = _checked(demo, extra_segments="  - {name: U, table: ORDERS}\n")
    assert "segments[0]: a segment needs filters or a condition" in rendered


def test_column_and_expression_are_exclusive(demo: DemoFiles) -> None:
    measures = (
        "  - {name: A, table: ORDERS, aggregation: "
        "{function: sum, column: TOTAL, expression: 'TOTAL * 2'}}\n"
        "  - {name: B, table: ORDERS, aggregation: {function: sum}}\n"
    )
    rendered = _checked(demo, measures)
    assert "give column or expression, not both" in rendered
    assert "aggregation 'sum' needs a column or an expression" in rendered
