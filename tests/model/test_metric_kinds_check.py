"""`check` on ratio, derived and cumulative metrics: each mistake named, with a did-you-mean."""

from __future__ import annotations

from pathlib import Path

import pytest

from sextant.model.loader import load_model_text
from sextant.model.validate import validate_model

R = "    metrics: [{metric: Total Revenue, alias: r}]"
DEMO = Path(__file__).resolve().parents[2] / "src" / "sextant" / "demo" / "sextant.yaml"


def _issues(extra: str) -> list[tuple[str, str | None]]:
    """(message, suggestion) of every problem of the demo model with ``extra`` metrics added."""
    text = DEMO.read_text().replace("\nmeasures:\n", extra + "\nmeasures:\n", 1)
    loaded = load_model_text(text, {})
    if loaded.model is None:
        return [(i.message, i.suggestion) for i in loaded.issues]
    return [(i.message, i.suggestion) for i in validate_model(loaded.model, loaded.lines)]


def _metric(name: str, body: str) -> str:
    return f"""
  - name: {name}
    collection: Curated
    table: ORDERS
    default_time_dimension: CREATED_AT
{body}"""


def test_the_demo_model_with_its_four_new_metrics_is_clean() -> None:
    assert _issues("") == []


def test_cycles_between_derived_metrics_are_named() -> None:
    extra = _metric(
        "A",
        "    type: derived\n    expression: b + 1\n    metrics: [{metric: B, alias: b}]",
    ) + _metric(
        "B",
        "    type: derived\n    expression: a * 2\n    metrics: [{metric: A, alias: a}]",
    )
    messages = [m for m, _ in _issues(extra)]
    assert "derived metrics refer to each other: A -> B -> A" in messages
    assert "derived metrics refer to each other: B -> A -> B" in messages


def test_a_unit_that_cannot_offset_gets_a_did_you_mean() -> None:
    extra = _metric(
        "Growth",
        "    type: derived\n    expression: r / p\n"
        "    metrics: [{metric: Total Revenue, alias: r},"
        " {metric: Total Revenue, alias: p, offset: 1 mnth}]",
    )
    found = _issues(extra)
    assert any("'mnth' is not a unit that can offset" in m and s == "month" for m, s in found), (
        found
    )


def test_a_ratio_over_two_tables_is_refused() -> None:
    extra = """
  - name: Per Person
    collection: Curated
    table: PEOPLE
    type: ratio
    numerator: {metric: Total Revenue}
    denominator: {function: count}
"""
    messages = [m for m, _ in _issues(extra)]
    assert any(
        "Total Revenue is a metric of ORDERS, Per Person of PEOPLE" in m for m in messages
    ), messages


def test_an_unknown_input_metric_gets_a_did_you_mean() -> None:
    extra = _metric(
        "Growth",
        "    type: derived\n    expression: r - 1\n    metrics: [{metric: Total Revenu, alias: r}]",
    )
    assert ("unknown metric 'Total Revenu'", "Total Revenue") in _issues(extra)


@pytest.mark.parametrize(
    ("body", "needle"),
    [
        ("    type: ratio\n    numerator: {function: sum, column: TOTAL}", "needs denominator"),
        (
            "    type: cumulative\n    aggregation: {function: avg, column: TOTAL}",
            "a running avg cannot be built from its periods",
        ),
        (
            "    type: cumulative\n    aggregation: {function: sum, column: TOTAL}\n"
            "    window: 3 months\n    grain: year",
            "give window or grain, not both",
        ),
        (
            "    type: cumulative\n    aggregation: {function: sum, column: TOTAL}\n"
            "    grain: decade",
            "unknown grain 'decade'",
        ),
        (
            "    type: derived\n    expression: r + q\n" + R,
            "unknown input 'q'",
        ),
        (
            "    type: derived\n    expression: r\n    metrics: [{metric: Total Revenue, alias: r},"
            " {metric: Order Count, alias: n}]",
            "the input 'n' is not used",
        ),
        (
            "    type: derived\n    expression: __import__('os')\n"
            "    metrics: [{metric: Total Revenue, alias: r}]",
            "is not allowed in a metric expression",
        ),
        (
            "    type: derived\n    expression: r ** 2\n" + R,
            "is not allowed in a metric expression",
        ),
        (
            "    type: derived\n    expression: c + 1\n"
            "    metrics: [{metric: Cumulative Revenue, alias: c}]",
            "Cumulative Revenue is cumulative",
        ),
        (
            "    type: ratio\n    numerator: {metric: Tax Rate}\n"
            "    denominator: {function: count}",
            "Tax Rate is a ratio metric",
        ),
        (
            "    aggregation: {function: sum, column: TOTAL}\n    window: 3 months",
            "window does not apply",
        ),
    ],
)
def test_each_mistake_is_named(body: str, needle: str) -> None:
    messages = [m for m, _ in _issues(_metric("Broken", body))]
    assert any(needle in m for m in messages), messages


def test_time_dimension_is_required_along_time() -> None:
    extra = """
  - name: Running
    collection: Curated
    table: ORDERS
    type: cumulative
    aggregation: {function: sum, column: TOTAL}
"""
    messages = [m for m, _ in _issues(extra)]
    assert any("set default_time_dimension" in m for m in messages), messages


def test_aliases_that_could_collide_with_inner_parts_are_refused() -> None:
    extra = _metric(
        "Collide",
        "    type: derived\n    expression: x__a + 1\n"
        "    metrics: [{metric: Total Revenue, alias: x__a}]",
    )
    assert any("single underscores" in m for m, _ in _issues(extra))


def test_the_same_table_written_with_and_without_its_database_is_the_same_table() -> None:
    extra = """
  - name: Per Buyer Again
    collection: Curated
    database: Sample Shop
    table: ORDERS
    type: ratio
    numerator: {metric: Total Revenue}
    denominator: {function: count-distinct, column: USER_ID}
"""
    assert _issues(extra) == []


def test_offsets_in_days_and_in_months_cannot_mix() -> None:
    extra = _metric(
        "Mixed",
        "    type: derived\n    expression: r - w - m\n"
        "    metrics: [{metric: Total Revenue, alias: r},"
        " {metric: Total Revenue, alias: w, offset: 1 week},"
        " {metric: Total Revenue, alias: m, offset: 1 month}]",
    )
    assert any("cannot be mixed" in m for m, _ in _issues(extra))


def test_a_chain_that_doubles_at_each_level_is_refused_quickly() -> None:
    def level(i: int) -> str:
        below = "Total Revenue" if i == 0 else f"Level {i - 1}"
        return _metric(
            f"Level {i}",
            "    type: derived\n    expression: a + b\n"
            f"    metrics: [{{metric: {below}, alias: a}}, {{metric: {below}, alias: b}}]",
        )

    messages = [m for m, _ in _issues("".join(level(i) for i in range(40)))]
    assert any("expands to more than 64 aggregations" in m for m in messages)


def test_a_question_over_a_metric_along_time_must_group_by_its_time_dimension() -> None:
    question = """
  - name: Growth Alone
    collection: Curated
    query:
      metric: Revenue Growth
  - name: Growth by Month
    collection: Curated
    query:
      metric: Revenue Growth
      group_by: [{column: CREATED_AT, field_granularity: month}]
"""
    text = DEMO.read_text().replace("\nquestions:\n", "\nquestions:" + question, 1)
    loaded = load_model_text(text, {})
    assert loaded.model is not None, loaded.issues
    found = validate_model(loaded.model, loaded.lines)
    assert [i.message for i in found] == [
        "Revenue Growth compares or windows periods: group by CREATED_AT (its time dimension) "
        "by day, week, month, quarter or year"
    ]
    line = next(i for i, t in enumerate(text.splitlines(), 1) if "Growth Alone" in t)
    assert found[0].line is not None and line < found[0].line < line + 5
