"""The per-user token bucket, on a clock the test moves."""

from __future__ import annotations

import pytest

from sextant.auth.rates import MemoryRates, RateLimitedForUser, UserRates


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def test_a_burst_of_a_minutes_allowance_then_the_limits_pace() -> None:
    clock = Clock()
    rates = MemoryRates(per_minute=6, clock=clock)  # one every 10 s
    assert [rates.wait(1) for _ in range(6)] == [0.0] * 6
    assert rates.wait(1) == pytest.approx(10.0)
    assert rates.wait(1) == pytest.approx(10.0)  # a refusal takes nothing
    clock.now += 4
    assert rates.wait(1) == pytest.approx(6.0)
    clock.now += 6
    assert rates.wait(1) == 0.0
    assert rates.wait(1) == pytest.approx(10.0)
    clock.now += 3600  # a long pause refills to the allowance, not beyond
    assert [rates.wait(1) for _ in range(6)] == [0.0] * 6
    assert rates.wait(1) > 0


def test_users_have_their_own_buckets() -> None:
    clock = Clock()
    rates = MemoryRates(per_minute=2, clock=clock)
    assert rates.wait(1) == rates.wait(1) == 0.0
    assert rates.wait(1) > 0
    assert rates.wait(2) == rates.wait(2) == 0.0


def test_memory_stays_bounded_under_many_users() -> None:
    rates = MemoryRates(per_minute=5, clock=Clock(), max_users=100)
    for user in range(1000):
        rates.wait(user)
    assert len(rates._buckets) == 100


def test_refusal_says_when_and_zero_is_off() -> None:
    limited = UserRates(MemoryRates(per_minute=1, clock=Clock()), "query executions")
    limited.take(7)
    with pytest.raises(RateLimitedForUser) as refused:
        limited.take(7)
    assert refused.value.status == 429 and refused.value.code == "rate_limited"
    assert refused.value.retry_after == 60
    assert "at most 1 a minute" in refused.value.message
    off = UserRates.of(0, "requests", None)
    for _ in range(10_000):
        off.take(7)
