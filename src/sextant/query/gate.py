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

import asyncio
import contextlib
import threading
from collections import Counter
from collections.abc import Callable

from sextant.errors import RateLimitedError

__all__ = ["QueryGate", "Ticket"]


class QueryGate:
    """Places are handed over: whoever frees one gives it to the next waiting ticket under the
    lock, and wakes that ticket alone. Nobody polls, and a release wakes no waiter whose turn
    it is not."""

    def __init__(self, total: int, per_user: int, max_waiting: int) -> None:
        self.total = max(1, total)
        self.per_user = max(1, per_user)
        self.max_waiting = max(0, max_waiting)
        self._running: Counter[int] = Counter()
        self._queue: list[Ticket] = []  # waiting tickets, in arrival order
        self._lock = threading.Lock()

    def admit(self, user_id: int) -> Ticket:
        """A place in line; 429 when the line is full (checked before answering 202)."""
        with self._lock:
            if self._free(user_id):
                self._running[user_id] += 1
                return Ticket(self, user_id, running=True)
            if len(self._queue) >= self.max_waiting:
                raise RateLimitedError(1, "Too many queries are running or waiting; retry shortly.")
            ticket = Ticket(self, user_id, running=False)
            self._queue.append(ticket)
            return ticket

    def _free(self, user_id: int) -> bool:
        return sum(self._running.values()) < self.total and self._running[user_id] < self.per_user

    def _hand_over(self) -> list[Ticket]:
        """Give free places to waiting tickets, the user with the fewest running first (the
        earliest among equals); the tickets to wake (called under the lock)."""
        woken: list[Ticket] = []
        while self._queue:
            eligible = [t for t in self._queue if self._free(t.user_id)]
            if not eligible:
                break
            chosen = min(eligible, key=lambda t: self._running[t.user_id])
            self._queue.remove(chosen)
            self._running[chosen.user_id] += 1
            chosen.running = True
            woken.append(chosen)
        return woken

    def _release(self, ticket: Ticket) -> None:
        with self._lock:
            if ticket.done:
                return
            ticket.done = True
            if ticket.running:
                self._running[ticket.user_id] -= 1
                if self._running[ticket.user_id] <= 0:
                    del self._running[ticket.user_id]
            else:
                self._queue.remove(ticket)
            woken = [ticket, *self._hand_over()]  # a waiter given back wakes to leave
        for each in woken:
            each._wake()

    def _give_up(self, ticket: Ticket) -> bool:
        """A waiter's time is up: leave the line, unless its place came meanwhile (True)."""
        with self._lock:
            if ticket.running and not ticket.done:
                return True
            if not ticket.done:
                ticket.done = True
                self._queue.remove(ticket)
        ticket._event.set()  # any later wait answers at once
        return False

    @property
    def running(self) -> int:
        with self._lock:
            return sum(self._running.values())

    @property
    def waiting(self) -> int:
        with self._lock:
            return len(self._queue)


class Ticket:
    """One query's place in line (state guarded by the gate's lock)."""

    def __init__(self, gate: QueryGate, user_id: int, *, running: bool) -> None:
        self.gate = gate
        self.user_id = user_id
        self.running = running
        self.done = False
        self._event = threading.Event()
        self._waker: Callable[[], None] | None = None
        if running:
            self._event.set()

    def _wake(self) -> None:
        self._event.set()
        waker = self._waker
        if waker is not None:
            waker()

    def _outcome(self) -> bool:
        with self.gate._lock:
            return self.running and not self.done

    def wait(self, timeout: float) -> bool:
        """Block until the query may run (True), or ``timeout`` passes or the place is given
        back (False)."""
        if self._event.wait(timeout):
            return self._outcome()
        return self.gate._give_up(self)

    async def wait_async(self, timeout: float) -> bool:
        """:meth:`wait` on the event loop: a waiting query holds no thread."""
        if self._event.is_set():
            return self._outcome()
        loop = asyncio.get_running_loop()
        woken = loop.create_future()

        def wake() -> None:
            if not woken.done():
                woken.set_result(None)

        def waker() -> None:
            with contextlib.suppress(RuntimeError):  # the loop closed: nobody waits there
                loop.call_soon_threadsafe(wake)

        self._waker = waker
        try:
            if not self._event.is_set():  # a hand-over between the check and the waker
                await asyncio.wait_for(woken, timeout)
        except TimeoutError:
            return self.gate._give_up(self)
        finally:
            self._waker = None
        return self._outcome()

    def release(self) -> None:
        """Give the place back (once; later calls do nothing)."""
        self.gate._release(self)
