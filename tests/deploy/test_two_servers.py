"""Two Sextant servers on different ports sharing one PostgreSQL app database and Redis."""

from __future__ import annotations

import textwrap
import time
from collections.abc import Callable

import httpx
import redis

from sextant.auth.tokens import make_jwt
from sextant.demo.setup import DemoFiles
from sextant.http import create_app
from sextant.service import SNAPSHOT_CHECK_SECONDS, Sextant
from sextant.settings import Settings
from tests.conftest import TEST_SECRET, make_settings
from tests.servers import serve

PING = "/api/agent/v1/ping"


def test_sessions_limiter_and_model_are_shared(
    demo: DemoFiles,
    postgres_database: str,
    redis_url: str,
    services: Callable[[Settings], Sextant],
) -> None:
    settings = make_settings(
        demo.data_dir,
        config=demo.model,
        app_db_url=postgres_database,
        redis_url=redis_url,
        auth_max_failures=5,
    )
    first, second = services(settings), services(settings)
    first.apply()
    second.load()  # the second instance takes the applied model, as a worker would
    key = "sextant:auth-failures:127.0.0.1"
    client = redis.Redis.from_url(redis_url)
    client.delete(key)
    try:
        with serve(create_app(settings, first)) as a, serve(create_app(settings, second)) as b:
            token = make_jwt(TEST_SECRET, "analyst@example.com")
            session = httpx.post(f"{a}/auth/sso", json={"jwt": token}).json()["session_token"]
            on_b = httpx.get(f"{b}{PING}", headers={"X-Metabase-Session": session})
            assert on_b.json() == {"message": "pong"}

            bad = {"Authorization": "Bearer not.a.token"}
            for url in (a, b, a, b, a):  # five failures, spread over both servers
                assert httpx.get(f"{url}{PING}", headers=bad).status_code == 401
            for url in (a, b):
                blocked = httpx.get(f"{url}{PING}", headers={"X-Metabase-Session": session})
                assert blocked.status_code == 429 and int(blocked.headers["retry-after"]) >= 1
            client.delete(key)
            assert (
                httpx.get(f"{b}{PING}", headers={"X-Metabase-Session": session}).status_code == 200
            )

            text = demo.model.read_text().replace(
                "\nmeasures:\n",
                textwrap.dedent("""
              - name: Shared Quokka Metric
                collection: Curated
                table: ORDERS
                aggregation: {function: count}
            """)
                .replace("\n", "\n  ")
                .rstrip(" ")
                + "\nmeasures:\n",
                1,
            )
            demo.model.write_text(text)
            first.apply()  # applied through one instance ...
            time.sleep(SNAPSHOT_CHECK_SECONDS + 0.2)
            found = httpx.post(
                f"{b}/api/agent/v1/search",
                json={"term_queries": ["quokka"]},
                headers={"X-Metabase-Session": session},
            ).json()
            assert [d["name"] for d in found["data"]] == [
                "Shared Quokka Metric"
            ]  # ... seen by the other
    finally:
        client.delete(key)
        client.close()
