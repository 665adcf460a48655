"""Every parameter type against hand SQL, and every refusal as a 400 that says what it expects."""

from __future__ import annotations

from typing import Any

import pytest

from tests.cards.conftest import FROM_ORDERS, Classic

ANALYST = "analyst@example.com"
LAB = "Parameter Lab"

# (parameters by slug, the WHERE clause they mean, its SQL parameters)
CASES: list[tuple[dict[str, Any], str, list[Any]]] = [
    ({"state": "CA"}, 'p."STATE" = ?', ["CA"]),
    ({"state": ["CA", "NY", "TX"]}, 'p."STATE" IN (?, ?, ?)', ["CA", "NY", "TX"]),
    ({"vendor": ["Castillo LLC"]}, 'pr."VENDOR" = ?', ["Castillo LLC"]),
    (
        {"vendor_not": ["Castillo LLC", "Nguyen Inc"]},
        'pr."VENDOR" IS NULL OR pr."VENDOR" NOT IN (?, ?)',
        ["Castillo LLC", "Nguyen Inc"],
    ),
    ({"title": "WALLET"}, "lower(pr.\"TITLE\") LIKE '%wallet%'", []),
    (
        {"title": ["wallet", "Pants"]},
        "lower(pr.\"TITLE\") LIKE '%wallet%' OR lower(pr.\"TITLE\") LIKE '%pants%'",
        [],
    ),
    (
        {"title_not": "wallet"},
        'pr."TITLE" IS NULL OR lower(pr."TITLE") NOT LIKE \'%wallet%\'',
        [],
    ),
    ({"title_starts": "fantastic"}, "lower(pr.\"TITLE\") LIKE 'fantastic%'", []),
    ({"title_ends": "PANTS"}, "lower(pr.\"TITLE\") LIKE '%pants'", []),
    ({"quantity": [2, 3]}, 'o."QUANTITY" IN (2, 3)', []),
    ({"quantity": "4"}, 'o."QUANTITY" = 4', []),
    ({"quantity_not": [1]}, 'o."QUANTITY" IS NULL OR o."QUANTITY" <> 1', []),
    ({"min_total": 120.5}, 'o."TOTAL" >= 120.5', []),
    ({"min_total": [120.5]}, 'o."TOTAL" >= 120.5', []),
    ({"max_total": 20}, 'o."TOTAL" <= 20', []),
    ({"total_between": [50, 60]}, 'o."TOTAL" BETWEEN 50 AND 60', []),
    ({"total_between": [None, 15]}, 'o."TOTAL" <= 15', []),
    ({"day": "2024-03-05"}, "CAST(o.\"CREATED_AT\" AS DATE) = DATE '2024-03-05'", []),
    (
        {"period": "2024-01-01~2024-03-31"},
        "CAST(o.\"CREATED_AT\" AS DATE) BETWEEN DATE '2024-01-01' AND DATE '2024-03-31'",
        [],
    ),
    ({"period": "2025-12-01~"}, "CAST(o.\"CREATED_AT\" AS DATE) >= DATE '2025-12-01'", []),
    ({"period": "~2022-01-31"}, "CAST(o.\"CREATED_AT\" AS DATE) <= DATE '2022-01-31'", []),
    ({"month": "2024-02"}, "date_trunc('month', o.\"CREATED_AT\") = DATE '2024-02-01'", []),
    ({"quarter": "Q4-2023"}, "date_trunc('quarter', o.\"CREATED_AT\") = DATE '2023-10-01'", []),
    ({"order_id": [1, 2, 3, 99999]}, 'o."ID" IN (1, 2, 3, 99999)', []),
    (
        {"birth": "1980-01-01~1980-12-31"},
        "p.\"BIRTH_DATE\" BETWEEN DATE '1980-01-01' AND DATE '1980-12-31'",
        [],
    ),
    ({"source": "Organic"}, 'p."SOURCE" = ?', ["Organic"]),
    (
        {"state": ["CA"], "min_total": 100, "month": "2023-07"},
        'p."STATE" = \'CA\' AND o."TOTAL" >= 100 '
        "AND date_trunc('month', o.\"CREATED_AT\") = DATE '2023-07-01'",
        [],
    ),
]


@pytest.mark.parametrize(("given", "where", "sql_params"), CASES, ids=lambda v: str(v)[:60])
def test_parameter_types_match_hand_sql(
    classic: Classic, hand: Any, given: dict[str, Any], where: str, sql_params: list[Any]
) -> None:
    [[count]] = classic.rows(ANALYST, LAB, **given)
    [(expected,)] = hand(f"SELECT count(*) {FROM_ORDERS} WHERE {where}", sql_params)
    assert count == expected
    assert 0 < count < 18760, "the case must select some rows but not all"


def test_parameters_by_id_by_slug_and_by_target_mean_the_same(classic: Classic) -> None:
    card = classic.request("GET", f"/card/{classic.card_id(LAB)}", ANALYST).json()
    state = next(p for p in card["parameters"] if p["slug"] == "state")
    by_slug = classic.run(ANALYST, LAB, [{"slug": "state", "value": ["NY"]}]).json()
    by_id = classic.run(ANALYST, LAB, [{"id": state["id"], "value": ["NY"]}]).json()
    by_target = classic.run(
        ANALYST,
        LAB,
        [{"type": "category", "target": state["target"], "value": ["NY"]}],
    ).json()
    assert by_slug["data"]["rows"] == by_id["data"]["rows"] == by_target["data"]["rows"]
    # a parameter sent with a null value is not set (as Metabase's clients send them)
    unset = classic.run(ANALYST, LAB, [{"slug": "state", "value": None}]).json()
    assert unset["data"]["rows"] == [[18760]]


def test_demo_cards_with_parameters_match_hand_sql(classic: Classic, hand: Any) -> None:
    rows = classic.rows(ANALYST, "Top Products", category="Gizmo")
    expected = hand(
        f'SELECT pr."TITLE", sum(o."TOTAL") AS s {FROM_ORDERS} WHERE pr."CATEGORY" = ? '
        "GROUP BY 1 ORDER BY s DESC LIMIT 10",
        ["Gizmo"],
    )
    assert [r[0] for r in rows] == [e[0] for e in expected]
    assert [r[1] for r in rows] == pytest.approx([e[1] for e in expected])
    recent = classic.rows(ANALYST, "Recent Large Orders")  # default min_quantity 1
    large = hand(
        'SELECT "ID" FROM "ORDERS" WHERE "TOTAL" > 100 AND "QUANTITY" >= 1 '
        'ORDER BY "CREATED_AT" DESC, "ID" LIMIT 2000'
    )
    assert len(recent) == 2000 and {r[0] for r in recent} <= {
        r[0] for r in hand('SELECT "ID" FROM "ORDERS" WHERE "TOTAL" > 100')
    }
    assert [r[0] for r in recent[:50]] == [r[0] for r in large[:50]]
    eight = classic.rows(ANALYST, "Recent Large Orders", min_quantity=8)
    assert all(r[3] >= 8 for r in eight)
    [(count,)] = hand('SELECT count(*) FROM "ORDERS" WHERE "TOTAL" > 100 AND "QUANTITY" >= 8')
    assert len(eight) == count < 2000
    period = classic.rows(ANALYST, "Orders in Period", period="2023-01-01~2023-12-31")
    [(orders_2023,)] = hand('SELECT count(*) FROM "ORDERS" WHERE year("CREATED_AT") = 2023')
    assert period == [[orders_2023]]


REFUSALS: list[tuple[str, list[dict[str, Any]], str]] = [
    (
        "Orders in Period",
        [],
        "Parameter 'period' is required: a range of days like 2024-01-01~2024-03-31",
    ),
    (
        "Orders in Period",
        [{"slug": "period", "value": "2024-02-30~2024-03-31"}],
        "parameter 'period' (date/range) expects a range of days like 2024-01-01~2024-03-31",
    ),
    (
        "Orders in Period",
        [{"slug": "period", "value": "2024-03-31~2024-01-01"}],
        "got '2024-03-31~2024-01-01'",
    ),
    (
        LAB,
        [{"slug": "min_total", "value": "a lot"}],
        "parameter 'min_total' (number/>=) expects one number; got 'a lot'",
    ),
    (LAB, [{"slug": "min_total", "value": [1, 2]}], "expects one number; got [1, 2]"),
    (LAB, [{"slug": "min_total", "value": True}], "expects one number; got True"),
    (
        LAB,
        [{"slug": "total_between", "value": [60, 50]}],
        "parameter 'total_between' (number/between) expects [low, high], inclusive",
    ),
    (LAB, [{"slug": "title", "value": 5}], "parameter 'title' (string/contains) expects"),
    (
        LAB,
        [{"slug": "state", "value": 5}],
        "(category) expects one value or a list of values (texts)",
    ),
    (LAB, [{"slug": "quantity", "value": "two"}], "(numbers); got 'two'"),
    (LAB, [{"slug": "month", "value": "2024-13"}], "expects a month like 2024-03"),
    (LAB, [{"slug": "quarter", "value": "Q5-2024"}], "expects a quarter like Q1-2024"),
    (LAB, [{"slug": "day", "value": "yesterday"}], "expects one day like 2024-03-05"),
    (
        "Top Products",
        [{"slug": "category", "value": "Gizmos"}],
        "Parameter 'category': 'Gizmos' is not an allowed value "
        "(allowed: Doohickey, Gadget, Gizmo, Widget)",
    ),
    (LAB, [{"slug": "source", "value": ["Organic", "Twitter"]}], "'Twitter' is not an allowed"),
    (
        LAB,
        [{"slug": "nope", "value": 1}],
        "Unknown parameter 'nope'; this card's parameters are: state, vendor, vendor_not",
    ),
    (LAB, [{"id": "00000000", "value": 1}], "Unknown parameter '00000000'"),
    (
        LAB,
        [{"target": ["dimension", ["template-tag", "nope"]], "value": 1}],
        "Unknown parameter \"['dimension', ['template-tag', 'nope']]\"",
    ),
    (
        "Revenue by Month",
        [{"slug": "state", "value": "CA"}],
        "this card's parameters are: none: this card takes no parameters",
    ),
    (
        LAB,
        [{"slug": "state", "value": "CA"}, {"slug": "state", "value": "NY"}],
        "'state' is given twice",
    ),
]


@pytest.mark.parametrize(("card", "parameters", "message"), REFUSALS, ids=lambda v: str(v)[:50])
def test_refusals_are_400_naming_the_parameter(
    classic: Classic, card: str, parameters: list[dict[str, Any]], message: str
) -> None:
    response = classic.run(ANALYST, card, parameters)
    assert response.status_code == 400, response.text
    body = response.json()
    assert body["error"] == "invalid_request"
    assert message.lower() in body["message"].lower(), body["message"]
    assert body["errors"], body


def test_every_problem_is_reported_at_once_and_nothing_runs(classic: Classic) -> None:
    before = _runs(classic)
    response = classic.run(
        ANALYST,
        LAB,
        [{"slug": "nope", "value": 1}, {"slug": "min_total", "value": "x"}],
    )
    assert response.status_code == 400
    body = response.json()
    assert set(body["errors"]) == {"parameters[0]", "parameters[1].value"}
    assert body["message"].startswith("Invalid parameters: unknown parameter 'nope'")
    assert _runs(classic) == before  # refused before anything ran: no audit row


def test_malformed_bodies_are_400(classic: Classic) -> None:
    path = f"/card/{classic.card_id(LAB)}/query"
    for body in ({"parameters": "state=CA"}, {"parameters": [5]}, [1, 2]):
        response = classic.request("POST", path, ANALYST, json=body)
        assert response.status_code == 400, (body, response.text)
        assert response.json()["error"] == "invalid_request"
    broken = classic.request(
        "POST", path, ANALYST, content=b"{", headers={"Content-Type": "application/json"}
    )
    assert broken.status_code == 400
    empty = classic.request("POST", path, ANALYST)  # no body at all: no parameters
    assert empty.status_code == 202 and empty.json()["data"]["rows"] == [[18760]]


def test_hostile_text_is_a_value_not_sql(classic: Classic) -> None:
    for hostile in ['\'; DROP TABLE "ORDERS"; --', "CA' OR '1'='1", "\\", '"', "%", "_"]:
        assert classic.rows(ANALYST, LAB, state=hostile) == [[0]]
    # % and _ are matched literally by contains, not as LIKE wildcards
    assert classic.rows(ANALYST, LAB, title="%") == [[0]]
    assert classic.rows(ANALYST, LAB, quantity=1)[0][0] == 7515


def _runs(classic: Classic) -> int:
    from sqlalchemy import func, select

    from sextant.store import schema as s

    classic.service.queries.audit.flush()
    with classic.service.engine.connect() as conn:
        return int(
            conn.execute(
                select(func.count())
                .select_from(s.audit_log)
                .where(s.audit_log.c.action == "card.query")
            ).scalar_one()
        )
