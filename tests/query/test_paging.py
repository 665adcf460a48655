"""``POST /v1/query``: pages that concatenate to the whole result, and continuation tokens that
only their owner can use, before they expire.

The property runs on the demo with whole rows duplicated (REVIEWS without its primary key,
every third review twice and every seventh three times), on DuckDB and PostgreSQL: for
generated queries, orderings and page sizes, the pages put together equal the unpaged
``/v1/execute`` result as a multiset, and in order on the columns the query orders by.
"""

from __future__ import annotations

import base64
import json
import shutil
import time
from collections import Counter
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import psycopg
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from sextant.auth.tokens import make_jwt
from sextant.demo.setup import DemoFiles, prepare_demo
from sextant.http import create_app
from sextant.service import Sextant
from tests.agent_client import AgentClient
from tests.conftest import TEST_SECRET, fresh_postgres_database, make_settings
from tests.servers import serve

ADMIN = "admin@example.com"
ANALYST = "analyst@example.com"
CA_MANAGER = "ca-manager@example.com"

DUCK_DUPLICATES = (
    "CREATE TABLE REVIEWS_COPY AS SELECT * FROM REVIEWS",
    "DROP TABLE REVIEWS",
    "CREATE TABLE REVIEWS (ID BIGINT NOT NULL, "
    "PRODUCT_ID BIGINT NOT NULL REFERENCES PRODUCTS (ID), REVIEWER VARCHAR NOT NULL, "
    "RATING INTEGER NOT NULL, BODY VARCHAR NOT NULL, "
    "CREATED_AT TIMESTAMP NOT NULL)",
    "INSERT INTO REVIEWS SELECT * FROM REVIEWS_COPY",
    "INSERT INTO REVIEWS SELECT * FROM REVIEWS_COPY WHERE ID % 3 = 0",
    "INSERT INTO REVIEWS SELECT * FROM REVIEWS_COPY WHERE ID % 7 = 0",
    "INSERT INTO REVIEWS SELECT * FROM REVIEWS_COPY WHERE ID % 7 = 0",
    "DROP TABLE REVIEWS_COPY",
)
PG_DUPLICATES = (
    'CREATE TABLE "REVIEWS_COPY" AS SELECT * FROM "REVIEWS"',
    'INSERT INTO "REVIEWS" SELECT * FROM "REVIEWS_COPY" WHERE "ID" % 3 = 0',
    'INSERT INTO "REVIEWS" SELECT * FROM "REVIEWS_COPY" WHERE "ID" % 7 = 0',
    'INSERT INTO "REVIEWS" SELECT * FROM "REVIEWS_COPY" WHERE "ID" % 7 = 0',
    'DROP TABLE "REVIEWS_COPY"',
)
REVIEWS_WITH_DUPLICATES = 1112 + 370 + 2 * 158


def _duck_shop(template: DemoFiles, target: Path) -> Sextant:
    import duckdb

    shutil.copytree(template.data_dir, target)
    con = duckdb.connect(str(target / "warehouse.duckdb"))
    try:
        for statement in DUCK_DUPLICATES:
            con.execute(statement)
    finally:
        con.close()
    files = prepare_demo(target)
    service = Sextant(make_settings(files.data_dir, config=files.model))
    service.sync()
    return service


@pytest.fixture(scope="module")
def duck_paging(
    demo_template: DemoFiles, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[AgentClient]:
    service = _duck_shop(demo_template, tmp_path_factory.mktemp("paging-duck") / "demo")
    yield AgentClient(service)
    service.close()


@pytest.fixture(scope="module")
def pg_paging(
    postgres_server: str, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[AgentClient]:
    with fresh_postgres_database(postgres_server, prefix="sextant_paging") as url:
        files = prepare_demo(
            tmp_path_factory.mktemp("paging-pg") / "demo", engine="postgres", warehouse_url=url
        )
        with psycopg.connect(url) as conn:
            key = conn.execute(
                "SELECT conname FROM pg_constraint WHERE conrelid = '\"REVIEWS\"'::regclass "
                "AND contype = 'p'"
            ).fetchone()
            assert key is not None
            conn.execute(f'ALTER TABLE "REVIEWS" DROP CONSTRAINT "{key[0]}"')
            for statement in PG_DUPLICATES:
                conn.execute(statement)
        service = Sextant(make_settings(files.data_dir, config=files.model))
        try:
            service.sync()
            yield AgentClient(service)
        finally:
            service.close()


@pytest.fixture(params=["duckdb", "postgres"])
def shop(request: pytest.FixtureRequest) -> AgentClient:
    return request.getfixturevalue("duck_paging" if request.param == "duckdb" else "pg_paging")


# -- helpers -----------------------------------------------------------------------------


def page(client: AgentClient, email: str, body: dict[str, Any]) -> dict[str, Any]:
    answer = client.request("POST", "/query", email, json=body)
    assert answer.status_code == 202, answer.text
    result = answer.json()
    assert result["status"] == "completed", result
    return dict(result)


def all_pages(
    client: AgentClient, email: str, body: dict[str, Any], page_size: int
) -> list[dict[str, Any]]:
    pages = [page(client, email, {**body, "page_size": page_size})]
    while "continuation_token" in pages[-1]:
        pages.append(page(client, email, {"continuation_token": pages[-1]["continuation_token"]}))
        assert len(pages) < 200, "paging does not end"
    return pages


def refused(client: AgentClient, email: str, body: dict[str, Any]) -> httpx.Response:
    answer = client.request("POST", "/query", email, json=body)
    assert answer.status_code >= 400, answer.text
    return answer


def key(row: list[Any]) -> str:
    return json.dumps(row)


# -- the property --------------------------------------------------------------------------

RAW_FIELDS = ("REVIEWER", "RATING", "CREATED_AT", "PRODUCT_ID", "CATEGORY")
GROUPS = ("RATING", "CATEGORY", "CREATED_AT")


@st.composite
def queries(draw: st.DrawFn) -> dict[str, Any]:
    """A REVIEWS query by column name (fields are resolved per engine): raw or aggregated,
    ordered by some of its columns or not at all, perhaps filtered or limited."""
    filters = []
    if draw(st.booleans()):
        filters.append({"column": "RATING", "operation": ">=", "value": draw(st.integers(1, 5))})
    limit = draw(st.none() | st.integers(1, 400))
    if draw(st.booleans()):
        chosen = draw(st.lists(st.sampled_from(RAW_FIELDS), min_size=1, max_size=4, unique=True))
        bucket = draw(st.sampled_from([None, "month", "day-of-week"]))
        ordered = draw(st.lists(st.sampled_from(chosen), max_size=2, unique=True))
        order = [(c, draw(st.sampled_from(["asc", "desc"]))) for c in ordered]
        return {
            "kind": "raw",
            "fields": chosen,
            "bucket": bucket,
            "order": order,
            "filters": filters,
            "limit": limit,
        }
    groups = draw(st.lists(st.sampled_from(GROUPS), min_size=1, max_size=2, unique=True))
    return {
        "kind": "aggregated",
        "groups": groups,
        "granularity": draw(st.sampled_from(["week", "month", "day"])),
        "sort": draw(st.sampled_from([None, "asc", "desc"])),
        "order": [(g, draw(st.sampled_from(["asc", "desc"]))) for g in groups[:1]],
        "filters": filters,
        "limit": limit,
    }


def body_of(client: AgentClient, spec: dict[str, Any]) -> tuple[dict[str, Any], list[int]]:
    """The construct-query body of ``spec``, and the positions of the columns it orders by."""

    def field(name: str) -> str:
        if name == "CATEGORY":
            return client.field(ANALYST, "REVIEWS", "CATEGORY", via="PRODUCT_ID")
        return client.field(ANALYST, "REVIEWS", name)

    body: dict[str, Any] = {"table_id": client.table_id("REVIEWS")}
    body["filters"] = [
        {"field_id": field(f["column"]), "operation": "greater-than-or-equal", "value": f["value"]}
        for f in spec["filters"]
    ]
    if spec["limit"] is not None:
        body["limit"] = spec["limit"]
    if spec["kind"] == "raw":
        bucket = spec["bucket"]

        def ref(name: str) -> dict[str, Any]:
            out = {"field_id": field(name)}
            return {**out, "bucket": bucket} if name == "CREATED_AT" and bucket else out

        body["fields"] = [ref(n) for n in spec["fields"]]
        body["order_by"] = [{"field": ref(n), "direction": d} for n, d in spec["order"]]
        return body, [spec["fields"].index(n) for n, _ in spec["order"]]
    body["group_by"] = [
        {"field_id": field(g)}
        | ({"field_granularity": spec["granularity"]} if g == "CREATED_AT" else {})
        for g in spec["groups"]
    ]
    body["aggregations"] = [
        {"function": "count"} | ({"sort_order": spec["sort"]} if spec["sort"] else {})
    ]
    body["order_by"] = [{"field": {"field_id": field(g)}, "direction": d} for g, d in spec["order"]]
    # every breakout is ordered (those not named ascending): the order is total
    return body, list(range(len(spec["groups"]) + 1))


@settings(
    max_examples=25,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(spec=queries(), data=st.data())
def test_pages_concatenate_to_the_whole_result(
    shop: AgentClient, spec: dict[str, Any], data: st.DataObject
) -> None:
    body, ordered = body_of(shop, spec)
    unlimited = {k: v for k, v in body.items() if k != "limit"}
    whole = shop.run(ANALYST, unlimited)
    assert not whole.get("truncated"), "the generated queries stay under the cap"
    rows = whole["data"]["rows"]
    expected = min(len(rows), body.get("limit", len(rows)))
    # at most 25 pages, at least one row a page
    size = data.draw(st.integers(max(1, -(-expected // 25)), max(1, expected + 3)), "page size")
    pages = all_pages(shop, ANALYST, body, size)
    got = [row for p in pages for row in p["data"]["rows"]]
    assert [p["row_count"] for p in pages[:-1]] == [size] * (len(pages) - 1)
    assert len(got) == expected
    assert all(p["data"]["cols"] == whole["data"]["cols"] for p in pages)
    assert not any(p.get("truncated") for p in pages)
    if expected == len(rows):
        assert Counter(map(key, got)) == Counter(map(key, rows))
    else:  # a limit that binds: some of the rows, the first ones in the order asked for
        assert not Counter(map(key, got)) - Counter(map(key, rows))
    if spec["kind"] == "aggregated" and spec["sort"] is None:
        assert got == rows[:expected]  # the order is total: the very same sequence
    elif ordered:
        project = [[row[i] for i in ordered] for row in got]
        assert project == [[row[i] for i in ordered] for row in rows[:expected]]


def test_the_demo_really_has_duplicated_rows(shop: AgentClient) -> None:
    body = {
        "table_id": shop.table_id("REVIEWS"),
        "fields": [{"field_id": shop.field(ANALYST, "REVIEWS", n)} for n in ("ID", "BODY")],
    }
    rows = shop.run(ANALYST, body)["data"]["rows"]
    counts = Counter(map(key, rows))
    assert len(rows) == REVIEWS_WITH_DUPLICATES
    assert max(counts.values()) == 4 and sum(1 for c in counts.values() if c > 1) > 300
    pages = all_pages(shop, ANALYST, body, 97)
    got = [row for p in pages for row in p["data"]["rows"]]
    assert Counter(map(key, got)) == counts
    assert got == sorted(rows, key=lambda r: (r[0], r[1]))  # the tie-break: every column


# -- caps, limits, metrics -------------------------------------------------------------------


def test_the_row_cap_applies_to_the_whole(duck_paging: AgentClient) -> None:
    body = {"table_id": duck_paging.table_id("ORDERS")}  # 18,760 rows
    pages = all_pages(duck_paging, ANALYST, body, 700)
    assert [p["row_count"] for p in pages] == [700, 700, 600]  # the raw cap: 2000
    assert pages[-1]["truncated"] is True and pages[-1]["row_limit"] == 2000
    assert not any(p.get("truncated") for p in pages[:-1])
    limited = all_pages(duck_paging, ANALYST, {**body, "limit": 25}, 10)
    assert [p["row_count"] for p in limited] == [10, 10, 5]
    assert not any(p.get("truncated") for p in limited)


def test_page_size_defaults_to_200_and_stays_under_the_cap(duck_paging: AgentClient) -> None:
    body = {"table_id": duck_paging.table_id("REVIEWS")}
    first = page(duck_paging, ANALYST, body)
    assert first["row_count"] == 200 and "continuation_token" in first
    too_big = refused(duck_paging, ANALYST, {**body, "page_size": 2001})
    assert too_big.status_code == 400 and "at most 2000" in too_big.json()["message"]
    grouped = {
        **body,
        "aggregations": [{"function": "count"}],
        "group_by": [{"field_id": duck_paging.field(ANALYST, "REVIEWS", "ID")}],
        "page_size": 5000,
    }
    assert page(duck_paging, ANALYST, grouped)["row_count"] == 1112  # aggregated cap: 10,000
    for bad in (0, -1, "10", 1.5, True):
        assert refused(duck_paging, ANALYST, {**body, "page_size": bad}).status_code == 400


def test_a_metric_query_pages(duck_paging: AgentClient) -> None:
    metric = duck_paging.metric_id("Order Count")
    detail = duck_paging.get(f"/metric/{metric}", ANALYST).json()
    dimension = next(d for d in detail["queryable_dimensions"] if d["name"] == "CREATED_AT")
    body = {
        "metric_id": metric,
        "group_by": [{"field_id": dimension["field_id"], "field_granularity": "month"}],
    }
    whole = duck_paging.run(ANALYST, body)["data"]["rows"]
    pages = all_pages(duck_paging, ANALYST, body, 7)
    assert [row for p in pages for row in p["data"]["rows"]] == whole
    assert len(pages) == -(-len(whole) // 7) > 3


def test_warnings_come_with_the_first_page(duck_paging: AgentClient) -> None:
    body = {"table_id": duck_paging.table_id("REVIEWS"), "colour": "blue", "page_size": 10}
    first = page(duck_paging, ANALYST, body)
    assert first["warnings"] == ["unknown key colour was ignored"]
    second = page(duck_paging, ANALYST, {"continuation_token": first["continuation_token"]})
    assert "warnings" not in second


def test_a_sandboxed_user_pages_through_their_own_rows(duck_paging: AgentClient) -> None:
    orders = duck_paging.table_id("ORDERS")
    body = {
        "table_id": orders,
        "fields": [{"field_id": duck_paging.field(CA_MANAGER, "ORDERS", "ID")}],
    }
    whole = duck_paging.run(CA_MANAGER, body)["data"]["rows"]
    pages = all_pages(duck_paging, CA_MANAGER, body, 300)
    assert sorted(row for p in pages for row in p["data"]["rows"]) == sorted(whole)
    state = duck_paging.field(ANALYST, "ORDERS", "STATE", via="USER_ID")
    in_ca = {"field_id": state, "operation": "equals", "value": "CA"}
    everyone = duck_paging.run(ANALYST, body | {"filters": [in_ca]})["data"]["rows"]
    assert sorted(whole) == sorted(everyone) and 300 < len(whole) < 2000


# -- the continuation token ------------------------------------------------------------------


def first_token(client: AgentClient, email: str = ANALYST) -> str:
    body = {"table_id": client.table_id("REVIEWS"), "page_size": 10}
    return str(page(client, email, body)["continuation_token"])


def test_another_user_cannot_continue(duck_paging: AgentClient) -> None:
    token = first_token(duck_paging)
    stolen = refused(duck_paging, ADMIN, {"continuation_token": token})
    assert stolen.status_code == 403
    assert stolen.json()["message"] == "This continuation token was issued to another user."


def test_a_tampered_token_is_refused(duck_paging: AgentClient) -> None:
    token = first_token(duck_paging)
    envelope = json.loads(base64.urlsafe_b64decode(token))
    for change in ({"o": 0}, {"o": 10**6}, {"n": 5000}, {"u": 1}, {"e": envelope["e"] + 3600}):
        forged = base64.urlsafe_b64encode(json.dumps({**envelope, **change}).encode()).decode()
        answer = refused(duck_paging, ANALYST, {"continuation_token": forged})
        assert answer.status_code == 400 and answer.json()["error"] == "invalid_query", change
    for junk in ("x", token[:-4], "A" * 300, token[1:], "%%%"):
        assert refused(duck_paging, ANALYST, {"continuation_token": junk}).status_code == 400


def test_query_and_continuation_tokens_are_not_interchangeable(duck_paging: AgentClient) -> None:
    continuation = first_token(duck_paging)
    as_query = duck_paging.execute(ANALYST, continuation)
    assert as_query.status_code == 400 and as_query.json()["error"] == "invalid_query"
    query = duck_paging.construct(ANALYST, {"table_id": duck_paging.table_id("REVIEWS")})
    as_continuation = refused(duck_paging, ANALYST, {"continuation_token": query.json()["query"]})
    assert as_continuation.status_code == 400


def test_a_continuation_takes_nothing_but_a_page_size(duck_paging: AgentClient) -> None:
    token = first_token(duck_paging)
    mixed = refused(
        duck_paging, ANALYST, {"continuation_token": token, "table_id": 1, "limit": 3}
    ).json()
    assert mixed["error"] == "invalid_request"
    assert set(mixed["errors"]) == {"table_id", "limit"}
    resized = page(duck_paging, ANALYST, {"continuation_token": token, "page_size": 3})
    assert resized["row_count"] == 3
    following = page(duck_paging, ANALYST, {"continuation_token": resized["continuation_token"]})
    assert following["row_count"] == 3  # the new size carries on


def test_a_continuation_expires(demo: DemoFiles) -> None:
    service = Sextant(make_settings(demo.data_dir, config=demo.model, continuation_token_seconds=1))
    try:
        service.apply()
        client = AgentClient(service)
        token = first_token(client)
        assert page(client, ANALYST, {"continuation_token": token})["row_count"] == 10
        time.sleep(2.1)
        late = refused(client, ANALYST, {"continuation_token": token})
        assert late.status_code == 400 and late.json()["error"] == "continuation_expired"
        assert "run the query again" in late.json()["message"]
    finally:
        service.close()


def test_a_continuation_is_checked_again_for_its_caller(duck_paging: AgentClient) -> None:
    token = first_token(duck_paging)
    secret = TEST_SECRET
    narrow = make_jwt(secret, ANALYST, claims={"scope": "agent:query:construct"})
    answer = duck_paging.request(
        "POST",
        "/query",
        headers={"Authorization": f"Bearer {narrow}"},
        json={"continuation_token": token},
    )
    assert answer.status_code == 403 and answer.json()["error"] == "unsupported_scope"


# -- transports ------------------------------------------------------------------------------


def test_the_unversioned_path_pages_too(duck_paging: AgentClient) -> None:
    headers = {"Authorization": f"Bearer {make_jwt(TEST_SECRET, ANALYST)}"}
    body = {"table_id": duck_paging.table_id("REVIEWS"), "page_size": 10}
    first = duck_paging.app_request("POST", "/api/agent/query", json=body, headers=headers)
    assert first.status_code == 202 and first.json()["row_count"] == 10
    after = {"continuation_token": first.json()["continuation_token"]}
    second = duck_paging.app_request("POST", "/api/agent/query", json=after, headers=headers)
    assert second.json()["row_count"] == 10


def test_pages_continue_on_another_server(demo: DemoFiles) -> None:
    settings = make_settings(demo.data_dir, config=demo.model)
    first, second = Sextant(settings), Sextant(settings)
    try:
        first.apply()
        second.load()
        body = {
            "table_id": next(t.id for t in first.snapshot().tables.values() if t.name == "REVIEWS")
        }
        with serve(create_app(settings, first)) as a, serve(create_app(settings, second)) as b:
            rows: list[Any] = []
            answer: dict[str, Any] = {}
            request: dict[str, Any] = {**body, "page_size": 150}
            for turn in range(20):
                headers = {"Authorization": f"Bearer {make_jwt(TEST_SECRET, ANALYST)}"}
                url = (a, b)[turn % 2]
                answer = httpx.post(
                    f"{url}/api/agent/v1/query", json=request, headers=headers
                ).json()
                assert answer["status"] == "completed", answer
                rows += answer["data"]["rows"]
                if "continuation_token" not in answer:
                    break
                request = {"continuation_token": answer["continuation_token"]}
            headers = {"Authorization": f"Bearer {make_jwt(TEST_SECRET, ANALYST)}"}
            token = httpx.post(f"{a}/api/agent/v1/construct-query", json=body, headers=headers)
            whole = httpx.post(
                f"{b}/api/agent/v1/execute", json=token.json(), headers=headers
            ).json()["data"]["rows"]
        assert "continuation_token" not in answer and len(rows) == len(whole) == 1112
        assert sorted(map(key, rows)) == sorted(map(key, whole))
    finally:
        first.close()
        second.close()
