"""One user's work never breaks or stalls another's (real concurrent HTTP requests)."""

from __future__ import annotations

import contextlib
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
