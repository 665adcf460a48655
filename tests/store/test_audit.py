"""The audit log is written off the request path, in batches, and loses nothing."""

from __future__ import annotations

import datetime
import threading
import time
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import Engine, event, func, select

from sextant.store import schema as s
from sextant.store.audit import AuditLog
from sextant.store.db import migrate, open_engine


@pytest.fixture
def engine(tmp_path: Path) -> Any:
    made = open_engine(f"sqlite:///{tmp_path / 'app.db'}")
    migrate(made)
    yield made
    made.dispose()


def _count(engine: Engine) -> int:
    with engine.connect() as conn:
        return int(conn.execute(select(func.count()).select_from(s.audit_log)).scalar_one())


def _row(log: AuditLog, n: int) -> None:
    log.record(user_id=None, action="query.execute", status="completed", row_count=n)


def test_rows_from_many_threads_arrive_whole(engine: Engine) -> None:
    log = AuditLog(engine, batch=50)
    threads = [
        threading.Thread(target=lambda k=k: [_row(log, k * 1000 + i) for i in range(150)])
        for k in range(8)
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    log.flush()
    with engine.connect() as conn:
        counts = sorted(conn.execute(select(s.audit_log.c.row_count)).scalars())
    assert counts == sorted(k * 1000 + i for k in range(8) for i in range(150))
    log.close()


def test_a_full_queue_makes_the_request_write_its_own_row(
    engine: Engine, monkeypatch: pytest.MonkeyPatch
) -> None:
    release = threading.Event()
    log = AuditLog(engine, capacity=1)
    real = log._write_retrying

    def held(rows: list[dict[str, Any]]) -> None:
        release.wait(10)
        real(rows)

    monkeypatch.setattr(log, "_write_retrying", held)
    _row(log, 1)  # taken by the writer, which is held
    for _ in range(100):  # until the writer has taken it off the queue
        if log._queue.empty():
            break
        threading.Event().wait(0.01)
    _row(log, 2)  # waits in the queue
    _row(log, 3)  # the queue is full: written by the caller, at once
    assert _count(engine) == 1
    release.set()
    log.flush()
    assert _count(engine) == 3
    log.close()


def test_closing_writes_what_is_queued(engine: Engine) -> None:
    log = AuditLog(engine)
    for i in range(300):
        _row(log, i)
    log.close()
    assert _count(engine) == 300
    log.close()  # twice is fine


def test_after_closing_the_caller_writes_its_row(engine: Engine) -> None:
    log = AuditLog(engine)
    _row(log, 1)
    log.close()
    _row(log, 2)  # no writer any more: written at once, not queued and lost
    assert _count(engine) == 2


def test_a_row_that_cannot_be_written_does_not_take_the_batch_with_it(engine: Engine) -> None:
    log = AuditLog(engine, attempts=1)
    base = {
        "at": datetime.datetime.now(datetime.UTC),
        "user_id": None,
        "action": "query.execute",
        "entity_type": None,
        "entity_id": None,
        "status": "completed",
        "duration_ms": None,
        "detail": None,
    }
    good = [{**base, "row_count": i} for i in range(3)]
    bad = {**base, "action": None, "row_count": 9}  # action is NOT NULL
    log._write_retrying([*good[:2], bad, good[2]])
    assert _count(engine) == 3


def test_rows_arriving_within_the_linger_share_one_commit(engine: Engine) -> None:
    commits: list[int] = []
    event.listen(engine, "commit", lambda conn: commits.append(1))
    log = AuditLog(engine, linger=0.5)
    for i in range(20):  # a steady trickle, each row 10 ms after the last
        _row(log, i)
        threading.Event().wait(0.01)
    log.flush()
    assert _count(engine) == 20
    assert len(commits) == 1, commits  # without the linger: one commit per row
    log.close()


def test_concurrent_flushes_all_return_promptly(engine: Engine) -> None:
    log = AuditLog(engine, linger=5.0)  # a flush must cut the linger short, for every flusher
    _row(log, 1)
    began = threading.Event()
    done: list[float] = []

    def flush() -> None:
        began.wait()
        start = time.monotonic()
        log.flush()
        done.append(time.monotonic() - start)

    threads = [threading.Thread(target=flush) for _ in range(4)]
    for thread in threads:
        thread.start()
    began.set()
    for _ in range(3):
        _row(log, 2)
    for thread in threads:
        thread.join(20)
    assert len(done) == 4 and max(done) < 4.0, done
    log.close()
