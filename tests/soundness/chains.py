"""Soundness cases of related fields two foreign keys away, shared by the edge-case engines.

The edited shop (``test_duckdb_edges.EDITS``) gives each customer a FIRST_PRODUCT_ID — NULL
for some, a product that does not exist for others — which the model variant here declares a
foreign key to PRODUCTS. ORDERS then reaches PRODUCTS twice: directly through PRODUCT_ID and,
two keys away, through USER_ID -> PEOPLE -> FIRST_PRODUCT_ID, two joins of one table that
must not be confused. Asked as the admin and as the CA manager (whose PEOPLE rows, on the
way, are CA's only).
"""

from __future__ import annotations

import sqlglot

from tests.soundness.expressions import with_expressions
from tests.soundness.harness import (
    CA_MANAGER,
    Case,
    Query,
    agg,
    fields,
    fld,
    flt,
    gb,
    metric,
    ob,
    table,
)

CHAIN = "USER_ID.FIRST_PRODUCT_ID"
# a customer's first product: a key to PRODUCTS two keys away from ORDERS; NULL for some, a
# product that does not exist for others (DuckDB SQL; the other engines get it transpiled)
EDITS = (
    "ALTER TABLE PEOPLE ADD COLUMN FIRST_PRODUCT_ID BIGINT",
    "UPDATE PEOPLE SET FIRST_PRODUCT_ID = CASE WHEN ID % 13 = 0 THEN NULL "
    "WHEN ID % 17 = 0 THEN 999999 ELSE 1 + (ID * 7) % 200 END",
)


def add_first_products(conn: object, dialect: str) -> None:
    """``EDITS`` on an engine whose tables were loaded from the edited DuckDB shop's rows
    (which keeps the demo's columns only)."""
    cursor = conn.cursor()  # type: ignore[attr-defined]
    try:
        for statement in EDITS:
            cursor.execute(sqlglot.transpile(statement, read="duckdb", write=dialect)[0])
        conn.commit()  # type: ignore[attr-defined]
    finally:
        cursor.close()


_DECLARED = (
    "          - {name: ZIP, semantic_type: type/ZipCode, description: Five-digit ZIP code.}\n"
)
_KEY = "          - {name: FIRST_PRODUCT_ID, foreign_key: PRODUCTS.ID}\n"


def with_chains(model: str) -> str:
    """``with_expressions`` of the model, with PEOPLE.FIRST_PRODUCT_ID a key to PRODUCTS."""
    model = with_expressions(model)
    assert _DECLARED in model
    return model.replace(_DECLARED, _DECLARED + _KEY, 1)


SOURCE = (
    "ORDERS o LEFT JOIN PEOPLE p ON o.USER_ID = p.ID "
    "LEFT JOIN PRODUCTS fp ON p.FIRST_PRODUCT_ID = fp.ID "
    "LEFT JOIN PRODUCTS d ON o.PRODUCT_ID = d.ID"
)
CA_SOURCE = (
    "(SELECT * FROM ORDERS WHERE USER_ID IN (SELECT ID FROM PEOPLE WHERE STATE = 'CA')) o "
    "LEFT JOIN (SELECT * FROM PEOPLE WHERE STATE = 'CA') p ON o.USER_ID = p.ID "
    "LEFT JOIN PRODUCTS fp ON p.FIRST_PRODUCT_ID = fp.ID "
    "LEFT JOIN PRODUCTS d ON o.PRODUCT_ID = d.ID"
)


def _both(case_id: str, query: Query, sql: str) -> list[Case]:
    return [
        Case(case_id, query, sql.format(source=SOURCE)),
        Case(f"{case_id}-sandboxed", query, sql.format(source=CA_SOURCE), email=CA_MANAGER),
    ]


CASES: list[Case] = [
    *_both(
        "chain-group-by-two-keys-away-beside-the-direct-key",
        table(
            "ORDERS",
            aggregations=[agg("count"), agg("sum", "TOTAL")],
            group_by=[gb("CATEGORY", via=CHAIN), gb("CATEGORY", via="PRODUCT_ID")],
        ),
        "SELECT fp.CATEGORY AS CATEGORY, d.CATEGORY AS CATEGORY_2, count(*) AS count, "
        "sum(o.TOTAL) AS sum FROM {source} GROUP BY 1, 2 ORDER BY CATEGORY, CATEGORY_2",
    ),
    *_both(
        "chain-filter-and-fields",
        table(
            "ORDERS",
            filters=[
                flt("CATEGORY", "equals", "Widget", via=CHAIN),
                flt("PRICE", "greater-than", 40, via=CHAIN),
            ],
            fields=[*fields("ID", "TOTAL"), fld("TITLE", via=CHAIN)],
            order_by=[ob("ID", "desc")],
            limit=60,
        ),
        "SELECT o.ID AS ID, o.TOTAL AS TOTAL, fp.TITLE AS TITLE FROM {source} "
        "WHERE fp.CATEGORY = 'Widget' AND fp.PRICE > 40 ORDER BY o.ID DESC LIMIT 60",
    ),
    *_both(
        "chain-null-and-dangling-keys-by-vendor",
        table(
            "ORDERS",
            filters=[flt("VENDOR", "is-null", via=CHAIN)],
            aggregations=[agg("count"), agg("count-distinct", "USER_ID")],
            group_by=[gb("CREATED_AT", "year")],
        ),
        "SELECT date_trunc('year', o.CREATED_AT) AS CREATED_AT, count(*) AS count, "
        "count(DISTINCT o.USER_ID) AS count_distinct FROM {source} WHERE fp.VENDOR IS NULL "
        "GROUP BY 1 ORDER BY CREATED_AT",
    ),
    *_both(
        "chain-metric-by-category-two-keys-away",
        metric("Total Revenue", group_by=[gb("CATEGORY", via=CHAIN)]),
        'SELECT fp.CATEGORY AS CATEGORY, sum(o.TOTAL) AS "Total Revenue" FROM {source} '
        "GROUP BY 1 ORDER BY CATEGORY",
    ),
]
