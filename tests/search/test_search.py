"""Search over the demo: recall on natural questions, permissions, fusion, the index's life."""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from sqlalchemy import func, select

from sextant.search.embedding import MiniLM
from sextant.search.fusion import rrf
from sextant.service import Sextant
from sextant.store import schema as s
from tests.agent_client import AgentClient
from tests.search.questions import QUESTIONS

ADMIN, ANALYST, FINANCE = "admin@example.com", "analyst@example.com", "finance@example.com"
CA, NOSTATE, OUTSIDER = "ca-manager@example.com", "nostate@example.com", "outsider@example.com"

# Measured on this model (see the closing note of the search issue); the floors sit a little
# below so that a regression fails and noise does not. With the four metrics of the
# metric-kinds issue and eight questions about them: keyword 0.788/0.904, semantic
# 0.788/0.904, fused 0.827/0.942 (recall@1/@3).
FLOORS = {
    "keyword": (0.70, 0.86),
    "semantic": (0.72, 0.86),
    "fused": (0.77, 0.93),
}


@pytest.fixture(scope="module")
def api(shared_service: Sextant) -> AgentClient:
    return AgentClient(shared_service)


def search(
    api: AgentClient, email: str, terms: list[str], semantic: list[str], limit: int | None = None
) -> dict[str, Any]:
    path = "/search" + (f"?limit={limit}" if limit is not None else "")
    response = api.request(
        "POST", path, email, json={"term_queries": terms, "semantic_queries": semantic}
    )
    assert response.status_code == 200, response.text
    return dict(response.json())


def recall(api: AgentClient, mode: str) -> tuple[float, float]:
    top1 = top3 = 0
    for question, kind, name in QUESTIONS:
        terms = [question] if mode in ("keyword", "fused") else []
        semantic = [question] if mode in ("semantic", "fused") else []
        found = [(d["type"], d["name"]) for d in search(api, ADMIN, terms, semantic, 10)["data"]]
        top1 += found[:1] == [(kind, name)]
        top3 += (kind, name) in found[:3]
    return top1 / len(QUESTIONS), top3 / len(QUESTIONS)


def test_the_evaluation_set_is_large_enough() -> None:
    assert len(QUESTIONS) >= 40


@pytest.mark.parametrize("mode", sorted(FLOORS))
def test_recall_stays_above_floors(api: AgentClient, mode: str) -> None:
    at1, at3 = recall(api, mode)
    print(f"{mode}: recall@1 {at1:.3f} recall@3 {at3:.3f}")
    assert at1 >= FLOORS[mode][0] and at3 >= FLOORS[mode][1], (mode, at1, at3)


def names(result: dict[str, Any]) -> set[str]:
    return {d["name"] for d in result["data"]}


def test_permissions_per_user(api: AgentClient) -> None:
    query = (
        ["revenue", "sales", "orders", "customers", "products", "reviews"],
        ["how much money did we make", "gross sales"],
    )
    everything = {
        "ORDERS",
        "PEOPLE",
        "PRODUCTS",
        "REVIEWS",
        "Total Revenue",
        "Order Count",
        "Average Order Value",
        "Gross Sales",
        "Bulk Revenue",
        "Revenue per Buyer",
        "Tax Rate",
        "Cumulative Revenue",
        "Revenue Growth",
    }
    assert names(search(api, ADMIN, *query)) == everything
    assert names(search(api, FINANCE, *query)) == everything - {"Bulk Revenue"}
    assert names(search(api, ANALYST, *query)) == everything - {"Bulk Revenue", "Gross Sales"}
    for sandboxed in (CA, NOSTATE):  # sandboxed tables are still tables they may query
        assert names(search(api, sandboxed, *query)) == everything - {"Bulk Revenue", "Gross Sales"}
    assert search(api, OUTSIDER, *query) == {"data": [], "total_count": 0}


def test_hidden_entities_do_not_change_scores_or_counts(api: AgentClient) -> None:
    """Gross Sales is invisible to the analyst: the analyst's ranking equals the finance
    user's ranking with Gross Sales removed only if hidden documents leave no trace."""
    finance = [d["name"] for d in search(api, FINANCE, ["sales order total"], [])["data"]]
    analyst = [d["name"] for d in search(api, ANALYST, ["sales order total"], [])["data"]]
    assert "Gross Sales" in finance and "Gross Sales" not in analyst
    assert set(analyst) < set(finance)
    result = search(api, ANALYST, ["gross"], [])
    assert result["total_count"] == len(result["data"])


def test_a_hidden_metric_leaves_no_trace_in_rankings(demo_service: Sextant) -> None:
    """The analyst cannot see Gross Sales: the analyst's results are the same whether the
    metric exists or not (scores, order and counts)."""
    api = AgentClient(demo_service)
    queries = [
        (["sales"], []),
        (["gross sales order total subtotal"], ["sales before tax"]),
        (["revenue", "orders"], ["how much money did we make"]),
    ]
    before = [search(api, ANALYST, t, q) for t, q in queries]
    model = demo_service.settings.config
    assert model is not None
    text = model.read_text()
    start = text.index("  - name: Gross Sales")
    end = text.index("  - name: Bulk Revenue")
    model.write_text(text[:start] + text[end:])
    demo_service.apply()
    after = [search(api, ANALYST, t, q) for t, q in queries]
    assert after == before


def test_item_shapes(api: AgentClient) -> None:
    data = search(api, ADMIN, ["Total Revenue", "ORDERS"], [])["data"]
    table = next(d for d in data if d["type"] == "table")
    metric = next(d for d in data if d["name"] == "Total Revenue")
    assert set(table) == {
        "id",
        "type",
        "name",
        "display_name",
        "description",
        "database_id",
        "database_schema",
        "verified",
        "created_at",
        "updated_at",
    }
    assert table["verified"] is False and table["created_at"].endswith("Z")
    assert set(metric) == {
        "id",
        "type",
        "name",
        "description",
        "database_id",
        "verified",
        "collection",
        "created_at",
        "updated_at",
    }
    curated = api.service.snapshot()
    curated_id = next(c.id for c in curated.collections.values() if c.name == "Curated")
    assert metric["collection"] == {
        "id": curated_id,
        "name": "Curated",
        "authority_level": "official",  # the demo marks Curated official
    }
    assert metric["verified"] is True


def test_empty_requests_limit_and_determinism(api: AgentClient) -> None:
    assert search(api, ADMIN, [], []) == {"data": [], "total_count": 0}
    assert search(api, ADMIN, ["zzzz qqqq"], [])["data"] == []
    two = search(api, ADMIN, ["order"], ["orders"], limit=2)
    assert two["total_count"] == len(two["data"]) == 2
    again = [search(api, ADMIN, ["order", "revenue"], ["money"])["data"] for _ in range(3)]
    assert again[0] == again[1] == again[2]
    for bad in (
        {"term_queries": "x"},
        {"term_queries": [1]},
        {"other": []},
        {"term_queries": ["x" * 501]},
        {"semantic_queries": ["q"] * 21},
    ):
        response = api.request("POST", "/search", ADMIN, json=bad)
        assert response.status_code == 400, bad
    for query in ("limit=0", "limit=201", "limit=x"):
        assert api.request("POST", f"/search?{query}", ADMIN, json={}).status_code == 400


def test_rrf_scores_and_ties() -> None:
    tie = {"a": ("B", 2), "b": ("A", 9), "c": ("A", 1)}
    assert rrf([["a", "b"], ["b", "a"]], tie.__getitem__) == ["b", "a"]  # equal scores: by name
    assert rrf([["a"], ["c"]], tie.__getitem__) == ["c", "a"]
    assert rrf([["a", "b", "c"], ["c"]], tie.__getitem__)[0] == "c"  # 1/61 + 1/63 > 1/61


def test_typos_plurals_case_and_underscores(api: AgentClient) -> None:
    for query, expected in (
        ("custmers", "PEOPLE"),
        ("Reviews", "REVIEWS"),
        ("review", "REVIEWS"),
        ("AVERAGE_ORDER_VALUE", "Average Order Value"),
        ("order counts", "Order Count"),
    ):
        assert search(api, ADMIN, [query], [])["data"][0]["name"] == expected, query


def test_index_follows_apply_and_vectors_are_reused(demo_service: Sextant) -> None:
    api = AgentClient(demo_service)
    assert "Refund Rate" not in names(search(api, ADMIN, ["refund"], ["refunds"]))
    first = demo_service.search_index()
    first.vectors()
    with demo_service.engine.connect() as conn:
        stored = conn.execute(select(func.count()).select_from(s.search_vectors)).scalar()
    assert stored == 13
    model = demo_service.settings.config
    assert model is not None
    text = model.read_text().replace(
        "\nmeasures:\n",
        textwrap.dedent("""
      - name: Refund Rate
        description: Share of orders that were refunded.
        collection: Curated
        table: ORDERS
        aggregation: {function: avg, column: DISCOUNT}
    """)
        .replace("\n", "\n  ")
        .rstrip(" ")
        + "\nmeasures:\n",
        1,
    )
    model.write_text(text)
    demo_service.apply()
    assert names(search(api, ADMIN, ["refund"], [])) == {"Refund Rate"}
    index = demo_service.search_index()
    index.vectors()
    assert index.embedded == 1  # only the new metric was embedded
    assert "Refund Rate" in names(search(api, ADMIN, [], ["share of refunded orders"]))


def test_search_works_with_no_network(shared_service: Sextant) -> None:
    """A fresh process with the Hugging Face offline switches set and every socket
    connection refused loads the model and answers a semantic search."""
    script = textwrap.dedent("""
        import socket, sys
        def refuse(*args, **kwargs):
            raise OSError("network disabled for this test")
        socket.socket.connect = refuse
        socket.create_connection = refuse
        from sextant.search.embedding import MiniLM
        model = MiniLM()
        vectors = model.embed(["how much money did we make", "Total Revenue", "a cat"])
        sims = vectors @ vectors[0]
        assert sims[1] > sims[2], sims
        print("offline ok", vectors.shape)
    """)
    env = {
        **os.environ,
        "HF_HUB_OFFLINE": "1",
        "TRANSFORMERS_OFFLINE": "1",
        "HF_DATASETS_OFFLINE": "1",
    }
    done = subprocess.run(
        [sys.executable, "-c", script], env=env, capture_output=True, text=True, timeout=120
    )
    assert done.returncode == 0, done.stderr
    assert "offline ok (3, 384)" in done.stdout


def _resident_kb(path_part: str) -> int:
    """Resident kB of this process's mappings of files whose path contains ``path_part``."""
    total, current = 0, ""
    for line in Path("/proc/self/smaps").read_text().splitlines():
        head = line.split()
        if head and not head[0].endswith(":"):  # a mapping's header line
            current = head[5] if len(head) > 5 else ""
        elif head[:1] == ["Rss:"] and path_part in current:
            total += int(head[1])
    return total


def test_model_weights_are_not_held_resident_between_calls() -> None:
    """An idle server does not keep the model's pages: each call reads them back from the
    page cache, with the same answer."""
    model = MiniLM()
    texts = [f"revenue of order {i} by month" for i in range(100)]
    first = model.embed(texts)
    assert _resident_kb("model.safetensors") < 2048, "the weights stayed resident"
    np.testing.assert_array_equal(model.embed(texts), first)
    assert _resident_kb("model.safetensors") < 2048
