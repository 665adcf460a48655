"""`sextant serve --workers 2` as real processes, and the Redis limiter's window."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import threading
import time
import uuid
from pathlib import Path

import httpx

from sextant.auth.limiter import RedisFailureLimiter
from sextant.auth.tokens import make_jwt
from sextant.demo.setup import DemoFiles
from tests.conftest import TEST_SECRET, app_db_url


def test_serve_with_two_workers(demo: DemoFiles, tmp_path: Path) -> None:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    env = {k: v for k, v in os.environ.items() if not k.startswith("SEXTANT_")}
    env["SEXTANT_JWT_SECRET"] = TEST_SECRET
    url = app_db_url(demo.data_dir)
    if url is not None:
        env["SEXTANT_APP_DB_URL"] = url
    process = subprocess.Popen(
        [sys.executable, "-m", "sextant", "serve", "--config", str(demo.model),
         "--data-dir", str(demo.data_dir), "--port", str(port), "--workers", "2"],
        env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
    )  # fmt: skip
    assert process.stdout is not None
    stdout = process.stdout
    lines: list[str] = []
    hogs: list[subprocess.Popen[bytes]] = []

    def read() -> None:
        for line in iter(stdout.readline, ""):
            lines.append(line)
            if "Started parent process" in line:
                # every core busy while the workers start, as on the machine where uvicorn's
                # 5 s health check killed slow-starting workers ("Child process died")
                hogs.extend(
                    subprocess.Popen([sys.executable, "-c", "while True: pass"])
                    for _ in range(4 * (os.cpu_count() or 2))
                )

    reader = threading.Thread(target=read)
    reader.start()
    try:
        token = make_jwt(TEST_SECRET, "analyst@example.com")
        deadline = time.monotonic() + 120
        answers: list[int] = []
        while time.monotonic() < deadline and len(answers) < 20 and process.poll() is None:
            try:
                response = httpx.get(
                    f"http://127.0.0.1:{port}/api/agent/v1/table/1",
                    headers={"Authorization": f"Bearer {token}"},
                    timeout=5,
                )
                answers.append(response.status_code)
            except httpx.TransportError:
                time.sleep(0.2)
        assert answers and set(answers) == {200}, (answers, "".join(lines))
    finally:
        for hog in hogs:
            hog.kill()
            hog.wait()
        process.send_signal(signal.SIGINT)
        process.wait(timeout=30)
        reader.join(timeout=10)
        stdout.close()
    output = "".join(lines)
    assert output.count("Started server process") == 2, output
    # once "Child process died" at every start and a leaked semaphore at shutdown
    assert "Child process died" not in output and "leaked" not in output, output
    # the apply summary once, in words, and no Alembic narration
    assert output.count("serving ") == 1 and "with 2 worker(s)" in output, output
    assert "alembic" not in output.lower() and "Context impl" not in output, output


def test_redis_limiter_engages_and_releases(redis_url: str) -> None:
    limiter = RedisFailureLimiter(
        redis_url, max_failures=3, window_seconds=1.0, prefix=f"sextant-test-{uuid.uuid4().hex[:8]}"
    )
    try:
        address = "10.0.0.9"
        for _ in range(3):
            assert limiter.retry_after(address) is None
            limiter.record_failure(address)
        assert limiter.retry_after(address) == 1
        assert limiter.retry_after("10.0.0.10") is None
        time.sleep(1.1)
        assert limiter.retry_after(address) is None
    finally:
        limiter.close()
