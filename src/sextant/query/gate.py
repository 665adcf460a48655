"""Limits on queries running at once, per user and in total, with a bounded, fair queue.

When a place frees up, it goes to the waiting query whose user has the fewest queries
running (the earliest among equals): one user's queue never delays another user's first
query.

A ticket is a place in line: running or waiting. Giving it back (``release``) is safe from any
thread, any number of times, at any moment — before the query waited, while it waits, after it
ran — so that every path (completion, failure, time-out, a client gone before its answer
started) returns the place exactly once.
"""

from __future__ import annotations

import threading
from collections import Counter

from sextant.errors import RateLimitedError

__all__ = ["QueryGate", "Ticket"]


class QueryGate:
    def __init__(self, total: int, per_user: int, max_waiting: int) -> None:
        self.total = max(1, total)
        self.per_user = max(1, per_user)
        self.max_waiting = max(0, max_waiting)
        self._running: Counter[int] = Counter()
        self._waiting = 0
        self._queue: list[Ticket] = []  # waiting tickets, in arrival order
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
            ticket = Ticket(self, user_id, running=False)
            self._queue.append(ticket)
            return ticket

    def _turn(self, ticket: Ticket) -> bool:
        """Whether ``ticket`` is the waiting query that takes the next free place."""
        if not self._free(ticket.user_id):
            return False
        eligible = (t for t in self._queue if self._free(t.user_id))
        chosen = min(eligible, key=lambda t: self._running[t.user_id], default=None)
        return chosen is ticket

    def _free(self, user_id: int) -> bool:
        return sum(self._running.values()) < self.total and self._running[user_id] < self.per_user

    def _wait(self, ticket: Ticket, timeout: float) -> bool:
        with self._cond:
            if ticket.done:  # given back before its turn: the query will not run
                return False
            if ticket.running:
                return True
            ready = self._cond.wait_for(lambda: ticket.done or self._turn(ticket), timeout=timeout)
            if ticket.done:  # given back while it waited: the query will not run
                return False
            self._waiting -= 1
            self._queue.remove(ticket)
            if ready:
                self._running[ticket.user_id] += 1
                ticket.running = True
            else:
                ticket.done = True
            self._cond.notify_all()  # the next in line may be someone else now
            return ticket.running

    def _release(self, ticket: Ticket) -> None:
        with self._cond:
            if ticket.done:
                return
            ticket.done = True
            if ticket.running:
                self._running[ticket.user_id] -= 1
                if self._running[ticket.user_id] <= 0:
                    del self._running[ticket.user_id]
            else:
                self._waiting -= 1
                self._queue.remove(ticket)
            self._cond.notify_all()

    @property
    def running(self) -> int:
        with self._cond:
            return sum(self._running.values())

    @property
    def waiting(self) -> int:
        with self._cond:
            return self._waiting


class Ticket:
    """One query's place in line (state guarded by the gate's lock)."""

    def __init__(self, gate: QueryGate, user_id: int, *, running: bool) -> None:
        self.gate = gate
        self.user_id = user_id
        self.running = running
        self.done = False

    def wait(self, timeout: float) -> bool:
        """Block until the query may run (True), or ``timeout`` passes or the place is given
        back (False)."""
        return self.gate._wait(self, timeout)

    def release(self) -> None:
        """Give the place back (once; later calls do nothing)."""
        self.gate._release(self)
