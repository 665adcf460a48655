"""Limits on queries running at once, per user and in total, with a bounded queue."""

from __future__ import annotations

import threading
from collections import Counter
from dataclasses import dataclass

from sextant.errors import RateLimitedError

__all__ = ["QueryGate", "Ticket"]


class QueryGate:
    def __init__(self, total: int, per_user: int, max_waiting: int) -> None:
        self.total = max(1, total)
        self.per_user = max(1, per_user)
        self.max_waiting = max(0, max_waiting)
        self._running: Counter[int] = Counter()
        self._waiting = 0
        self._cond = threading.Condition()

    def admit(self, user_id: int) -> Ticket:
        """A place in line; 429 when the line is full (checked before answering 202)."""
        with self._cond:
            if self._free(user_id):
                self._running[user_id] += 1
                return Ticket(self, user_id, running=True)
            if self._waiting >= self.max_waiting:
                raise RateLimitedError(1, "Too many queries are running or waiting; retry shortly.")
            self._waiting += 1
            return Ticket(self, user_id, running=False)

    def _free(self, user_id: int) -> bool:
        return sum(self._running.values()) < self.total and self._running[user_id] < self.per_user

    def _wait(self, ticket: Ticket, timeout: float) -> bool:
        with self._cond:
            ok = self._cond.wait_for(lambda: self._free(ticket.user_id), timeout=timeout)
            self._waiting -= 1
            if ok:
                self._running[ticket.user_id] += 1
            return ok

    def _release(self, ticket: Ticket) -> None:
        with self._cond:
            self._running[ticket.user_id] -= 1
            if self._running[ticket.user_id] <= 0:
                del self._running[ticket.user_id]
            self._cond.notify_all()

    def _abandon(self) -> None:
        with self._cond:
            self._waiting -= 1
            self._cond.notify_all()

    @property
    def running(self) -> int:
        with self._cond:
            return sum(self._running.values())


@dataclass
class Ticket:
    gate: QueryGate
    user_id: int
    running: bool
    done: bool = False

    def wait(self, timeout: float) -> bool:
        """Block until the query may run (True) or ``timeout`` passes (False)."""
        if not self.running:
            self.running = self.gate._wait(self, timeout)
            if not self.running:
                self.done = True
        return self.running

    def release(self) -> None:
        if self.done:
            return
        self.done = True
        if self.running:
            self.gate._release(self)
        else:
            self.gate._abandon()
