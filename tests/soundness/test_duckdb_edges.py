"""Soundness where the demo data is too tidy: NULLs, empty strings, mixed case, dangling FKs.

A private copy of the demo warehouse is edited before its service syncs:
- REVIEWS.REVIEWER: NULL when ID % 10 = 1, '' when 2, upper-cased when 3;
- PEOPLE.CITY: '' when ID % 10 = 2, upper-cased when 3;
- ORDERS.CREATED_AT NULL when ID % 40 = 0; REVIEWS.CREATED_AT NULL when ID % 9 = 0;
- ORDERS.USER_ID NULL when ID % 97 = 0 and REVIEWS.PRODUCT_ID NULL when ID % 31 = 0, so the
  implicit (left) joins meet rows without a partner.
Also here: the operations that must be refused, and who may read which metric.
"""

from __future__ import annotations

import shutil
from collections.abc import Iterator

import duckdb
import pytest

from sextant.demo.setup import DemoFiles, prepare_demo
from sextant.service import Sextant
from tests.agent_client import AgentClient
from tests.conftest import make_settings
from tests.soundness import chains, expressions, metric_kinds
from tests.soundness.chains import with_chains
from tests.soundness.harness import (
    ADMIN,
    ANALYST,
    CA_MANAGER,
    FINANCE,
    Case,
    Ids,
    agg,
    check,
    fields,
    flt,
    gb,
    metric,
    run,
    table,
    variant_client,
)

EDITS = (
    "ALTER TABLE REVIEWS ALTER COLUMN REVIEWER DROP NOT NULL",
    "ALTER TABLE REVIEWS ALTER COLUMN CREATED_AT DROP NOT NULL",
    "ALTER TABLE REVIEWS ALTER COLUMN PRODUCT_ID DROP NOT NULL",
    "ALTER TABLE ORDERS ALTER COLUMN CREATED_AT DROP NOT NULL",
    "ALTER TABLE ORDERS ALTER COLUMN USER_ID DROP NOT NULL",
    "UPDATE REVIEWS SET REVIEWER = CASE ID % 10 WHEN 1 THEN NULL WHEN 2 THEN '' "
    "WHEN 3 THEN upper(REVIEWER) ELSE REVIEWER END",
    "UPDATE PEOPLE SET CITY = CASE ID % 10 WHEN 2 THEN '' WHEN 3 THEN upper(CITY) ELSE CITY END",
    "UPDATE ORDERS SET CREATED_AT = NULL WHERE ID % 40 = 0",
    "UPDATE REVIEWS SET CREATED_AT = NULL WHERE ID % 9 = 0",
    "UPDATE ORDERS SET USER_ID = NULL WHERE ID % 97 = 0",
    "UPDATE REVIEWS SET PRODUCT_ID = NULL WHERE ID % 31 = 0",
    # for metrics along time (tests/soundness/metric_kinds.py): a month with no orders, a
    # month whose subtotals and taxes are zero (a ratio's zero denominator), a week of orders
    # without a customer (no distinct buyers)
    "DELETE FROM ORDERS WHERE CREATED_AT >= TIMESTAMP '2023-05-01 00:00:00' "
    "AND CREATED_AT < TIMESTAMP '2023-06-01 00:00:00'",
    "UPDATE ORDERS SET SUBTOTAL = 0, TAX = 0 WHERE CREATED_AT >= TIMESTAMP '2023-07-01 00:00:00' "
    "AND CREATED_AT < TIMESTAMP '2023-08-01 00:00:00'",
    "UPDATE ORDERS SET USER_ID = NULL WHERE CREATED_AT >= TIMESTAMP '2023-09-04 00:00:00' "
    "AND CREATED_AT < TIMESTAMP '2023-09-11 00:00:00'",
    # for chains of keys (tests/soundness/chains.py)
    *chains.EDITS,
)

O_P = "ORDERS o LEFT JOIN PEOPLE p ON o.USER_ID = p.ID"
R_D = "REVIEWS r LEFT JOIN PRODUCTS d ON r.PRODUCT_ID = d.ID"
CA = "o.USER_ID IN (SELECT ID FROM PEOPLE WHERE STATE = 'CA')"
COUNT_SUM = [agg("count"), agg("sum", "TOTAL")]


def by_rating(*filters: dict[str, object]) -> dict[str, object]:
    return {"filters": list(filters), "aggregations": [agg("count")], "group_by": [gb("RATING")]}


def rating_sql(where: str) -> str:
    return f"SELECT RATING, count(*) AS count FROM REVIEWS WHERE {where} GROUP BY 1 ORDER BY 1"


CASES = [
    # -- strings with NULL, '' and mixed case -------------------------------------------------
    Case(
        "null-string-is-empty",
        table("REVIEWS", **by_rating(flt("REVIEWER", "string-is-empty"))),
        rating_sql("REVIEWER IS NULL OR REVIEWER = ''"),
    ),
    Case(
        "null-string-is-not-empty",
        table("REVIEWS", **by_rating(flt("REVIEWER", "string-is-not-empty"))),
        rating_sql("REVIEWER IS NOT NULL AND REVIEWER <> ''"),
    ),
    Case(
        "null-is-null-string",
        table("REVIEWS", filters=[flt("REVIEWER", "is-null")], fields=fields("ID", "REVIEWER")),
        "SELECT ID, REVIEWER FROM REVIEWS WHERE REVIEWER IS NULL",
    ),
    Case(
        "null-is-not-null-string",
        table("REVIEWS", **by_rating(flt("REVIEWER", "is-not-null"))),
        rating_sql("REVIEWER IS NOT NULL"),
    ),
    Case(
        "null-empty-string-only",
        table("PEOPLE", filters=[flt("CITY", "string-is-empty")], aggregations=[agg("count")]),
        "SELECT count(*) AS count FROM PEOPLE WHERE CITY = ''",
    ),
    Case(
        "null-equals-is-exact-about-case",
        table(
            "PEOPLE",
            filters=[flt("CITY", "equals", values=["Oakland", "Salem"])],
            aggregations=[agg("count")],
            group_by=[gb("CITY")],
        ),
        "SELECT CITY, count(*) AS count FROM PEOPLE WHERE CITY IN ('Oakland', 'Salem') "
        "GROUP BY 1 ORDER BY 1",
    ),
    Case(
        "null-not-equals-string-keeps-null",
        table("REVIEWS", **by_rating(flt("REVIEWER", "not-equals", values=["", "lucia_kim43"]))),
        rating_sql("REVIEWER IS NULL OR REVIEWER NOT IN ('', 'lucia_kim43')"),
    ),
    Case(
        "null-string-not-contains-keeps-null",
        table("REVIEWS", **by_rating(flt("REVIEWER", "string-not-contains", "_K"))),
        rating_sql("REVIEWER IS NULL OR NOT contains(lower(REVIEWER), '_k')"),
    ),
    Case(
        "null-string-contains-both-cases",
        table(
            "PEOPLE",
            filters=[flt("CITY", "string-contains", "oaK")],
            aggregations=[agg("count")],
            group_by=[gb("CITY")],
        ),
        "SELECT CITY, count(*) AS count FROM PEOPLE WHERE lower(CITY) LIKE '%oak%' "
        "GROUP BY 1 ORDER BY 1",
    ),
    Case(
        "null-string-starts-with-both-cases",
        table(
            "REVIEWS",
            filters=[flt("REVIEWER", "string-starts-with", "LUCIA")],
            fields=fields("ID", "REVIEWER"),
        ),
        "SELECT ID, REVIEWER FROM REVIEWS WHERE lower(REVIEWER) LIKE 'lucia%'",
    ),
    Case(
        "null-string-ends-with-both-cases",
        table(
            "PEOPLE",
            filters=[flt("CITY", "string-ends-with", "LAND")],
            aggregations=[agg("count")],
            group_by=[gb("CITY")],
        ),
        "SELECT CITY, count(*) AS count FROM PEOPLE WHERE lower(CITY) LIKE '%land' "
        "GROUP BY 1 ORDER BY 1",
    ),
    Case(
        "null-aggregations-over-string",
        table(
            "REVIEWS",
            aggregations=[
                agg("count", "REVIEWER"),
                agg("count-distinct", "REVIEWER"),
                agg("min", "REVIEWER"),
                agg("max", "REVIEWER"),
                agg("count"),
            ],
            group_by=[gb("RATING")],
        ),
        "SELECT RATING, count(REVIEWER) AS count, count(DISTINCT REVIEWER) AS count_distinct, "
        "min(REVIEWER) AS min, max(REVIEWER) AS max, count(*) AS count_2 FROM REVIEWS "
        "GROUP BY 1 ORDER BY 1",
    ),
    Case(
        "null-group-by-string-with-empty",
        table("PEOPLE", aggregations=[agg("count")], group_by=[gb("CITY")]),
        "SELECT CITY, count(*) AS count FROM PEOPLE GROUP BY 1 ORDER BY 1",
    ),
    # -- datetimes with NULL ------------------------------------------------------------------
    Case(
        "null-year-not-equals-keeps-null",
        table(
            "ORDERS", filters=[flt("CREATED_AT", "year-not-equals", 2024)], aggregations=COUNT_SUM
        ),
        "SELECT count(*) AS count, sum(TOTAL) AS sum FROM ORDERS "
        "WHERE CREATED_AT IS NULL OR year(CREATED_AT) <> 2024",
    ),
    Case(
        "null-day-of-week-not-equals-multiple-keeps-null",
        table(
            "REVIEWS",
            **by_rating(flt("CREATED_AT", "day-of-week-not-equals", values=[1, 2, 3])),
        ),
        rating_sql("CREATED_AT IS NULL OR isodow(CREATED_AT) NOT IN (1, 2, 3)"),
    ),
    Case(
        "null-month-equals-drops-null",
        table("ORDERS", filters=[flt("CREATED_AT", "month-equals", 6)], aggregations=COUNT_SUM),
        "SELECT count(*) AS count, sum(TOTAL) AS sum FROM ORDERS WHERE month(CREATED_AT) = 6",
    ),
    Case(
        "null-bucket-not-equals-keeps-null",
        table(
            "ORDERS",
            filters=[flt("CREATED_AT", "not-equals", "2023-05-05", bucket="quarter")],
            aggregations=COUNT_SUM,
        ),
        "SELECT count(*) AS count, sum(TOTAL) AS sum FROM ORDERS WHERE CREATED_AT IS NULL "
        "OR date_trunc('quarter', CREATED_AT) <> TIMESTAMP '2023-04-01'",
    ),
    Case(
        "null-bucket-extraction-not-equals-keeps-null",
        table(
            "REVIEWS",
            **by_rating(flt("CREATED_AT", "not-equals", 0, bucket="hour-of-day")),
        ),
        rating_sql("CREATED_AT IS NULL OR hour(CREATED_AT) <> 0"),
    ),
    Case(
        "null-not-equals-date-value-keeps-null",
        table(
            "ORDERS",
            filters=[flt("CREATED_AT", "not-equals", "2024-03-01")],
            aggregations=COUNT_SUM,
        ),
        "SELECT count(*) AS count, sum(TOTAL) AS sum FROM ORDERS WHERE CREATED_AT IS NULL "
        "OR CAST(CREATED_AT AS DATE) <> DATE '2024-03-01'",
    ),
    Case(
        "null-greater-than-drops-null",
        table(
            "ORDERS",
            filters=[flt("CREATED_AT", "greater-than", "2025-06-30T00:00:00")],
            aggregations=COUNT_SUM,
        ),
        "SELECT count(*) AS count, sum(TOTAL) AS sum FROM ORDERS "
        "WHERE CREATED_AT > TIMESTAMP '2025-06-30 00:00:00'",
    ),
    Case(
        "null-datetime-is-null",
        table("ORDERS", filters=[flt("CREATED_AT", "is-null")], fields=fields("ID", "CREATED_AT")),
        "SELECT ID, CREATED_AT FROM ORDERS WHERE CREATED_AT IS NULL",
    ),
    Case(
        "null-group-by-year-with-null-group",
        table("ORDERS", aggregations=[agg("count")], group_by=[gb("CREATED_AT", "year")]),
        "SELECT date_trunc('year', CREATED_AT) AS CREATED_AT, count(*) AS count FROM ORDERS "
        "GROUP BY 1",
        unordered=True,
    ),
    Case(
        "null-min-max-datetime",
        table(
            "REVIEWS",
            aggregations=[agg("min", "CREATED_AT"), agg("max", "CREATED_AT")],
            group_by=[gb("RATING")],
        ),
        "SELECT RATING, min(CREATED_AT) AS min, max(CREATED_AT) AS max FROM REVIEWS "
        "GROUP BY 1 ORDER BY 1",
    ),
    # -- left joins meeting rows without a partner -------------------------------------------
    Case(
        "orphan-fk-is-null",
        table("ORDERS", filters=[flt("USER_ID", "is-null")], aggregations=COUNT_SUM),
        "SELECT count(*) AS count, sum(TOTAL) AS sum FROM ORDERS WHERE USER_ID IS NULL",
    ),
    Case(
        "orphan-related-is-null",
        table(
            "ORDERS",
            filters=[flt("STATE", "is-null", via="USER_ID")],
            fields=fields("ID", "USER_ID", "TOTAL"),
        ),
        f"SELECT o.ID AS ID, o.USER_ID AS USER_ID, o.TOTAL AS TOTAL FROM {O_P} "
        "WHERE p.STATE IS NULL",
    ),
    Case(
        "orphan-related-not-equals-keeps-unmatched",
        table(
            "ORDERS",
            filters=[flt("STATE", "not-equals", values=["CA", "TX"], via="USER_ID")],
            aggregations=COUNT_SUM,
        ),
        f"SELECT count(*) AS count, sum(o.TOTAL) AS sum FROM {O_P} "
        "WHERE p.STATE IS NULL OR p.STATE NOT IN ('CA', 'TX')",
    ),
    Case(
        "orphan-related-string-is-empty",
        table(
            "ORDERS",
            filters=[flt("CITY", "string-is-empty", via="USER_ID")],
            aggregations=COUNT_SUM,
        ),
        f"SELECT count(*) AS count, sum(o.TOTAL) AS sum FROM {O_P} "
        "WHERE p.CITY IS NULL OR p.CITY = ''",
    ),
    Case(
        "orphan-related-string-not-contains",
        table(
            "ORDERS",
            filters=[flt("CITY", "string-not-contains", "LAND", via="USER_ID")],
            aggregations=COUNT_SUM,
        ),
        f"SELECT count(*) AS count, sum(o.TOTAL) AS sum FROM {O_P} "
        "WHERE p.CITY IS NULL OR lower(p.CITY) NOT LIKE '%land%'",
    ),
    Case(
        "orphan-related-year-not-equals",
        table(
            "ORDERS",
            filters=[flt("CREATED_AT", "year-not-equals", 2022, via="USER_ID")],
            aggregations=COUNT_SUM,
        ),
        f"SELECT count(*) AS count, sum(o.TOTAL) AS sum FROM {O_P} "
        "WHERE p.CREATED_AT IS NULL OR year(p.CREATED_AT) <> 2022",
    ),
    Case(
        "orphan-group-by-related",
        table(
            "ORDERS",
            aggregations=[agg("count"), agg("count-distinct", "USER_ID")],
            group_by=[gb("SOURCE", via="USER_ID")],
        ),
        f"SELECT p.SOURCE AS SOURCE, count(*) AS count, count(DISTINCT o.USER_ID) AS "
        f"count_distinct FROM {O_P} GROUP BY 1",
        unordered=True,
    ),
    Case(
        "orphan-reviews-products",
        table(
            "REVIEWS",
            filters=[flt("CATEGORY", "not-equals", "Widget", via="PRODUCT_ID")],
            aggregations=[agg("count"), agg("avg", "PRICE", via="PRODUCT_ID")],
            group_by=[gb("CATEGORY", via="PRODUCT_ID")],
        ),
        f"SELECT d.CATEGORY AS CATEGORY, count(*) AS count, avg(d.PRICE) AS avg FROM {R_D} "
        "WHERE d.CATEGORY IS NULL OR d.CATEGORY <> 'Widget' GROUP BY 1",
        unordered=True,
    ),
    Case(
        "orphan-metric-by-related",
        metric("Order Count", group_by=[gb("STATE", via="USER_ID")]),
        f'SELECT p.STATE AS STATE, count(*) AS "Order Count" FROM {O_P} GROUP BY 1',
        unordered=True,
    ),
    Case(
        "orphan-metric-by-month-with-null",
        metric(
            "Total Revenue",
            filters=[flt("CITY", "string-not-contains", "oak", via="USER_ID")],
            group_by=[gb("CREATED_AT", "month")],
        ),
        "SELECT date_trunc('month', o.CREATED_AT) AS CREATED_AT, "
        f'sum(o.TOTAL) AS "Total Revenue" FROM {O_P} '
        "WHERE p.CITY IS NULL OR lower(p.CITY) NOT LIKE '%oak%' GROUP BY 1",
        unordered=True,
    ),
    Case(
        "orphan-sandbox-hides-unmatched",
        table(
            "ORDERS",
            filters=[flt("CITY", "string-is-empty", via="USER_ID")],
            aggregations=COUNT_SUM,
        ),
        f"SELECT count(*) AS count, sum(o.TOTAL) AS sum FROM {O_P} "
        f"WHERE {CA} AND (p.CITY IS NULL OR p.CITY = '')",
        email=CA_MANAGER,
    ),
    Case(
        "orphan-sandbox-year-not-equals",
        table(
            "ORDERS",
            filters=[flt("CREATED_AT", "year-not-equals", 2025)],
            aggregations=[agg("count")],
            group_by=[gb("CITY", via="USER_ID")],
        ),
        f"SELECT p.CITY AS CITY, count(*) AS count FROM {O_P} "
        f"WHERE {CA} AND (o.CREATED_AT IS NULL OR year(o.CREATED_AT) <> 2025) "
        "GROUP BY 1 ORDER BY 1",
        email=CA_MANAGER,
    ),
]


@pytest.fixture(scope="module")
def edge_demo(
    demo_template: DemoFiles, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Sextant]:
    target = tmp_path_factory.mktemp("soundness-edges") / "demo"
    shutil.copytree(demo_template.data_dir, target)
    con = duckdb.connect(str(target / "warehouse.duckdb"))
    try:
        for statement in EDITS:
            con.execute(statement)
    finally:
        con.close()
    files = prepare_demo(target)
    assert not files.built, "the edited warehouse must not be rebuilt"
    service = Sextant(make_settings(files.data_dir, config=files.model))
    service.sync()
    yield service
    service.close()


@pytest.fixture(scope="module")
def edge_api(edge_demo: Sextant) -> AgentClient:
    return AgentClient(edge_demo)


@pytest.fixture(scope="module")
def edge_warehouse(edge_demo: Sextant) -> Iterator[duckdb.DuckDBPyConnection]:
    path = edge_demo.settings.data_dir / "warehouse.duckdb"
    con = duckdb.connect(str(path), read_only=True)
    yield con
    con.close()


@pytest.fixture(scope="module")
def kinds_api(
    edge_demo: Sextant, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[AgentClient]:
    data_dir = tmp_path_factory.mktemp("kinds-duck")
    with variant_client(edge_demo, data_dir, with_chains) as client:
        yield client


@pytest.mark.parametrize("case", [c.param() for c in metric_kinds.CASES])
def test_metric_kinds_match_hand_sql(
    kinds_api: AgentClient, edge_warehouse: duckdb.DuckDBPyConnection, case: Case
) -> None:
    check(kinds_api, edge_warehouse, case)


@pytest.mark.parametrize("case", [c.param() for c in chains.CASES])
def test_chains_match_hand_sql(
    kinds_api: AgentClient, edge_warehouse: duckdb.DuckDBPyConnection, case: Case
) -> None:
    check(kinds_api, edge_warehouse, case)


@pytest.mark.parametrize("case", [c.param() for c in expressions.CASES])
def test_expressions_match_hand_sql(
    kinds_api: AgentClient, edge_warehouse: duckdb.DuckDBPyConnection, case: Case
) -> None:
    check(kinds_api, edge_warehouse, case)


def test_a_definition_reading_a_table_the_caller_may_not_use_is_refused_unnamed(
    kinds_api: AgentClient, edge_warehouse: duckdb.DuckDBPyConnection
) -> None:
    """Order Desk may query ORDERS but not PRODUCTS or PEOPLE: what reads only ORDERS works,
    what reads a related table is refused without naming that table or its columns."""
    desk = expressions.ORDER_DESK
    ids = Ids(kinds_api, ADMIN)
    orders = ids.table("ORDERS")
    own = {"table_id": orders, "aggregations": [{"measure_id": ids.measure("ORDERS", "Net Sales")}]}
    result = run(kinds_api, desk, own)
    (expected,) = edge_warehouse.execute(
        "SELECT sum(SUBTOTAL - coalesce(DISCOUNT, 0)) FROM ORDERS"
    ).fetchone() or (None,)
    assert result["data"]["rows"][0][0] == pytest.approx(expected)
    refused = [
        {
            "table_id": orders,
            "aggregations": [{"measure_id": ids.measure("ORDERS", "Catalog Value")}],
        },
        {"table_id": orders, "filters": [{"segment_id": ids.segment("ORDERS", "Not Widgets")}]},
        {"metric_id": ids.metric("Widget Revenue")},
    ]
    for body in refused:
        r = kinds_api.request("POST", "/construct-query", desk, json=body)
        assert r.status_code == 400, r.text
        text = r.text
        assert "the definition reads a table you may not use" in text
        for name in ("PRODUCTS", "PEOPLE", "CATEGORY", "PRICE"):
            assert name not in text, text


def test_metric_kind_case_ids_are_unique() -> None:
    ids = [c.id for c in metric_kinds.CASES]
    assert len(ids) == len(set(ids))
    assert len(ids) >= 130


@pytest.mark.parametrize(("name", "granularity", "reason"), metric_kinds.REFUSED)
def test_metric_kinds_refuse_periods_they_cannot_use(
    kinds_api: AgentClient, name: str, granularity: str | None, reason: str
) -> None:
    ids = Ids(kinds_api, ADMIN)
    body: dict[str, object] = {"metric_id": ids.metric(name)}
    if granularity is not None:
        body["group_by"] = [
            {"field_id": ids.dimension(name, "CREATED_AT"), "field_granularity": granularity}
        ]
    r = kinds_api.request("POST", "/construct-query", ADMIN, json=body)
    assert r.status_code == 400, r.text
    assert reason in r.json()["message"], r.json()


def test_a_metric_along_time_is_grouped_by_its_time_dimension_once(kinds_api: AgentClient) -> None:
    ids = Ids(kinds_api, ADMIN)
    created = ids.dimension("Cumulative Revenue", "CREATED_AT")
    body = {
        "metric_id": ids.metric("Cumulative Revenue"),
        "group_by": [
            {"field_id": created, "field_granularity": "month"},
            {"field_id": created, "field_granularity": "year"},
        ],
    }
    r = kinds_api.request("POST", "/construct-query", ADMIN, json=body)
    assert r.status_code == 400, r.text
    assert "group by it once" in r.json()["errors"]["group_by[1]"]


def test_edge_case_ids_are_unique() -> None:
    ids = [c.id for c in CASES]
    assert len(ids) == len(set(ids))


@pytest.mark.parametrize("case", [c.param() for c in CASES])
def test_edges_match_hand_sql(
    edge_api: AgentClient, edge_warehouse: duckdb.DuckDBPyConnection, case: Case
) -> None:
    check(edge_api, edge_warehouse, case)


# -- refused shapes and metric permissions (shared demo, read-only) ----------------------------


@pytest.fixture(scope="module")
def api(shared_service: Sextant) -> AgentClient:
    return AgentClient(shared_service)


@pytest.mark.parametrize("operation", ["is-true", "is-false"])
@pytest.mark.parametrize(
    ("table_name", "column"),
    [("PEOPLE", "NAME"), ("ORDERS", "TOTAL"), ("ORDERS", "CREATED_AT"), ("PEOPLE", "BIRTH_DATE")],
)
def test_boolean_operations_refused_on_non_boolean(
    api: AgentClient, operation: str, table_name: str, column: str
) -> None:
    ids = Ids(api, ADMIN)
    body = {
        "table_id": ids.table(table_name),
        "filters": [{"field_id": ids.field(table_name, column), "operation": operation}],
    }
    r = api.request("POST", "/construct-query", ADMIN, json=body)
    assert r.status_code == 400, r.text
    payload = r.json()
    assert payload["error"] == "invalid_request"
    assert operation in str(payload)


@pytest.mark.parametrize(
    ("metric_name", "email", "allowed"),
    [
        ("Bulk Revenue", ADMIN, True),
        ("Bulk Revenue", FINANCE, False),
        ("Bulk Revenue", ANALYST, False),
        ("Bulk Revenue", CA_MANAGER, False),
        ("Gross Sales", FINANCE, True),
        ("Gross Sales", ADMIN, True),
        ("Gross Sales", ANALYST, False),
        ("Total Revenue", ANALYST, True),
    ],
)
def test_metric_readers(api: AgentClient, metric_name: str, email: str, allowed: bool) -> None:
    body = {"metric_id": api.metric_id(metric_name)}
    if allowed:
        result = run(api, email, body)
        assert [c["name"] for c in result["data"]["cols"]] == [metric_name]
    else:
        r = api.request("POST", "/construct-query", email, json=body)
        assert r.status_code == 403, r.text
