"""Seed 000's Python client (the ``Metabase`` class, ``list_curated_cards``, ``run_card``)
against a real demo server over HTTP, with only the URL and the API key set.

The seed is a web page whose code lost its indentation; the code below is that code with
its indentation restored, and the first test proves it is the seed's, line for line.
"""

from __future__ import annotations

import io
import re
from contextlib import redirect_stdout
from pathlib import Path
from typing import Any

import duckdb
import pytest

from sextant.demo.setup import agent_api_key
from sextant.service import Sextant

SEED = Path(__file__).resolve().parents[3] / "shared" / "seeds" / "000_2b40199bd2ac4c21.txt"

CLIENT = """
import os, httpx
class Metabase:
    def __init__(self, base_url: str, api_key: str):
        self.base_url = base_url.rstrip("/")
        self.headers = {"x-api-key": api_key}
    def get(self, path: str, **params):
        r = httpx.get(f"{self.base_url}{path}", headers=self.headers, params=params, timeout=30)
        r.raise_for_status()
        return r.json()
mb = Metabase(os.environ["METABASE_URL"], os.environ["METABASE_API_KEY"])
print(mb.get("/api/database"))
"""

LIST_CURATED_CARDS = """
def list_curated_cards(collection_id: int):
    cards = mb.get(f"/api/collection/{collection_id}/items", models="card")
    out = []
    for c in cards["data"]:
        card = mb.get(f"/api/card/{c['id']}")
        out.append({
            "id": card["id"],
            "name": card["name"],
            "description": card.get("description") or "",
            "collection": card.get("collection", {}).get("name", ""),
            "result_columns": [
                {"name": col["name"], "type": col.get("base_type")}
                for col in (card.get("result_metadata") or [])
            ],
        })
    return out
"""

RUN_CARD = """
def run_card(card_id: int, parameters: list | None = None):
    body = {"parameters": parameters or []}
    r = httpx.post(
        f"{mb.base_url}/api/card/{card_id}/query",
        headers={**mb.headers, "Content-Type": "application/json"},
        json=body,
        timeout=60,
    )
    r.raise_for_status()
    payload = r.json()
    cols = [c["name"] for c in payload["data"]["cols"]]
    rows = payload["data"]["rows"]
    return [dict(zip(cols, row)) for row in rows]
"""

# where each snippet starts and what follows it in the seed's text
SNIPPETS = [
    (CLIENT, "import os, httpx", "In TypeScript"),
    (LIST_CURATED_CARDS, "def list_curated_cards", 'The "curated" part matters.'),
    (RUN_CARD, "def run_card", "Two things to watch:"),
]


def _flat(code: str) -> list[str]:
    return [line.strip() for line in code.strip().splitlines() if line.strip()]


@pytest.fixture
def seed_text() -> str:
    if not SEED.exists():
        pytest.fail(f"the seed is missing at {SEED} (../shared must sit beside the repo)")
    return SEED.read_text(encoding="utf-8")


def test_the_code_is_the_seeds_own(seed_text: str) -> None:
    for code, start, end in SNIPPETS:
        begin = seed_text.index(start)
        original = seed_text[begin : seed_text.index(end, begin)]
        assert _flat(code) == _flat(original)


def _hand(service: Sextant, sql: str, params: list[Any]) -> list[tuple[Any, ...]]:
    path = service.settings.data_dir / "warehouse.duckdb"
    with duckdb.connect(str(path), read_only=True) as con:
        return [tuple(r) for r in con.execute(sql, params).fetchall()]


def test_seed_client_lists_and_runs_curated_cards(
    demo_service: Sextant, live_server: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    key = agent_api_key(demo_service.credentials, demo_service.settings.data_dir)
    monkeypatch.setenv("METABASE_URL", live_server + "/")
    monkeypatch.setenv("METABASE_API_KEY", key)
    namespace: dict[str, Any] = {}
    printed = io.StringIO()
    with redirect_stdout(printed):
        for code, _, _ in SNIPPETS:
            exec(compile(code, "seed-000", "exec"), namespace)
    assert "'name': 'Sample Shop'" in printed.getvalue()

    curated = next(
        c.id for c in demo_service.snapshot().collections.values() if c.name == "Curated"
    )
    cards = namespace["list_curated_cards"](curated)
    assert sorted(c["name"] for c in cards) == [
        "Orders by Category",
        "Orders in Period",
        "Recent Large Orders",
        "Revenue by Month",
        "Revenue by State",
        "Top Products",
    ]
    by_name = {c["name"]: c for c in cards}
    assert all(c["collection"] == "Curated" and c["description"] for c in cards)
    assert by_name["Revenue by State"]["result_columns"] == [
        {"name": "STATE", "type": "type/Text"},
        {"name": "sum", "type": "type/Float"},
    ]
    assert by_name["Orders in Period"]["result_columns"] == [
        {"name": "count", "type": "type/BigInteger"}
    ]

    run_card = namespace["run_card"]
    categories = run_card(by_name["Orders by Category"]["id"])
    expected = _hand(
        demo_service,
        'SELECT pr."CATEGORY", count(*) AS n FROM "ORDERS" o '
        'JOIN "PRODUCTS" pr ON pr."ID" = o."PRODUCT_ID" GROUP BY 1 ORDER BY n DESC',
        [],
    )
    assert categories == [{"CATEGORY": c, "count": n} for c, n in expected]

    states = run_card(
        by_name["Revenue by State"]["id"],
        [
            {
                "type": "category",
                "target": ["dimension", ["template-tag", "state"]],
                "value": ["CA", "TX"],
            }
        ],
    )
    expected = _hand(
        demo_service,
        'SELECT p."STATE", sum(o."TOTAL") FROM "ORDERS" o '
        'JOIN "PEOPLE" p ON p."ID" = o."USER_ID" WHERE p."STATE" IN (?, ?) GROUP BY 1 ORDER BY 1',
        ["CA", "TX"],
    )
    assert [r["STATE"] for r in states] == [e[0] for e in expected]
    assert [r["sum"] for r in states] == pytest.approx([e[1] for e in expected])

    # the key is read-only: the seed's client cannot write, whatever it tries
    import httpx

    response = httpx.post(
        f"{live_server}/api/card", headers={"x-api-key": key}, json={"name": "x"}, timeout=10
    )
    assert response.status_code == 405
    assert re.search(r"read-only", response.json()["message"])
