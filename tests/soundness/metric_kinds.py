"""Soundness cases of ratio, derived and cumulative metrics, shared by every engine.

They run on the edited shop of the edge cases (``test_duckdb_edges.EDITS``: orders without a
date, a month with no orders, a month whose subtotals and taxes are all zero, a week whose
orders have no customer) through a service whose model adds, to the demo's four such metrics,
one metric per remaining combination (``EXTRA_METRICS``): a to-date grain, windows in months
and in days, offsets by a week and by a year, a ratio with a filtered numerator.

Every kind is asked at every granularity it accepts, alone, with filters (one on the time
dimension, one not) and with a breakout through a foreign key; the hand SQL spells out the
window functions and self-joins. The granularities a metric refuses are checked too.
"""

from __future__ import annotations

from dataclasses import dataclass

from tests.soundness.harness import ADMIN, CA_MANAGER, Case, flt, gb, metric

EXTRA_METRICS = """
  - name: Revenue Year to Date
    collection: Drafts
    table: ORDERS
    type: cumulative
    aggregation: {function: sum, column: TOTAL}
    grain: year
    default_time_dimension: CREATED_AT
  - name: Trailing 3-Month Revenue
    collection: Drafts
    table: ORDERS
    type: cumulative
    aggregation: {function: sum, column: TOTAL}
    window: 3 months
    default_time_dimension: CREATED_AT
  - name: Orders in Trailing 28 Days
    collection: Drafts
    table: ORDERS
    type: cumulative
    aggregation: {function: count}
    window: 28 days
    default_time_dimension: CREATED_AT
  - name: Weekly Order Change
    collection: Drafts
    table: ORDERS
    type: derived
    expression: orders - last_week
    metrics:
      - {metric: Order Count, alias: orders}
      - {metric: Order Count, alias: last_week, offset: 1 week}
    default_time_dimension: CREATED_AT
  - name: Revenue Growth Year over Year
    collection: Drafts
    table: ORDERS
    type: derived
    expression: (revenue - last_year) / last_year
    metrics:
      - {metric: Total Revenue, alias: revenue}
      - {metric: Total Revenue, alias: last_year, offset: 1 year}
    default_time_dimension: CREATED_AT
  - name: Revenue Beyond Subtotals
    collection: Drafts
    table: ORDERS
    type: derived
    expression: revenue - gross
    metrics:
      - {metric: Total Revenue, alias: revenue}
      - {metric: Gross Sales, alias: gross}
    default_time_dimension: CREATED_AT
  - name: Bulk Share
    collection: Drafts
    table: ORDERS
    type: ratio
    numerator: {metric: Bulk Revenue}
    denominator: {function: sum, column: TOTAL}
    default_time_dimension: CREATED_AT
"""


def with_extra_metrics(model: str) -> str:
    """The demo model with ``EXTRA_METRICS`` at the end of its metrics."""
    assert "\nmeasures:\n" in model
    return model.replace("\nmeasures:\n", EXTRA_METRICS + "\nmeasures:\n", 1)


GRANULARITIES = ("day", "week", "month", "quarter", "year")
O_D = "ORDERS o LEFT JOIN PRODUCTS d ON o.PRODUCT_ID = d.ID"
NOT_TIME = "o.QUANTITY >= 2"  # a filter on another column: it always restricts the rows
IN_2023 = "year(o.CREATED_AT) = 2023"  # a filter on the time dimension


def _filters() -> list[dict[str, object]]:
    return [
        flt("QUANTITY", "greater-than-or-equal", 2),
        flt("CREATED_AT", "year-equals", 2023),
    ]


@dataclass(frozen=True)
class Shape:
    """How a case asks: at which granularity, with the two filters, with the breakout."""

    granularity: str
    filtered: bool
    breakout: bool
    sandboxed: bool = False  # asked by ca-manager, who sees the orders of CA customers only

    @property
    def source(self) -> str:
        if not self.sandboxed:
            return O_D
        return (
            "(SELECT * FROM ORDERS WHERE USER_ID IN (SELECT ID FROM PEOPLE WHERE STATE = 'CA')) o "
            "LEFT JOIN PRODUCTS d ON o.PRODUCT_ID = d.ID"
        )

    @property
    def email(self) -> str:
        return CA_MANAGER if self.sandboxed else ADMIN

    @property
    def id(self) -> str:
        return (
            self.granularity
            + ("-filtered" if self.filtered else "")
            + ("-by-category" if self.breakout else "")
            + ("-sandboxed" if self.sandboxed else "")
        )

    def parts(self) -> dict[str, object]:
        groups = [gb("CREATED_AT", self.granularity)]
        if self.breakout:
            groups.append(gb("CATEGORY", via="PRODUCT_ID"))
        out: dict[str, object] = {"group_by": groups}
        if self.filtered:
            out["filters"] = _filters()
        return out

    @property
    def period(self) -> str:
        return f"date_trunc('{self.granularity}', o.CREATED_AT)"

    @property
    def keys(self) -> str:
        """The output columns before the metric, as hand SQL selects them from ``t``."""
        return "t.CREATED_AT" + (", t.CATEGORY" if self.breakout else "")

    @property
    def inner_keys(self) -> str:
        return f"{self.period} AS CREATED_AT" + (
            ", d.CATEGORY AS CATEGORY" if self.breakout else ""
        )

    @property
    def order(self) -> str:
        return "ORDER BY 1, 2" if self.breakout else "ORDER BY 1"

    @property
    def group(self) -> str:
        return "GROUP BY 1, 2" if self.breakout else "GROUP BY 1"

    def same_keys(self, a: str, b: str) -> str:
        """Join condition on the breakout besides the period (NULL matching NULL)."""
        return f" AND {a}.CATEGORY IS NOT DISTINCT FROM {b}.CATEGORY" if self.breakout else ""

    def shown(self, alias: str = "t") -> str:
        """With the filters, the periods shown: those holding a row that passes both (the
        values still use earlier periods' rows)."""
        if not self.filtered:
            return ""
        return (
            f" AND ({alias}.CREATED_AT, {alias + '.CATEGORY' if self.breakout else '1'}) IN "
            f"(SELECT {self.period}, {'d.CATEGORY' if self.breakout else '1'} FROM {self.source} "
            f"WHERE {NOT_TIME} AND {IN_2023})"
        )

    def rows_where(self, along_time: bool) -> str:
        """The WHERE of the rows a metric aggregates: a metric running along time drops the
        rows without a time and keeps the time filter for the periods shown."""
        conditions = ["o.CREATED_AT IS NOT NULL"] if along_time else []
        if self.filtered:
            conditions.append(NOT_TIME)
            if not along_time:
                conditions.append(IN_2023)
        return f"WHERE {' AND '.join(conditions)}" if conditions else ""


def shapes(granularities: tuple[str, ...]) -> list[Shape]:
    return [
        Shape(g, filtered, breakout)
        for g in granularities
        for filtered in (False, True)
        for breakout in (False, True)
    ]


def _ratio(name: str, numerator: str, denominator: str, shape: Shape) -> Case:
    sql = (
        f"SELECT {shape.inner_keys}, CAST({numerator} AS DOUBLE) / "
        f'NULLIF(CAST({denominator} AS DOUBLE), 0) AS "{name}" FROM {shape.source} '
        f"{shape.rows_where(False)} {shape.group} {shape.order}"
    )
    # NULL periods (orders without a date) sort where each engine puts NULLs
    return Case(
        f"kind-{name}-{shape.id}",
        metric(name, **shape.parts()),
        sql,
        email=shape.email,
        unordered=True,
    )


def _per_period(shape: Shape, aggregation: str) -> str:
    return (
        f"(SELECT {shape.inner_keys}, {aggregation} AS v FROM {shape.source} "
        f"{shape.rows_where(True)} {shape.group})"
    )


def _cumulative(name: str, aggregation: str, shape: Shape, partition: str = "") -> Case:
    keys = ["t.CATEGORY"] if shape.breakout else []
    if partition:
        keys.append(partition)
    over = f"PARTITION BY {', '.join(keys)} " if keys else ""
    running = (
        f"sum(t.v) OVER ({over}ORDER BY t.CREATED_AT "
        "ROWS BETWEEN UNBOUNDED PRECEDING AND CURRENT ROW)"
    )
    sql = (
        f'SELECT * FROM (SELECT {shape.keys}, {running} AS "{name}" '
        f"FROM {_per_period(shape, aggregation)} t) t WHERE 1 = 1{shape.shown()} {shape.order}"
    )
    return Case(f"kind-{name}-{shape.id}", metric(name, **shape.parts()), sql, email=shape.email)


def _index(alias: str, granularity: str) -> str:
    if granularity in ("day", "week"):
        return f"date_diff('day', DATE '1970-01-01', CAST({alias}.CREATED_AT AS DATE))"
    return f"(year({alias}.CREATED_AT) * 12 + month({alias}.CREATED_AT))"


def _trailing(name: str, aggregation: str, shape: Shape, width: int) -> Case:
    c, p = _index("c", shape.granularity), _index("p", shape.granularity)
    sql = (
        f'SELECT {shape.keys.replace("t.", "c.")}, sum(p.v) AS "{name}" '
        f"FROM {_per_period(shape, aggregation)} c JOIN {_per_period(shape, aggregation)} p "
        f"ON {p} <= {c} AND {p} > {c} - {width}{shape.same_keys('c', 'p')} "
        f"WHERE 1 = 1{shape.shown('c')} {shape.group} {shape.order}"
    )
    return Case(f"kind-{name}-{shape.id}", metric(name, **shape.parts()), sql, email=shape.email)


def _offset(name: str, aggregation: str, combine: str, shape: Shape, back: int) -> Case:
    c, p = _index("c", shape.granularity), _index("p", shape.granularity)
    value = combine.format(now="c.v", before="p.v")
    sql = (
        f'SELECT {shape.keys.replace("t.", "c.")}, {value} AS "{name}" '
        f"FROM {_per_period(shape, aggregation)} c LEFT JOIN "
        f"{_per_period(shape, aggregation)} p "
        f"ON {p} = {c} - {back}{shape.same_keys('c', 'p')} "
        f"WHERE 1 = 1{shape.shown('c')} {shape.order}"
    )
    return Case(f"kind-{name}-{shape.id}", metric(name, **shape.parts()), sql, email=shape.email)


GROWTH = "CAST({now} AS DOUBLE) / NULLIF(CAST({before} AS DOUBLE), 0) - 1"
YOY = "(CAST({now} AS DOUBLE) - CAST({before} AS DOUBLE)) / NULLIF(CAST({before} AS DOUBLE), 0)"
CHANGE = "CAST({now} AS DOUBLE) - CAST({before} AS DOUBLE)"
BULK = "sum(CASE WHEN o.QUANTITY > 2 THEN o.TOTAL END)"

CASES: list[Case] = []
for _shape in shapes(GRANULARITIES):
    CASES.append(_ratio("Revenue per Buyer", "sum(o.TOTAL)", "count(DISTINCT o.USER_ID)", _shape))
    CASES.append(_ratio("Tax Rate", "sum(o.TAX)", "sum(o.SUBTOTAL)", _shape))
    CASES.append(_ratio("Bulk Share", BULK, "sum(o.TOTAL)", _shape))
    CASES.append(_cumulative("Cumulative Revenue", "sum(o.TOTAL)", _shape))
    CASES.append(_ratio("Revenue Beyond Subtotals", "sum(o.TOTAL) - sum(o.SUBTOTAL)", "1", _shape))
for _shape in shapes(("day", "month", "quarter", "year")):
    CASES.append(
        _cumulative(
            "Revenue Year to Date", "sum(o.TOTAL)", _shape, "date_trunc('year', t.CREATED_AT)"
        )
    )
for _shape in shapes(("month", "quarter")):
    CASES.append(_trailing("Trailing 3-Month Revenue", "sum(o.TOTAL)", _shape, 3))
for _shape in shapes(("day", "week")):
    CASES.append(_trailing("Orders in Trailing 28 Days", "count(*)", _shape, 28))
    CASES.append(_offset("Weekly Order Change", "count(*)", CHANGE, _shape, 7))
for _shape in shapes(("month",)):
    CASES.append(_offset("Revenue Growth", "sum(o.TOTAL)", GROWTH, _shape, 1))
for _shape in shapes(("month", "quarter", "year")):
    CASES.append(_offset("Revenue Growth Year over Year", "sum(o.TOTAL)", YOY, _shape, 12))
# the sandboxed user: every part, running total and offset reads CA customers' orders only
for _shape in (Shape("month", False, False, True), Shape("month", True, True, True)):
    CASES.append(_ratio("Revenue per Buyer", "sum(o.TOTAL)", "count(DISTINCT o.USER_ID)", _shape))
    CASES.append(_cumulative("Cumulative Revenue", "sum(o.TOTAL)", _shape))
    CASES.append(_offset("Revenue Growth", "sum(o.TOTAL)", GROWTH, _shape, 1))
CASES += [
    # a ratio or an expression without offset groups like any metric, extractions included
    Case(
        "kind-ratio-by-day-of-week",
        metric("Tax Rate", group_by=[gb("CREATED_AT", "day-of-week")]),
        "SELECT isodow(CREATED_AT) AS CREATED_AT, CAST(sum(TAX) AS DOUBLE) / "
        'NULLIF(CAST(sum(SUBTOTAL) AS DOUBLE), 0) AS "Tax Rate" FROM ORDERS GROUP BY 1 ORDER BY 1',
        unordered=True,
    ),
    Case(
        "kind-derived-by-month-of-year",
        metric("Revenue Beyond Subtotals", group_by=[gb("CREATED_AT", "month-of-year")]),
        "SELECT month(CREATED_AT) AS CREATED_AT, CAST(sum(TOTAL) - sum(SUBTOTAL) AS DOUBLE) "
        'AS "Revenue Beyond Subtotals" FROM ORDERS GROUP BY 1 ORDER BY 1',
        unordered=True,
    ),
    Case(
        "kind-ratio-no-breakout",
        metric("Tax Rate"),
        'SELECT CAST(sum(TAX) AS DOUBLE) / NULLIF(CAST(sum(SUBTOTAL) AS DOUBLE), 0) AS "Tax Rate" '
        "FROM ORDERS",
    ),
    Case(
        "kind-cumulative-no-breakout-is-the-total",
        metric("Cumulative Revenue", filters=[flt("QUANTITY", "greater-than-or-equal", 2)]),
        'SELECT sum(TOTAL) AS "Cumulative Revenue" FROM ORDERS WHERE QUANTITY >= 2',
    ),
]

# a metric query ordered by the metric's value (sort_order, with limit: the top or bottom N),
# then by its breakouts; a null value (no buyers, a zero denominator) sorts last
_O_P = "ORDERS o LEFT JOIN PEOPLE p ON o.USER_ID = p.ID"
_CA = "o.USER_ID IN (SELECT ID FROM PEOPLE WHERE STATE = 'CA')"
CASES += [
    Case(
        "kind-simple-sorted-desc-top-5-states",
        metric("Total Revenue", group_by=[gb("STATE", via="USER_ID")], sort_order="desc", limit=5),
        f'SELECT p.STATE AS STATE, sum(o.TOTAL) AS "Total Revenue" FROM {_O_P} '
        'GROUP BY 1 ORDER BY "Total Revenue" DESC NULLS LAST, STATE LIMIT 5',
    ),
    Case(
        "kind-ratio-sorted-asc-bottom-4-months",
        metric(
            "Tax Rate",
            group_by=[gb("CREATED_AT", "month")],
            filters=[flt("QUANTITY", "greater-than-or-equal", 2)],
            sort_order="asc",
            limit=4,
        ),
        "SELECT date_trunc('month', CREATED_AT) AS CREATED_AT, CAST(sum(TAX) AS DOUBLE) / "
        'NULLIF(CAST(sum(SUBTOTAL) AS DOUBLE), 0) AS "Tax Rate" FROM ORDERS WHERE QUANTITY >= 2 '
        'GROUP BY 1 ORDER BY "Tax Rate" ASC NULLS LAST, CREATED_AT LIMIT 4',
    ),
    Case(
        "kind-cumulative-sorted-desc-top-3-months",
        metric(
            "Cumulative Revenue", group_by=[gb("CREATED_AT", "month")], sort_order="desc", limit=3
        ),
        'SELECT CREATED_AT, sum(v) OVER (ORDER BY CREATED_AT) AS "Cumulative Revenue" FROM '
        "(SELECT date_trunc('month', CREATED_AT) AS CREATED_AT, sum(TOTAL) AS v FROM ORDERS "
        "WHERE CREATED_AT IS NOT NULL GROUP BY 1) t "
        'ORDER BY "Cumulative Revenue" DESC NULLS LAST, CREATED_AT LIMIT 3',
    ),
    Case(
        "kind-simple-sorted-sandboxed",
        metric("Total Revenue", group_by=[gb("CREATED_AT", "year")], sort_order="desc", limit=2),
        "SELECT date_trunc('year', o.CREATED_AT) AS CREATED_AT, sum(o.TOTAL) AS "
        f'"Total Revenue" FROM ORDERS o WHERE {_CA} GROUP BY 1 '
        'ORDER BY "Total Revenue" DESC NULLS LAST, CREATED_AT LIMIT 2',
        email=CA_MANAGER,
    ),
]

# (metric, granularity) pairs a query is refused for, with a word of the reason
REFUSED = [
    ("Revenue Growth", "day", "not a whole number"),
    ("Revenue Growth", "week", "not a whole number"),
    ("Revenue Growth", "quarter", "not a whole number"),
    ("Revenue Growth", "year", "not a whole number"),
    ("Revenue Growth", "day-of-week", "group it by a period"),
    ("Revenue Growth", None, "compares periods"),
    ("Revenue Year to Date", "week", "runs to date within each year"),
    ("Trailing 3-Month Revenue", "year", "not a whole number"),
    ("Orders in Trailing 28 Days", "month", "not a whole number"),
    ("Weekly Order Change", "month", "not a whole number"),
    ("Revenue Growth Year over Year", "week", "not a whole number"),
]
