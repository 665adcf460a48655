"""Failed-authentication limiter: per client address, sliding window, separate from traffic.

Only failures are counted; while an address is over the limit, every authentication attempt
from it gets a 429 before any credential is checked, so guessing cannot go on.
"""

from __future__ import annotations

import math
import threading
import time
import uuid
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import ClassVar, Protocol

__all__ = ["FailureLimiter", "MemoryFailureLimiter", "RedisFailureLimiter"]


class FailureLimiter(Protocol):
    @property
    def remote(self) -> bool:
        """Answers over the network (callers on the event loop must not wait for it)."""
        ...

    def retry_after(self, address: str) -> int | None:
        """Seconds until ``address`` may try again, or None when it may now."""
        ...

    def record_failure(self, address: str) -> None: ...


@dataclass
class MemoryFailureLimiter:
    """In-process limiter (one server process); see the Redis one for several."""

    remote: ClassVar[bool] = False

    max_failures: int = 20
    window_seconds: float = 60.0
    clock: Callable[[], float] = time.monotonic
    _failures: dict[str, deque[float]] = field(default_factory=dict)
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def _recent(self, address: str, now: float) -> deque[float]:
        entries = self._failures.get(address)
        if entries is None:
            return deque()
        while entries and entries[0] <= now - self.window_seconds:
            entries.popleft()
        if not entries:
            del self._failures[address]
        return entries

    def retry_after(self, address: str) -> int | None:
        if self.max_failures <= 0:
            return None
        with self._lock:
            now = self.clock()
            entries = self._recent(address, now)
            if len(entries) < self.max_failures:
                return None
            # free again when the oldest failure that keeps it over the limit leaves the window
            oldest = entries[len(entries) - self.max_failures]
            return max(1, math.ceil(oldest + self.window_seconds - now))

    def record_failure(self, address: str) -> None:
        if self.max_failures <= 0:
            return
        with self._lock:
            now = self.clock()
            entries = self._recent(address, now)
            entries.append(now)
            self._failures[address] = entries
            if len(self._failures) > 100_000:  # bound memory under address spraying
                self._failures.pop(next(iter(self._failures)))


class RedisFailureLimiter:
    """The same limiter shared by every process and instance through Redis.

    Each failure is a member of a sorted set per address, scored by its time; members older
    than the window are trimmed on every call, and the key expires with the window.
    """

    remote = True

    def __init__(
        self,
        url: str,
        max_failures: int = 20,
        window_seconds: float = 60.0,
        prefix: str = "sextant",
    ) -> None:
        import redis

        self.client = redis.Redis.from_url(url, socket_timeout=2, socket_connect_timeout=2)
        self.max_failures = max_failures
        self.window_seconds = window_seconds
        self.prefix = prefix

    def _key(self, address: str) -> str:
        return f"{self.prefix}:auth-failures:{address}"

    def retry_after(self, address: str) -> int | None:
        if self.max_failures <= 0:
            return None
        now = time.time()
        key = self._key(address)
        pipe = self.client.pipeline()
        pipe.zremrangebyscore(key, 0, now - self.window_seconds)
        pipe.zrange(key, 0, -1, withscores=True)
        _, entries = pipe.execute()
        if len(entries) < self.max_failures:
            return None
        oldest = float(entries[len(entries) - self.max_failures][1])
        return max(1, math.ceil(oldest + self.window_seconds - now))

    def record_failure(self, address: str) -> None:
        if self.max_failures <= 0:
            return
        now = time.time()
        key = self._key(address)
        pipe = self.client.pipeline()
        pipe.zadd(key, {f"{now:.6f}:{uuid.uuid4().hex[:8]}": now})
        pipe.zremrangebyscore(key, 0, now - self.window_seconds)
        pipe.expire(key, math.ceil(self.window_seconds) + 1)
        pipe.execute()

    def close(self) -> None:
        self.client.close()
