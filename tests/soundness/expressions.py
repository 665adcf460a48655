"""Soundness cases of expressions in the model, shared by every engine.

Measures and metrics that aggregate an expression (arithmetic, ``coalesce``, ``case when``,
division by a column that is zero in July 2023, a column of a table one foreign key away),
and segments that keep rows by a condition (OR, NOT, column-to-column comparisons, a
comparison across a foreign key, a condition beside plain filters), on the edited shop of the
edge cases (``test_duckdb_edges.EDITS``: NULL dates and customers, dangling keys, zero
subtotals). Each is asked as the admin and, where it reads a sandboxed table, as the CA
manager; the hand SQL writes each expression out in SQL.
"""

from __future__ import annotations

from tests.soundness.harness import (
    CA_MANAGER,
    Case,
    agg,
    fields,
    flt,
    gb,
    measure,
    metric,
    ob,
    seg,
)
from tests.soundness.harness import table as table_query
from tests.soundness.metric_kinds import with_extra_metrics

EXTRA_MEASURES = """
  - name: Net Sales
    table: ORDERS
    aggregation: {function: sum, expression: "SUBTOTAL - coalesce(DISCOUNT, 0)"}
  - name: Average Markup
    table: ORDERS
    aggregation: {function: avg, expression: TOTAL / SUBTOTAL * 0.95}
  - name: Unit Share
    table: ORDERS
    aggregation: {function: avg, expression: QUANTITY / (QUANTITY + 1)}
  - name: Catalog Value
    table: ORDERS
    aggregation: {function: sum, expression: QUANTITY * PRODUCTS.PRICE}
  - name: Large Order Count
    table: ORDERS
    aggregation:
      function: sum
      expression: case when TOTAL > 100 then 2 when TOTAL > 50 then 1 else 0 end
  - name: Gadget Buyers
    table: ORDERS
    aggregation:
      function: count-distinct
      expression: "case when PRODUCTS.CATEGORY in ('Gadget', 'Doohickey') then USER_ID end"
"""

EXTRA_SEGMENTS = """
  - name: Discounted or Large
    table: ORDERS
    condition: DISCOUNT is not null or TOTAL > 100
  - name: Not Widgets
    table: ORDERS
    condition: not (PRODUCTS.CATEGORY = 'Widget')
  - name: Taxed Heavily
    table: ORDERS
    condition: TAX * 20 > SUBTOTAL and not (QUANTITY between 2 and 4)
  - name: Ordered Before Listing
    table: ORDERS
    condition: CREATED_AT < PRODUCTS.CREATED_AT
  - name: Organic or Unknown Buyers
    table: ORDERS
    condition: PEOPLE.SOURCE = 'Organic' or PEOPLE.ID is null
  - name: Mid-Size Repeat Orders
    table: ORDERS
    filters: [{column: QUANTITY, operation: greater-than, value: 1}]
    condition: SUBTOTAL between 20 and 80 and (TAX > 3 or DISCOUNT is null)
"""

EXTRA_METRICS = """
  - name: Discount Given
    collection: Curated
    table: ORDERS
    aggregation: {function: sum, expression: "coalesce(DISCOUNT, 0)"}
    default_time_dimension: CREATED_AT
  - name: Discount Share
    collection: Curated
    table: ORDERS
    type: ratio
    numerator: {function: sum, expression: "coalesce(DISCOUNT, 0)"}
    denominator: {function: sum, expression: SUBTOTAL + TAX}
    default_time_dimension: CREATED_AT
  - name: Widget Revenue
    collection: Curated
    table: ORDERS
    aggregation: {function: sum, column: TOTAL}
    filters:
      - {column: CATEGORY, via: PRODUCT_ID, operation: equals, value: Widget}
    default_time_dimension: CREATED_AT
"""


ORDER_DESK = "order-desk@example.com"  # may query ORDERS, and no table it refers to
_ORDER_DESK = (
    ("\ngroups:\n", "  - {name: Order Desk, description: ORDERS alone.}\n"),
    ("\nusers:\n", f"  - {{email: {ORDER_DESK}, groups: [Order Desk]}}\n"),
    ("\n  data:\n", "    - {group: Order Desk, tables: [ORDERS], access: query}\n"),
)


def with_expressions(model: str) -> str:
    """The model of ``metric_kinds.with_extra_metrics`` with the measures, segments and
    metrics above added, and a user who may query ORDERS only."""
    model = with_extra_metrics(model)
    for heading, line in _ORDER_DESK:
        assert heading in model
        model = model.replace(heading, heading + line, 1)
    for heading, extra in (
        ("\nmeasures:\n", EXTRA_MEASURES),
        ("\nsegments:\n", EXTRA_SEGMENTS),
        ("\nmeasures:\n", EXTRA_METRICS),  # the metrics list ends where measures start
    ):
        assert heading in model
        if extra is EXTRA_METRICS:
            model = model.replace(heading, extra + heading, 1)
        else:
            model = model.replace(heading, heading + extra.lstrip("\n"), 1)
    return model


O_D = "ORDERS o LEFT JOIN PRODUCTS d ON o.PRODUCT_ID = d.ID LEFT JOIN PEOPLE p ON o.USER_ID = p.ID"
# the CA manager's rows: the sandboxes of ORDERS and of PEOPLE (joined through USER_ID)
CA_ORDERS = (
    "(SELECT * FROM ORDERS WHERE USER_ID IN (SELECT ID FROM PEOPLE WHERE STATE = 'CA')) o "
    "LEFT JOIN PRODUCTS d ON o.PRODUCT_ID = d.ID "
    "LEFT JOIN (SELECT * FROM PEOPLE WHERE STATE = 'CA') p ON o.USER_ID = p.ID"
)
SEGMENTS = {
    "Discounted or Large": "o.DISCOUNT IS NOT NULL OR o.TOTAL > 100",
    "Not Widgets": "NOT (d.CATEGORY = 'Widget')",
    "Taxed Heavily": "o.TAX * 20 > o.SUBTOTAL AND NOT (o.QUANTITY BETWEEN 2 AND 4)",
    "Ordered Before Listing": "o.CREATED_AT < d.CREATED_AT",
    "Organic or Unknown Buyers": "p.SOURCE = 'Organic' OR p.ID IS NULL",
    "Mid-Size Repeat Orders": (
        "o.QUANTITY > 1 AND o.SUBTOTAL BETWEEN 20 AND 80 AND (o.TAX > 3 OR o.DISCOUNT IS NULL)"
    ),
}
MEASURES = {
    "Net Sales": "sum(o.SUBTOTAL - coalesce(o.DISCOUNT, 0))",
    "Average Markup": "avg(o.TOTAL / NULLIF(o.SUBTOTAL, 0) * 0.95)",
    "Unit Share": "avg(CAST(o.QUANTITY AS DOUBLE) / NULLIF(o.QUANTITY + 1, 0))",
    "Catalog Value": "sum(o.QUANTITY * d.PRICE)",
    "Large Order Count": (
        "sum(CASE WHEN o.TOTAL > 100 THEN 2 WHEN o.TOTAL > 50 THEN 1 ELSE 0 END)"
    ),
    "Gadget Buyers": (
        "count(DISTINCT CASE WHEN d.CATEGORY IN ('Gadget', 'Doohickey') THEN o.USER_ID END)"
    ),
}


def _segment_cases() -> list[Case]:
    out = []
    for name, condition in SEGMENTS.items():
        slug = name.lower().replace(" ", "-")
        out.append(
            Case(
                f"expr-segment-{slug}-by-category",
                table_query(
                    "ORDERS",
                    filters=[seg(name)],
                    aggregations=[agg("count"), agg("sum", "TOTAL")],
                    group_by=[gb("CATEGORY", via="PRODUCT_ID")],
                ),
                f"SELECT d.CATEGORY AS CATEGORY, count(*) AS count, sum(o.TOTAL) AS sum "
                f"FROM {O_D} WHERE {condition} GROUP BY 1 ORDER BY 1",
            )
        )
        out.append(
            Case(
                f"expr-segment-{slug}-sandboxed",
                table_query(
                    "ORDERS",
                    filters=[seg(name), flt("QUANTITY", "less-than", 5)],
                    aggregations=[agg("count"), agg("sum", "TOTAL")],
                    group_by=[gb("CREATED_AT", "year")],
                ),
                f"SELECT date_trunc('year', o.CREATED_AT) AS CREATED_AT, count(*) AS count, "
                f"sum(o.TOTAL) AS sum FROM {CA_ORDERS} WHERE ({condition}) AND o.QUANTITY < 5 "
                "GROUP BY 1 ORDER BY CREATED_AT",
                email=CA_MANAGER,
            )
        )
    out.append(
        Case(
            "expr-segment-rows",
            table_query(
                "ORDERS",
                filters=[seg("Discounted or Large"), seg("Not Widgets")],
                fields=fields("ID", "TOTAL", "DISCOUNT"),
                order_by=[ob("ID", "desc")],
                limit=40,
            ),
            "SELECT o.ID AS ID, o.TOTAL AS TOTAL, o.DISCOUNT AS DISCOUNT FROM "
            f"{O_D} WHERE ({SEGMENTS['Discounted or Large']}) AND ({SEGMENTS['Not Widgets']}) "
            "ORDER BY o.ID DESC LIMIT 40",
        )
    )
    return out


def _measure_cases() -> list[Case]:
    names = list(MEASURES)
    selected = ", ".join(f'{MEASURES[n]} AS "{n}"' for n in names)
    return [
        Case(
            "expr-measures-by-month",
            table_query(
                "ORDERS",
                aggregations=[measure(n) for n in names],
                group_by=[gb("CREATED_AT", "month")],
            ),
            f"SELECT date_trunc('month', o.CREATED_AT) AS CREATED_AT, {selected} "
            f"FROM {O_D} GROUP BY 1 ORDER BY CREATED_AT",
        ),
        Case(
            "expr-measures-by-category-filtered",
            table_query(
                "ORDERS",
                filters=[flt("QUANTITY", "greater-than", 1)],
                aggregations=[measure(n) for n in names],
                group_by=[gb("CATEGORY", via="PRODUCT_ID")],
            ),
            f"SELECT d.CATEGORY AS CATEGORY, {selected} FROM {O_D} WHERE o.QUANTITY > 1 "
            "GROUP BY 1 ORDER BY 1",
        ),
        Case(
            "expr-measures-sandboxed",
            table_query(
                "ORDERS",
                aggregations=[measure(n) for n in names],
                group_by=[gb("CREATED_AT", "quarter")],
            ),
            f"SELECT date_trunc('quarter', o.CREATED_AT) AS CREATED_AT, {selected} "
            f"FROM {CA_ORDERS} GROUP BY 1 ORDER BY CREATED_AT",
            email=CA_MANAGER,
        ),
        Case(
            "expr-measure-sorted-with-segment",
            table_query(
                "ORDERS",
                filters=[seg("Taxed Heavily")],
                aggregations=[measure("Net Sales", sort="desc")],
                group_by=[gb("STATE", via="USER_ID")],
                limit=5,
            ),
            'SELECT p.STATE AS STATE, sum(o.SUBTOTAL - coalesce(o.DISCOUNT, 0)) AS "Net Sales" '
            f"FROM {O_D} WHERE {SEGMENTS['Taxed Heavily']} GROUP BY 1 ORDER BY 2 DESC, 1 LIMIT 5",
        ),
    ]


def _metric_cases() -> list[Case]:
    metrics = {
        "Discount Given": ("sum(coalesce(o.DISCOUNT, 0.0))", ""),
        "Discount Share": (
            "CAST(sum(coalesce(o.DISCOUNT, 0.0)) AS DOUBLE) / "
            "NULLIF(CAST(sum(o.SUBTOTAL + o.TAX) AS DOUBLE), 0)",
            "",
        ),
        "Widget Revenue": ("sum(o.TOTAL)", "d.CATEGORY = 'Widget'"),
    }
    out = []
    for name, (value, where) in metrics.items():
        slug = name.lower().replace(" ", "-")
        for email, source in ((None, O_D), (CA_MANAGER, CA_ORDERS)):
            conditions = " AND ".join(c for c in (where, "o.QUANTITY >= 2") if c)
            case_id = f"expr-metric-{slug}-by-month" + ("-sandboxed" if email else "")
            out.append(
                Case(
                    case_id,
                    metric(
                        name,
                        filters=[flt("QUANTITY", "greater-than-or-equal", 2)],
                        group_by=[gb("CREATED_AT", "month")],
                    ),
                    f"SELECT date_trunc('month', o.CREATED_AT) AS CREATED_AT, {value} "
                    f'AS "{name}" FROM {source} WHERE {conditions} GROUP BY 1 ORDER BY CREATED_AT',
                    **({"email": email} if email else {}),
                )
            )
    return out


CASES: list[Case] = _segment_cases() + _measure_cases() + _metric_cases()
