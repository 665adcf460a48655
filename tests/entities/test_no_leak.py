"""Generated sandboxes and attribute values: no details or values response may show a value
of a row the sandbox hides (checked against hand SQL on the same DuckDB file)."""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import duckdb
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from sextant.demo.setup import DemoFiles, prepare_demo
from sextant.service import Sextant
from tests.agent_client import AgentClient
from tests.conftest import make_settings

USER = "gen@example.com"
TEXT_COLUMNS = ["STATE", "SOURCE", "CITY", "ZIP"]
OPERATIONS = ["equals", "not-equals", "string-starts-with"]


@pytest.fixture(scope="module")
def playground(
    demo_template: DemoFiles, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[tuple[Sextant, DemoFiles, str]]:
    target = tmp_path_factory.mktemp("noleak") / "demo"
    shutil.copytree(demo_template.data_dir, target)
    files = prepare_demo(target)
    service = Sextant(make_settings(files.data_dir, config=files.model))
    service.sync()
    yield service, files, files.model.read_text()
    service.close()


def model_with(base: str, column: str, operation: str, attribute: str | None, hide: bool) -> str:
    group = "\n  - {name: Generated}\n"
    text = base.replace("\ngroups:\n", "\ngroups:" + group, 1)
    attrs = "{}" if attribute is None else "{v: " + _yaml(attribute) + "}"
    user = f"  - {{email: {USER}, groups: [Generated], attributes: {attrs}}}\n"
    text = text.replace("\nusers:\n", "\nusers:\n" + user, 1)
    grants = (
        "    - {group: Generated, tables: [PEOPLE, ORDERS], access: sandboxed}\n"
        "    - {group: Generated, tables: [PRODUCTS], access: query}\n"
    )
    text = text.replace("  data:\n", "  data:\n" + grants, 1)
    hidden = ", hidden_columns: [ADDRESS]" if hide else ""
    sandboxes = (
        f"  - {{group: Generated, table: PEOPLE{hidden}, filter: {{column: {column}, "
        f'operation: {operation}, value: "{{{{user.v}}}}"}}}}\n'
        f"  - {{group: Generated, table: ORDERS, filter: {{column: {column}, via: USER_ID, "
        f'operation: {operation}, value: "{{{{user.v}}}}"}}}}\n'
    )
    return text.replace("\nsandboxes:\n", "\nsandboxes:\n" + sandboxes, 1)


def _yaml(value: str) -> str:
    return '"' + value.replace("\\", "\\\\").replace('"', '\\"') + '"'


def condition_sql(column: str, operation: str, attribute: str | None) -> str:
    """The sandbox's condition on PEOPLE as hand-written SQL (test-only)."""
    if attribute is None:
        return "FALSE"  # a missing attribute shows no rows
    if operation == "string-starts-with":
        return f'starts_with(lower(p."{column}"), lower(?))'
    if operation == "not-equals":
        return f'(p."{column}" IS NULL OR p."{column}" <> ?)'
    return f'p."{column}" = ?'


def hand_values(path: Path, table: str, column: str, condition: str, params: list[Any]) -> set[Any]:
    if table == "PEOPLE":
        sql = f'SELECT DISTINCT p."{column}" FROM "PEOPLE" p WHERE {condition}'
    else:
        sql = (
            f'SELECT DISTINCT o."{column}" FROM "ORDERS" o JOIN "PEOPLE" p '
            f'ON p."ID" = o."USER_ID" WHERE {condition}'
        )
    with duckdb.connect(str(path), read_only=True) as con:
        rows = con.execute(sql, params).fetchall()
    return {r[0] for r in rows if r[0] is not None}


def _plain(values: set[Any]) -> set[Any]:
    return {v.isoformat() if hasattr(v, "isoformat") else v for v in values}


@st.composite
def cases(draw: st.DrawFn) -> tuple[str, str, str | None, bool]:
    column = draw(st.sampled_from(TEXT_COLUMNS))
    operation = draw(st.sampled_from(OPERATIONS))
    domain = ["CA", "NY", "TX", "Organic", "Google", "Twitter", "Springfield", "Fairview", "9"]
    attribute = draw(
        st.one_of(
            st.none(),
            st.sampled_from(domain),
            st.text(st.characters(min_codepoint=32, max_codepoint=126), max_size=6),
        )
    )
    return column, operation, attribute, draw(st.booleans())


@settings(
    max_examples=30, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(case=cases())
def test_sandboxed_discovery_never_leaks(
    playground: tuple[Sextant, DemoFiles, str], case: tuple[str, str, str | None, bool]
) -> None:
    service, files, base = playground
    column, operation, attribute, hide = case
    files.model.write_text(model_with(base, column, operation, attribute, hide))
    service.apply()
    api = AgentClient(service)
    condition = condition_sql(column, operation, attribute)
    params = [] if attribute is None else [attribute]
    people, orders = api.table_id("PEOPLE"), api.table_id("ORDERS")

    detail = api.get(f"/table/{people}?with-field-values=true", USER).json()
    names = [f["name"] for f in detail["fields"]]
    assert ("ADDRESS" in names) is not hide
    for index, name in enumerate(names):
        body = api.get(f"/table/{people}/field/t{people}-{index}/values?limit=1000", USER).json()
        allowed = _plain(hand_values(files.warehouse, "PEOPLE", name, condition, params))
        assert body["statistics"]["distinct_count"] == len(allowed), (name, case)
        assert set(body.get("values", [])) <= allowed, (name, case)
        field = detail["fields"][index]
        assert set(field.get("field_values", [])) <= allowed, (name, case)

    orders_detail = api.get(f"/table/{orders}?with-field-values=true", USER).json()
    for field in orders_detail["fields"]:
        allowed = _plain(hand_values(files.warehouse, "ORDERS", field["name"], condition, params))
        assert set(field.get("field_values", [])) <= allowed, (field["name"], case)
        body = api.get(f"/table/{orders}/field/{field['field_id']}/values", USER).json()
        assert body["statistics"]["distinct_count"] == len(allowed), (field["name"], case)
    for related in orders_detail["related_tables"]:
        if related["name"] != "PEOPLE":
            continue
        for field in related["fields"]:
            allowed = _plain(
                hand_values(files.warehouse, "PEOPLE", field["name"], condition, params)
            )
            assert set(field.get("field_values", [])) <= allowed, (field["name"], case)


def test_related_tables_the_caller_cannot_query_are_left_out(
    playground: tuple[Sextant, DemoFiles, str],
) -> None:
    service, files, base = playground
    text = base.replace("\ngroups:\n", "\ngroups:\n  - {name: OrdersOnly}\n", 1)
    text = text.replace(
        "\nusers:\n", "\nusers:\n  - {email: orders@example.com, groups: [OrdersOnly]}\n", 1
    )
    text = text.replace(
        "  data:\n", "  data:\n    - {group: OrdersOnly, tables: [ORDERS], access: query}\n", 1
    )
    files.model.write_text(text)
    service.apply()
    api = AgentClient(service)
    orders = api.table_id("ORDERS")
    body = api.get(f"/table/{orders}", "orders@example.com").json()
    assert "related_tables" not in body
    assert len(body["fields"]) == 9
    response = api.get(f"/table/{orders}/field/t{orders}-9/values", "orders@example.com")
    assert response.status_code == 404  # the PEOPLE block does not exist for this caller
    metric = api.metric_id("Total Revenue")
    dims = api.get(f"/metric/{metric}", "orders@example.com").json()["queryable_dimensions"]
    assert [d["name"] for d in dims][-1] == "QUANTITY"
