"""Per-user rate limits (spec §10): a token bucket per user, in-process or shared through Redis.

A bucket holds at most a minute's allowance and refills continuously, so a user may burst up
to the limit and then goes on at the limit's pace. Past it, the request is refused with 429
``rate_limited`` and the seconds until one more is allowed. One limiter counts requests (every
authenticated request), another query executions (execute, ``/v1/query``, card runs, the MCP
query tools). A limit of 0 turns a limiter off. The failed-authentication limiter
(:mod:`sextant.auth.limiter`) is separate: it counts failures per client address.
"""

from __future__ import annotations

import math
import threading
import time
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, ClassVar, Protocol

from sextant.errors import RateLimitedError

__all__ = [
    "MemoryRates",
    "RateLimitedForUser",
    "Rates",
    "RedisRates",
    "UserRates",
]


class RateLimitedForUser(RateLimitedError):
    code = "rate_limited"


class Rates(Protocol):
    per_minute: int

    @property
    def remote(self) -> bool:
        """Answers over the network (callers on the event loop must not wait for it)."""
        ...

    def wait(self, user: int) -> float:
        """Take one from ``user``'s bucket: 0 when allowed, else the seconds until it would be
        (nothing is taken then)."""
        ...

    def close(self) -> None: ...


@dataclass
class MemoryRates:
    """Buckets in this process (one server process; see :class:`RedisRates` for several)."""

    remote: ClassVar[bool] = False

    per_minute: int
    clock: Callable[[], float] = time.monotonic
    max_users: int = 100_000
    _buckets: OrderedDict[int, tuple[float, float]] = field(default_factory=OrderedDict)
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def wait(self, user: int) -> float:
        rate = self.per_minute / 60.0
        with self._lock:
            now = self.clock()
            tokens, at = self._buckets.get(user, (float(self.per_minute), now))
            tokens = min(float(self.per_minute), tokens + (now - at) * rate)
            wait = 0.0 if tokens >= 1 else (1 - tokens) / rate
            self._buckets[user] = (tokens - 1 if wait == 0 else tokens, now)
            self._buckets.move_to_end(user)
            if len(self._buckets) > self.max_users:  # a full bucket is as good as none
                self._buckets.popitem(last=False)
            return wait

    def close(self) -> None:
        return None


# One atomic step on the server: refill by Redis' own clock (the same for every worker and
# server), take one if there is one, and keep the bucket as long as it takes to fill again.
_BUCKET_SCRIPT = """
local rate = tonumber(ARGV[1])
local capacity = tonumber(ARGV[2])
local clock = redis.call('TIME')
local now = tonumber(clock[1]) + tonumber(clock[2]) / 1000000
local state = redis.call('HMGET', KEYS[1], 'tokens', 'at')
local tokens = tonumber(state[1]) or capacity
local at = tonumber(state[2]) or now
tokens = math.min(capacity, tokens + math.max(0, now - at) * rate)
local wait = 0
if tokens >= 1 then tokens = tokens - 1 else wait = (1 - tokens) / rate end
redis.call('HSET', KEYS[1], 'tokens', tostring(tokens), 'at', tostring(now))
redis.call('EXPIRE', KEYS[1], math.ceil(capacity / rate) + 1)
return tostring(wait)
"""


class RedisRates:
    """The same buckets shared by every worker and server through Redis."""

    remote = True

    def __init__(self, url: str, per_minute: int, name: str, prefix: str = "sextant") -> None:
        import redis

        self.client = redis.Redis.from_url(url, socket_timeout=2, socket_connect_timeout=2)
        self.per_minute = per_minute
        self.name = name
        self.prefix = prefix
        self._script: Any = self.client.register_script(_BUCKET_SCRIPT)

    def wait(self, user: int) -> float:
        key = f"{self.prefix}:rate:{self.name}:{user}"
        return float(self._script(keys=[key], args=[self.per_minute / 60.0, self.per_minute]))

    def close(self) -> None:
        self.client.close()


class UserRates:
    """One limiter (requests or executions), or none when its limit is 0."""

    def __init__(self, rates: Rates | None, what: str) -> None:
        self.rates = rates
        self.what = what

    @property
    def remote(self) -> bool:
        return self.rates is not None and self.rates.remote

    def take(self, user: int) -> None:
        """Count one for ``user``; 429 ``rate_limited`` with Retry-After past the limit."""
        if self.rates is None:
            return
        wait = self.rates.wait(user)
        if wait > 0:
            seconds = max(1, math.ceil(wait))
            raise RateLimitedForUser(
                seconds,
                f"Too many {self.what} for this user (at most {self.rates.per_minute} a "
                f"minute). Retry in {seconds} s.",
            )

    def close(self) -> None:
        if self.rates is not None:
            self.rates.close()

    @classmethod
    def of(cls, per_minute: int, what: str, redis_url: str | None) -> UserRates:
        if per_minute <= 0:
            return cls(None, what)
        if redis_url:
            return cls(RedisRates(redis_url, per_minute, what.replace(" ", "-")), what)
        return cls(MemoryRates(per_minute), what)
