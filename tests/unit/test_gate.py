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


def test_a_waiter_on_the_event_loop_holds_no_thread_and_wakes_alone() -> None:
    """Each freed place wakes exactly the ticket it is handed to; the others sleep on."""
    import asyncio

    gate = QueryGate(total=1, per_user=1, max_waiting=10)

    async def main() -> list[int]:
        holder = gate.admit(A)
        waiters = [gate.admit(A) for _ in range(3)]
        woken: list[int] = []

        async def wait(i: int) -> None:
            if await waiters[i].wait_async(10):
                woken.append(i)

        tasks = [asyncio.create_task(wait(i)) for i in range(3)]
        await asyncio.sleep(0.05)
        assert woken == [] and threading.active_count() == before
        holder.release()
        await asyncio.sleep(0.05)
        assert woken == [0]  # the earliest, and only it
        waiters[0].release()
        await asyncio.sleep(0.05)
        assert woken == [0, 1]
        waiters[1].release()
        waiters[2].release()  # given back while it still waits: it leaves the line
        await asyncio.gather(*tasks)
        return woken

    before = threading.active_count()
    assert asyncio.run(main()) == [0, 1]
    assert (gate.running, gate.waiting) == (0, 0)


def test_a_waiter_on_the_event_loop_leaves_the_line_when_its_time_is_up() -> None:
    import asyncio

    gate = QueryGate(total=1, per_user=1, max_waiting=10)
    holder = gate.admit(A)
    late = gate.admit(B)
    assert asyncio.run(late.wait_async(0.05)) is False
    assert (gate.running, gate.waiting) == (1, 0)
    holder.release()
    assert gate.running == 0  # the place was not handed to the ticket that gave up
    late.release()
    assert (gate.running, gate.waiting) == (0, 0)


def test_a_place_handed_over_from_another_thread_wakes_the_loop() -> None:
    import asyncio

    gate = QueryGate(total=1, per_user=1, max_waiting=10)
    holder = gate.admit(A)
    waiter = gate.admit(B)
    threading.Timer(0.05, holder.release).start()
    assert asyncio.run(waiter.wait_async(5)) is True
    assert gate.running == 1
    waiter.release()
    assert (gate.running, gate.waiting) == (0, 0)
