"""What the benchmark scripts share: a server on loopback and percentile timing."""

from __future__ import annotations

import statistics
import tempfile
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import uvicorn


@contextmanager
def serve(app: Any, port: int) -> Iterator[str]:
    """``app`` served by uvicorn on 127.0.0.1:``port`` in a thread, while the block runs."""
    server = uvicorn.Server(uvicorn.Config(app, port=port, log_level="warning", lifespan="off"))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    while not server.started:
        time.sleep(0.05)
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        thread.join(10)


def percentiles(call: Callable[[], object], n: int, warm: bool = True) -> tuple[float, float]:
    """(p50, p95) in milliseconds over ``n`` sequential calls."""
    if warm:
        call()
    samples = []
    for _ in range(n):
        started = time.perf_counter()
        call()
        samples.append((time.perf_counter() - started) * 1000)
    samples.sort()
    return statistics.median(samples), samples[max(0, int(len(samples) * 0.95) - 1)]


SECRET = "benchmark-secret-0123456789abcdef0123456789"


@contextmanager
def served_demo(
    scale: int,
    port: int,
    engine: str = "duckdb",
    warehouse_url: str | None = None,
    **settings_overrides: Any,
) -> Iterator[tuple[Any, Path, str]]:
    """A synced demo of ``scale`` on ``engine`` served on ``port``: (service, warehouse file,
    base URL); server engines load into ``warehouse_url`` (default: the local server)."""
    from sextant.demo.setup import prepare_demo
    from sextant.http import create_app
    from sextant.service import Sextant
    from sextant.settings import Settings

    with tempfile.TemporaryDirectory() as tmp:
        files = prepare_demo(Path(tmp), scale, engine, warehouse_url)
        settings = Settings(
            data_dir=Path(tmp),
            env={"SEXTANT_JWT_SECRET": SECRET},
            jwt_secret=SECRET,
            config=files.model,
            log_level="warning",
            **{
                # one benchmark user asks for more than a minute's allowance: the figures
                # measure the server, not its per-user limits
                "user_requests_per_minute": 0,
                "user_queries_per_minute": 0,
                **settings_overrides,
            },
        )
        service = Sextant(settings)
        service.sync()
        try:
            with serve(create_app(settings, service), port) as base_url:
                yield service, files.warehouse, base_url
        finally:
            service.close()
