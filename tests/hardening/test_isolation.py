"""One user's work never breaks or stalls another's (real concurrent HTTP requests)."""

from __future__ import annotations

import contextlib
import threading
import time
from typing import Any

import httpx

from sextant.auth.tokens import make_jwt
from tests.conftest import TEST_SECRET
from tests.hardening.conftest import A, B, LabFactory, in_thread


def test_a_failing_query_ends_only_itself(lab_factory: LabFactory) -> None:
    with lab_factory() as lab:
        slow = lab.token(A, lab.slow())
        failing = lab.token(B, lab.failing())
        for _ in range(3):
            thread, out = in_thread(lambda: lab.execute(A, slow))
            time.sleep(0.15)  # A's query is running in the engine
            failed = lab.execute(B, failing)
            assert failed["status"] == "failed", failed
            thread.join(120)
            result: Any = out[0]
            assert not isinstance(result, Exception), result
            assert result["status"] == "completed", result
            assert len(result["data"]["rows"]) == 1000
        # and the engine serves the next query as usual
        assert lab.execute(B, lab.token(B, lab.trivial()))["data"]["rows"] == [[10]]


def _gone(lab: Any, email: str, token: str, after: float) -> None:
    """A client that gives up after ``after`` seconds, before its answer is complete."""
    with contextlib.suppress(httpx.TimeoutException):
        lab.execute(email, token, timeout=after)


def test_clients_that_leave_early_give_their_place_back(lab_factory: LabFactory) -> None:
    with lab_factory(max_queries_per_user=2, max_queued_queries=32) as lab:
        gate = lab.service.queries.gate
        slow = lab.token(A, lab.slow())
        trivial = lab.token(A, lab.trivial())
        # gone before the body starts: running, or waiting for a place
        threads = [in_thread(lambda: _gone(lab, A, slow, 0.03))[0] for _ in range(8)]
        for thread in threads:
            thread.join(30)
        # gone during the body: a few bytes read, then the connection closed
        headers = {"Authorization": f"Bearer {make_jwt(TEST_SECRET, A)}"}
        with httpx.stream(
            "POST",
            lab.url + "/api/agent/v1/execute",
            json={"query": trivial},
            headers=headers,
            timeout=30,
        ) as response:
            next(response.iter_raw(8))
        deadline = time.monotonic() + 30
        while (gate.running or gate.waiting) and time.monotonic() < deadline:
            time.sleep(0.05)
        assert (gate.running, gate.waiting) == (0, 0)
        started = time.monotonic()
        assert lab.execute(A, trivial, timeout=10)["data"]["rows"] == [[10]]
        assert time.monotonic() - started < 5  # not the 60 s of a leaked slot


def _heavy(lab: Any) -> dict[str, Any]:
    """As large a query as the caps allow (200 text-pattern values and 800 equals values):
    costly to compile, quick to run (a small table)."""
    small = lab.table("SMALL")
    return {
        "table_id": small,
        "filters": [
            {
                "field_id": f"t{small}-1",
                "operation": "string-not-contains",
                "values": [f"p{i}" for i in range(200)],
            },
            {
                "field_id": f"t{small}-1",
                "operation": "not-equals",
                "values": [f"e{i}" for i in range(800)],
            },
        ],
        "aggregations": [{"function": "count"}],
    }


def test_compiling_holds_no_lock_another_query_needs(lab_factory: LabFactory) -> None:
    """While something holds a warehouse connection for itself (a statistics scan, say), a
    new query still compiles and runs: compilation works on known table schemas."""
    with lab_factory() as lab:
        assert lab.execute(B, lab.token(B, lab.trivial()))["status"] == "completed"  # schemas
        release = threading.Event()

        def hold() -> None:
            with lab.service.warehouses.connection("Lab"):
                release.wait(20)

        holder = threading.Thread(target=hold, daemon=True)
        holder.start()
        time.sleep(0.2)
        try:
            fresh = {**lab.trivial(), "limit": 7}  # a new plan: compiled now
            started = time.monotonic()
            answer = lab.execute(B, lab.token(B, fresh), timeout=15)
            assert answer["status"] == "completed" and time.monotonic() - started < 5
        finally:
            release.set()
            holder.join(10)


def test_heavy_queries_of_one_user_do_not_stall_another(lab_factory: LabFactory) -> None:
    with lab_factory() as lab:
        heavy = lab.token(A, _heavy(lab))
        trivial = lab.token(B, lab.trivial())
        lab.execute(B, trivial)
        threads = [in_thread(lambda: lab.execute(A, heavy)) for _ in range(4)]
        time.sleep(0.1)
        started = time.monotonic()
        assert lab.execute(B, trivial)["data"]["rows"] == [[10]]
        waited = time.monotonic() - started
        for thread, out in threads:
            thread.join(120)
            assert out[0]["status"] == "completed", out
        slowest_heavy = max(out[1] for _, out in threads)
        assert waited < slowest_heavy  # B was not queued behind A's work


def test_compilation_counts_against_the_time_limit(lab_factory: LabFactory) -> None:
    with lab_factory(query_timeout_seconds=0.05) as lab:
        started = time.monotonic()
        answer = lab.execute(A, lab.token(A, _heavy(lab)), timeout=30)
        assert answer["status"] == "failed"
        assert answer["error"] == "The query ran longer than 0.05 s and was stopped."
        assert time.monotonic() - started < 3


def test_statistics_on_demand_never_block_others_and_stop_in_time(
    lab_factory: LabFactory,
) -> None:
    """Field values of a table never fingerprinted scan it in the caller's name: on their own
    cursor, counted by the gate, stopped at the time limit; others' queries go on."""
    with lab_factory(query_timeout_seconds=2) as lab:
        big = lab.table("BIG")
        trivial = lab.token(B, lab.trivial())
        lab.execute(B, trivial)
        headers = {"Authorization": f"Bearer {make_jwt(TEST_SECRET, A)}"}
        path = f"/api/agent/v1/table/{big}?with-field-values=true"
        thread, out = in_thread(lambda: httpx.get(lab.url + path, headers=headers, timeout=60))
        time.sleep(0.3)  # A's statistics are being computed
        for _ in range(3):
            started = time.monotonic()
            assert lab.execute(B, trivial, timeout=30)["data"]["rows"] == [[10]]
            assert time.monotonic() - started < 1.5
        thread.join(60)
        answer, took = out
        assert took < 6, took  # the 2 s limit holds (it once scanned for 20 s)
        if answer.status_code != 200:  # stopped: a clear answer, not a 500
            assert answer.status_code == 503, answer.text
            assert answer.json()["error"] == "statistics_timeout"
            assert answer.headers["retry-after"] == "5"
        gate = lab.service.queries.gate
        assert (gate.running, gate.waiting) == (0, 0)
