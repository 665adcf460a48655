"""The MCP `query` tool against the same query through REST construct + execute.

    .venv/bin/python benchmarks/mcp_tools.py [--scale 10] [--repeat 50]

p50 and p95 over loopback HTTP of: the MCP `query` tool (one streamable-HTTP request through
the official SDK's client, in one open session), `POST /v1/construct-query` + `POST
/v1/execute` (two requests, httpx), and `POST /api/card/:id/query` through the MCP `run_card`
tool. The rows are checked equal first. Ratio = MCP / REST.
"""

from __future__ import annotations

import argparse
import statistics
import time
from collections.abc import Awaitable, Callable
from typing import Any

import anyio
import httpx
import httpx2
from common import SECRET, served_demo
from mcp.client.session import ClientSession
from mcp.client.streamable_http import streamable_http_client

from sextant.auth.tokens import make_jwt

EMAIL = "analyst@example.com"


async def timed(call: Callable[[], Awaitable[Any]], n: int) -> tuple[float, float]:
    await call()
    samples = []
    for _ in range(n):
        started = time.perf_counter()
        await call()
        samples.append((time.perf_counter() - started) * 1000)
    samples.sort()
    return statistics.median(samples), samples[max(0, int(n * 0.95) - 1)]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--scale", type=int, default=10)
    parser.add_argument("--repeat", type=int, default=50)
    args = parser.parse_args()
    with served_demo(args.scale, 8768) as (service, _, base_url):
        snapshot = service.snapshot()
        orders = next(t.id for t in snapshot.tables.values() if t.name == "ORDERS")
        card = next(q.id for q in snapshot.questions.values() if q.name == "Revenue by State")
        headers = {"Authorization": f"Bearer {make_jwt(SECRET, EMAIL)}"}
        detail = httpx.get(f"{base_url}/api/agent/v1/table/{orders}", headers=headers).json()
        total = next(f["field_id"] for f in detail["fields"] if f["name"] == "TOTAL")
        created = next(f["field_id"] for f in detail["fields"] if f["name"] == "CREATED_AT")
        shapes = {
            "count": {"table_id": orders, "aggregations": [{"function": "count"}]},
            "revenue by month": {
                "table_id": orders,
                "aggregations": [{"field_id": total, "function": "sum"}],
                "group_by": [{"field_id": created, "field_granularity": "month"}],
            },
        }

        async def run() -> None:
            async with (
                httpx.AsyncClient(base_url=base_url, timeout=60) as rest,
                httpx2.AsyncClient(timeout=60, headers=headers) as http,
                streamable_http_client(base_url + "/mcp", http_client=http) as (read, write),
                ClientSession(read, write) as session,
            ):
                await session.initialize()

                def fresh() -> dict[str, str]:
                    return {"Authorization": f"Bearer {make_jwt(SECRET, EMAIL)}"}

                print(f"demo at --scale {args.scale}, {args.repeat} runs each, ms")
                print(f"{'query':<18} {'MCP p50/p95':>16} {'REST c+e p50/p95':>18} {'ratio':>6}")
                for name, body in shapes.items():

                    async def mcp(body: dict[str, Any] = body) -> Any:
                        result = await session.call_tool("query", body)
                        return result.structured_content

                    async def construct_execute(body: dict[str, Any] = body) -> Any:
                        built = await rest.post(
                            "/api/agent/v1/construct-query", json=body, headers=fresh()
                        )
                        done = await rest.post(
                            "/api/agent/v1/execute",
                            json={"query": built.json()["query"]},
                            headers=fresh(),
                        )
                        return done.json()

                    assert (await mcp())["rows"] == (await construct_execute())["data"]["rows"]
                    m = await timed(mcp, args.repeat)
                    r = await timed(construct_execute, args.repeat)
                    print(
                        f"{name:<18} {m[0]:>7.2f} / {m[1]:>6.2f} {r[0]:>9.2f} / {r[1]:>6.2f} "
                        f"{m[0] / r[0]:>6.2f}"
                    )

                async def card_tool() -> Any:
                    return await session.call_tool("run_card", {"card_id": card})

                async def card_rest() -> Any:
                    return (
                        await rest.post(f"/api/card/{card}/query", json={}, headers=fresh())
                    ).json()

                m = await timed(card_tool, args.repeat)
                r = await timed(card_rest, args.repeat)
                print(
                    f"{'card run':<18} {m[0]:>7.2f} / {m[1]:>6.2f} {r[0]:>9.2f} / {r[1]:>6.2f} "
                    f"{m[0] / r[0]:>6.2f}   (REST: POST /api/card/:id/query)"
                )

        anyio.run(run)


if __name__ == "__main__":
    main()
