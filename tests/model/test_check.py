"""`check` reports every problem at once, with its line and a suggestion."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from sextant.demo.setup import DemoFiles
from sextant.model.loader import load_model_text
from sextant.model.validate import validate_model
from sextant.service import Sextant
from sextant.settings import Settings
from tests.conftest import make_settings

Services = Callable[[Settings], Sextant]


def _broken(model: Path) -> str:
    """The demo model with five different mistakes, each on a line we can find."""
    text = model.read_text()
    replacements = [
        (
            "aggregation: {function: sum, column: TOTAL}\n    default_time_dimension: CREATED_AT\n"
            "    verified: true",
            "aggregation: {function: sum, column: TOTL}\n"
            "    default_time_dimension: CREATED_AT\n    verified: true",
        ),
        ("collection: Finance\n", "collection: Finanse\n"),
        ("groups: [Analysts]}", "groups: [Analyst]}"),
        (
            'operation: equals, value: "{{user.state}}"}\n  - group: Regional',
            'operation: equal, value: "{{user.state}}"}\n  - group: Regional',
        ),
        ("  - name: Widgets\n    table: PRODUCTS", "  - name: Widgets\n    table: PRODUCT"),
    ]
    for old, new in replacements:
        assert old in text, old
        text = text.replace(old, new, 1)
    return text


def _line_of(text: str, needle: str) -> int:
    return next(i for i, line in enumerate(text.splitlines(), 1) if needle in line)


def test_five_mistakes_are_all_reported_with_lines_and_suggestions(
    demo: DemoFiles, services: Services
) -> None:
    text = _broken(demo.model)
    demo.model.write_text(text)
    result = services(make_settings(demo.data_dir)).check(demo.model)
    found = {(i.line, i.suggestion) for i in result.issues}
    expected = {
        (_line_of(text, "column: TOTL"), "TOTAL"),
        (_line_of(text, "collection: Finanse"), "Finance"),
        (_line_of(text, "groups: [Analyst]"), "Analysts"),
        (_line_of(text, "operation: equal,"), "equals"),
        (
            _line_of(text, "table: PRODUCT\n") if False else _line_of(text, "table: PRODUCT"),
            "PRODUCTS",
        ),
    }
    assert found == expected, result.render()
    rendered = "\n".join(result.render())
    assert str(demo.model) in rendered
    assert "did you mean 'TOTAL'?" in rendered


def test_offline_check_uses_declared_columns_only(demo: DemoFiles, services: Services) -> None:
    demo.model.write_text(_broken(demo.model))
    offline = services(make_settings(demo.data_dir)).check(demo.model, offline=True)
    assert {i.suggestion for i in offline.issues} == {
        "TOTAL",
        "Finance",
        "Analysts",
        "equals",
        "PRODUCTS",
    }
    assert offline.catalog == {}


def test_the_demo_model_is_valid(demo: DemoFiles, services: Services) -> None:
    result = services(make_settings(demo.data_dir)).check(demo.model)
    assert result.issues == ()
    assert [t.name for t in result.catalog["Sample Shop"]] == [
        "ORDERS",
        "PEOPLE",
        "PRODUCTS",
        "REVIEWS",
    ]


def test_shape_errors_are_located() -> None:
    text = """version: 1
databases:
  - name: shop
    url: duckdb://w.duckdb
    tables:
      - name: T
        colums: []
users:
  - email: not-an-email
  - email: a@example.com
    active: maybe
"""
    loaded = load_model_text(text, {})
    assert loaded.model is None
    by_line = {i.line: i.message for i in loaded.issues}
    assert by_line[7] == "unknown key 'colums'"
    assert next(i for i in loaded.issues if i.line == 7).suggestion == "columns"
    assert "not an email" in by_line[9]
    assert "boolean" in by_line[11]


def test_missing_environment_variable_is_reported_without_its_value() -> None:
    text = "databases:\n  - name: pg\n    url: postgresql://u:${PGPASS}@h/db\n"
    loaded = load_model_text(text, {})
    assert [(i.line, i.message) for i in loaded.issues] == [
        (3, "environment variable PGPASS is not set")
    ]
    loaded = load_model_text(text, {"PGPASS": "s3cret"})
    assert loaded.issues == ()
    assert loaded.model is not None
    assert "s3cret" not in repr(loaded.model)


def test_unreachable_warehouse_is_an_issue_on_the_url_line(
    tmp_path: Path, services: Services
) -> None:
    model = tmp_path / "m.yaml"
    model.write_text("databases:\n  - name: shop\n    url: duckdb://missing.duckdb\n")
    result = services(make_settings(tmp_path)).check(model)
    assert len(result.issues) == 1
    assert result.issues[0].line == 3
    assert "missing.duckdb" in result.issues[0].message


def test_duplicates_and_placeholders() -> None:
    text = """collections:
  - name: A
  - name: A
groups:
  - name: G
users:
  - {email: x@example.com}
  - {email: X@example.com}
"""
    loaded = load_model_text(text, {})
    assert loaded.model is not None
    issues = validate_model(loaded.model, loaded.lines)
    assert [(i.line, i.message) for i in issues] == [
        (3, "duplicate collection 'A'"),
        (8, "duplicate user 'x@example.com'"),
    ]


BROKEN_QUESTIONS = """
  - name: Broken One
    collection: Curatd
    query:
      table: ORDERS
      aggregations: [{function: summ, column: TOTL}]
      group_by: [PEPLE.STATE, {column: CREATED_AT, field_granularity: mnth}]
      order_by: [{column: QUANTITY}]
      filters: [{segment: Larg Orders}, {column: TOTAL, operation: string-contains, value: x}]
    parameters:
      - {slug: state, type: categroy, target: PEOPLE.STATE}
      - {slug: qty, type: number/>=, target: PEOPLE.STATE}
      - {slug: cat, type: category, target: PRODUCTS.CATEGORY, values: [Widget], default: Gizmo}
      - {slug: cat, type: date/range, target: CREATED_AT, default: "2024-01-01"}
      - {slug: pw, type: string/=, target: PEOPLE.PASSWORD}
  - name: Broken Metric Question
    collection: Curated
    query: {metric: Total Revenu}
  - name: Metric With Aggregations
    collection: Curated
    query: {metric: Total Revenue, aggregations: [{function: count}], fields: [ID]}
"""


def test_questions_are_checked_with_lines_and_suggestions(
    demo: DemoFiles, services: Services
) -> None:
    text = demo.model.read_text().replace("\ngroups:\n", BROKEN_QUESTIONS + "\ngroups:\n", 1)
    demo.model.write_text(text)
    result = services(make_settings(demo.data_dir)).check(demo.model)
    rendered = result.render()
    found = {(i.line, i.message, i.suggestion) for i in result.issues}

    def at(needle: str) -> int:
        return _line_of(text, needle)

    expected = {
        (at("collection: Curatd"), "unknown collection 'Curatd'", "Curated"),
        (at("function: summ"), "unknown aggregation 'summ'", "sum"),
        (at("function: summ"), "table ORDERS has no column 'TOTL'", "TOTAL"),
        (at("group_by: [PEPLE"), "unknown table 'PEPLE'", "PEOPLE"),
        (at("group_by: [PEPLE"), "unknown granularity 'mnth'", "month"),
        (
            at("order_by: [{column: QUANTITY}]"),
            "an aggregated question is ordered by its group_by columns "
            "(or by an aggregation's sort_order)",
            None,
        ),
        (at("segment: Larg Orders"), "unknown segment on ORDERS 'Larg Orders'", "Large Orders"),
        (
            at("segment: Larg Orders"),
            "string-contains does not apply to TOTAL (number); it applies to string columns",
            None,
        ),
        (at("type: categroy"), "unknown parameter type 'categroy'", "category"),
        (
            at("slug: qty"),
            "a number/>= parameter does not fit PEOPLE.STATE (string); it fits number columns",
            None,
        ),
        (
            at("slug: cat, type: category"),
            "the default 'Gizmo' is not one of the allowed values (Widget)",
            None,
        ),
        (at("slug: cat, type: date/range"), "duplicate parameter 'cat'", None),
        (
            at("slug: cat, type: date/range"),
            "the default must be a range of days like 2024-01-01~2024-03-31 (both days "
            "included; leave one side empty for an open range)",
            None,
        ),
        (
            at("slug: pw"),
            "PEOPLE.PASSWORD is hidden or sensitive; questions cannot use it",
            None,
        ),
        (at("query: {metric: Total Revenu}"), "unknown metric 'Total Revenu'", "Total Revenue"),
        (
            at("query: {metric: Total Revenue, aggregations"),
            "a metric question takes only filters, group_by, order_by and limit",
            None,
        ),
        (
            at("query: {metric: Total Revenue, aggregations"),
            "fields cannot be combined with aggregations or group_by",
            None,
        ),
    }
    assert expected <= found, "\n".join(rendered)
    # the same metric question reports both of its misplaced keys
    assert len([i for i in result.issues if i.message.startswith("a metric question")]) == 2
    assert len(result.issues) == len(expected) + 1, "\n".join(rendered)


def test_filters_of_the_model_are_checked_against_column_types(demo: DemoFiles) -> None:
    """Found: `greater-than 'abc'` passed check and apply, then failed every agent query."""
    from sextant.checking import check_model

    text = demo.model.read_text()
    replacements = [
        (
            "filters: [{column: TOTAL, operation: greater-than, value: 100}]",
            "filters: [{column: TOTAL, operation: greater-than, value: abc}]",
        ),
        (
            "filters: [{column: CATEGORY, operation: equals, value: Widget}]",
            "filters: [{column: CATEGORY, operation: greater-than, value: 5}]",
        ),
        (
            "filters: [{column: SOURCE, operation: equals, value: Organic}]",
            "filters: [{column: SOURCE, operation: is-true}]",
        ),
        (
            'filter: {column: STATE, operation: equals, value: "{{user.state}}"}',
            'filter: {column: STATE, operation: less-than, value: "{{user.state}}"}',
        ),
    ]
    for old, new in replacements:
        assert old in text, old
        text = text.replace(old, new, 1)
    demo.model.write_text(text)
    rendered = "\n".join(check_model(demo.model, {"SEXTANT_JWT_SECRET": "x" * 32}).render())
    lines = {needle: _line_of(text, needle) for needle in ("value: abc", "value: 5", "is-true")}
    assert f":{lines['value: abc']}:" in rendered
    assert "'abc' does not fit greater-than on TOTAL (number)" in rendered
    assert f":{lines['value: 5']}:" in rendered
    assert "greater-than does not apply to CATEGORY (string)" in rendered
    assert f":{lines['is-true']}:" in rendered
    assert "is-true does not apply to SOURCE (string); it applies to boolean columns" in rendered
    assert "less-than does not apply to STATE (string)" in rendered
    # offline, column types are unknown: nothing to check against
    assert check_model(demo.model, {"SEXTANT_JWT_SECRET": "x" * 32}, offline=True).issues == ()


def test_placeholders_and_fitting_values_pass_the_typed_checks(demo: DemoFiles) -> None:
    from sextant.checking import check_model

    text = demo.model.read_text().replace(
        "filters: [{column: TOTAL, operation: greater-than, value: 100}]",
        "filters: [{column: TOTAL, operation: greater-than-or-equal, value: 99.5}, "
        "{column: CREATED_AT, operation: greater-than, value: '2024-01-01'}, "
        "{column: CREATED_AT, operation: year-equals, value: 2025}]",
        1,
    )
    demo.model.write_text(text)
    assert check_model(demo.model, {"SEXTANT_JWT_SECRET": "x" * 32}).issues == ()


def test_misspelled_keys_and_mappings_for_lists_say_what_to_write() -> None:
    """Found: `descripton` gave "unknown key" without the key it meant; a mapping where a list
    goes gave "Input should be a valid tuple"."""
    text = """version: 1
databases:
  - name: shop
    url: duckdb://w.duckdb
    tables: []
segments:
  - name: Big
    table: T
    descripton: large ones
    filters: {column: X, operation: equals, value: 1}
"""
    loaded = load_model_text(text, {})
    issues = {i.line: i for i in loaded.issues}
    assert issues[9].message == "unknown key 'descripton'"
    assert issues[9].suggestion == "description"
    assert "did you mean 'description'?" in issues[9].render("m.yaml")
    assert issues[10].message.startswith("write a list (")
    assert issues[10].message.endswith("not a mapping")


def test_a_missing_warehouse_file_is_named_in_full_without_echoes(
    demo: DemoFiles, tmp_path: Path
) -> None:
    """Found: the message named the file as written (relative to the model's folder, not to
    where the command ran), and every column then looked missing."""
    from sextant.checking import check_model

    model = tmp_path / "elsewhere" / "model.yaml"
    model.parent.mkdir()
    model.write_text(
        demo.model.read_text().replace("duckdb://warehouse.duckdb", "duckdb://w.duckdb")
    )
    issues = check_model(model, {"SEXTANT_JWT_SECRET": "x" * 32}).issues
    assert len(issues) == 1, issues
    assert f"no DuckDB file at {(model.parent / 'w.duckdb').resolve()}" in issues[0].message
    assert "relative to the model file's folder" in issues[0].message
