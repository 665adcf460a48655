"""Per-user rate limits through the app (spec §10): one user flooding gets 429 ``rate_limited``
with Retry-After, another never does; executions count across execute, /v1/query and card
runs; the limits are shared by servers through Redis and release as the bucket refills."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from typing import Any

import httpx
import pytest
import redis

from sextant.auth.tokens import make_jwt
from sextant.demo.setup import DemoFiles
from sextant.http import create_app
from sextant.service import Sextant
from sextant.settings import Settings
from tests.conftest import TEST_SECRET, app_db_url, make_settings
from tests.servers import serve

ANALYST, FINANCE = "analyst@example.com", "finance@example.com"
PING = "/api/agent/v1/ping"


def headers(email: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {make_jwt(TEST_SECRET, email)}"}


def forget_buckets(url: str) -> None:
    client = redis.Redis.from_url(url)
    try:
        keys = list(client.scan_iter("sextant:rate:*"))
        if keys:
            client.delete(*keys)
    finally:
        client.close()


@pytest.fixture
def limited(
    demo: DemoFiles, services: Callable[[Settings], Sextant]
) -> Iterator[Callable[..., Any]]:
    """A server over the demo with the given per-user limits (a context)."""

    def make(**limits: Any) -> Any:
        service = services(make_settings(demo.data_dir, config=demo.model, **limits))
        service.apply()
        return serve(create_app(service.settings, service))

    yield make


def test_one_user_flooding_is_refused_and_the_other_is_not(limited: Any) -> None:
    with limited(user_requests_per_minute=10) as base:
        codes = [httpx.get(base + PING, headers=headers(ANALYST)).status_code for _ in range(10)]
        assert codes == [200] * 10
        refused = httpx.get(base + PING, headers=headers(ANALYST))
        assert refused.status_code == 429
        assert refused.json()["error"] == "rate_limited"
        assert "at most 10 a minute" in refused.json()["message"]
        # one request every 6 s, less what the ten requests took (exact values: tests/unit)
        assert 1 <= int(refused.headers["retry-after"]) <= 6
        for _ in range(10):
            assert httpx.get(base + PING, headers=headers(FINANCE)).status_code == 200
        # every authenticated path counts, and a refused request stays refused
        table = httpx.get(base + "/api/agent/v1/table/1", headers=headers(ANALYST))
        assert table.status_code == 429


def test_executions_count_across_execute_query_and_card_runs(limited: Any) -> None:
    with limited(user_queries_per_minute=3) as base:
        body = {"table_id": 1, "aggregations": [{"function": "count"}]}
        built = httpx.post(
            f"{base}/api/agent/v1/construct-query", json=body, headers=headers(ANALYST)
        )
        token = built.json()["query"]
        first = httpx.post(
            f"{base}/api/agent/v1/execute", json={"query": token}, headers=headers(ANALYST)
        )
        page = httpx.post(f"{base}/api/agent/v1/query", json=body, headers=headers(ANALYST))
        card = httpx.get(f"{base}/api/card", headers=headers(ANALYST)).json()[0]["id"]
        run = httpx.post(f"{base}/api/card/{card}/query", json={}, headers=headers(ANALYST))
        assert [first.status_code, page.status_code, run.status_code] == [202, 202, 202]
        for path, payload in (
            ("/api/agent/v1/execute", {"query": token}),
            ("/api/agent/v1/query", body),
            (f"/api/card/{card}/query", {}),
        ):
            refused = httpx.post(base + path, json=payload, headers=headers(ANALYST))
            assert refused.status_code == 429, path
            assert refused.json()["error"] == "rate_limited"
            assert 1 <= int(refused.headers["retry-after"]) <= 20  # one execution every 20 s
        # browsing and constructing are requests, not executions
        again = httpx.post(
            f"{base}/api/agent/v1/construct-query", json=body, headers=headers(ANALYST)
        )
        assert again.status_code == 200
        # a query refused for what it is does not count
        other = httpx.post(
            f"{base}/api/agent/v1/query", json={"table_id": 999}, headers=headers(FINANCE)
        )
        assert other.status_code == 404
        for _ in range(3):
            ok = httpx.post(f"{base}/api/agent/v1/query", json=body, headers=headers(FINANCE))
            assert ok.status_code == 202


def test_the_limit_releases_as_the_bucket_refills(limited: Any) -> None:
    with limited(user_requests_per_minute=30) as base:  # one every 2 s
        started = time.monotonic()
        allowed = 0
        while (answer := httpx.get(base + PING, headers=headers(ANALYST))).status_code == 200:
            allowed += 1
            assert allowed < 60, "never refused"
        refilled = (time.monotonic() - started) / 2
        assert 30 <= allowed <= 30 + refilled + 1
        assert answer.status_code == 429 and 1 <= int(answer.headers["retry-after"]) <= 2
        time.sleep(int(answer.headers["retry-after"]) + 0.1)
        assert httpx.get(base + PING, headers=headers(ANALYST)).status_code == 200


def test_two_servers_share_the_buckets_through_redis(
    demo: DemoFiles, redis_url: str, services: Callable[[Settings], Sextant]
) -> None:
    forget_buckets(redis_url)
    settings = make_settings(
        demo.data_dir, config=demo.model, redis_url=redis_url, user_requests_per_minute=20
    )
    first, second = services(settings), services(settings)
    first.apply()
    second.load()
    with serve(create_app(settings, first)) as a, serve(create_app(settings, second)) as b:
        codes = [httpx.get(url + PING, headers=headers(ANALYST)).status_code for url in (a, b) * 10]
        assert codes == [200] * 20
        waits = []
        for url in (a, b):
            refused = httpx.get(url + PING, headers=headers(ANALYST))
            assert refused.status_code == 429 and refused.json()["error"] == "rate_limited"
            # a token comes back every 3 s (20 a minute); part of that may already have passed
            # while the 20 requests ran on a busy machine
            waits.append(int(refused.headers["retry-after"]))
            assert 1 <= waits[-1] <= 3, waits
            assert httpx.get(url + PING, headers=headers(FINANCE)).status_code == 200
        time.sleep(max(waits) + 0.1)
        assert httpx.get(a + PING, headers=headers(ANALYST)).status_code == 200
    forget_buckets(redis_url)


def test_two_workers_share_the_buckets_through_redis(demo: DemoFiles, redis_url: str) -> None:
    """``sextant serve --workers 2`` as real processes: one flooding user is held to the
    limit across both workers (without Redis each worker would allow the limit on its own);
    the other user is never refused."""
    forget_buckets(redis_url)
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    env = {k: v for k, v in os.environ.items() if not k.startswith("SEXTANT_")}
    env |= {
        "SEXTANT_JWT_SECRET": TEST_SECRET,
        "SEXTANT_REDIS_URL": redis_url,
        "SEXTANT_USER_REQUESTS_PER_MINUTE": "30",
    }
    url = app_db_url(demo.data_dir)
    if url is not None:
        env["SEXTANT_APP_DB_URL"] = url
    command = [
        sys.executable,
        "-m",
        "sextant",
        "serve",
        "--config",
        str(demo.model),
        "--data-dir",
        str(demo.data_dir),
        "--port",
        str(port),
        "--workers",
        "2",
    ]
    process = subprocess.Popen(
        command, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True
    )
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline and process.poll() is None:
            try:
                httpx.get(base + "/docs", timeout=2)
                break
            except httpx.TransportError:
                time.sleep(0.2)
        flood, other = [], []
        for _ in range(45):  # fresh connections: the kernel spreads them over both workers
            flood.append(httpx.get(base + PING, headers=headers(ANALYST)).status_code)
            if len(other) < 20:
                other.append(httpx.get(base + PING, headers=headers(FINANCE)).status_code)
        assert set(other) == {200}
        assert flood.count(200) <= 31 and flood.count(429) >= 14, flood  # 30, and one refilled
    finally:
        process.send_signal(signal.SIGINT)
        output, _ = process.communicate(timeout=30)
        forget_buckets(redis_url)
    assert output.count("Started server process") == 2, output
