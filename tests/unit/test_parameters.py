"""Parameter types (pure): what each value means as filters, and what each refuses."""

from __future__ import annotations

import pytest

from sextant.model.parameters import PARAMETER_TYPES, Condition, allowed, choice_atoms, conditions


@pytest.mark.parametrize(
    ("kind", "value", "column", "expected"),
    [
        ("category", "CA", "string", [Condition("equals", ("CA",))]),
        ("category", ["CA", "NY"], "string", [Condition("equals", ("CA", "NY"))]),
        ("category", "3", "number", [Condition("equals", (3,))]),
        ("category", "true", "boolean", [Condition("equals", (True,))]),
        ("number/>=", [2.5], "number", [Condition("greater-than-or-equal", (2.5,))]),
        ("number/between", [1, None], "number", [Condition("greater-than-or-equal", (1,))]),
        (
            "number/between",
            [1, 5],
            "number",
            [Condition("greater-than-or-equal", (1,)), Condition("less-than-or-equal", (5,))],
        ),
        ("string/contains", "x", "string", [Condition("string-contains", ("x",))]),
        ("date/single", "2024-02-29", "temporal", [Condition("equals", ("2024-02-29",))]),
        (
            "date/range",
            "~2024-01-31",
            "temporal",
            [Condition("less-than-or-equal", ("2024-01-31",))],
        ),
        ("date/month-year", "2024-03", "temporal", [Condition("equals", ("2024-03-01",), "month")]),
        (
            "date/quarter-year",
            "Q3-2024",
            "temporal",
            [Condition("equals", ("2024-07-01",), "quarter")],
        ),
    ],
)
def test_values_become_filters(kind: str, value: object, column: str, expected: object) -> None:
    assert conditions(kind, value, column) == expected


@pytest.mark.parametrize(
    ("kind", "value", "column"),
    [
        ("number/>=", "abc", "number"),
        ("number/>=", True, "number"),
        ("number/>=", float("nan"), "number"),
        ("number/>=", [1, 2], "number"),
        ("number/between", [5, 1], "number"),
        ("number/between", [None, None], "number"),
        ("category", 5, "string"),
        ("category", [], "string"),
        ("string/contains", "", "string"),
        ("date/single", "2023-02-29", "temporal"),
        ("date/range", "2024-01-01", "temporal"),
        ("date/range", "~", "temporal"),
        ("date/month-year", "2024-00", "temporal"),
        ("date/quarter-year", "Q0-2024", "temporal"),
    ],
)
def test_bad_values_say_what_they_expect(kind: str, value: object, column: str) -> None:
    with pytest.raises(ValueError) as raised:
        conditions(kind, value, column)
    assert str(raised.value).startswith(PARAMETER_TYPES[kind].expects)


def test_allowed_values_compare_numbers_as_numbers() -> None:
    assert allowed(1, [1.0, 2]) and not allowed(True, [1]) and allowed("a", ["a"])
    assert choice_atoms("date/month-year", "2024-03", "temporal") == ["2024-03"]
    assert choice_atoms("category", ["1", 2], "number") == [1, 2]
