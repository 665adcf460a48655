"""The watchdog is woken only by a deadline earlier than all others, and every deadline still
fires on time: a short one watched after a long one, and one watched while it sleeps."""

from __future__ import annotations

import threading
import time

from sextant.warehouse.runner import Execution, Watchdog


def _stopped_within(execution: Execution, seconds: float) -> float | None:
    stopped = threading.Event()
    execution.bind(stopped.set)
    began = time.monotonic()
    return time.monotonic() - began if stopped.wait(seconds) else None


def test_a_later_shorter_deadline_wakes_the_watchdog() -> None:
    dog = Watchdog()
    long, short = Execution(), Execution()
    dog.watch(long, 30.0)
    time.sleep(0.05)  # the watchdog now sleeps until the long deadline
    dog.watch(short, 0.2)
    took = _stopped_within(short, 3.0)
    assert took is not None and short.timed_out and not long.timed_out
    long.finish()


def test_deadlines_after_the_first_fire_without_waking_it() -> None:
    dog = Watchdog()
    first, second = Execution(), Execution()
    dog.watch(first, 0.2)
    dog.watch(second, 0.4)  # later than the first: no wake-up, fired in turn
    assert _stopped_within(first, 3.0) is not None
    assert _stopped_within(second, 3.0) is not None
    assert first.timed_out and second.timed_out


def test_finished_queries_leave_the_heap_as_new_ones_come() -> None:
    dog = Watchdog()
    for _ in range(1000):
        execution = Execution()
        dog.watch(execution, 60.0)
        execution.finish()
    assert len(dog._deadlines) <= 2  # not 1,000 entries held for a minute
