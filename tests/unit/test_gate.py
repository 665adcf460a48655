"""The concurrency gate (threads, no I/O): fair turns, places given back exactly once."""

from __future__ import annotations

import threading
import time

import pytest

from sextant.errors import RateLimitedError
from sextant.query.gate import QueryGate

A, B = 1, 2


def test_a_freed_place_goes_to_the_user_with_the_fewest_running() -> None:
    gate = QueryGate(total=2, per_user=2, max_waiting=10)
    running = [gate.admit(A), gate.admit(A)]
    order: list[int] = []
    tickets = [gate.admit(A), gate.admit(A), gate.admit(B)]  # A's two wait first, then B

    def wait(ticket: object, user: int) -> None:
        if ticket.wait(10):  # type: ignore[attr-defined]
            order.append(user)

    threads = [
        threading.Thread(target=wait, args=(t, u)) for t, u in zip(tickets, (A, A, B), strict=True)
    ]
    for thread in threads:
        thread.start()
    time.sleep(0.1)
    running[0].release()  # one place frees: B (0 running) before A (1 running)
    deadline = time.monotonic() + 5
    while not order and time.monotonic() < deadline:
        time.sleep(0.01)
    assert order == [B]
    for ticket in [running[1], tickets[2]]:
        ticket.release()
    for thread in threads:
        thread.join(5)
    assert sorted(order) == [A, A, B]
    for ticket in tickets:
        ticket.release()
    assert (gate.running, gate.waiting) == (0, 0)


def test_places_are_given_back_exactly_once_from_any_state() -> None:
    gate = QueryGate(total=1, per_user=1, max_waiting=1)
    first = gate.admit(A)
    second = gate.admit(A)  # waiting
    with pytest.raises(RateLimitedError):
        gate.admit(A)  # the queue is full
    second.release()
    second.release()  # a second release does nothing
    assert gate.waiting == 0 and not second.wait(0.01)  # given back: never runs
    first.release()
    first.release()
    assert gate.running == 0
    third = gate.admit(B)
    third.release()
    assert not third.wait(0.01)  # released before its turn: it does not take a place
    assert (gate.running, gate.waiting) == (0, 0)


def test_a_place_given_back_while_waiting_frees_the_waiter() -> None:
    gate = QueryGate(total=1, per_user=1, max_waiting=5)
    holder = gate.admit(A)
    waiter = gate.admit(A)
    result: list[bool] = []
    thread = threading.Thread(target=lambda: result.append(waiter.wait(10)))
    thread.start()
    time.sleep(0.05)
    waiter.release()  # the client left while its query waited
    thread.join(5)
    assert result == [False]
    holder.release()
    assert (gate.running, gate.waiting) == (0, 0)
