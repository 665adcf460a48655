"""The read-only classic API: shapes, permissions per demo user, ids, metadata, 405s."""

from __future__ import annotations

from typing import Any

import pytest
from sqlalchemy import select

from sextant.store import schema as s
from tests.cards.conftest import FROM_ORDERS, Classic

ADMIN, ANALYST, FINANCE = "admin@example.com", "analyst@example.com", "finance@example.com"
CA, NOSTATE, OUTSIDER = "ca-manager@example.com", "nostate@example.com", "outsider@example.com"
CURATED_QUESTIONS = {
    "Orders by Category",
    "Orders in Period",
    "Recent Large Orders",
    "Revenue by Month",
    "Revenue by State",
    "Top Products",
}
CURATED_METRICS = {
    "Total Revenue",
    "Order Count",
    "Average Order Value",
    "Revenue per Buyer",
    "Tax Rate",
    "Cumulative Revenue",
    "Revenue Growth",
}
LABS = {"Parameter Lab", "Parameter Lab Rows", "Monthly Revenue", "Gross Sales Shared"}


def names(items: list[dict[str, Any]]) -> list[str]:
    return [str(i["name"]) for i in items]


def test_every_route_needs_credentials(classic: Classic) -> None:
    card = classic.card_id("Revenue by Month")
    for method, path in [
        ("GET", "/user/current"),
        ("GET", "/database"),
        ("GET", "/database/1"),
        ("GET", "/collection"),
        ("GET", "/collection/1"),
        ("GET", "/collection/1/items"),
        ("GET", "/card"),
        ("GET", f"/card/{card}"),
        ("POST", f"/card/{card}/query"),
    ]:
        response = classic.request(method, path)
        assert response.status_code == 401, (path, response.text)
        assert response.json()["error"] == "missing_authorization"


def test_current_user_says_who_is_calling(classic: Classic, agent_key: str) -> None:
    me = classic.request("GET", "/user/current", ANALYST).json()
    assert me["email"] == ANALYST and me["common_name"] == "Ana Analyst"
    assert me["is_superuser"] is False and me["group_ids"]
    assert classic.request("GET", "/user/current", ADMIN).json()["is_superuser"] is True
    key_user = classic.request("GET", "/user/current", key=agent_key).json()
    assert key_user["is_api_key_user"] is True and key_user["is_superuser"] is False


def test_databases_per_user(classic: Classic, agent_key: str) -> None:
    for email in (ADMIN, ANALYST, CA, NOSTATE):
        body = classic.request("GET", "/database", email).json()
        assert body["total"] == 1
        assert body["data"] == [
            {
                "id": body["data"][0]["id"],
                "name": "Sample Shop",
                "engine": "duckdb",
                "description": "A small online shop, generated deterministically for the demo.",
                "is_sample": False,
            }
        ]
    assert classic.request("GET", "/database", key=agent_key).json()["total"] == 1
    outsider = classic.request("GET", "/database", OUTSIDER).json()
    assert outsider == {"data": [], "total": 0}
    db = classic.request("GET", "/database", ANALYST).json()["data"][0]["id"]
    assert classic.request("GET", f"/database/{db}", OUTSIDER).status_code == 403
    assert classic.request("GET", "/database/999", ANALYST).status_code == 404
    assert classic.request("GET", "/database/abc", ANALYST).status_code == 404
    tables = classic.request("GET", f"/database/{db}?include=tables", ANALYST).json()["tables"]
    assert names(tables) == ["ORDERS", "PEOPLE", "PRODUCTS", "REVIEWS"]
    assert set(tables[0]) == {"id", "db_id", "name", "display_name", "schema", "description"}
    bad = classic.request("GET", f"/database/{db}?include=everything", ANALYST)
    assert bad.status_code == 400 and "include" in bad.json()["errors"]


def test_collections_per_user(classic: Classic, agent_key: str) -> None:
    assert names(classic.request("GET", "/collection", ANALYST).json()) == ["Curated"]
    assert names(classic.request("GET", "/collection", FINANCE).json()) == ["Curated", "Finance"]
    assert names(classic.request("GET", "/collection", ADMIN).json()) == [
        "Curated",
        "Drafts",
        "Finance",
    ]
    assert names(classic.request("GET", "/collection", key=agent_key).json()) == ["Curated"]
    curated = classic.collection_id("Curated")
    finance = classic.collection_id("Finance")
    assert classic.request("GET", f"/collection/{curated}", ANALYST).json() == {
        "id": curated,
        "name": "Curated",
        "description": "Verified business metrics for everyone.",
        "location": "/",
        "archived": False,
        "can_write": False,
    }
    assert classic.request("GET", f"/collection/{finance}", ANALYST).status_code == 403
    assert classic.request("GET", f"/collection/{finance}/items", ANALYST).status_code == 403
    assert classic.request("GET", f"/collection/{finance}/items", FINANCE).status_code == 200
    assert classic.request("GET", "/collection/9999/items", ANALYST).status_code == 404
    root = classic.request("GET", "/collection/root/items", FINANCE).json()
    assert names(root["data"]) == ["Curated", "Finance"] and root["models"] == ["collection"]


def test_collection_items_filter_sort_and_page(classic: Classic, agent_key: str) -> None:
    curated = classic.collection_id("Curated")
    everything = classic.request("GET", f"/collection/{curated}/items", key=agent_key).json()
    assert set(names(everything["data"])) == CURATED_QUESTIONS | CURATED_METRICS | LABS
    assert everything["models"] == ["card", "metric"]
    assert everything["total"] == len(everything["data"])
    assert names(everything["data"]) == sorted(names(everything["data"]), key=str.lower)
    cards = classic.request("GET", f"/collection/{curated}/items?models=card", key=agent_key).json()
    assert set(names(cards["data"])) == CURATED_QUESTIONS | LABS
    assert {i["model"] for i in cards["data"]} == {"card"}
    assert set(cards["data"][0]) == {"id", "name", "description", "model", "collection_id"}
    both = classic.request(
        "GET", f"/collection/{curated}/items?models=card&models=metric", key=agent_key
    ).json()
    assert both["total"] == everything["total"]
    page = classic.request(
        "GET", f"/collection/{curated}/items?models=card&limit=3&offset=2", key=agent_key
    ).json()
    assert page["data"] == cards["data"][2:5]
    assert (page["total"], page["limit"], page["offset"]) == (len(cards["data"]), 3, 2)
    for query, key in [("models=cards", "models"), ("limit=0", "limit"), ("offset=-1", "offset")]:
        bad = classic.request("GET", f"/collection/{curated}/items?{query}", key=agent_key)
        assert bad.status_code == 400 and key in bad.json()["errors"], bad.text


def test_cards_visible_by_collection(classic: Classic, agent_key: str) -> None:
    analyst = set(names(classic.request("GET", "/card", ANALYST).json()))
    assert analyst == CURATED_QUESTIONS | CURATED_METRICS | LABS
    finance = set(names(classic.request("GET", "/card", FINANCE).json()))
    assert finance - analyst == {"Gross Sales", "Gross Sales by Quarter"}
    admin = set(names(classic.request("GET", "/card", ADMIN).json()))
    assert admin - finance == {"Bulk Revenue", "Churn Experiment"}
    assert set(names(classic.request("GET", "/card", key=agent_key).json())) == analyst
    gross = classic.card_id("Gross Sales by Quarter")
    assert classic.request("GET", f"/card/{gross}", ANALYST).status_code == 403
    assert classic.request("GET", f"/card/{gross}", FINANCE).status_code == 200
    assert classic.run(ANALYST, "Gross Sales by Quarter").status_code == 403
    assert classic.run(FINANCE, "Gross Sales by Quarter").status_code == 202
    churn = classic.card_id("Churn Experiment")
    for email in (ANALYST, FINANCE):
        assert classic.request("GET", f"/card/{churn}", email).status_code == 403
    assert classic.run(ADMIN, "Churn Experiment").status_code == 202
    assert classic.request("GET", "/card/99999", ANALYST).status_code == 404
    assert classic.request("POST", "/card/99999/query", ANALYST).status_code == 404
    by_table = classic.request("GET", "/card?f=table&model_id=1", ADMIN).json()
    assert by_table and all(c["table_id"] == 1 for c in by_table)
    assert classic.request("GET", "/card?f=mine", ADMIN).json() == []
    assert classic.request("GET", "/card?f=sideways", ADMIN).status_code == 400


def test_outsider_reads_curated_cards_but_cannot_run_them(classic: Classic) -> None:
    """A card never lends its author's rights: the collection is readable, the data is not."""
    assert set(names(classic.request("GET", "/card", OUTSIDER).json())) >= CURATED_QUESTIONS
    for name in ("Revenue by Month", "Total Revenue"):
        response = classic.run(OUTSIDER, name)
        assert response.status_code == 403, response.text
        assert response.json() == {
            "error": "forbidden",
            "message": "You don't have permissions to do that.",
        }


def test_card_object_has_metadata_and_parameters_but_no_sql(classic: Classic) -> None:
    card_id = classic.card_id("Revenue by State")
    card = classic.request("GET", f"/card/{card_id}", ANALYST).json()
    assert card["type"] == "question" and card["query_type"] == "query"
    assert card["collection"] == {
        "id": classic.collection_id("Curated"),
        "name": "Curated",
        "location": "/",
    }
    assert card["result_metadata"] == [
        {
            "name": "STATE",
            "display_name": "State",
            "base_type": "type/Text",
            "effective_type": "type/Text",
            "semantic_type": "type/State",
        },
        {
            "name": "sum",
            "display_name": "Sum of Total",
            "base_type": "type/Float",
            "effective_type": "type/Float",
            "semantic_type": "type/Currency",
        },
    ]
    [state] = card["parameters"]
    assert state == {
        "id": state["id"],
        "slug": "state",
        "name": "State",
        "type": "category",
        "target": ["dimension", ["template-tag", "state"]],
        "required": False,
        "default": None,
        "values_source_type": None,
    }
    top = classic.request("GET", f"/card/{classic.card_id('Top Products')}", ANALYST).json()
    assert top["parameters"][0]["values_source_type"] == "static-list"
    assert top["parameters"][0]["values_source_config"] == {
        "values": ["Doohickey", "Gadget", "Gizmo", "Widget"]
    }
    text = str(card).lower()
    assert "select" not in text and "native" not in text and "sql" not in text
    assert card["created_at"].endswith("Z") and card["archived"] is False


def test_result_metadata_matches_what_every_card_returns(classic: Classic) -> None:
    for card in classic.request("GET", "/card", ADMIN).json():
        parameters = []
        if card["name"] == "Orders in Period":
            parameters = [{"slug": "period", "value": "2024-01-01~2024-01-31"}]
        if card["name"] == "Top Products":
            parameters = [{"slug": "category", "value": "Widget"}]
        response = classic.run(ADMIN, card["name"], parameters)
        assert response.status_code == 202, response.text
        body = response.json()
        assert body["status"] == "completed", body
        cols = [{k: c[k] for k in ("name", "base_type")} for c in body["data"]["cols"]]
        meta = [{k: c[k] for k in ("name", "base_type")} for c in card["result_metadata"]]
        assert cols == meta, card["name"]
        assert body["database_id"] == card["database_id"] and body["context"] == "question"


def test_metrics_are_cards_in_the_same_id_space(classic: Classic, hand: Any) -> None:
    snapshot = classic.service.snapshot()
    metric_ids, question_ids = set(snapshot.metrics), set(snapshot.questions)
    assert metric_ids and question_ids and not metric_ids & question_ids
    revenue = classic.card_id("Total Revenue")
    card = classic.request("GET", f"/card/{revenue}", ANALYST).json()
    assert card["type"] == "metric" and card["parameters"] == []
    assert card["result_metadata"][0]["name"] == "Total Revenue"
    [[total]] = classic.rows(ANALYST, "Total Revenue")
    [(expected,)] = hand('SELECT sum("TOTAL") FROM "ORDERS"')
    assert total == pytest.approx(expected)


def test_metrics_along_time_run_as_cards_by_month(classic: Classic, hand: Any) -> None:
    """A growth rate or a running total run as a card is grouped by its time dimension (one
    number would mean little); a ratio stays one number."""
    monthly = (
        'SELECT date_trunc(\'month\', "CREATED_AT") m, sum("TOTAL") s FROM "ORDERS" GROUP BY 1'
    )
    growth = classic.rows(ANALYST, "Revenue Growth")
    expected = hand(
        f"SELECT c.m, c.s / NULLIF(p.s, 0) - 1 FROM ({monthly}) c LEFT JOIN ({monthly}) p "
        "ON p.m = c.m - INTERVAL 1 MONTH ORDER BY 1"
    )
    assert [r[0] for r in growth] == [e[0].isoformat() + "Z" for e in expected]
    assert [r[1] for r in growth] == pytest.approx([e[1] for e in expected], nan_ok=True)
    running = classic.rows(ANALYST, "Cumulative Revenue")
    expected = hand(f"SELECT m, sum(s) OVER (ORDER BY m) FROM ({monthly}) t ORDER BY 1")
    assert [r[1] for r in running] == pytest.approx([e[1] for e in expected])
    [[rate]] = classic.rows(ANALYST, "Tax Rate")
    [(expected_rate,)] = hand('SELECT sum("TAX") / sum("SUBTOTAL") FROM "ORDERS"')
    assert rate == pytest.approx(expected_rate)


def test_demo_cards_match_hand_sql(classic: Classic, hand: Any) -> None:
    by_month = classic.rows(ANALYST, "Revenue by Month")
    expected = hand(
        'SELECT date_trunc(\'month\', "CREATED_AT") m, sum("TOTAL") FROM "ORDERS" '
        "GROUP BY 1 ORDER BY 1"
    )
    assert [r[0] for r in by_month] == [e[0].isoformat() + "Z" for e in expected]
    assert [r[1] for r in by_month] == pytest.approx([e[1] for e in expected])
    by_category = classic.rows(ANALYST, "Orders by Category")
    expected = hand(f'SELECT pr."CATEGORY", count(*) c {FROM_ORDERS} GROUP BY 1 ORDER BY c DESC')
    assert by_category == [list(e) for e in expected]
    by_state = classic.rows(ANALYST, "Revenue by State")
    expected = hand(f'SELECT p."STATE", sum(o."TOTAL") {FROM_ORDERS} GROUP BY 1 ORDER BY 1')
    assert [r[0] for r in by_state] == [e[0] for e in expected]
    assert [r[1] for r in by_state] == pytest.approx([e[1] for e in expected])


def test_sandboxed_user_runs_cards_over_their_rows_only(classic: Classic, hand: Any) -> None:
    by_state = classic.rows(CA, "Revenue by State")
    [(expected,)] = hand(f'SELECT sum(o."TOTAL") {FROM_ORDERS} WHERE p."STATE" = \'CA\'')
    assert [r[0] for r in by_state] == ["CA"] and by_state[0][1] == pytest.approx(expected)
    # the card joins PRODUCTS through ORDERS: ORDERS is still sandboxed
    by_category = classic.rows(CA, "Orders by Category")
    expected_rows = hand(
        f'SELECT pr."CATEGORY", count(*) c {FROM_ORDERS} WHERE p."STATE" = \'CA\' '
        "GROUP BY 1 ORDER BY c DESC"
    )
    assert by_category == [list(e) for e in expected_rows]
    assert classic.rows(NOSTATE, "Revenue by State") == []
    assert classic.rows(NOSTATE, "Order Count") == [[0]]
    # values_from the field: only the values the caller may see are allowed
    refused = classic.run(CA, "Revenue by State", [{"slug": "state", "value": ["NY"]}])
    assert refused.status_code == 400
    assert refused.json()["message"].endswith("'NY' is not an allowed value (allowed: CA).")
    assert classic.rows(CA, "Revenue by State", state="CA")[0][0] == "CA"


def test_runs_are_audited_as_card_queries(classic: Classic) -> None:
    card = classic.card_id("Top Products")
    classic.rows(ANALYST, "Top Products", category="Widget")
    classic.service.queries.audit.flush()
    with classic.service.engine.connect() as conn:
        row = conn.execute(
            select(s.audit_log)
            .where(s.audit_log.c.action == "card.query", s.audit_log.c.entity_id == card)
            .order_by(s.audit_log.c.id.desc())
        ).first()
    assert row is not None
    assert (row.entity_type, row.status, row.row_count) == ("card", "completed", 10)
    assert row.detail == {"parameters": {"category": "Widget"}}


WRITES = [
    ("POST", "/card", "GET"),
    ("PUT", "/card/{card}", "GET"),
    ("DELETE", "/card/{card}", "GET"),
    ("PATCH", "/card/{card}", "GET"),
    ("PUT", "/card/{card}/query", "POST"),
    ("POST", "/card/{card}/copy", ""),
    ("POST", "/dashboard", ""),
    ("PUT", "/dashboard/1", ""),
    ("POST", "/collection", "GET"),
    ("DELETE", "/collection/1", "GET"),
    ("POST", "/dataset", ""),
    ("POST", "/dataset/native", ""),
    ("POST", "/database", "GET"),
    ("PUT", "/user/current", "GET"),
]


@pytest.mark.parametrize(("method", "path", "allow"), WRITES)
def test_writes_are_405_for_everyone(
    classic: Classic, agent_key: str, method: str, path: str, allow: str
) -> None:
    path = path.format(card=classic.card_id("Revenue by Month"))
    for credentials in ({"email": ADMIN}, {"key": agent_key}, {}):
        response = classic.request(method, path, json={"name": "x"}, **credentials)
        assert response.status_code == 405, (method, path, response.text)
        assert response.json() == {
            "error": "method_not_allowed",
            "message": "Sextant's classic API is read-only.",
        }
        assert response.headers["allow"] == allow


def test_a_question_over_a_metric(classic: Classic, hand: Any) -> None:
    card = classic.request("GET", f"/card/{classic.card_id('Monthly Revenue')}", ANALYST).json()
    assert [c["name"] for c in card["result_metadata"]] == ["CREATED_AT", "Total Revenue"]
    rows = classic.rows(ANALYST, "Monthly Revenue", state=["CA", "NY"])
    expected = hand(
        f'SELECT date_trunc(\'month\', o."CREATED_AT"), sum(o."TOTAL") {FROM_ORDERS} '
        "WHERE o.\"QUANTITY\" > 1 AND p.\"STATE\" IN ('CA', 'NY') GROUP BY 1 ORDER BY 1"
    )
    assert [r[0] for r in rows] == [e[0].isoformat() + "Z" for e in expected]
    assert [r[1] for r in rows] == pytest.approx([e[1] for e in expected])
    assert [r[1] for r in classic.rows(CA, "Monthly Revenue")] == pytest.approx(
        [
            e[1]
            for e in hand(
                f'SELECT date_trunc(\'month\', o."CREATED_AT"), sum(o."TOTAL") {FROM_ORDERS} '
                'WHERE o."QUANTITY" > 1 AND p."STATE" = \'CA\' GROUP BY 1 ORDER BY 1'
            )
        ]
    )


def test_a_question_never_lends_its_metrics_collection(classic: Classic) -> None:
    """Curated is readable by all; the metric it wraps lives in Finance."""
    card = classic.card_id("Gross Sales Shared")
    assert classic.request("GET", f"/card/{card}", ANALYST).status_code == 200
    assert classic.run(ANALYST, "Gross Sales Shared").status_code == 403
    assert classic.run(FINANCE, "Gross Sales Shared").status_code == 202


def test_the_demo_key_is_made_once_and_replaced_when_lost(demo_service: Any, tmp_path: Any) -> None:
    from sextant.demo.setup import agent_api_key

    data_dir = demo_service.settings.data_dir
    first = agent_api_key(demo_service.credentials, data_dir)
    assert agent_api_key(demo_service.credentials, data_dir) == first
    assert demo_service.credentials.resolves_api_key(first)
    (data_dir / "agent-api-key").unlink()
    second = agent_api_key(demo_service.credentials, data_dir)
    assert second != first and demo_service.credentials.resolves_api_key(second)
    assert not demo_service.credentials.resolves_api_key(first)  # the lost key stops working
    assert [(k.name, k.group, k.revoked) for k in demo_service.credentials.list_api_keys()] == [
        ("demo-agents-1", "Agents", True),
        ("demo-agents-2", "Agents", False),
    ]


def test_sessions_and_keys_work_like_jwts(classic: Classic, agent_key: str) -> None:
    from sextant.auth.tokens import make_jwt
    from tests.conftest import TEST_SECRET

    grant = classic.service.exchange_jwt(make_jwt(TEST_SECRET, ANALYST), "test")
    session = {"X-Metabase-Session": grant.token}
    by_session = classic.request("GET", "/card", headers=session).json()
    assert names(by_session) == names(classic.request("GET", "/card", ANALYST).json())
    run = classic.request("POST", f"/card/{classic.card_id('Order Count')}/query", headers=session)
    assert run.status_code == 202 and run.json()["data"]["rows"] == [[18760]]
    bad = classic.request("GET", "/card", headers={"X-API-Key": agent_key + "x"})
    assert bad.status_code == 401


def test_card_runs_share_the_caps_of_execute(classic: Classic) -> None:
    response = classic.run(ANALYST, "Recent Large Orders")
    body = response.json()
    assert body["row_count"] == 2000 and body["truncated"] is True and body["row_limit"] == 2000


def test_card_runs_go_through_the_concurrency_gate(demo: Any, services: Any) -> None:
    from tests.conftest import make_settings

    service = services(
        make_settings(
            demo.data_dir, config=demo.model, max_queries_per_user=1, max_queued_queries=0
        )
    )
    service.sync()
    api = Classic(service)
    analyst = service.credentials.principal_for(ANALYST)
    held = service.queries.gate.admit(analyst.user_id)  # the analyst's one slot is taken
    try:
        refused = api.run(ANALYST, "Order Count")
        assert refused.status_code == 429 and "retry-after" in refused.headers
        assert api.run(FINANCE, "Order Count").status_code == 202  # others are not held up
    finally:
        held.release()
    assert api.run(ANALYST, "Order Count").status_code == 202
