"""Validation problems in words (model file and request bodies)."""

from __future__ import annotations

import pytest

from sextant.query.temporal import parse_temporal
from sextant.wording import json_syntax, problem


def test_json_syntax_errors_are_located_by_line_and_column() -> None:
    document = '{\n  "table_id": 1,\n  "limit": 5,\n}'
    position = document.index("}")
    assert json_syntax(document, position, "Expecting property name") == (
        "not valid JSON at line 4, column 1: Expecting property name"
    )
    assert json_syntax("[1,,2]", 3, "Expecting value").startswith(
        "not valid JSON at line 1, column 4"
    )


def test_a_mapping_where_a_list_goes_says_write_a_list() -> None:
    error = {
        "type": "list_type",
        "input": {"field_id": "t1-1"},
        "msg": "Input should be a valid list",
    }
    assert problem(error)[0].startswith("write a list (")
    assert problem({"type": "list_type", "input": "x", "msg": "m"})[0] == "write a list, not a text"
    unknown = {"type": "extra_forbidden", "loc": ("segments", 0, "descripton"), "msg": "m"}
    assert problem(unknown, keys=["name", "description"]) == (
        "unknown key 'descripton'",
        "description",
    )


@pytest.mark.parametrize(
    ("value", "words"),
    [
        ("2024-13-01", "there is no month 13 (months go from 01 to 12)"),
        ("2024-02-30", "that day does not exist in that month"),
        ("2024-02-01T25:00", "hours go from 00 to 23"),
        ("yesterday", "is not a date like 2024-03-31 or a date and time like"),
    ],
)
def test_date_parse_errors_are_in_words(value: str, words: str) -> None:
    with pytest.raises(ValueError) as raised:
        parse_temporal(value, "type/DateTime")
    assert words in str(raised.value)
    assert "isoformat" not in str(raised.value) and "must be in" not in str(raised.value)
