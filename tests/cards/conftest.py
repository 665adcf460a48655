"""A synced demo with two extra "lab" questions that carry one parameter of every type, and
hand SQL over the same DuckDB file."""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from typing import Any

import anyio
import duckdb
import httpx
import pytest

from sextant.auth.tokens import make_jwt
from sextant.demo.setup import DemoFiles, agent_api_key, prepare_demo
from sextant.http import create_app
from sextant.service import Sextant
from tests.conftest import TEST_SECRET, make_settings

LAB_PARAMETERS = """
    parameters:
      - {slug: state, type: category, target: PEOPLE.STATE}
      - {slug: vendor, type: string/=, target: PRODUCTS.VENDOR}
      - {slug: vendor_not, type: string/!=, target: PRODUCTS.VENDOR}
      - {slug: title, type: string/contains, target: PRODUCTS.TITLE}
      - {slug: title_not, type: string/does-not-contain, target: PRODUCTS.TITLE}
      - {slug: title_starts, type: string/starts-with, target: PRODUCTS.TITLE}
      - {slug: title_ends, type: string/ends-with, target: PRODUCTS.TITLE}
      - {slug: quantity, type: number/=, target: QUANTITY}
      - {slug: quantity_not, type: number/!=, target: QUANTITY}
      - {slug: min_total, type: number/>=, target: TOTAL}
      - {slug: max_total, type: number/<=, target: TOTAL}
      - {slug: total_between, type: number/between, target: TOTAL}
      - {slug: day, type: date/single, target: CREATED_AT}
      - {slug: period, type: date/range, target: CREATED_AT}
      - {slug: month, type: date/month-year, target: CREATED_AT}
      - {slug: quarter, type: date/quarter-year, target: CREATED_AT}
      - {slug: order_id, type: id, target: ID}
      - {slug: birth, type: date/range, target: PEOPLE.BIRTH_DATE}
      - {slug: source, type: category, target: PEOPLE.SOURCE, values: [Google, Organic]}
"""
LAB_QUESTIONS = f"""
  - name: Gross Sales Shared
    description: A Finance metric, in a collection everyone reads.
    collection: Curated
    query: {{metric: Gross Sales}}
  - name: Monthly Revenue
    description: Total Revenue per month, through the metric, for some states.
    collection: Curated
    query:
      metric: Total Revenue
      group_by: [{{column: CREATED_AT, field_granularity: month}}]
      filters: [{{column: QUANTITY, operation: greater-than, value: 1}}]
    parameters:
      - {{slug: state, type: category, target: PEOPLE.STATE}}
  - name: Parameter Lab
    description: Orders counted, with one optional parameter of every type.
    collection: Curated
    query:
      table: ORDERS
      aggregations: [{{function: count}}]
{LAB_PARAMETERS}
  - name: Parameter Lab Rows
    description: Order ids, with the same parameters.
    collection: Curated
    query:
      table: ORDERS
      fields: [ID]
{LAB_PARAMETERS}
"""

FROM_ORDERS = (
    'FROM "ORDERS" o LEFT JOIN "PEOPLE" p ON p."ID" = o."USER_ID" '
    'LEFT JOIN "PRODUCTS" pr ON pr."ID" = o."PRODUCT_ID"'
)


def add_lab_questions(model_text: str) -> str:
    marker = "\ngroups:\n"
    return model_text.replace(marker, LAB_QUESTIONS + marker, 1)


@pytest.fixture(scope="session")
def cards_demo(demo_template: DemoFiles, tmp_path_factory: pytest.TempPathFactory) -> DemoFiles:
    target = tmp_path_factory.mktemp("cards") / "demo"
    shutil.copytree(demo_template.data_dir, target)
    files = prepare_demo(target)
    files.model.write_text(add_lab_questions(files.model.read_text()))
    return files


@pytest.fixture(scope="session")
def cards_service(cards_demo: DemoFiles) -> Iterator[Sextant]:
    """A synced demo with the lab questions, for read-only tests (change nothing)."""
    service = Sextant(
        make_settings(cards_demo.data_dir, config=cards_demo.model, auth_max_failures=0)
    )
    service.sync()
    yield service
    service.close()


@pytest.fixture(scope="session")
def agent_key(cards_service: Sextant) -> str:
    return agent_api_key(cards_service.credentials, cards_service.settings.data_dir)


class Classic:
    """The classic API of one service, in process, as a demo user or with an API key."""

    def __init__(self, service: Sextant) -> None:
        self.service = service
        self.app = create_app(service.settings, service)

    def request(
        self,
        method: str,
        path: str,
        email: str | None = None,
        *,
        key: str | None = None,
        **kwargs: Any,
    ) -> httpx.Response:
        headers = dict(kwargs.pop("headers", {}))
        if email is not None:
            headers["Authorization"] = f"Bearer {make_jwt(TEST_SECRET, email)}"
        if key is not None:
            headers["X-API-Key"] = key

        async def go() -> httpx.Response:
            transport = httpx.ASGITransport(app=self.app)
            async with httpx.AsyncClient(transport=transport, base_url="http://sextant") as c:
                return await c.request(method, "/api" + path, headers=headers, **kwargs)

        return anyio.run(go)

    def card_id(self, name: str) -> int:
        snapshot = self.service.snapshot()
        found = [q.id for q in snapshot.questions.values() if q.name == name]
        found += [m.id for m in snapshot.metrics.values() if m.name == name]
        (card,) = found
        return card

    def collection_id(self, name: str) -> int:
        return next(c.id for c in self.service.snapshot().collections.values() if c.name == name)

    def run(
        self, email: str, name: str, parameters: list[dict[str, Any]] | None = None
    ) -> httpx.Response:
        body = {"parameters": parameters or []}
        return self.request("POST", f"/card/{self.card_id(name)}/query", email, json=body)

    def rows(self, email: str, name: str, **values: Any) -> list[list[Any]]:
        """The rows of a completed run with parameters given by slug."""
        response = self.run(email, name, [{"slug": k, "value": v} for k, v in values.items()])
        assert response.status_code == 202, response.text
        body = response.json()
        assert body["status"] == "completed", body
        return list(body["data"]["rows"])


@pytest.fixture(scope="session")
def classic(cards_service: Sextant) -> Classic:
    return Classic(cards_service)


@pytest.fixture(scope="session")
def hand(cards_service: Sextant) -> Any:
    path = cards_service.settings.data_dir / "warehouse.duckdb"

    def run(sql: str, params: list[Any] | None = None) -> list[tuple[Any, ...]]:
        with duckdb.connect(str(path), read_only=True) as con:
            return [tuple(r) for r in con.execute(sql, params or []).fetchall()]

    return run
