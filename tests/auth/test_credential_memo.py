"""Resolved credentials are remembered for a second per process (``auth_cache_seconds``):
a burst by one caller costs one lookup, and a revocation made anywhere takes effect on every
server within that second."""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

import httpx
import pytest
from sqlalchemy import event

from sextant.auth.memo import CredentialMemo, NeedsLookUp
from sextant.auth.tokens import make_jwt
from sextant.demo.setup import DemoFiles
from sextant.http.app import create_app
from sextant.service import Sextant
from sextant.settings import Settings
from tests.conftest import TEST_SECRET, make_settings
from tests.servers import serve

PING = "/api/agent/v1/ping"
ANALYST = "analyst@example.com"


def test_entries_expire_and_the_oldest_go_first(monkeypatch: pytest.MonkeyPatch) -> None:
    clock = [100.0]
    monkeypatch.setattr(time, "monotonic", lambda: clock[0])
    memo: CredentialMemo[str] = CredentialMemo(1.0, max_entries=2)
    memo.put("a", "A", memo.stamp())
    memo.put("b", "B", memo.stamp())
    assert memo.get("a") == "A"  # now the most recent
    memo.put("c", "C", memo.stamp())
    assert (memo.get("b"), memo.get("a"), memo.get("c")) == (None, "A", "C")
    clock[0] += 1.0
    assert memo.get("a") is None and memo.get("c") is None
    off: CredentialMemo[str] = CredentialMemo(0.0)
    off.put("a", "A", off.stamp())
    assert off.get("a") is None


def test_an_entry_lives_from_its_look_up_and_a_clear_during_it_discards_it(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    clock = [100.0]
    monkeypatch.setattr(time, "monotonic", lambda: clock[0])
    memo: CredentialMemo[str] = CredentialMemo(1.0)
    stamp = memo.stamp()
    clock[0] += 0.6  # a slow look-up
    memo.put("a", "A", stamp)
    clock[0] += 0.5
    assert memo.get("a") is None  # 1.1 s after the look-up began
    stamp = memo.stamp()
    memo.clear()  # an apply while looking up
    memo.put("b", "B", stamp)
    assert memo.get("b") is None


def _queries(service: Sextant) -> list[str]:
    seen: list[str] = []

    def count(*args: Any) -> None:
        seen.append(str(args[2]))

    event.listen(service.engine, "before_cursor_execute", count)
    return seen


@pytest.fixture
def two(demo: DemoFiles, services: Callable[[Settings], Sextant]) -> tuple[Sextant, Sextant]:
    settings = make_settings(demo.data_dir, config=demo.model, auth_cache_seconds=1.0)
    first, second = services(settings), services(settings)
    first.apply()
    second.load()
    return first, second


def test_a_burst_costs_one_lookup_and_scopes_stay_per_token(two: tuple[Sextant, Sextant]) -> None:
    first, _ = two
    seen = _queries(first)
    with serve(create_app(first.settings, first)) as base, httpx.Client() as client:
        token = make_jwt(TEST_SECRET, ANALYST)
        for _ in range(20):
            assert client.get(base + PING, headers={"Authorization": f"Bearer {token}"}).is_success
        lookups = [q for q in seen if "FROM users" in q]
        assert len(lookups) <= 2, lookups  # once, or twice if the second ran out mid-burst
        # a scoped token of the same user stays scoped, and the unscoped one stays whole
        scoped = make_jwt(TEST_SECRET, ANALYST, scope="agent:search")
        detail = client.get(
            base + "/api/agent/v1/table/1", headers={"Authorization": f"Bearer {scoped}"}
        )
        assert detail.status_code == 403 and detail.json()["error"] == "unsupported_scope"
        whole = client.get(
            base + "/api/agent/v1/table/1", headers={"Authorization": f"Bearer {token}"}
        )
        assert whole.status_code == 200


def test_a_revoked_key_stops_on_every_server_within_a_second(two: tuple[Sextant, Sextant]) -> None:
    first, second = two
    key = first.credentials.create_api_key("Analysts", "memo-bot")
    with (
        serve(create_app(first.settings, first)) as a,
        serve(create_app(second.settings, second)) as b,
        httpx.Client() as client,
    ):
        for base in (a, b):  # both remember the key now
            assert client.get(base + PING, headers={"X-API-Key": key}).is_success
        first.credentials.revoke_api_key("memo-bot")
        revoked = time.monotonic()
        stopped: dict[str, float] = {}
        while len(stopped) < 2 and time.monotonic() - revoked < 3:
            for base in (a, b):
                if base not in stopped:
                    answer = client.get(base + PING, headers={"X-API-Key": key})
                    if answer.status_code == 401:
                        stopped[base] = time.monotonic() - revoked
            time.sleep(0.02)
    assert set(stopped) == {a, b}, stopped
    assert max(stopped.values()) <= 1.2, stopped  # the memo's second, and a request's time


def test_sessions_and_keys_that_fail_are_never_remembered(two: tuple[Sextant, Sextant]) -> None:
    first, _ = two
    seen = _queries(first)
    with serve(create_app(first.settings, first)) as base, httpx.Client() as client:
        for _ in range(3):
            answer = client.get(base + PING, headers={"X-API-Key": "sxt_00000000_nope"})
            assert answer.status_code == 401
    assert len([q for q in seen if "api_keys" in q]) == 3


def test_without_wait_a_miss_asks_for_a_look_up_and_a_hit_answers() -> None:
    memo: CredentialMemo[str] = CredentialMemo(1.0)
    looked: list[str] = []

    def look_up() -> str:
        looked.append("a")
        return "A"

    with pytest.raises(NeedsLookUp):
        memo.remember("a", look_up, wait=False)
    assert looked == []  # nothing looked up on the event loop
    assert memo.remember("a", look_up) == "A"
    assert memo.remember("a", look_up, wait=False) == "A"
    assert looked == ["a"]


def test_a_remembered_caller_is_found_on_the_event_loop(
    two: tuple[Sextant, Sextant], monkeypatch: pytest.MonkeyPatch
) -> None:
    """Real HTTP: the first request looks its caller up in a thread, the next ones are
    answered from the memo without one; a wrong signature fails at once, counted once."""
    first, _ = two
    calls: list[tuple[bool, bool]] = []  # (wait, answered)
    authenticate = first.authenticate

    def spy(headers: Any, client: str, scope: str | None, *, wait: bool = True) -> Any:
        try:
            found = authenticate(headers, client, scope, wait=wait)
        except NeedsLookUp:
            calls.append((wait, False))
            raise
        calls.append((wait, True))
        return found

    monkeypatch.setattr(first, "authenticate", spy)
    failures: list[str] = []
    record = first.auth.limiter.record_failure
    monkeypatch.setattr(
        first.auth.limiter, "record_failure", lambda a: (failures.append(a), record(a))
    )
    token = make_jwt(TEST_SECRET, ANALYST)
    with serve(create_app(first.settings, first)) as base, httpx.Client() as client:
        bearer = {"Authorization": f"Bearer {token}"}
        assert client.get(base + PING, headers=bearer).is_success
        assert calls == [(False, False), (True, True)]
        calls.clear()
        assert client.get(base + "/api/agent/v1/table/1", headers=bearer).is_success
        assert calls == [(False, True)]
        calls.clear()
        both = {**bearer, "X-API-Key": "sxt_00000000_nope"}  # two credentials: in a thread
        assert client.get(base + PING, headers=both).is_success
        assert calls == [(False, False), (True, True)] and len(failures) == 1
        forged = make_jwt("another-secret-0123456789abcdef0123456789", ANALYST)
        answer = client.get(base + PING, headers={"Authorization": f"Bearer {forged}"})
        assert answer.status_code == 401 and len(failures) == 2


def test_limits_kept_in_redis_are_never_waited_for_on_the_event_loop(
    demo: DemoFiles, services: Callable[[Settings], Sextant], redis_url: str
) -> None:
    for shared in ({"auth_max_failures": 5}, {"user_requests_per_minute": 600}):
        settings = make_settings(
            demo.data_dir, config=demo.model, auth_cache_seconds=1.0, redis_url=redis_url,
            **shared,
        )  # fmt: skip
        service = services(settings)
        service.apply()
        bearer = {"authorization": f"Bearer {make_jwt(TEST_SECRET, ANALYST)}"}
        assert service.authenticate(bearer, "127.0.0.1", None).email == ANALYST  # remembered
        with pytest.raises(NeedsLookUp):
            service.authenticate(bearer, "127.0.0.1", None, wait=False)
