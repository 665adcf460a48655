"""Who a credential is, remembered for a moment.

Every request names its caller; loading the caller (user, groups, attributes) took three
application-database queries per request. A credential that resolved is remembered for
``seconds`` (1 s by default), per process: a burst of requests by one caller costs one lookup
a second. Revocation, deactivation, expiry and group changes made anywhere (another process,
another server) therefore take effect everywhere within ``seconds``. Failures are never
remembered, so the failed-authentication limiter sees every one.
"""

from __future__ import annotations

import threading
import time
from collections import OrderedDict
from collections.abc import Callable, Hashable
from typing import Generic, TypeVar

__all__ = ["CredentialMemo", "NeedsLookUp"]

V = TypeVar("V")


class NeedsLookUp(Exception):
    """Internal, never an answer: the caller asked not to wait (it runs on the event loop) and
    the value is not remembered; it asks again where blocking is allowed (a worker thread)."""


class CredentialMemo(Generic[V]):
    """A bounded, thread-safe map whose entries live ``seconds`` (0: remember nothing)."""

    def __init__(self, seconds: float, max_entries: int = 10_000) -> None:
        self.seconds = seconds
        self.max_entries = max_entries
        self._entries: OrderedDict[Hashable, tuple[float, V]] = OrderedDict()
        self._lock = threading.Lock()
        self._generation = 0

    def get(self, key: Hashable) -> V | None:
        if self.seconds <= 0:
            return None
        now = time.monotonic()
        with self._lock:
            found = self._entries.get(key)
            if found is None:
                return None
            if found[0] <= now:
                del self._entries[key]
                return None
            self._entries.move_to_end(key)
            return found[1]

    def remember(
        self, key: Hashable, look_up: Callable[[], V | None], *, wait: bool = True
    ) -> V | None:
        """The value under ``key``, or ``look_up()``'s, remembered when it is not None
        (failures are looked up again every time). Without ``wait``, a value that is not
        remembered raises :class:`NeedsLookUp` instead of being looked up."""
        found = self.get(key)
        if found is not None:
            return found
        if not wait:
            raise NeedsLookUp()
        stamp = self.stamp()
        found = look_up()
        if found is not None:
            self.put(key, found, stamp)
        return found

    def stamp(self) -> tuple[int, float]:
        """Take before looking a credential up, give to :meth:`put`: the entry then lives
        from the look-up's start, and a :meth:`clear` during the look-up discards it."""
        return self._generation, time.monotonic()

    def put(self, key: Hashable, value: V, stamp: tuple[int, float]) -> None:
        if self.seconds <= 0:
            return
        with self._lock:
            if stamp[0] != self._generation:
                return  # cleared while the value was being looked up: it may be stale
            self._entries[key] = (stamp[1] + self.seconds, value)
            self._entries.move_to_end(key)
            while len(self._entries) > self.max_entries:
                self._entries.popitem(last=False)

    def clear(self) -> None:
        with self._lock:
            self._generation += 1
            self._entries.clear()
