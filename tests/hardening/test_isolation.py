"""One user's work never breaks or stalls another's (real concurrent HTTP requests)."""

from __future__ import annotations

import time
from typing import Any

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
