"""Running a saved card against the same query through construct + execute.

    .venv/bin/python benchmarks/cards.py [--scale 10] [--repeat 50]

For each demo card: p50 and p95 of `POST /api/card/:id/query` (one request, with the card's
parameters) over loopback HTTP, against the same query built by `POST /v1/construct-query` and
run by `POST /v1/execute` (two requests, the way an agent without cards asks), and against
`POST /v1/execute` alone with a ready token. Both paths return the same rows (checked first).
Ratio = card / (construct + execute): the card path must not be slower (ratio <= 1).
"""

from __future__ import annotations

import argparse
from typing import Any

import httpx
from common import SECRET, percentiles, served_demo

from sextant.auth.tokens import make_jwt

EMAIL = "analyst@example.com"


def _field(detail: dict[str, Any], name: str, via: str | None = None) -> str:
    if via is None:
        fields = detail["fields"]
    else:
        fields = next(t["fields"] for t in detail["related_tables"] if t["related_by"] == via)
    return str(next(f["field_id"] for f in fields if f["name"] == name))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--scale", type=int, default=10)
    parser.add_argument("--repeat", type=int, default=50)
    args = parser.parse_args()
    with (
        served_demo(args.scale, 8767) as (service, _, base_url),
        httpx.Client(base_url=base_url, timeout=60) as http,
    ):

        def headers() -> dict[str, str]:
            return {"Authorization": f"Bearer {make_jwt(SECRET, EMAIL)}"}

        snapshot = service.snapshot()
        orders = next(t.id for t in snapshot.tables.values() if t.name == "ORDERS")
        cards = {q.name: q.id for q in snapshot.questions.values()}
        detail = http.get(f"/api/agent/v1/table/{orders}", headers=headers()).json()
        f = lambda name, via=None: _field(detail, name, via)  # noqa: E731
        # each card, and the same question as a construct-query body
        shapes: dict[str, tuple[list[dict[str, Any]], dict[str, Any]]] = {
            "Revenue by Month": (
                [],
                {
                    "table_id": orders,
                    "aggregations": [{"field_id": f("TOTAL"), "function": "sum"}],
                    "group_by": [{"field_id": f("CREATED_AT"), "field_granularity": "month"}],
                },
            ),
            "Revenue by State": (
                [{"slug": "state", "value": ["CA", "NY", "TX"]}],
                {
                    "table_id": orders,
                    "filters": [
                        {
                            "field_id": f("STATE", "USER_ID"),
                            "operation": "equals",
                            "values": ["CA", "NY", "TX"],
                        }
                    ],
                    "aggregations": [{"field_id": f("TOTAL"), "function": "sum"}],
                    "group_by": [{"field_id": f("STATE", "USER_ID")}],
                },
            ),
            "Top Products": (
                [{"slug": "category", "value": "Gizmo"}],
                {
                    "table_id": orders,
                    "filters": [
                        {
                            "field_id": f("CATEGORY", "PRODUCT_ID"),
                            "operation": "equals",
                            "value": "Gizmo",
                        }
                    ],
                    "aggregations": [
                        {"field_id": f("TOTAL"), "function": "sum", "sort_order": "desc"}
                    ],
                    "group_by": [{"field_id": f("TITLE", "PRODUCT_ID")}],
                    "limit": 10,
                },
            ),
            "Orders in Period": (
                [{"slug": "period", "value": "2024-01-01~2024-06-30"}],
                {
                    "table_id": orders,
                    "filters": [
                        {
                            "field_id": f("CREATED_AT"),
                            "operation": "greater-than-or-equal",
                            "value": "2024-01-01",
                        },
                        {
                            "field_id": f("CREATED_AT"),
                            "operation": "less-than-or-equal",
                            "value": "2024-06-30",
                        },
                    ],
                    "aggregations": [{"function": "count"}],
                },
            ),
        }
        print(f"demo at --scale {args.scale}, {args.repeat} runs each, p50 / p95 in ms")
        header = (
            f"{'card':<20} {'card run':>16} {'construct+execute':>19} {'execute':>10} {'ratio':>6}"
        )
        print(header)
        for name, (parameters, body) in shapes.items():
            _measure(http, headers, name, cards[name], parameters, body, args.repeat)


def _measure(
    http: httpx.Client,
    headers: Any,
    name: str,
    card_id: int,
    parameters: list[dict[str, Any]],
    body: dict[str, Any],
    repeat: int,
) -> None:
    def card() -> Any:
        path = f"/api/card/{card_id}/query"
        return http.post(path, json={"parameters": parameters}, headers=headers()).json()

    def construct() -> str:
        built = http.post("/api/agent/v1/construct-query", json=body, headers=headers())
        return str(built.json()["query"])

    def execute(token: str) -> Any:
        return http.post("/api/agent/v1/execute", json={"query": token}, headers=headers()).json()

    token = construct()
    assert card()["data"]["rows"] == execute(construct())["data"]["rows"], name
    card_p = percentiles(card, repeat)
    both_p = percentiles(lambda: execute(construct()), repeat)
    exec_p = percentiles(lambda: execute(token), repeat)
    print(
        f"{name:<20} {card_p[0]:>7.2f} / {card_p[1]:>6.2f} "
        f"{both_p[0]:>9.2f} / {both_p[1]:>6.2f} {exec_p[0]:>10.2f} "
        f"{card_p[0] / both_p[0]:>6.2f}"
    )


if __name__ == "__main__":
    main()
