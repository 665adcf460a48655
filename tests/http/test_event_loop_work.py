"""What a request may do on the event loop: only work that needs no I/O. A ready query token is
checked there when the model snapshot is fresh, the token key known and query rates counted in
this process; otherwise in a worker thread (the answer is the same either way)."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

import httpx
import pytest

from sextant.auth.tokens import make_jwt
from sextant.demo.setup import DemoFiles
from sextant.http.app import create_app
from sextant.service import SNAPSHOT_CHECK_SECONDS, Sextant
from sextant.settings import Settings
from tests.conftest import TEST_SECRET, make_settings
from tests.servers import serve

API = "/api/agent/v1"


@pytest.fixture
def applied(demo: DemoFiles, services: Callable[[Settings], Sextant]) -> Sextant:
    service = services(make_settings(demo.data_dir, config=demo.model))
    service.apply()
    return service


@contextmanager
def count_execute(service: Sextant) -> Iterator[Callable[[], Any]]:
    """``service`` served; a call executes a ready count token and gives its rows."""
    headers = {"Authorization": f"Bearer {make_jwt(TEST_SECRET, 'analyst@example.com')}"}
    with serve(create_app(service.settings, service)) as base, httpx.Client() as client:
        body = {"table_id": 3, "aggregations": [{"function": "count"}]}
        token = client.post(base + API + "/construct-query", headers=headers, json=body).json()

        def execute() -> Any:
            answer = client.post(base + API + "/execute", headers=headers, json=token)
            return answer.json()["data"]["rows"]

        yield execute


def test_a_ready_token_is_checked_on_the_loop_only_while_nothing_needs_io(
    applied: Sextant, monkeypatch: pytest.MonkeyPatch
) -> None:
    with count_execute(applied) as execute:
        answers = [execute() for _ in range(2)]
        assert applied.answers_without_io()  # snapshot fresh, token key known
        assert answers[0] == answers[1] == [[200]]
        # once the snapshot is due for its version check, the check happens in a thread
        now = applied._checked + SNAPSHOT_CHECK_SECONDS + 0.1
        monkeypatch.setattr("sextant.service.time.monotonic", lambda: now)
        assert not applied.answers_without_io()
        assert execute() == [[200]]


def test_the_request_that_leaves_the_loop_makes_the_version_check(
    applied: Sextant, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Past the in-memory window but before the check is due, the first request goes to a
    thread and checks there: the requests after it are back on the loop at once."""
    with count_execute(applied) as execute:
        execute()
        now = applied._checked + SNAPSHOT_CHECK_SECONDS - 0.4
        monkeypatch.setattr("sextant.service.time.monotonic", lambda: now)
        assert not applied.answers_without_io()
        assert execute() == [[200]]
        assert applied.answers_without_io()


def test_query_rates_in_redis_keep_the_check_in_a_thread(
    demo: DemoFiles, services: Callable[[Settings], Sextant], redis_url: str
) -> None:
    settings = make_settings(
        demo.data_dir, config=demo.model, redis_url=redis_url, user_queries_per_minute=600
    )
    service = services(settings)
    service.apply()
    service.snapshot()
    service.token_secret()
    assert not service.answers_without_io()


def test_details_are_shared_per_permission_fingerprint_and_follow_the_model(
    demo: DemoFiles, services: Callable[[Settings], Sextant]
) -> None:
    service = services(make_settings(demo.data_dir, config=demo.model))
    service.apply()

    def bearer(email: str) -> dict[str, str]:
        return {"Authorization": f"Bearer {make_jwt(TEST_SECRET, email)}"}

    with serve(create_app(service.settings, service)) as base, httpx.Client() as client:
        first = client.get(base + API + "/table/1", headers=bearer("analyst@example.com"))
        again = client.get(base + API + "/table/1", headers=bearer("analyst@example.com"))
        assert first.json() == again.json()
        # another group's answer is its own (the outsider may not see the table at all)
        refused = client.get(base + API + "/table/1", headers=bearer("outsider@example.com"))
        assert refused.status_code == 403
        text = demo.model.read_text()
        old = "Every order placed in the shop, one row per order, with amounts in US dollars."
        demo.model.write_text(text.replace(old, "Every order, once."))
        service.apply()
        changed = client.get(base + API + "/table/1", headers=bearer("analyst@example.com"))
        assert changed.json()["description"] == "Every order, once."
        assert first.json()["description"] == old
