"""Soundness on DuckDB: every query shape answers exactly what hand-written SQL answers.

Each case is an Agent API request (built from names, with field ids learnt from the details
endpoints) and the SQL a careful analyst would write for the same question, run directly on
the demo warehouse file the shared service reads.
"""

from __future__ import annotations

from collections.abc import Iterator

import duckdb
import pytest

from sextant.service import Sextant
from tests.agent_client import AgentClient
from tests.soundness.harness import (
    CA_MANAGER,
    FINANCE,
    NOSTATE,
    Case,
    agg,
    check,
    fields,
    fld,
    flt,
    gb,
    measure,
    metric,
    ob,
    seg,
    sunday_client,
    table,
)

# Hand SQL building blocks.
PEOPLE_COLS = (
    "ID, ADDRESS, EMAIL, NAME, CITY, LONGITUDE, STATE, SOURCE, BIRTH_DATE, ZIP, LATITUDE, "
    "CREATED_AT"
)
O_P = "ORDERS o LEFT JOIN PEOPLE p ON o.USER_ID = p.ID"
O_D = "ORDERS o LEFT JOIN PRODUCTS d ON o.PRODUCT_ID = d.ID"
O_P_D = O_P + " LEFT JOIN PRODUCTS d ON o.PRODUCT_ID = d.ID"
CA = "o.USER_ID IN (SELECT ID FROM PEOPLE WHERE STATE = 'CA')"
COUNT_SUM = [agg("count"), agg("sum", "TOTAL")]
COUNT_SUM_SQL = "SELECT count(*) AS count, sum(TOTAL) AS sum FROM ORDERS"


def by_year(*filters: dict[str, object]) -> dict[str, object]:
    """Parts counting ORDERS by year of CREATED_AT under ``filters``."""
    return {
        "filters": list(filters),
        "aggregations": [agg("count")],
        "group_by": [gb("CREATED_AT", "year")],
    }


def year_sql(where: str) -> str:
    return (
        "SELECT date_trunc('year', CREATED_AT) AS CREATED_AT, count(*) AS count "
        f"FROM ORDERS WHERE {where} GROUP BY 1 ORDER BY 1"
    )


FILTER_CASES = [
    # -- existence ---------------------------------------------------------------------------
    Case(
        "is-null-number",
        table("ORDERS", filters=[flt("DISCOUNT", "is-null")], aggregations=COUNT_SUM),
        f"{COUNT_SUM_SQL} WHERE DISCOUNT IS NULL",
    ),
    Case(
        "is-not-null-number-raw",
        table("ORDERS", filters=[flt("DISCOUNT", "is-not-null")], fields=fields("ID", "DISCOUNT")),
        "SELECT ID, DISCOUNT FROM ORDERS WHERE DISCOUNT IS NOT NULL",
    ),
    Case(
        "string-is-empty",
        table("PEOPLE", filters=[flt("CITY", "string-is-empty")], aggregations=[agg("count")]),
        "SELECT count(*) AS count FROM PEOPLE WHERE CITY IS NULL OR CITY = ''",
    ),
    Case(
        "string-is-not-empty",
        table(
            "PEOPLE",
            filters=[flt("ZIP", "string-is-not-empty")],
            aggregations=[agg("count")],
            group_by=[gb("SOURCE")],
        ),
        "SELECT SOURCE, count(*) AS count FROM PEOPLE WHERE ZIP IS NOT NULL AND ZIP <> '' "
        "GROUP BY 1 ORDER BY 1",
    ),
    # -- equals / not-equals -----------------------------------------------------------------
    Case(
        "equals-string-single-raw",
        table("PEOPLE", filters=[flt("STATE", "equals", "CA")], fields=fields("ID", "NAME")),
        "SELECT ID, NAME FROM PEOPLE WHERE STATE = 'CA'",
    ),
    Case(
        "equals-string-is-exact",
        table("PEOPLE", filters=[flt("STATE", "equals", "ca")], aggregations=[agg("count")]),
        "SELECT count(*) AS count FROM PEOPLE WHERE STATE = 'ca'",
    ),
    Case(
        "equals-string-multiple",
        table(
            "PEOPLE",
            filters=[flt("SOURCE", "equals", values=["Google", "Twitter"])],
            aggregations=[agg("count")],
            group_by=[gb("SOURCE")],
        ),
        "SELECT SOURCE, count(*) AS count FROM PEOPLE WHERE SOURCE IN ('Google', 'Twitter') "
        "GROUP BY 1 ORDER BY 1",
    ),
    Case(
        "not-equals-string-single",
        table(
            "PRODUCTS",
            filters=[flt("CATEGORY", "not-equals", "Widget")],
            aggregations=[agg("count")],
            group_by=[gb("CATEGORY")],
        ),
        "SELECT CATEGORY, count(*) AS count FROM PRODUCTS WHERE CATEGORY <> 'Widget' "
        "GROUP BY 1 ORDER BY 1",
    ),
    Case(
        "not-equals-string-multiple",
        table(
            "PEOPLE",
            filters=[flt("SOURCE", "not-equals", values=["Google", "Organic", "Nope"])],
            aggregations=[agg("count")],
            group_by=[gb("SOURCE")],
        ),
        "SELECT SOURCE, count(*) AS count FROM PEOPLE "
        "WHERE SOURCE NOT IN ('Google', 'Organic', 'Nope') GROUP BY 1 ORDER BY 1",
    ),
    Case(
        "equals-number-single",
        table("ORDERS", filters=[flt("QUANTITY", "equals", 3)], aggregations=COUNT_SUM),
        f"{COUNT_SUM_SQL} WHERE QUANTITY = 3",
    ),
    Case(
        "equals-number-multiple",
        table(
            "ORDERS",
            filters=[flt("QUANTITY", "equals", values=[1, 5, 7])],
            aggregations=COUNT_SUM,
            group_by=[gb("QUANTITY")],
        ),
        "SELECT QUANTITY, count(*) AS count, sum(TOTAL) AS sum FROM ORDERS "
        "WHERE QUANTITY IN (1, 5, 7) GROUP BY 1 ORDER BY 1",
    ),
    Case(
        "equals-float",
        table("ORDERS", filters=[flt("DISCOUNT", "equals", 4.87)], fields=fields("ID", "DISCOUNT")),
        "SELECT ID, DISCOUNT FROM ORDERS WHERE DISCOUNT = 4.87",
    ),
    Case(
        "not-equals-number-keeps-null",
        table("ORDERS", filters=[flt("DISCOUNT", "not-equals", 4.87)], aggregations=COUNT_SUM),
        f"{COUNT_SUM_SQL} WHERE DISCOUNT IS NULL OR DISCOUNT <> 4.87",
    ),
    Case(
        "not-equals-number-multiple",
        table(
            "ORDERS",
            filters=[flt("QUANTITY", "not-equals", values=[1, 2])],
            aggregations=[agg("count")],
            group_by=[gb("QUANTITY")],
        ),
        "SELECT QUANTITY, count(*) AS count FROM ORDERS WHERE QUANTITY NOT IN (1, 2) "
        "GROUP BY 1 ORDER BY 1",
    ),
    Case(
        "equals-datetime-single",
        table(
            "ORDERS",
            filters=[flt("CREATED_AT", "equals", "2024-09-07T05:13:57")],
            fields=fields("ID", "CREATED_AT"),
        ),
        "SELECT ID, CREATED_AT FROM ORDERS WHERE CREATED_AT = TIMESTAMP '2024-09-07 05:13:57'",
    ),
    Case(
        "equals-datetime-multiple",
        table(
            "ORDERS",
            filters=[
                flt("CREATED_AT", "equals", values=["2024-09-07T05:13:57", "2022-06-22T03:51:10"])
            ],
            fields=fields("ID", "CREATED_AT"),
        ),
        "SELECT ID, CREATED_AT FROM ORDERS WHERE CREATED_AT IN "
        "(TIMESTAMP '2024-09-07 05:13:57', TIMESTAMP '2022-06-22 03:51:10')",
    ),
    Case(
        "equals-date-value-on-datetime",
        table(
            "ORDERS",
            filters=[flt("CREATED_AT", "equals", "2024-03-01")],
            fields=fields("ID", "CREATED_AT", "TOTAL"),
        ),
        "SELECT ID, CREATED_AT, TOTAL FROM ORDERS "
        "WHERE CAST(CREATED_AT AS DATE) = DATE '2024-03-01'",
    ),
    Case(
        "equals-date-values-on-datetime",
        table(
            "ORDERS",
            filters=[flt("CREATED_AT", "equals", values=["2024-03-01", "2024-12-25"])],
            fields=fields("ID", "CREATED_AT"),
        ),
        "SELECT ID, CREATED_AT FROM ORDERS "
        "WHERE CAST(CREATED_AT AS DATE) IN (DATE '2024-03-01', DATE '2024-12-25')",
    ),
    Case(
        "not-equals-date-value-on-datetime",
        table(
            "ORDERS",
            filters=[flt("CREATED_AT", "not-equals", values=["2024-03-01", "2024-03-02"])],
            aggregations=COUNT_SUM,
        ),
        f"{COUNT_SUM_SQL} WHERE CAST(CREATED_AT AS DATE) "
        "NOT IN (DATE '2024-03-01', DATE '2024-03-02')",
    ),
    Case(
        "equals-date-multiple",
        table(
            "PEOPLE",
            filters=[flt("BIRTH_DATE", "equals", values=["2005-04-17", "1968-11-22"])],
            fields=fields("ID", "BIRTH_DATE"),
        ),
        "SELECT ID, BIRTH_DATE FROM PEOPLE "
        "WHERE BIRTH_DATE IN (DATE '2005-04-17', DATE '1968-11-22')",
    ),
    # -- ordering comparisons ----------------------------------------------------------------
    Case(
        "greater-than-number",
        table("ORDERS", filters=[flt("TOTAL", "greater-than", 150)], aggregations=COUNT_SUM),
        f"{COUNT_SUM_SQL} WHERE TOTAL > 150",
    ),
    Case(
        "greater-than-or-equal-number",
        table(
            "ORDERS",
            filters=[flt("QUANTITY", "greater-than-or-equal", 8)],
            aggregations=[agg("count")],
            group_by=[gb("QUANTITY")],
        ),
        "SELECT QUANTITY, count(*) AS count FROM ORDERS WHERE QUANTITY >= 8 GROUP BY 1 ORDER BY 1",
    ),
    Case(
        "less-than-number",
        table("ORDERS", filters=[flt("TOTAL", "less-than", 20.5)], fields=fields("ID", "TOTAL")),
        "SELECT ID, TOTAL FROM ORDERS WHERE TOTAL < 20.5",
    ),
    Case(
        "less-than-or-equal-number",
        table(
            "ORDERS", filters=[flt("DISCOUNT", "less-than-or-equal", 5.0)], aggregations=COUNT_SUM
        ),
        f"{COUNT_SUM_SQL} WHERE DISCOUNT <= 5.0",
    ),
    Case(
        "greater-than-datetime",
        table(
            "ORDERS",
            filters=[flt("CREATED_AT", "greater-than", "2025-12-30T12:00:00")],
            fields=fields("ID", "CREATED_AT"),
        ),
        "SELECT ID, CREATED_AT FROM ORDERS WHERE CREATED_AT > TIMESTAMP '2025-12-30 12:00:00'",
    ),
    Case(
        "greater-than-date-value-on-datetime",
        table(
            "ORDERS",
            filters=[flt("CREATED_AT", "greater-than", "2025-12-29")],
            fields=fields("ID", "CREATED_AT"),
        ),
        "SELECT ID, CREATED_AT FROM ORDERS WHERE CAST(CREATED_AT AS DATE) > DATE '2025-12-29'",
    ),
    Case(
        "greater-than-or-equal-date-value-on-datetime",
        table(
            "ORDERS",
            filters=[flt("CREATED_AT", "greater-than-or-equal", "2025-12-29")],
            fields=fields("ID", "CREATED_AT"),
        ),
        "SELECT ID, CREATED_AT FROM ORDERS WHERE CAST(CREATED_AT AS DATE) >= DATE '2025-12-29'",
    ),
    Case(
        "less-than-datetime",
        table(
            "ORDERS",
            filters=[flt("CREATED_AT", "less-than", "2022-01-05T06:00:00")],
            fields=fields("ID", "CREATED_AT"),
        ),
        "SELECT ID, CREATED_AT FROM ORDERS WHERE CREATED_AT < TIMESTAMP '2022-01-05 06:00:00'",
    ),
    Case(
        "less-than-or-equal-date-value-on-datetime",
        table(
            "ORDERS",
            filters=[flt("CREATED_AT", "less-than-or-equal", "2022-01-03")],
            fields=fields("ID", "CREATED_AT"),
        ),
        "SELECT ID, CREATED_AT FROM ORDERS WHERE CAST(CREATED_AT AS DATE) <= DATE '2022-01-03'",
    ),
    Case(
        "greater-than-date",
        table(
            "PEOPLE",
            filters=[flt("BIRTH_DATE", "greater-than", "2005-06-01")],
            fields=fields("ID", "BIRTH_DATE"),
        ),
        "SELECT ID, BIRTH_DATE FROM PEOPLE WHERE BIRTH_DATE > DATE '2005-06-01'",
    ),
    Case(
        "less-than-or-equal-date",
        table(
            "PEOPLE",
            filters=[flt("BIRTH_DATE", "less-than-or-equal", "1950-03-01")],
            fields=fields("ID", "BIRTH_DATE"),
        ),
        "SELECT ID, BIRTH_DATE FROM PEOPLE WHERE BIRTH_DATE <= DATE '1950-03-01'",
    ),
    Case(
        "less-than-date-and-greater-than-or-equal-date",
        table(
            "PEOPLE",
            filters=[
                flt("BIRTH_DATE", "greater-than-or-equal", "1990-01-01"),
                flt("BIRTH_DATE", "less-than", "1990-03-01"),
            ],
            fields=fields("ID", "BIRTH_DATE"),
        ),
        "SELECT ID, BIRTH_DATE FROM PEOPLE "
        "WHERE BIRTH_DATE >= DATE '1990-01-01' AND BIRTH_DATE < DATE '1990-03-01'",
    ),
    # -- string matching (case-insensitive) ---------------------------------------------------
    Case(
        "string-contains",
        table(
            "PRODUCTS",
            filters=[flt("TITLE", "string-contains", "STEEL")],
            fields=fields("ID", "TITLE"),
        ),
        "SELECT ID, TITLE FROM PRODUCTS WHERE lower(TITLE) LIKE '%steel%'",
    ),
    Case(
        "string-contains-multiple",
        table(
            "PRODUCTS",
            filters=[flt("TITLE", "string-contains", values=["lamp", "CLOCK"])],
            fields=fields("ID", "TITLE"),
        ),
        "SELECT ID, TITLE FROM PRODUCTS "
        "WHERE lower(TITLE) LIKE '%lamp%' OR lower(TITLE) LIKE '%clock%'",
    ),
    Case(
        "string-not-contains",
        table(
            "REVIEWS",
            filters=[flt("BODY", "string-not-contains", "SHIPPING")],
            aggregations=[agg("count")],
            group_by=[gb("RATING")],
        ),
        "SELECT RATING, count(*) AS count FROM REVIEWS "
        "WHERE lower(BODY) NOT LIKE '%shipping%' GROUP BY 1 ORDER BY 1",
    ),
    Case(
        "string-not-contains-multiple",
        table(
            "REVIEWS",
            filters=[flt("BODY", "string-not-contains", values=["shipping", "Gift"])],
            aggregations=[agg("count")],
        ),
        "SELECT count(*) AS count FROM REVIEWS "
        "WHERE lower(BODY) NOT LIKE '%shipping%' AND lower(BODY) NOT LIKE '%gift%'",
    ),
    Case(
        "string-starts-with",
        table(
            "PEOPLE",
            filters=[flt("NAME", "string-starts-with", "oLi")],
            fields=fields("ID", "NAME"),
        ),
        "SELECT ID, NAME FROM PEOPLE WHERE lower(NAME) LIKE 'oli%'",
    ),
    Case(
        "string-ends-with",
        table(
            "PEOPLE",
            filters=[flt("EMAIL", "string-ends-with", "@GMAIL.COM")],
            aggregations=[agg("count")],
            group_by=[gb("SOURCE")],
        ),
        "SELECT SOURCE, count(*) AS count FROM PEOPLE "
        "WHERE lower(EMAIL) LIKE '%@gmail.com' GROUP BY 1 ORDER BY 1",
    ),
    Case(
        "string-contains-like-wildcard-is-literal",
        table(
            "REVIEWS",
            filters=[flt("REVIEWER", "string-contains", "_R")],
            aggregations=[agg("count")],
            group_by=[gb("RATING")],
        ),
        "SELECT RATING, count(*) AS count FROM REVIEWS "
        "WHERE contains(lower(REVIEWER), '_r') GROUP BY 1 ORDER BY 1",
    ),
    # -- temporal extraction operations ------------------------------------------------------
    Case(
        "year-equals",
        table("ORDERS", **by_year(flt("CREATED_AT", "year-equals", 2023))),
        year_sql("year(CREATED_AT) = 2023"),
    ),
    Case(
        "year-equals-multiple",
        table("ORDERS", **by_year(flt("CREATED_AT", "year-equals", values=[2022, 2025]))),
        year_sql("year(CREATED_AT) IN (2022, 2025)"),
    ),
    Case(
        "year-not-equals",
        table("ORDERS", **by_year(flt("CREATED_AT", "year-not-equals", 2024))),
        year_sql("year(CREATED_AT) <> 2024"),
    ),
    Case(
        "quarter-equals",
        table(
            "ORDERS",
            filters=[flt("CREATED_AT", "quarter-equals", 2)],
            aggregations=[agg("count")],
            group_by=[gb("CREATED_AT", "month")],
        ),
        "SELECT date_trunc('month', CREATED_AT) AS CREATED_AT, count(*) AS count FROM ORDERS "
        "WHERE quarter(CREATED_AT) = 2 GROUP BY 1 ORDER BY 1",
    ),
    Case(
        "quarter-not-equals-multiple",
        table(
            "ORDERS",
            filters=[flt("CREATED_AT", "quarter-not-equals", values=[1, 4])],
            aggregations=[agg("count")],
            group_by=[gb("CREATED_AT", "quarter")],
        ),
        "SELECT date_trunc('quarter', CREATED_AT) AS CREATED_AT, count(*) AS count FROM ORDERS "
        "WHERE quarter(CREATED_AT) NOT IN (1, 4) GROUP BY 1 ORDER BY 1",
    ),
    Case(
        "month-equals-multiple",
        table("ORDERS", **by_year(flt("CREATED_AT", "month-equals", values=[1, 2, 12]))),
        year_sql("month(CREATED_AT) IN (1, 2, 12)"),
    ),
    Case(
        "month-not-equals",
        table("ORDERS", **by_year(flt("CREATED_AT", "month-not-equals", 7))),
        year_sql("month(CREATED_AT) <> 7"),
    ),
    Case(
        "day-of-week-equals-multiple",
        table(
            "ORDERS",
            filters=[flt("CREATED_AT", "day-of-week-equals", values=[6, 7])],
            aggregations=[agg("count")],
            group_by=[gb("CREATED_AT", "day-of-week")],
        ),
        "SELECT isodow(CREATED_AT) AS CREATED_AT, count(*) AS count FROM ORDERS "
        "WHERE isodow(CREATED_AT) IN (6, 7) GROUP BY 1 ORDER BY 1",
    ),
    Case(
        "day-of-week-not-equals",
        table("ORDERS", **by_year(flt("CREATED_AT", "day-of-week-not-equals", 1))),
        year_sql("isodow(CREATED_AT) <> 1"),
    ),
    Case(
        "hour-equals",
        table("ORDERS", **by_year(flt("CREATED_AT", "hour-equals", 0))),
        year_sql("hour(CREATED_AT) = 0"),
    ),
    Case(
        "hour-not-equals-multiple",
        table(
            "ORDERS",
            filters=[flt("CREATED_AT", "hour-not-equals", values=[0, 12, 23])],
            aggregations=[agg("count")],
            group_by=[gb("CREATED_AT", "day-of-week")],
        ),
        "SELECT isodow(CREATED_AT) AS CREATED_AT, count(*) AS count FROM ORDERS "
        "WHERE hour(CREATED_AT) NOT IN (0, 12, 23) GROUP BY 1 ORDER BY 1",
    ),
    Case(
        "minute-equals",
        table(
            "ORDERS",
            filters=[flt("CREATED_AT", "minute-equals", 0)],
            fields=fields("ID", "CREATED_AT"),
        ),
        "SELECT ID, CREATED_AT FROM ORDERS WHERE minute(CREATED_AT) = 0",
    ),
    Case(
        "minute-not-equals",
        table("ORDERS", **by_year(flt("CREATED_AT", "minute-not-equals", values=[0, 30]))),
        year_sql("minute(CREATED_AT) NOT IN (0, 30)"),
    ),
    Case(
        "second-equals-multiple",
        table("ORDERS", **by_year(flt("CREATED_AT", "second-equals", values=[0, 59]))),
        year_sql("second(CREATED_AT) IN (0, 59)"),
    ),
    Case(
        "second-not-equals",
        table("ORDERS", **by_year(flt("CREATED_AT", "second-not-equals", 0))),
        year_sql("second(CREATED_AT) <> 0"),
    ),
    Case(
        "extraction-on-date-column",
        table(
            "PEOPLE",
            filters=[flt("BIRTH_DATE", "month-equals", 2), flt("BIRTH_DATE", "year-equals", 1980)],
            fields=fields("ID", "BIRTH_DATE"),
        ),
        "SELECT ID, BIRTH_DATE FROM PEOPLE WHERE month(BIRTH_DATE) = 2 AND year(BIRTH_DATE) = 1980",
    ),
    # -- temporal filters with a bucket -------------------------------------------------------
    Case(
        "bucket-month-equals",
        table(
            "ORDERS",
            filters=[flt("CREATED_AT", "equals", "2024-03-15", bucket="month")],
            aggregations=COUNT_SUM,
        ),
        f"{COUNT_SUM_SQL} WHERE date_trunc('month', CREATED_AT) = TIMESTAMP '2024-03-01'",
    ),
    Case(
        "bucket-week-greater-than",
        table(
            "ORDERS",
            filters=[flt("CREATED_AT", "greater-than", "2025-12-17", bucket="week")],
            fields=fields("ID", "CREATED_AT"),
        ),
        # 2025-12-17 is a Wednesday: its week starts Monday 2025-12-15
        "SELECT ID, CREATED_AT FROM ORDERS "
        "WHERE date_trunc('week', CREATED_AT) > date_trunc('week', DATE '2025-12-17')",
    ),
    Case(
        "bucket-quarter-less-than-or-equal",
        table(
            "ORDERS",
            filters=[
                flt("CREATED_AT", "less-than-or-equal", "2022-05-20T10:00:00", bucket="quarter")
            ],
            aggregations=[agg("count")],
            group_by=[gb("CREATED_AT", "month")],
        ),
        "SELECT date_trunc('month', CREATED_AT) AS CREATED_AT, count(*) AS count FROM ORDERS "
        "WHERE date_trunc('quarter', CREATED_AT) <= TIMESTAMP '2022-04-01' "
        "GROUP BY 1 ORDER BY 1",
    ),
    Case(
        "bucket-year-not-equals",
        table(
            "ORDERS",
            **by_year(flt("CREATED_AT", "not-equals", "2023-06-30T23:59:59", bucket="year")),
        ),
        year_sql("date_trunc('year', CREATED_AT) <> TIMESTAMP '2023-01-01'"),
    ),
    Case(
        "bucket-day-equals-datetime-value",
        table(
            "ORDERS",
            filters=[flt("CREATED_AT", "equals", "2024-05-05T13:45:00", bucket="day")],
            fields=fields("ID", "CREATED_AT"),
        ),
        "SELECT ID, CREATED_AT FROM ORDERS "
        "WHERE date_trunc('day', CREATED_AT) = TIMESTAMP '2024-05-05'",
    ),
    Case(
        "bucket-hour-greater-than-or-equal",
        table(
            "ORDERS",
            filters=[
                flt("CREATED_AT", "greater-than-or-equal", "2025-12-31T20:30:00", bucket="hour")
            ],
            fields=fields("ID", "CREATED_AT"),
        ),
        "SELECT ID, CREATED_AT FROM ORDERS WHERE CREATED_AT >= TIMESTAMP '2025-12-31 20:00:00'",
    ),
    Case(
        "bucket-year-on-date-column",
        table(
            "PEOPLE",
            filters=[flt("BIRTH_DATE", "equals", "1990-06-01", bucket="year")],
            fields=fields("ID", "BIRTH_DATE"),
        ),
        "SELECT ID, BIRTH_DATE FROM PEOPLE WHERE year(BIRTH_DATE) = 1990",
    ),
    Case(
        "bucket-day-of-week-equals",
        table(
            "ORDERS",
            **by_year(flt("CREATED_AT", "equals", 3, bucket="day-of-week")),
        ),
        year_sql("isodow(CREATED_AT) = 3"),
    ),
    Case(
        "bucket-month-of-year-equals-multiple",
        table(
            "ORDERS",
            **by_year(flt("CREATED_AT", "equals", values=[1, 12], bucket="month-of-year")),
        ),
        year_sql("month(CREATED_AT) IN (1, 12)"),
    ),
    Case(
        "bucket-hour-of-day-greater-than-or-equal",
        table(
            "ORDERS",
            **by_year(flt("CREATED_AT", "greater-than-or-equal", 20, bucket="hour-of-day")),
        ),
        year_sql("hour(CREATED_AT) >= 20"),
    ),
    Case(
        "bucket-day-of-month-less-than",
        table("ORDERS", **by_year(flt("CREATED_AT", "less-than", 3, bucket="day-of-month"))),
        year_sql("day(CREATED_AT) < 3"),
    ),
    Case(
        "bucket-quarter-of-year-not-equals",
        table("ORDERS", **by_year(flt("CREATED_AT", "not-equals", 4, bucket="quarter-of-year"))),
        year_sql("quarter(CREATED_AT) <> 4"),
    ),
    Case(
        "bucket-week-of-year-equals",
        table(
            "ORDERS", **by_year(flt("CREATED_AT", "equals", values=[1, 53], bucket="week-of-year"))
        ),
        year_sql("weekofyear(CREATED_AT) IN (1, 53)"),
    ),
    Case(
        "bucket-day-of-year-less-than-or-equal",
        table(
            "ORDERS", **by_year(flt("CREATED_AT", "less-than-or-equal", 3, bucket="day-of-year"))
        ),
        year_sql("dayofyear(CREATED_AT) <= 3"),
    ),
    Case(
        "bucket-minute-of-hour-and-second-of-minute",
        table(
            "ORDERS",
            filters=[
                flt("CREATED_AT", "equals", 0, bucket="minute-of-hour"),
                flt("CREATED_AT", "greater-than", 30, bucket="second-of-minute"),
            ],
            fields=fields("ID", "CREATED_AT"),
        ),
        "SELECT ID, CREATED_AT FROM ORDERS "
        "WHERE minute(CREATED_AT) = 0 AND second(CREATED_AT) > 30",
    ),
    Case(
        "bucket-week-on-date-column",
        table(
            "PEOPLE",
            filters=[flt("BIRTH_DATE", "greater-than-or-equal", "2005-12-28", bucket="week")],
            fields=fields("ID", "BIRTH_DATE"),
        ),
        "SELECT ID, BIRTH_DATE FROM PEOPLE WHERE BIRTH_DATE >= DATE '2005-12-26'",
    ),
    Case(
        "greater-than-float-on-integer",
        table(
            "ORDERS",
            filters=[flt("QUANTITY", "greater-than", 8.5)],
            aggregations=[agg("count")],
            group_by=[gb("QUANTITY")],
        ),
        "SELECT QUANTITY, count(*) AS count FROM ORDERS WHERE QUANTITY > 8.5 GROUP BY 1 ORDER BY 1",
    ),
    Case(
        "string-contains-percent-is-literal",
        table(
            "PRODUCTS", filters=[flt("TITLE", "string-contains", "%")], aggregations=[agg("count")]
        ),
        "SELECT count(*) AS count FROM PRODUCTS WHERE contains(TITLE, '%')",
    ),
    Case(
        "string-ends-with-underscore-is-literal",
        table(
            "REVIEWS",
            filters=[flt("REVIEWER", "string-ends-with", "_3")],
            aggregations=[agg("count")],
        ),
        "SELECT count(*) AS count FROM REVIEWS WHERE ends_with(lower(REVIEWER), '_3')",
    ),
    Case(
        "string-starts-with-multiple",
        table(
            "PEOPLE",
            filters=[flt("STATE", "string-starts-with", values=["n", "W"])],
            aggregations=[agg("count")],
            group_by=[gb("STATE")],
        ),
        "SELECT STATE, count(*) AS count FROM PEOPLE "
        "WHERE lower(STATE) LIKE 'n%' OR lower(STATE) LIKE 'w%' GROUP BY 1 ORDER BY 1",
    ),
    # -- segments ----------------------------------------------------------------------------
    Case(
        "segment-large-orders",
        table("ORDERS", **by_year(seg("Large Orders"))),
        year_sql("TOTAL > 100"),
    ),
    Case(
        "segment-widgets-raw",
        table("PRODUCTS", filters=[seg("Widgets")], fields=fields("ID", "TITLE", "PRICE")),
        "SELECT ID, TITLE, PRICE FROM PRODUCTS WHERE CATEGORY = 'Widget'",
    ),
    Case(
        "segment-with-filter",
        table(
            "PEOPLE",
            filters=[seg("Organic Users"), flt("STATE", "equals", values=["TX", "NY"])],
            fields=fields("ID", "STATE", "SOURCE"),
        ),
        "SELECT ID, STATE, SOURCE FROM PEOPLE WHERE SOURCE = 'Organic' AND STATE IN ('TX', 'NY')",
    ),
]

AGGREGATION_CASES = [
    Case(
        "count-rows",
        table("ORDERS", aggregations=[agg("count")]),
        "SELECT count(*) AS count FROM ORDERS",
    ),
    Case(
        "count-field-skips-null",
        table("ORDERS", aggregations=[agg("count", "DISCOUNT")], group_by=[gb("QUANTITY")]),
        "SELECT QUANTITY, count(DISCOUNT) AS count FROM ORDERS GROUP BY 1 ORDER BY 1",
    ),
    Case(
        "count-distinct",
        table(
            "ORDERS",
            aggregations=[agg("count-distinct", "USER_ID"), agg("count-distinct", "DISCOUNT")],
            group_by=[gb("CREATED_AT", "year")],
        ),
        "SELECT date_trunc('year', CREATED_AT) AS CREATED_AT, "
        "count(DISTINCT USER_ID) AS count_distinct, count(DISTINCT DISCOUNT) AS count_distinct_2 "
        "FROM ORDERS GROUP BY 1 ORDER BY 1",
    ),
    Case(
        "sum-avg-min-max",
        table(
            "ORDERS",
            aggregations=[
                agg("sum", "TOTAL"),
                agg("avg", "TOTAL"),
                agg("min", "TOTAL"),
                agg("max", "TOTAL"),
            ],
            group_by=[gb("QUANTITY")],
        ),
        "SELECT QUANTITY, sum(TOTAL) AS sum, avg(TOTAL) AS avg, min(TOTAL) AS min, "
        "max(TOTAL) AS max FROM ORDERS GROUP BY 1 ORDER BY 1",
    ),
    Case(
        "avg-integer-and-sum-avg-null-column",
        table(
            "ORDERS",
            aggregations=[agg("avg", "QUANTITY"), agg("sum", "DISCOUNT"), agg("avg", "DISCOUNT")],
        ),
        "SELECT avg(QUANTITY) AS avg, sum(DISCOUNT) AS sum, avg(DISCOUNT) AS avg_2 FROM ORDERS",
    ),
    Case(
        "sum-integer-column",
        table(
            "ORDERS",
            aggregations=[agg("sum", "QUANTITY"), agg("sum", "ID")],
            group_by=[gb("CREATED_AT", "year")],
        ),
        "SELECT date_trunc('year', CREATED_AT) AS CREATED_AT, sum(QUANTITY) AS sum, "
        "sum(ID) AS sum_2 FROM ORDERS GROUP BY 1 ORDER BY 1",
    ),
    Case(
        "min-max-datetime-and-string",
        table(
            "PEOPLE",
            aggregations=[
                agg("min", "CREATED_AT"),
                agg("max", "BIRTH_DATE"),
                agg("min", "NAME"),
                agg("max", "NAME"),
            ],
            group_by=[gb("SOURCE")],
        ),
        "SELECT SOURCE, min(CREATED_AT) AS min, max(BIRTH_DATE) AS max, min(NAME) AS min_2, "
        "max(NAME) AS max_2 FROM PEOPLE GROUP BY 1 ORDER BY 1",
    ),
    Case(
        "repeated-aggregations-suffixed",
        table(
            "ORDERS",
            aggregations=[agg("count"), agg("count"), agg("sum", "TOTAL"), agg("sum", "TAX")],
            group_by=[gb("CREATED_AT", "year")],
        ),
        "SELECT date_trunc('year', CREATED_AT) AS CREATED_AT, count(*) AS count, "
        "count(*) AS count_2, sum(TOTAL) AS sum, sum(TAX) AS sum_2 FROM ORDERS "
        "GROUP BY 1 ORDER BY 1",
    ),
    Case(
        "measures",
        table(
            "ORDERS",
            aggregations=[measure("Sum of Total"), measure("Total Tax"), agg("count")],
            group_by=[gb("QUANTITY")],
        ),
        'SELECT QUANTITY, sum(TOTAL) AS "Sum of Total", sum(TAX) AS "Total Tax", '
        "count(*) AS count FROM ORDERS GROUP BY 1 ORDER BY 1",
    ),
    Case(
        "measure-sort-desc",
        table(
            "ORDERS",
            aggregations=[measure("Total Tax", sort="desc")],
            group_by=[gb("STATE", via="USER_ID")],
            limit=7,
        ),
        f'SELECT p.STATE AS STATE, sum(o.TAX) AS "Total Tax" FROM {O_P} '
        "GROUP BY 1 ORDER BY 2 DESC, 1 LIMIT 7",
    ),
    Case(
        "sort-order-desc-with-limit",
        table(
            "ORDERS",
            aggregations=[agg("sum", "TOTAL", sort="desc")],
            group_by=[gb("STATE", via="USER_ID")],
            limit=5,
        ),
        f"SELECT p.STATE AS STATE, sum(o.TOTAL) AS sum FROM {O_P} "
        "GROUP BY 1 ORDER BY 2 DESC, 1 LIMIT 5",
    ),
    Case(
        "sort-order-asc",
        table(
            "ORDERS",
            aggregations=[agg("count"), agg("avg", "TOTAL", sort="asc")],
            group_by=[gb("VENDOR", via="PRODUCT_ID")],
        ),
        f"SELECT d.VENDOR AS VENDOR, count(*) AS count, avg(o.TOTAL) AS avg FROM {O_D} "
        "GROUP BY 1 ORDER BY 3, 1",
    ),
    Case(
        "sort-order-then-order-by",
        table(
            "ORDERS",
            aggregations=[agg("count", sort="desc")],
            group_by=[gb("CATEGORY", via="PRODUCT_ID"), gb("CREATED_AT", "year")],
            order_by=[ob("CREATED_AT", "desc")],
        ),
        "SELECT d.CATEGORY AS CATEGORY, date_trunc('year', o.CREATED_AT) AS CREATED_AT, "
        f"count(*) AS count FROM {O_D} GROUP BY 1, 2 ORDER BY 3 DESC, 2 DESC, 1",
    ),
]

GROUP_BY_CASES = [
    Case(
        "group-minute",
        table(
            "ORDERS",
            filters=[flt("CREATED_AT", "less-than", "2022-01-20")],
            aggregations=[agg("count")],
            group_by=[gb("CREATED_AT", "minute")],
        ),
        "SELECT date_trunc('minute', CREATED_AT) AS CREATED_AT, count(*) AS count FROM ORDERS "
        "WHERE CAST(CREATED_AT AS DATE) < DATE '2022-01-20' GROUP BY 1 ORDER BY 1",
    ),
    Case(
        "group-minute-capped",
        table("ORDERS", aggregations=[agg("count")], group_by=[gb("CREATED_AT", "minute")]),
        "SELECT date_trunc('minute', CREATED_AT) AS CREATED_AT, count(*) AS count FROM ORDERS "
        "GROUP BY 1 ORDER BY 1 LIMIT 10000",
        truncated=10000,
    ),
    Case(
        "group-hour",
        table(
            "ORDERS",
            filters=[flt("CREATED_AT", "month-equals", 2), flt("CREATED_AT", "year-equals", 2023)],
            aggregations=[agg("sum", "TOTAL")],
            group_by=[gb("CREATED_AT", "hour")],
        ),
        "SELECT date_trunc('hour', CREATED_AT) AS CREATED_AT, sum(TOTAL) AS sum FROM ORDERS "
        "WHERE month(CREATED_AT) = 2 AND year(CREATED_AT) = 2023 GROUP BY 1 ORDER BY 1",
    ),
    Case(
        "group-day",
        table(
            "ORDERS",
            filters=[flt("CREATED_AT", "year-equals", 2025)],
            aggregations=[agg("count"), agg("max", "TOTAL")],
            group_by=[gb("CREATED_AT", "day")],
        ),
        "SELECT date_trunc('day', CREATED_AT) AS CREATED_AT, count(*) AS count, "
        "max(TOTAL) AS max FROM ORDERS WHERE year(CREATED_AT) = 2025 GROUP BY 1 ORDER BY 1",
    ),
    Case(
        "group-week",
        table("ORDERS", aggregations=[agg("count")], group_by=[gb("CREATED_AT", "week")]),
        "SELECT date_trunc('week', CREATED_AT) AS CREATED_AT, count(*) AS count FROM ORDERS "
        "GROUP BY 1 ORDER BY 1",
    ),
    Case(
        "group-month",
        table(
            "ORDERS", aggregations=[agg("sum", "SUBTOTAL")], group_by=[gb("CREATED_AT", "month")]
        ),
        "SELECT date_trunc('month', CREATED_AT) AS CREATED_AT, sum(SUBTOTAL) AS sum FROM ORDERS "
        "GROUP BY 1 ORDER BY 1",
    ),
    Case(
        "group-quarter",
        table(
            "REVIEWS", aggregations=[agg("avg", "RATING")], group_by=[gb("CREATED_AT", "quarter")]
        ),
        "SELECT date_trunc('quarter', CREATED_AT) AS CREATED_AT, avg(RATING) AS avg "
        "FROM REVIEWS GROUP BY 1 ORDER BY 1",
    ),
    Case(
        "group-year",
        table("PEOPLE", aggregations=[agg("count")], group_by=[gb("CREATED_AT", "year")]),
        "SELECT date_trunc('year', CREATED_AT) AS CREATED_AT, count(*) AS count FROM PEOPLE "
        "GROUP BY 1 ORDER BY 1",
    ),
    Case(
        "group-day-of-week",
        table("ORDERS", aggregations=[agg("count")], group_by=[gb("CREATED_AT", "day-of-week")]),
        "SELECT isodow(CREATED_AT) AS CREATED_AT, count(*) AS count FROM ORDERS "
        "GROUP BY 1 ORDER BY 1",
    ),
    *(
        Case(
            f"group-{unit}",
            table("ORDERS", aggregations=[agg("count")], group_by=[gb("CREATED_AT", unit)]),
            f"SELECT {part}(CREATED_AT) AS CREATED_AT, count(*) AS count FROM ORDERS "
            "GROUP BY 1 ORDER BY 1",
        )
        for unit, part in (
            ("minute-of-hour", "minute"),
            ("hour-of-day", "hour"),
            ("day-of-month", "day"),
            ("day-of-year", "dayofyear"),
            ("month-of-year", "month"),
            ("quarter-of-year", "quarter"),
        )
    ),
    Case(
        "group-date-column-week-stays-date",
        table(
            "PEOPLE",
            filters=[flt("BIRTH_DATE", "year-equals", 1975)],
            aggregations=[agg("count")],
            group_by=[gb("BIRTH_DATE", "week")],
        ),
        "SELECT CAST(date_trunc('week', BIRTH_DATE) AS DATE) AS BIRTH_DATE, count(*) AS count "
        "FROM PEOPLE WHERE year(BIRTH_DATE) = 1975 GROUP BY 1 ORDER BY 1",
    ),
    Case(
        "group-date-column-year-and-day-of-week",
        table(
            "PEOPLE",
            aggregations=[agg("count")],
            group_by=[gb("BIRTH_DATE", "year"), gb("BIRTH_DATE", "day-of-week")],
        ),
        "SELECT CAST(date_trunc('year', BIRTH_DATE) AS DATE) AS BIRTH_DATE, "
        "isodow(BIRTH_DATE) AS BIRTH_DATE_2, count(*) AS count FROM PEOPLE "
        "GROUP BY 1, 2 ORDER BY 1, 2",
    ),
    Case(
        "group-date-column-day-of-week",
        table("PEOPLE", aggregations=[agg("count")], group_by=[gb("BIRTH_DATE", "day-of-week")]),
        "SELECT isodow(BIRTH_DATE) AS BIRTH_DATE, count(*) AS count FROM PEOPLE "
        "GROUP BY 1 ORDER BY 1",
    ),
    Case(
        "group-date-column-month-via-join",
        table(
            "ORDERS",
            filters=[flt("BIRTH_DATE", "year-equals", 2004, via="USER_ID")],
            aggregations=[agg("sum", "TOTAL")],
            group_by=[gb("BIRTH_DATE", "month", via="USER_ID")],
        ),
        "SELECT CAST(date_trunc('month', p.BIRTH_DATE) AS DATE) AS BIRTH_DATE, "
        f"sum(o.TOTAL) AS sum FROM {O_P} WHERE year(p.BIRTH_DATE) = 2004 GROUP BY 1 ORDER BY 1",
    ),
    Case(
        "group-month-with-limit",
        table("ORDERS", aggregations=[agg("count")], group_by=[gb("CREATED_AT", "month")], limit=6),
        "SELECT date_trunc('month', CREATED_AT) AS CREATED_AT, count(*) AS count FROM ORDERS "
        "GROUP BY 1 ORDER BY 1 LIMIT 6",
    ),
    Case(
        "sort-order-two-aggregations",
        table(
            "ORDERS",
            aggregations=[agg("max", "QUANTITY", sort="desc"), agg("sum", "TOTAL", sort="asc")],
            group_by=[gb("SOURCE", via="USER_ID"), gb("CREATED_AT", "year")],
        ),
        "SELECT p.SOURCE AS SOURCE, date_trunc('year', o.CREATED_AT) AS CREATED_AT, "
        f"max(o.QUANTITY) AS max, sum(o.TOTAL) AS sum FROM {O_P} "
        "GROUP BY 1, 2 ORDER BY 3 DESC, 4, 1, 2",
    ),
    Case(
        "group-date-column-day",
        table(
            "PEOPLE",
            filters=[flt("BIRTH_DATE", "greater-than", "2005-06-01")],
            aggregations=[agg("count")],
            group_by=[gb("BIRTH_DATE", "day")],
        ),
        "SELECT BIRTH_DATE, count(*) AS count FROM PEOPLE "
        "WHERE BIRTH_DATE > DATE '2005-06-01' GROUP BY 1 ORDER BY 1",
    ),
    Case(
        "group-no-granularity-number",
        table("ORDERS", aggregations=[agg("count"), agg("sum", "TAX")], group_by=[gb("QUANTITY")]),
        "SELECT QUANTITY, count(*) AS count, sum(TAX) AS sum FROM ORDERS GROUP BY 1 ORDER BY 1",
    ),
    Case(
        "group-no-granularity-datetime",  # a datetime breakout is bucketed by day (Metabase)
        table(
            "ORDERS",
            filters=[flt("CREATED_AT", "greater-than-or-equal", "2025-12-20")],
            aggregations=[agg("count")],
            group_by=[gb("CREATED_AT")],
        ),
        "SELECT date_trunc('day', CREATED_AT) AS CREATED_AT, count(*) AS count FROM ORDERS "
        "WHERE CAST(CREATED_AT AS DATE) >= DATE '2025-12-20' GROUP BY 1 ORDER BY 1",
    ),
    Case(
        "group-without-aggregation",
        table("PRODUCTS", group_by=[gb("CATEGORY"), gb("VENDOR")]),
        "SELECT CATEGORY, VENDOR FROM PRODUCTS GROUP BY 1, 2 ORDER BY 1, 2",
    ),
    Case(
        "group-multiple-with-order-by-desc",
        table(
            "PEOPLE",
            aggregations=[agg("count")],
            group_by=[gb("SOURCE"), gb("CREATED_AT", "year")],
            order_by=[ob("SOURCE", "desc")],
        ),
        "SELECT SOURCE, date_trunc('year', CREATED_AT) AS CREATED_AT, count(*) AS count "
        "FROM PEOPLE GROUP BY 1, 2 ORDER BY 1 DESC, 2",
    ),
    Case(
        "group-same-column-two-granularities",
        table(
            "ORDERS",
            aggregations=[agg("count")],
            group_by=[gb("CREATED_AT", "year"), gb("CREATED_AT", "quarter")],
            order_by=[ob("CREATED_AT", "desc")],
        ),
        "SELECT date_trunc('year', CREATED_AT) AS CREATED_AT, "
        "date_trunc('quarter', CREATED_AT) AS CREATED_AT_2, count(*) AS count FROM ORDERS "
        "GROUP BY 1, 2 ORDER BY 1 DESC, 2",
    ),
]

RAW_CASES = [
    Case(
        "raw-default-columns-orders",
        table("ORDERS", order_by=[ob("ID", "desc")], limit=25),
        "SELECT * FROM ORDERS ORDER BY ID DESC LIMIT 25",
    ),
    Case(
        "raw-default-columns-people-no-password",
        table("PEOPLE", filters=[flt("STATE", "equals", "VT")]),
        f"SELECT {PEOPLE_COLS} FROM PEOPLE WHERE STATE = 'VT'",
    ),
    Case(
        "raw-fields-order-by-desc-limit",
        table(
            "ORDERS",
            fields=fields("TOTAL", "ID", "QUANTITY"),
            order_by=[ob("TOTAL", "desc"), ob("ID")],
            limit=40,
        ),
        "SELECT TOTAL, ID, QUANTITY FROM ORDERS ORDER BY TOTAL DESC, ID LIMIT 40",
    ),
    Case(
        "raw-order-by-two-fields",
        table(
            "PEOPLE",
            fields=fields("STATE", "NAME", "ID"),
            filters=[flt("SOURCE", "equals", "Twitter"), flt("STATE", "string-starts-with", "N")],
            order_by=[ob("STATE", "asc"), ob("ID", "desc")],
        ),
        "SELECT STATE, NAME, ID FROM PEOPLE WHERE SOURCE = 'Twitter' AND lower(STATE) LIKE 'n%' "
        "ORDER BY STATE, ID DESC",
    ),
    Case(
        "raw-order-by-field-not-shown",
        table("PRODUCTS", fields=fields("ID", "TITLE"), order_by=[ob("PRICE", "desc")], limit=10),
        "SELECT ID, TITLE FROM PRODUCTS ORDER BY PRICE DESC LIMIT 10",
    ),
    Case(
        "raw-limit-bigger-than-result",
        table("PRODUCTS", fields=fields("ID", "EAN"), order_by=[ob("ID")], limit=1000),
        "SELECT ID, EAN FROM PRODUCTS ORDER BY ID",
    ),
    Case(
        "raw-capped-at-2000",
        table("ORDERS", fields=fields("ID", "TOTAL"), order_by=[ob("ID")]),
        "SELECT ID, TOTAL FROM ORDERS ORDER BY ID LIMIT 2000",
        truncated=2000,
    ),
    Case(
        "raw-limit-above-cap",
        table("ORDERS", fields=fields("ID", "CREATED_AT"), order_by=[ob("ID", "desc")], limit=5000),
        "SELECT ID, CREATED_AT FROM ORDERS ORDER BY ID DESC LIMIT 2000",
        truncated=2000,
    ),
    Case(
        "raw-repeated-field",
        table("PRODUCTS", fields=fields("ID", "PRICE", "PRICE"), order_by=[ob("ID")], limit=5),
        "SELECT ID, PRICE, PRICE AS PRICE_2 FROM PRODUCTS ORDER BY ID LIMIT 5",
    ),
]

JOIN_CASES = [
    Case(
        "join-order-by-related-group-desc",
        table(
            "ORDERS",
            aggregations=[agg("count"), agg("min", "CREATED_AT")],
            group_by=[gb("STATE", via="USER_ID")],
            order_by=[ob("STATE", "desc", via="USER_ID")],
            limit=12,
        ),
        f"SELECT p.STATE AS STATE, count(*) AS count, min(o.CREATED_AT) AS min FROM {O_P} "
        "GROUP BY 1 ORDER BY 1 DESC LIMIT 12",
    ),
    Case(
        "join-filter-people",
        table(
            "ORDERS",
            filters=[flt("STATE", "equals", values=["CA", "NY"], via="USER_ID")],
            aggregations=COUNT_SUM,
        ),
        f"SELECT count(*) AS count, sum(o.TOTAL) AS sum FROM {O_P} WHERE p.STATE IN ('CA', 'NY')",
    ),
    Case(
        "join-group-by-product-category",
        table(
            "ORDERS",
            aggregations=[agg("sum", "TOTAL")],
            group_by=[gb("CATEGORY", via="PRODUCT_ID")],
        ),
        f"SELECT d.CATEGORY AS CATEGORY, sum(o.TOTAL) AS sum FROM {O_D} GROUP BY 1 ORDER BY 1",
    ),
    Case(
        "join-aggregate-related-column-two-joins",
        table(
            "ORDERS",
            aggregations=[
                agg("avg", "PRICE", via="PRODUCT_ID"),
                agg("max", "RATING", via="PRODUCT_ID"),
            ],
            group_by=[gb("SOURCE", via="USER_ID")],
        ),
        f"SELECT p.SOURCE AS SOURCE, avg(d.PRICE) AS avg, max(d.RATING) AS max FROM {O_P_D} "
        "GROUP BY 1 ORDER BY 1",
    ),
    Case(
        "join-fields-from-both-relations",
        table(
            "ORDERS",
            fields=[fld("ID"), fld("NAME", via="USER_ID"), fld("TITLE", via="PRODUCT_ID")],
            filters=[flt("ID", "less-than-or-equal", 50)],
        ),
        f"SELECT o.ID AS ID, p.NAME AS NAME, d.TITLE AS TITLE FROM {O_P_D} WHERE o.ID <= 50",
    ),
    Case(
        "join-same-name-columns",
        table(
            "ORDERS",
            fields=[
                fld("ID"),
                fld("CREATED_AT"),
                fld("ID", via="USER_ID"),
                fld("CREATED_AT", via="USER_ID"),
            ],
            order_by=[ob("ID")],
            limit=30,
        ),
        "SELECT o.ID AS ID, o.CREATED_AT AS CREATED_AT, p.ID AS ID_2, "
        f"p.CREATED_AT AS CREATED_AT_2 FROM {O_P} ORDER BY o.ID LIMIT 30",
    ),
    Case(
        "join-order-by-related-column",
        table(
            "ORDERS",
            fields=fields("ID", "TOTAL"),
            filters=[flt("CREATED_AT", "equals", "2024-03-01")],
            order_by=[ob("EMAIL", "desc", via="USER_ID"), ob("ID")],
        ),
        f"SELECT o.ID AS ID, o.TOTAL AS TOTAL FROM {O_P} "
        "WHERE CAST(o.CREATED_AT AS DATE) = DATE '2024-03-01' ORDER BY p.EMAIL DESC, o.ID",
    ),
    Case(
        "join-group-by-related-datetime",
        table(
            "ORDERS",
            aggregations=[agg("count")],
            group_by=[gb("CREATED_AT", "year"), gb("CREATED_AT", "year", via="USER_ID")],
        ),
        "SELECT date_trunc('year', o.CREATED_AT) AS CREATED_AT, "
        "date_trunc('year', p.CREATED_AT) AS CREATED_AT_2, count(*) AS count "
        f"FROM {O_P} GROUP BY 1, 2 ORDER BY 1, 2",
    ),
    Case(
        "join-filter-related-date-and-string",
        table(
            "ORDERS",
            filters=[
                flt("BIRTH_DATE", "greater-than-or-equal", "2000-01-01", via="USER_ID"),
                flt("TITLE", "string-contains", "LEATHER", via="PRODUCT_ID"),
            ],
            fields=[fld("ID"), fld("BIRTH_DATE", via="USER_ID"), fld("TITLE", via="PRODUCT_ID")],
        ),
        f"SELECT o.ID AS ID, p.BIRTH_DATE AS BIRTH_DATE, d.TITLE AS TITLE FROM {O_P_D} "
        "WHERE p.BIRTH_DATE >= DATE '2000-01-01' AND lower(d.TITLE) LIKE '%leather%'",
    ),
    Case(
        "join-count-distinct-related",
        table(
            "ORDERS",
            aggregations=[
                agg("count-distinct", "ID", via="USER_ID"),
                agg("count-distinct", "CITY", via="USER_ID"),
            ],
            group_by=[gb("CATEGORY", via="PRODUCT_ID")],
        ),
        "SELECT d.CATEGORY AS CATEGORY, count(DISTINCT p.ID) AS count_distinct, "
        f"count(DISTINCT p.CITY) AS count_distinct_2 FROM {O_P_D} GROUP BY 1 ORDER BY 1",
    ),
    Case(
        "join-reviews-products",
        table(
            "REVIEWS",
            filters=[flt("VENDOR", "string-ends-with", "INC", via="PRODUCT_ID")],
            aggregations=[agg("avg", "RATING"), agg("count")],
            group_by=[gb("CATEGORY", via="PRODUCT_ID")],
        ),
        "SELECT d.CATEGORY AS CATEGORY, avg(r.RATING) AS avg, count(*) AS count "
        "FROM REVIEWS r LEFT JOIN PRODUCTS d ON r.PRODUCT_ID = d.ID "
        "WHERE lower(d.VENDOR) LIKE '%inc' GROUP BY 1 ORDER BY 1",
    ),
    Case(
        "join-reviews-products-raw",
        table(
            "REVIEWS",
            filters=[
                flt("RATING", "equals", 1),
                flt("CATEGORY", "equals", "Gizmo", via="PRODUCT_ID"),
            ],
            fields=[fld("ID"), fld("REVIEWER"), fld("PRICE", via="PRODUCT_ID")],
        ),
        "SELECT r.ID AS ID, r.REVIEWER AS REVIEWER, d.PRICE AS PRICE "
        "FROM REVIEWS r LEFT JOIN PRODUCTS d ON r.PRODUCT_ID = d.ID "
        "WHERE r.RATING = 1 AND d.CATEGORY = 'Gizmo'",
    ),
]

METRIC_CASES = [
    Case(
        "metric-total-revenue",
        metric("Total Revenue"),
        'SELECT sum(TOTAL) AS "Total Revenue" FROM ORDERS',
    ),
    Case(
        "metric-total-revenue-by-month-filtered",
        metric(
            "Total Revenue",
            filters=[flt("CREATED_AT", "year-equals", 2024)],
            group_by=[gb("CREATED_AT", "month")],
        ),
        "SELECT date_trunc('month', CREATED_AT) AS CREATED_AT, sum(TOTAL) AS \"Total Revenue\" "
        "FROM ORDERS WHERE year(CREATED_AT) = 2024 GROUP BY 1 ORDER BY 1",
    ),
    Case(
        "metric-order-count-by-related",
        metric(
            "Order Count",
            filters=[flt("CATEGORY", "equals", "Gizmo", via="PRODUCT_ID")],
            group_by=[gb("SOURCE", via="USER_ID")],
        ),
        f'SELECT p.SOURCE AS SOURCE, count(*) AS "Order Count" FROM {O_P_D} '
        "WHERE d.CATEGORY = 'Gizmo' GROUP BY 1 ORDER BY 1",
    ),
    Case(
        "metric-average-order-value",
        metric(
            "Average Order Value",
            filters=[flt("QUANTITY", "greater-than-or-equal", 2)],
            group_by=[gb("CATEGORY", via="PRODUCT_ID"), gb("CREATED_AT", "year")],
        ),
        "SELECT d.CATEGORY AS CATEGORY, date_trunc('year', o.CREATED_AT) AS CREATED_AT, "
        f'avg(o.TOTAL) AS "Average Order Value" FROM {O_D} WHERE o.QUANTITY >= 2 '
        "GROUP BY 1, 2 ORDER BY 1, 2",
    ),
    Case(
        "metric-bulk-revenue-own-filter",
        metric("Bulk Revenue", group_by=[gb("CREATED_AT", "year")]),
        "SELECT date_trunc('year', CREATED_AT) AS CREATED_AT, sum(TOTAL) AS \"Bulk Revenue\" "
        "FROM ORDERS WHERE QUANTITY > 2 GROUP BY 1 ORDER BY 1",
    ),
    Case(
        "metric-bulk-revenue-filter-cannot-widen",
        metric(
            "Bulk Revenue",
            filters=[flt("QUANTITY", "equals", values=[1, 3])],
            group_by=[gb("QUANTITY")],
        ),
        'SELECT QUANTITY, sum(TOTAL) AS "Bulk Revenue" FROM ORDERS '
        "WHERE QUANTITY > 2 AND QUANTITY IN (1, 3) GROUP BY 1 ORDER BY 1",
    ),
    Case(
        "metric-bulk-revenue-no-group",
        metric("Bulk Revenue", filters=[seg("Large Orders")]),
        'SELECT sum(TOTAL) AS "Bulk Revenue" FROM ORDERS WHERE QUANTITY > 2 AND TOTAL > 100',
    ),
    Case(
        "metric-gross-sales-finance",
        metric("Gross Sales", group_by=[gb("CREATED_AT", "quarter")]),
        "SELECT date_trunc('quarter', CREATED_AT) AS CREATED_AT, sum(SUBTOTAL) AS \"Gross Sales\" "
        "FROM ORDERS GROUP BY 1 ORDER BY 1",
        email=FINANCE,
    ),
    Case(
        "metric-day-of-week-and-bucket-filter",
        metric(
            "Order Count",
            filters=[flt("CREATED_AT", "equals", "2023-02-10", bucket="month")],
            group_by=[gb("CREATED_AT", "day-of-week")],
        ),
        'SELECT isodow(CREATED_AT) AS CREATED_AT, count(*) AS "Order Count" FROM ORDERS '
        "WHERE date_trunc('month', CREATED_AT) = TIMESTAMP '2023-02-01' GROUP BY 1 ORDER BY 1",
    ),
]

METRIC_CASES += [
    Case(
        "metric-bulk-revenue-contradicting-filter",
        metric("Bulk Revenue", filters=[flt("QUANTITY", "less-than", 2)]),
        'SELECT sum(TOTAL) AS "Bulk Revenue" FROM ORDERS WHERE QUANTITY > 2 AND QUANTITY < 2',
    ),
    Case(
        "metric-order-by-desc-limit",  # ignored on a metric query (with a warning), as Metabase
        metric(
            "Total Revenue",
            group_by=[gb("CREATED_AT", "quarter")],
            order_by=[ob("CREATED_AT", "desc")],
            limit=3,
        ),
        "SELECT date_trunc('quarter', CREATED_AT) AS CREATED_AT, sum(TOTAL) AS \"Total Revenue\" "
        "FROM ORDERS GROUP BY 1 ORDER BY 1",
    ),
    Case(
        "metric-group-by-related-date-day-of-week",
        metric("Average Order Value", group_by=[gb("CREATED_AT", "day-of-week", via="USER_ID")]),
        'SELECT isodow(p.CREATED_AT) AS CREATED_AT, avg(o.TOTAL) AS "Average Order Value" '
        f"FROM {O_P} GROUP BY 1 ORDER BY 1",
    ),
]

SANDBOX_CASES = [
    Case(
        "sandbox-revenue-by-state",
        table(
            "ORDERS",
            aggregations=[agg("sum", "TOTAL"), agg("count")],
            group_by=[gb("STATE", via="USER_ID")],
        ),
        f"SELECT p.STATE AS STATE, sum(o.TOTAL) AS sum, count(*) AS count FROM {O_P} "
        f"WHERE {CA} GROUP BY 1 ORDER BY 1",
        email=CA_MANAGER,
    ),
    Case(
        "sandbox-orders-raw-limit",
        table(
            "ORDERS",
            fields=[fld("ID"), fld("TOTAL"), fld("STATE", via="USER_ID")],
            order_by=[ob("ID")],
            limit=20,
        ),
        f"SELECT o.ID AS ID, o.TOTAL AS TOTAL, p.STATE AS STATE FROM {O_P} "
        f"WHERE {CA} ORDER BY o.ID LIMIT 20",
        email=CA_MANAGER,
    ),
    Case(
        "sandbox-orders-default-columns",
        table("ORDERS", filters=[flt("TOTAL", "greater-than", 250)]),
        f"SELECT o.* FROM ORDERS o WHERE {CA} AND o.TOTAL > 250",
        email=CA_MANAGER,
    ),
    Case(
        "sandbox-total-revenue-by-month",
        metric("Total Revenue", group_by=[gb("CREATED_AT", "month")]),
        "SELECT date_trunc('month', o.CREATED_AT) AS CREATED_AT, "
        f'sum(o.TOTAL) AS "Total Revenue" FROM ORDERS o WHERE {CA} GROUP BY 1 ORDER BY 1',
        email=CA_MANAGER,
    ),
    Case(
        "sandbox-people-by-source",
        table("PEOPLE", aggregations=[agg("count")], group_by=[gb("SOURCE")]),
        "SELECT SOURCE, count(*) AS count FROM PEOPLE WHERE STATE = 'CA' GROUP BY 1 ORDER BY 1",
        email=CA_MANAGER,
    ),
    Case(
        "sandbox-other-state-is-empty",
        table(
            "ORDERS",
            filters=[flt("STATE", "equals", "NY", via="USER_ID")],
            aggregations=[agg("count")],
        ),
        f"SELECT count(*) AS count FROM {O_P} WHERE {CA} AND p.STATE = 'NY'",
        email=CA_MANAGER,
    ),
    Case(
        "sandbox-orders-by-product-category",
        table(
            "ORDERS",
            aggregations=[agg("count"), agg("avg", "TOTAL", sort="desc")],
            group_by=[gb("CATEGORY", via="PRODUCT_ID")],
        ),
        f"SELECT d.CATEGORY AS CATEGORY, count(*) AS count, avg(o.TOTAL) AS avg FROM {O_D} "
        f"WHERE {CA} GROUP BY 1 ORDER BY 3 DESC, 1",
        email=CA_MANAGER,
    ),
    Case(
        "sandbox-unrestricted-products",
        table("PRODUCTS", aggregations=[agg("count")], group_by=[gb("CATEGORY")]),
        "SELECT CATEGORY, count(*) AS count FROM PRODUCTS GROUP BY 1 ORDER BY 1",
        email=CA_MANAGER,
    ),
]

SANDBOX_CASES += [
    Case(
        "sandbox-people-default-columns",
        table("PEOPLE", order_by=[ob("ID", "desc")], limit=15),
        f"SELECT {PEOPLE_COLS} FROM PEOPLE WHERE STATE = 'CA' ORDER BY ID DESC LIMIT 15",
        email=CA_MANAGER,
    ),
    Case(
        "sandbox-without-attribute-sees-no-orders",
        table("ORDERS", aggregations=[agg("count")]),
        "SELECT count(*) AS count FROM ORDERS WHERE false",
        email=NOSTATE,
    ),
    Case(
        "sandbox-without-attribute-metric",
        metric("Order Count", group_by=[gb("CREATED_AT", "year")]),
        "SELECT date_trunc('year', CREATED_AT) AS CREATED_AT, count(*) AS \"Order Count\" "
        "FROM ORDERS WHERE false GROUP BY 1 ORDER BY 1",
        email=NOSTATE,
    ),
]

BUCKET_PART_CASES: list[Case] = [
    # bucket on fields[], aggregations[] and order_by[].field (spec §6)
    Case(
        "fields-bucket-month",
        table(
            "ORDERS",
            filters=[flt("ID", "less-than-or-equal", 40)],
            fields=[fld("ID"), fld("CREATED_AT", bucket="month")],
        ),
        "SELECT ID, date_trunc('month', CREATED_AT) AS CREATED_AT FROM ORDERS WHERE ID <= 40",
    ),
    Case(
        "fields-and-order-by-bucket-day-of-week",
        table(
            "ORDERS",
            filters=[flt("ID", "less-than-or-equal", 60)],
            fields=[fld("CREATED_AT", bucket="day-of-week"), fld("ID")],
            order_by=[ob("CREATED_AT", "desc", bucket="day-of-week"), ob("ID")],
        ),
        "SELECT isodow(CREATED_AT) AS CREATED_AT, ID FROM ORDERS WHERE ID <= 60 ORDER BY 1 DESC, 2",
    ),
    Case(
        "order-by-bucket-not-shown",
        table(
            "ORDERS",
            filters=[flt("ID", "less-than-or-equal", 60)],
            fields=[fld("ID")],
            order_by=[ob("CREATED_AT", bucket="year"), ob("ID", "desc")],
        ),
        "SELECT ID FROM ORDERS WHERE ID <= 60 ORDER BY date_trunc('year', CREATED_AT), ID DESC",
    ),
    Case(
        "aggregation-bucket-count-distinct-days",
        table(
            "ORDERS",
            aggregations=[agg("count-distinct", "CREATED_AT", bucket="day")],
            group_by=[gb("CREATED_AT", "year")],
        ),
        "SELECT date_trunc('year', CREATED_AT) AS CREATED_AT, "
        "count(DISTINCT date_trunc('day', CREATED_AT)) AS count_distinct FROM ORDERS "
        "GROUP BY 1 ORDER BY 1",
    ),
    Case(
        "order-by-bucket-of-group",
        table(
            "ORDERS",
            aggregations=[agg("count")],
            group_by=[gb("CREATED_AT", "quarter")],
            order_by=[ob("CREATED_AT", "desc", bucket="quarter")],
        ),
        "SELECT date_trunc('quarter', CREATED_AT) AS CREATED_AT, count(*) AS count FROM ORDERS "
        "GROUP BY 1 ORDER BY 1 DESC",
    ),
]

SUNDAY_WEEK = "date_trunc('week', CREATED_AT + INTERVAL 1 DAY) - INTERVAL 1 DAY"

SUNDAY_CASES: list[Case] = [
    # the demo's model with settings.start_of_week: sunday (harness.sunday_client)
    Case(
        "sunday-group-week",
        table("ORDERS", aggregations=[agg("count")], group_by=[gb("CREATED_AT", "week")]),
        f"SELECT {SUNDAY_WEEK} AS CREATED_AT, count(*) AS count FROM ORDERS GROUP BY 1 ORDER BY 1",
    ),
    Case(
        "sunday-group-day-of-week",
        table("ORDERS", aggregations=[agg("count")], group_by=[gb("CREATED_AT", "day-of-week")]),
        "SELECT isodow(CREATED_AT) % 7 + 1 AS CREATED_AT, count(*) AS count FROM ORDERS "
        "GROUP BY 1 ORDER BY 1",
    ),
    Case(
        "sunday-bucket-week-greater-than",
        table(
            "ORDERS",
            **by_year(flt("CREATED_AT", "greater-than", "2025-12-17", bucket="week")),
        ),
        # 2025-12-17 is a Wednesday: its week starts Sunday 2025-12-14
        year_sql(f"{SUNDAY_WEEK} > TIMESTAMP '2025-12-14 00:00:00'"),
    ),
    Case(
        "sunday-day-of-week-equals-stays-iso",
        table("ORDERS", **by_year(flt("CREATED_AT", "day-of-week-equals", 7))),
        year_sql("isodow(CREATED_AT) = 7"),
    ),
    Case(
        "sunday-group-no-granularity-datetime-by-day",
        table(
            "ORDERS",
            filters=[flt("CREATED_AT", "year-equals", 2025)],
            aggregations=[agg("count")],
            group_by=[gb("CREATED_AT")],
        ),
        "SELECT date_trunc('day', CREATED_AT) AS CREATED_AT, count(*) AS count FROM ORDERS "
        "WHERE year(CREATED_AT) = 2025 GROUP BY 1 ORDER BY 1",
    ),
]

CASES = (
    FILTER_CASES
    + AGGREGATION_CASES
    + GROUP_BY_CASES
    + RAW_CASES
    + JOIN_CASES
    + METRIC_CASES
    + SANDBOX_CASES
    + BUCKET_PART_CASES
)


@pytest.fixture(scope="module")
def api(shared_service: Sextant) -> AgentClient:
    return AgentClient(shared_service)


@pytest.fixture(scope="module")
def warehouse(shared_service: Sextant) -> Iterator[duckdb.DuckDBPyConnection]:
    path = shared_service.settings.data_dir / "warehouse.duckdb"
    con = duckdb.connect(str(path), read_only=True)
    yield con
    con.close()


def test_case_ids_are_unique() -> None:
    ids = [c.id for c in CASES]
    assert len(ids) == len(set(ids))
    assert len(ids) >= 60


@pytest.mark.parametrize("case", [c.param() for c in CASES])
def test_matches_hand_sql(
    api: AgentClient, warehouse: duckdb.DuckDBPyConnection, case: Case
) -> None:
    check(api, warehouse, case)


@pytest.fixture(scope="module")
def sunday(
    shared_service: Sextant, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[AgentClient]:
    with sunday_client(shared_service, tmp_path_factory.mktemp("sunday-duck")) as client:
        yield client


@pytest.mark.parametrize("case", [c.param() for c in SUNDAY_CASES])
def test_weeks_starting_sunday_match_hand_sql(
    sunday: AgentClient, warehouse: duckdb.DuckDBPyConnection, case: Case
) -> None:
    check(sunday, warehouse, case)
