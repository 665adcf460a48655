"""Failed-authentication limiter: per client address, sliding window, separate from traffic.

Only failures are counted; while an address is over the limit, every authentication attempt
from it gets a 429 before any credential is checked, so guessing cannot go on.
"""

from __future__ import annotations

import math
import threading
import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Protocol

__all__ = ["FailureLimiter", "MemoryFailureLimiter"]


class FailureLimiter(Protocol):
    def retry_after(self, address: str) -> int | None:
        """Seconds until ``address`` may try again, or None when it may now."""
        ...

    def record_failure(self, address: str) -> None: ...


@dataclass
class MemoryFailureLimiter:
    """In-process limiter (one server process); see the Redis one for several."""

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
